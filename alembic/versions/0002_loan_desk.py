"""loan desk

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDED_PRODUCTS = [
    ("home_loan", "Home loan", 690, 1_000, 1_000_000, 12, 360),
    ("car_loan", "Car loan", 725, 500, 200_000, 6, 84),
    ("personal_loan", "Personal loan", 1075, 100, 50_000, 3, 60),
    ("education_loan", "Education loan", 1470, 500, 100_000, 6, 120),
]


def upgrade() -> None:
    products = op.create_table('loan_product',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('annual_rate_bp', sa.Integer(), nullable=False),
    sa.Column('min_amount', sa.BigInteger(), nullable=False),
    sa.Column('max_amount', sa.BigInteger(), nullable=False),
    sa.Column('min_term_months', sa.Integer(), nullable=False),
    sa.Column('max_term_months', sa.Integer(), nullable=False),
    sa.Column('schedule_type', sa.Enum('annuity', 'equal_principal', name='schedule_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('annual_rate_bp >= 0 AND annual_rate_bp <= 100000', name=op.f('ck_loan_product_rate_range')),
    sa.CheckConstraint('min_amount > 0 AND min_amount <= max_amount', name=op.f('ck_loan_product_amount_bounds')),
    sa.CheckConstraint('min_term_months >= 1 AND min_term_months <= max_term_months AND max_term_months <= 360', name=op.f('ck_loan_product_term_bounds')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_loan_product'))
    )
    # Rates from the loan desk system, bounds ours. Amounts in cents.
    seeded_at = datetime(2026, 11, 23, tzinfo=UTC)
    op.bulk_insert(products, [
        {"code": code, "name": name, "annual_rate_bp": rate, "min_amount": low * 100,
         "max_amount": high * 100, "min_term_months": shortest, "max_term_months": longest,
         "schedule_type": "annuity", "is_active": True, "created_at": seeded_at,
         "updated_at": seeded_at}
        for code, name, rate, low, high, shortest, longest in SEEDED_PRODUCTS
    ])
    op.create_table('loan',
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('loan_type', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('annual_rate_bp', sa.Integer(), nullable=False),
    sa.Column('schedule_type', sa.Enum('annuity', 'equal_principal', name='schedule_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('monthly_payment', sa.BigInteger(), nullable=False),
    sa.Column('total_interest', sa.BigInteger(), nullable=False),
    sa.Column('total_payable', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('new', 'requested', 'active', 'closed', 'rejected', 'written_off', name='loan_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('outstanding_principal', sa.BigInteger(), nullable=False),
    sa.Column('rejection_reason', sa.String(length=500), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loan_amount_positive')),
    sa.CheckConstraint('outstanding_principal >= 0 AND outstanding_principal <= amount', name=op.f('ck_loan_outstanding_range')),
    sa.CheckConstraint('term_months >= 1 AND term_months <= 360', name=op.f('ck_loan_term_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['user_account.id'], name=op.f('fk_loan_agent_id_user_account')),
    sa.ForeignKeyConstraint(['customer_id'], ['user_account.id'], name=op.f('fk_loan_customer_id_user_account')),
    sa.ForeignKeyConstraint(['loan_type'], ['loan_product.code'], name=op.f('fk_loan_loan_type_loan_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan'))
    )
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.create_index('ix_loan_agent_created', ['agent_id', 'created_at'], unique=False)
        batch_op.create_index('ix_loan_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_loan_customer_created', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_loan_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index('ix_loan_type_created', ['loan_type', 'created_at'], unique=False)
        batch_op.create_index('ix_loan_updated', ['updated_at'], unique=False)

    op.create_table('loan_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.Enum('customer', 'investor', 'agent', 'admin', name='role', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('event', sa.Enum('created', 'edited', 'requested', 'approved', 'rejected', 'payment', 'closed', 'written_off', name='loan_event_kind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_loan_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['loan_id'], ['loan.id'], name=op.f('fk_loan_event_loan_id_loan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_event'))
    )
    with op.batch_alter_table('loan_event', schema=None) as batch_op:
        batch_op.create_index('ix_loan_event_loan_id', ['loan_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loan_event', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_event_loan_id')

    op.drop_table('loan_event')
    with op.batch_alter_table('loan', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_updated')
        batch_op.drop_index('ix_loan_type_created')
        batch_op.drop_index('ix_loan_status_created')
        batch_op.drop_index('ix_loan_customer_created')
        batch_op.drop_index('ix_loan_created')
        batch_op.drop_index('ix_loan_agent_created')

    op.drop_table('loan')
    op.drop_table('loan_product')
