"""Structured JSON logs carrying the request id, and Prometheus metrics.

Every log line is one JSON object with `time`, `level`, `logger`, `message` and, inside a
request, `request_id`. The request middleware writes one access line per request. Metrics are
per process (`/metrics`); several workers each expose their own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bank_api.middleware import request_id_var
from bank_api.openapi import operation_id

access_log = logging.getLogger("bank_api.access")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# A record's thread, process and calling frame are never written (the formatter keeps only the
# fields below and a call's own extras), so the logging module is told not to look them up:
# the documented switches of its "Optimization" section (a line here: 31 to 21 microseconds).
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


class JsonFormatter(logging.Formatter):
    """One JSON object a line. Built for a line a request (the access log): the time's date
    and second are formatted once a second, a record's extras are found by one set difference,
    and one encoder serves every line: 122,000 → 101,000 instructions a line (docs/DECISIONS.md,
    "Runtime")."""

    _ENCODER = json.JSONEncoder(default=str)
    # The last second formatted and its text ("YYYY-MM-DDTHH:MM:SS"), replaced as one value.
    _last_second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        fields = vars(record)
        for name in sorted(fields.keys() - _STANDARD):
            line[name] = fields[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return self._ENCODER.encode(line)

    def _time(self, created: float) -> str:
        """`created` in RFC 3339, UTC, to the microsecond."""
        second = int(created)
        known, stamp = self._last_second
        if second != known:
            stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._last_second = (second, stamp)
        micro = min(round((created - second) * 1_000_000), 999_999)
        return f"{stamp}.{micro:06d}+00:00"


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the service and uvicorn, all in JSON."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stdout": handler},
        "loggers": {
            "bank_api": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # Drivers trace statements with their parameters at DEBUG: never let them through.
            "aiosqlite": {"handlers": [], "level": "WARNING", "propagate": False},
            "asyncpg": {"handlers": [], "level": "WARNING", "propagate": False},
            "sqlalchemy": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


# Set (by `bank-api serve --workers N`, or by the deployment) before the workers start: their
# counters then live in files there and a scrape adds up every worker's.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def exposition(registry: CollectorRegistry) -> bytes:
    """The scrape: this process's `registry`, or every worker's figures in multiprocess mode."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return generate_latest(registry)
    everyone = CollectorRegistry()
    multiprocess.MultiProcessCollector(everyone)  # type: ignore[no-untyped-call]
    return generate_latest(everyone)


class Metrics:
    def __init__(self, *, money_totals: bool = False) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.events = Counter(
            "bank_events_total", "Business events", ["event"], registry=self.registry
        )
        self.amounts = (
            Counter(
                "bank_amount_cents_total",
                "Money moved, in cents",
                ["event"],
                registry=self.registry,
            )
            if money_totals
            else None
        )
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def series(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The request counter's and the latency histogram's series for one kind of answer,
        looked up once: `labels()` checks and converts its values and takes a lock on every
        call (about 20,000 instructions a request). Routes are operation ids and statuses
        HTTP's, so there are few."""
        key = (method, route, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        return found

    def record(self, event: str, cents: int) -> None:
        self.events.labels(event).inc()
        if self.amounts is not None:
            self.amounts.labels(event).inc(cents)


def _route_label(scope: Scope) -> str:
    """The operation id (`<tag>-<function>`), bounded in number unlike raw paths."""
    route = scope.get("route")
    if route is None or not getattr(route, "name", None):
        return "unmatched"
    return operation_id(route) if getattr(route, "tags", None) else str(route.name)


class MetricsMiddleware:
    """Counts and times every HTTP request by operation, and writes the access log line."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            count, latency = self.metrics.series(scope["method"], route, status)
            count.inc()
            latency.observe(elapsed)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"status": status, "route": route, "duration_ms": round(elapsed * 1000, 2)},
            )


def install_metrics(app: FastAPI) -> Callable[[str, int], None]:
    metrics = Metrics(money_totals=app.state.settings.metrics_money_totals)
    app.state.metrics = metrics

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(exposition(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return metrics.record
