"""an agent's invitation per visitor language (agent_invitations); existing agents keep their
main subject and body unchanged

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

import bot.store.models


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_invitations',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('updated_at', bot.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agent_id', 'lang')
    )


def downgrade() -> None:
    op.drop_table('agent_invitations')
