"""Startup tasks: create the configured admin when it does not exist yet."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bank_api.auth.service import create_admin
from bank_api.config import Settings
from bank_api.errors import EmailTaken, UsernameTaken
from bank_api.security import PasswordHasher
from bank_api.uow import UnitOfWork

log = logging.getLogger(__name__)


async def bootstrap_admin(
    sessionmaker: async_sessionmaker[AsyncSession], hasher: PasswordHasher, settings: Settings
) -> None:
    """Create `BANK_API_ADMIN_USERNAME` once, when all three admin settings are given."""
    if not (settings.admin_username and settings.admin_email and settings.admin_password):
        return
    async with sessionmaker() as session, UnitOfWork(session) as uow:
        if await uow.users.by_username(settings.admin_username) is not None:
            return
        try:
            await create_admin(
                uow,
                hasher,
                username=settings.admin_username,
                email=settings.admin_email,
                password=settings.admin_password.get_secret_value(),
            )
        except (UsernameTaken, EmailTaken):  # another worker created it at the same moment
            return
        log.info("bootstrap admin %s created", settings.admin_username)
