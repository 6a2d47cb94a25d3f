"""The platform's servicing fee on interest, over HTTP (SPEC §11.5)."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.flows import active_loan, investor_with, pay, portfolio, verify_ok
from tests.support.http import assert_problem
from tests.support.money import cents

pytestmark = [
    pytest.mark.usefixtures("backend"),
    pytest.mark.parametrize("settings_overrides", [{"servicing_fee": "12.5"}]),
]


async def test_the_fee_is_taken_from_each_payments_interest_and_the_investors_get_the_rest(
    api: Api,
) -> None:
    investors = [await investor_with(api, "1000.00") for _ in range(3)]
    admin, customer = await api.user("admin"), await api.user("customer")
    loan = await active_loan(api, customer, admin, amount="900.00", term_months=6)
    paid_interest = fees = 0
    for _ in range(3):
        response = await pay(api, customer, loan["id"], loan["monthly_payment"])
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        paid_interest += cents(body["interest"])
        fees += cents(body["fee"])
        # within a cent of 12.5 % of all the interest so far, at every payment
        exact = Fraction(paid_interest, 8)
        assert math.floor(exact) <= fees <= math.ceil(exact)
    figures = [await portfolio(api, i) for i in investors]
    assert sum(cents(f["interest_earned"]) for f in figures) + fees == paid_interest
    assert sum(cents(f["fees"]) for f in figures) == fees
    for investor, figure in zip(investors, figures, strict=True):
        held = await api.client.get("/api/v1/investments/allocations", headers=investor.headers)
        item = held.json()["items"][0]
        assert (item["fee"], item["interest_earned"]) == (figure["fees"], figure["interest_earned"])
        month = await api.client.get("/api/v1/investments/statement", headers=investor.headers)
        assert month.json()["totals"]["fee"] == figure["fees"]
        assert month.json()["totals"]["interest"] == figure["interest_earned"]
        earned = await api.client.get("/api/v1/investments/returns", headers=investor.headers)
        returns = earned.json()
        assert cents(returns["fees"]) == cents(figure["fees"])
        assert cents(returns["interest_earned"]) == cents(figure["interest_earned"]) + cents(
            figure["fees"]
        )
        assert returns["net_profit"] == figure["interest_earned"]
    revenue = (await api.client.get("/api/v1/admin/revenue", headers=admin.headers)).json()
    assert cents(revenue["total"]) == fees
    assert revenue["by_product"] == [{"loan_type": "personal_loan", "fee": revenue["total"]}]
    assert (revenue["from"], revenue["to"]) == (None, None)
    await verify_ok(api, admin)


async def test_revenue_by_period_and_who_may_see_it(api: Api) -> None:
    admin = await api.user("admin")
    empty = await api.client.get(
        "/api/v1/admin/revenue",
        params={"from": "2020-01-01", "to": "2020-01-31"},
        headers=admin.headers,
    )
    assert empty.json() == {
        "from": "2020-01-01",
        "to": "2020-01-31",
        "total": "0.00",
        "by_product": [],
    }
    bad = await api.client.get(
        "/api/v1/admin/revenue",
        params={"from": "2020-02-01", "to": "2020-01-31"},
        headers=admin.headers,
    )
    assert_problem(bad, 422, "invalid_date_range")
    for role in ("agent", "customer", "investor"):
        other = await api.user(role)
        assert_problem(
            await api.client.get("/api/v1/admin/revenue", headers=other.headers), 403, "forbidden"
        )


async def test_the_fee_is_the_one_in_force_when_the_loan_was_funded(api: Api) -> None:
    await investor_with(api, "1000.00")
    admin, customer = await api.user("admin"), await api.user("customer")
    loan = await active_loan(api, customer, admin, amount="900.00", term_months=6)
    # the operator drops the fee afterwards: this loan keeps its 12.5 %, never re-based
    settings = api.app.state.settings
    api.app.state.settings = settings.model_copy(update={"servicing_fee": 0})
    try:
        paid = (await pay(api, customer, loan["id"], loan["monthly_payment"])).json()
    finally:
        api.app.state.settings = settings
    exact = Fraction(cents(paid["interest"]), 8)
    assert math.floor(exact) <= cents(paid["fee"]) <= math.ceil(exact)
    assert cents(paid["fee"]) > 0
