"""The dependencies FastAPI walks for each hot route, pinned: a later change cannot add one
silently.

FastAPI solves a route's dependency tree on every request, walking every node where it
appears, a cached one too (its value is reused; the walk is not): about 60,000 to 95,000
instructions each (bench/README.md, eleventh step). The caller's read is the bearer token's
security scheme itself (`dependencies.BearerCaller`), and so is each role guard; `Today` and
the idempotency guard ask for the caller directly: the caller is read once, and no walk goes
below a guard.
"""

from __future__ import annotations

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from bank_api.common.query import walked
from bank_api.dependencies import BearerCaller, RoleGuard, current_caller
from bank_api.main import API_PREFIX, API_ROUTERS


def _route(method: str, path: str) -> APIRoute:
    for router in API_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            if API_PREFIX + route.path == path and method in route.methods:
                return route
    raise AssertionError(f"no route {method} {path}")


def _names(dependant: Dependant) -> list[str]:
    return [getattr(d.call, "__name__", type(d.call).__name__) for d in walked(dependant)]


@pytest.mark.parametrize(
    ("method", "path", "nodes"),
    [
        ("GET", "/api/v1/users/me", ["BearerCaller"]),
        (
            "GET",
            "/api/v1/loans",
            [
                "require_customer_or_agent_or_admin",
                "get_read_uow",
                "read_LoanQuery",
                "read_PageParams",
                "get_business_date",
            ],
        ),
        (
            "GET",
            "/api/v1/investments/portfolio",
            [
                "require_investor",  # the router's guard
                "require_investor",  # the route's `actor`: the same, run once
                "get_read_uow",
                "get_settings_dep",
                "get_business_date",
            ],
        ),
        (
            "POST",
            "/api/v1/investments/deposits",
            [
                "require_investor",
                "require_investor",
                "get_uow",
                "get_uow",
                "idempotency",
                "get_settings_dep",
                "get_business_date",
                "get_recorder",
            ],
        ),
    ],
)
def test_a_hot_route_walks_these_dependencies(method: str, path: str, nodes: list[str]) -> None:
    assert _names(_route(method, path).dependant) == nodes


def test_the_caller_and_the_guards_are_nodes_with_nothing_beneath_them() -> None:
    """The bearer scheme reads the caller itself (once per request, `caller_of`): no walk
    below it, or below a role guard, which is such a scheme too."""
    schemes = [
        d
        for router in API_ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for d in walked(route.dependant)
        if isinstance(d.call, BearerCaller)
    ]
    assert any(d.call is current_caller for d in schemes)
    assert any(isinstance(d.call, RoleGuard) for d in schemes)
    assert all(not d.dependencies for d in schemes)
