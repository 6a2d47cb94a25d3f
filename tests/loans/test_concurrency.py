"""Row locks around check-then-act, proven on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.api import Api
from tests.support.flows import new_loan

pytestmark = [pytest.mark.postgres_only, pytest.mark.real_commits]


@pytest.mark.usefixtures("backend")
async def test_two_concurrent_edits_both_land_in_history_in_order(api: Api) -> None:
    customer = await api.user("customer")
    first_agent = await api.user("agent")
    second_agent = await api.user("agent")
    for _ in range(5):
        loan = await new_loan(api, customer)
        path = f"/api/v1/loans/{loan['id']}"
        one, two = await asyncio.gather(
            api.client.patch(path, headers=first_agent.headers, json={"amount": "2000.00"}),
            api.client.patch(path, headers=second_agent.headers, json={"term_months": 24}),
        )
        assert (one.status_code, two.status_code) == (200, 200)
        events = (await api.client.get(f"{path}/history", headers=customer.headers)).json()
        edits = [e for e in events if e["event"] == "edited"]
        assert len(edits) == 2
        # Replaying the recorded changes in id order reproduces the final loan: each edit saw
        # the state the previous one left.
        state: dict[str, object] = {"amount": "10000.00", "term_months": 12}
        for edit in edits:
            for field, change in edit["changes"].items():
                if field in state:
                    assert change["from"] == state[field]
                    state[field] = change["to"]
        final = (await api.client.get(path, headers=customer.headers)).json()
        assert (final["amount"], final["term_months"]) == ("2000.00", 24)
        assert state == {"amount": "2000.00", "term_months": 24}


@pytest.mark.usefixtures("backend")
async def test_an_edit_racing_a_reject_never_lands_after_it(api: Api) -> None:
    customer = await api.user("customer")
    agent = await api.user("agent")
    admin = await api.user("admin")
    outcomes = set()
    for _ in range(10):
        loan = await new_loan(api, customer)
        path = f"/api/v1/loans/{loan['id']}"
        edit, reject = await asyncio.gather(
            api.client.patch(path, headers=agent.headers, json={"amount": "3000.00"}),
            api.client.post(f"{path}/reject", headers=admin.headers, json={"reason": "no"}),
        )
        assert reject.status_code == 200
        assert edit.status_code in (200, 409)
        events = [
            e["event"]
            for e in (await api.client.get(f"{path}/history", headers=admin.headers)).json()
        ]
        final = (await api.client.get(path, headers=admin.headers)).json()
        assert final["status"] == "rejected"
        if edit.status_code == 200:
            assert events == ["created", "edited", "rejected"]
            assert final["amount"] == "3000.00"
        else:
            assert edit.json()["code"] == "loan_not_editable"
            assert events == ["created", "rejected"]
            assert final["amount"] == "10000.00"
        outcomes.add(edit.status_code)
    assert outcomes <= {200, 409}
