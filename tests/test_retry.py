"""The retry helper on the errors PostgreSQL really raises for lost races."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from bank_api.errors import TransactionConflict
from bank_api.retry import is_retryable, retrying


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE ...", {}, _PgError(sqlstate))


@pytest.mark.parametrize(
    ("sqlstate", "expected"), [("40001", True), ("40P01", True), ("23505", False), ("57014", False)]
)
def test_only_serialization_failures_and_deadlocks_are_retried(
    sqlstate: str, expected: bool
) -> None:
    assert is_retryable(_error(sqlstate)) is expected


async def test_work_runs_again_after_a_lost_race() -> None:
    calls: list[str] = []
    rollbacks: list[int] = []

    async def rollback() -> None:
        rollbacks.append(1)

    async def work() -> str:
        calls.append("x")
        if len(calls) < 3:
            raise _error("40P01")
        return "done"

    assert await retrying(rollback, work) == "done"
    assert (len(calls), len(rollbacks)) == (3, 2)


async def test_attempts_run_out_as_a_conflict() -> None:
    async def rollback() -> None:
        return None

    async def work() -> str:
        raise _error("40001")

    with pytest.raises(TransactionConflict):
        await retrying(rollback, work, attempts=3)


async def test_other_database_errors_are_not_retried() -> None:
    async def rollback() -> None:
        raise AssertionError("must not roll back for a non-retryable error")

    async def work() -> str:
        raise _error("23505")

    with pytest.raises(DBAPIError):
        await retrying(rollback, work)
