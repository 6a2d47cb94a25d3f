"""Pure ASGI middleware: request ids, request body limit, no caching of API responses."""

from __future__ import annotations

import contextvars
import re
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bank_api.errors import problem_response

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class _BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


class RequestContextMiddleware:
    """Accepts a well-formed `X-Request-ID` or makes one, echoes it, and stores it for logs and
    error bodies; refuses bodies over `max_body_bytes` with 413; marks API responses no-store."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, api_prefix: str = "/api/") -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        no_store = scope["path"].startswith(self.api_prefix)
        try:
            if self._declared_too_large(headers):
                await self._too_large(scope, receive, send, request_id)
                return
            await self.app(
                scope, self._limited(receive), self._decorated(send, request_id, no_store)
            )
        except _BodyTooLarge:
            await self._too_large(scope, receive, send, request_id)
        finally:
            request_id_var.reset(token)

    def _declared_too_large(self, headers: dict[bytes, bytes]) -> bool:
        length = headers.get(b"content-length", b"")
        return length.isdigit() and int(length) > self.max_body_bytes

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        return limited_receive

    @staticmethod
    def _decorated(send: Send, request_id: str, no_store: bool) -> Send:
        async def decorated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra: list[Any] = [(b"x-request-id", request_id.encode())]
                names = {name.lower() for name, _ in message.get("headers", [])}
                if no_store and b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return decorated_send

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        response = problem_response(
            413,
            "request_too_large",
            "Request too large",
            f"The request body exceeds {self.max_body_bytes} bytes.",
            request_id=request_id,
            headers={"x-request-id": request_id},
        )
        await response(scope, receive, send)
