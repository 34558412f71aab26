"""Moving a booking to a new time: the new times offered for it, and the move itself.

A booking keeps its id (and booking code) when it moves; its ``sequence`` goes up by one, so
links and offers made before the move stop working.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.booking.announcing import Announcer
from bot.booking.changes import movable
from bot.booking.context import Context
from bot.booking.model import (
    AgentRow,
    BookingResult,
    OfferedSlot,
    OfferPage,
    QueueInfo,
    blocks,
    cancel_quietly,
    event_request,
    iso,
    log,
    ref,
    result,
    visitor_of,
)
from bot.booking.offering import Offering
from bot.calendars.base import CreatedEvent
from bot.errors import (
    AlreadyCancelled,
    OfferExpired,
    OfferNotFound,
    ProviderError,
    ProviderUnavailable,
    SlotInPast,
    SlotTaken,
)
from bot.i18n import zone
from bot.messages.email import build_rescheduled
from bot.scheduling import AgentSchedule, Interval, availability
from bot.scheduling.offering import pick_page
from bot.scheduling.routing import route
from bot.store.models import Booking, BookingBlock, Offer


class Moves:
    def __init__(self, ctx: Context, offering: Offering, announcer: Announcer):
        self.ctx = ctx
        self.offering = offering
        self.announcer = announcer

    def offer_reschedule(
        self,
        conversation_id: str,
        booking_id: str,
        *,
        after: datetime | None = None,
        within: Interval | None = None,
        count: int | None = None,
        sequence: int | None = None,
        spread: bool = True,
    ) -> tuple[OfferPage, int]:
        """New times for a booking: the same agent's first, then (to fill the page) the
        queue's. Returns the page and how many of its slots are with the same agent (they come
        first). Each slot is an offer for this conversation that can only move this booking."""
        now = self.ctx.clock()
        count = count or self.ctx.page_size
        with self.ctx.store.session() as s:
            b = movable(s, booking_id, now, sequence)
            q = b.queue
            rules = self.offering.rules(q)
            members = self.offering.members(s, q)
            horizon = now + timedelta(days=rules.window_days)
            schedules = self.offering.schedules(s, members, now, horizon, moving=b)
            tz = zone(b.timezone, q.timezone)

            def pick(agent_schedules: list[AgentSchedule], taken: set[datetime]) -> list:
                # One more than needed: the booking's own time (free for it) is not a new time.
                found = pick_page(
                    availability(agent_schedules, rules, now), count + 1, after=after, within=within, tz=tz, spread=spread
                )
                return [slot for slot in found if slot.start not in taken]

            page = pick([sc for sc in schedules if sc.agent_id == b.agent_id], {b.start})[:count]
            n_same = len(page)
            if n_same < count:
                taken = {b.start} | {slot.start for slot in page}
                page += pick([sc for sc in schedules if sc.agent_id != b.agent_id], taken)[: count - n_same]
            offered = []
            for i, slot in enumerate(page):
                offer = Offer(
                    id=secrets.token_urlsafe(12),
                    conversation_id=conversation_id,
                    queue_id=q.id,
                    start=slot.start,
                    end=slot.end,
                    agent_ids=[b.agent_id] if i < n_same else [a for a in slot.agent_ids if a != b.agent_id],
                    expires_at=now + self.ctx.offer_ttl,
                    created_at=now,
                    moves_booking=b.id,
                )
                s.add(offer)
                offered.append(OfferedSlot(offer.id, slot.start, slot.end))
            return OfferPage(QueueInfo(q.slug, q.name, q.timezone), offered), n_same

    def reschedule(
        self, conversation_id: str, offer_id: str, *, booking_id: str | None = None, sequence: int | None = None
    ) -> BookingResult:
        """Move a booking to the time of a reschedule offer, keeping its id (and booking code).

        The same agent keeps it when free; otherwise the queue routes it. The new time is held
        first (blocks in the same booking's name, so the database refuses an overlap), then the
        provider event is moved (same agent: patched, the attendee told by the provider) or
        re-created with the new agent and the old one removed. Only then, in one transaction, does
        the booking change, its old blocks go, reminders move and the notices and the
        ``booking.rescheduled`` webhook are queued. A provider failure gives the new hold back:
        the booking stays as it was.
        """
        now = self.ctx.clock()
        offering = self.offering
        with self.ctx.store.session() as s:
            offer = offering.load_offer(s, conversation_id, offer_id)
            if offer.moves_booking is None or (booking_id is not None and offer.moves_booking != booking_id):
                raise OfferNotFound("that time was not offered for this booking")
            b = movable(s, offer.moves_booking, now, sequence)
            if (b.start, b.end) == (offer.start, offer.end):  # a double click: already moved there
                return result(b, b.agent)
            if offer.start <= now:
                raise SlotInPast("that time has passed")
            if offer.expires_at <= now:
                raise OfferExpired("that offer expired")
            q = b.queue
            members = offering.members(s, q)
            free = offering.free_agents(s, offer, q, members, now, moving=b)
            standing, since = offering.standing(s, q, members, now)
            old = b.agent
            was = {"agent": ref(old), "start": b.start, "end": b.end, "seq": b.sequence}
            event_id, old_provider_name = b.provider_event_id, b.provider
            booking_id = b.id
            visitor, conference_url = visitor_of(b), b.conference_url
        by_id = {a.id: a for a in free}
        if old.id in by_id:
            order = [old.id]
        else:
            order = route(
                [m for m in standing if m.agent_id in by_id],
                standing,
                owners=[],
                mode=q.routing_mode,
                margin=q.fairness_margin,
                period_from=since,
            ).order
        new_blocks = blocks(offer.start, offer.end)
        for agent_id in order:
            agent = by_id[agent_id]
            kept = set(blocks(was["start"], was["end"])) if agent.id == old.id else set()
            added = [t for t in new_blocks if t not in kept]
            try:
                with self.ctx.store.session() as s:
                    s.add_all(BookingBlock(agent_id=agent.id, block_start=t, booking_id=booking_id) for t in added)
                break
            except IntegrityError:
                log.info("agent %s was taken at %s meanwhile; trying the next one", agent.id, offer.start)
        else:
            raise SlotTaken("that time was just taken")

        def give_back() -> None:
            with self.ctx.store.session() as s:
                s.execute(
                    delete(BookingBlock).where(
                        BookingBlock.booking_id == booking_id,
                        BookingBlock.agent_id == agent.id,
                        BookingBlock.block_start.in_(added),
                    )
                )

        provider = self.ctx.providers.get(agent.provider)
        try:
            if provider is None:
                raise ProviderUnavailable(f"provider {agent.provider!r} is not configured", provider=agent.provider)
            if agent.id == old.id:
                if event_id:
                    provider.update_event(ref(agent), event_id, offer.start, offer.end)
                created = CreatedEvent(event_id or "", conference_url)
            else:
                old_provider = self.ctx.providers.get(old_provider_name)
                if old_provider is None:
                    raise ProviderUnavailable(f"provider {old_provider_name!r} is not configured", provider=old_provider_name)
                created = provider.create_event(
                    event_request(
                        f"{booking_id}{was['seq'] + 1:04x}", agent, offer.start, offer.end,
                        visitor.email, visitor.display_name, visitor.token_person(), visitor.token_company(),
                        visitor.guests, lang=visitor.locale,
                    )  # fmt: skip
                )
                try:
                    if event_id:
                        old_provider.cancel_event(was["agent"], event_id)
                except Exception:
                    cancel_quietly(provider, agent, created.provider_event_id)
                    raise
        except Exception as exc:
            give_back()
            log.warning("reschedule of %s failed at the provider: %s", booking_id, type(exc).__name__)
            if isinstance(exc, ProviderError):
                raise
            raise ProviderUnavailable("the calendar could not be reached", provider=agent.provider) from exc
        moved = self._move(booking_id, was, agent, offer, created, provider.sends_invitations)
        if moved is None:  # cancelled meanwhile: our new hold goes too
            give_back()
            raise AlreadyCancelled("the meeting was cancelled meanwhile")
        log.info("booking %s moved to %s (agent %s)", booking_id, offer.start.isoformat(), agent.id)
        return moved

    def _move(
        self,
        booking_id: str,
        was: dict[str, Any],
        agent: AgentRow,
        offer: Offer,
        created: CreatedEvent,
        sends_invitations: bool,
    ) -> BookingResult | None:
        """The booking at its new time, in one transaction with its blocks, reminders, notices and
        webhooks; None when it was cancelled or changed meanwhile."""
        now = self.ctx.clock()
        announcer = self.announcer
        with self.ctx.store.session() as s:
            res = s.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "confirmed", Booking.sequence == was["seq"])
                .values(
                    agent_id=agent.id,
                    provider=agent.provider,
                    provider_event_id=created.provider_event_id or None,
                    conference_url=created.conference_url,
                    start=offer.start,
                    end=offer.end,
                    sequence=was["seq"] + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                return None
            keep = set(blocks(offer.start, offer.end))
            for blk in s.execute(select(BookingBlock).where(BookingBlock.booking_id == booking_id)).scalars().all():
                if blk.agent_id != agent.id or blk.block_start not in keep:
                    s.delete(blk)
            announcer.drop_reminders(s, booking_id)
            b = s.get(Booking, booking_id)
            c = announcer.confirmation(b, attach_ics=not sends_invitations)
            prev = {"start": iso(was["start"]), "end": iso(was["end"]), "agent_email": was["agent"].email}
            queued = announcer.announce(
                s, b, c, "rescheduled", build_rescheduled(c, was["start"], was["end"], self.ctx.mail_from),
                "rescheduled", previous=(was["start"], was["end"], was["agent"]), extra={"previous": prev},
            )
            # the local calendar: each guest's calendar moves the event too (REQUEST, SEQUENCE + 1)
            queued[0].extend(announcer.guest_mails(s, b, c, "moved", was=(was["start"], was["end"])))
            announcer.queue_reminders(s, b, c, self.ctx.delivery.clock())
            moved = result(b, b.agent)
        announcer.kick(queued)
        return moved
