from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.http import assert_problem

pytestmark = pytest.mark.usefixtures("backend")

DEPOSITS = "/api/v1/investments/deposits"


async def test_a_replayed_deposit_has_one_effect_and_the_first_response(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "deposit-0001"}
    first = await api.client.post(DEPOSITS, json={"amount": "250.00"}, headers=headers)
    second = await api.client.post(
        DEPOSITS,
        content=b'{ "amount" : "250.00" }',
        headers={**headers, "content-type": "application/json"},
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    portfolio = await api.client.get("/api/v1/investments/portfolio", headers=investor.headers)
    assert portfolio.json()["available"] == "250.00"
    lines = await api.client.get("/api/v1/investments/transactions", headers=investor.headers)
    assert lines.json()["total"] == 1


async def test_same_key_with_another_body_is_422(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "k-1"}
    await api.client.post(DEPOSITS, json={"amount": "10.00"}, headers=headers)
    other = await api.client.post(DEPOSITS, json={"amount": "11.00"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    other_path = await api.client.post(
        "/api/v1/investments/withdrawals", json={"amount": "10.00"}, headers=headers
    )
    assert_problem(other_path, 422, "idempotency_key_reused")


async def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    first = await api.user("investor")
    second = await api.user("investor")
    for investor in (first, second):
        response = await api.client.post(
            DEPOSITS,
            json={"amount": "5.00"},
            headers={**investor.headers, "Idempotency-Key": "same"},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers


async def test_a_refused_request_releases_its_key(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "withdraw-1"}
    refused = await api.client.post(
        "/api/v1/investments/withdrawals", json={"amount": "5.00"}, headers=headers
    )
    assert_problem(refused, 409, "insufficient_funds")
    await api.client.post(DEPOSITS, json={"amount": "5.00"}, headers=investor.headers)
    retried = await api.client.post(
        "/api/v1/investments/withdrawals", json={"amount": "5.00"}, headers=headers
    )
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


@pytest.mark.parametrize("key", [b"", b"x" * 256, "bad\u00e9key".encode("latin-1"), b"tab\tkey"])
async def test_malformed_keys_are_422(api: Api, key: bytes) -> None:
    investor = await api.user("investor")
    response = await api.client.post(
        DEPOSITS, json={"amount": "5.00"}, headers={**investor.headers, "Idempotency-Key": key}
    )
    assert_problem(response, 422, "validation_error")
