"""Query parameters read as one model: one validation a request, documented as FastAPI would.

FastAPI reads each query parameter a route declares on its own, on every request, at about
64,000 instructions a parameter (bench/README.md, twelfth step): a page of loans with its nine
filters and the page's two bounds spent a ninth of its time there. A `QueryReader` validates
the whole query string against a pydantic model in one call instead. FastAPI does not see the
parameters of a dependency that takes the request, so `document_queries` adds them to the
schema, as FastAPI itself documents the same model as a query model (the parameters and the
422 answer), after the parameters FastAPI documents for the route itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class QueryModel(BaseModel):
    """A route's query parameters: each field one parameter (`fastapi.Query(...)` for its
    constraints and description); a parameter the model does not name is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class QueryReader(Generic[M]):
    """The dependency that reads `model` from the request's query string, and gives it, or
    what `then` makes of it. Invalid values are a 422 like FastAPI's own: each error located
    at `("query", <parameter>)`."""

    def __init__(self, model: type[M], then: Callable[[M], Any] | None = None) -> None:
        self.model = model
        self.then = then
        self.__name__ = f"read_{model.__name__}"

    async def __call__(self, request: Request) -> Any:
        try:
            values = self.model.model_validate(request.query_params)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in errors]
            ) from None
        return values if self.then is None else self.then(values)

    @cached_property
    def documented(self) -> dict[str, Any]:
        """The operation FastAPI documents for a route that takes `model` as its query."""

        async def endpoint(query: Any) -> None:
            """Only documented, never called."""

        endpoint.__annotations__ = {"query": Annotated[self.model, Query()], "return": None}
        route = APIRoute("/", endpoint, methods=["GET"])
        schema = get_openapi(title=self.model.__name__, version="0", routes=[route])
        operation: dict[str, Any] = schema["paths"]["/"]["get"]
        return operation


def document_queries(schema: dict[str, Any], routes: Iterable[tuple[str, APIRoute]]) -> None:
    """Add to each operation of `routes` (each with its full path) the parameters of the
    query readers among its dependencies, in the order FastAPI walks them."""
    for path, route in routes:
        readers = [
            node.call for node in walked(route.dependant) if isinstance(node.call, QueryReader)
        ]
        for method in (route.methods or ()) if readers else ():
            operation = schema["paths"][path][method.lower()]
            for reader in dict.fromkeys(readers):
                documented = copy.deepcopy(reader.documented)
                operation.setdefault("parameters", []).extend(documented["parameters"])
                responses = operation.setdefault("responses", {})
                responses.setdefault("422", documented["responses"]["422"])


def walked(dependant: Dependant) -> Iterator[Dependant]:
    """Every dependency FastAPI walks for a request to `dependant`, in its order (each place a
    dependency appears, repeats included)."""
    for sub in dependant.dependencies:
        yield from walked(sub)
        yield sub
