"""calendar connections

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_states',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('queue_slug', sa.String(length=64), nullable=True),
    sa.Column('agent_name', sa.String(length=200), nullable=True),
    sa.Column('agent_timezone', sa.String(length=64), nullable=True),
    sa.Column('code_verifier', sa.Text(), nullable=False),
    sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('used_at', bot.store.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('state')
    )
    op.create_table('calendar_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('account_email', sa.String(length=320), nullable=False),
    sa.Column('calendar_id', sa.String(length=320), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('connected_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id')
    )


def downgrade() -> None:
    op.drop_table('calendar_connections')
    op.drop_table('oauth_states')
