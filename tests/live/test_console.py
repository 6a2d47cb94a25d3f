"""The reference console in headless Chromium (Debian's `chromium`), served from another origin
than the API, with CORS configured: every role does its main task over HTTP, the session is
renewed by the refresh token, a problem's detail is shown; screenshots in test-artifacts/."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bank_api.docs import STATIC
from tests.live.test_browser import ARTIFACTS, CHROMIUM_FLAGS, _chromium
from tests.support.factories import PASSWORD, user_payload
from tests.support.live import _free_port, serving


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The console's page on its own origin (a plain static server of the package's console
    files), its API on another, and a user of every role: (page URL, usernames by role)."""
    folder = tmp_path_factory.mktemp("console")
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    static = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=STATIC / "console",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        database = f"sqlite+aiosqlite:///{folder / 'console.db'}"
        with serving(folder, database, cors_origins=origin) as (api, _):
            names = {"admin": "live_admin"}
            with httpx.Client(base_url=api, timeout=10) as client:
                admin = client.post(
                    "/api/v1/auth/token", data={"username": "live_admin", "password": PASSWORD}
                ).json()["access_token"]
                for role in ("customer", "investor", "agent"):
                    payload = user_payload(role)
                    created = client.post("/api/v1/auth/register", json=payload).json()
                    if role == "agent":
                        client.post(
                            f"/api/v1/admin/agents/{created['id']}/approve",
                            headers={"Authorization": f"Bearer {admin}"},
                        )
                    names[role] = payload["username"]
            _wait_ready_static(origin)
            yield f"{origin}/index.html?api={api}", names
    finally:
        static.terminate()
        static.wait(timeout=10)


def _wait_ready_static(origin: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(f"{origin}/index.html", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("static server did not start")


def _log_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.fill("#login input[name=username]", username)
    page.fill("#login input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("#who")).to_contain_text(username)
    expect(page.locator("#login")).to_be_hidden()


def _shot(page: Page, role: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{role}.png"), full_page=True)


def test_every_role_does_its_main_task_from_another_origin(
    console: tuple[str, dict[str, str]],
) -> None:
    url, names = console
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            investor = browser.new_page()
            _log_in(investor, url, names["investor"])
            investor.fill("#deposit input[name=amount]", "5000.00")
            investor.click("#deposit button")
            expect(investor.locator("#portfolio [data-field=available]")).to_have_text("5000.00")
            investor.fill("#withdraw input[name=amount]", "999999.00")
            investor.click("#withdraw button")
            expect(investor.locator("#error")).to_contain_text("available")
            investor.fill("#withdraw input[name=amount]", "100.00")
            investor.click("#withdraw button")
            expect(investor.locator("#portfolio [data-field=available]")).to_have_text("4900.00")
            investor.click("#renew")  # the refresh token renews the session
            expect(investor.locator("#session")).to_have_text("session renewed (1)")
            investor.fill("#deposit input[name=amount]", "0.50")
            investor.click("#deposit button")  # with the renewed access token
            expect(investor.locator("#portfolio [data-field=available]")).to_have_text("4900.50")
            _shot(investor, "investor")

            customer = browser.new_page()
            _log_in(customer, url, names["customer"])
            customer.select_option("#products", "personal_loan")
            customer.fill("#apply input[name=amount]", "1000.00")
            customer.fill("#apply input[name=term_months]", "6")
            customer.click("#apply button")
            expect(customer.locator("#own-loans tbody tr")).to_have_count(1)
            expect(customer.locator("#own-loans tbody tr td").nth(2)).to_have_text("new")

            agent = browser.new_page()
            _log_in(agent, url, names["agent"])
            agent.locator("#applications tbody tr button").first.click()
            expect(agent.locator("#notice")).to_contain_text("forwarded")
            _shot(agent, "agent")

            admin = browser.new_page()
            _log_in(admin, url, names["admin"])
            admin.locator("#approvals tbody tr button").first.click()
            expect(admin.locator("#notice")).to_contain_text("is active")
            expect(admin.locator("#pool [data-field=active_loans]")).to_have_text("1")
            admin.click("#verify")
            expect(admin.locator("#verified")).to_have_text("ledger ok")
            _shot(admin, "admin")

            customer.reload()
            _log_in(customer, url, names["customer"])
            customer.locator("#own-loans tbody tr button").first.click()
            expect(customer.locator("#schedule tbody tr")).to_have_count(6)
            customer.click("#pay button")
            expect(customer.locator("#notice")).to_contain_text("Paid")
            expect(customer.locator("#schedule tbody tr td").nth(4)).to_have_text("paid")
            _shot(customer, "customer")
        finally:
            browser.close()


def test_the_service_serves_the_console_itself(console: tuple[str, dict[str, str]]) -> None:
    api = console[0].split("?api=")[1]
    page = httpx.get(f"{api}/console/", timeout=10)
    assert page.status_code == 200
    assert "bank-api console" in page.text
    assert httpx.get(f"{api}/console/console.js", timeout=10).status_code == 200
    assert httpx.get(f"{api}/console", timeout=10).headers["location"] == "/console/"
