"""initial schema

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('invitation_subject', sa.Text(), nullable=False),
    sa.Column('invitation_body', sa.Text(), nullable=False),
    sa.Column('include_conference', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('queues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('meeting_minutes', sa.Integer(), nullable=False),
    sa.Column('interval_minutes', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('bookings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('visitor_email', sa.String(length=320), nullable=False),
    sa.Column('visitor_first_name', sa.String(length=200), nullable=True),
    sa.Column('visitor_last_name', sa.String(length=200), nullable=True),
    sa.Column('company_name', sa.String(length=300), nullable=True),
    sa.Column('person', bot.store.models.JSONText(), nullable=False),
    sa.Column('company', bot.store.models.JSONText(), nullable=False),
    sa.Column('start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('end', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('conference_url', sa.Text(), nullable=True),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('provider_event_id', sa.String(length=200), nullable=True),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_offer_id'), ['offer_id'], unique=False)

    op.create_table('calendar_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('end', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('attendee_email', sa.String(length=320), nullable=True),
    sa.Column('conference_url', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.create_index('ix_calendar_events_agent_start', ['agent_id', 'start'], unique=False)

    op.create_table('callback_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('first_name', sa.String(length=200), nullable=True),
    sa.Column('company_name', sa.String(length=300), nullable=True),
    sa.Column('locale', sa.String(length=35), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'email', name='uq_callback_conversation_email')
    )
    op.create_table('offers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('end', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('agent_ids', bot.store.models.JSONText(), nullable=False),
    sa.Column('expires_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offers_conversation_id'), ['conversation_id'], unique=False)

    op.create_table('queue_members',
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue_id', 'agent_id')
    )
    op.create_table('weekly_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_weekly_hours_agent_id'), ['agent_id'], unique=False)

    op.create_table('booking_blocks',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('block_start', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('booking_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'block_start')
    )
    with op.batch_alter_table('booking_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_blocks_booking_id'), ['booking_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('booking_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_blocks_booking_id'))

    op.drop_table('booking_blocks')
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_weekly_hours_agent_id'))

    op.drop_table('weekly_hours')
    op.drop_table('queue_members')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offers_conversation_id'))

    op.drop_table('offers')
    op.drop_table('callback_requests')
    with op.batch_alter_table('calendar_events', schema=None) as batch_op:
        batch_op.drop_index('ix_calendar_events_agent_start')

    op.drop_table('calendar_events')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_offer_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_agent_id'))

    op.drop_table('bookings')
    op.drop_table('queues')
    op.drop_table('agents')
