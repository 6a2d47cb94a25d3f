"""`bank-api idempotency purge`: records older than the retention go, younger ones stay and
still replay; the retention is never below the contract's 24 hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bank_api.cli import main
from bank_api.common.types import utcnow
from bank_api.config import get_settings
from bank_api.idempotency import RECORDS, RETENTION, purge
from tests.support.api import Api

pytestmark = pytest.mark.usefixtures("backend")

DEPOSITS = "/api/v1/investments/deposits"


async def _deposit(api: Api, headers: dict[str, str], key: str) -> int:
    response = await api.client.post(
        DEPOSITS, json={"amount": "10.00"}, headers={**headers, "Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    return int(response.headers.get("idempotent-replayed") == "true")


async def test_a_purge_deletes_only_what_is_older_than_the_retention(api: Api) -> None:
    investor = await api.user("investor")
    for n in range(7):
        await _deposit(api, investor.headers, f"key-{n}")
    now = utcnow()
    ages = {
        f"key-{n}": timedelta(hours=hours) for n, hours in enumerate([0, 1, 23, 25, 48, 49, 90])
    }
    sessions = api.app.state.sessionmaker
    async with sessions() as session, session.begin():
        for key, age in ages.items():
            await session.execute(
                update(RECORDS).where(RECORDS.c.key == key).values(created_at=now - age)
            )
    # two at a time: the batches add up
    assert await purge(sessions, RETENTION, batch=2, now=now) == 4
    async with sessions() as session:
        kept = set((await session.scalars(select(RECORDS.c.key))).all())
    assert kept == {"key-0", "key-1", "key-2"}
    # a kept key still replays (no second deposit); a purged one is a new request
    assert await _deposit(api, investor.headers, "key-2") == 1
    assert await _deposit(api, investor.headers, "key-3") == 0
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "80.00"
    assert await purge(sessions, timedelta(hours=100), now=now) == 0


async def test_a_purge_never_goes_below_24_hours(api: Api) -> None:
    with pytest.raises(ValueError, match="at least"):
        await purge(api.app.state.sessionmaker, timedelta(hours=23, minutes=59))


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """The command reads its settings from the environment (cached per process): read them
    afresh for this test, and leave nothing cached for the next."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_the_purge_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BANK_API_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert main(["migrate"]) == 0
    assert main(["idempotency", "purge", "--older-than-hours", "36"]) == 0
    assert "0 idempotency records older than 1 day, 12:00:00 deleted" in capsys.readouterr().out
    for refused in ("23.9", "nan", "-1"):
        with pytest.raises(SystemExit) as exit_:
            main(["idempotency", "purge", "--older-than-hours", refused])
        assert exit_.value.code == 2
        assert "at least 24 hours" in capsys.readouterr().err
