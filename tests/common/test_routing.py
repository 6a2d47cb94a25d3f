"""A request passes by the routers of other areas at the cost of a string test
(`common.routing.AreaRouter`), and is routed as before."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import Match
from starlette.types import Scope

from bank_api.common.routing import AreaRouter, areas
from bank_api.main import API_ROUTERS


def _routers() -> tuple[AreaRouter, AreaRouter]:
    loans = AreaRouter()

    @loans.get("/loans/{loan_id}")
    async def read_loan(loan_id: int) -> dict[str, int]:
        return {"loan": loan_id}

    @loans.get("/loan-products")
    async def products() -> list[str]:
        return ["personal"]

    investments = AreaRouter(prefix="/investments")

    @investments.get("/portfolio")
    async def portfolio() -> dict[str, str]:
        return {"available": "0.00"}

    @investments.post("/deposits")
    async def deposit() -> dict[str, str]:
        return {"amount": "10.00"}

    return loans, investments


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[APIRouter]:
    """The routers whose routes FastAPI tried, in order (an area router that turns a request
    away does not get that far)."""
    tried: list[APIRouter] = []
    original = APIRouter.matches

    def spy(self: APIRouter, scope: Scope) -> tuple[Match, Scope]:
        tried.append(self)
        return original(self, scope)

    monkeypatch.setattr(APIRouter, "matches", spy)
    return tried


def test_the_areas_are_the_first_segments_of_the_routes_paths() -> None:
    loans, investments = _routers()
    assert areas(loans) == ("/loan-products", "/loans")
    assert areas(investments) == ("/investments",)

    anything = AreaRouter()

    @anything.get("/{kind}/latest")
    async def latest(kind: str) -> str:
        return kind

    assert areas(anything) == ("/",)  # a parameter first: every path is in its area


async def test_a_request_is_tried_only_by_the_routers_of_its_area(
    asked: list[APIRouter],
) -> None:
    loans, investments = _routers()
    app = FastAPI()
    app.include_router(loans, prefix="/api/v1")
    app.include_router(investments, prefix="/api/v1")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        portfolio = await client.get("/api/v1/investments/portfolio")
        assert (portfolio.status_code, portfolio.json()) == (200, {"available": "0.00"})
        assert asked == [investments]

        asked.clear()
        loan = await client.get("/api/v1/loans/7")
        assert (loan.status_code, loan.json()) == (200, {"loan": 7})
        assert asked == [loans]

        # Routed as before: another method on a known path, an unknown path inside an area
        # and one outside every area.
        assert (await client.put("/api/v1/investments/deposits")).status_code == 405
        assert (await client.post("/api/v1/investments/deposits")).status_code == 200
        assert (await client.get("/api/v1/investments/nothing")).status_code == 404
        assert (await client.get("/api/v1/elsewhere")).status_code == 404
        assert (await client.get("/api/v1/loans/not-a-number")).status_code == 422


def test_every_api_router_is_an_area_router() -> None:
    assert all(isinstance(router, AreaRouter) for router in API_ROUTERS)
    assert all("/" not in areas(router) for router in API_ROUTERS)  # each turns others away
