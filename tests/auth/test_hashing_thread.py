"""Password hashing never runs on the event loop's thread.

Proven by structure, not with a stopwatch: every call into the argon2 context made by
register, login (right password, wrong password, unknown user), password change and admin
creation is recorded with the thread it ran on. Each ran on one of the hasher's own threads,
at lowered CPU priority on Linux, and none on the thread running the event loop. How long the
loop actually stalls during a login burst is measured by the benchmark (`bench/loop_lag.py`).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

import pytest

from bank_api.auth.service import create_admin
from bank_api.security import HASH_THREAD_NICENESS
from bank_api.uow import UnitOfWork
from tests.support.api import Api
from tests.support.factories import PASSWORD, user_payload
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")


@dataclass(frozen=True)
class Call:
    method: str
    thread_id: int
    thread_name: str
    niceness: int | None


class RecordingContext:
    """Stands in for the hasher's CryptContext and records where each call runs."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.calls: list[Call] = []

    def _record(self, method: str) -> None:
        niceness = (
            os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            if sys.platform == "linux"
            else None
        )
        thread = threading.current_thread()
        self.calls.append(Call(method, threading.get_ident(), thread.name, niceness))

    def hash(self, *args: Any) -> Any:
        self._record("hash")
        return self._context.hash(*args)

    def verify(self, *args: Any) -> Any:
        self._record("verify")
        return self._context.verify(*args)

    def verify_and_update(self, *args: Any) -> Any:
        self._record("verify_and_update")
        return self._context.verify_and_update(*args)


async def test_no_password_is_hashed_on_the_event_loop_thread(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = api.app.state.hasher
    recorder = RecordingContext(hasher._context)
    monkeypatch.setattr(hasher, "_context", recorder)
    loop_thread = threading.get_ident()

    payload = user_payload("customer")
    assert (await api.client.post("/api/v1/auth/register", json=payload)).status_code == 201
    headers = await api.login(payload["username"])
    assert (await api.token(payload["username"], "not the password")).status_code == 401
    assert (await api.token("nobody_at_all", PASSWORD)).status_code == 401
    changed = await api.client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another long password"},
        headers=headers,
    )
    assert changed.status_code == 204, changed.text
    async with api.app.state.sessionmaker() as session, UnitOfWork(session) as uow:
        await create_admin(
            uow, hasher, username="threaded_admin", email="t@example.com", password=PASSWORD
        )

    methods = [call.method for call in recorder.calls]
    assert methods.count("hash") >= 3  # register, new password, admin (and the dummy hash)
    assert "verify_and_update" in methods  # a known user's login
    assert "verify" in methods  # an unknown user's login checks a dummy hash
    assert all(call.thread_id != loop_thread for call in recorder.calls)
    assert {call.thread_name.split("_")[0] for call in recorder.calls} == {"argon2"}
    if sys.platform == "linux":
        assert {call.niceness for call in recorder.calls} == {HASH_THREAD_NICENESS}


@pytest.mark.parametrize(
    "settings_overrides", [{"hash_concurrency": 1, "hash_wait_ms": 50, "login_max_failures": 2}]
)
async def test_a_login_that_cannot_get_a_hashing_thread_in_time_is_503_and_no_failure(
    api: Api,
) -> None:
    """With every hashing slot taken for longer than BANK_API_HASH_WAIT_MS, a login is 503
    `hashing_busy` with Retry-After at once (no wait of seconds), and the attempt does not
    count towards the lockout: afterwards the same user still has both failures left."""
    account = await api.user("customer")
    slots = api.app.state.hasher._slots
    await slots.acquire()  # the only hashing thread is busy with someone else's login
    try:
        for _ in range(3):  # more than the lockout's two failures
            busy = await api.token(account.username, account.password)
            assert_problem(busy, 503, "hashing_busy")
            assert busy.headers["retry-after"] == "1"
    finally:
        slots.release()
    for _ in range(2):
        wrong = await api.token(account.username, "not the password")
        assert_problem(wrong, 401, "invalid_credentials")
    assert (await api.token(account.username, account.password)).status_code == 429
