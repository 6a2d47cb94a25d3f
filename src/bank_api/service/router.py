"""Service probes: what this is, is the process alive, can it reach its database."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bank_api import __version__
from bank_api.common.types import utcnow
from bank_api.database import schema_revision
from bank_api.errors import DatabaseNotMigrated, DatabaseUnavailable
from bank_api.problems import problem_responses

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


@router.get(
    "/readyz",
    response_model=Health,
    responses=problem_responses(DatabaseUnavailable, DatabaseNotMigrated),
)
async def readyz(request: Request) -> Health | JSONResponse:
    """200 when the database answers and has this version's schema, else 503."""
    try:
        async with request.app.state.engine.connect() as connection:
            revision = await schema_revision(connection)
    except Exception as exc:  # any failure to reach the database means "not ready"
        raise DatabaseUnavailable from exc
    if revision != request.app.state.schema_revision:
        raise DatabaseNotMigrated
    return Health()
