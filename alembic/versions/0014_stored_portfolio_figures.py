"""portfolio figures kept current by the writes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

A portfolio (and every deposit and withdrawal, which answer with it) used to aggregate every
holding of the investor: its cost grew with the portfolio. Now the writes that change the
figures keep them:

* `investor_account.active_allocations` and `investor_account.fees`: holdings in active loans,
  and the platform's fees taken from the investor's interest so far (changed with the
  balances, in the same statement);
* `allocation.oldest_unpaid_due`: the loan's oldest unpaid due date while the loan is active
  (NULL otherwise), with an index by investor and that date, so the overdue and NPL principal
  of one investor read only the holdings that are overdue.

Existing rows get them from the holdings and the loans. Standalone on purpose (no application
imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = (
    ("active_allocations_not_negative", "active_allocations >= 0"),
    ("fees_not_negative", "fees >= 0"),
)


def upgrade() -> None:
    with op.batch_alter_table("investor_account") as batch:
        batch.add_column(
            sa.Column("active_allocations", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("fees", sa.BigInteger(), nullable=False, server_default="0"))
        for name, check in CHECKS:
            batch.create_check_constraint(op.f(f"ck_investor_account_{name}"), sa.text(check))
    with op.batch_alter_table("investor_account") as batch:
        batch.alter_column("active_allocations", server_default=None)
        batch.alter_column("fees", server_default=None)
    with op.batch_alter_table("allocation") as batch:
        batch.add_column(sa.Column("oldest_unpaid_due", sa.Date(), nullable=True))
    op.execute(
        "UPDATE allocation SET oldest_unpaid_due = (SELECT loan.oldest_unpaid_due FROM loan"
        " WHERE loan.id = allocation.loan_id AND loan.status = 'active')"
    )
    op.execute(
        "UPDATE investor_account SET"
        " active_allocations = (SELECT count(*) FROM allocation JOIN loan"
        " ON loan.id = allocation.loan_id WHERE allocation.investor_id ="
        " investor_account.investor_id AND loan.status = 'active'),"
        " fees = (SELECT coalesce(sum(allocation.fee), 0) FROM allocation"
        " WHERE allocation.investor_id = investor_account.investor_id)"
    )
    op.create_index(
        "ix_allocation_investor_unpaid_due",
        "allocation",
        ["investor_id", "oldest_unpaid_due"],
        postgresql_where=sa.text("oldest_unpaid_due IS NOT NULL"),
        sqlite_where=sa.text("oldest_unpaid_due IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_allocation_investor_unpaid_due", table_name="allocation")
    with op.batch_alter_table("allocation") as batch:
        batch.drop_column("oldest_unpaid_due")
    with op.batch_alter_table("investor_account") as batch:
        for name, _ in CHECKS:
            batch.drop_constraint(op.f(f"ck_investor_account_{name}"), type_="check")
        batch.drop_column("fees")
        batch.drop_column("active_allocations")
