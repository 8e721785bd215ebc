"""money that survives faults: pending Stripe refunds and intents, idempotency keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:01:07.560560
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('caller', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('caller', 'key', name='uq_idempotency_keys_caller_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_keys_created_at', ['created_at'], unique=False)

    op.create_table('stripe_refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('invoice_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount_pence', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('request_key', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=100), nullable=True),
    sa.Column('refund_payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requested_by_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', hub.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_stripe_refunds_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_stripe_refunds_payment_id_payments')),
    sa.ForeignKeyConstraint(['refund_payment_id'], ['payments.id'], name=op.f('fk_stripe_refunds_refund_payment_id_payments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_stripe_refunds_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stripe_refunds_idempotency_key')),
    sa.UniqueConstraint('request_key', name=op.f('uq_stripe_refunds_request_key')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_stripe_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('stripe_refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stripe_refunds_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index('ix_stripe_refunds_pending', ['status', 'created_at'], unique=False)

    with op.batch_alter_table('stripe_intents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.alter_column('intent_id',
               existing_type=sa.VARCHAR(length=100),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_stripe_intents_idempotency_key'), ['idempotency_key'])



def downgrade() -> None:
    # A pending attempt has no intent id yet; the older schema insists on one.
    op.execute("UPDATE stripe_intents SET intent_id = 'pending-' || id WHERE intent_id IS NULL")
    with op.batch_alter_table('stripe_intents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_stripe_intents_idempotency_key'), type_='unique')
        batch_op.alter_column('intent_id',
               existing_type=sa.VARCHAR(length=100),
               nullable=False)
        batch_op.drop_column('idempotency_key')

    with op.batch_alter_table('stripe_refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_stripe_refunds_pending')
        batch_op.drop_index(batch_op.f('ix_stripe_refunds_payment_id'))

    op.drop_table('stripe_refunds')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_keys_created_at')

    op.drop_table('idempotency_keys')
