"""Auto-invest preferences, the fair allocation queue and the queue standing (SPEC §11.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bank_api.common.clock import utc_today
from bank_api.domain.preferences import Preferences
from bank_api.investments.repository import ACCOUNTS, ALLOCATABLE
from tests.support.api import Api
from tests.support.factories import Account
from tests.support.flows import (
    DATE_OVERRIDE,
    investor_with,
    new_loan,
    portfolio,
    set_date,
    verify_ok,
)
from tests.support.http import assert_problem
from tests.support.money import cents

pytestmark = pytest.mark.usefixtures("backend")

PREFERENCES = "/api/v1/investments/preferences"
QUEUE = "/api/v1/investments/queue"
DEFAULTS = {
    "active": True,
    "loan_types": None,
    "max_per_loan": None,
    "keep_available": "0.00",
    "max_portfolio": None,
}


async def _prefer(api: Api, investor: Account, **fields: Any) -> dict[str, Any]:
    response = await api.client.put(PREFERENCES, json=fields, headers=investor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _approve(api: Api, admin: Account, loan: dict[str, Any]) -> dict[str, str]:
    """Approve; each participant's part by investor id."""
    approved = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert approved.status_code == 200, approved.text
    parts = await api.client.get(f"/api/v1/loans/{loan['id']}/allocations", headers=admin.headers)
    return {a["investor_id"]: a["amount"] for a in parts.json()}


async def test_preferences_default_to_everything_and_put_replaces_the_whole_object(
    api: Api,
) -> None:
    investor = await api.user("investor")
    read = await api.client.get(PREFERENCES, headers=investor.headers)
    assert (read.status_code, read.json()) == (200, DEFAULTS)
    chosen = {
        "active": False,
        "loan_types": ["personal_loan", "car_loan", "car_loan"],
        "max_per_loan": "100.00",
        "keep_available": 500,
        "max_portfolio": "25000.5",
    }
    stored = await _prefer(api, investor, **chosen)
    assert stored == {
        "active": False,
        "loan_types": ["car_loan", "personal_loan"],
        "max_per_loan": "100.00",
        "keep_available": "500.00",
        "max_portfolio": "25000.50",
    }
    assert (await api.client.get(PREFERENCES, headers=investor.headers)).json() == stored
    # a field left out goes back to its default
    assert await _prefer(api, investor, max_per_loan="30.00") == {
        **DEFAULTS,
        "max_per_loan": "30.00",
    }
    assert await _prefer(api, investor) == DEFAULTS


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"loan_types": ["no_such_loan"]}, "unknown_loan_type"),
        ({"loan_types": ["car_loan", "no_such_loan"]}, "unknown_loan_type"),
        ({"loan_types": []}, "validation_error"),
        ({"keep_available": "-1.00"}, "validation_error"),
        ({"max_per_loan": "0"}, "validation_error"),
        ({"max_portfolio": "10.001"}, "validation_error"),
        ({"active": "yes"}, "validation_error"),
        ({"auto_invest": False}, "validation_error"),
        ({"loan_types": ["x" * 33]}, "validation_error"),
    ],
)
async def test_invalid_preferences_are_422_and_change_nothing(
    api: Api, body: dict[str, Any], code: str
) -> None:
    investor = await api.user("investor")
    await _prefer(api, investor, max_per_loan="40.00")
    assert_problem(
        await api.client.put(PREFERENCES, json=body, headers=investor.headers), 422, code
    )
    after = (await api.client.get(PREFERENCES, headers=investor.headers)).json()
    assert after == {**DEFAULTS, "max_per_loan": "40.00"}


async def test_only_investors_have_preferences_and_a_queue(api: Api) -> None:
    for role in ("customer", "agent", "admin"):
        other = await api.user(role)
        for method, path in (("GET", PREFERENCES), ("PUT", PREFERENCES), ("GET", QUEUE)):
            response = await api.client.request(method, path, json={}, headers=other.headers)
            assert_problem(response, 403, "forbidden")
    assert (await api.client.get(QUEUE)).status_code == 401


async def test_allocation_follows_every_preference_exactly(api: Api) -> None:
    paused = await investor_with(api, "1000.00")
    await _prefer(api, paused, active=False)
    cars_only = await investor_with(api, "1000.00")
    await _prefer(api, cars_only, loan_types=["car_loan"])
    reserve = await investor_with(api, "1000.00")
    await _prefer(api, reserve, keep_available="900.00")
    small = await investor_with(api, "1000.00")
    await _prefer(api, small, max_per_loan="100.00")
    limited = await investor_with(api, "1000.00")
    await _prefer(api, limited, max_portfolio="150.00")
    plain = await investor_with(api, "1000.00")
    admin = await api.user("admin")
    customer = await api.user("customer")
    loan = await new_loan(api, customer, loan_type="personal_loan", amount="500.00")
    # caps 100, 100, 150 and 1000: the water level is 150
    assert await _approve(api, admin, loan) == {
        reserve.id: "100.00",
        small.id: "100.00",
        limited.id: "150.00",
        plain.id: "150.00",
    }
    assert (await portfolio(api, paused))["available"] == "1000.00"
    assert (await portfolio(api, reserve))["available"] == "900.00"
    # the reserve is reached and the portfolio limit too: neither takes part again; changing a
    # preference moves no money already lent out
    await _prefer(api, limited, active=False)
    assert (await portfolio(api, limited))["invested"] == "150.00"
    car = await new_loan(api, customer, loan_type="car_loan", amount="500.00")
    assert await _approve(api, admin, car) == {
        cars_only.id: "200.00",
        small.id: "100.00",
        plain.id: "200.00",
    }
    await verify_ok(api, admin)


async def test_nobody_with_preferences_that_admit_the_loan_is_409(api: Api) -> None:
    investor = await investor_with(api, "5000.00")
    await _prefer(api, investor, loan_types=["car_loan"])
    admin, customer = await api.user("admin"), await api.user("customer")
    loan = await new_loan(api, customer, loan_type="personal_loan", amount="500.00")
    refused = await api.client.post(f"/api/v1/loans/{loan['id']}/approve", headers=admin.headers)
    assert_problem(refused, 409, "allocation_not_possible")
    assert (await portfolio(api, investor))["available"] == "5000.00"


async def test_after_funding_a_loan_an_investor_moves_to_the_back_of_the_queue(api: Api) -> None:
    first_four = [await investor_with(api, "1000.00") for _ in range(4)]
    fifth = await investor_with(api, "1000.00")
    admin, customer = await api.user("admin"), await api.user("customer")
    # 100.00 at the 25.00 minimum ticket: four participants from the front of the queue
    one = await _approve(api, admin, await new_loan(api, customer, amount="100.00"))
    assert set(one) == {i.id for i in first_four}
    # all four funded at once, so they are behind the fifth, among themselves by id
    two = await _approve(api, admin, await new_loan(api, customer, amount="100.00"))
    assert set(two) == {fifth.id, *sorted(i.id for i in first_four)[:3]}
    standing = {}
    for investor in [*first_four, fifth]:
        body = (await api.client.get(QUEUE, headers=investor.headers)).json()
        standing[investor.id] = body["position"]
    last_one = sorted(i.id for i in first_four)[3]
    assert standing[last_one] == 1
    assert sorted(standing.values()) == [1, 2, 3, 4, 5]


async def test_the_queue_says_where_idle_money_stands_and_why_it_is_not_offered(api: Api) -> None:
    ahead = await investor_with(api, "300.00")
    reserve = await investor_with(api, "200.00")
    await _prefer(api, reserve, keep_available="50.00")
    me = await investor_with(api, "400.00")
    body = (await api.client.get(QUEUE, headers=me.headers)).json()
    assert (body["position"], body["reason"]) == (3, None)
    assert (body["ahead_amount"], body["available"]) == ("450.00", "400.00")
    assert body["idle_days"] == 0
    assert body["estimated_deployment"] is None
    assert "no estimate" in body["estimate_basis"]
    # a loan of 100.00 waiting for approval takes four participants: it reaches position 3
    customer = await api.user("customer")
    await new_loan(api, customer, amount="100.00")
    body = (await api.client.get(QUEUE, headers=me.headers)).json()
    assert body["estimated_deployment"] == utc_today().isoformat()
    assert "estimate, not a promise" in body["estimate_basis"]

    await _prefer(api, ahead, active=False)
    assert (await api.client.get(QUEUE, headers=me.headers)).json()["position"] == 2
    for prefs, reason in (
        ({"active": False}, "paused"),
        ({"keep_available": "400.00"}, "reserve"),
    ):
        await _prefer(api, me, **prefs)
        body = (await api.client.get(QUEUE, headers=me.headers)).json()
        assert (body["position"], body["reason"], body["estimated_deployment"]) == (
            None,
            reason,
            None,
        )
    empty = await api.user("investor")
    body = (await api.client.get(QUEUE, headers=empty.headers)).json()
    assert (body["reason"], body["available"], body["idle_since"]) == (
        "nothing_available",
        "0.00",
        None,
    )


async def test_a_full_portfolio_is_not_a_candidate(api: Api) -> None:
    investor = await investor_with(api, "1000.00")
    admin, customer = await api.user("admin"), await api.user("customer")
    await _approve(api, admin, await new_loan(api, customer, amount="100.00"))
    await _prefer(api, investor, max_portfolio="100.00")
    body = (await api.client.get(QUEUE, headers=investor.headers)).json()
    assert (body["position"], body["reason"]) == (None, "portfolio_limit")


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_idle_days_count_from_when_the_money_joined_the_queue(api: Api) -> None:
    investor = await investor_with(api, "100.00")
    admin = await api.user("admin")
    assert (await set_date(api, admin.headers, utc_today() + timedelta(days=12))).status_code == 200
    body = (await api.client.get(QUEUE, headers=investor.headers)).json()
    assert body["idle_days"] == 12
    assert body["idle_since"] is not None


async def test_the_allocatable_money_in_sql_is_the_domain_rule(api: Api) -> None:
    """The queue's SQL (candidates and the money ahead) and the domain agree on every mix."""
    mixes = [
        {},
        {"keep_available": "30.00"},
        {"keep_available": "100.00"},
        {"max_portfolio": "60.00"},
        {"max_portfolio": "50.00"},
        {"max_portfolio": "500.00", "keep_available": "99.99"},
        {"max_per_loan": "1.00", "max_portfolio": "70.00", "keep_available": "20.00"},
    ]
    admin, customer = await api.user("admin"), await api.user("customer")
    investors = [await investor_with(api, "100.00") for _ in mixes]
    await _approve(api, admin, await new_loan(api, customer, amount="350.00"))  # 50.00 each
    expected = {}
    for investor, mix in zip(investors, mixes, strict=True):
        await _prefer(api, investor, **mix)
        figures = await portfolio(api, investor)
        limit = mix.get("max_portfolio")
        prefs = Preferences(
            keep_available=cents(mix.get("keep_available", "0.00")),
            max_portfolio=None if limit is None else cents(limit),
        )
        available, invested = cents(figures["available"]), cents(figures["invested"])
        expected[investor.id] = prefs.allocatable(available, invested)
    async with api.app.state.sessionmaker() as session:
        rows = await session.execute(select(ACCOUNTS.c.investor_id, ALLOCATABLE))
        stored = {str(investor_id): allocatable for investor_id, allocatable in rows}
    assert {i: stored[i] for i in expected} == expected
