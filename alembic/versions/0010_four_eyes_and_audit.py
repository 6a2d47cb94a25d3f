"""four-eyes sign-offs and the audit trail

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

* A loan keeps the admins who signed off a decision that needs a second admin
  (`sign_offs`), and its history a `signed_off` event for each.
* `audit_record`: every staff action that changes something, append-only.

Standalone on purpose (no application imports).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = (
    "created",
    "edited",
    "requested",
    "approved",
    "rejected",
    "payment",
    "closed",
    "written_off",
)
ROLES = ("customer", "investor", "agent", "admin")


def _events(events: Sequence[str]) -> None:
    with op.batch_alter_table("loan_event") as batch:
        batch.drop_constraint(op.f("ck_loan_event_loan_event_kind"), type_="check")
        batch.create_check_constraint(
            op.f("ck_loan_event_loan_event_kind"),
            sa.text(f"event IN ({', '.join(repr(e) for e in events)})"),
        )


def upgrade() -> None:
    with op.batch_alter_table("loan") as batch:
        batch.add_column(sa.Column("sign_offs", sa.JSON(), nullable=True))
    _events((*EVENTS, "signed_off"))
    op.create_table(
        "audit_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column(
            "actor_role",
            sa.Enum(*ROLES, name="role", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_audit_record_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    with op.batch_alter_table("audit_record") as batch:
        batch.create_index("ix_audit_record_at", ["at", "id"], unique=False)
        batch.create_index("ix_audit_record_actor", ["actor_id", "at"], unique=False)
        batch.create_index("ix_audit_record_target", ["target_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_record")
    _events(EVENTS)
    with op.batch_alter_table("loan") as batch:
        batch.drop_column("sign_offs")
