"""Classes of hostile input, each tried with many generated values on both databases: the
answer is always a clean 4xx problem (or a correct answer), never a 500, and nothing changes."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bank_api.auth import service as auth_service
from bank_api.domain.schedule import latest_start
from bank_api.errors import AppError
from bank_api.middleware import NUL_MESSAGE
from bank_api.models import BusinessDate, LoanProduct, User
from tests.support.api import Api
from tests.support.factories import Account, user_payload
from tests.support.flows import DATE_OVERRIDE, new_loan, set_date
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")

RNG = random.Random(20261201)
NUL = "\x00"


def with_nul(count: int) -> list[str]:
    """Short texts with a NUL character somewhere: alone, leading, trailing, inside, repeated."""
    base = ["", "a", "abc", "loan", "Jane Doe", "x" * 40, "é漢😀"]
    out = [NUL, NUL * 3, f"a{NUL}", f"{NUL}a", f"ab{NUL}cd"]
    while len(out) < count:
        text = RNG.choice(base)
        cut = RNG.randint(0, len(text))
        out.append(text[:cut] + NUL * RNG.randint(1, 2) + text[cut:])
    return out[:count]


async def _count(api: Api, model: Any) -> int:
    async with api.app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _nul_refused(response: httpx.Response) -> None:
    body = assert_problem(response, 422, "validation_error")
    assert [issue["msg"] for issue in body["errors"]] == [NUL_MESSAGE], body
    assert "\\u0000" not in response.text
    assert NUL not in response.text


Request = Callable[[Api, dict[str, Account], str], Any]

CASES: dict[str, Request] = {
    "register field": lambda api, who, text: api.client.post(
        "/api/v1/auth/register",
        json=user_payload(
            "customer", **{RNG.choice(["username", "full_name", "address", "phone"]): text}
        ),
    ),
    "register password": lambda api, who, text: api.client.post(
        "/api/v1/auth/register", json=user_payload("customer", password="long enough " + text)
    ),
    "profile edit": lambda api, who, text: api.client.patch(
        "/api/v1/users/me",
        headers=who["customer"].headers,
        json={RNG.choice(["full_name", "address", "phone", "username"]): text},
    ),
    "login username": lambda api, who, text: api.token(text, "some password"),
    "login password": lambda api, who, text: api.token(who["customer"].username, text),
    "quote loan type": lambda api, who, text: api.client.get(
        "/api/v1/loans/quote",
        params={"loan_type": text, "amount": "1000.00", "term_months": 12},
        headers=who["customer"].headers,
    ),
    "apply loan type": lambda api, who, text: api.client.post(
        "/api/v1/loans",
        json={"loan_type": text, "amount": "1000.00", "term_months": 12},
        headers=who["customer"].headers,
    ),
    "list filter": lambda api, who, text: api.client.get(
        "/api/v1/loans",
        params={RNG.choice(["loan_type", "created_from", "updated_to", "status"]): text},
        headers=who["admin"].headers,
    ),
    "transactions filter": lambda api, who, text: api.client.get(
        "/api/v1/investments/transactions",
        params={RNG.choice(["from", "to", "type"]): text},
        headers=who["investor"].headers,
    ),
    "product create": lambda api, who, text: api.client.post(
        "/api/v1/admin/loan-products",
        headers=who["admin"].headers,
        json={
            "code": RNG.choice([text, "green_loan"]) if NUL in text else text,
            "name": text,
            "annual_rate": "3.50",
            "min_amount": "1000.00",
            "max_amount": "20000.00",
            "min_term_months": 12,
            "max_term_months": 48,
        },
    ),
    "product path": lambda api, who, text: api.client.patch(
        f"/api/v1/admin/loan-products/{text.replace(NUL, '%00')}",
        headers=who["admin"].headers,
        json={"name": "renamed"},
    ),
    "reject reason": lambda api, who, text: api.client.post(
        f"/api/v1/loans/{who['loan'].id}/reject",
        headers=who["admin"].headers,
        json={"reason": text},
    ),
    "forward note": lambda api, who, text: api.client.post(
        f"/api/v1/loans/{who['loan'].id}/request",
        headers=who["agent"].headers,
        json={"note": text},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_text_with_a_nul_character_is_422_everywhere_and_stores_nothing(
    api: Api, case: str
) -> None:
    who: dict[str, Any] = {role: await api.user(role) for role in ("customer", "admin", "agent")}
    who["investor"] = await api.user("investor")
    loan = await new_loan(api, who["customer"])
    who["loan"] = Account(loan["id"], "", "", "loan", {})
    users, products = await _count(api, User), await _count(api, LoanProduct)
    for text in with_nul(12):
        _nul_refused(await CASES[case](api, who, text))
    assert (await _count(api, User), await _count(api, LoanProduct)) == (users, products)
    after = await api.client.get(f"/api/v1/loans/{loan['id']}", headers=who["admin"].headers)
    assert after.json()["status"] == "new"


async def test_a_nul_escape_that_is_itself_escaped_is_ordinary_text(api: Api) -> None:
    customer = await api.user("customer")
    response = await api.client.patch(
        "/api/v1/users/me",
        headers={**customer.headers, "content-type": "application/json"},
        content=b'{"full_name": "back\\\\u0000slash"}',
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "back\\u0000slash"


async def test_a_failing_insert_never_logs_its_parameters(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A database error during registration (here: the availability check is skipped, so the
    insert hits the unique index) is an opaque 500, and no log line carries the statement's
    parameters: the password hash, the e-mail address or the username."""
    taken = user_payload("customer")
    assert (await api.client.post("/api/v1/auth/register", json=taken)).status_code == 201

    async def skip_check(*_: Any, **__: Any) -> None:
        return None

    monkeypatch.setattr(auth_service, "ensure_available", skip_check)
    caplog.set_level(logging.INFO)  # the service's own level (drivers stay at WARNING)
    again = {**taken, "email": "other." + taken["email"]}
    assert_problem(
        await api.client.post("/api/v1/auth/register", json=again), 500, "internal_error"
    )
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {vars(record)}" for record in caplog.records
    )
    assert "unexpected database error" in logged
    for secret in ("$argon2", again["email"], taken["username"].lower(), again["password"]):
        assert secret not in logged


EDGES = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59.999999-01:00",
    "9999-12-31T23:59:59.999999+01:00",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00-05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("name", ["created_from", "created_to", "updated_from", "updated_to"])
async def test_date_bounds_at_the_calendar_edges_are_answered(api: Api, name: str) -> None:
    customer = await api.user("customer")
    admin = await api.user("admin")
    await new_loan(api, customer)
    for value in EDGES:
        response = await api.client.get(
            "/api/v1/loans", params={name: value}, headers=admin.headers
        )
        assert response.status_code == 200, (value, response.text)
        upper = name.endswith("_to")
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        early = moment.year == 1
        # a lower bound at the start of time, or an upper bound at its end, keeps the loan
        expected = 1 if (early and not upper) or (not early and upper) else 0
        assert response.json()["total"] == expected, (name, value, response.json())


async def test_transaction_date_bounds_at_the_calendar_edges_are_answered(api: Api) -> None:
    investor = await api.user("investor")
    deposit = await api.client.post(
        "/api/v1/investments/deposits", json={"amount": "10.00"}, headers=investor.headers
    )
    assert deposit.status_code == 201
    for value in EDGES:
        for name in ("from", "to"):
            response = await api.client.get(
                "/api/v1/investments/transactions", params={name: value}, headers=investor.headers
            )
            assert response.status_code == 200, (name, value, response.text)
            early = value.startswith("0001")
            expected = 1 if (early and name == "from") or (not early and name == "to") else 0
            assert response.json()["total"] == expected, (name, value)


async def _store_business_date(api: Api, day: date) -> None:
    """Past what `PUT /admin/business-date` accepts: as if the clock itself were there."""
    async with api.app.state.sessionmaker() as session:
        row = await session.get(BusinessDate, 1)
        if row is None:
            session.add(BusinessDate(id=1, value=day))
        else:
            row.value = day
        await session.commit()


@pytest.mark.parametrize("settings_overrides", DATE_OVERRIDE)
async def test_a_business_date_near_the_end_of_the_calendar_is_refused_cleanly(api: Api) -> None:
    admin = await api.user("admin")
    customer = await api.user("customer")
    agent = await api.user("agent")
    loan = await new_loan(api, customer, term_months=12)
    last = latest_start(360)
    assert (await set_date(api, admin.headers, last)).status_code == 200
    days = sorted({RNG.randint(1, (date.max - last).days) for _ in range(10)} | {1})
    for ahead in days:
        refused = await set_date(api, admin.headers, last + timedelta(days=ahead))
        assert "9999-12-31" in assert_problem(refused, 422, "schedule_beyond_calendar")["detail"]
    loans_before = (await api.client.get("/api/v1/loans", headers=admin.headers)).json()["total"]
    last_for_12 = latest_start(12)  # past it, neither a 12- nor a 60-month schedule fits
    for ahead in sorted({RNG.randint(1, (date.max - last_for_12).days) for _ in range(8)} | {1}):
        await _store_business_date(api, last_for_12 + timedelta(days=ahead))
        terms = {"loan_type": "personal_loan", "amount": "1000.00", "term_months": 60}
        for response in (
            await api.client.get("/api/v1/loans/quote", params=terms, headers=customer.headers),
            await api.client.post("/api/v1/loans", json=terms, headers=customer.headers),
            await api.client.patch(
                f"/api/v1/loans/{loan['id']}", json={"term_months": 60}, headers=agent.headers
            ),
            await api.client.get(f"/api/v1/loans/{loan['id']}/schedule", headers=customer.headers),
        ):
            assert_problem(response, 422, "schedule_beyond_calendar")  # never the body
    after = await api.client.get("/api/v1/loans", headers=admin.headers)
    assert after.json()["total"] == loans_before
    stored = await api.client.get(f"/api/v1/loans/{loan['id']}", headers=admin.headers)
    assert stored.json()["term_months"] == 12


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/x-foo"])
@pytest.mark.parametrize("depth", [1_000, 5_000, 50_000])
async def test_a_deeply_nested_body_on_an_idempotent_route_is_422(
    api: Api, content_type: str, depth: int
) -> None:
    investor = await api.user("investor")
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        body = (opener * depth + "1" + closer * depth).encode()
        response = await api.client.post(
            "/api/v1/investments/deposits",
            content=body,
            headers={
                **investor.headers,
                "content-type": content_type,
                "Idempotency-Key": f"deep-{depth}-{opener}",
            },
        )
        assert_problem(response, 422, "validation_error")
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "0.00"


class Undescribed(AppError):
    """An application error nobody put in the problem table."""


async def test_an_error_the_service_cannot_describe_is_an_opaque_500(api: Api) -> None:
    @api.app.get("/api/v1/test-only/undescribed")
    async def undescribed() -> None:
        raise Undescribed("internal detail that must not leak")

    response = await api.client.get("/api/v1/test-only/undescribed")
    body = assert_problem(response, 500, "internal_error")
    assert "internal detail" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]
