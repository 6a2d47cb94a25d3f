from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")

SEEDED = {
    "home_loan": ("6.90", "1000.00", "1000000.00", 12, 360),
    "car_loan": ("7.25", "500.00", "200000.00", 6, 84),
    "personal_loan": ("10.75", "100.00", "50000.00", 3, 60),
    "education_loan": ("14.70", "500.00", "100000.00", 6, 120),
}


async def test_the_four_products_are_seeded(api: Api) -> None:
    customer = await api.user("customer")
    response = await api.client.get("/api/v1/loan-products", headers=customer.headers)
    assert response.status_code == 200
    got = {
        p["code"]: (
            p["annual_rate"],
            p["min_amount"],
            p["max_amount"],
            p["min_term_months"],
            p["max_term_months"],
        )
        for p in response.json()
    }
    assert got == SEEDED
    assert {p["schedule_type"] for p in response.json()} == {"annuity"}


async def test_admin_creates_updates_and_deactivates_a_product(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    body = {
        "code": "green_loan",
        "name": "Green loan",
        "annual_rate": "3.5",
        "min_amount": 1000,
        "max_amount": "20000.00",
        "min_term_months": 12,
        "max_term_months": 48,
        "schedule_type": "equal_principal",
    }
    created = await api.client.post("/api/v1/admin/loan-products", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert created.json() == {
        **body,
        "annual_rate": "3.50",
        "min_amount": "1000.00",
        "is_active": True,
    }
    again = await api.client.post("/api/v1/admin/loan-products", json=body, headers=admin.headers)
    assert_problem(again, 409, "product_exists")
    updated = await api.client.patch(
        "/api/v1/admin/loan-products/green_loan",
        json={"annual_rate": "4.25", "is_active": False},
        headers=admin.headers,
    )
    assert (updated.json()["annual_rate"], updated.json()["is_active"]) == ("4.25", False)
    listed = await api.client.get("/api/v1/loan-products", headers=customer.headers)
    assert "green_loan" not in {p["code"] for p in listed.json()}
    every = await api.client.get("/api/v1/admin/loan-products", headers=admin.headers)
    assert "green_loan" in {p["code"] for p in every.json()}
    applied = await api.client.post(
        "/api/v1/loans",
        headers=customer.headers,
        json={"loan_type": "green_loan", "amount": "5000.00", "term_months": 12},
    )
    assert_problem(applied, 422, "unknown_loan_type")


@pytest.mark.parametrize(
    "body",
    [
        {"min_amount": "60000.00"},  # above the product's max
        {"min_term_months": 61},
    ],
)
async def test_update_that_crosses_bounds_is_422(api: Api, body: dict[str, object]) -> None:
    admin = await api.user("admin")
    response = await api.client.patch(
        "/api/v1/admin/loan-products/personal_loan", json=body, headers=admin.headers
    )
    assert_problem(response, 422, "invalid_product_bounds")
    products = await api.client.get("/api/v1/admin/loan-products", headers=admin.headers)
    personal = next(p for p in products.json() if p["code"] == "personal_loan")
    assert (personal["min_amount"], personal["min_term_months"]) == ("100.00", 3)


@pytest.mark.parametrize(
    "body",
    [
        {"code": "Bad Code"},
        {"annual_rate": "-1"},
        {"annual_rate": "1.234"},
        {"min_amount": "0"},
        {"max_term_months": 361},
        {"min_amount": "500", "max_amount": "100"},
        {"is_admin": True},
    ],
)
async def test_invalid_product_is_422(api: Api, body: dict[str, object]) -> None:
    admin = await api.user("admin")
    base = {
        "code": "x_loan",
        "name": "X",
        "annual_rate": "5.00",
        "min_amount": "100.00",
        "max_amount": "1000.00",
        "min_term_months": 1,
        "max_term_months": 12,
    }
    response = await api.client.post(
        "/api/v1/admin/loan-products", json={**base, **body}, headers=admin.headers
    )
    assert_problem(response, 422, "validation_error")


async def test_unknown_product_update_is_404(api: Api) -> None:
    admin = await api.user("admin")
    response = await api.client.patch(
        "/api/v1/admin/loan-products/nope", json={"name": "x"}, headers=admin.headers
    )
    assert_problem(response, 404, "product_not_found")
