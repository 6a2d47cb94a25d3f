from __future__ import annotations

from pydantic import BaseModel


class CheckRead(BaseModel):
    name: str
    ok: bool
    detail: str


class VerificationRead(BaseModel):
    ok: bool
    checks: list[CheckRead]
