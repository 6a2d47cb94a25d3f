from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.support.api import Api
from tests.support.flows import active_loan, investor_with, portfolio, verify_ok
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")

DEPOSITS = "/api/v1/investments/deposits"
WITHDRAWALS = "/api/v1/investments/withdrawals"


async def test_deposit_and_withdraw_move_exact_cents(api: Api) -> None:
    investor = await api.user("investor")
    first = await api.client.post(DEPOSITS, json={"amount": "1000.10"}, headers=investor.headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["type"], body["amount"]) == ("deposit", "1000.10")
    assert body["portfolio"] == {
        "currency": "USD",
        "available": "1000.10",
        "invested": "0.00",
        "interest_earned": "0.00",
        "losses": "0.00",
        "total": "1000.10",
        "active_allocations": 0,
        "overdue_principal": "0.00",
        "npl_principal": "0.00",
        "fees": "0.00",
    }
    await api.client.post(DEPOSITS, json={"amount": 0.2}, headers=investor.headers)
    out = await api.client.post(WITHDRAWALS, json={"amount": "300.25"}, headers=investor.headers)
    assert out.status_code == 201
    assert (out.json()["type"], out.json()["portfolio"]["available"]) == ("withdrawal", "700.05")
    assert (await portfolio(api, investor))["available"] == "700.05"
    checks = await verify_ok(api)
    assert {c["name"] for c in checks["checks"]} >= {  # type: ignore[attr-defined]
        "entries_balance",
        "accounts_sum_to_zero",
        "stored_balances_match_journal",
        "investor_balances_non_negative",
        "loan_status_transitions",
    }


async def test_withdrawing_more_than_available_is_409_and_changes_nothing(api: Api) -> None:
    investor = await api.user("investor")
    await api.client.post(DEPOSITS, json={"amount": "50.00"}, headers=investor.headers)
    response = await api.client.post(
        WITHDRAWALS, json={"amount": "50.01"}, headers=investor.headers
    )
    assert_problem(response, 409, "insufficient_funds")
    assert (await portfolio(api, investor))["available"] == "50.00"
    empty = await api.user("investor")
    assert_problem(
        await api.client.post(WITHDRAWALS, json={"amount": "0.01"}, headers=empty.headers),
        409,
        "insufficient_funds",
    )
    await verify_ok(api)


@pytest.mark.parametrize("amount", ["0", "-1.00", "1.001", "abc", None, "1000000000000.01"])
async def test_bad_amounts_are_422(api: Api, amount: object) -> None:
    investor = await api.user("investor")
    for path in (DEPOSITS, WITHDRAWALS):
        response = await api.client.post(path, json={"amount": amount}, headers=investor.headers)
        assert_problem(response, 422, "validation_error")
    assert (await portfolio(api, investor))["available"] == "0.00"


@pytest.mark.parametrize("role", ["customer", "agent", "admin"])
async def test_only_investors_use_the_wallet(api: Api, role: str) -> None:
    account = await api.user(role)
    for method, path in (
        ("POST", DEPOSITS),
        ("POST", WITHDRAWALS),
        ("GET", "/api/v1/investments/portfolio"),
        ("GET", "/api/v1/investments/transactions"),
    ):
        response = await api.client.request(
            method, path, json={"amount": "1.00"}, headers=account.headers
        )
        assert_problem(response, 403, "forbidden")


async def test_transactions_list_the_investors_own_lines(api: Api) -> None:
    investor = await api.user("investor")
    other = await api.user("investor")
    await api.client.post(DEPOSITS, json={"amount": "100.00"}, headers=investor.headers)
    await api.client.post(WITHDRAWALS, json={"amount": "40.00"}, headers=investor.headers)
    await api.client.post(DEPOSITS, json={"amount": "7.00"}, headers=other.headers)
    response = await api.client.get("/api/v1/investments/transactions", headers=investor.headers)
    body = response.json()
    assert body["total"] == 2
    assert [(t["type"], t["account"], t["amount"]) for t in body["items"]] == [
        ("withdrawal", "available", "-40.00"),
        ("deposit", "available", "100.00"),
    ]
    only = await api.client.get(
        "/api/v1/investments/transactions?type=deposit", headers=investor.headers
    )
    assert [t["amount"] for t in only.json()["items"]] == ["100.00"]
    today = body["items"][0]["created_at"][:10]
    same_day = await api.client.get(
        f"/api/v1/investments/transactions?from={today}&to={today}", headers=investor.headers
    )
    assert same_day.json()["total"] == 2
    reversed_range = await api.client.get(
        "/api/v1/investments/transactions?from=2026-02-02&to=2026-02-01", headers=investor.headers
    )
    assert_problem(reversed_range, 422, "invalid_date_range")


async def test_verify_reports_a_tampered_balance(api: Api) -> None:
    investor = await api.user("investor")
    await api.client.post(DEPOSITS, json={"amount": "20.00"}, headers=investor.headers)
    async with api.app.state.sessionmaker() as session:
        await session.execute(text("UPDATE investor_account SET available = available + 1"))
        await session.commit()
    admin = await api.user("admin")
    body = (await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)).json()
    failing = {c["name"] for c in body["checks"] if not c["ok"]}
    assert body["ok"] is False
    assert failing == {"stored_balances_match_journal"}


async def test_verify_reports_lines_without_their_entry(api: Api) -> None:
    """The journal keeps no foreign key from a line to its entry (`post` writes both in one
    statement); verify stands in for it. The tampered lines balance and touch no investor, so
    that check alone fails."""
    investor = await api.user("investor")
    await api.client.post(DEPOSITS, json={"amount": "20.00"}, headers=investor.headers)
    admin = await api.user("admin")
    await verify_ok(api, admin)
    async with api.app.state.sessionmaker() as session:
        entry = await session.scalar(text("SELECT max(id) + 1000 FROM journal_entry"))
        await session.execute(
            text(
                "INSERT INTO journal_line (entry_id, account_kind, amount, purpose, created_at,"
                " value_date) VALUES (:entry, 'external', -500, 'deposit', CURRENT_TIMESTAMP,"
                " CURRENT_DATE), (:entry, 'external', 500, 'deposit', CURRENT_TIMESTAMP,"
                " CURRENT_DATE)"
            ),
            {"entry": entry},
        )
        await session.commit()
    body = (await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)).json()
    assert body["ok"] is False
    assert {c["name"] for c in body["checks"] if not c["ok"]} == {"lines_belong_to_entries"}


@pytest.mark.parametrize(
    ("tampering", "check"),
    [
        ("UPDATE investor_account SET fees = fees + 1", "investor_figures_match_holdings"),
        (
            "UPDATE investor_account SET active_allocations = active_allocations + 1",
            "investor_figures_match_holdings",
        ),
        ("UPDATE allocation SET oldest_unpaid_due = NULL", "holding_unpaid_due_matches_loan"),
    ],
)
async def test_verify_reports_stale_portfolio_figures(api: Api, tampering: str, check: str) -> None:
    """The figures the writes keep for portfolios are checked against the holdings."""
    investor = await investor_with(api, "20000.00")
    customer, admin = await api.user("customer"), await api.user("admin")
    await active_loan(api, customer, admin)
    assert (await portfolio(api, investor))["active_allocations"] == 1
    await verify_ok(api, admin)
    async with api.app.state.sessionmaker() as session:
        await session.execute(text(tampering))
        await session.commit()
    body = (await api.client.get("/api/v1/admin/ledger/verify", headers=admin.headers)).json()
    assert {c["name"] for c in body["checks"] if not c["ok"]} == {check}
