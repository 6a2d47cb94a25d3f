"""servicing fee

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

The platform may keep a percentage of each payment's interest (`BANK_API_SERVICING_FEE`): a
payment records its fee, each holding the fee taken from its share, and the journal gains the
`platform_revenue` account and the `fee` purpose (their CHECK constraints are rebuilt with the
new values). Existing rows have no fee. Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("external", "investor_available", "investor_invested", "loan_receivable")
PURPOSES = (
    "deposit",
    "withdrawal",
    "allocation",
    "payout",
    "principal_repayment",
    "interest",
    "write_off",
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _journal_checks(kinds: Sequence[str], purposes: Sequence[str]) -> None:
    with op.batch_alter_table("journal_line") as batch:
        batch.drop_constraint(op.f("ck_journal_line_account_kind"), type_="check")
        batch.drop_constraint(op.f("ck_journal_line_purpose"), type_="check")
        batch.create_check_constraint(
            op.f("ck_journal_line_account_kind"), sa.text(_in("account_kind", kinds))
        )
        batch.create_check_constraint(
            op.f("ck_journal_line_purpose"), sa.text(_in("purpose", purposes))
        )


def upgrade() -> None:
    for table, check in (
        ("payment", "fee >= 0 AND fee <= interest"),
        ("allocation", "fee >= 0"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("fee", sa.BigInteger(), nullable=False, server_default="0"))
            name = "fee_within_interest" if table == "payment" else "fee_not_negative"
            batch.create_check_constraint(op.f(f"ck_{table}_{name}"), sa.text(check))
        with op.batch_alter_table(table) as batch:
            batch.alter_column("fee", server_default=None)
    _journal_checks((*KINDS, "platform_revenue"), (*PURPOSES, "fee"))


def downgrade() -> None:
    _journal_checks(KINDS, PURPOSES)
    for table, name in (("allocation", "fee_not_negative"), ("payment", "fee_within_interest")):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch.drop_column("fee")
