"""The booking service: offer, book, confirm. The only writer of bookings.

Booking path (DESIGN.md): an offer is an opaque id bound to one conversation and a time to
live. Booking it re-checks who is free *now*, picks the agent (round robin), and inserts the
booking as ``pending`` together with the agent's time blocks in one transaction — the primary
key of ``booking_blocks`` makes the database refuse a second booking of the same agent at an
overlapping time, whatever races in Python. Then the provider event is created with the
booking id as idempotency key, and the booking is marked ``confirmed``. If the provider fails,
the hold is released and the booking marked ``failed``: nothing is left half-made.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.calendars.base import AgentRef, CalendarProvider, CreatedEvent, EventRequest
from bot.errors import (
    AlreadyCancelled,
    BookingInPast,
    BookingNotFound,
    OfferExpired,
    OfferNotFound,
    ProviderError,
    ProviderUnavailable,
    SlotInPast,
    SlotTaken,
    UnknownQueue,
)
from bot.i18n import zone
from bot.messages.delivery import Delivery, queue_email
from bot.messages.email import (
    Confirmation,
    build_agent_notice,
    build_cancellation,
    build_confirmation,
    build_reminder,
    build_rescheduled,
)
from bot.messages.outbox import Outbox
from bot.messages.tokens import render_text
from bot.messages.webhooks import queue_event
from bot.scheduling import AgentSchedule, Busy, Interval, Rules, availability, is_free
from bot.scheduling.offering import pick_page
from bot.scheduling.routing import Member, held_back, period_start, route
from bot.store import Store
from bot.store.models import (
    BLOCK_MINUTES,
    Agent,
    Booking,
    BookingBlock,
    CallbackRequest,
    DateOverride,
    Offer,
    OutboxMessage,
    Queue,
    QueueMember,
    TimeOff,
    UTCDateTime,
    WeeklyHour,
)

log = logging.getLogger(__name__)

HOLDING = ("pending", "confirmed")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class QueueInfo:
    slug: str
    name: str
    timezone: str


@dataclass(frozen=True)
class OfferedSlot:
    id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class OfferPage:
    queue: QueueInfo
    slots: list[OfferedSlot]


@dataclass(frozen=True)
class Visitor:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    person: Mapping[str, Any] | None = None
    company: Mapping[str, Any] | None = None
    timezone: str = "UTC"
    locale: str = "en"

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email

    def token_person(self) -> dict[str, Any]:
        person = dict(self.person or {})
        person.update(
            {
                k: v
                for k, v in (("first_name", self.first_name), ("last_name", self.last_name), ("email", self.email))
                if v
            }
        )
        return person

    def token_company(self) -> dict[str, Any]:
        company = dict(self.company or {})
        if self.company_name:
            company["name"] = self.company_name
        return company


@dataclass(frozen=True)
class BookingResult:
    booking_id: str
    agent_name: str
    agent_email: str
    start: datetime
    end: datetime
    conference_url: str | None
    timezone: str
    locale: str


@dataclass(frozen=True)
class AgentRow:
    """What the booking path needs of a queue member, read in two plain queries."""

    id: int
    email: str
    name: str
    timezone: str
    provider: str
    include_conference: bool
    invitation_subject: str
    invitation_body: str
    max_meetings_per_day: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    weight: int
    weekly: dict[int, list[tuple[int, int]]]


def _blocks(start: datetime, end: datetime) -> list[datetime]:
    step = timedelta(minutes=BLOCK_MINUTES)
    # Align down to the block grid so any two overlapping bookings share at least one block.
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    t = epoch + ((start - epoch) // step) * step
    out = []
    while t < end:
        out.append(t)
        t += step
    return out


def _ref(agent: Agent | AgentRow) -> AgentRef:
    return AgentRef(id=agent.id, email=agent.email, name=agent.name)


def _event_request(
    key: str,
    agent: AgentRow,
    start: datetime,
    end: datetime,
    email: str,
    name: str,
    person: Mapping[str, Any],
    company: Mapping[str, Any],
) -> EventRequest:
    """The calendar event for a visitor, its summary and description rendered from the agent's
    invitation with the visitor's person and company tokens."""
    ctx = {"person": person, "company": company, "agent": {"name": agent.name, "email": agent.email}}
    return EventRequest(
        idempotency_key=key,
        agent=_ref(agent),
        start=start,
        end=end,
        summary=" ".join(render_text(agent.invitation_subject, ctx).split()),
        description=render_text(agent.invitation_body, ctx),
        attendee_email=email,
        attendee_name=name,
        with_conference=agent.include_conference,
    )


class BookingService:
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
        manage_link: Callable[[str, int, datetime, datetime, str], str] | None = None,
    ):
        self.store = store
        self.providers = providers
        #: Confirmations are queued with the booking's commit and delivered from the outbox.
        self.delivery = outbox if isinstance(outbox, Delivery) else Delivery(store, outbox, clock=clock)
        self.mail_from = mail_from
        self.default_queue = default_queue
        self.offer_ttl = offer_ttl
        self.provider_timeout = provider_timeout
        self.page_size = page_size
        self.clock = clock
        #: (booking id, sequence, start, end, "cancel" | "reschedule") → a signed link for the
        #: e-mails, if the app serves the pages
        self.manage_link = manage_link
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="calendar")

    # ---- queues -----------------------------------------------------------------------
    def _queue(self, s: Session, slug: str | None) -> Queue:
        q = None
        if slug:
            q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one_or_none()
            if q is None:
                log.info("unknown queue %r, using %r", slug, self.default_queue)
        if q is None:
            q = s.execute(select(Queue).where(Queue.slug == self.default_queue)).scalar_one_or_none()
        if q is None:
            raise UnknownQueue(f"no queue {slug or self.default_queue!r}; run `python -m bot seed-demo`")
        return q

    def queue_info(self, slug: str | None) -> QueueInfo:
        with self.store.session() as s:
            q = self._queue(s, slug)
            return QueueInfo(q.slug, q.name, q.timezone)

    @staticmethod
    def _rules(q: Queue) -> Rules:
        return Rules(
            meeting_minutes=q.meeting_minutes,
            interval_minutes=q.interval_minutes,
            min_notice_minutes=q.min_notice_minutes,
            window_days=q.window_days,
            buffer_before_minutes=q.buffer_before_minutes,
            buffer_after_minutes=q.buffer_after_minutes,
        )

    # ---- availability -----------------------------------------------------------------
    def _provider_busy(self, agents: Sequence[AgentRow], start: datetime, end: datetime) -> dict[int, Busy]:
        """Busy time from every provider, fetched concurrently with a timeout.

        An agent whose provider fails or times out is left out (fail closed: we never offer
        time we could not check).
        """
        by_provider: dict[str, list[AgentRef]] = {}
        for a in agents:
            by_provider.setdefault(a.provider, []).append(_ref(a))
        futures = {}
        for name, refs in by_provider.items():
            provider = self.providers.get(name)
            if provider is None:
                log.warning("no provider %r configured; leaving out %d agents", name, len(refs))
                continue
            futures[name] = self._pool.submit(provider.busy, refs, start, end)
        out: dict[int, Busy] = {}
        for name, fut in futures.items():
            try:
                out.update({k: Busy.of(v) for k, v in fut.result(timeout=self.provider_timeout).items()})
            except (ProviderError, FutureTimeout, OSError) as exc:
                log.warning("calendar provider %s failed (%s); its agents are left out", name, type(exc).__name__)
        return out

    def _schedules(
        self,
        s: Session,
        agents: Sequence[AgentRow],
        start: datetime,
        end: datetime,
        *,
        moving: Booking | None = None,
    ) -> list[AgentSchedule]:
        """Each agent's rules and busy time (calendar + our own bookings) around ``[start, end)``.

        ``moving``: a booking being rescheduled does not block its own new time — neither as our
        booking nor as its event in the agent's calendar."""
        ids = [a.id for a in agents]
        provider_busy = self._provider_busy(agents, start, end)
        lo, hi = start - timedelta(days=2), end + timedelta(days=2)
        own: dict[int, list[Interval]] = {i: [] for i in ids}
        for agent_id, b_start, b_end in s.execute(
            select(Booking.agent_id, Booking.start, Booking.end).where(
                Booking.agent_id.in_(ids),
                Booking.status.in_(HOLDING),
                Booking.start < hi,
                Booking.end > lo,
                Booking.id != (moving.id if moving is not None else ""),
            )
        ):
            own[agent_id].append(Interval(b_start, b_end))
        if moving is not None and moving.agent_id in provider_busy:
            # The calendar shows the booking's own event: free that time for this agent only.
            # (A second, unrelated event at the same time stays busy through the rest.)
            ours = Interval(moving.start, moving.end)
            rest = [i for i in Busy.of(provider_busy[moving.agent_id]).intervals() if i != ours]
            provider_busy[moving.agent_id] = Busy.from_intervals(rest)
        overrides: dict[int, dict[date, list[tuple[int, int]]]] = {i: {} for i in ids}
        for o in s.execute(select(DateOverride).where(DateOverride.agent_id.in_(ids))).scalars():
            day = overrides[o.agent_id].setdefault(o.day, [])
            if o.start_minute is not None and o.end_minute is not None:
                day.append((o.start_minute, o.end_minute))
        time_off: dict[int, list[Interval]] = {i: [] for i in ids}
        for t in s.execute(
            select(TimeOff).where(TimeOff.agent_id.in_(ids), TimeOff.start < hi, TimeOff.end > lo)
        ).scalars():
            time_off[t.agent_id].append(Interval(t.start, t.end))
        out = []
        for a in agents:
            if a.id not in provider_busy:
                continue
            tz = zone(a.timezone)
            per_day: dict[date, int] = {}
            for b in own[a.id]:
                d = b.start.astimezone(tz).date()
                per_day[d] = per_day.get(d, 0) + 1
            out.append(
                AgentSchedule(
                    a.id,
                    tz,
                    a.weekly,
                    busy=Busy.concat([provider_busy[a.id], Busy.from_intervals(own[a.id])]),
                    overrides=overrides[a.id],
                    time_off=time_off[a.id],
                    max_per_day=a.max_meetings_per_day,
                    booked_per_day=per_day,
                    buffer_before_minutes=a.buffer_before_minutes,
                    buffer_after_minutes=a.buffer_after_minutes,
                    min_notice_minutes=a.min_notice_minutes,
                )
            )
        return out

    @staticmethod
    def _members(s: Session, q: Queue) -> list[AgentRow]:
        """Active agents of the queue with their weights and weekly hours."""
        rows = s.execute(
            select(
                Agent.id,
                Agent.email,
                Agent.name,
                Agent.timezone,
                Agent.provider,
                Agent.include_conference,
                Agent.invitation_subject,
                Agent.invitation_body,
                Agent.max_meetings_per_day,
                Agent.buffer_before_minutes,
                Agent.buffer_after_minutes,
                Agent.min_notice_minutes,
                QueueMember.weight,
            )
            .join(QueueMember, QueueMember.agent_id == Agent.id)
            .where(QueueMember.queue_id == q.id, Agent.active.is_(True))
            .order_by(Agent.id)
        ).all()
        weekly: dict[int, dict[int, list[tuple[int, int]]]] = {r[0]: {} for r in rows}
        for agent_id, weekday, lo, hi in s.execute(
            select(WeeklyHour.agent_id, WeeklyHour.weekday, WeeklyHour.start_minute, WeeklyHour.end_minute).where(
                WeeklyHour.agent_id.in_(list(weekly))
            )
        ):
            weekly[agent_id].setdefault(weekday, []).append((lo, hi))
        return [AgentRow(*r, weekly=weekly[r[0]]) for r in rows]

    def _standing(
        self, s: Session, q: Queue, members: Sequence[AgentRow], now: datetime
    ) -> tuple[list[Member], datetime]:
        """Round-robin standing: confirmed bookings this period and the last booking, per member."""
        since = period_start(now, q.rr_period, zone(q.timezone))
        ids = [a.id for a in members]
        counts = dict(
            s.execute(
                select(Booking.agent_id, func.count())
                .where(
                    Booking.agent_id.in_(ids),
                    Booking.queue_id == q.id,
                    Booking.status.in_(("confirmed",) if q.credit_back_on_cancel else ("confirmed", "cancelled")),
                    Booking.created_at >= since,
                )
                .group_by(Booking.agent_id)
            ).all()
        )
        last = dict(
            s.execute(
                # type_ keeps the column's UTC conversion on the aggregate (SQLite returns text otherwise)
                select(Booking.agent_id, func.max(Booking.created_at, type_=UTCDateTime()))
                .where(Booking.agent_id.in_(ids), Booking.queue_id == q.id, Booking.status == "confirmed")
                .group_by(Booking.agent_id)
            ).all()
        )
        return [Member(a.id, a.name, a.email, a.weight, counts.get(a.id, 0), last.get(a.id)) for a in members], since

    @staticmethod
    def _owner_ids(members: Sequence[AgentRow], visitor: Visitor | None) -> list[int]:
        if visitor is None:
            return []
        emails = {
            str(e).lower()
            for e in ((visitor.person or {}).get("owner_email"), (visitor.company or {}).get("owner_email"))
            if e
        }
        return [a.id for a in members if a.email.lower() in emails]

    # ---- offering -----------------------------------------------------------------------
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
        """The next ``count`` open slots of the queue, each stored as an offer for this conversation.

        ``after`` pages onward; ``within`` limits to a visitor's window (a day, part of a day).
        A page is spread out (not five starts in one hour) in the visitor's time zone.
        """
        now = self.clock()
        with self.store.session() as s:
            q = self._queue(s, queue_slug)
            rules = self._rules(q)
            members = self._members(s, q)
            back: set[int] = set()
            if q.routing_mode == "max-fairness":  # only then does the standing change what is offered
                standing, _ = self._standing(s, q, members, now)
                back = held_back(standing, q.routing_mode, q.fairness_margin, keep=self._owner_ids(members, visitor))
            agents = [a for a in members if a.id not in back]
            horizon = now + timedelta(days=rules.window_days)
            avail = availability(self._schedules(s, agents, now, horizon), rules, now)
            tz = zone(visitor.timezone if visitor else None, q.timezone)
            page = pick_page(avail, count or self.page_size, after=after, within=within, tz=tz, spread=spread)
            offered = []
            for slot in page:
                offer = Offer(
                    id=secrets.token_urlsafe(12),
                    conversation_id=conversation_id,
                    queue_id=q.id,
                    start=slot.start,
                    end=slot.end,
                    agent_ids=list(slot.agent_ids),
                    expires_at=now + self.offer_ttl,
                    created_at=now,
                )
                s.add(offer)
                offered.append(OfferedSlot(offer.id, slot.start, slot.end))
            return OfferPage(QueueInfo(q.slug, q.name, q.timezone), offered)

    # ---- booking ------------------------------------------------------------------------
    def _load_offer(self, s: Session, conversation_id: str, offer_id: str) -> Offer:
        offer = s.get(Offer, offer_id) if isinstance(offer_id, str) and 0 < len(offer_id) <= 32 else None
        if offer is None or offer.conversation_id != conversation_id:
            raise OfferNotFound("that time was not offered in this conversation")
        return offer

    def moves(self, conversation_id: str, offer_id: str) -> str | None:
        """The booking an offer of this conversation would move (a reschedule offer), else None."""
        with self.store.session() as s:
            try:
                return self._load_offer(s, conversation_id, offer_id).moves_booking
            except OfferNotFound:
                return None

    def _free_agents(
        self,
        s: Session,
        offer: Offer,
        q: Queue,
        members: Sequence[AgentRow],
        now: datetime,
        moving: Booking | None = None,
    ) -> list[AgentRow]:
        """Members (among those offered) who can still take the offer's time right now."""
        rules = replace(self._rules(q), min_notice_minutes=0)
        offered = set(offer.agent_ids)
        agents = [a for a in members if a.id in offered]
        free = []
        for sched in self._schedules(s, agents, offer.start, offer.end, moving=moving):
            # Notice was checked when the time was offered (the queue's too: rules above).
            sched = replace(sched, min_notice_minutes=0)
            if is_free(sched, rules, Interval(offer.start, offer.end), now):
                free.append(next(a for a in agents if a.id == sched.agent_id))
        return free

    def _existing(self, s: Session, conversation_id: str, offer_id: str) -> Booking | None:
        return s.execute(
            select(Booking).where(
                Booking.offer_id == offer_id,
                Booking.conversation_id == conversation_id,
                Booking.status == "confirmed",
            )
        ).scalar_one_or_none()

    def _result(self, b: Booking, agent: Agent | AgentRow) -> BookingResult:
        return BookingResult(b.id, agent.name, agent.email, b.start, b.end, b.conference_url, b.timezone, b.locale)

    def _hold(
        self, offer: Offer, q: Queue, conversation_id: str, visitor: Visitor, now: datetime
    ) -> tuple[Booking, AgentRow]:
        """Insert a pending booking and its blocks for the first routable free agent."""
        with self.store.session() as s:
            members = self._members(s, q)
            free = self._free_agents(s, offer, q, members, now)
            standing, since = self._standing(s, q, members, now)
        by_id = {a.id: a for a in free}
        decision = route(
            [m for m in standing if m.agent_id in by_id],
            standing,
            owners=self._owner_ids(members, visitor),
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
                start=offer.start,
                end=offer.end,
                timezone=visitor.timezone,
                locale=visitor.locale,
                provider=agent.provider,
                routing={**decision.explanation, "chosen": agent.id},
                created_at=now,
                updated_at=now,
            )
            try:
                with self.store.session() as s:
                    s.add(booking)
                    s.flush()
                    s.add_all(
                        BookingBlock(agent_id=agent.id, block_start=t, booking_id=booking.id)
                        for t in _blocks(offer.start, offer.end)
                    )
                return booking, agent
            except IntegrityError:
                log.info("agent %s was taken at %s meanwhile; trying the next one", agent.id, offer.start)
        raise SlotTaken("that time was just taken")

    def _release(self, booking_id: str, reason: str, *, only_pending: bool = False) -> None:
        with self.store.session() as s:
            b = s.get(Booking, booking_id)
            if b is None or (only_pending and b.status != "pending"):
                return
            s.execute(delete(BookingBlock).where(BookingBlock.booking_id == booking_id))
            b.status = "failed"
            b.failure_reason = reason[:500]

    def book(self, conversation_id: str, offer_id: str, visitor: Visitor) -> BookingResult:
        now = self.clock()
        with self.store.session() as s:
            offer = self._load_offer(s, conversation_id, offer_id)
            if offer.moves_booking is not None:  # a new time for a booking, not a new booking
                raise OfferNotFound("that time was offered to move a booking")
            existing = self._existing(s, conversation_id, offer_id)
            if existing is not None:  # a double click: the same booking, not a second one
                return self._result(existing, existing.agent)
            if offer.start <= now:
                raise SlotInPast("that time has passed")
            if offer.expires_at <= now:
                raise OfferExpired("that offer expired")
            q = s.get(Queue, offer.queue_id)
        booking, agent = self._hold(offer, q, conversation_id, visitor, now)
        provider = self.providers[agent.provider]
        request = _event_request(
            booking.id, agent, booking.start, booking.end, visitor.email, visitor.display_name,
            visitor.token_person(), visitor.token_company(),
        )  # fmt: skip
        try:
            created = provider.create_event(request)
        except Exception as exc:  # any failure: release the hold, nothing half-made
            self._release(booking.id, f"{type(exc).__name__}: {exc}")
            log.warning("booking %s failed at the provider: %s", booking.id, type(exc).__name__)
            if isinstance(exc, ProviderError):
                raise
            raise ProviderUnavailable("the calendar could not be reached", provider=agent.provider) from exc
        _fault_point("after-provider")
        confirmed = self._confirm(booking.id, created, provider.sends_invitations)
        if confirmed is None:  # the reconciler released it meanwhile (we were too slow): undo ours
            self._cancel_quietly(provider, agent, created.provider_event_id)
            raise ProviderUnavailable("the booking could not be completed", provider=agent.provider)
        log.info("booking %s confirmed with agent %s", booking.id, agent.id)
        return self._result(confirmed, agent)

    def _confirm(self, booking_id: str, created: CreatedEvent, sends_invitations: bool) -> Booking | None:
        """pending → confirmed and the confirmation e-mail queued, in one transaction.

        The conditional UPDATE makes this happen once, whoever calls it (the booking turn or the
        reconciler). Returns None when the booking was no longer pending.
        """
        now = self.clock()
        with self.store.session() as s:
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
            c = self._confirmation(b, attach_ics=not sends_invitations)
            queued = self._announce(s, b, c, "created", build_confirmation(c, self.mail_from), "confirmation")
            self._queue_reminders(s, b, c, self.delivery.clock())
        self._kick(queued)
        return b

    def _announce(
        self,
        s: Session,
        b: Booking,
        c: Confirmation,
        event: str,
        visitor_mail: EmailMessage,
        visitor_key: str,
        *,
        previous: tuple[datetime, datetime, AgentRef] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> tuple[list[int], list[int]]:
        """In the caller's transaction: the visitor's mail, the agent's notice and the webhooks
        of ``booking.<event>``. Returns the outbox ids (mails, webhooks) to try once committed.

        A reschedule (``previous`` = old start, end, agent) tells the agent it moved; if the
        agent changed, the old agent hears it is cancelled and the new one that it is new."""
        now = self.delivery.clock()
        suffix = f":{b.sequence}" if previous is not None else ""  # a booking may move many times
        mails = [queue_email(s, visitor_mail, key=f"{visitor_key}:{b.id}{suffix}", now=now).id]
        agent_zone = zone(b.agent.timezone)
        if previous is None:
            notices = [("", build_agent_notice(event, c, agent_zone, self.mail_from))]
        elif previous[2].id == b.agent_id:
            notices = [("", build_agent_notice("rescheduled", c, agent_zone, self.mail_from, previous=previous[:2]))]
        else:
            old_agent = s.get(Agent, previous[2].id)
            was = replace(c, start=previous[0], end=previous[1], agent_name=old_agent.name, agent_email=old_agent.email)
            notices = [
                (":old", build_agent_notice("cancelled", was, zone(old_agent.timezone), self.mail_from)),
                (":new", build_agent_notice("created", c, agent_zone, self.mail_from)),
            ]
        for tag, notice in notices:
            mails.append(queue_email(s, notice, key=f"agent:{b.id}:{event}{suffix}{tag}", now=now).id)
        payload = {**booking_json(b), **(extra or {})}
        hooks = queue_event(s, f"booking.{event}", payload, key=f"{b.id}:{event}{suffix}", now=now)
        return mails, hooks

    def _kick(self, queued: tuple[list[int], list[int]]) -> None:
        mails, hooks = queued
        self.delivery.kick(mails)
        self.delivery.kick(hooks, background=True)  # a slow endpoint must not hold up the chat

    def _queue_reminders(self, s: Session, b: Booking, c: Confirmation, now: datetime) -> None:
        """Reminder e-mails at the queue's lead times before the start (none already past)."""
        reminder = build_reminder(c, self.mail_from)
        for minutes in reminder_minutes(b.queue.reminder_minutes):
            due = b.start - timedelta(minutes=minutes)
            if due > now:
                queue_email(s, reminder, key=f"reminder:{b.id}:{b.sequence}:{minutes}", now=now, due=due)

    @staticmethod
    def _drop_reminders(s: Session, booking_id: str) -> None:
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key.like(f"reminder:{booking_id}:%"), OutboxMessage.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )


    @staticmethod
    def _cancel_quietly(provider: CalendarProvider, agent: AgentRow | Agent, event_id: str) -> None:
        try:
            provider.cancel_event(_ref(agent), event_id)
        except Exception as exc:
            log.error("could not remove provider event %s of agent %s: %s", event_id, agent.id, type(exc).__name__)

    @staticmethod
    def _visitor_of(b: Booking) -> Visitor:
        return Visitor(
            email=b.visitor_email,
            first_name=b.visitor_first_name,
            last_name=b.visitor_last_name,
            company_name=b.company_name,
            person=b.person or {},
            company=b.company or {},
            timezone=b.timezone,
            locale=b.locale,
        )

    def _confirmation(self, b: Booking, *, attach_ics: bool) -> Confirmation:
        visitor = self._visitor_of(b)
        agent = b.agent
        return Confirmation(
            booking_id=b.id,
            agent_name=agent.name,
            agent_email=agent.email,
            visitor_email=b.visitor_email,
            visitor_name=visitor.display_name,
            start=b.start,
            end=b.end,
            timezone=zone(b.timezone),
            locale=b.locale,
            conference_url=b.conference_url,
            subject_template=agent.invitation_subject,
            body_template=agent.invitation_body,
            person=visitor.token_person(),
            company=visitor.token_company(),
            attach_ics=attach_ics,
            manage_url=self.manage_link(b.id, b.sequence, b.start, b.end, "cancel") if self.manage_link else None,
            reschedule_url=(
                self.manage_link(b.id, b.sequence, b.start, b.end, "reschedule")
                if self.manage_link and b.start > self.clock()
                else None
            ),
            sequence=b.sequence,
        )

    # ---- after the booking ----------------------------------------------------------------
    def get_booking(self, booking_id: str) -> dict[str, Any] | None:
        with self.store.session() as s:
            b = s.get(Booking, booking_id) if isinstance(booking_id, str) and len(booking_id) <= 32 else None
            return None if b is None else {**booking_json(b), "sequence": b.sequence}

    def cancel(self, booking_id: str, *, sequence: int | None = None) -> dict[str, Any]:
        """Cancel a confirmed booking: the provider event first (so a failure changes nothing),
        then, in one transaction, the booking, its hold, the visitor's notice (ICS CANCEL when
        we sent the invitation), the agent's notice and the webhooks.

        ``sequence`` (from a signed link) must match: a link from before a change does nothing.
        """
        now = self.clock()
        with self.store.session() as s:
            b = self._confirmed(s, booking_id, sequence)
            if b.end <= now:
                raise BookingInPast("the meeting is over")
            agent, provider_name, event_id, seq = _ref(b.agent), b.provider, b.provider_event_id, b.sequence
        provider = self.providers.get(provider_name)
        if provider is None:
            raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
        if event_id:
            provider.cancel_event(agent, event_id)  # a missing event is fine; an outage raises
        with self.store.session() as s:
            res = s.execute(
                update(Booking)
                .where(Booking.id == booking_id, Booking.status == "confirmed", Booking.sequence == seq)
                .values(status="cancelled", cancelled_at=now, updated_at=now, sequence=seq + 1)
                .execution_options(synchronize_session=False)
            )
            if res.rowcount != 1:  # cancelled (or changed) by someone else meanwhile
                raise AlreadyCancelled("already cancelled")
            s.execute(delete(BookingBlock).where(BookingBlock.booking_id == booking_id))
            self._drop_reminders(s, booking_id)
            b = s.get(Booking, booking_id)
            c = self._confirmation(b, attach_ics=not provider.sends_invitations)
            queued = self._announce(s, b, c, "cancelled", build_cancellation(c, self.mail_from), "cancellation")
            result = booking_json(b)
        log.info("booking %s cancelled", booking_id)
        self._kick(queued)
        return result

    def find_bookings(
        self, *, conversation_id: str | None = None, email: str | None = None, code: str | None = None
    ) -> list[dict[str, Any]]:
        """The visitor's upcoming confirmed bookings, soonest first: those made in this
        conversation, or the one whose booking code (the whole code, or at least its first 8
        characters) and visitor e-mail both match. Anything else finds nothing."""
        now = self.clock()
        query = select(Booking).where(Booking.status == "confirmed", Booking.end > now)
        if conversation_id:
            query = query.where(Booking.conversation_id == conversation_id)
        else:
            code = (code or "").strip().lower()
            email = (email or "").strip().lower()
            if not (8 <= len(code) <= 32 and all(ch in "0123456789abcdef" for ch in code) and "@" in email):
                return []
            query = query.where(Booking.id.like(f"{code}%"), func.lower(Booking.visitor_email) == email)
        with self.store.session() as s:
            rows = s.execute(query.order_by(Booking.start).limit(10)).scalars().all()
            if not conversation_id and len(rows) != 1:
                return []  # an ambiguous short code identifies nobody
            return [{**booking_json(b), "sequence": b.sequence} for b in rows]

    @staticmethod
    def _confirmed(s: Session, booking_id: str | None, sequence: int | None = None) -> Booking:
        """The confirmed booking, else BookingNotFound (none, not confirmed, or a ``sequence`` from
        a link sent before a change) or AlreadyCancelled."""
        b = s.get(Booking, booking_id) if isinstance(booking_id, str) and len(booking_id) <= 32 else None
        if b is None or (sequence is not None and sequence != b.sequence and b.status != "cancelled"):
            raise BookingNotFound("no such booking")
        if b.status == "cancelled":
            raise AlreadyCancelled("the meeting was cancelled")
        if b.status != "confirmed":
            raise BookingNotFound("no such booking")
        return b

    def _movable(self, s: Session, booking_id: str | None, now: datetime, sequence: int | None = None) -> Booking:
        b = self._confirmed(s, booking_id, sequence)
        if b.start <= now:
            raise BookingInPast("the meeting has started")
        return b

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
        now = self.clock()
        count = count or self.page_size
        with self.store.session() as s:
            b = self._movable(s, booking_id, now, sequence)
            q = b.queue
            rules = self._rules(q)
            members = self._members(s, q)
            horizon = now + timedelta(days=rules.window_days)
            schedules = self._schedules(s, members, now, horizon, moving=b)
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
                    expires_at=now + self.offer_ttl,
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
        now = self.clock()
        with self.store.session() as s:
            offer = self._load_offer(s, conversation_id, offer_id)
            if offer.moves_booking is None or (booking_id is not None and offer.moves_booking != booking_id):
                raise OfferNotFound("that time was not offered for this booking")
            b = self._movable(s, offer.moves_booking, now, sequence)
            if (b.start, b.end) == (offer.start, offer.end):  # a double click: already moved there
                return self._result(b, b.agent)
            if offer.start <= now:
                raise SlotInPast("that time has passed")
            if offer.expires_at <= now:
                raise OfferExpired("that offer expired")
            q = b.queue
            members = self._members(s, q)
            free = self._free_agents(s, offer, q, members, now, moving=b)
            standing, since = self._standing(s, q, members, now)
            old = b.agent
            was = {"agent": _ref(old), "start": b.start, "end": b.end, "seq": b.sequence}
            event_id, old_provider_name = b.provider_event_id, b.provider
            booking_id = b.id
            visitor, conference_url = self._visitor_of(b), b.conference_url
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
        new_blocks = _blocks(offer.start, offer.end)
        for agent_id in order:
            agent = by_id[agent_id]
            kept = set(_blocks(was["start"], was["end"])) if agent.id == old.id else set()
            added = [t for t in new_blocks if t not in kept]
            try:
                with self.store.session() as s:
                    s.add_all(BookingBlock(agent_id=agent.id, block_start=t, booking_id=booking_id) for t in added)
                break
            except IntegrityError:
                log.info("agent %s was taken at %s meanwhile; trying the next one", agent.id, offer.start)
        else:
            raise SlotTaken("that time was just taken")

        def give_back() -> None:
            with self.store.session() as s:
                s.execute(
                    delete(BookingBlock).where(
                        BookingBlock.booking_id == booking_id,
                        BookingBlock.agent_id == agent.id,
                        BookingBlock.block_start.in_(added),
                    )
                )

        provider = self.providers.get(agent.provider)
        try:
            if provider is None:
                raise ProviderUnavailable(f"provider {agent.provider!r} is not configured", provider=agent.provider)
            if agent.id == old.id:
                if event_id:
                    provider.update_event(_ref(agent), event_id, offer.start, offer.end)
                created = CreatedEvent(event_id or "", conference_url)
            else:
                old_provider = self.providers.get(old_provider_name)
                if old_provider is None:
                    raise ProviderUnavailable(f"provider {old_provider_name!r} is not configured", provider=old_provider_name)
                created = provider.create_event(
                    _event_request(
                        f"{booking_id}{was['seq'] + 1:04x}", agent, offer.start, offer.end,
                        visitor.email, visitor.display_name, visitor.token_person(), visitor.token_company(),
                    )  # fmt: skip
                )
                try:
                    if event_id:
                        old_provider.cancel_event(was["agent"], event_id)
                except Exception:
                    self._cancel_quietly(provider, agent, created.provider_event_id)
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
        now = self.clock()
        with self.store.session() as s:
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
            keep = set(_blocks(offer.start, offer.end))
            for blk in s.execute(select(BookingBlock).where(BookingBlock.booking_id == booking_id)).scalars().all():
                if blk.agent_id != agent.id or blk.block_start not in keep:
                    s.delete(blk)
            self._drop_reminders(s, booking_id)
            b = s.get(Booking, booking_id)
            c = self._confirmation(b, attach_ics=not sends_invitations)
            prev = {"start": _iso(was["start"]), "end": _iso(was["end"]), "agent_email": was["agent"].email}
            queued = self._announce(
                s, b, c, "rescheduled", build_rescheduled(c, was["start"], was["end"], self.mail_from),
                "rescheduled", previous=(was["start"], was["end"], was["agent"]), extra={"previous": prev},
            )
            self._queue_reminders(s, b, c, self.delivery.clock())
            result = self._result(b, b.agent)
        self._kick(queued)
        return result

    # ---- crash recovery -------------------------------------------------------------------
    def reconcile(self, older_than: timedelta = timedelta(minutes=2)) -> dict[str, list[str]]:
        """Settle bookings left ``pending`` by a crash between the provider call and the commit.

        The provider is asked for the event by the booking's idempotency key: if it exists the
        booking is confirmed (and its e-mail queued), if not the hold is released. A provider
        that cannot answer now leaves the booking pending for the next round — never guessed.
        ``older_than`` must exceed the longest booking turn (provider timeout and retries).
        """
        cutoff = self.clock() - older_than
        with self.store.session() as s:
            stale = s.execute(
                select(Booking.id, Booking.provider, Booking.agent_id)
                .where(Booking.status == "pending", Booking.updated_at < cutoff)
                .order_by(Booking.created_at)
            ).all()
            agents = {a.id: _ref(a) for a in s.execute(select(Agent).where(Agent.id.in_({r[2] for r in stale}))).scalars()}
        done: dict[str, list[str]] = {"confirmed": [], "released": [], "unsettled": []}
        for booking_id, provider_name, agent_id in stale:
            provider = self.providers.get(provider_name)
            try:
                if provider is None:
                    raise ProviderUnavailable(f"provider {provider_name!r} is not configured", provider=provider_name)
                found = provider.find_event(agents[agent_id], booking_id)
            except Exception as exc:
                log.warning("reconcile: booking %s still pending: %s", booking_id, type(exc).__name__)
                done["unsettled"].append(booking_id)
                continue
            if found is not None and self._confirm(booking_id, found, provider.sends_invitations) is not None:
                log.warning("reconcile: booking %s was interrupted after its event was made: confirmed", booking_id)
                done["confirmed"].append(booking_id)
            elif found is None:
                self._release(booking_id, "interrupted before the calendar event was made", only_pending=True)
                log.warning("reconcile: booking %s was interrupted before its event was made: released", booking_id)
                done["released"].append(booking_id)
        return done

    # ---- callbacks ------------------------------------------------------------------------
    def request_callback(self, conversation_id: str, queue_slug: str | None, visitor: Visitor) -> None:
        with self.store.session() as s:
            q = self._queue(s, queue_slug)
            exists = s.execute(
                select(CallbackRequest).where(
                    CallbackRequest.conversation_id == conversation_id, CallbackRequest.email == visitor.email
                )
            ).scalar_one_or_none()
            if exists is None:
                s.add(
                    CallbackRequest(
                        conversation_id=conversation_id,
                        queue_id=q.id,
                        email=visitor.email,
                        first_name=visitor.first_name,
                        company_name=visitor.company_name,
                        locale=visitor.locale,
                        timezone=visitor.timezone,
                        created_at=self.clock(),
                    )
                )

    # ---- reading ------------------------------------------------------------------------
    def list_bookings(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            rows = s.execute(select(Booking).order_by(Booking.start, Booking.id)).scalars().all()
            return [booking_json(b) for b in rows]

    def list_callbacks(self) -> list[dict[str, Any]]:
        with self.store.session() as s:
            rows = s.execute(select(CallbackRequest, Queue.slug).join(Queue).order_by(CallbackRequest.created_at)).all()
            return [
                {
                    "id": c.id,
                    "status": c.status,
                    "queue": slug,
                    "email": c.email,
                    "first_name": c.first_name,
                    "company": c.company_name,
                    "locale": c.locale,
                    "timezone": c.timezone,
                    "created_at": _iso(c.created_at),
                }
                for c, slug in rows
            ]

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def reminder_minutes(value: str | None) -> list[int]:
    """"1440,60" → [1440, 60]; anything that is not a lead time between 5 minutes and a week is
    ignored, so a typo never blocks a booking."""
    out = []
    for part in (value or "").split(","):
        part = part.strip()
        if part.isdigit() and 5 <= int(part) <= 7 * 24 * 60:
            out.append(int(part))
    return sorted(set(out), reverse=True)


def _fault_point(name: str) -> None:
    """Test-only: ``BOT_FAULT=crash:<name>`` kills this process here (the crash-safety test).

    Never set in production; unset, this is one dictionary lookup.
    """
    if os.environ.get("BOT_FAULT") == f"crash:{name}":
        log.error("BOT_FAULT: killing the process at %s", name)
        os.kill(os.getpid(), signal.SIGKILL)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


#: Contract 5 of DESIGN.md: fields every booking in `python -m bot bookings --json` has.
CONTRACT_FIELDS = (
    "id", "status", "queue", "agent_email", "visitor_email", "start", "end", "timezone", "locale", "conference_url",
)  # fmt: skip


def booking_json(b: Booking) -> dict[str, Any]:
    """Contract 5 of DESIGN.md: the public shape of a booking."""
    return {
        "id": b.id,
        "status": b.status,
        "queue": b.queue.slug,
        "agent_email": b.agent.email,
        "agent_name": b.agent.name,
        "visitor_email": b.visitor_email,
        "visitor_first_name": b.visitor_first_name,
        "visitor_last_name": b.visitor_last_name,
        "company": b.company_name,
        "start": _iso(b.start),
        "end": _iso(b.end),
        "timezone": b.timezone,
        "locale": b.locale,
        "conference_url": b.conference_url,
        "provider": b.provider,
        "created_at": _iso(b.created_at),
        "failure_reason": b.failure_reason,
    }


__all__ = [
    "BookingService",
    "Visitor",
    "OfferPage",
    "OfferedSlot",
    "BookingResult",
    "QueueInfo",
    "booking_json",
]
