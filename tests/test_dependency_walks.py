"""The dependencies FastAPI walks for each hot route, pinned: a later change cannot add one
silently.

FastAPI solves a route's dependency tree on every request, walking every node where it
appears, a cached one too (its value is reused; the walk is not): about 60,000 to 95,000
instructions each (bench/README.md, eleventh step). The caller's read is one node, the bearer
token's security scheme itself (`dependencies.BearerCaller`), so a route reaching the caller
through its guard, `Today` and the idempotency guard walks it three times, not six.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from bank_api.dependencies import current_caller
from bank_api.main import API_PREFIX, API_ROUTERS


def _route(method: str, path: str) -> APIRoute:
    for router in API_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if API_PREFIX + route.path == path and method in route.methods:
                return route
    raise AssertionError(f"no route {method} {path}")


def _walked(dependant: Dependant) -> Iterator[Dependant]:
    """Every node FastAPI walks for a request, in its order, repeats included."""
    for sub in dependant.dependencies:
        yield from _walked(sub)
        yield sub


def _names(dependant: Dependant) -> list[str]:
    return [getattr(d.call, "__name__", type(d.call).__name__) for d in _walked(dependant)]


@pytest.mark.parametrize(
    ("method", "path", "walked"),
    [
        ("GET", "/api/v1/users/me", ["BearerCaller"]),
        (
            "GET",
            "/api/v1/loans",
            [
                "BearerCaller",
                "require_customer_or_agent_or_admin",
                "get_read_uow",
                "loan_filters",
                "page_params",
                "BearerCaller",
                "get_business_date",
            ],
        ),
        (
            "GET",
            "/api/v1/investments/portfolio",
            [
                "BearerCaller",
                "require_investor",
                "BearerCaller",
                "require_investor",
                "get_read_uow",
                "get_settings_dep",
                "BearerCaller",
                "get_business_date",
            ],
        ),
        (
            "POST",
            "/api/v1/investments/deposits",
            [
                "BearerCaller",
                "require_investor",
                "BearerCaller",
                "require_investor",
                "get_uow",
                "get_uow",
                "BearerCaller",
                "idempotency",
                "get_settings_dep",
                "BearerCaller",
                "get_business_date",
                "get_recorder",
            ],
        ),
    ],
)
def test_a_hot_route_walks_these_dependencies(method: str, path: str, walked: list[str]) -> None:
    assert _names(_route(method, path).dependant) == walked


def test_the_caller_is_one_node_with_nothing_beneath_it() -> None:
    """The scheme and the read are one dependency: no walk below it."""
    callers = [
        d
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for d in _walked(route.dependant)
        if d.call is current_caller
    ]
    assert callers
    assert all(not d.dependencies for d in callers)
