from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from bank_api.auth import service
from bank_api.auth.schemas import TokenRead
from bank_api.dependencies import HasherDep, SettingsDep, TokensDep, UoWDep
from bank_api.errors import (
    AccountDisabled,
    EmailTaken,
    HashingBusy,
    InvalidCredentials,
    TooManyAttempts,
    UsernameTaken,
)
from bank_api.problems import problem_responses
from bank_api.users.schemas import UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


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
    return TokenRead(access_token=issued.access_token, expires_in=issued.expires_in)
