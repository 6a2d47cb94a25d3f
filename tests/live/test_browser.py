"""Swagger UI in a real headless Chromium (Debian's `chromium`): open /docs, authorize with the
OAuth2 password flow, execute `GET /users/me`, and save a screenshot. No request may leave the
service: every URL the page loads must be the server's own."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Request, sync_playwright

from tests.support.factories import PASSWORD
from tests.support.live import LiveServer

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(path).exists(), "Debian's chromium is required (tasks.py test installs it)"
    return path


def test_swagger_ui_authorizes_and_executes_a_call(live_server: LiveServer) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.on(
                "request",
                lambda request: (
                    requested.append(request.url) if isinstance(request, Request) else None
                ),
            )
            page.goto(f"{live_server.url}/docs", wait_until="networkidle")
            page.wait_for_selector(".swagger-ui .information-container", timeout=20_000)

            page.click("button.authorize")
            page.fill("#oauth_username", "live_admin")
            page.fill("#oauth_password", PASSWORD)
            buttons = page.locator(".auth-container .auth-btn-wrapper")
            buttons.locator("button.authorize").click()
            buttons.locator("button:has-text('Logout')").wait_for(timeout=10_000)
            buttons.locator("button:has-text('Close')").click()

            operation = page.locator("#operations-users-users-read_me")
            operation.locator(".opblock-summary").click()
            # "Try it out" is on by default (swagger_ui_parameters tryItOutEnabled)
            operation.locator("button.execute").click()
            status = operation.locator(".live-responses-table tbody .response-col_status").first
            status.wait_for(timeout=10_000)
            assert status.inner_text().strip().startswith("200")
            assert "live_admin" in operation.locator(".live-responses-table").inner_text()
            page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"), full_page=True)
        finally:
            browser.close()
    outside = [
        url
        for url in requested
        if not url.startswith((live_server.url, "data:", "blob:", "about:"))
    ]
    assert requested
    assert outside == []
