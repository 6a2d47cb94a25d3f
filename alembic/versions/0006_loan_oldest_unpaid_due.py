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
    if op.get_bind().dialect.name == "postgresql":
        # One grouped pass over the installments: a correlated min() per loan lets PostgreSQL
        # walk the whole due-date index for every loan (minutes on a book of a few thousand).
        op.execute(
            "UPDATE loan SET oldest_unpaid_due = unpaid.due FROM ("
            " SELECT loan_id, min(due_date) AS due FROM installment"
            " WHERE paid_principal < principal OR paid_interest < interest"
            " GROUP BY loan_id) AS unpaid WHERE unpaid.loan_id = loan.id"
        )
    else:
        # SQLite before 3.33 has no UPDATE ... FROM; its planner reads each loan's installments
        # by the primary key.
        op.execute(
            "UPDATE loan SET oldest_unpaid_due = (SELECT min(due_date) FROM installment"
            " WHERE installment.loan_id = loan.id"
            " AND (paid_principal < principal OR paid_interest < interest))"
        )


def downgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.drop_column("oldest_unpaid_due")
