"""Front ends' sessions: refresh tokens, rotated on every use (SPEC §11.6, docs/DECISIONS.md
"Sessions").

A login starts a family; `/auth/refresh` spends the token it is given and issues the next one
of the same family with a new access token. Spending is one conditional UPDATE (`... WHERE
spent_at IS NULL AND revoked_at IS NULL AND expires_at > now RETURNING`), so of two refreshes
racing with one token exactly one wins, on either database; the user's row is locked first,
so a refresh and a password change, disable or logout never interleave. A token presented
again after it was spent is taken as stolen: the whole family is revoked. Logout revokes the
family; a password change or a disable revokes every family of the user.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.errors import InvalidRefreshToken
from bank_api.models import RefreshToken, User, UserStatus
from bank_api.security import IssuedToken, TokenService, new_refresh_token, refresh_token_hash
from bank_api.uow import UnitOfWork


@dataclass(frozen=True)
class Session:
    access: IssuedToken
    refresh_token: str
    refresh_expires_in: int


def add_refresh_token(
    uow: UnitOfWork, user_id: uuid.UUID, family_id: uuid.UUID, settings: Settings
) -> tuple[str, int]:
    """A new refresh token of `family_id` (added to the unit of work) and its lifetime (s)."""
    token, token_hash = new_refresh_token()
    lifetime = timedelta(days=settings.refresh_token_days)
    now = utcnow()
    uow.refresh_tokens.add(
        RefreshToken(
            token_hash=token_hash,
            user_id=user_id,
            family_id=family_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token, int(lifetime.total_seconds())


async def refresh(
    uow: UnitOfWork, tokens: TokenService, settings: Settings, *, token: str
) -> Session:
    now = utcnow()
    owner = await _lock_owner(uow, token)
    if owner is None:
        raise InvalidRefreshToken
    spent = await uow.refresh_tokens.spend(refresh_token_hash(token), now)
    if spent is None:
        await _revoke_if_reused(uow, token, now)
        raise InvalidRefreshToken
    family_id, created_at = spent
    # Issued for earlier credentials (a password change or a disable since): never renewed.
    if owner.status != UserStatus.active or created_at < owner.tokens_valid_after:
        await uow.refresh_tokens.revoke_family(family_id, now)
        await uow.commit()
        raise InvalidRefreshToken
    refresh_token, lifetime = add_refresh_token(uow, owner.id, family_id, settings)
    await uow.commit()
    access = tokens.issue(owner.id, owner.role, owner.tokens_valid_after)
    return Session(access, refresh_token, lifetime)


async def _lock_owner(uow: UnitOfWork, token: str) -> User | None:
    """The token's user, locked until commit: a password change, a disable or a logout (which
    lock the same row) and this refresh then run one after the other, so none of them can miss
    the token the other writes."""
    user_id = await uow.refresh_tokens.owner(refresh_token_hash(token))
    return None if user_id is None else await uow.users.get_for_update(user_id)


async def logout(uow: UnitOfWork, *, token: str) -> None:
    """Revoke the token's family (an unknown token: nothing to do)."""
    if await _lock_owner(uow, token) is not None:
        await uow.refresh_tokens.revoke_family_of(refresh_token_hash(token), utcnow())
    await uow.commit()


async def revoke_user(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    """Revoke every family of the user (password change, disable), in the caller's transaction."""
    await uow.refresh_tokens.revoke_user(user_id, utcnow())


async def _revoke_if_reused(uow: UnitOfWork, token: str, now: datetime) -> None:
    """A spent token presented again revokes its family (committed before the 401)."""
    family = await uow.refresh_tokens.spent_family(refresh_token_hash(token))
    if family is not None:
        await uow.refresh_tokens.revoke_family(family, now)
        await uow.commit()
