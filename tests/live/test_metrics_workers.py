"""/metrics on `bank-api serve --workers 2` reports the whole server: whichever worker answers
the scrape, the counters add up every worker's requests (prometheus_client's multiprocess
mode, set up by `bank-api serve`)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.live import serving

COUNTED = re.compile(r"^http_requests_total\{([^}]*)\} ([0-9.e+]+)$", re.MULTILINE)


def _served(text: str) -> float:
    """Requests counted, except the scrapes themselves."""
    return sum(
        float(value)
        for labels, value in COUNTED.findall(text)
        if 'route="prometheus"' not in labels
    )


def test_counters_add_up_every_workers_requests(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    with serving(tmp_path, database, workers=2) as (url, _):
        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection each: both workers
        with httpx.Client(base_url=url, timeout=10, limits=fresh) as client:
            before = _served(client.get("/metrics").text)
            for _ in range(30):
                assert client.get("/healthz").status_code == 200
            scrapes = [_served(client.get("/metrics").text) for _ in range(8)]
    assert scrapes == [before + 30] * 8
