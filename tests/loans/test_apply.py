from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.flows import apply, new_loan
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")

# 10,000.00 over 12 months, worked out independently (Decimal, half-even, last takes the rest).
REFERENCE = {
    "home_loan": ("6.90", "864.81", "377.67", "10377.67"),
    "car_loan": ("7.25", "866.42", "397.06", "10397.06"),
    "personal_loan": ("10.75", "882.65", "591.80", "10591.80"),
    "education_loan": ("14.70", "901.17", "814.02", "10814.02"),
}


@pytest.mark.parametrize("code", sorted(REFERENCE))
async def test_each_product_prices_the_reference_application(api: Api, code: str) -> None:
    customer = await api.user("customer")
    loan = await new_loan(api, customer, loan_type=code)
    rate, payment, interest, payable = REFERENCE[code]
    assert (
        loan["annual_rate"],
        loan["monthly_payment"],
        loan["total_interest"],
        loan["total_payable"],
    ) == (rate, payment, interest, payable)
    assert (loan["status"], loan["amount"], loan["term_months"]) == ("new", "10000.00", 12)
    assert (loan["customer_id"], loan["agent_id"]) == (customer.id, None)
    assert (loan["outstanding_principal"], loan["days_past_due"], loan["is_npl"]) == (
        "0.00",
        0,
        False,
    )
    schedule = await api.client.get(
        f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers
    )
    body = schedule.json()
    assert body["preview"] is True
    assert body["loan_id"] == loan["id"]
    assert len(body["installments"]) == 12
    assert body["installments"][0]["payment"] == payment
    assert body["totals"]["interest"] == interest
    assert body["totals"]["payable"] == payable


async def test_quote_shows_the_whole_schedule_and_stores_nothing(api: Api) -> None:
    investor = await api.user("investor")
    response = await api.client.get(
        "/api/v1/loans/quote?loan_type=home_loan&amount=10000.00&term_months=12",
        headers=investor.headers,
    )
    assert response.status_code == 200, response.text
    quote = response.json()
    assert (quote["monthly_payment"], quote["total_interest"], quote["total_payable"]) == (
        "864.81",
        "377.67",
        "10377.67",
    )
    first, last = quote["installments"][0], quote["installments"][-1]
    assert (first["number"], first["interest"], first["principal"]) == (1, "57.50", "807.31")
    assert last["number"] == 12
    principal_cents = sum(int(i["principal"].replace(".", "")) for i in quote["installments"])
    assert principal_cents == 1_000_000
    admin = await api.user("admin")
    assert (await api.client.get("/api/v1/loans", headers=admin.headers)).json()["total"] == 0


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"amount": "99.99"}, "amount_out_of_range"),
        ({"amount": "50000.01"}, "amount_out_of_range"),
        ({"term_months": 2}, "term_out_of_range"),
        ({"term_months": 61}, "term_out_of_range"),
        ({"loan_type": "space_loan"}, "unknown_loan_type"),
    ],
)
async def test_terms_outside_the_product_are_422(
    api: Api, overrides: dict[str, object], code: str
) -> None:
    customer = await api.user("customer")
    applied = assert_problem(await apply(api, customer, **overrides), 422, code)
    quote = await api.client.get(
        "/api/v1/loans/quote",
        headers=customer.headers,
        params={"loan_type": "personal_loan", "amount": "10000.00", "term_months": 12, **overrides},
    )
    assert assert_problem(quote, 422, code)["detail"] == applied["detail"]
    bounds = {  # the refusal states the product's bounds, in money where it is money
        "amount_out_of_range": "A personal_loan is for 100.00 to 50000.00.",
        "term_out_of_range": "A personal_loan runs 3 to 60 months.",
    }
    if code in bounds:
        assert applied["detail"] == bounds[code]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": "0"},
        {"amount": "-5.00"},
        {"amount": "10.005"},
        {"amount": "1e4"},
        {"amount": "1000000000000.01"},
        {"amount": None},
        {"term_months": 12.5},
        {"term_months": "12"},
        {"term_months": 0},
        {"term_months": 361},
        {"status": "active"},
        {"annual_rate": "0.01"},
        {"agent_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_malformed_applications_are_422(api: Api, overrides: dict[str, object]) -> None:
    customer = await api.user("customer")
    assert_problem(await apply(api, customer, **overrides), 422, "validation_error")
    listed = await api.client.get("/api/v1/loans", headers=customer.headers)
    assert listed.json()["total"] == 0


async def test_amount_given_as_a_json_number_is_exact(api: Api) -> None:
    customer = await api.user("customer")
    loan = await new_loan(api, customer, amount=1234.56)
    assert loan["amount"] == "1234.56"


@pytest.mark.parametrize("role", ["investor", "agent", "admin"])
async def test_only_customers_apply(api: Api, role: str) -> None:
    account = await api.user(role)
    assert_problem(await apply(api, account), 403, "forbidden")
