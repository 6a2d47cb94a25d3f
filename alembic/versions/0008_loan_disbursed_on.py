"""loan disbursement date

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

Early repayment accrues interest from the start of the current period, and the first period
starts on the business date on which the loan was disbursed (its schedule's start). The
approval now stores it; existing loans get the value date of their disbursement entry.
Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.add_column(sa.Column("disbursed_on", sa.Date(), nullable=True))
    payout = "FROM journal_line WHERE journal_line.loan_id = loan.id AND purpose = 'payout'"
    op.execute(
        f"UPDATE loan SET disbursed_on = (SELECT min(value_date) {payout})"  # noqa: S608
        f" WHERE EXISTS (SELECT 1 {payout})"
    )


def downgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.drop_column("disbursed_on")
