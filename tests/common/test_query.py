"""A query read as one model (`common.query.QueryReader`) answers and is documented exactly as
the same parameters declared one by one to FastAPI."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from bank_api.common.query import QueryModel, QueryReader, document_queries
from bank_api.models import LoanStatus


class Search(QueryModel):
    status: LoanStatus | None = None
    owner: uuid.UUID | None = None
    late: Annotated[bool | None, Query(description="Late ones only")] = None
    text: Annotated[str | None, Query(max_length=5)] = None
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None
    limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50


def _apps() -> tuple[FastAPI, FastAPI]:
    """The same route twice: its parameters declared to FastAPI, and read as `Search`."""
    declared, read = FastAPI(), FastAPI()

    @declared.get("/items/{kind}")
    async def by_parameters(
        kind: str,
        status: LoanStatus | None = None,
        owner: uuid.UUID | None = None,
        late: Annotated[bool | None, Query(description="Late ones only")] = None,
        text: Annotated[str | None, Query(max_length=5)] = None,
        since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
    ) -> dict[str, Any]:
        values = {"status": status, "owner": owner, "late": late, "text": text, "from": since}
        return {
            "kind": kind,
            **Search.model_validate(values | {"limit": limit}).model_dump(mode="json"),
        }

    @read.get("/items/{kind}")
    async def by_model(kind: str, search: Annotated[Search, Depends(QueryReader(Search))]) -> Any:
        return {"kind": kind, **search.model_dump(mode="json")}

    return declared, read


QUERIES = [
    "",
    "status=active&limit=20",
    f"owner={uuid.UUID(int=7)}&late=yes&text=abc&from=2026-01-01",
    "limit=200&limit=3",  # the last of a repeated parameter
    "unknown=1&late=0",  # a parameter nobody declared is ignored
    "limit=0",
    "limit=201&status=nope",
    "limit=abc&owner=x&late=maybe",
    "text=toolong&from=01234567890",
    "status=",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_the_answer_is_the_one_fastapi_gives_for_declared_parameters(query: str) -> None:
    answers = []
    for app in _apps():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get(f"/items/books?{query}")
        answers.append((answer.status_code, answer.json()))
    assert answers[0] == answers[1]


def test_the_parameters_are_documented_as_fastapi_documents_declared_ones() -> None:
    declared, read = _apps()
    expected = get_openapi(title="t", version="1", routes=declared.routes)
    schema = get_openapi(title="t", version="1", routes=read.routes)
    route = next(r for r in read.routes if isinstance(r, APIRoute))
    document_queries(schema, [("/items/{kind}", route)])

    operation, wanted = (
        schema["paths"]["/items/{kind}"]["get"],
        expected["paths"]["/items/{kind}"]["get"],
    )
    assert [p["name"] for p in operation["parameters"]] == [
        "kind",
        "status",
        "owner",
        "late",
        "text",
        "from",
        "limit",
    ]
    assert operation["parameters"] == wanted["parameters"]
    assert operation["responses"]["422"] == wanted["responses"]["422"]


async def test_then_makes_the_dependency_s_value_of_the_model() -> None:
    app = FastAPI()

    @app.get("/count")
    async def count(
        limit: Annotated[int, Depends(QueryReader(Search, lambda s: s.limit * 2))],
    ) -> int:
        return limit

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/count?limit=21")).json() == 42
