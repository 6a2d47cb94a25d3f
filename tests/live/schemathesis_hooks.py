"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by test_schemathesis.py): besides
what it generates from the schema, operations are also tried with the NUL character in their
text inputs and with date bounds at the edges of the calendar.

Generated values are rewritten in turn (map hooks): one in three keeps what schemathesis
generated, one gets a NUL character in every string, and on the date-bounded lists one is
replaced by bounds at the calendar's edges alone (other generated parameters are mostly
invalid and would be refused before the bounds are read).
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis

DATE_PARAMS = {
    "/api/v1/loans": ("created_from", "created_to", "updated_from", "updated_to"),
    "/api/v1/investments/transactions": ("from", "to"),
}
EDGE_DATES = [
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59.999999-01:00",
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
]
_turn = itertools.count()


def _with_nul(value: Any) -> Any:
    """`value` with a NUL character in every string it holds (keys of objects excepted)."""
    if isinstance(value, str):
        return value[: len(value) // 2] + "\x00" + value[len(value) // 2 :]
    if isinstance(value, dict):
        return {key: _with_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_nul(item) for item in value]
    return value


def _edges(bounds: tuple[str, ...], turn: int) -> dict[str, str]:
    first = EDGE_DATES[turn % len(EDGE_DATES)]
    second = EDGE_DATES[(turn // len(EDGE_DATES)) % len(EDGE_DATES)]
    return {name: first if i % 2 == 0 else second for i, name in enumerate(bounds)}


@schemathesis.hook
def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
    turn = next(_turn)
    operation = context.operation
    bounds = DATE_PARAMS.get(operation.path, ())
    if turn % 3 == 1:
        return _with_nul(query)
    if turn % 3 == 2 and bounds and operation.method.lower() == "get":
        return _edges(bounds, turn // 3)
    return query


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    return _with_nul(body) if next(_turn) % 2 else body


@schemathesis.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    return _with_nul(path_parameters) if next(_turn) % 3 == 1 else path_parameters
