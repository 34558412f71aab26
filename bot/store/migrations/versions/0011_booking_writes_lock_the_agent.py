"""on Postgres, a write of a live booking first takes a lock on its agent, so overlapping writes
of one agent's bookings meet the exclusion constraint one after the other instead of deadlocking

Revision ID: 0011
Revises: 0010

The exclusion constraint of 0004 is checked once the new row is in the index. Two transactions
writing overlapping bookings of one agent — two visitors clicking the same time, or one visitor's
booking being confirmed (pending → confirmed writes a new row version) while another inserts
the same time — can then each wait for the other to end. Postgres breaks that deadlock by failing
one of them with "deadlock detected" instead of the constraint violation the booking code handles
(the visitor saw an error, or a booking made at the provider was not confirmed). A BEFORE trigger
takes a transaction-scoped advisory lock on the agent for every insert or update of a pending or
confirmed booking, whoever writes it: the second writer waits until the first ends and then meets
a plain violation ("that time was just taken"). SQLite serialises writers anyway.
"""

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

#: The advisory-lock namespace of agents (an arbitrary int4, "bot"); the key is the agent id.
AGENT_LOCKS = 0x626F74

FUNCTION = f"""
CREATE FUNCTION bookings_lock_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('pending', 'confirmed') THEN
        PERFORM pg_advisory_xact_lock({AGENT_LOCKS}, NEW.agent_id);
    END IF;
    RETURN NEW;
END
$$
"""

TRIGGER = (
    'CREATE TRIGGER bookings_lock_agent BEFORE INSERT OR UPDATE ON bookings '
    'FOR EACH ROW EXECUTE FUNCTION bookings_lock_agent()'
)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(FUNCTION)
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER bookings_lock_agent ON bookings')
        op.execute('DROP FUNCTION bookings_lock_agent()')
