"""The round trips of the hot requests, pinned: a later change cannot add one silently.

Counted on PostgreSQL with real commits (the pooled engine, no test transaction around the
app), so what is counted is what the server receives: every statement, and the BEGIN, COMMIT
and ROLLBACK of the request's transaction (the caller's read, and the read-only routes, run on
autocommit connections and have none). Each statement is labelled by its verb and table, so a
failure shows which one came or went. docs/DECISIONS.md ("Request cost") lists them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import DATE_OVERRIDE, active_loan, investor_with, new_loan, pay, set_date
from tests.support.http import listening

pytestmark = [pytest.mark.postgres_only, pytest.mark.real_commits]

_WORD = re.compile(r"\(|\)|[^\s()]+")
_VERBS = {"SELECT", "INSERT", "UPDATE", "DELETE"}
_WRITING_CTE = re.compile(
    r"AS\s*\((INSERT) INTO (\w+)|AS\s*\((UPDATE) (\w+)|AS\s*\((DELETE) FROM (\w+)"
)


def _label(statement: str) -> str:
    """The statement's own verb and table (those of the outermost query, not of a subquery or
    a CTE), followed by the writes it carries as CTEs; the advisory locks by their purpose."""
    own = _outermost(statement)
    carried = [" ".join(w for w in match if w) for match in _WRITING_CTE.findall(statement)]
    return f"{own} with {', '.join(carried)}" if carried else own


def _outermost(statement: str) -> str:
    if "pg_try_advisory_xact_lock" in statement:
        return "SELECT claim"  # the idempotency key's lock and its record
    if "pg_advisory_xact_lock" in statement:
        return "SELECT lock"
    depth, verb, previous = 0, "", ""
    for word in _WORD.findall(statement):
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0:
            upper = word.upper()
            if not verb and upper in _VERBS:
                verb = upper
            elif verb and previous in {"FROM", "INTO", "UPDATE"}:
                return f"{verb} {word}"
            previous = upper
    return verb or statement.split()[0].upper()


@contextlib.contextmanager
def round_trips(app: FastAPI) -> Iterator[list[str]]:
    trips: list[str] = []

    def statement(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        trips.append(_label(text))

    def transactional(name: str) -> Any:
        def record(conn: Any, *_: Any) -> None:
            if not conn.connection.dbapi_connection.autocommit:  # else none reaches the server
                trips.append(name)

        return record

    with contextlib.ExitStack() as listeners:
        listeners.enter_context(listening(app, "before_cursor_execute", statement))
        for name in ("begin", "commit", "rollback"):
            listeners.enter_context(listening(app, name, transactional(name.upper())))
        yield trips


CALLER = "SELECT user_account"


async def test_reading_the_own_account_is_one_statement(api: Api) -> None:
    customer = await api.user("customer")
    with round_trips(api.app) as trips:
        response = await api.client.get("/api/v1/users/me", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert trips == [CALLER]


async def test_a_page_of_own_loans_is_one_statement_with_its_total(api: Api) -> None:
    customer = await api.user("customer")
    for _ in range(3):
        await new_loan(api, customer)
    with round_trips(api.app) as trips:
        response = await api.client.get("/api/v1/loans?limit=2", headers=customer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 3
    assert trips == [CALLER, "SELECT loan"]  # a read on its own: no transaction


async def test_applying_for_a_loan(api: Api) -> None:
    customer = await api.user("customer")
    with round_trips(api.app) as trips:
        await new_loan(api, customer)
    assert trips == [
        CALLER,
        "BEGIN",
        "SELECT loan_product",
        "INSERT loan_event with INSERT loan",  # the loan and its first event, one round trip
        "COMMIT",
    ]


async def test_the_portfolio_reads_its_figures_in_one_statement(api: Api) -> None:
    investor = await investor_with(api, "500.00")
    with round_trips(api.app) as trips:
        response = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert response.status_code == 200, response.text
    assert trips == [CALLER, "SELECT investor_account"]  # balances and figures together


async def test_a_deposit(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "deposit-1"}
    with round_trips(api.app) as trips:
        response = await api.client.post(
            "/api/v1/investments/deposits", json={"amount": "25.00"}, headers=headers
        )
    assert response.status_code == 201, response.text
    assert trips == [
        CALLER,
        "BEGIN",
        "SELECT claim",  # with the lookup of the key
        # one round trip: the entry inserted with its lines, and last the balance, returning
        # the entry's id beside the portfolio (its overdue figures too)
        "SELECT w0 with INSERT journal_entry, INSERT journal_line, UPDATE investor_account",
        "INSERT idempotency_record",
        "COMMIT",
    ]


async def _funded_loan(api: Api) -> tuple[Account, dict[str, Any]]:
    """A customer and their active loan, funded by one investor."""
    await investor_with(api, "20000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    return customer, await active_loan(api, customer, admin)


async def test_a_schedule(api: Api) -> None:
    customer, loan = await _funded_loan(api)
    with round_trips(api.app) as trips:
        response = await api.client.get(
            f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers
        )
    assert response.status_code == 200, response.text
    assert trips == [CALLER, "SELECT loan"]  # with its installments, one statement


async def test_an_investor_s_own_views(api: Api) -> None:
    """The statement, the returns and the queue standing: each figure one statement, built
    once; the account's balances, queue place and preferences in one read."""
    investor = await investor_with(api, "500.00")
    views = {
        "statement": [CALLER, "SELECT journal_line", "SELECT journal_line"],
        "returns": [
            CALLER,
            "SELECT journal_line",
            "SELECT journal_line",
            "SELECT investor_account",
        ],
        # standing, its products, the candidates ahead, the loans waiting for approval (none
        # here, so no estimate and no lead time read)
        "queue": [
            CALLER,
            "SELECT investor_account",
            "SELECT investor_loan_type",
            "SELECT investor_account",
            "SELECT loan",
        ],
    }
    for view, expected in views.items():
        with round_trips(api.app) as trips:
            response = await api.client.get(f"/api/v1/investments/{view}", headers=investor.headers)
        assert response.status_code == 200, response.text
        assert trips == expected, view


async def test_an_approval_holds_the_queue_s_turn_only_for_the_funding(api: Api) -> None:
    """Everything that needs nobody's money comes before the allocation queue's turn (the
    advisory lock); inside it only the queue head, the funding's writes in one round trip (the
    holdings, the journal entry, the investors' balances), the idempotency record and the
    commit (the savepoint before the turn takes the turn back with it if a balance fell short;
    a success needs no RELEASE)."""
    await investor_with(api, "20000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await new_loan(api, customer)
    with round_trips(api.app) as trips:
        approved = await api.client.post(
            f"/api/v1/loans/{loan['id']}/approve",
            headers={**admin.headers, "Idempotency-Key": "a1"},
        )
    assert approved.status_code == 200, approved.text
    assert trips == [
        CALLER,
        "BEGIN",
        "SELECT claim",  # with the lookup of the key
        "SELECT loan",
        # the schedule, the loan's new terms, its history event and the audit record, one
        # round trip (the record the statement, the others its CTEs)
        "INSERT audit_record with INSERT installment, UPDATE loan, INSERT loan_event",
        "SAVEPOINT",
        "SELECT lock",
        "SELECT investor_account",
        # the funding, one round trip: the holdings, the journal entry with its lines, and the
        # investors' balances debited (the statement itself, the others its CTEs)
        "UPDATE investor_account with INSERT allocation, INSERT journal_entry, INSERT journal_line",
        "INSERT idempotency_record",
        "COMMIT",
    ]


async def test_a_payment(api: Api) -> None:
    customer, loan = await _funded_loan(api)
    with round_trips(api.app) as trips:
        paid = await pay(
            api, customer, loan["id"], loan["monthly_payment"], **{"Idempotency-Key": "p1"}
        )
    assert paid.status_code == 201, paid.text
    assert trips == [
        CALLER,
        "BEGIN",
        "SELECT claim",  # with the lookup of the key
        "SELECT loan",
        "SELECT installment",
        "SELECT allocation",
        # one round trip: the loan with its history event, the payment, the installments, the
        # holdings, the journal entry with its lines, and last the investors' balances
        "UPDATE investor_account with UPDATE loan, INSERT loan_event, INSERT payment,"
        " UPDATE installment, UPDATE allocation, INSERT journal_entry, INSERT journal_line",
        "INSERT idempotency_record",
        "COMMIT",
    ]


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_a_write_off(api: Api) -> None:
    """Like a payment: the loan and its holdings locked, then everything in one round trip
    (the loan with its history event and audit record, the holdings' losses, the journal
    entry with its lines, and last the investors' balances)."""
    await investor_with(api, "20000.00")
    await investor_with(api, "20000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    loan = await active_loan(api, customer, admin)
    first_due = date.fromisoformat(loan["approved_at"][:10]) + timedelta(days=31)
    moved = await set_date(api, admin.headers, first_due + timedelta(days=90))
    assert moved.status_code == 200, moved.text
    with round_trips(api.app) as trips:
        written = await api.client.post(
            f"/api/v1/loans/{loan['id']}/write-off", headers=admin.headers
        )
    assert written.status_code == 200, written.text
    assert written.json()["status"] == "written_off"
    assert trips == [
        CALLER,
        "BEGIN",
        "SELECT loan",
        "SELECT allocation",
        "UPDATE investor_account with UPDATE loan, INSERT loan_event, INSERT audit_record,"
        " UPDATE allocation, INSERT journal_entry, INSERT journal_line",
        "COMMIT",
    ]


async def test_a_login(api: Api) -> None:
    customer = await api.user("customer")
    with round_trips(api.app) as trips:
        token = await api.token(customer.username)
    assert token.status_code == 200, token.text
    throttle = [
        "SELECT lock",
        "DELETE login_failure",
        "SELECT login_failure",
        "INSERT login_failure",
    ]
    assert trips == [
        "BEGIN",
        *throttle,  # the username's window
        *throttle,  # the client's window
        "SELECT user_account",
        "COMMIT",  # before hashing: nothing is held while argon2 runs
        "BEGIN",
        "DELETE login_failure",  # this attempt was no failure
        "DELETE login_failure",  # the username's failures are cleared
        "INSERT refresh_token",  # the login's session
        "COMMIT",
    ]
