"""Model-based test: random sequences of money operations against a simple reference model.

Deposits, withdrawals, applications, approvals, payments, business-date moves and write-offs
run through the real API on a real database; after every step the ledger's invariants
(docs/CONTRACT.md §4) must hold and the money must add up against the model:
Σ investors' (available + invested) = deposits - withdrawals + interest paid - principal lost.
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from bank_api.main import create_app
from tests.support.api import Api
from tests.support.databases import rolled_back, settings_for
from tests.support.factories import Account
from tests.support.http import make_client
from tests.support.money import cents, money

START = date(2030, 1, 15)
STEPS_PER_EXAMPLE = 50


class Harness:
    """One app and one event loop for the whole run; each example runs in a transaction that
    is rolled back before the next one starts."""

    def __init__(self, url: str) -> None:
        self.runner = asyncio.Runner()
        self.app = create_app(settings_for(url, allow_business_date_override=True))
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.run(self.lifespan.__aenter__())
        self.client = make_client(self.app)
        self.api = Api(self.client, self.app)
        self.example: AbstractAsyncContextManager[None] | None = None

    def run(self, coro: Any) -> Any:
        return self.runner.run(coro)

    def reset(self) -> None:
        self.end_example()
        self.example = rolled_back(self.app)
        self.run(self.example.__aenter__())

    def end_example(self) -> None:
        if self.example is not None:
            self.run(self.example.__aexit__(None, None, None))
            self.example = None

    def close(self) -> None:
        self.end_example()
        self.run(self.client.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.runner.close()


HARNESS: Harness | None = None


class CreditPool(RuleBasedStateMachine):
    loans = Bundle("loans")
    funded = Bundle("funded")

    @initialize()
    def setup(self) -> None:
        assert HARNESS is not None
        self.h = HARNESS
        self.h.reset()
        api = self.h.api
        self.admin: Account = self.h.run(api.user("admin"))
        self.investors: list[Account] = [self.h.run(api.user("investor")) for _ in range(3)]
        self.customers: list[Account] = [self.h.run(api.user("customer")) for _ in range(2)]
        self.today = START
        self.call("PUT", "/api/v1/admin/business-date", self.admin, {"date": START.isoformat()})
        self.deposited = self.withdrawn = self.interest = self.lost = 0
        self.owner: dict[str, Account] = {}

    def call(self, method: str, path: str, who: Account, body: Any = None) -> Any:
        return self.h.run(self.h.client.request(method, path, json=body, headers=who.headers))

    def portfolio(self, investor: Account) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", "/api/v1/investments/portfolio", investor).json()
        return body

    def loan(self, loan_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.call("GET", f"/api/v1/loans/{loan_id}", self.admin).json()
        return body

    @rule(who=st.integers(0, 2), amount=st.integers(1, 1_000_000))
    def deposit(self, who: int, amount: int) -> None:
        response = self.call(
            "POST", "/api/v1/investments/deposits", self.investors[who], {"amount": money(amount)}
        )
        assert response.status_code == 201
        self.deposited += amount

    @rule(who=st.integers(0, 2), amount=st.integers(1, 300_000))
    def withdraw(self, who: int, amount: int) -> None:
        available = cents(self.portfolio(self.investors[who])["available"])
        response = self.call(
            "POST",
            "/api/v1/investments/withdrawals",
            self.investors[who],
            {"amount": money(amount)},
        )
        if amount <= available:
            assert response.status_code == 201
            self.withdrawn += amount
        else:
            assert response.json()["code"] == "insufficient_funds"

    @rule(
        target=loans,
        who=st.integers(0, 1),
        amount=st.integers(10_000, 150_000),
        term=st.integers(3, 12),
    )
    def apply(self, who: int, amount: int, term: int) -> str:
        customer = self.customers[who]
        response = self.call(
            "POST",
            "/api/v1/loans",
            customer,
            {"loan_type": "personal_loan", "amount": money(amount), "term_months": term},
        )
        assert response.status_code == 201
        self.owner[response.json()["id"]] = customer
        return str(response.json()["id"])

    @rule(
        target=funded,
        who=st.integers(0, 1),
        amount=st.integers(10_000, 150_000),
        term=st.integers(3, 12),
    )
    def apply_and_approve(self, who: int, amount: int, term: int) -> Any:
        return self.approve(self.apply(who, amount, term))

    @rule(target=funded, loan_id=loans)
    def approve(self, loan_id: str) -> Any:
        before = self.loan(loan_id)
        pool = sum(cents(self.portfolio(i)["available"]) for i in self.investors)
        response = self.call("POST", f"/api/v1/loans/{loan_id}/approve", self.admin)
        if before["status"] not in ("new", "requested"):
            assert response.json()["code"] == "loan_not_approvable"
        elif pool < cents(before["amount"]):
            assert response.json()["code"] == "allocation_not_possible"
        else:
            assert response.status_code == 200, response.text
            return multiple(loan_id)
        return multiple()

    @rule(loan_id=loans)
    def pay_any_loan(self, loan_id: str) -> None:
        self.pay(loan_id, 50, False)

    @rule(loan_id=funded, share=st.integers(1, 100), overpay=st.booleans())
    def pay(self, loan_id: str, share: int, overpay: bool) -> None:
        state = self.loan(loan_id)
        schedule = self.call("GET", f"/api/v1/loans/{loan_id}/schedule", self.admin).json()
        remaining = cents(schedule["totals"]["payable"]) - cents(schedule["totals"]["paid"])
        amount = remaining + 1 if overpay else max(1, remaining * share // 100)
        response = self.call(
            "POST",
            f"/api/v1/loans/{loan_id}/payments",
            self.owner[loan_id],
            {"amount": money(amount)},
        )
        if state["status"] == "closed":
            assert response.json()["code"] == "loan_closed"
        elif state["status"] != "active":
            assert response.json()["code"] == "loan_not_active"
        elif overpay:
            assert response.json()["code"] == "overpayment"
        else:
            assert response.status_code == 201, response.text
            self.interest += cents(response.json()["interest"])
            assert response.json()["loan_status"] == ("closed" if amount == remaining else "active")

    def _refused(self, state: dict[str, Any], response: Any) -> bool:
        """A repayment of a loan that is not active: refused with the right code."""
        if state["status"] == "active":
            return False
        code = "loan_closed" if state["status"] == "closed" else "loan_not_active"
        assert response.json()["code"] == code, response.text
        return True

    @rule(loan_id=funded, share=st.integers(1, 120), keep=st.sampled_from(["term", "payment"]))
    def prepay(self, loan_id: str, share: int, keep: str) -> None:
        state = self.loan(loan_id)
        quote = self.call("GET", f"/api/v1/loans/{loan_id}/payoff", self.admin).json()
        payoff = cents(quote["amount"]) if "amount" in quote else 0
        amount = max(1, payoff * share // 100)
        response = self.call(
            "POST",
            f"/api/v1/loans/{loan_id}/prepayments",
            self.owner[loan_id],
            {"amount": money(amount), "keep": keep},
        )
        if self._refused(state, response):
            return
        if amount > payoff:
            assert response.json()["code"] == "overpayment"
            return
        assert response.status_code == 201, response.text
        body = response.json()
        self.interest += cents(body["interest"])
        assert body["loan_status"] == ("closed" if amount == payoff else "active")
        assert body["schedule"]["totals"]["principal"] == state["amount"]

    @rule(loan_id=funded, stale=st.booleans())
    def settle(self, loan_id: str, stale: bool) -> None:
        state = self.loan(loan_id)
        quote = self.call("GET", f"/api/v1/loans/{loan_id}/payoff", self.admin).json()
        amount = cents(quote["amount"]) + (1 if stale else 0) if "amount" in quote else 1
        response = self.call(
            "POST",
            f"/api/v1/loans/{loan_id}/settlement",
            self.owner[loan_id],
            {"amount": money(amount)},
        )
        if self._refused(state, response):
            return
        if stale:
            assert response.json()["code"] == "payoff_amount_changed"
            return
        assert response.status_code == 201, response.text
        assert (response.json()["loan_status"], response.json()["outstanding"]) == (
            "closed",
            "0.00",
        )
        self.interest += cents(response.json()["interest"])

    @rule(days=st.integers(0, 45))
    def move_date(self, days: int) -> None:
        self.today += timedelta(days=days)
        response = self.call(
            "PUT", "/api/v1/admin/business-date", self.admin, {"date": self.today.isoformat()}
        )
        assert response.status_code == 200

    @rule(loan_id=funded)
    def write_off(self, loan_id: str) -> None:
        state = self.loan(loan_id)
        response = self.call("POST", f"/api/v1/loans/{loan_id}/write-off", self.admin)
        if state["status"] == "active" and state["days_past_due"] >= 90:
            assert response.status_code == 200, response.text
            self.lost += cents(state["outstanding_principal"])
        else:
            assert response.json()["code"] == "loan_not_writable_off"

    @invariant()
    def ledger_holds_and_money_adds_up(self) -> None:
        if not hasattr(self, "admin"):
            return
        verify = self.call("GET", "/api/v1/admin/ledger/verify", self.admin).json()
        assert verify["ok"], verify
        figures = [self.portfolio(i) for i in self.investors]
        held = sum(cents(f["available"]) + cents(f["invested"]) for f in figures)
        assert held == self.deposited - self.withdrawn + self.interest - self.lost
        assert sum(cents(f["losses"]) for f in figures) == self.lost
        assert sum(cents(f["interest_earned"]) for f in figures) == self.interest


@pytest.mark.model_based
@pytest.mark.usefixtures("backend")
def test_credit_pool_against_a_reference_model(backend: str, model_steps: int) -> None:
    """`model_steps` (pytest --model-steps, default a short run) steps in runs of at most 50."""
    global HARNESS
    HARNESS = Harness(backend)
    try:
        run_state_machine_as_test(
            CreditPool,
            settings=settings(
                max_examples=max(1, model_steps // STEPS_PER_EXAMPLE),
                stateful_step_count=min(STEPS_PER_EXAMPLE, model_steps),
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            ),
        )
    finally:
        HARNESS.close()
        HARNESS = None
