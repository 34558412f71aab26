"""offers found by conversation and time: "the times this conversation was shown last" read
every offer row of the conversation (max(created_at), then the rows at it), so a turn's cost grew
with the length of the conversation (bench/length.py, scaled topology); with this index it reads
only the newest ones

Revision ID: 0013
Revises: 0012
"""

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_offers_conversation_created', 'offers', ['conversation_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_offers_conversation_created', table_name='offers')
