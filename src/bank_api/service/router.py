"""Service probes: what this is, is the process alive, can it reach its database."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from bank_api import __version__
from bank_api.common.types import utcnow
from bank_api.errors import DatabaseUnavailable, problem_responses

router = APIRouter(tags=["service"])


class ServiceInfo(BaseModel):
    name: str
    version: str
    time: datetime
    docs: str | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/", response_model=ServiceInfo)
async def service_info(request: Request) -> ServiceInfo:
    """Name, version, server time and where the docs are."""
    docs = "/docs" if request.app.state.settings.docs_enabled else None
    return ServiceInfo(name="bank-api", version=__version__, time=utcnow(), docs=docs)


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """200 while the process runs."""
    return Health()


@router.get("/readyz", response_model=Health, responses=problem_responses(DatabaseUnavailable))
async def readyz(request: Request) -> Health | JSONResponse:
    """200 when the database answers a query, else 503."""
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise DatabaseUnavailable from exc
    return Health()
