"""Request/response schema bases and the list envelope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from bank_api.common.query import QueryModel, QueryReader

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000


class RequestSchema(BaseModel):
    """Every request body: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(QueryModel):
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, at most 200")] = 50
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0


page_params = QueryReader(PageParams)


def to_page(
    schema: type[BaseModel], rows: Sequence[object], total: int, params: PageParams
) -> dict[str, object]:
    """The list envelope for `rows`, each validated through its response schema."""
    return {
        "items": [schema.model_validate(row) for row in rows],
        "total": total,
        "limit": params.limit,
        "offset": params.offset,
    }
