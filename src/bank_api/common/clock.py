"""The business date: what "today" means for due dates and overdue checks."""

from __future__ import annotations

from datetime import date

from bank_api.common.types import utcnow


def utc_today() -> date:
    return utcnow().date()
