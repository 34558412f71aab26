"""Offering: who is in a queue, who is free (their rules, our bookings, their calendars), who is
next in the round robin, and the pages of open times stored as offers.

An offer is an opaque id bound to one conversation and a time to live; it names the agents who
were free at its time, so booking it only has to re-check those.
"""

from __future__ import annotations

import secrets
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.booking.context import Context
from bot.booking.domains import owner_for
from bot.booking.model import HOLDING, AgentRow, OfferedSlot, OfferPage, QueueInfo, Visitor, log, ref
from bot.booking.routing_rules import Decision, Question, decide, pending, routing_metadata
from bot.calendars.base import AgentRef
from bot.errors import Disqualified, OfferNotFound, ProviderError, UnknownQueue
from bot.i18n import zone
from bot.scheduling import AgentSchedule, Busy, Interval, Rules, availability, is_free
from bot.scheduling.offering import pick_page
from bot.scheduling.routing import Member, held_back, period_start
from bot.scheduling.troubleshoot import AgentParts, explain
from bot.store.models import (
    Agent,
    AgentInvitation,
    Booking,
    DateOverride,
    Offer,
    Queue,
    QueueMember,
    TimeOff,
    UTCDateTime,
    WeeklyHour,
)


class Offering:
    def __init__(self, ctx: Context):
        self.ctx = ctx

    # ---- queues -----------------------------------------------------------------------
    def queue(self, s: Session, slug: str | None) -> Queue:
        default = self.ctx.default_queue
        q = None
        if slug:
            q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one_or_none()
            if q is None:
                log.info("unknown queue %r, using %r", slug, default)
        if q is None:
            q = s.execute(select(Queue).where(Queue.slug == default)).scalar_one_or_none()
        if q is None:
            raise UnknownQueue(f"no queue {slug or default!r}; run `python -m bot seed-demo`")
        return q

    def queue_info(self, slug: str | None) -> QueueInfo:
        with self.ctx.store.session() as s:
            q = self.queue(s, slug)
            return QueueInfo(q.slug, q.name, q.timezone)

    def meeting_facts(self, slug: str | None, conversation_id: str | None = None) -> dict:
        """What a visitor may ask about a meeting of the queue before it is booked: its length,
        the tools its agents meet on (``google`` → Google Meet, ``microsoft`` → Teams, ``local`` →
        our video room; ``none`` for an agent who adds no link) and, for ``conversation_id``, the
        starts of the page of times it was shown last (UTC, in order)."""
        with self.ctx.store.session() as s:
            q = self.queue(s, slug)
            tools = sorted(
                {(provider if conference else "none") for provider, conference in s.execute(
                    select(Agent.provider, Agent.include_conference)
                    .join(QueueMember, QueueMember.agent_id == Agent.id)
                    .where(QueueMember.queue_id == q.id, Agent.active.is_(True))
                )}
            )
            shown: list[datetime] = []
            if conversation_id:
                last = s.execute(
                    select(func.max(Offer.created_at)).where(Offer.conversation_id == conversation_id)
                ).scalar_one_or_none()
                if last is not None:
                    shown = list(
                        s.execute(
                            select(Offer.start)
                            .where(Offer.conversation_id == conversation_id, Offer.created_at == last)
                            .order_by(Offer.start)
                        ).scalars()
                    )
            return {"queue": q.slug, "timezone": q.timezone, "minutes": q.meeting_minutes, "tools": tools, "shown": shown}

    @staticmethod
    def rules(q: Queue) -> Rules:
        return Rules(
            meeting_minutes=q.meeting_minutes,
            interval_minutes=q.interval_minutes,
            min_notice_minutes=q.min_notice_minutes,
            window_days=q.window_days,
            buffer_before_minutes=q.buffer_before_minutes,
            buffer_after_minutes=q.buffer_after_minutes,
        )

    @staticmethod
    def members(s: Session, q: Queue) -> list[AgentRow]:
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
        versions: dict[int, dict[str, tuple[str, str]]] = {r[0]: {} for r in rows}
        for agent_id, lang, subject, body in s.execute(
            select(AgentInvitation.agent_id, AgentInvitation.lang, AgentInvitation.subject, AgentInvitation.body).where(
                AgentInvitation.agent_id.in_(list(versions))
            )
        ):
            versions[agent_id][lang] = (subject, body)
        return [AgentRow(*r, weekly=weekly[r[0]], invitations=versions[r[0]]) for r in rows]

    # ---- availability -----------------------------------------------------------------
    def provider_busy(self, agents: Sequence[AgentRow], start: datetime, end: datetime) -> dict[int, Busy]:
        """Busy time from every provider, fetched concurrently with a timeout.

        An agent whose provider fails or times out is left out (fail closed: we never offer
        time we could not check).
        """
        by_provider: dict[str, list[AgentRef]] = {}
        for a in agents:
            by_provider.setdefault(a.provider, []).append(ref(a))
        futures = {}
        for name, refs in by_provider.items():
            provider = self.ctx.providers.get(name)
            if provider is None:
                log.warning("no provider %r configured; leaving out %d agents", name, len(refs))
                continue
            futures[name] = self.ctx.pool.submit(provider.busy, refs, start, end)
        out: dict[int, Busy] = {}
        for name, fut in futures.items():
            try:
                out.update({k: Busy.of(v) for k, v in fut.result(timeout=self.ctx.provider_timeout).items()})
            except (ProviderError, FutureTimeout, OSError) as exc:
                log.warning("calendar provider %s failed (%s); its agents are left out", name, type(exc).__name__)
        return out

    def schedules(
        self,
        s: Session,
        agents: Sequence[AgentRow],
        start: datetime,
        end: datetime,
        *,
        moving: Booking | None = None,
    ) -> list[AgentSchedule]:
        """Each agent's rules and busy time (calendar + our own bookings) around ``[start, end)``;
        an agent whose calendar could not be read is left out (fail closed)."""
        return [p.schedule() for p in self.schedule_parts(s, agents, start, end, moving=moving) if p.calendar is not None]

    def schedule_parts(
        self,
        s: Session,
        agents: Sequence[AgentRow],
        start: datetime,
        end: datetime,
        *,
        moving: Booking | None = None,
    ) -> list[AgentParts]:
        """Each agent's rules and busy time around ``[start, end)``, busy time kept by source
        (the calendar, None when it could not be read; our own bookings).

        ``moving``: a booking being rescheduled does not block its own new time — neither as our
        booking nor as its event in the agent's calendar."""
        ids = [a.id for a in agents]
        provider_busy = self.provider_busy(agents, start, end)
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
            tz = zone(a.timezone)
            per_day: dict[date, int] = {}
            for b in own[a.id]:
                d = b.start.astimezone(tz).date()
                per_day[d] = per_day.get(d, 0) + 1
            out.append(
                AgentParts(
                    AgentSchedule(
                        a.id,
                        tz,
                        a.weekly,
                        overrides=overrides[a.id],
                        time_off=time_off[a.id],
                        max_per_day=a.max_meetings_per_day,
                        booked_per_day=per_day,
                        buffer_before_minutes=a.buffer_before_minutes,
                        buffer_after_minutes=a.buffer_after_minutes,
                        min_notice_minutes=a.min_notice_minutes,
                    ),
                    calendar=provider_busy.get(a.id),
                    own=own[a.id],
                )
            )
        return out

    def explain_slot(self, slug: str | None, start: datetime, now: datetime | None = None) -> dict:
        """For each agent of the queue: is a meeting at ``start`` offered, and if not, the first
        rule that removes it (``bot.scheduling.troubleshoot``)."""
        now = now or self.ctx.clock()
        with self.ctx.store.session() as s:
            q = self.queue(s, slug)
            if slug and q.slug != slug:  # visitors fall back to the default queue; a question about one does not
                raise UnknownQueue(f"no queue {slug!r}")
            rules = self.rules(q)
            members = self.members(s, q)
            end = start + timedelta(minutes=rules.meeting_minutes)
            parts = self.schedule_parts(s, members, start - timedelta(days=1), end + timedelta(days=1))
        rows = []
        for member, part in zip(members, parts, strict=True):
            verdict = explain(part, rules, now, start)
            rows.append(
                {
                    "agent_id": member.id,
                    "agent": member.name,
                    "email": member.email,
                    "timezone": member.timezone,
                    "provider": member.provider,
                    "offered": verdict.offered,
                    "reason": verdict.reason,
                    "detail": verdict.detail,
                }
            )
        return {
            "queue": q.slug,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "offered": any(r["offered"] for r in rows),
            "agents": rows,
        }

    def standing(self, s: Session, q: Queue, members: Sequence[AgentRow], now: datetime) -> tuple[list[Member], datetime]:
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

    def route(self, queue_slug: str | None, visitor: Visitor | None) -> Decision | None:
        """The routing rules' decision for this visitor (None without rules)."""
        if not self.ctx.routing:
            return None
        return decide(self.ctx.routing, routing_metadata(queue_slug, visitor))

    def question(self, queue_slug: str | None, visitor: Visitor | None) -> Question | None:
        """The qualification question the routing rules need answered before they can decide
        for this visitor (``routing_rules.pending``), or None."""
        if not self.ctx.routing:
            return None
        return pending(self.ctx.routing, routing_metadata(queue_slug, visitor))

    def routed_queue(self, queue_slug: str | None, visitor: Visitor | None) -> tuple[str | None, bool]:
        """The queue the routing rules send this visitor to (the page's when a rule says null),
        and whether only their account owner's times are offered (a rule's ``owner: true``);
        raises Disqualified when a rule says "no meeting"."""
        decision = self.route(queue_slug, visitor)
        if decision is None:
            return queue_slug, False
        if decision.disqualify is not None:
            raise Disqualified(decision)
        return decision.queue or queue_slug, decision.owner

    @staticmethod
    def owner_ids(s: Session, members: Sequence[AgentRow], visitor: Visitor | None) -> list[int]:
        """The visitor's account owners among ``members``: the metadata's ``owner_email`` (person
        or company), then the owner of the account their e-mail domain belongs to
        (``account_domains``; never for free mail)."""
        if visitor is None:
            return []
        emails = {
            str(e).lower()
            for e in ((visitor.person or {}).get("owner_email"), (visitor.company or {}).get("owner_email"))
            if e
        }
        ids = [a.id for a in members if a.email.lower() in emails]
        by_domain = owner_for(s, visitor.email)
        if by_domain is not None and by_domain not in ids and any(a.id == by_domain for a in members):
            ids.append(by_domain)
        return ids

    # ---- offers -----------------------------------------------------------------------
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

        The routing rules (``routing.yml``) decide the queue first: another queue than the
        page's, or Disqualified (a polite "no meeting" answer, no times).
        """
        now = self.ctx.clock()
        queue_slug, owner_only = self.routed_queue(queue_slug, visitor)
        with self.ctx.store.session() as s:
            q = self.queue(s, queue_slug)
            rules = self.rules(q)
            members = self.members(s, q)
            back: set[int] = set()
            if q.routing_mode == "max-fairness":  # only then does the standing change what is offered
                standing, _ = self.standing(s, q, members, now)
                back = held_back(standing, q.routing_mode, q.fairness_margin, keep=self.owner_ids(s, members, visitor))
            agents = [a for a in members if a.id not in back]
            mine = self.owner_ids(s, members, visitor) if owner_only else []
            if mine:  # a rule sends this visitor to their account owner: only the owner's times
                agents = [a for a in members if a.id in mine]
            horizon = now + timedelta(days=rules.window_days)
            avail = availability(self.schedules(s, agents, now, horizon), rules, now)
            tz = zone(visitor.timezone if visitor else None, q.timezone)
            page = pick_page(avail, count or self.ctx.page_size, after=after, within=within, tz=tz, spread=spread)
            offered = []
            for slot in page:
                offer = Offer(
                    id=secrets.token_urlsafe(12),
                    conversation_id=conversation_id,
                    queue_id=q.id,
                    start=slot.start,
                    end=slot.end,
                    agent_ids=list(slot.agent_ids),
                    expires_at=now + self.ctx.offer_ttl,
                    created_at=now,
                )
                s.add(offer)
                offered.append(OfferedSlot(offer.id, slot.start, slot.end))
            return OfferPage(QueueInfo(q.slug, q.name, q.timezone), offered)

    @staticmethod
    def load_offer(s: Session, conversation_id: str, offer_id: str) -> Offer:
        offer = s.get(Offer, offer_id) if isinstance(offer_id, str) and 0 < len(offer_id) <= 32 else None
        if offer is None or offer.conversation_id != conversation_id:
            raise OfferNotFound("that time was not offered in this conversation")
        return offer

    def moves(self, conversation_id: str, offer_id: str) -> str | None:
        """The booking an offer of this conversation would move (a reschedule offer), else None."""
        with self.ctx.store.session() as s:
            try:
                return self.load_offer(s, conversation_id, offer_id).moves_booking
            except OfferNotFound:
                return None

    def free_agents(
        self,
        s: Session,
        offer: Offer,
        q: Queue,
        members: Sequence[AgentRow],
        now: datetime,
        moving: Booking | None = None,
    ) -> list[AgentRow]:
        """Members (among those offered) who can still take the offer's time right now."""
        rules = replace(self.rules(q), min_notice_minutes=0)
        offered = set(offer.agent_ids)
        agents = [a for a in members if a.id in offered]
        free = []
        for sched in self.schedules(s, agents, offer.start, offer.end, moving=moving):
            # Notice was checked when the time was offered (the queue's too: rules above).
            sched = replace(sched, min_notice_minutes=0)
            if is_free(sched, rules, Interval(offer.start, offer.end), now):
                free.append(next(a for a in agents if a.id == sched.agent_id))
        return free
