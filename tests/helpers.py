"""Small helpers for API tests: register, log in, build auth headers."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from bank_api.auth.service import create_admin
from bank_api.uow import UnitOfWork

PASSWORD = "correct horse battery"


@dataclass
class Account:
    id: str
    username: str
    password: str
    role: str
    headers: dict[str, str]


def user_payload(role: str = "customer", **overrides: Any) -> dict[str, Any]:
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


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:bank-api:problem:{code}"
    assert body["title"]
    assert body["detail"]
    return body


@contextlib.contextmanager
def captured_sql(app: FastAPI) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs, whitespace collapsed."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class Api:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def token(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.token(username, password)
        assert response.status_code == 200, response.text
        return bearer(response.json()["access_token"])

    async def register(self, role: str = "customer", **overrides: Any) -> httpx.Response:
        return await self.client.post("/api/v1/auth/register", json=user_payload(role, **overrides))

    async def user(self, role: str = "customer", **overrides: Any) -> Account:
        """A registered, logged-in user; agents are approved first, admins made as the CLI does."""
        if role == "admin":
            return await self._admin()
        payload = user_payload(role, **overrides)
        response = await self.client.post("/api/v1/auth/register", json=payload)
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        if role == "agent":
            admin = await self._admin()
            approved = await self.client.post(
                f"/api/v1/admin/agents/{user_id}/approve", headers=admin.headers
            )
            assert approved.status_code == 200, approved.text
        headers = await self.login(payload["username"], payload["password"])
        return Account(user_id, payload["username"], payload["password"], role, headers)

    async def _admin(self) -> Account:
        tag = uuid.uuid4().hex[:10]
        username = f"admin_{tag}"
        async with self.app.state.sessionmaker() as session, UnitOfWork(session) as uow:
            user = await create_admin(
                uow,
                self.app.state.hasher,
                username=username,
                email=f"{username}@example.com",
                password=PASSWORD,
            )
        headers = await self.login(username)
        return Account(str(user.id), username, PASSWORD, "admin", headers)
