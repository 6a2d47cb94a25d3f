"""The ASGI application: `bank_api.main:app`, built by `create_app()`."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from bank_api import __version__
from bank_api.admin.router import router as admin_router
from bank_api.auth.router import router as auth_router
from bank_api.bootstrap import bootstrap_admin
from bank_api.config import Settings, get_settings, warn_if_development_secret
from bank_api.database import (
    create_engine,
    create_read_engine,
    create_read_sessionmaker,
    create_reader,
    create_sessionmaker,
    dispose_engines,
    head_revision,
)
from bank_api.db_errors import database_problem, sqlstate
from bank_api.docs import install_docs
from bank_api.domain.errors import DomainError
from bank_api.errors import AppError
from bank_api.investments.router import router as investments_router
from bank_api.loans.early_router import router as early_repayment_router
from bank_api.loans.router import router as loans_router
from bank_api.middleware import (
    NulInBody,
    RequestContextMiddleware,
    nul_problem,
    request_id_var,
)
from bank_api.observability import install_metrics
from bank_api.openapi import install_openapi, operation_id
from bank_api.problems import INTERNAL_ERROR, error_response, problem_response, validation_problem
from bank_api.security import PasswordHasher, TokenService
from bank_api.service.router import router as service_router
from bank_api.users.router import router as users_router

log = logging.getLogger("bank_api")
API_PREFIX = "/api/v1"
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    400: "bad_request",
}


# In the order requests are matched: FastAPI tries every route of every router in turn (a
# router's prefix does not short-cut it), about 10,000 instructions a route here, so the
# routers the most frequent requests need come first and the service routes (probes) last.
# No path is served by two routers, so the order changes nothing but the cost.
API_ROUTERS = (
    users_router,
    loans_router,
    investments_router,
    early_repayment_router,
    auth_router,
    admin_router,
)


def api_routes() -> list[tuple[str, APIRoute]]:
    """Every route of the API's routers, with its full path."""
    return [
        (API_PREFIX + route.path, route)
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warn_if_development_secret(settings)
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.read_engine = read_engine = create_read_engine(engine, settings)
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.reader = create_reader(read_engine)
        app.state.read_sessionmaker = create_read_sessionmaker(read_engine)
        app.state.hasher = hasher = PasswordHasher(settings)
        try:
            await bootstrap_admin(app.state.sessionmaker, hasher, settings)
            if settings.gc_freeze:
                # Move everything alive after startup (modules, schemas, compiled queries) out
                # of the collector's reach: a full collection otherwise walks it all and
                # stalls the event loop for tens of milliseconds.
                gc.freeze()
            yield
        finally:
            hasher.close()
            await dispose_engines(engine, read_engine)

    app = FastAPI(
        title="bank-api",
        version=__version__,
        description=(
            "Loans funded by a pool of depositors, with exact money and a double-entry ledger."
        ),
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        # No redirect to the slash-less path: Starlette builds it from the Host header, which
        # a client controls. `/api/v1/loans/` is a 404 like any other unknown path.
        redirect_slashes=False,
        # Off, FastAPI still looked up three global OpenTelemetry providers on every request
        # (docs/DECISIONS.md, "Runtime").
        telemetry={
            "tracing": settings.opentelemetry,
            "metrics": settings.opentelemetry,
            "logs": settings.opentelemetry,
        },
    )
    app.state.settings = settings
    app.state.schema_revision = head_revision()
    app.state.tokens = TokenService(settings)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(service_router)
    install_openapi(app, api_routes())
    if settings.docs_enabled:
        install_docs(app)
    _install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Idempotent-Replayed", "Retry-After"],
        )
    install_metrics(app)  # inside the request-id middleware, so access lines carry the id
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_app_error(request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc, request_id_var.get())

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        issues = _wrong_media_type(request, exc.errors()) or [_issue(e) for e in exc.errors()]
        return validation_problem(issues, request_id_var.get())

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, NulInBody):
            return nul_problem(["body"], request_id_var.get())
        if exc.status_code == 400:  # a body FastAPI could not even decode: invalid request
            issue = {
                "loc": ["body"],
                "msg": "the body is not valid UTF-8 JSON",
                "type": "json_invalid",
            }
            return validation_problem([issue], request_id_var.get())
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        title = code.replace("_", " ").capitalize()
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            exc.status_code,
            code,
            title,
            detail,
            request_id=request_id_var.get(),
            headers=exc.headers,
        )

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        problem = database_problem(exc)
        if problem is None:
            return await on_unexpected(request, exc)
        log.warning(
            "database error: %s (sqlstate %s) -> %s",
            type(exc).__name__,
            sqlstate(exc),
            type(problem).__name__,
            extra={"request_id": request_id_var.get()},
        )
        return error_response(problem, request_id_var.get())

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside the request-id middleware (Starlette's outermost layer): read the id
        # that middleware left in the scope and put the header on ourselves.
        request_id = request_id_var.get() or request.scope.get("state", {}).get("request_id")
        if isinstance(exc, DBAPIError):
            # Never the message: a driver puts the offending values in it, which may be a
            # password hash or a token. The statement has placeholders only.
            log.error(
                "unexpected database error: %s (sqlstate %s)",
                type(exc.orig).__name__,
                sqlstate(exc),
                extra={"request_id": request_id, "statement": exc.statement},
            )
        else:
            log.exception("unexpected error", extra={"request_id": request_id})
        return problem_response(
            *INTERNAL_ERROR,
            request_id=request_id,
            headers={"X-Request-ID": request_id} if request_id else None,
        )

    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(DomainError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for error in (DBAPIError, PoolTimeout, ConnectionError, TimeoutError):
        app.add_exception_handler(error, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)


_ENUM_REPR = re.compile(r"<\w+\.\w+: ('[^']*')>")


def _issue(error: Any) -> dict[str, Any]:
    """A validation error in the client's terms, without the offending input echoed back (it
    may be a password): no Python enum reprs, no "Value error, " prefix."""
    message = _ENUM_REPR.sub(r"\1", str(error.get("msg", ""))).removeprefix("Value error, ")
    return {
        "loc": list(error.get("loc", ())),
        "msg": message,
        "type": str(error.get("type", "")),
    }


_BODY_MISSING = frozenset({"missing", "model_attributes_type", "dict_type", "model_type"})


def _wrong_media_type(request: Request, errors: Any) -> list[dict[str, Any]] | None:
    """One clear issue when the body could not be read because it came in another media type
    than the route takes (JSON sent to the token form, a form sent to a JSON route)."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    expected = getattr(getattr(body_field, "field_info", None), "media_type", None)
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not expected or not sent or sent == expected:
        return None
    if expected == "application/json" and sent.endswith("+json"):
        return None
    on_body = [e for e in errors if tuple(e.get("loc", ()))[:1] == ("body",)]
    if not on_body or any(e.get("type") not in _BODY_MISSING for e in on_body):
        return None
    return [
        {
            "loc": ["body"],
            "msg": f"this endpoint takes a body of type {expected}, not {sent}",
            "type": "content_type",
        }
    ]


def __getattr__(name: str) -> Any:
    """`bank_api.main:app`, built on first access so importing this module has no side effects
    (settings are read, and refused if unsafe, when a server asks for the app)."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
