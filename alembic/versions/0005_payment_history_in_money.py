"""payment history in money

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Payment events recorded the loan's `outstanding_principal` before and after as integer cents,
which revision 0004 did not rewrite; every response shows money as two-decimal strings, and
so does the history from now on. Standalone on purpose (no application imports).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELD = "outstanding_principal"

events = sa.table("loan_event", sa.column("id", sa.BigInteger), sa.column("changes", sa.JSON))


def _decimal(cents: Any) -> Any:
    if not isinstance(cents, int) or isinstance(cents, bool):
        return cents  # already a string (or None)
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def upgrade() -> None:
    connection = op.get_bind()
    for event_id, changes in connection.execute(sa.select(events.c.id, events.c.changes)).all():
        change = (changes or {}).get(FIELD)
        if not isinstance(change, dict):
            continue
        public = {side: _decimal(value) for side, value in change.items()}
        if public != change:
            connection.execute(
                events.update()
                .where(events.c.id == event_id)
                .values(changes={**changes, FIELD: public})
            )


def downgrade() -> None:
    """The old format is not restored: it misstated the amounts a hundredfold."""
