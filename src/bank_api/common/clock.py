"""The business date: what "today" means for due dates and overdue checks.

It is the UTC date, unless `BANK_API_ALLOW_BUSINESS_DATE_OVERRIDE` is on and an admin has set
one (stored in the database, so every worker agrees).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bank_api.common.types import utcnow
from bank_api.config import Settings
from bank_api.models import BusinessDate


def utc_today() -> date:
    return utcnow().date()


async def business_date(session: AsyncSession, settings: Settings) -> date:
    if settings.allow_business_date_override:
        row = await session.get(BusinessDate, 1)
        if row is not None and row.value is not None:
            return row.value
    return utc_today()
