"""Function-level access: every route's guard, proven by walking the app and by calling it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from bank_api.config import Settings
from bank_api.dependencies import BearerCaller
from bank_api.main import API_PREFIX, API_ROUTERS, create_app
from tests.support.api import Api
from tests.support.http import HASH_MARKERS, assert_problem

PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    # a refresh token is the credential of these two (tests/auth/test_refresh.py)
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


def _api_routes(app: FastAPI | None = None) -> Iterator[tuple[str, _Full]]:
    """(method, route) for every API route, with its full path in `route.path_format`."""
    for router in API_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                yield method, _Full(route)


class _Full:
    def __init__(self, route: APIRoute) -> None:
        self.route = route
        self.path = API_PREFIX + route.path
        self.dependant = route.dependant
        self.dependencies = route.dependencies


def _calls(dependant: Dependant) -> Iterator[object]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


@pytest.fixture(scope="module")
def bare_app() -> FastAPI:
    return create_app(
        Settings(
            _env_file=None,
            environment="test",  # type: ignore[call-arg]
            jwt_secret="z" * 40,
        )
    )


def test_every_non_public_route_requires_authentication(bare_app: FastAPI) -> None:
    routes = list(_api_routes(bare_app))
    assert len(routes) >= 12
    assert {route.path for _, route in routes} <= set(bare_app.openapi()["paths"])
    for method, route in routes:
        if (method, route.path) in PUBLIC:
            continue
        # the caller (`current_caller`) or a role guard: the bearer scheme, reading the caller
        authenticated = [c for c in _calls(route.dependant) if isinstance(c, BearerCaller)]
        assert authenticated, f"{method} {route.path}"


def test_admin_routes_carry_the_router_level_admin_guard(bare_app: FastAPI) -> None:
    admin_routes = [r for _, r in _api_routes(bare_app) if r.path.startswith("/api/v1/admin/")]
    assert len(admin_routes) >= 6
    for route in admin_routes:
        guards = [getattr(d.dependency, "__name__", "") for d in route.dependencies]
        assert guards[:1] == ["require_admin"], route.path


def test_every_route_has_one_tag_and_a_clean_operation_id(bare_app: FastAPI) -> None:
    schema = bare_app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert len(operation["tags"]) == 1, (method, path)
            tag = operation["tags"][0]
            assert re.fullmatch(rf"{tag}-[a-z_]+", operation["operationId"]), operation


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("role", ["customer", "investor", "agent"])
async def test_every_admin_route_is_403_for_other_roles(api: Api, role: str) -> None:
    account = await api.user(role)
    checked = 0
    for method, route in _api_routes(api.app):
        if not route.path.startswith("/api/v1/admin/"):
            continue
        response = await api.client.request(
            method, _concrete(route.path), headers=account.headers, json={}
        )
        assert_problem(response, 403, "forbidden")
        checked += 1
    assert checked >= 6


@pytest.mark.usefixtures("backend")
async def test_every_authenticated_route_is_401_without_a_token(api: Api) -> None:
    for method, route in _api_routes(api.app):
        if (method, route.path) in PUBLIC:
            continue
        response = await api.client.request(method, _concrete(route.path), json={})
        assert_problem(response, 401, "not_authenticated")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.usefixtures("backend")
async def test_no_list_or_object_response_contains_a_password_hash(api: Api) -> None:
    admin = await api.user("admin")
    agent = await api.user("agent")
    customer = await api.user("customer")
    await api.user("investor")
    pending = (await api.register("agent")).json()
    bodies = [pending]
    for headers in (admin.headers, agent.headers, customer.headers):
        for method, route in _api_routes(api.app):
            if method == "GET" and "{" not in route.path:
                response = await api.client.get(route.path, headers=headers)
                bodies.append(response.json())
    actions = [
        f"/api/v1/admin/agents/{pending['id']}/approve",
        f"/api/v1/admin/users/{customer.id}/disable",
        f"/api/v1/admin/users/{customer.id}/enable",
    ]
    for path in actions:
        response = await api.client.post(path, headers=admin.headers)
        assert response.status_code == 200
        bodies.append(response.json())
    listed = [item for body in bodies if isinstance(body, dict) for item in body.get("items", [])]
    assert len(listed) >= 8
    text = repr(bodies)
    for marker in HASH_MARKERS:
        assert marker not in text
    for item in listed:
        assert "password" not in " ".join(item)
