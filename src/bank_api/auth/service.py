"""Registration, login with database-kept throttling, and admin creation."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from bank_api.auth import sessions
from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.errors import (
    AccountDisabled,
    AgentNotApproved,
    AgentRejected,
    EmailTaken,
    HashingBusy,
    InvalidCredentials,
    TooManyAttempts,
    UsernameTaken,
)
from bank_api.models import InvestorAccount, Role, ThrottleScope, User, UserStatus
from bank_api.security import PasswordHasher, TokenService
from bank_api.uow import UnitOfWork
from bank_api.users.schemas import MAX_PASSWORD_LENGTH, UserCreate

_STATUS_REFUSALS = {
    UserStatus.pending: AgentNotApproved,
    UserStatus.rejected: AgentRejected,
    UserStatus.disabled: AccountDisabled,
}


async def ensure_available(
    uow: UnitOfWork, *, username: str | None, email: str | None, exclude: uuid.UUID | None = None
) -> None:
    username_taken, email_taken = await uow.users.taken(
        username=username, email=email, exclude=exclude
    )
    if username_taken:
        raise UsernameTaken
    if email_taken:
        raise EmailTaken


async def commit_unique(
    uow: UnitOfWork, *, username: str | None, email: str | None, exclude: uuid.UUID | None = None
) -> None:
    """Commit; a unique violation from a concurrent registration becomes the matching 409."""
    try:
        await uow.commit()
    except IntegrityError:
        await uow.rollback()
        await ensure_available(uow, username=username, email=email, exclude=exclude)
        raise


async def register(uow: UnitOfWork, hasher: PasswordHasher, data: UserCreate) -> User:
    # Hash before touching the database so no transaction stays open while argon2 runs.
    password_hash = await hasher.hash(data.password)
    await ensure_available(uow, username=data.username, email=data.email)
    status = UserStatus.pending if data.role == Role.agent else UserStatus.active
    user = _new_user(
        data.username,
        data.email,
        data.full_name,
        Role(data.role),
        status,
        password_hash,
        phone=data.phone,
        address=data.address,
    )
    uow.users.add(user)
    if user.role == Role.investor:
        uow.investors.add(InvestorAccount(investor_id=user.id, updated_at=utcnow()))
    await commit_unique(uow, username=data.username, email=data.email)
    return user


def _new_user(
    username: str,
    email: str,
    full_name: str,
    role: Role,
    status: UserStatus,
    password_hash: str,
    *,
    phone: str | None = None,
    address: str | None = None,
) -> User:
    user = User(
        id=uuid.uuid4(),
        full_name=full_name,
        phone=phone,
        address=address,
        role=role,
        status=status,
        password_hash=password_hash,
    )
    user.set_username(username)
    user.set_email(email)
    return user


@dataclass(frozen=True)
class _LoginSubject:
    id: uuid.UUID
    role: Role
    status: UserStatus
    password_hash: str
    valid_after: datetime  # the version of these credentials, read with the hash


async def login(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    tokens: TokenService,
    settings: Settings,
    *,
    username: str,
    password: str,
    client: str,
) -> sessions.Session:
    """Admit the attempt past the throttles, verify the password (a dummy hash for unknown
    users), then reveal the status.

    The status is only revealed to someone who knows the password. The read transaction is
    committed before argon2 runs, so no connection or SQLite write lock is held while hashing.
    """
    keys = (
        (ThrottleScope.username, username.lower()[:255], settings.login_max_failures),
        (ThrottleScope.client, client[:255], settings.login_max_failures_per_client),
    )
    attempts = await _admit(uow, keys, timedelta(seconds=settings.login_window_seconds))
    user = await uow.users.by_username(username)
    subject = None
    if user is not None:
        subject = _LoginSubject(
            user.id, user.role, user.status, user.password_hash, user.tokens_valid_after
        )
    await uow.commit()

    # Longer than any password we accept: checked against the dummy hash, like a wrong one.
    fits = len(password) <= MAX_PASSWORD_LENGTH
    stored = subject.password_hash if subject is not None and fits else None
    try:
        matches, new_hash = await hasher.verify(password[:MAX_PASSWORD_LENGTH], stored)
    except HashingBusy:
        # Nothing was checked: this attempt is no failure, and must not count towards a lockout.
        await uow.login_failures.forget(attempts)
        await uow.commit()
        raise
    if not matches or subject is None:
        raise InvalidCredentials  # the attempts stay recorded: they are the failures
    await uow.login_failures.forget(attempts)
    if subject.status in _STATUS_REFUSALS:
        await uow.commit()
        raise _STATUS_REFUSALS[subject.status]
    await uow.login_failures.clear(ThrottleScope.username, keys[0][1])
    if new_hash is not None:
        fresh = await uow.users.get(subject.id)
        if fresh is not None and fresh.password_hash == subject.password_hash:
            fresh.password_hash = new_hash
    refresh_token, lifetime = sessions.add_refresh_token(uow, subject.id, uuid.uuid4(), settings)
    await uow.commit()
    access = tokens.issue(subject.id, subject.role, subject.valid_after)
    return sessions.Session(access, refresh_token, lifetime)


async def _admit(
    uow: UnitOfWork, keys: tuple[tuple[ThrottleScope, str, int], ...], window: timedelta
) -> list[int]:
    """Count each key's attempts in the window and record this one, atomically per key, so no
    more than the limit of guesses is ever checked against a hash, however many arrive at
    once. Recorded attempts count as failures until the password turns out right. Raises
    TooManyAttempts with the wait until the oldest attempt leaves the window."""
    now = utcnow()
    ids = []
    for scope, key, limit in keys:  # always username, then client: one lock order
        await uow.login_failures.lock(scope, key)
        await uow.login_failures.prune(scope, key, now - window)
        count, oldest = await uow.login_failures.window(scope, key, now - window)
        if count >= limit and oldest is not None:
            retry_after = math.ceil((oldest + window - now).total_seconds())
            raise TooManyAttempts(retry_after=max(1, retry_after))
        ids.append(await uow.login_failures.record(scope, key, now))
    return ids


async def create_admin(
    uow: UnitOfWork,
    hasher: PasswordHasher,
    *,
    username: str,
    email: str,
    password: str,
    full_name: str = "Administrator",
) -> User:
    password_hash = await hasher.hash(password)
    await ensure_available(uow, username=username, email=email)
    user = _new_user(username, email, full_name, Role.admin, UserStatus.active, password_hash)
    uow.users.add(user)
    await commit_unique(uow, username=username, email=email)
    return user
