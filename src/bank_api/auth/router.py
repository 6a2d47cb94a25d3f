from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.responses import Response
from fastapi.security import OAuth2PasswordRequestForm

from bank_api.auth import service, sessions
from bank_api.auth.schemas import RefreshIn, TokenRead
from bank_api.common.routing import AreaRouter
from bank_api.dependencies import HasherDep, SettingsDep, TokensDep, UoWDep
from bank_api.errors import (
    AccountDisabled,
    EmailTaken,
    HashingBusy,
    InvalidCredentials,
    InvalidRefreshToken,
    TooManyAttempts,
    UsernameTaken,
)
from bank_api.problems import problem_responses
from bank_api.users.schemas import UserCreate, UserRead

router = AreaRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(UsernameTaken, EmailTaken),
)
async def register(data: UserCreate, uow: UoWDep, hasher: HasherDep) -> UserRead:
    """Create a customer, investor or agent account (agents wait for approval)."""
    return UserRead.model_validate(await service.register(uow, hasher, data))


@router.post(
    "/token",
    response_model=TokenRead,
    responses=problem_responses(InvalidCredentials, AccountDisabled, TooManyAttempts, HashingBusy),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    uow: UoWDep,
    hasher: HasherDep,
    tokens: TokensDep,
    settings: SettingsDep,
) -> TokenRead:
    """Exchange username and password for a bearer token (OAuth2 password flow)."""
    client = request.client.host if request.client else "unknown"
    issued = await service.login(
        uow, hasher, tokens, settings, username=form.username, password=form.password, client=client
    )
    return TokenRead.of(issued)


@router.post("/refresh", response_model=TokenRead, responses=problem_responses(InvalidRefreshToken))
async def refresh(
    data: RefreshIn, uow: UoWDep, tokens: TokensDep, settings: SettingsDep
) -> TokenRead:
    """Exchange a refresh token for a new access token and refresh token (the old one is
    spent; presenting it again revokes every token of the login)."""
    return TokenRead.of(await sessions.refresh(uow, tokens, settings, token=data.refresh_token))


@router.post("/logout", status_code=204)
async def logout(data: RefreshIn, uow: UoWDep) -> Response:
    """End the session: every refresh token of this login stops working."""
    await sessions.logout(uow, token=data.refresh_token)
    return Response(status_code=204)
