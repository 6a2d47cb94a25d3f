"""Where the server's CPU time goes, from py-spy's collapsed stacks ("a;b;c count" lines).

Self time (the innermost frame) is grouped by package, so the report can say "x % in
SQLAlchemy's compiler, y % in asyncpg, z % in our domain code"; inclusive time is listed for
the project's own functions, so the slow step of a use case stands out. py-spy samples only
threads that are running (not the event loop waiting in epoll), so the shares are of CPU time
spent in the worker processes, not of wall time.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
# First match wins: (label, substring of the file path).
PACKAGES = (
    ("SQLAlchemy: SQL compilation", "sqlalchemy/sql/"),
    ("SQLAlchemy: ORM", "sqlalchemy/orm/"),
    ("SQLAlchemy: engine and asyncpg dialect", "sqlalchemy/"),
    ("asyncpg driver", "asyncpg/"),
    ("pydantic validation and serialization", "pydantic"),
    ("FastAPI and Starlette (routing, dependencies)", "fastapi/"),
    ("FastAPI and Starlette (routing, dependencies)", "starlette/"),
    ("uvicorn, httptools, uvloop", "uvicorn/"),
    ("uvicorn, httptools, uvloop", "httptools"),
    ("uvicorn, httptools, uvloop", "uvloop"),
    ("JWT (python-jose)", "jose/"),
    ("bank_api domain (pure rules and arithmetic)", "bank_api/domain/"),
    ("bank_api (services, repositories, app)", "bank_api/"),
    ("logging and JSON", "logging/"),
    ("logging and JSON", "json/"),
    ("greenlet bridge", "greenlet"),
    # uvloop runs the loop in C: py-spy charges its epoll wait to the Python frame that
    # started it, so this is mostly idle waiting for the database and the network.
    ("event loop (uvloop, native: mostly waiting for I/O)", "asyncio/runners.py"),
    ("asyncio (stdlib)", "asyncio/"),
)


def category(file: str) -> str:
    for label, needle in PACKAGES:
        if needle in file:
            return label
    return "other (stdlib, interpreter)"


def parse(line: str) -> tuple[list[tuple[str, str]], int] | None:
    """One stack and its sample count; None for a line that is not one (py-spy writes a frame
    whose name holds a line break over two lines: both halves are skipped)."""
    stack, _, count = line.rstrip().rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = []
    for raw in stack.split(";"):
        match = FRAME.match(raw)
        frames.append((match["function"], match["file"]) if match else (raw, ""))
    return frames, int(count)


def summarise(paths: list[Path], top: int = 12) -> dict[str, Any]:
    by_package: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parsed = parse(line)
            if parsed is None:
                continue
            frames, count = parsed
            total += count
            function, file = frames[-1]
            by_package[category(file)] += count
            self_time[f"{function} ({short(file)})"] += count
            seen = set()
            for function, file in frames:
                name = f"{function} ({short(file)})"
                if "bank_api/" in file and name not in seen:
                    seen.add(name)
                    inclusive[name] += count
    if not total:
        return {"samples": 0}

    def share(counter: Counter[str], n: int) -> list[list[Any]]:
        return [[name, round(100 * count / total, 1)] for name, count in counter.most_common(n)]

    return {
        "samples": total,
        "by_package_pct": share(by_package, len(by_package)),
        "top_self_pct": share(self_time, top),
        "bank_api_inclusive_pct": share(inclusive, top),
    }


def short(file: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file
