"""What the load generators act on, read fresh from the database before every run, and the
population's shape for the report.

Tokens are issued here with the server's own secret through `bank_api.security.TokenService`
(the code the login route uses), so the scenarios measure their own requests rather than a
storm of argon2 logins at start-up; the login scenario measures logins.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import asyncpg

from bank_api.config import Settings
from bank_api.security import TokenService


async def build_targets(server: str, database: str, settings: Settings) -> dict[str, Any]:
    tokens = TokenService(settings)
    conn = await asyncpg.connect(f"{server}/{database}")
    try:
        users = await conn.fetch(
            "SELECT id, username, role::text AS role, tokens_valid_after FROM user_account"
            " WHERE status = 'active'"
        )
        approvable = await conn.fetch(
            "SELECT id FROM loan WHERE status IN ('new', 'requested') ORDER BY id"
        )
        payable = await conn.fetch(
            """
            SELECT l.id, l.customer_id,
                   array_agg(i.principal + i.interest - i.paid_principal - i.paid_interest
                             ORDER BY i.number) AS due
            FROM loan l JOIN installment i ON i.loan_id = l.id
            WHERE l.status = 'active'
              AND i.principal + i.interest > i.paid_principal + i.paid_interest
            GROUP BY l.id, l.customer_id
            """
        )
        readable = await conn.fetch(
            "SELECT id, customer_id FROM loan WHERE status IN ('active', 'closed', 'new')"
        )
    finally:
        await conn.close()
    people: dict[str, list[dict[str, Any]]] = {}
    token_of: dict[Any, str] = {}
    for row in users:
        token = tokens.issue(row["id"], row["role"], row["tokens_valid_after"]).access_token
        token_of[row["id"]] = token
        person = {"id": str(row["id"]), "username": row["username"], "token": token}
        people.setdefault(row["role"], []).append(person)
    shuffled = [str(row["id"]) for row in approvable]
    random.Random(len(shuffled)).shuffle(shuffled)
    return {
        "admin": people["admin"][0],
        "investors": people["investor"],
        "customers": people["customer"],
        "agents": people["agent"],
        "approvable": shuffled,
        "payable": [
            {
                "loan_id": str(row["id"]),
                "customer_id": str(row["customer_id"]),
                "token": token_of[row["customer_id"]],
                "due": list(row["due"]),
            }
            for row in payable
        ],
        "readable": [
            {"loan_id": str(row["id"]), "token": token_of[row["customer_id"]]} for row in readable
        ],
    }


# The fan-out a write run met: investors in each loan approved, or holders of each payment's
# loan, from `$1` to `$2`. The loans the runs before left decide it (the products the
# applications asked for, the loans the payments went to); the ceiling runs on a copy of the
# seeded book.
FAN_OUT = {
    "approvals": """
        SELECT round(count(*)::numeric / nullif(count(DISTINCT a.loan_id), 0), 1)
        FROM allocation a JOIN loan l ON l.id = a.loan_id
        WHERE l.approved_at >= $1 AND l.approved_at < $2
    """,
    "payments": """
        SELECT round(avg(n), 1) FROM (
            SELECT count(*) AS n FROM payment p JOIN allocation a ON a.loan_id = p.loan_id
            WHERE p.created_at >= $1 AND p.created_at < $2 GROUP BY p.id
        ) per_payment
    """,
}


async def fan_out(dsn: str, scenario: str, since: datetime, until: datetime) -> float | None:
    """The mean fan-out of `scenario`'s writes from `since` to `until` (FAN_OUT), if any."""
    conn = await asyncpg.connect(dsn)
    try:
        mean = await conn.fetchval(FAN_OUT[scenario], since, until)
    finally:
        await conn.close()
    return None if mean is None else float(mean)


async def population_stats(server: str, database: str) -> dict[str, Any]:
    """Counts by role and status, ledger size, and how many investors fund each loan."""
    conn = await asyncpg.connect(f"{server}/{database}")
    try:
        roles = await conn.fetch("SELECT role::text, count(*) FROM user_account GROUP BY 1")
        statuses = await conn.fetch("SELECT status::text, count(*) FROM loan GROUP BY 1")
        fan_out = await conn.fetchrow(
            """
            SELECT round(avg(n), 1) AS mean,
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS p50,
                   percentile_disc(0.95) WITHIN GROUP (ORDER BY n) AS p95,
                   max(n) AS max
            FROM (SELECT count(*) AS n FROM allocation GROUP BY loan_id) per_loan
            """
        )
        counts = await conn.fetchrow(
            """
            SELECT (SELECT count(*) FROM journal_line) AS journal_lines,
                   (SELECT count(*) FROM journal_entry) AS journal_entries,
                   (SELECT count(*) FROM payment) AS payments,
                   (SELECT count(*) FROM allocation) AS allocations,
                   (SELECT count(*) FROM installment) AS installments,
                   (SELECT count(*) FROM investor_account WHERE available > 0) AS queued,
                   (SELECT sum(available) FROM investor_account) AS available_cents,
                   pg_database_size(current_database()) AS bytes
            """
        )
    finally:
        await conn.close()
    return {
        "users": {role: n for role, n in roles},
        "loans": {status: n for status, n in statuses},
        "investors_per_loan": {k: float(v or 0) for k, v in dict(fan_out or {}).items()},
        **{k: int(v or 0) for k, v in dict(counts or {}).items()},
    }
