"""Rows inserted directly, for tests whose subject is not how those rows came to be.

A user made here has the same columns as one made by registration (and an investor its
account), a password hash made once per hashing configuration with the app's own hasher, and
a token minted by the app's own `TokenService`: no HTTP request and no login per user.
Tests about registration, login and hashing use the HTTP routes instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from bank_api.common.principal import Principal
from bank_api.common.types import utcnow
from bank_api.models import InvestorAccount, Role, User, UserStatus
from tests.support.http import bearer

PASSWORD = "correct horse battery"

_hashes: dict[tuple[Any, ...], str] = {}


@dataclass
class Account:
    id: str
    username: str
    password: str
    role: str
    headers: dict[str, str]

    @property
    def principal(self) -> Principal:
        """The caller as a use case sees it, for service-level tests."""
        return Principal(id=uuid.UUID(self.id), username=self.username, role=Role(self.role))


def user_payload(role: str = "customer", **overrides: Any) -> dict[str, Any]:
    """A valid registration body with a unique username and email."""
    tag = uuid.uuid4().hex[:10]
    payload = {
        "username": f"{role}_{tag}",
        "password": PASSWORD,
        "email": f"{role}.{tag}@example.com",
        "full_name": f"Test {role.title()}",
        "role": role,
    }
    payload.update(overrides)
    return payload


async def password_hash(app: FastAPI, password: str = PASSWORD) -> str:
    """The app's hash of `password`, computed once per hashing configuration."""
    s = app.state.settings
    key = (password, s.argon2_time_cost, s.argon2_memory_kib, s.argon2_parallelism)
    if key not in _hashes:
        _hashes[key] = await app.state.hasher.hash(password)
    return _hashes[key]


async def make_user(
    app: FastAPI,
    role: str = "customer",
    *,
    status: UserStatus = UserStatus.active,
    **fields: Any,
) -> Account:
    """Insert a user (and an investor's account) and mint a token for it."""
    payload = user_payload(role, **fields)
    now = utcnow()
    user = User(
        id=uuid.uuid4(),
        full_name=payload["full_name"],
        phone=payload.get("phone"),
        address=payload.get("address"),
        role=Role(role),
        status=status,
        password_hash=await password_hash(app, payload["password"]),
        tokens_valid_after=now,
        created_at=now,
        updated_at=now,
    )
    user.set_username(payload["username"])
    user.set_email(payload["email"])
    async with app.state.sessionmaker() as session:
        session.add(user)
        if user.role == Role.investor:
            session.add(InvestorAccount(investor_id=user.id, updated_at=now))
        await session.commit()
    token = app.state.tokens.issue(user.id, role, now).access_token
    return Account(str(user.id), payload["username"], payload["password"], role, bearer(token))
