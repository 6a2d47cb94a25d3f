"""loan oldest unpaid due date

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Every overdue figure (days past due, NPL, the overdue filter, portfolio and pool totals) follows
from one date per loan: when its oldest unpaid installment falls due. The payment that changes it
now stores it on the loan, so reads no longer group the installments of every loan they show.
Existing loans get it from their installments. Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.add_column(sa.Column("oldest_unpaid_due", sa.Date(), nullable=True))
    op.execute(
        "UPDATE loan SET oldest_unpaid_due = ("
        " SELECT min(i.due_date) FROM installment i WHERE i.loan_id = loan.id"
        " AND (i.paid_principal < i.principal OR i.paid_interest < i.interest))"
    )


def downgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.drop_column("oldest_unpaid_due")
