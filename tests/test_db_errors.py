"""What the errors PostgreSQL really raises mean for the client."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from bank_api.db_errors import database_problem, sqlstate
from bank_api.errors import DatabaseBusy, DatabaseUnavailable, TransactionConflict


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE ...", {}, _PgError(sqlstate))


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("40001", TransactionConflict),  # serialization failure
        ("40P01", TransactionConflict),  # deadlock
        ("57014", DatabaseBusy),  # statement timeout
        ("57P01", DatabaseUnavailable),  # the server is shutting down
        ("08006", DatabaseUnavailable),  # connection failure
    ],
)
def test_lost_races_timeouts_and_outages_are_problems_for_the_client(
    code: str, problem: type[Exception]
) -> None:
    error = _error(code)
    assert sqlstate(error) == code
    assert isinstance(database_problem(error), problem)


def test_a_constraint_violation_is_our_error_not_the_clients() -> None:
    assert database_problem(_error("23505")) is None
