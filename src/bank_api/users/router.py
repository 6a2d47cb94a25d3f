from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response, status

from bank_api.common.routing import AreaRouter
from bank_api.common.schemas import Page, PageParams, page_params, to_page
from bank_api.dependencies import CallerDep, CurrentUser, HasherDep, StaffUser, UoWDep
from bank_api.errors import (
    EmailTaken,
    Forbidden,
    InvalidCurrentPassword,
    NotAuthenticated,
    UsernameTaken,
)
from bank_api.problems import problem_responses
from bank_api.users import service
from bank_api.users.schemas import PasswordChange, UserRead, UserUpdate

router = AreaRouter(prefix="/users", tags=["users"], responses=problem_responses(NotAuthenticated))


@router.get("/me", response_model=UserRead)
async def read_me(caller: CallerDep) -> UserRead:
    """The caller's own account."""
    return UserRead.model_validate(caller)  # as authentication read it: no second read


@router.patch(
    "/me", response_model=UserRead, responses=problem_responses(UsernameTaken, EmailTaken)
)
async def update_me(data: UserUpdate, actor: CurrentUser, uow: UoWDep) -> UserRead:
    """Change the caller's username, email, name, phone or address."""
    return UserRead.model_validate(await service.update_me(uow, actor=actor, data=data))


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(InvalidCurrentPassword),
)
async def change_password(
    data: PasswordChange, actor: CurrentUser, uow: UoWDep, hasher: HasherDep
) -> Response:
    """Change the caller's password; every token issued before stops working."""
    await service.change_password(uow, hasher, actor=actor, data=data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/customers", response_model=Page[UserRead], responses=problem_responses(Forbidden))
async def list_customers(
    _: StaffUser, uow: UoWDep, page: Annotated[PageParams, Depends(page_params)]
) -> dict[str, object]:
    """Customers, newest first (agents and admins)."""
    rows, total = await service.list_customers(uow, page=page)
    return to_page(UserRead, rows, total, page)
