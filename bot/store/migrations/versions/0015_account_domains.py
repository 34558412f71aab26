"""customer accounts by e-mail domain, each with the agent who owns it: a visitor from that
domain meets the owner when free (free-mail domains are never imported)

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_domains',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('created_at', bot.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('domain'),
    )
    op.create_index('ix_account_domains_agent_id', 'account_domains', ['agent_id'])


def downgrade() -> None:
    op.drop_index('ix_account_domains_agent_id', table_name='account_domains')
    op.drop_table('account_domains')
