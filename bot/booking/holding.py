"""Booking an offered time: hold it, make the calendar event, confirm — or release.

Booking an offer re-checks who is free *now*, picks the agent (round robin), and inserts the
booking as ``pending`` together with the agent's time blocks in one transaction — the primary
key of ``booking_blocks`` makes the database refuse a second booking of the same agent at an
overlapping time, whatever races in Python. Then the provider event is created with the
booking id as idempotency key, and the booking is marked ``confirmed``. If the provider fails,
the hold is released and the booking marked ``failed``: nothing is left half-made.
"""

from __future__ import annotations

import os
import signal
import uuid
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.booking.announcing import Announcer
from bot.booking.context import Context
from bot.booking.model import (
    AgentRow,
    BookingResult,
    Visitor,
    blocks,
    cancel_quietly,
    event_request,
    guest_list,
    log,
    result,
)
from bot.booking.offering import Offering
from bot.calendars.base import CreatedEvent
from bot.errors import OfferExpired, OfferNotFound, ProviderError, ProviderUnavailable, SlotInPast, SlotTaken
from bot.messages.email import build_confirmation
from bot.scheduling.routing import route
from bot.store.models import Booking, BookingBlock, Offer, Queue


def _fault_point(name: str) -> None:
    """Test-only: ``BOT_FAULT=crash:<name>`` kills this process here (the crash-safety test).

    Never set in production; unset, this is one dictionary lookup.
    """
    if os.environ.get("BOT_FAULT") == f"crash:{name}":
        log.error("BOT_FAULT: killing the process at %s", name)
        os.kill(os.getpid(), signal.SIGKILL)


class Booker:
    def __init__(self, ctx: Context, offering: Offering, announcer: Announcer):
        self.ctx = ctx
        self.offering = offering
        self.announcer = announcer

    def book(self, conversation_id: str, offer_id: str, visitor: Visitor) -> BookingResult:
        """Book the offered time for the visitor (DESIGN.md's booking path), with the visitor's
        guests as attendees. Guests are cleaned and lower-cased; an address that is not one or
        more guests than the queue allows raise GuestError before anything is held; the
        visitor's and the chosen agent's own addresses are left out (they are on it already)."""
        now = self.ctx.clock()
        with self.ctx.store.session() as s:
            offer = self.offering.load_offer(s, conversation_id, offer_id)
            if offer.moves_booking is not None:  # a new time for a booking, not a new booking
                raise OfferNotFound("that time was offered to move a booking")
            existing = self._existing(s, conversation_id, offer_id)
            if existing is not None:  # a double click: the same booking, not a second one
                return result(existing, existing.agent)
            if offer.start <= now:
                raise SlotInPast("that time has passed")
            if offer.expires_at <= now:
                raise OfferExpired("that offer expired")
            q = s.get(Queue, offer.queue_id)
        if visitor.guests:
            guests = guest_list(visitor.guests, limit=q.max_guests)
            visitor = replace(visitor, guests=tuple(g for g in guests if g != visitor.email.lower()))
        booking, agent = self.hold(offer, q, conversation_id, visitor, now)
        provider = self.ctx.providers[agent.provider]
        request = event_request(
            booking.id, agent, booking.start, booking.end, visitor.email, visitor.display_name,
            visitor.token_person(), visitor.token_company(), booking.guests, lang=visitor.locale,
        )  # fmt: skip
        try:
            created = provider.create_event(request)
        except Exception as exc:  # any failure: release the hold, nothing half-made
            self.release(booking.id, f"{type(exc).__name__}: {exc}")
            log.warning("booking %s failed at the provider: %s", booking.id, type(exc).__name__)
            if isinstance(exc, ProviderError):
                raise
            raise ProviderUnavailable("the calendar could not be reached", provider=agent.provider) from exc
        _fault_point("after-provider")
        confirmed = self.confirm(booking.id, created, provider.sends_invitations)
        if confirmed is None:  # the reconciler released it meanwhile (we were too slow): undo ours
            cancel_quietly(provider, agent, created.provider_event_id)
            raise ProviderUnavailable("the booking could not be completed", provider=agent.provider)
        log.info("booking %s confirmed with agent %s", booking.id, agent.id)
        return result(confirmed, agent)

    @staticmethod
    def _existing(s: Session, conversation_id: str, offer_id: str) -> Booking | None:
        return s.execute(
            select(Booking).where(
                Booking.offer_id == offer_id,
                Booking.conversation_id == conversation_id,
                Booking.status == "confirmed",
            )
        ).scalar_one_or_none()

    def hold(
        self, offer: Offer, q: Queue, conversation_id: str, visitor: Visitor, now: datetime
    ) -> tuple[Booking, AgentRow]:
        """Insert a pending booking and its blocks for the first routable free agent."""
        offering = self.offering
        with self.ctx.store.session() as s:
            members = offering.members(s, q)
            free = offering.free_agents(s, offer, q, members, now)
            standing, since = offering.standing(s, q, members, now)
            owners = offering.owner_ids(s, members, visitor)
        by_id = {a.id: a for a in free}
        # The routing rule that sent the visitor here, decided on the page's queue as at the offer
        # (the booking's own queue when the caller does not know the page's: the API).
        page = q.slug if visitor.page_queue is None else (visitor.page_queue or None)
        ruled = offering.route(page, visitor)
        rule = {"routing_rule": ruled.as_dict()} if ruled is not None else {}
        if visitor.answers:
            rule["answers"] = {str(k): v for k, v in visitor.answers.items()}
        decision = route(
            [m for m in standing if m.agent_id in by_id],
            standing,
            owners=owners,
            mode=q.routing_mode,
            margin=q.fairness_margin,
            period_from=since,
        )
        for agent_id in decision.order:
            agent = by_id[agent_id]
            booking = Booking(
                id=uuid.uuid4().hex,
                status="pending",
                queue_id=q.id,
                agent_id=agent.id,
                offer_id=offer.id,
                conversation_id=conversation_id,
                visitor_email=visitor.email,
                visitor_first_name=visitor.first_name,
                visitor_last_name=visitor.last_name,
                company_name=visitor.company_name,
                person=dict(visitor.person or {}),
                company=dict(visitor.company or {}),
                guests=[g for g in visitor.guests if g != agent.email.lower()],
                start=offer.start,
                end=offer.end,
                timezone=visitor.timezone,
                locale=visitor.locale,
                provider=agent.provider,
                routing={**decision.explanation, "chosen": agent.id, **rule},
                created_at=now,
                updated_at=now,
            )
            try:
                with self.ctx.store.session() as s:
                    s.add(booking)
                    s.flush()
                    s.add_all(
                        BookingBlock(agent_id=agent.id, block_start=t, booking_id=booking.id)
                        for t in blocks(offer.start, offer.end)
                    )
                return booking, agent
            except IntegrityError:
                log.info("agent %s was taken at %s meanwhile; trying the next one", agent.id, offer.start)
        raise SlotTaken("that time was just taken")

    def release(self, booking_id: str, reason: str, *, only_pending: bool = False) -> None:
        with self.ctx.store.session() as s:
            b = s.get(Booking, booking_id)
            if b is None or (only_pending and b.status != "pending"):
                return
            s.execute(delete(BookingBlock).where(BookingBlock.booking_id == booking_id))
            b.status = "failed"
            b.failure_reason = reason[:500]

    def confirm(self, booking_id: str, created: CreatedEvent, sends_invitations: bool) -> Booking | None:
        """pending → confirmed and the confirmation e-mail queued, in one transaction.

        The conditional UPDATE makes this happen once, whoever calls it (the booking turn or the
        reconciler). Returns None when the booking was no longer pending.
        """
        now = self.ctx.clock()
        announcer = self.announcer
        with self.ctx.store.session() as s:
            res = s.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "pending")
                .values(
                    status="confirmed",
                    provider_event_id=created.provider_event_id,
                    conference_url=created.conference_url,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:
                return None
            b = s.get(Booking, booking_id)  # a fresh session: loaded as just updated, with its agent
            c = announcer.confirmation(b, attach_ics=not sends_invitations)
            queued = announcer.announce(s, b, c, "created", build_confirmation(c, self.ctx.mail_from), "confirmation")
            queued[0].extend(announcer.guest_mails(s, b, c))  # the local calendar: we invite the guests
            announcer.queue_reminders(s, b, c, self.ctx.delivery.clock())
        announcer.kick(queued)
        return b
