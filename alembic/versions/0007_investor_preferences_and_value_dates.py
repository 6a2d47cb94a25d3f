"""investor preferences, a fair allocation queue, value dates

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

* The allocation queue orders investors by the later of when their available money last rose
  from zero and when they last funded a loan (`last_funded_at`): after taking part in a loan an
  investor moves to the back. Existing accounts get `last_funded_at` from their newest
  allocation, and money still waiting is queued from the later of the two.
* Auto-invest preferences live on the investor's account (pause, cash reserve, per-loan and
  portfolio limits); the products an investor funds are rows of `investor_loan_type`, none
  meaning every product.
* Every journal line carries the business date on which it was booked (`value_date`); lines
  booked before this revision get the UTC date they were written on.

Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("investor_account") as batch:
        batch.add_column(sa.Column("last_funded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("auto_invest", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("keep_available", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("max_per_loan", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("max_portfolio", sa.BigInteger(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_investor_account_keep_available_not_negative"), sa.text("keep_available >= 0")
        )
        batch.create_check_constraint(
            op.f("ck_investor_account_max_per_loan_positive"), sa.text("max_per_loan > 0")
        )
        batch.create_check_constraint(
            op.f("ck_investor_account_max_portfolio_positive"), sa.text("max_portfolio > 0")
        )
    with op.batch_alter_table("investor_account") as batch:
        batch.alter_column("auto_invest", server_default=None)
        batch.alter_column("keep_available", server_default=None)
    op.execute(
        "UPDATE investor_account SET last_funded_at = (SELECT max(created_at) FROM allocation"
        " WHERE allocation.investor_id = investor_account.investor_id)"
    )
    op.execute(
        "UPDATE investor_account SET queued_at = last_funded_at"
        " WHERE available > 0 AND last_funded_at > queued_at"
    )

    op.create_table(
        "investor_loan_type",
        sa.Column("investor_id", sa.Uuid(), nullable=False),
        sa.Column("loan_type", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["investor_id"],
            ["investor_account.investor_id"],
            name=op.f("fk_investor_loan_type_investor_id_investor_account"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_type"],
            ["loan_product.code"],
            name=op.f("fk_investor_loan_type_loan_type_loan_product"),
        ),
        sa.PrimaryKeyConstraint("investor_id", "loan_type", name=op.f("pk_investor_loan_type")),
    )

    with op.batch_alter_table("journal_line") as batch:
        batch.add_column(sa.Column("value_date", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE journal_line SET value_date = (created_at AT TIME ZONE 'UTC')::date")
    else:
        op.execute("UPDATE journal_line SET value_date = date(created_at)")
    with op.batch_alter_table("journal_line") as batch:
        batch.alter_column("value_date", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.drop_column("value_date")
    op.drop_table("investor_loan_type")
    with op.batch_alter_table("investor_account") as batch:
        batch.drop_constraint("ck_investor_account_max_portfolio_positive", type_="check")
        batch.drop_constraint("ck_investor_account_max_per_loan_positive", type_="check")
        batch.drop_constraint("ck_investor_account_keep_available_not_negative", type_="check")
        for column in ("max_portfolio", "max_per_loan", "keep_available", "auto_invest"):
            batch.drop_column(column)
        batch.drop_column("last_funded_at")
