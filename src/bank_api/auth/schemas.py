from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the token expires", examples=[3600])
