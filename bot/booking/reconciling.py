"""Crash recovery: settle the bookings a crash left ``pending`` between the provider call and
the commit, by asking the provider whether the event exists — never by guessing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.booking.context import Context
from bot.booking.holding import Booker
from bot.booking.model import log, ref
from bot.errors import ProviderUnavailable
from bot.store.models import Agent, Booking


class Reconciler:
    def __init__(self, ctx: Context, booker: Booker):
        self.ctx = ctx
        self.booker = booker

    def reconcile(self, older_than: timedelta = timedelta(minutes=2)) -> dict[str, list[str]]:
        """Settle bookings left ``pending`` by a crash between the provider call and the commit.

        The provider is asked for the event by the booking's idempotency key: if it exists the
        booking is confirmed (and its e-mail queued), if not the hold is released. A provider
        that cannot answer now leaves the booking pending for the next round — never guessed.
        ``older_than`` must exceed the longest booking turn (provider timeout and retries).
        """
        cutoff = self.ctx.clock() - older_than
        with self.ctx.store.session() as s:
            stale = s.execute(
                select(Booking.id, Booking.provider, Booking.agent_id)
                .where(Booking.status == "pending", Booking.updated_at < cutoff)
                .order_by(Booking.created_at)
            ).all()
            agents = {a.id: ref(a) for a in s.execute(select(Agent).where(Agent.id.in_({r[2] for r in stale}))).scalars()}
        done: dict[str, list[str]] = {"confirmed": [], "released": [], "unsettled": []}
        for booking_id, provider_name, agent_id in stale:
            provider = self.ctx.providers.get(provider_name)
            try:
                if provider is None:
                    raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
                found = provider.find_event(agents[agent_id], booking_id)
            except Exception as exc:
                log.warning("reconcile: booking %s still pending: %s", booking_id, type(exc).__name__)
                done["unsettled"].append(booking_id)
                continue
            if found is not None and self.booker.confirm(booking_id, found, provider.sends_invitations) is not None:
                log.warning("reconcile: booking %s was interrupted after its event was made: confirmed", booking_id)
                done["confirmed"].append(booking_id)
            elif found is None:
                self.booker.release(booking_id, "interrupted before the calendar event was made", only_pending=True)
                log.warning("reconcile: booking %s was interrupted before its event was made: released", booking_id)
                done["released"].append(booking_id)
        return done
