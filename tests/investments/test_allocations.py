"""The investor's allocations and what is still scheduled to come back from each (SPEC §11.2)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from bank_api.domain.money import round_cents
from tests.support.api import Api
from tests.support.flows import active_loan, investor_with, pay
from tests.support.money import cents

pytestmark = pytest.mark.usefixtures("backend")


async def _mine(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get("/api/v1/investments/allocations", headers=headers)
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["items"][0]
    return item


async def test_each_allocation_shows_the_principal_and_interest_still_to_come(api: Api) -> None:
    investors = [await investor_with(api, amount) for amount in ("700.00", "300.00", "300.00")]
    admin, customer = await api.user("admin"), await api.user("customer")
    loan = await active_loan(api, customer, admin, amount="900.00", term_months=6)
    total_interest = cents(loan["total_interest"])
    for investor in investors:
        item = await _mine(api, investor.headers)
        assert item["expected_principal"] == item["amount"] == "300.00"
        share = round_cents(Fraction(cents(item["amount"]) * total_interest, cents(loan["amount"])))
        assert cents(item["expected_interest"]) == share
    first = await pay(api, customer, loan["id"], loan["monthly_payment"])
    assert first.status_code == 201, first.text
    to_come = 0
    for investor in investors:
        item = await _mine(api, investor.headers)
        assert item["expected_principal"] == item["outstanding_principal"]
        assert cents(item["expected_principal"]) == 30_000 - cents(item["principal_repaid"])
        received, expected = cents(item["interest_earned"]), cents(item["expected_interest"])
        assert received > 0
        assert received + expected == round_cents(Fraction(total_interest, 3))
        to_come += expected
    paid_interest = cents(first.json()["interest"])
    assert abs(to_come - (total_interest - paid_interest)) <= len(investors)
    schedule = (
        await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers)
    ).json()
    rest = sum(cents(i["payment"]) for i in schedule["installments"]) - cents(
        loan["monthly_payment"]
    )
    payoff = await pay(api, customer, loan["id"], f"{rest // 100}.{rest % 100:02d}")
    assert payoff.json()["loan_status"] == "closed"
    for investor in investors:
        item = await _mine(api, investor.headers)
        assert (item["expected_principal"], item["expected_interest"]) == ("0.00", "0.00")
