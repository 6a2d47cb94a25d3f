from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from bank_api.auth.sessions import Session
from bank_api.common.schemas import RequestSchema


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the token expires", examples=[3600])
    refresh_token: str = Field(description="Exchange it at /auth/refresh for a new pair")
    refresh_expires_in: int = Field(
        description="Seconds until the refresh token expires", examples=[1209600]
    )

    @classmethod
    def of(cls, session: Session) -> TokenRead:
        return cls(
            access_token=session.access.access_token,
            expires_in=session.access.expires_in,
            refresh_token=session.refresh_token,
            refresh_expires_in=session.refresh_expires_in,
        )


class RefreshIn(RequestSchema):
    model_config = ConfigDict(json_schema_extra={"examples": [{"refresh_token": "Zx8...Q"}]})

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
