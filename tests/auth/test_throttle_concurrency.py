"""The login throttle holds under concurrency: however many guesses arrive at once, no more
than the limit are checked against the password hash between two successful logins (a
success clears the username's count, as it does one at a time)."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.support.api import Api
from tests.support.http import assert_problem

pytestmark = [pytest.mark.real_commits, pytest.mark.usefixtures("backend")]


class CountingHasher:
    """Counts the verifications the app's hasher performs."""

    def __init__(self, verify: object) -> None:
        self._verify = verify
        self.checked = 0

    async def __call__(self, password: str, stored: str | None) -> object:
        self.checked += 1
        return await self._verify(password, stored)  # type: ignore[operator]


@pytest.fixture
def counter(api: Api, monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    """The app's hasher, counting its verifications."""
    counting = CountingHasher(api.app.state.hasher.verify)
    monkeypatch.setattr(api.app.state.hasher, "verify", counting)
    return counting


@pytest.mark.parametrize("settings_overrides", [{"login_max_failures_per_client": 1000}])
async def test_forty_simultaneous_wrong_guesses_for_one_username_check_at_most_five(
    api: Api, counter: CountingHasher
) -> None:
    account = await api.user("customer")
    guesses = [f"wrong guess {i}" for i in range(40)]
    responses = await asyncio.gather(*(api.token(account.username, g) for g in guesses))
    statuses = [r.status_code for r in responses]
    assert counter.checked == statuses.count(401) <= 5, statuses
    assert statuses.count(429) == 40 - counter.checked
    for response in responses:
        if response.status_code == 429:
            assert_problem(response, 429, "too_many_attempts")
            assert int(response.headers["retry-after"]) >= 1
    # the window is full: the right password now waits too
    assert_problem(await api.token(account.username), 429, "too_many_attempts")


@pytest.mark.parametrize("settings_overrides", [{"login_max_failures_per_client": 1000}])
async def test_a_right_password_among_forty_guesses_lets_at_most_five_more_be_checked(
    api: Api, counter: CountingHasher
) -> None:
    account = await api.user("customer")
    guesses = [f"wrong guess {i}" for i in range(39)] + [account.password]
    random.Random(7).shuffle(guesses)
    responses = await asyncio.gather(*(api.token(account.username, g) for g in guesses))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 401, 429}
    assert statuses.count(200) <= 1
    # at most 5 before the success cleared the count, and at most 5 after it
    assert counter.checked == statuses.count(200) + statuses.count(401), statuses
    # without the success at most 5 wrong guesses; with it, at most 4 before and 5 after
    assert statuses.count(401) <= (9 if statuses.count(200) else 5), statuses


@pytest.mark.parametrize("settings_overrides", [{"login_max_failures_per_client": 20}])
async def test_simultaneous_guesses_from_one_client_check_at_most_its_limit(
    api: Api, counter: CountingHasher
) -> None:
    responses = await asyncio.gather(
        *(api.token(f"nobody_{i}", "wrong password!") for i in range(50))
    )
    statuses = [r.status_code for r in responses]
    assert counter.checked <= 20
    assert statuses.count(401) == counter.checked
    assert statuses.count(429) == 50 - counter.checked
