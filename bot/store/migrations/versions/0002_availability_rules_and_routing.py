"""availability rules and routing

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('date_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=True),
    sa.Column('end_minute', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('date_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_date_overrides_agent_id'), ['agent_id'], unique=False)

    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('end', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_off_agent_id'), ['agent_id'], unique=False)

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_meetings_per_day', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('calendar_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routing', bot.store.models.JSONText(), nullable=True))

    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buffer_before_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('buffer_after_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('routing_mode', sa.String(length=32), server_default='max-availability', nullable=False))
        batch_op.add_column(sa.Column('fairness_margin', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('rr_period', sa.String(length=16), server_default='month', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_column('rr_period')
        batch_op.drop_column('fairness_margin')
        batch_op.drop_column('routing_mode')
        batch_op.drop_column('buffer_after_minutes')
        batch_op.drop_column('buffer_before_minutes')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('routing')

    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('calendar_version')
        batch_op.drop_column('max_meetings_per_day')

    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_off_agent_id'))

    op.drop_table('time_off')
    with op.batch_alter_table('date_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_date_overrides_agent_id'))

    op.drop_table('date_overrides')
