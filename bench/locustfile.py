"""Locust scenarios against a running bank-api (driven by bench/harness.py, one run per
scenario and concurrency level, in its own process).

Environment: BENCH_SCENARIO (reads, deposits, withdrawals, applications, approvals, payments, mixed,
login, and the small requests me, own-loans, portfolio), BENCH_TARGETS (targets.json written
by the harness), BENCH_OUT (result JSON), BENCH_WARMUP (seconds not counted),
BENCH_LOGIN_USERS (login scenario: how many of the users log in; the rest read).

Latency is measured here, around each request, and only requests that finish after the
warm-up count. A response is an error unless its status is the one the scenario expects or a
deliberate refusal named in REFUSALS (reported apart, never hidden).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from typing import Any, NoReturn

from locust import FastHttpUser, events, task
from locust.exception import StopUser

SCENARIO = os.environ.get("BENCH_SCENARIO", "reads")
WARMUP = float(os.environ.get("BENCH_WARMUP", "3"))
LOGIN_USERS = int(os.environ.get("BENCH_LOGIN_USERS", "8"))
PASSWORD = "bench-password-1"  # noqa: S105 - the seeded users' password (bench/seed.py)
# Refusals the API is right to give under load: the pool cannot fund one more loan; a login
# that found no hashing thread within BANK_API_HASH_WAIT_MS (503 hashing_busy).
REFUSALS = {"allocation_not_possible", "insufficient_funds", "hashing_busy"}

with open(os.environ.get("BENCH_TARGETS", "targets.json"), encoding="utf-8") as handle:
    TARGETS: dict[str, Any] = json.load(handle)

samples: dict[str, list[float]] = defaultdict(list)
errors: Counter[str] = Counter()
refusals: Counter[str] = Counter()
error_samples: list[str] = []
clock = {"start": time.perf_counter(), "stop": 0.0}
approvable = list(TARGETS["approvable"])
# The loans with installments left to pay, in line: each payment pays the next installment of
# the loan at the front and puts it back at the end (shuffled at the start).
payable: deque[dict[str, Any]] = deque(TARGETS["payable"])
# Applications ask for the products in the seed's shares (bench/seed.py PRODUCTS), so the loans
# the later runs approve and pay are funded by as many investors as the seeded ones.
PRODUCTS: list[list[Any]] = TARGETS["products"]
PRODUCT_SHARES = [share for _, share, *_ in PRODUCTS]


def ran_out() -> NoReturn:
    """No loan is left to approve or pay: this client stops, and the measured window ends when
    the first one did (the others finish what they hold), so the rate is that of the time the
    work lasted, not of a window partly idle. The result says the supply ran out."""
    clock["stop"] = clock["stop"] or time.perf_counter()
    raise StopUser


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class Client(FastHttpUser):
    abstract = True

    def call(self, name: str, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        began = time.perf_counter()
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            ended = time.perf_counter()
            status = r.status_code
            try:
                body = r.json() if status and r.text else {}
            except ValueError:  # not the API's JSON: a proxy's error page, a cut-off answer
                body, status = {}, -abs(status or 0)
            code = body.get("code") if isinstance(body, dict) else None
            if status == expect:
                r.success()
            elif code in REFUSALS:
                refusals[code] += 1
                r.success()
                return None
            else:
                errors[name] += 1
                if len(error_samples) < 10:
                    error_samples.append(f"{name}: {status} {(r.text or str(r.error))[:300]}")
                r.failure(f"{status} {code}")
                return None
        if ended - clock["start"] >= WARMUP and not (clock["stop"] and ended > clock["stop"]):
            samples[name].append((ended - began) * 1000)
        return body

    # -- reads ------------------------------------------------------------------------------

    def portfolio(self) -> None:
        investor = random.choice(TARGETS["investors"])
        self.call(
            "portfolio",
            "GET",
            "/api/v1/investments/portfolio",
            200,
            headers=bearer(investor["token"]),
        )

    def loan_list(self) -> None:
        if random.random() < 0.5:
            customer = random.choice(TARGETS["customers"])
            status = random.choice(["active", "new", "closed"])
            path, token = f"/api/v1/loans?status={status}&limit=20", customer["token"]
        else:
            agent = random.choice(TARGETS["agents"])
            status = random.choice(["new", "requested", "active"])
            day = random.randint(1, 300)
            frm = time.strftime("%Y-%m-%d", time.gmtime(time.time() - (day + 30) * 86400))
            to = time.strftime("%Y-%m-%d", time.gmtime(time.time() - day * 86400))
            path = f"/api/v1/loans?status={status}&created_from={frm}&created_to={to}&limit=50"
            token = agent["token"]
        self.call("loan list (filtered)", "GET", path, 200, headers=bearer(token))

    def schedule(self) -> None:
        loan = random.choice(TARGETS["readable"])
        self.call(
            "schedule",
            "GET",
            f"/api/v1/loans/{loan['loan_id']}/schedule",
            200,
            headers=bearer(loan["token"]),
        )

    def investor_read(self) -> None:
        """One of the investor's own views (issue 16): where their money stands and earns."""
        investor = random.choice(TARGETS["investors"])
        name, path = random.choice(
            (
                ("investor queue", "/api/v1/investments/queue"),
                ("investor returns", "/api/v1/investments/returns"),
                ("investor statement", "/api/v1/investments/statement"),
                ("investor allocations", "/api/v1/investments/allocations?limit=20"),
                ("investor preferences", "/api/v1/investments/preferences"),
            )
        )
        self.call(name, "GET", path, 200, headers=bearer(investor["token"]))

    def read(self) -> None:
        random.choice((self.portfolio, self.loan_list, self.schedule, self.investor_read))()

    def me(self) -> None:
        user = random.choice(TARGETS["customers"])
        self.call("users/me", "GET", "/api/v1/users/me", 200, headers=bearer(user["token"]))

    def own_loans(self) -> None:
        """A customer's own loans, a page of 20, no filter (one of the minimal app's routes)."""
        customer = random.choice(TARGETS["customers"])
        path, token = "/api/v1/loans?limit=20", customer["token"]
        self.call("own loans", "GET", path, 200, headers=bearer(token))

    # -- writes -----------------------------------------------------------------------------

    def idempotent(self, token: str) -> dict[str, str]:
        return {**bearer(token), "Idempotency-Key": uuid.uuid4().hex}

    def deposit(self) -> None:
        investor = random.choice(TARGETS["investors"])
        self.call(
            "deposit",
            "POST",
            "/api/v1/investments/deposits",
            201,
            json={"amount": money(random.randint(1_000, 100_000))},
            headers=self.idempotent(investor["token"]),
        )

    def withdraw(self) -> None:
        investor = random.choice(TARGETS["investors"])
        self.call(
            "withdrawal",
            "POST",
            "/api/v1/investments/withdrawals",
            201,
            json={"amount": money(random.randint(1_000, 10_000))},
            headers=self.idempotent(investor["token"]),
        )

    def apply(self) -> None:
        customer = random.choice(TARGETS["customers"])
        loan_type, _, low, high, short, long = random.choices(PRODUCTS, PRODUCT_SHARES)[0]
        body = {
            "loan_type": loan_type,
            "amount": money(random.randint(low, high) * 100),
            "term_months": random.randint(short, long),
        }
        self.call(
            "apply", "POST", "/api/v1/loans", 201, json=body, headers=bearer(customer["token"])
        )

    def approve(self) -> None:
        if not approvable:
            ran_out()
        loan_id = approvable.pop()
        headers = self.idempotent(TARGETS["admin"]["token"])
        self.call("approve", "POST", f"/api/v1/loans/{loan_id}/approve", 200, headers=headers)

    def pay(self) -> None:
        """Pay the next installment of the loan at the front of the line (the exact amount due)
        and put the loan back at the end if it has more to pay. Payments spread over all the
        loans, as the ceiling's do, and the line is far longer than the clients, so no loan has
        two payments in flight. (Paying off one loan installment after installment weighed the
        long loans, funded by the most investors: 73.5 holders a payment in the full run of
        2026-12-07 at 20:11 against the book's 45.)"""
        if not payable:
            ran_out()
        loan = payable.popleft()
        self.call(
            "pay",
            "POST",
            f"/api/v1/loans/{loan['loan_id']}/payments",
            201,
            json={"amount": money(loan["due"].pop(0))},
            headers=self.idempotent(loan["token"]),
        )
        if loan["due"]:
            payable.append(loan)

    def login(self) -> None:
        user = random.choice(TARGETS["investors"] + TARGETS["customers"])
        self.call(
            "login",
            "POST",
            "/api/v1/auth/token",
            200,
            data={"username": user["username"], "password": PASSWORD},
        )


class Reads(Client):
    @task
    def work(self) -> None:
        self.read()


class Deposits(Client):
    @task
    def work(self) -> None:
        self.deposit()


class Withdrawals(Client):
    @task
    def work(self) -> None:
        self.withdraw()


class Applications(Client):
    @task
    def work(self) -> None:
        self.apply()


class Approvals(Client):
    @task
    def work(self) -> None:
        self.approve()


class Payments(Client):
    @task
    def work(self) -> None:
        self.pay()


class Mixed(Client):
    """70 % reads, 30 % writes (deposits 10, payments 10, applications 6, approvals 4)."""

    @task(70)
    def reads(self) -> None:
        self.read()

    @task(10)
    def deposits(self) -> None:
        self.deposit()

    @task(10)
    def payments(self) -> None:
        self.pay()

    @task(6)
    def applications(self) -> None:
        self.apply()

    @task(4)
    def approvals(self) -> None:
        if approvable:
            self.approve()


class BurstReader(Client):
    """The login scenario's readers: the portfolio, while other users log in."""

    @task
    def work(self) -> None:
        self.portfolio()


class Me(Client):
    @task
    def work(self) -> None:
        self.me()


class OwnLoans(Client):
    @task
    def work(self) -> None:
        self.own_loans()


class Portfolio(Client):
    @task
    def work(self) -> None:
        self.portfolio()


class BurstLogin(Client):
    fixed_count = LOGIN_USERS

    @task
    def work(self) -> None:
        self.login()


USERS = {
    "reads": [Reads],
    "deposits": [Deposits],
    "withdrawals": [Withdrawals],
    "applications": [Applications],
    "approvals": [Approvals],
    "payments": [Payments],
    "mixed": [Mixed],
    "login": [BurstReader, BurstLogin],
    "login-baseline": [BurstReader],
    "me": [Me],
    "own-loans": [OwnLoans],
    "portfolio": [Portfolio],
}
for _cls in (
    Reads,
    Deposits,
    Withdrawals,
    Applications,
    Approvals,
    Payments,
    Mixed,
    BurstReader,
    BurstLogin,
    Me,
    OwnLoans,
    Portfolio,
):
    _cls.abstract = _cls not in USERS[SCENARIO]
del _cls  # locust collects user classes from module globals: keep no second name for one


@events.test_start.add_listener
def _start(**_: Any) -> None:
    clock["start"] = time.perf_counter()
    in_line = list(payable)
    random.shuffle(in_line)
    payable.clear()
    payable.extend(in_line)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(share * len(ordered)) - 1)  # nearest rank
    return round(ordered[rank], 2)


def summary(values: list[float], window: float) -> dict[str, Any]:
    if not values:
        return {"requests": 0, "rps": 0.0}
    return {
        "requests": len(values),
        "rps": round(len(values) / window, 1),
        "p50_ms": percentile(values, 0.50),
        "p95_ms": percentile(values, 0.95),
        "p99_ms": percentile(values, 0.99),
        "max_ms": round(max(values), 2),
    }


@events.quitting.add_listener
def _write(**_: Any) -> None:
    window = max(0.001, (clock["stop"] or time.perf_counter()) - clock["start"] - WARMUP)
    everything = [v for name in samples for v in samples[name]]
    result = {
        "scenario": SCENARIO,
        "window_s": round(window, 2),
        "total": summary(everything, window),
        "by_request": {name: summary(values, window) for name, values in sorted(samples.items())},
        "errors": sum(errors.values()),
        "errors_by_request": dict(errors),
        "refusals": dict(refusals),
        "error_samples": error_samples,
        "exhausted": bool(clock["stop"]),
    }
    with open(os.environ.get("BENCH_OUT", "result.json"), "w", encoding="utf-8") as out:
        json.dump(result, out, indent=2)
