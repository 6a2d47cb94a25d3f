"""The least a FastAPI service can do for four small requests, as the yardstick for ours.

Each handler decodes the JWT (python-jose, HS256, the same secret), reads the caller with the
same statement bank-api sends (status and credentials version checked, the business date
beside it), then sends the same statements as bank-api through asyncpg directly, and builds
the same JSON by hand: no SQLAlchemy, no pydantic models, no dependency tree, no middleware.
The harness runs it with uvicorn on the same number of workers and the same pool size, and
reports bank-api / minimal per request (issue 15's ratio).

    BENCH_DATABASE_URL=postgresql://... BENCH_JWT_SECRET=... \\
        uvicorn --workers 2 --port 8932 bench.minimal:app

Routes (the API's paths): GET /api/v1/users/me, GET /api/v1/loans (a customer's own, newest
first, `limit`), POST /api/v1/loans (apply), GET /api/v1/investments/portfolio.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import Response
from jose import jwt

from bank_api.common.money import format_cents  # a pure function: the same text as ours
from bank_api.domain.schedule import ScheduleKind, build_schedule

SECRET = os.environ.get("BENCH_JWT_SECRET", "")
DATABASE = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bank_api_bench"
)
POOL = int(os.environ.get("BANK_API_DB_POOL_SIZE", "4"))

CALLER = (
    "SELECT id, username, role, status, tokens_valid_after, email, full_name, phone, address,"
    " created_at, updated_at, (SELECT value FROM business_date WHERE id = 1)"
    " FROM user_account WHERE id = $1"
)
LOANS = (
    "SELECT id, customer_id, agent_id, loan_type, amount, term_months, annual_rate_bp,"
    " monthly_payment, total_interest, total_payable, status, outstanding_principal,"
    " oldest_unpaid_due, rejection_reason, created_at, updated_at, approved_at, closed_at,"
    " (SELECT count(*) FROM loan WHERE customer_id = $1)"
    " FROM loan WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
)
PRODUCT = (
    "SELECT code, annual_rate_bp, min_amount, max_amount, min_term_months, max_term_months,"
    " schedule_type FROM loan_product WHERE code = $1 AND is_active"
)
INSERT_LOAN = (
    "INSERT INTO loan (id, customer_id, loan_type, amount, term_months, annual_rate_bp,"
    " schedule_type, monthly_payment, total_interest, total_payable, status,"
    " outstanding_principal, fee_ppm, created_at, updated_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new', 0, 0, $11, $11)"
)
INSERT_EVENT = (
    "INSERT INTO loan_event (loan_id, at, actor_id, actor_role, event, changes)"
    " VALUES ($1, $2, $3, 'customer', 'created', $4)"
)
PORTFOLIO = (
    "SELECT a.available, a.invested, a.interest_earned, a.losses, a.active_allocations,"
    " (SELECT coalesce(sum(al.amount - al.principal_received - al.loss), 0) FROM allocation al"
    "  WHERE al.investor_id = a.investor_id AND al.oldest_unpaid_due < $2),"
    " (SELECT coalesce(sum(al.amount - al.principal_received - al.loss), 0) FROM allocation al"
    "  WHERE al.investor_id = a.investor_id AND al.oldest_unpaid_due <= $3),"
    " a.fees FROM investor_account a WHERE a.investor_id = $1"
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNAUTHORIZED = Response(b'{"code":"not_authenticated"}', 401, media_type="application/json")


def when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def answer(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body).encode(), status, media_type="application/json")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DATABASE, min_size=POOL, max_size=POOL)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


async def caller(request: Request, connection: asyncpg.Connection) -> asyncpg.Record | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.JWTError:
        return None
    row = await connection.fetchrow(CALLER, uuid.UUID(claims["sub"]))
    version = (
        None if row is None else (row["tokens_valid_after"] - EPOCH) // timedelta(microseconds=1)
    )
    if row is None or row["status"] != "active" or claims.get("cv") != version:
        return None
    return row


def today_of(row: asyncpg.Record) -> date:
    return row[11] or datetime.now(UTC).date()


def loan_json(row: asyncpg.Mapping, today: date) -> dict[str, Any]:
    unpaid = row["oldest_unpaid_due"]
    late = (today - unpaid).days if row["status"] == "active" and unpaid and unpaid < today else 0
    return {
        "id": str(row["id"]),
        "customer_id": str(row["customer_id"]),
        "agent_id": None if row["agent_id"] is None else str(row["agent_id"]),
        "loan_type": row["loan_type"],
        "amount": format_cents(row["amount"]),
        "term_months": row["term_months"],
        "annual_rate": format_cents(row["annual_rate_bp"]),
        "monthly_payment": format_cents(row["monthly_payment"]),
        "total_interest": format_cents(row["total_interest"]),
        "total_payable": format_cents(row["total_payable"]),
        "status": row["status"],
        "outstanding_principal": format_cents(row["outstanding_principal"]),
        "days_past_due": late,
        "is_npl": late >= 90,
        "rejection_reason": row["rejection_reason"],
        "created_at": when(row["created_at"]),
        "updated_at": when(row["updated_at"]),
        "approved_at": when(row["approved_at"]),
        "closed_at": when(row["closed_at"]),
    }


@app.get("/api/v1/users/me")
async def me(request: Request) -> Response:
    async with request.app.state.pool.acquire() as connection:
        row = await caller(request, connection)
    if row is None:
        return UNAUTHORIZED
    return answer(
        {
            "id": str(row["id"]),
            "username": row["username"],
            "email": row["email"],
            "full_name": row["full_name"],
            "phone": row["phone"],
            "address": row["address"],
            "role": row["role"],
            "status": row["status"],
            "created_at": when(row["created_at"]),
            "updated_at": when(row["updated_at"]),
        }
    )


@app.get("/api/v1/loans")
async def own_loans(request: Request, limit: int = 50) -> Response:
    async with request.app.state.pool.acquire() as connection:
        row = await caller(request, connection)
        if row is None or row["role"] != "customer":
            return UNAUTHORIZED
        loans = await connection.fetch(LOANS, row["id"], min(max(limit, 1), 200))
    today = today_of(row)
    return answer(
        {
            "items": [loan_json(loan, today) for loan in loans],
            "total": loans[0][-1] if loans else 0,
            "limit": limit,
            "offset": 0,
        }
    )


@app.post("/api/v1/loans")
async def apply(request: Request) -> Response:
    body = await request.json()
    amount = int(Decimal(body["amount"]) * 100)  # the bench sends two decimals
    async with request.app.state.pool.acquire() as connection:
        row = await caller(request, connection)
        if row is None or row["role"] != "customer":
            return UNAUTHORIZED
        product = await connection.fetchrow(PRODUCT, body["loan_type"])
        term = int(body["term_months"])
        if product is None or not product["min_amount"] <= amount <= product["max_amount"]:
            return answer({"code": "amount_out_of_range"}, 422)
        today = today_of(row)
        schedule = build_schedule(
            amount, product["annual_rate_bp"], term, today, ScheduleKind(product["schedule_type"])
        )
        loan_id, now = uuid.uuid4(), datetime.now(UTC)
        changes = {
            "loan_type": {"from": None, "to": product["code"]},
            "amount": {"from": None, "to": format_cents(amount)},
            "term_months": {"from": None, "to": term},
            "annual_rate": {"from": None, "to": format_cents(product["annual_rate_bp"])},
            "monthly_payment": {"from": None, "to": format_cents(schedule.monthly_payment)},
            "total_interest": {"from": None, "to": format_cents(schedule.total_interest)},
            "total_payable": {"from": None, "to": format_cents(schedule.total_payable)},
            "status": {"from": None, "to": "new"},
            "outstanding_principal": {"from": None, "to": "0.00"},
        }
        async with connection.transaction():
            await connection.execute(
                INSERT_LOAN,
                loan_id,
                row["id"],
                product["code"],
                amount,
                term,
                product["annual_rate_bp"],
                product["schedule_type"],
                schedule.monthly_payment,
                schedule.total_interest,
                schedule.total_payable,
                now,
            )
            await connection.execute(INSERT_EVENT, loan_id, now, row["id"], json.dumps(changes))
    loan = {
        "id": loan_id,
        "customer_id": row["id"],
        "agent_id": None,
        "loan_type": product["code"],
        "amount": amount,
        "term_months": term,
        "annual_rate_bp": product["annual_rate_bp"],
        "monthly_payment": schedule.monthly_payment,
        "total_interest": schedule.total_interest,
        "total_payable": schedule.total_payable,
        "status": "new",
        "outstanding_principal": 0,
        "oldest_unpaid_due": None,
        "rejection_reason": None,
        "created_at": now,
        "updated_at": now,
        "approved_at": None,
        "closed_at": None,
    }
    return answer(loan_json(loan, today), 201)


@app.get("/api/v1/investments/portfolio")
async def portfolio(request: Request) -> Response:
    async with request.app.state.pool.acquire() as connection:
        row = await caller(request, connection)
        if row is None or row["role"] != "investor":
            return UNAUTHORIZED
        today = today_of(row)
        figures = await connection.fetchrow(PORTFOLIO, row["id"], today, today - timedelta(days=90))
    available, invested, earned, losses, active, overdue, npl, fees = (int(f) for f in figures)
    return answer(
        {
            "currency": "EUR",
            "available": format_cents(available),
            "invested": format_cents(invested),
            "total": format_cents(available + invested),
            "interest_earned": format_cents(earned),
            "losses": format_cents(losses),
            "active_allocations": active,
            "overdue_principal": format_cents(overdue),
            "npl_principal": format_cents(npl),
            "fees": format_cents(fees),
        }
    )
