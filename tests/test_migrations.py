from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bank_api.config import Settings
from bank_api.database import create_engine, create_sessionmaker
from bank_api.models import Base, LoginFailure, ThrottleScope

pytestmark = pytest.mark.usefixtures("backend")


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_timestamps_come_back_utc_aware(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    sessionmaker = create_sessionmaker(engine)
    at = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5)))
    try:
        async with sessionmaker() as session:
            session.add(LoginFailure(scope=ThrottleScope.client, key="tz-check", at=at))
            await session.commit()
        async with sessionmaker() as session:
            stored = (
                await session.execute(select(LoginFailure.at).where(LoginFailure.key == "tz-check"))
            ).scalar_one()
            await session.execute(LoginFailure.__table__.delete())
            await session.commit()
    finally:
        await engine.dispose()
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == at
    assert stored == datetime(2026, 3, 1, 7, 30, 15, 123456, tzinfo=UTC)


async def test_naive_datetimes_are_refused(backend: str) -> None:
    engine = create_engine(Settings(_env_file=None, database_url=backend))  # type: ignore[call-arg]
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(
                LoginFailure(scope=ThrottleScope.client, key="naive", at=datetime(2026, 1, 1))
            )
            with pytest.raises(Exception, match="naive datetime"):
                await session.flush()
    finally:
        await engine.dispose()
