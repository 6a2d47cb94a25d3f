"""Pure ASGI middleware: request ids, request body limit, text no database can hold, no caching
of API responses, and the end of the request's database sessions.

The NUL character (U+0000) cannot be stored by PostgreSQL in text columns, while SQLite stores
it; so that both give the same answer, it is refused before any route runs: in the path, in
the query string, and in form or JSON bodies (as `%00`, or as the JSON escape `\u0000`), with
the same 422 `validation_error` as any other invalid input.
"""

from __future__ import annotations

import contextvars
import os
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bank_api.database import close_request_sessions
from bank_api.problems import problem_response, validation_problem

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


class _BodyTooLarge(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it through as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds {limit} bytes.")


NUL_MESSAGE = "must not contain the NUL character (U+0000)"
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 not itself escaped
FORM_TYPE = b"application/x-www-form-urlencoded"
# On every response: no MIME sniffing, and no page of ours inside someone else's frame (the docs
# pages are the only HTML, but nothing here is meant to be framed).
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
)
_NUL_TAIL = 64  # bytes of the previous chunk kept, so an escape split across chunks is seen


class NulInBody(HTTPException):
    """An HTTPException so FastAPI's body parsing passes it through (rendered as a 422)."""

    def __init__(self) -> None:
        super().__init__(422, NUL_MESSAGE)


def nul_problem(where: list[str], request_id: str | None) -> JSONResponse:
    return validation_problem(
        [{"loc": where, "msg": NUL_MESSAGE, "type": "string_nul_character"}], request_id
    )


def nul_location(scope: Scope) -> list[str] | None:
    """Where the path or query string carries a NUL character, or None."""
    if "\x00" in scope["path"]:
        return ["path"]
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return ["query", name.replace("\x00", "")]
        return ["query"]
    return None


class RequestContextMiddleware:
    """Accepts a well-formed `X-Request-ID` or makes one, echoes it, and stores it for logs and
    error bodies; refuses bodies over `max_body_bytes` with 413 and NUL characters with 422;
    puts the security headers on every response and marks API responses no-store; closes the
    database sessions the request opened (`database.request_session`), and gives back the
    connection it kept for reading (`database.request_reading`), just before its answer is
    sent."""

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
        # A made id is 128 random bits in hex, as a UUID's hex was, without building the UUID.
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        no_store = scope["path"].startswith(self.api_prefix)
        send = self._decorated(send, scope, request_id, no_store)
        try:
            if self._declared_too_large(headers):
                await self._too_large(scope, receive, send, request_id)
                return
            where = nul_location(scope)
            if where is not None:
                await nul_problem(where, request_id)(scope, receive, send)
                return
            form = headers.get(b"content-type", b"").startswith(FORM_TYPE)
            await self.app(scope, self._limited(receive, form), send)
        except _BodyTooLarge:
            await self._too_large(scope, receive, send, request_id)
        except NulInBody:
            await nul_problem(["body"], request_id)(scope, receive, send)
        finally:
            request_id_var.reset(token)
            await close_request_sessions(scope)  # a request that ended without an answer

    def _declared_too_large(self, headers: dict[bytes, bytes]) -> bool:
        length = headers.get(b"content-length", b"")
        return length.isdigit() and int(length) > self.max_body_bytes

    def _limited(self, receive: Receive, form: bool) -> Receive:
        seen = 0
        tail = b""

        async def limited_receive() -> Message:
            nonlocal seen, tail
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                seen += len(chunk)
                if seen > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
                window = tail + chunk
                if b"\x00" in window or (b"%00" in window if form else _JSON_NUL.search(window)):
                    raise NulInBody
                tail = window[-_NUL_TAIL:]
            return message

        return limited_receive

    @staticmethod
    def _decorated(send: Send, scope: Scope, request_id: str, no_store: bool) -> Send:
        async def decorated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The request's transaction ends before its answer leaves: a client told 409 or
                # 503 finds the rows and the Idempotency-Key it held free when it retries. (No
                # route streams a body from the database, so the answer is complete by now.)
                await close_request_sessions(scope)
                extra: list[Any] = [(b"x-request-id", request_id.encode()), *SECURITY_HEADERS]
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
        )
        await response(scope, receive, send)
