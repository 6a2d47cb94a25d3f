"""A router that a request for another part of the API passes by at the cost of a string test."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


class AreaRouter(APIRouter):
    """An `APIRouter` that turns away a request outside the areas its routes are in.

    FastAPI asks each included router in turn whether it has a route for the request, and a
    router answers by trying its routes one by one, about 15,000 instructions each (measured
    in bench/README.md, twelfth step): a request for the last router paid for every route of
    the routers before it. An area is the first segment of a route's path (`/loans`,
    `/investments`, with the router's own prefix): a request whose path contains none of the
    areas cannot match any of the routes, and is answered "no match" at once. Anything else
    goes to FastAPI's matching unchanged, so the test can only say no where every route would
    (a path segment that is a parameter makes no area, and then nothing is turned away).
    """

    _areas: tuple[str, ...] = ()
    _areas_of: int = -1  # how many routes the areas were worked out from

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if len(self.routes) != self._areas_of:
            self._areas, self._areas_of = areas(self), len(self.routes)
        path = scope.get("path", "")
        for area in self._areas:
            if area in path:
                return super().matches(scope)
        return Match.NONE, {}


def areas(router: APIRouter) -> tuple[str, ...]:
    """The first path segment of each of `router`'s routes ("/" for one that starts with a
    parameter or has no path, which every request path contains)."""
    found = set()
    for route in router.routes:
        first = "/" + str(getattr(route, "path", "/")).split("/")[1]
        found.add("/" if "{" in first else first)
    return tuple(sorted(found))
