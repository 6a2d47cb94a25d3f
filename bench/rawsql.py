"""Raw-SQL baseline: the API's database work for one request, straight through asyncpg.

The benchmark compares the HTTP API's throughput with what the database alone allows. This
script does, per operation, **the same database work** the API does for one request of the
scenario: the same reads, the same row locks (in the same order), the same rows written with
the same values, split into the same transactions, and the same retry on SQLSTATE 40001/40P01
(up to 5 attempts, jittered back-off, as `bank_api.retry`). The money rules are the project's
own pure domain (`bank_api.domain`: `allocate`, `build_schedule`, `apply_payment`,
`distribute_payment`, the journal entry builders), so every row is one the API could have
written and `bank-api ledger verify` holds after any run.

Per operation, two transactions, as `current_principal` and `Idempotent.run` do:

1. authentication: re-read the caller's user row by id (status and role are checked);
2. the money transaction, which starts by claiming the `Idempotency-Key` (a fresh random one:
   a transaction advisory lock taken without waiting, and a look for its record) and ends by
   inserting the idempotency record with the status code and a compact JSON response body of
   the same fields as the API's. A refusal (4xx) or an error rolls it all back.

Scenarios (statements of transaction 2, after the claim, in order):

* ``deposits`` (`POST /investments/deposits`): lock the investor's account row; update its
  balance; insert the journal entry and its lines; the two portfolio reads of the response
  (active allocations, overdue holdings); complete the idempotency record.
* ``payments`` (`POST /loans/{id}/payments`, by the owning customer): lock the loan (owner
  only); lock and read its installments; lock its allocations; insert the payment; update the
  installments, then the allocations (one `UPDATE ... FROM unnest` each); lock the investors'
  accounts in id order; update them; insert the journal entry and lines; complete the record;
  update the loan; insert the loan event(s) (`payment`, and `closed` at payoff).
* ``approvals`` (`POST /loans/{id}/approve`, by an admin): lock the loan; read the allocation
  queue; allocate; lock the chosen investors in id order and re-check (re-allocating if they
  moved); insert allocations; update balances; insert the journal entry and lines; insert the
  installments (schedule from the UTC business date); complete the record; update the loan;
  insert the `approved` event.

Multi-row work is one statement each (`INSERT ... SELECT FROM unnest(...)`,
`UPDATE ... FROM unnest(...)`) on prepared statements. Deliberately **not** included, because
they are not database work a hand-written service needs: HTTP parsing and routing, pydantic
validation and JSON rendering (the stored response body is built from a plain dict), JWT
decoding (the caller's id is taken from targets.json; the user row is still re-read), the ORM
(unit of work, identity map, flushes), and these artefacts of it that the API sends to the
server: the connection pool's pre-ping on every checkout, explicit BEGIN/ROLLBACK around the
read-only authentication, the separate `SELECT installment.number ... FOR UPDATE` before
reading the same rows, the `UPDATE journal_entry SET payment_id` after its INSERT (set in the
INSERT here), and the journal lines, allocations and installments sent as one execution per
row (`executemany`) instead of one multi-row INSERT.

Each task owns one connection (one session), like one API worker's request at a time; the
tasks are spread over ``--processes`` worker processes like uvicorn workers. Counted in the
result: operations that finish inside the measured window (after ``--warmup``, before its
end); ``requests`` and the latency percentiles are the successful ones, ``refusals`` the 4xx
answers by code; ``errors`` are unexpected exceptions over the whole run, warm-up included, so
none is hidden. Money is integer cents throughout; no float ever holds an amount.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import multiprocessing as mp
import queue
import random
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]

from bank_api.domain import ledger
from bank_api.domain.allocation import AllocationPolicy, allocate
from bank_api.domain.delinquency import NPL_DAYS_PAST_DUE
from bank_api.domain.distribution import Holding, InvestorPayment, distribute_payment
from bank_api.domain.errors import AllocationNotPossible, Overpayment
from bank_api.domain.payments import Paid, PaymentApplication, apply_payment
from bank_api.domain.schedule import Installment as Planned
from bank_api.domain.schedule import Schedule, ScheduleType, build_schedule
from bank_api.investments.repository import ALLOCATION_QUEUE_LOCK
from bank_api.loans.service import TRACKED  # the fields a loan event records changes of

T = TypeVar("T")
Connection = Any  # asyncpg ships no type information
Record = Any  # asyncpg.Record: by column name or position

SCENARIOS = ("deposits", "payments", "approvals")
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
ATTEMPTS = 5  # bank_api.retry.ATTEMPTS and bank_api.loans.approval.ATTEMPTS
CURRENCY = "USD"
DEPOSIT_CENTS = (1_000, 100_000)  # 10.00 .. 1,000.00
EDITABLE = frozenset({"new", "requested"})
SERVER_SETTINGS = {  # as bank_api.database.create_engine
    "statement_timeout": "15000",
    "timezone": "UTC",
    "application_name": "bank-api-rawsql",
}
START_TIMEOUT_S = 120.0
MAX_SAMPLES = 5
PRINTED_ERRORS = 3

# --- statements: authentication and idempotency -------------------------------------------

SQL_USER = "SELECT id, username, role, status, tokens_valid_after FROM user_account WHERE id = $1"
SQL_CLAIM = "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))"
SQL_RECORD = """
SELECT request_hash, status_code FROM idempotency_record WHERE user_id = $1 AND key = $2"""
SQL_COMPLETE = """
INSERT INTO idempotency_record (user_id, key, request_hash, status_code, response_body, created_at)
VALUES ($1, $2, $3, $4, $5, $6)"""

# --- statements: journal --------------------------------------------------------------------

SQL_INSERT_ENTRY = """
INSERT INTO journal_entry (kind, created_at, investor_id, loan_id, payment_id)
VALUES ($1, $2, $3, $4, $5) RETURNING id"""
SQL_INSERT_LINES = """
INSERT INTO journal_line (entry_id, account_kind, owner_id, amount, purpose, loan_id, created_at)
SELECT $1::bigint, l.kind, l.owner, l.amount, l.purpose, $6::uuid, $7::timestamptz
FROM unnest($2::varchar[], $3::uuid[], $4::bigint[], $5::varchar[])
    AS l(kind, owner, amount, purpose)"""

# --- statements: deposits ---------------------------------------------------------------------

SQL_LOCK_ACCOUNT = """
SELECT investor_id, available, invested, interest_earned, losses, queued_at, updated_at
FROM investor_account WHERE investor_id = $1 FOR UPDATE"""
SQL_DEPOSIT_ACCOUNT = """
UPDATE investor_account SET available = $2, queued_at = $3, updated_at = $4
WHERE investor_id = $1"""
SQL_ACTIVE_ALLOCATIONS = """
SELECT count(*) FROM allocation JOIN loan ON loan.id = allocation.loan_id
WHERE allocation.investor_id = $1 AND loan.status = $2"""
SQL_OVERDUE_HOLDINGS = """
SELECT late.since, allocation.amount - allocation.principal_received - allocation.loss
FROM (
    SELECT installment.loan_id AS loan_id, min(installment.due_date) AS since
    FROM installment JOIN loan ON loan.id = installment.loan_id
    WHERE loan.status = $1 AND installment.due_date < $2
      AND (installment.paid_principal < installment.principal
           OR installment.paid_interest < installment.interest)
      AND installment.loan_id IN (SELECT loan_id FROM allocation WHERE investor_id = $3)
    GROUP BY installment.loan_id
) AS late JOIN allocation ON allocation.loan_id = late.loan_id
WHERE allocation.investor_id = $3"""

# --- statements: loans (payments and approvals) -----------------------------------------------

SQL_LOCK_LOAN = """
SELECT id, customer_id, agent_id, loan_type, amount, term_months, annual_rate_bp, schedule_type,
       monthly_payment, total_interest, total_payable, status, outstanding_principal,
       rejection_reason, created_at, updated_at, approved_at, closed_at
FROM loan WHERE id = $1 FOR UPDATE"""
SQL_LOCK_OWN_LOAN = """
SELECT id, customer_id, agent_id, loan_type, amount, term_months, annual_rate_bp, schedule_type,
       monthly_payment, total_interest, total_payable, status, outstanding_principal,
       rejection_reason, created_at, updated_at, approved_at, closed_at
FROM loan WHERE id = $1 AND customer_id = $2 FOR UPDATE"""
SQL_LOCK_INVESTORS = """
SELECT investor_id, available FROM investor_account
WHERE investor_id = ANY($1::uuid[]) ORDER BY investor_id FOR UPDATE"""
SQL_INSERT_EVENTS = """
INSERT INTO loan_event (loan_id, at, actor_id, actor_role, event, changes, note)
SELECT $1::uuid, $2::timestamptz, $3::uuid, $4::varchar, e.event, e.changes::json, e.note
FROM unnest($5::varchar[], $6::text[], $7::text[]) AS e(event, changes, note)"""

SQL_LOCK_INSTALLMENTS = """
SELECT number, due_date, principal, interest, paid_principal, paid_interest
FROM installment WHERE loan_id = $1 ORDER BY number FOR UPDATE"""
SQL_LOCK_HOLDINGS = """
SELECT investor_id, amount, principal_received, interest_received
FROM allocation WHERE loan_id = $1 ORDER BY investor_id FOR UPDATE"""
SQL_INSERT_PAYMENT = """
INSERT INTO payment (id, loan_id, payer_id, amount, principal, interest, applied, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8)"""
SQL_PAY_INSTALLMENTS = """
UPDATE installment SET paid_principal = installment.paid_principal + v.principal,
                       paid_interest = installment.paid_interest + v.interest
FROM unnest($2::integer[], $3::bigint[], $4::bigint[]) AS v(number, principal, interest)
WHERE installment.loan_id = $1 AND installment.number = v.number"""
SQL_PAY_ALLOCATIONS = """
UPDATE allocation SET principal_received = allocation.principal_received + v.principal,
                      interest_received = allocation.interest_received + v.interest
FROM unnest($2::uuid[], $3::bigint[], $4::bigint[]) AS v(investor_id, principal, interest)
WHERE allocation.loan_id = $1 AND allocation.investor_id = v.investor_id"""
SQL_PAY_INVESTORS = """
UPDATE investor_account
SET available = investor_account.available + v.principal + v.interest,
    invested = investor_account.invested - v.principal,
    interest_earned = investor_account.interest_earned + v.interest,
    queued_at = CASE WHEN investor_account.available = 0 THEN $4::timestamptz
                     ELSE investor_account.queued_at END,
    updated_at = $4::timestamptz
FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS v(investor_id, principal, interest)
WHERE investor_account.investor_id = v.investor_id"""
SQL_ADVANCE_LOAN = """
UPDATE loan SET outstanding_principal = $2, status = $3, closed_at = $4, updated_at = $5
WHERE id = $1"""

SQL_QUEUE = """
SELECT investor_id, available FROM investor_account
WHERE available > $1 ORDER BY queued_at, investor_id"""
SQL_INSERT_ALLOCATIONS = """
INSERT INTO allocation
    (loan_id, investor_id, amount, principal_received, interest_received, loss, created_at)
SELECT $1::uuid, p.investor_id, p.amount, 0, 0, 0, $4::timestamptz
FROM unnest($2::uuid[], $3::bigint[]) AS p(investor_id, amount)"""
SQL_FUND_INVESTORS = """
UPDATE investor_account
SET available = investor_account.available - v.part,
    invested = investor_account.invested + v.part,
    queued_at = CASE WHEN investor_account.available = v.part THEN NULL
                     ELSE investor_account.queued_at END,
    updated_at = $3::timestamptz
FROM unnest($1::uuid[], $2::bigint[]) AS v(investor_id, part)
WHERE investor_account.investor_id = v.investor_id"""
SQL_INSERT_INSTALLMENTS = """
INSERT INTO installment
    (loan_id, number, due_date, principal, interest, paid_principal, paid_interest)
SELECT $1::uuid, i.number, i.due_date, i.principal, i.interest, 0, 0
FROM unnest($2::integer[], $3::date[], $4::bigint[], $5::bigint[])
    AS i(number, due_date, principal, interest)"""
SQL_APPROVE_LOAN = """
UPDATE loan SET status = $2, outstanding_principal = $3, monthly_payment = $4,
                total_interest = $5, total_payable = $6, approved_at = $7, updated_at = $7
WHERE id = $1"""


class Refusal(Exception):
    """A business refusal the API answers with a 4xx: counted by code, not an error."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- small helpers ----------------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(UTC)


def business_date() -> date:
    """`common.clock.business_date` with the override setting off: the UTC date."""
    return utcnow().date()


def money(cents: int) -> str:
    """12345 -> "123.45" (as `common.money.format_cents`)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a `Z`, as the API renders datetimes."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def request_hash(method: str, path: str, body: Any) -> str:
    """`idempotency.request_hash` of a JSON body (None: no body)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def stored_json(value: Any) -> str:
    """How SQLAlchemy's JSON type serialises `changes` and `applied` (default separators)."""
    return json.dumps(value)


def as_json(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def tracked_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`loans.service.changes_between`: {field: {from, to}} for the tracked fields that moved."""
    return {
        name: {"from": as_json(before[name]), "to": as_json(after[name])}
        for name in TRACKED
        if before[name] != after[name]
    }


# --- authentication, idempotency, retry -------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One idempotent API request: the caller (and the role the route requires) and its key."""

    user_id: uuid.UUID
    role: str
    key: str
    digest: str


def new_request(user_id: uuid.UUID, role: str, path: str, body: Any) -> Request:
    return Request(user_id, role, uuid.uuid4().hex, request_hash("POST", path, body))


async def authenticate(conn: Connection, request: Request) -> None:
    """`current_principal` + the route's role guard: the user row, re-read every request."""
    user = await conn.fetchrow(SQL_USER, request.user_id)
    if user is None or user["status"] != "active":
        raise Refusal("not_authenticated")
    if user["role"] != request.role:
        raise Refusal("forbidden")


async def retrying(work: Callable[[], Awaitable[T]]) -> T:
    """`bank_api.retry.retrying`: run again on a serialization failure or a deadlock."""
    for attempt in range(ATTEMPTS):
        try:
            return await work()
        except asyncpg.PostgresError as error:
            if getattr(error, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise Refusal("transaction_conflict")


async def idempotent(
    conn: Connection, request: Request, work: Callable[[], Awaitable[None]]
) -> None:
    """`Idempotent.run`: authenticate, then the money transaction with retries (it claims the
    key first: see `claim`)."""
    await authenticate(conn, request)
    await retrying(work)


async def claim(conn: Connection, request: Request) -> None:
    """`idempotency.claim`, the money transaction's first statements: the key's lock, taken
    without waiting, and a look for its record (the keys are fresh: there is none)."""
    if not await conn.fetchval(SQL_CLAIM, f"idempotency:{request.user_id}:{request.key}"):
        raise Refusal("idempotency_key_in_use")
    if await conn.fetchrow(SQL_RECORD, request.user_id, request.key) is not None:
        raise Refusal("idempotency_key_reused")


async def complete(conn: Connection, request: Request, status_code: int, body: Any) -> None:
    """`idempotency.complete`: the record with the response, inserted in the money transaction."""
    await conn.execute(
        SQL_COMPLETE,
        request.user_id,
        request.key,
        request.digest,
        status_code,
        compact(body),
        utcnow(),
    )


# --- ledger and loan events ---------------------------------------------------------------------


async def post(
    conn: Connection,
    entry: ledger.Entry,
    now: datetime,
    *,
    investor_id: uuid.UUID | None = None,
    loan_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> int:
    """`LedgerRepository.post`: the entry row, then all its lines in one statement."""
    entry_id: int = await conn.fetchval(
        SQL_INSERT_ENTRY, entry.kind.value, now, investor_id, loan_id, payment_id
    )
    lines = entry.lines
    await conn.execute(
        SQL_INSERT_LINES,
        entry_id,
        [line.kind.value for line in lines],
        [line.owner for line in lines],
        [line.amount for line in lines],
        [line.purpose.value for line in lines],
        loan_id,
        now,
    )
    return entry_id


async def insert_events(
    conn: Connection,
    request: Request,
    loan_id: uuid.UUID,
    now: datetime,
    events: Sequence[tuple[str, dict[str, Any], str | None]],
) -> None:
    """`loans.service.record_event` for each (event, changes, note)."""
    await conn.execute(
        SQL_INSERT_EVENTS,
        loan_id,
        now,
        request.user_id,
        request.role,
        [event for event, _, _ in events],
        [stored_json(changes) for _, changes, _ in events],
        [note for _, _, note in events],
    )


async def lock_in_order(conn: Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """`InvestorAccountRepository.lock_in_order`: row locks in id order; `available` by id."""
    rows = await conn.fetch(SQL_LOCK_INVESTORS, sorted(ids))
    return {row[0]: row[1] for row in rows}


# --- deposits -----------------------------------------------------------------------------------


def overdue_and_npl(rows: Sequence[Record], today: date) -> tuple[int, int]:
    """`loans.overdue.overdue_and_npl`: (overdue principal, of it non-performing)."""
    cutoff = today - timedelta(days=NPL_DAYS_PAST_DUE)
    overdue = npl = 0
    for row in rows:
        since, principal = row[0], row[1]
        overdue += principal
        npl += principal if since <= cutoff else 0
    return overdue, npl


async def read_portfolio(conn: Connection, account: Record, available: int) -> dict[str, Any]:
    """`investments.service._portfolio`: the two reads of the deposit's response."""
    today = business_date()
    investor = account["investor_id"]
    active = await conn.fetchval(SQL_ACTIVE_ALLOCATIONS, investor, "active")
    overdue, npl = overdue_and_npl(
        await conn.fetch(SQL_OVERDUE_HOLDINGS, "active", today, investor), today
    )
    return {
        "currency": CURRENCY,
        "available": money(available),
        "invested": money(account["invested"]),
        "interest_earned": money(account["interest_earned"]),
        "losses": money(account["losses"]),
        "total": money(available + account["invested"]),
        "active_allocations": int(active or 0),
        "overdue_principal": money(overdue),
        "npl_principal": money(npl),
    }


async def deposit_tx(conn: Connection, request: Request, amount: int) -> None:
    """`investments.service.deposit`: external -> available, one transaction."""
    async with conn.transaction():
        await claim(conn, request)
        now = utcnow()
        account = await conn.fetchrow(SQL_LOCK_ACCOUNT, request.user_id)
        if account is None:
            raise LookupError(f"no investor account for {request.user_id}")
        available = account["available"] + amount
        queued_at = now if account["available"] == 0 else account["queued_at"]
        await conn.execute(SQL_DEPOSIT_ACCOUNT, request.user_id, available, queued_at, now)
        entry = ledger.deposit_entry(request.user_id, amount)
        entry_id = await post(conn, entry, now, investor_id=request.user_id)
        body = {
            "id": entry_id,
            "type": "deposit",
            "amount": money(amount),
            "created_at": timestamp(now),
            "portfolio": await read_portfolio(conn, account, available),
        }
        await complete(conn, request, 201, body)


async def deposit(conn: Connection, investor_id: uuid.UUID, amount: int) -> None:
    request = new_request(
        investor_id, "investor", "/api/v1/investments/deposits", {"amount": money(amount)}
    )
    await idempotent(conn, request, partial(deposit_tx, conn, request, amount))


# --- payments -----------------------------------------------------------------------------------


async def locked_own_loan(conn: Connection, loan_id: uuid.UUID, customer_id: uuid.UUID) -> Record:
    """The loan row-locked, the owner only; refusals as `record_payment`."""
    loan: Record | None = await conn.fetchrow(SQL_LOCK_OWN_LOAN, loan_id, customer_id)
    if loan is None:
        raise Refusal("loan_not_found")
    if loan["status"] != "active":
        raise Refusal("loan_closed" if loan["status"] == "closed" else "loan_not_active")
    return loan


async def apply_to_schedule(
    conn: Connection, loan_id: uuid.UUID, amount: int
) -> PaymentApplication:
    """Lock and read the stored schedule, then `apply_payment`."""
    rows = await conn.fetch(SQL_LOCK_INSTALLMENTS, loan_id)
    planned = [
        Planned(
            r["number"],
            r["due_date"],
            r["principal"] + r["interest"],
            r["principal"],
            r["interest"],
        )
        for r in rows
    ]
    paid = [Paid(r["paid_principal"], r["paid_interest"]) for r in rows]
    try:
        return apply_payment(planned, paid, amount)
    except Overpayment:
        raise Refusal("overpayment") from None


async def investor_shares(
    conn: Connection, loan_id: uuid.UUID, application: PaymentApplication
) -> list[tuple[uuid.UUID, int, int]]:
    """Lock the allocations, `distribute_payment`; the investors whose balances move."""
    holdings = [
        Holding(row[0], row[1], row[2], row[3])
        for row in await conn.fetch(SQL_LOCK_HOLDINGS, loan_id)
    ]
    shares: Sequence[InvestorPayment[uuid.UUID]] = distribute_payment(
        holdings, application.principal, application.interest
    )
    return [(s.investor_id, s.principal, s.interest) for s in shares if s.principal or s.interest]


async def write_payment(
    conn: Connection,
    loan_id: uuid.UUID,
    application: PaymentApplication,
    moved: list[tuple[uuid.UUID, int, int]],
    now: datetime,
) -> None:
    """`payments._write` after the payment row: installments, allocations, balances."""
    applied = application.applied
    await conn.execute(
        SQL_PAY_INSTALLMENTS,
        loan_id,
        [a.number for a in applied],
        [a.principal for a in applied],
        [a.interest for a in applied],
    )
    ids = [investor for investor, _, _ in moved]
    principals = [principal for _, principal, _ in moved]
    interests = [interest for _, _, interest in moved]
    await conn.execute(SQL_PAY_ALLOCATIONS, loan_id, ids, principals, interests)
    await lock_in_order(conn, ids)
    await conn.execute(SQL_PAY_INVESTORS, ids, principals, interests, now)


def applied_parts(application: PaymentApplication) -> list[dict[str, int]]:
    return [
        {"number": a.number, "principal": a.principal, "interest": a.interest}
        for a in application.applied
    ]


def payment_body(
    payment_id: uuid.UUID,
    loan_id: uuid.UUID,
    amount: int,
    application: PaymentApplication,
    now: datetime,
    loan_after: tuple[str, int],
) -> dict[str, Any]:
    """`PaymentRead` with `loan_status` and `outstanding`."""
    return {
        "id": str(payment_id),
        "loan_id": str(loan_id),
        "amount": money(amount),
        "principal": money(application.principal),
        "interest": money(application.interest),
        "applied": [
            {"number": a.number, "principal": money(a.principal), "interest": money(a.interest)}
            for a in application.applied
        ],
        "created_at": timestamp(now),
        "loan_status": loan_after[0],
        "outstanding": money(loan_after[1]),
    }


async def advance_loan(
    conn: Connection,
    request: Request,
    loan: Record,
    application: PaymentApplication,
    payment_id: uuid.UUID,
    now: datetime,
) -> None:
    """`payments._advance_loan`: outstanding principal, the `payment` event, closing at payoff."""
    before = loan["outstanding_principal"]
    after = before - application.principal
    closed = application.fully_repaid
    status, closed_at = ("closed", now) if closed else (loan["status"], loan["closed_at"])
    await conn.execute(SQL_ADVANCE_LOAN, loan["id"], after, status, closed_at, now)
    events: list[tuple[str, dict[str, Any], str | None]] = [
        (
            "payment",
            {"outstanding_principal": {"from": before, "to": after}},
            f"payment {payment_id}",
        )
    ]
    if closed:
        events.append(("closed", tracked_changes(loan, {**dict(loan), "status": status}), None))
    await insert_events(conn, request, loan["id"], now, events)


async def payment_tx(conn: Connection, request: Request, loan_id: uuid.UUID, amount: int) -> None:
    """`loans.payments.record_payment`, one transaction."""
    async with conn.transaction():
        await claim(conn, request)
        loan = await locked_own_loan(conn, loan_id, request.user_id)
        application = await apply_to_schedule(conn, loan_id, amount)
        moved = await investor_shares(conn, loan_id, application)
        now, payment_id = utcnow(), uuid.uuid4()
        await conn.execute(
            SQL_INSERT_PAYMENT, payment_id, loan_id, request.user_id, amount,
            application.principal, application.interest,
            stored_json(applied_parts(application)), now,
        )  # fmt: skip
        await write_payment(conn, loan_id, application, moved, now)
        entry = ledger.payment_entry(loan_id, application.principal, application.interest, moved)
        await post(conn, entry, now, loan_id=loan_id, payment_id=payment_id)
        status = "closed" if application.fully_repaid else "active"
        outstanding = loan["outstanding_principal"] - application.principal
        body = payment_body(payment_id, loan_id, amount, application, now, (status, outstanding))
        await complete(conn, request, 201, body)
        await advance_loan(conn, request, loan, application, payment_id, now)


async def payment(
    conn: Connection, customer_id: uuid.UUID, loan_id: uuid.UUID, amount: int
) -> None:
    path = f"/api/v1/loans/{loan_id}/payments"
    request = new_request(customer_id, "customer", path, {"amount": money(amount)})
    await idempotent(conn, request, partial(payment_tx, conn, request, loan_id, amount))


# --- approvals ----------------------------------------------------------------------------------


async def funded_parts(
    conn: Connection, amount: int, rules: AllocationPolicy
) -> list[tuple[uuid.UUID, int]]:
    """`approval._funded_parts`: allocate from the queue, lock the participants in id order
    inside a savepoint, re-check their balances; roll back to the savepoint (releasing the
    locks) and allocate again if they moved meanwhile."""
    for _ in range(ATTEMPTS):
        queue_rows = await conn.fetch(SQL_QUEUE, 0)
        try:
            allocation = allocate(amount, [(row[0], row[1]) for row in queue_rows], rules)
        except AllocationNotPossible:
            raise Refusal("allocation_not_possible") from None
        parts = [(part.investor_id, part.amount) for part in allocation.parts]
        attempt = conn.transaction()  # nested: a savepoint
        await attempt.start()
        locked = await lock_in_order(conn, [investor for investor, _ in parts])
        if all(locked.get(investor, 0) >= part for investor, part in parts):
            await attempt.commit()
            return parts
        await attempt.rollback()
    raise Refusal("allocation_conflict")


async def move_money(
    conn: Connection, loan_id: uuid.UUID, parts: list[tuple[uuid.UUID, int]], now: datetime
) -> None:
    """`approval._move_money`: allocations, balances, the disbursement entry."""
    ids, amounts = [p[0] for p in parts], [p[1] for p in parts]
    await conn.execute(SQL_INSERT_ALLOCATIONS, loan_id, ids, amounts, now)
    await conn.execute(SQL_FUND_INVESTORS, ids, amounts, now)
    await post(conn, ledger.disbursement_entry(loan_id, parts), now, loan_id=loan_id)


async def insert_schedule(conn: Connection, loan: Record) -> Schedule:
    """`build_schedule` from the business date; all installments in one statement."""
    schedule = build_schedule(
        loan["amount"],
        loan["annual_rate_bp"],
        loan["term_months"],
        business_date(),
        ScheduleType(loan["schedule_type"]),
    )
    rows = schedule.installments
    await conn.execute(
        SQL_INSERT_INSTALLMENTS,
        loan["id"],
        [i.number for i in rows],
        [i.due_date for i in rows],
        [i.principal for i in rows],
        [i.interest for i in rows],
    )
    return schedule


def loan_body(loan: Record) -> dict[str, Any]:
    """`LoanRead` of the approved loan (a fresh approval is never overdue)."""
    return {
        "id": str(loan["id"]),
        "customer_id": str(loan["customer_id"]),
        "agent_id": None if loan["agent_id"] is None else str(loan["agent_id"]),
        "loan_type": loan["loan_type"],
        "amount": money(loan["amount"]),
        "term_months": loan["term_months"],
        "annual_rate": money(loan["annual_rate_bp"]),
        "monthly_payment": money(loan["monthly_payment"]),
        "total_interest": money(loan["total_interest"]),
        "total_payable": money(loan["total_payable"]),
        "status": loan["status"],
        "outstanding_principal": money(loan["outstanding_principal"]),
        "days_past_due": 0,
        "is_npl": False,
        "rejection_reason": loan["rejection_reason"],
        "created_at": timestamp(loan["created_at"]),
        "updated_at": timestamp(loan["updated_at"]),
        "approved_at": timestamp(loan["approved_at"]),
        "closed_at": timestamp(loan["closed_at"]),
    }


async def approval_tx(
    conn: Connection, request: Request, loan_id: uuid.UUID, rules: AllocationPolicy
) -> None:
    """`loans.approval.approve_loan`, one transaction."""
    async with conn.transaction():
        await claim(conn, request)
        loan = await conn.fetchrow(SQL_LOCK_LOAN, loan_id)
        if loan is None:
            raise Refusal("loan_not_found")
        if loan["status"] not in EDITABLE:
            raise Refusal("loan_not_approvable")
        # `lock_allocation_queue`: approvals take turns on the queue (advisory lock)
        await conn.execute("SELECT pg_advisory_xact_lock($1)", ALLOCATION_QUEUE_LOCK)
        parts = await funded_parts(conn, loan["amount"], rules)
        await move_money(conn, loan_id, parts, utcnow())
        schedule = await insert_schedule(conn, loan)
        now = utcnow()
        after = {
            **dict(loan),
            "status": "active",
            "approved_at": now,
            "updated_at": now,
            "outstanding_principal": loan["amount"],
            "monthly_payment": schedule.monthly_payment,
            "total_interest": schedule.total_interest,
            "total_payable": schedule.total_payable,
        }
        await complete(conn, request, 200, loan_body(after))
        await conn.execute(
            SQL_APPROVE_LOAN, loan_id, "active", loan["amount"], schedule.monthly_payment,
            schedule.total_interest, schedule.total_payable, now,
        )  # fmt: skip
        changes = tracked_changes(loan, after)
        note = f"funded by {len(parts)} investors"
        await insert_events(conn, request, loan_id, now, [("approved", changes, note)])


async def approval(
    conn: Connection, admin_id: uuid.UUID, loan_id: uuid.UUID, rules: AllocationPolicy
) -> None:
    request = new_request(admin_id, "admin", f"/api/v1/loans/{loan_id}/approve", None)
    await idempotent(conn, request, partial(approval_tx, conn, request, loan_id, rules))


# --- configuration --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    dsn: str
    scenario: str
    concurrency: int
    duration: float
    warmup: float
    processes: int
    targets: Path
    out: Path
    min_ticket: int
    max_share: Fraction | None

    @property
    def rules(self) -> AllocationPolicy:
        """`loans.approval.policy` for these settings."""
        return AllocationPolicy(min_ticket=self.min_ticket, max_share=self.max_share)


def parse_min_ticket(text: str) -> int:
    """BANK_API_MIN_TICKET: a positive amount with at most two decimals -> cents."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal amount: {text!r}") from None
    exponent = value.as_tuple().exponent
    if not value.is_finite() or value <= 0 or not isinstance(exponent, int) or exponent < -2:
        raise argparse.ArgumentTypeError("min ticket must be > 0 with at most two decimals")
    return int(value * 100)


def parse_max_share(text: str) -> Fraction | None:
    """BANK_API_MAX_SHARE: empty for none, else a fraction in (0, 1]."""
    if not text.strip():
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a decimal fraction: {text!r}") from None
    if not value.is_finite() or not Decimal(0) < value <= Decimal(1):
        raise argparse.ArgumentTypeError("max share must be a fraction in (0, 1]")
    return Fraction(value)


def positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
        return value

    return parse


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", required=True, help="postgresql://user@host:port/db")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--concurrency", type=positive(int), default=32)
    parser.add_argument("--duration", type=positive(float), default=20.0, help="seconds")
    parser.add_argument("--warmup", type=non_negative_float, default=2.0, help="seconds")
    parser.add_argument("--processes", type=positive(int), default=2)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-ticket", type=parse_min_ticket, default=parse_min_ticket("25.00"))
    parser.add_argument("--max-share", type=parse_max_share, default=None)
    args = parser.parse_args(argv)
    return Config(
        dsn=args.dsn.replace("postgresql+asyncpg://", "postgresql://", 1),
        scenario=args.scenario,
        concurrency=args.concurrency,
        duration=args.duration,
        warmup=args.warmup,
        processes=min(args.processes, args.concurrency),
        targets=args.targets,
        out=args.out,
        min_ticket=args.min_ticket,
        max_share=args.max_share,
    )


# --- work plan: which task does what --------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """One worker process: its tasks' shares of the targets (picklable for `spawn`)."""

    index: int
    config: Config
    jobs: list[list[Any]]
    """Per task: loan ids (approvals) or (customer id, loan id, [due cents]) (payments)."""
    investors: list[str]
    admin_id: str


def load_targets(path: Path, scenario: str) -> dict[str, Any]:
    targets: dict[str, Any] = json.loads(path.read_text())
    needed = {"deposits": "investors", "payments": "payable", "approvals": "approvable"}
    if not isinstance(targets.get(needed[scenario]), list):
        raise ValueError(f"{path}: no list {needed[scenario]!r} for scenario {scenario}")
    if scenario == "deposits" and not targets["investors"]:
        raise ValueError(f"{path}: no investors to deposit for")
    if scenario == "approvals" and not isinstance(targets.get("admin"), dict):
        raise ValueError(f"{path}: no admin to approve with")
    return targets


def task_jobs(config: Config, targets: Mapping[str, Any], task: int) -> list[Any]:
    """Disjoint slices: task `t` of `n` takes items t, t + n, t + 2n, ..."""
    if config.scenario == "approvals":
        return list(targets["approvable"][task :: config.concurrency])
    if config.scenario == "payments":
        return [
            (item["customer_id"], item["loan_id"], list(item["due"]))
            for item in targets["payable"][task :: config.concurrency]
        ]
    return []


def plan(config: Config, targets: Mapping[str, Any]) -> list[WorkerSpec]:
    """`concurrency` tasks spread over the processes (the first ones take the remainder)."""
    base, extra = divmod(config.concurrency, config.processes)
    specs, first = [], 0
    investors = [item["id"] for item in targets.get("investors", [])]
    admin_id = str(targets.get("admin", {}).get("id", ""))
    for index in range(config.processes):
        count = base + (1 if index < extra else 0)
        jobs = [task_jobs(config, targets, task) for task in range(first, first + count)]
        specs.append(WorkerSpec(index, config, jobs, investors, admin_id))
        first += count
    return specs


@dataclass(frozen=True)
class Operation:
    """One API request's database work: `function(conn, *args)`."""

    function: Callable[..., Awaitable[None]]
    args: tuple[Any, ...]

    async def __call__(self, conn: Connection) -> None:
        await self.function(conn, *self.args)


def operations(spec: WorkerSpec, task: int) -> Iterator[Operation]:
    """The task's operations, in order; deposits never run out."""
    scenario, jobs = spec.config.scenario, spec.jobs[task]
    if scenario == "deposits":
        investors = [uuid.UUID(i) for i in spec.investors]
        while True:
            amount = random.randint(*DEPOSIT_CENTS)
            yield Operation(deposit, (random.choice(investors), amount))
    elif scenario == "approvals":
        admin, rules = uuid.UUID(spec.admin_id), spec.config.rules
        for loan_id in jobs:
            yield Operation(approval, (admin, uuid.UUID(loan_id), rules))
    else:
        for customer_id, loan_id, due in jobs:
            for amount in (cents for cents in due if cents > 0):
                yield Operation(payment, (uuid.UUID(customer_id), uuid.UUID(loan_id), amount))


# --- running: tasks, worker processes, results -------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: float
    end: float


@dataclass
class Tally:
    """One process's outcomes: latencies (ms) of successes in the window, refusals by code,
    errors over the whole run."""

    process: int
    latencies: list[float] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def error(self, error: BaseException) -> None:
        self.errors += 1
        text = f"{type(error).__name__}: {error}"
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(text)
        if self.errors <= PRINTED_ERRORS:
            print(f"rawsql[{self.process}] error: {text}", file=sys.stderr, flush=True)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "refusals": dict(self.refusals),
            "errors": self.errors,
            "samples": self.samples,
        }


async def connect(dsn: str) -> Connection:
    return await asyncpg.connect(dsn, timeout=10, server_settings=SERVER_SETTINGS)


async def run_task(
    conn: Connection, ops: Iterator[Operation], window: Window, tally: Tally
) -> None:
    """Run operations back to back until the window closes or the task runs out."""
    for operation in ops:
        if time.perf_counter() >= window.end:
            return
        started = time.perf_counter()
        refusal: str | None = None
        try:
            await operation(conn)
        except Refusal as answer:
            refusal = answer.code
        except Exception as error:
            tally.error(error)
            if conn.is_closed():
                return
            continue
        finished = time.perf_counter()
        if window.start <= finished <= window.end:
            if refusal is None:
                tally.latencies.append((finished - started) * 1000)
            else:
                tally.refusals[refusal] += 1


async def run_worker(spec: WorkerSpec, barrier: Any) -> dict[str, Any]:
    """Connect every task, wait for the other processes, run, close."""
    config = spec.config
    conns = await asyncio.gather(*(connect(config.dsn) for _ in spec.jobs))
    try:
        await asyncio.to_thread(barrier.wait, START_TIMEOUT_S)
        start = time.perf_counter() + config.warmup
        window, tally = Window(start, start + config.duration), Tally(spec.index)
        await asyncio.gather(
            *(run_task(conn, operations(spec, i), window, tally) for i, conn in enumerate(conns))
        )
        return tally.as_dict()
    finally:
        await asyncio.gather(*(conn.close() for conn in conns), return_exceptions=True)


def worker_main(spec: WorkerSpec, barrier: Any, results: Any) -> None:
    """Entry point of a worker process: its tally (or its failure) goes on `results`."""
    try:
        results.put((spec.index, asyncio.run(run_worker(spec, barrier)), None))
    except BaseException as error:  # report anything, then let the process end
        barrier.abort()
        results.put((spec.index, None, f"{type(error).__name__}: {error}"))


def collect(results: Any, count: int, timeout: float) -> list[tuple[int, Any, str | None]]:
    collected = []
    for _ in range(count):
        try:
            collected.append(results.get(timeout=timeout))
        except queue.Empty:
            collected.append((-1, None, "a worker process sent no result"))
    return collected


async def run_processes(config: Config, specs: list[WorkerSpec]) -> tuple[bool, list[Any]]:
    """Start the workers, release them together, gather their tallies.
    Returns (started, results); `started` is False when a worker could not get ready."""
    context = mp.get_context("spawn")
    barrier = context.Barrier(len(specs) + 1)
    results = context.Queue()
    workers = [
        context.Process(target=worker_main, args=(spec, barrier, results), name=f"rawsql-{i}")
        for i, spec in enumerate(specs)
    ]
    for worker in workers:
        worker.start()
    try:
        await asyncio.to_thread(barrier.wait, START_TIMEOUT_S)
        started = True
    except threading.BrokenBarrierError:
        started = False
    timeout = config.warmup + config.duration + START_TIMEOUT_S
    gathered = await asyncio.to_thread(collect, results, len(workers), timeout)
    for worker in workers:
        await asyncio.to_thread(worker.join, 10)
    return started, gathered


def percentile(ordered: Sequence[float], percent: float) -> float | None:
    """Nearest rank: the smallest value with at least `percent` % of the samples at or below."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def summarize(config: Config, results: Sequence[tuple[int, Any, str | None]]) -> dict[str, Any]:
    latencies: list[float] = []
    refusals: Counter[str] = Counter()
    errors, samples = 0, list[str]()
    for _, tally, failure in results:
        if tally is None:
            errors, samples = errors + 1, [*samples, f"worker failed: {failure}"]
            continue
        latencies += tally["latencies"]
        refusals.update(tally["refusals"])
        errors, samples = errors + tally["errors"], samples + tally["samples"]
    latencies.sort()
    return {
        "scenario": config.scenario,
        "concurrency": config.concurrency,
        "processes": config.processes,
        "duration_s": config.duration,
        "requests": len(latencies),
        "rps": round(len(latencies) / config.duration, 2),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": round(latencies[-1], 3) if latencies else None,
        "errors": errors,
        "refusals": dict(sorted(refusals.items())),
        "error_samples": samples[:MAX_SAMPLES],
    }


def write_result(path: Path, result: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


async def check_database(dsn: str) -> str | None:
    """None when the database answers, else why not."""
    try:
        conn = await connect(dsn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
    await conn.close()
    return None


async def main(argv: list[str] | None = None) -> int:
    """Run one scenario; 0 when it ran (errors are in the JSON), 2 when it could not."""
    config = parse_args(argv)
    try:
        specs = plan(config, load_targets(config.targets, config.scenario))
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"rawsql: bad targets: {error}", file=sys.stderr)
        return 2
    problem = await check_database(config.dsn)
    if problem is not None:
        print(f"rawsql: cannot connect: {problem}", file=sys.stderr)
        return 2
    started, results = await run_processes(config, specs)
    if not started:
        failures = [failure for _, _, failure in results if failure]
        print(f"rawsql: workers could not start: {failures}", file=sys.stderr)
        return 2
    result = summarize(config, results)
    write_result(config.out, result)
    print(
        f"rawsql {config.scenario}: {result['requests']} ok, {result['rps']} rps, "
        f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, errors {result['errors']}, "
        f"refusals {result['refusals']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
