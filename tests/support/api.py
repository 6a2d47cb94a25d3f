"""The API as a test talks to it: log in, register, and users of every role."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from bank_api.auth.service import create_admin
from bank_api.uow import UnitOfWork
from tests.support.factories import PASSWORD, Account, make_user, user_payload
from tests.support.http import bearer


class Api:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def token(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, str]:
        response = await self.token(username, password)
        assert response.status_code == 200, response.text
        return bearer(response.json()["access_token"])

    async def register(self, role: str = "customer", **overrides: Any) -> httpx.Response:
        return await self.client.post("/api/v1/auth/register", json=user_payload(role, **overrides))

    async def user(self, role: str = "customer", **overrides: Any) -> Account:
        """An active user with a token, inserted directly (see `factories`)."""
        return await make_user(self.app, role, **overrides)

    async def registered(self, role: str = "customer", **overrides: Any) -> Account:
        """A user made the way a client makes one: register, an admin approves an agent, log in;
        an admin made as the CLI makes one."""
        if role == "admin":
            return await self._cli_admin()
        payload = user_payload(role, **overrides)
        response = await self.client.post("/api/v1/auth/register", json=payload)
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        if role == "agent":
            admin = await self.user("admin")
            approved = await self.client.post(
                f"/api/v1/admin/agents/{user_id}/approve", headers=admin.headers
            )
            assert approved.status_code == 200, approved.text
        headers = await self.login(payload["username"], payload["password"])
        return Account(user_id, payload["username"], payload["password"], role, headers)

    async def _cli_admin(self) -> Account:
        payload = user_payload("admin")
        async with self.app.state.sessionmaker() as session, UnitOfWork(session) as uow:
            user = await create_admin(
                uow,
                self.app.state.hasher,
                username=payload["username"],
                email=payload["email"],
                password=PASSWORD,
            )
        headers = await self.login(payload["username"])
        return Account(str(user.id), payload["username"], PASSWORD, "admin", headers)
