"""How a request's cost grows with the book and with the caller's portfolio (issue 15).

In a throw-away copy of the seeded database, the book is brought to each size (10,000 loans,
then 100,000) by copying the seeded loans (every status in the seed's proportions, owned by
one extra customer so no measured customer's own list grows), and one extra investor holds
5,000 loans beside a seeded investor with about ten. At each size one `bank-api serve` worker
answers each request alone, one at a time over a keep-alive connection (latency without
queueing), and the report gives its p50 and p99:

* the portfolio and a page of allocations (20) of the seeded investor whose holdings are
  closest to ten, and of the one with 5,000;
* a page of a customer's own loans (20), an agent's page by status in a 30-day creation window
  (50), and the admin's page of active loans (200).

The copies are rows, not bookings: the ledger of the copy does not verify (nothing here is a
money write), and the database is dropped afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

BOOKS = (10_000, 100_000)
LARGE_PORTFOLIO = 5_000
REQUESTS = 300
WARMUP = 30

# Every column of a loan but its id and customer, copied as they are.
_LOAN_COLUMNS = (
    "agent_id, loan_type, amount, term_months, annual_rate_bp, schedule_type, monthly_payment,"
    " total_interest, total_payable, status, outstanding_principal, rejection_reason,"
    " approved_at, closed_at, created_at, updated_at, fee_ppm, oldest_unpaid_due, disbursed_on"
)
_COPY_USER = (
    "INSERT INTO user_account (id, username, username_key, email, email_key, full_name, role,"
    " status, password_hash, tokens_valid_after, created_at, updated_at)"
    " SELECT $1, $2, $2, $3, $3, full_name, role, status, password_hash, tokens_valid_after,"
    " created_at, updated_at FROM user_account WHERE role = $4 LIMIT 1"
)


async def _extra_user(conn: asyncpg.Connection, role: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    name = f"scaling-{role}-{user_id.hex[:8]}"
    await conn.execute(_COPY_USER, user_id, name, f"{name}@example.com", role)
    return user_id


async def grow_book(conn: asyncpg.Connection, size: int, owner: uuid.UUID) -> int:
    """Copy the seeded loans (owned by `owner`) until the book holds `size` loans."""
    have = await conn.fetchval("SELECT count(*) FROM loan")
    missing = size - have
    if missing > 0:
        await conn.execute(
            f"INSERT INTO loan (id, customer_id, {_LOAN_COLUMNS})"  # noqa: S608 - constants
            f" SELECT gen_random_uuid(), $1, {_LOAN_COLUMNS}"
            " FROM (SELECT * FROM loan WHERE customer_id <> $1) seeded,"
            " generate_series(1, ceil($2::numeric / greatest(1, (SELECT count(*) FROM loan)))::int)"
            " LIMIT $2",
            owner,
            missing,
        )
    await conn.execute("VACUUM ANALYZE loan")
    return int(await conn.fetchval("SELECT count(*) FROM loan"))


async def large_investor(conn: asyncpg.Connection, holdings: int) -> uuid.UUID:
    """An investor holding 250.00 in each of `holdings` loans (disbursed loans first), with the
    figures a real one would have: repaid in closed loans, lost in written-off ones, and the
    active loans' oldest unpaid due dates on the holdings."""
    investor = await _extra_user(conn, "investor")
    await conn.execute(
        "INSERT INTO allocation (loan_id, investor_id, amount, principal_received,"
        " interest_received, loss, fee, created_at, oldest_unpaid_due)"
        " SELECT id, $1, 25000, CASE WHEN status = 'closed' THEN 25000 ELSE 0 END, 0,"
        " CASE WHEN status = 'written_off' THEN 25000 ELSE 0 END, 0,"
        " now() - row_number() OVER () * interval '1 minute',"  # funded one after another
        " CASE WHEN status = 'active' THEN oldest_unpaid_due END"
        " FROM loan ORDER BY status NOT IN ('active', 'closed', 'written_off'), id LIMIT $2",
        investor,
        holdings,
    )
    await conn.execute(
        "INSERT INTO investor_account (investor_id, available, invested, interest_earned,"
        " losses, active_allocations, fees, updated_at, auto_invest, keep_available)"
        " SELECT $1, 0, coalesce(sum(a.amount - a.principal_received - a.loss), 0), 0,"
        " coalesce(sum(a.loss), 0), count(*) FILTER (WHERE l.status = 'active'), 0, now(),"
        " false, 0"
        " FROM allocation a JOIN loan l ON l.id = a.loan_id WHERE a.investor_id = $1",
        investor,
    )
    await conn.execute("VACUUM ANALYZE allocation")
    return investor


async def _setup(dsn: str, sizes: tuple[int, ...]) -> dict[str, Any]:
    """The people whose requests are timed, and an owner for the copied loans."""
    conn = await asyncpg.connect(dsn)
    try:
        small = await conn.fetchrow(
            "SELECT investor_id, count(*) AS n FROM allocation GROUP BY investor_id"
            " ORDER BY abs(count(*) - 10), investor_id LIMIT 1"
        )
        customer = await conn.fetchval(
            "SELECT customer_id FROM loan GROUP BY customer_id ORDER BY count(*) DESC,"
            " customer_id LIMIT 1"
        )
        agent = await conn.fetchval(
            "SELECT agent_id FROM loan WHERE agent_id IS NOT NULL GROUP BY agent_id"
            " ORDER BY count(*) DESC, agent_id LIMIT 1"
        )
        admin = await conn.fetchval("SELECT id FROM user_account WHERE role = 'admin' LIMIT 1")
        today = await conn.fetchval(
            "SELECT coalesce((SELECT value FROM business_date WHERE id = 1), current_date)"
        )
        owner = await _extra_user(conn, "customer")
        await grow_book(conn, sizes[0], owner)
        large = await large_investor(conn, LARGE_PORTFOLIO)
    finally:
        await conn.close()
    return {
        "small_investor": (small["investor_id"], int(small["n"])),
        "large_investor": (large, LARGE_PORTFOLIO),
        "customer": customer,
        "agent": agent,
        "admin": admin,
        "window": (today - timedelta(days=30), today),
        "owner": owner,
    }


def _requests(people: dict[str, Any]) -> list[tuple[str, uuid.UUID, str]]:
    (small, few), (large, many) = people["small_investor"], people["large_investor"]
    since, until = people["window"]
    return [
        (f"portfolio, {few:,} holdings", small, "/api/v1/investments/portfolio"),
        (f"portfolio, {many:,} holdings", large, "/api/v1/investments/portfolio"),
        (f"allocations page (20), {few:,}", small, "/api/v1/investments/allocations?limit=20"),
        (f"allocations page (20), {many:,}", large, "/api/v1/investments/allocations?limit=20"),
        ("own loans page (20)", people["customer"], "/api/v1/loans?limit=20"),
        (
            "agent: requested, 30 days (50)",
            people["agent"],
            f"/api/v1/loans?status=requested&created_from={since}&created_to={until}&limit=50",
        ),
        ("admin: active loans (200)", people["admin"], "/api/v1/loans?status=active&limit=200"),
    ]


def _time(port: int, path: str, token: str) -> dict[str, Any]:
    """p50 and p99 of `REQUESTS` requests sent one at a time on one connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    took: list[float] = []
    total = None
    try:
        for n in range(WARMUP + REQUESTS):
            began = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                return {"error": f"{response.status} {body[:200]!r}"}
            if n >= WARMUP:
                took.append((time.perf_counter() - began) * 1000)
        answer = json.loads(body)
        total = answer["total"] if "items" in answer else None  # a page: how many match
    finally:
        connection.close()
    took.sort()
    return {
        "p50_ms": round(took[len(took) // 2], 2),
        "p99_ms": round(took[min(len(took) - 1, (len(took) * 99) // 100)], 2),
        "matching_rows": total,
    }


def measure(
    dsn: str,
    port: int,
    token_for: Callable[[uuid.UUID], str],
    serving: Callable[[], Any],
) -> dict[str, Any]:
    """Latencies at each book size; `serving()` is a context manager running one worker on
    `dsn` at `port`, `token_for(user_id)` an access token for that user."""
    people = asyncio.run(_setup(dsn, BOOKS))
    results: dict[str, Any] = {
        "small_investor_holdings": people["small_investor"][1],
        "large_investor_holdings": people["large_investor"][1],
        "books": {},
    }
    for size in BOOKS:
        book = asyncio.run(_grow(dsn, size, people["owner"]))
        with serving():
            results["books"][str(book)] = {
                label: _time(port, path, token_for(user)) for label, user, path in _requests(people)
            }
    return results


async def _grow(dsn: str, size: int, owner: uuid.UUID) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await grow_book(conn, size, owner)
    finally:
        await conn.close()
