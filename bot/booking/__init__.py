"""The booking service: offer, book, confirm, change. The only writer of bookings.

:class:`BookingService` is the one door in; it hands each call to the part that does it, all
parts sharing one :class:`~bot.booking.context.Context` (store, providers, outbox, settings,
clock):

- ``model``: the values handed out (offers, bookings, visitors) and the public booking shape;
- ``offering``: queue members, who is free, the round-robin standing, pages of offers;
- ``holding``: booking an offer — hold, provider event, confirm or release (DESIGN.md's
  booking path);
- ``announcing``: the e-mails, agent notices, reminders and webhooks, through the outbox;
- ``changes``: finding and cancelling a booking; ``moving``: new times for it and the move;
- ``reconciling``: settling bookings a crash left pending;
- ``listings``: callback requests and the CLI's listings.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from bot.booking.announcing import Announcer
from bot.booking.changes import Changes
from bot.booking.context import Context, ManageLink
from bot.booking.holding import Booker
from bot.booking.listings import Listings
from bot.booking.model import (
    CONTRACT_FIELDS,
    HOLDING,
    AgentRow,
    BookingResult,
    OfferedSlot,
    OfferPage,
    QueueInfo,
    Visitor,
    booking_json,
    reminder_minutes,
    utcnow,
)
from bot.booking.moving import Moves
from bot.booking.offering import Offering
from bot.booking.reconciling import Reconciler
from bot.calendars.base import CalendarProvider
from bot.messages.delivery import Delivery
from bot.messages.outbox import Outbox
from bot.scheduling import Interval
from bot.store import Store


class _Shared:
    """An attribute of the service kept in its context, so every part sees a change to it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, service: Any, owner: type | None = None) -> Any:
        return self if service is None else getattr(service.ctx, self.name)

    def __set__(self, service: Any, value: Any) -> None:
        setattr(service.ctx, self.name, value)


class BookingService:
    store = _Shared()
    providers = _Shared()
    delivery = _Shared()
    mail_from = _Shared()
    default_queue = _Shared()
    offer_ttl = _Shared()
    provider_timeout = _Shared()
    page_size = _Shared()
    clock = _Shared()
    #: (booking id, sequence, start, end, "cancel" | "reschedule") → a signed link for the
    #: e-mails, if the app serves the pages
    manage_link = _Shared()

    def __init__(
        self,
        store: Store,
        providers: Mapping[str, CalendarProvider],
        outbox: Outbox | Delivery,
        *,
        mail_from: str = "Meetings <meetings@localhost>",
        default_queue: str = "sales",
        offer_ttl: timedelta = timedelta(minutes=15),
        provider_timeout: float = 4.0,
        page_size: int = 5,
        clock: Callable[[], datetime] = utcnow,
        manage_link: ManageLink | None = None,
        routing: Any = None,
    ):
        self.ctx = Context(
            store=store,
            providers=providers,
            # Confirmations are queued with the booking's commit and delivered from the outbox.
            delivery=outbox if isinstance(outbox, Delivery) else Delivery(store, outbox, clock=clock),
            mail_from=mail_from,
            default_queue=default_queue,
            offer_ttl=offer_ttl,
            provider_timeout=provider_timeout,
            page_size=page_size,
            clock=clock,
            manage_link=manage_link,
            routing=routing,
        )
        self.offering = Offering(self.ctx)
        self.announcer = Announcer(self.ctx)
        self.booker = Booker(self.ctx, self.offering, self.announcer)
        self.changes = Changes(self.ctx, self.announcer)
        self.moving = Moves(self.ctx, self.offering, self.announcer)
        self.reconciler = Reconciler(self.ctx, self.booker)
        self.listings = Listings(self.ctx, self.offering)

    # ---- offering -------------------------------------------------------------------------
    def queue_info(self, slug: str | None) -> QueueInfo:
        return self.offering.queue_info(slug)

    def meeting_facts(self, slug: str | None, conversation_id: str | None = None) -> dict:
        """Length, tools and the times last shown: what a visitor's question is answered from."""
        return self.offering.meeting_facts(slug, conversation_id)

    def explain_slot(self, slug: str | None, start: datetime, now: datetime | None = None) -> dict:
        """See :meth:`Offering.explain_slot`: why a time is (not) offered, agent by agent."""
        return self.offering.explain_slot(slug, start, now)

    def offer_slots(
        self,
        conversation_id: str,
        queue_slug: str | None,
        *,
        after: datetime | None = None,
        within: Interval | None = None,
        count: int | None = None,
        visitor: Visitor | None = None,
        spread: bool = True,
    ) -> OfferPage:
        """See :meth:`Offering.offer_slots`."""
        return self.offering.offer_slots(
            conversation_id, queue_slug, after=after, within=within, count=count, visitor=visitor, spread=spread
        )

    def question(self, queue_slug: str | None, visitor: Visitor | None) -> Any:
        """See :meth:`Offering.question`: the qualification question to ask first, or None."""
        return self.offering.question(queue_slug, visitor)

    def moves(self, conversation_id: str, offer_id: str) -> str | None:
        """The booking an offer of this conversation would move (a reschedule offer), else None."""
        return self.offering.moves(conversation_id, offer_id)

    # ---- booking --------------------------------------------------------------------------
    def book(self, conversation_id: str, offer_id: str, visitor: Visitor) -> BookingResult:
        """See :meth:`Booker.book`."""
        return self.booker.book(conversation_id, offer_id, visitor)

    # ---- after the booking ----------------------------------------------------------------
    def get_booking(self, booking_id: str) -> dict[str, Any] | None:
        return self.changes.get_booking(booking_id)

    def find_bookings(
        self, *, conversation_id: str | None = None, email: str | None = None, code: str | None = None
    ) -> list[dict[str, Any]]:
        """See :meth:`Changes.find_bookings`."""
        return self.changes.find_bookings(conversation_id=conversation_id, email=email, code=code)

    def correct_visitor(
        self, booking_id: str, *, email: str | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        """See :meth:`Changes.correct_visitor`."""
        return self.changes.correct_visitor(booking_id, email=email, first_name=first_name)

    def add_guests(self, booking_id: str, emails: list[str]) -> dict[str, Any]:
        """See :meth:`Changes.add_guests`."""
        return self.changes.add_guests(booking_id, emails)

    def cancel(self, booking_id: str, *, sequence: int | None = None) -> dict[str, Any]:
        """See :meth:`Changes.cancel`."""
        return self.changes.cancel(booking_id, sequence=sequence)

    def mark_attendance(self, booking_id: str, attendance: str, *, agent_id: int | None = None) -> dict[str, Any]:
        """See :meth:`Changes.mark_attendance`: held or no-show, after the meeting."""
        return self.changes.mark_attendance(booking_id, attendance, agent_id=agent_id)

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
        """See :meth:`Moves.offer_reschedule`."""
        return self.moving.offer_reschedule(
            conversation_id, booking_id, after=after, within=within, count=count, sequence=sequence, spread=spread
        )

    def reschedule(
        self, conversation_id: str, offer_id: str, *, booking_id: str | None = None, sequence: int | None = None
    ) -> BookingResult:
        """See :meth:`Moves.reschedule`."""
        return self.moving.reschedule(conversation_id, offer_id, booking_id=booking_id, sequence=sequence)

    # ---- crash recovery -------------------------------------------------------------------
    def reconcile(self, older_than: timedelta = timedelta(minutes=2)) -> dict[str, list[str]]:
        """See :meth:`Reconciler.reconcile`."""
        return self.reconciler.reconcile(older_than)

    # ---- callbacks and listings -----------------------------------------------------------
    def request_callback(self, conversation_id: str, queue_slug: str | None, visitor: Visitor) -> None:
        self.listings.request_callback(conversation_id, queue_slug, visitor)

    def list_bookings(self) -> list[dict[str, Any]]:
        return self.listings.list_bookings()

    def list_callbacks(self) -> list[dict[str, Any]]:
        return self.listings.list_callbacks()

    def close(self) -> None:
        self.ctx.pool.shutdown(wait=False)


__all__ = [
    "BookingService",
    "Visitor",
    "OfferPage",
    "OfferedSlot",
    "BookingResult",
    "QueueInfo",
    "AgentRow",
    "booking_json",
    "reminder_minutes",
    "utcnow",
    "CONTRACT_FIELDS",
    "HOLDING",
]
