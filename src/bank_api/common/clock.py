"""The business date: what "today" means for due dates and overdue checks.

It is the UTC date, unless `BANK_API_ALLOW_BUSINESS_DATE_OVERRIDE` is on and an admin has set
one (stored in the database, so every worker agrees).
"""

from __future__ import annotations

from datetime import date

from bank_api.common.types import utcnow
from bank_api.config import Settings


def utc_today() -> date:
    return utcnow().date()


def business_date(stored: date | None, settings: Settings) -> date:
    """The stored override when the setting allows one and an admin has set it, else today
    (UTC). Requests read the stored value with their caller (`users.repository.read_caller`)."""
    if settings.allow_business_date_override and stored is not None:
        return stored
    return utc_today()
