from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import UTC, datetime

import pytest

from bank_api.main import create_app
from bank_api.observability import JsonFormatter
from tests.support.api import Api
from tests.support.databases import settings_for

pytestmark = pytest.mark.usefixtures("backend")


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{wanted}}} not found")


@pytest.mark.parametrize("settings_overrides", [{"metrics_money_totals": True}])
async def test_metrics_count_requests_and_money(api: Api) -> None:
    investor = await api.user("investor")
    headers = {**investor.headers, "Idempotency-Key": "m-1"}
    for _ in range(2):  # the replay must not count twice
        await api.client.post(
            "/api/v1/investments/deposits", json={"amount": "12.34"}, headers=headers
        )
    refused = await api.client.post(
        "/api/v1/investments/deposits", json={"amount": "0"}, headers=investor.headers
    )
    assert refused.status_code == 422
    text = (await api.client.get("/metrics")).text
    assert _sample(text, "bank_events_total", event="deposit") == 1
    assert _sample(text, "bank_amount_cents_total", event="deposit") == 1234
    deposits = {"method": "POST", "route": "investments-deposit"}
    assert _sample(text, "http_requests_total", **deposits, status="201") == 2
    assert _sample(text, "http_requests_total", **deposits, status="422") == 1
    assert _sample(text, "http_request_duration_seconds_count", **deposits) == 3


async def test_metrics_publish_no_money_totals_unless_asked(api: Api) -> None:
    investor = await api.user("investor")
    await api.client.post(
        "/api/v1/investments/deposits", json={"amount": "12.34"}, headers=investor.headers
    )
    text = (await api.client.get("/metrics")).text
    assert _sample(text, "bank_events_total", event="deposit") == 1
    assert "bank_amount_cents_total" not in text
    business = [line for line in text.splitlines() if line.startswith("bank_")]
    assert business  # the event counter is there ...
    assert all(float(line.rsplit(" ", 1)[1]) != 1234 for line in business)  # ... not the cents


async def test_log_lines_are_json_with_the_request_id(api: Api) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bank_api.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        await api.client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert (line["request_id"], line["status"], line["route"], line["level"]) == (
        "trace-42",
        200,
        "service-healthz",
        "info",
    )
    assert line["message"] == "GET /healthz 200"
    assert line["time"].endswith("+00:00")


def test_a_log_line_has_its_time_to_the_microsecond_and_every_extra() -> None:
    formatter = JsonFormatter()
    times = (1_765_000_000.25, 1_765_000_000.999_999_4, 1_765_000_001.000_001, 1_765_000_000.5)
    lines = [
        json.loads(
            formatter.format(
                logging.makeLogRecord(
                    {
                        "name": "bank_api.test",
                        "levelname": "WARNING",
                        "msg": "moved %s",
                        "args": ("12.50",),
                        "created": created,
                        "loan_id": uuid.UUID(int=7),  # not JSON: written as its text
                        "status": 409,
                    }
                )
            )
        )
        for created in times
    ]
    # The second's text is kept between lines: a line of another second gets its own.
    assert [line["time"] for line in lines] == [
        datetime.fromtimestamp(created, UTC).isoformat() for created in times
    ]
    assert lines[0] | {"time": None} == {
        "time": None,
        "level": "warning",
        "logger": "bank_api.test",
        "message": "moved 12.50",
        "loan_id": str(uuid.UUID(int=7)),
        "status": 409,
    }


@pytest.mark.parametrize("wanted", [False, True])
def test_fastapis_own_opentelemetry_follows_the_setting(backend: str, wanted: bool) -> None:
    """Off by default: FastAPI otherwise asks on every request whether the process's global
    OpenTelemetry providers are configured (docs/DECISIONS.md, "Runtime")."""
    overrides = {"opentelemetry": True} if wanted else {}
    app = create_app(settings_for(backend, **overrides))
    # What FastAPI was given as its `telemetry=` configuration.
    given = {signal: app._telemetry[signal] for signal in ("tracing", "metrics", "logs")}
    assert given == dict.fromkeys(("tracing", "metrics", "logs"), wanted)
