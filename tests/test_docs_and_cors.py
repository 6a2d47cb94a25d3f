from __future__ import annotations

import re

import httpx
import pytest

from bank_api.config import Settings
from bank_api.main import create_app


def _client(**settings: object) -> httpx.AsyncClient:
    app = create_app(Settings(_env_file=None, **settings))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_are_served_from_the_service_itself(page: str) -> None:
    async with _client() as client:
        html = await client.get(page)
        assert html.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert assets
        assert all(asset.startswith("/static/") for asset in assets), assets
        assert "http://" not in html.text
        assert "https://" not in html.text
        for asset in assets:
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert len(response.content) > 100


async def test_swagger_ui_authorizes_against_the_token_endpoint() -> None:
    async with _client() as client:
        schema = (await client.get("/openapi.json")).json()
        redirect = await client.get("/docs/oauth2-redirect")
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert redirect.status_code == 200


async def test_docs_can_be_switched_off() -> None:
    async with _client(docs_enabled=False) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/console", "/console/"):
            assert (await client.get(path)).status_code == 404
        assert (await client.get("/")).json()["docs"] is None


async def test_cors_only_for_configured_origins() -> None:
    async with _client(cors_origins="https://app.example") as client:
        preflight = {"Access-Control-Request-Method": "POST"}
        allowed = await client.options(
            "/api/v1/auth/token", headers={"Origin": "https://app.example", **preflight}
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.options(
            "/api/v1/auth/token", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
        simple = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers
        listed = await client.get("/healthz", headers={"Origin": "https://app.example"})
        assert listed.headers["access-control-allow-origin"] == "https://app.example"


async def test_no_cors_at_all_by_default() -> None:
    async with _client() as client:
        response = await client.get("/healthz", headers={"Origin": "https://app.example"})
        assert "access-control-allow-origin" not in response.headers
