"""loan history in the public format

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Loan history entries written before this revision kept money as integer cents and the rate
as `annual_rate_bp` (basis points); the write-off note said "N cents lost". They are rewritten
as every response shows money: two-decimal strings, and the rate as `annual_rate`. Standalone
on purpose (no application imports), so it keeps working as the code moves on.
"""

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = {"amount", "monthly_payment", "total_interest", "total_payable"}
CENTS_LOST = re.compile(r"(-?\d+) cents lost")

events = sa.table(
    "loan_event",
    sa.column("id", sa.BigInteger),
    sa.column("changes", sa.JSON),
    sa.column("note", sa.Text),
)


def _decimal(cents: Any) -> Any:
    if not isinstance(cents, int) or isinstance(cents, bool):
        return cents  # already a string (or None)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _public(changes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for field, change in changes.items():
        if field in MONEY or field == "annual_rate_bp":
            change = {side: _decimal(value) for side, value in change.items()}
        out["annual_rate" if field == "annual_rate_bp" else field] = change
    return out


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(events.c.id, events.c.changes, events.c.note)).all()
    for event_id, changes, note in rows:
        new_changes = _public(changes or {})
        new_note = CENTS_LOST.sub(lambda m: f"{_decimal(int(m.group(1)))} lost", note or "")
        if new_changes != changes or (note is not None and new_note != note):
            connection.execute(
                events.update()
                .where(events.c.id == event_id)
                .values(changes=new_changes, note=new_note if note is not None else None)
            )


def downgrade() -> None:
    """The old format is not restored: it misstated every amount a hundredfold."""
