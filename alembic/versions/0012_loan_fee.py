"""the servicing fee fixed per loan

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

The fee is part of a loan's terms from the day it is funded (`fee_ppm`, millionths of its
interest), so changing `BANK_API_SERVICING_FEE` never reaches back into interest already
paid. Loans funded before this revision keep no fee. Standalone on purpose.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.add_column(sa.Column("fee_ppm", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("loan") as batch:
        batch.alter_column("fee_ppm", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.drop_column("fee_ppm")
