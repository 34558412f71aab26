"""Numbers for the admin dashboard: bookings per agent over time (is the round robin fair?),
the booking funnel, failed bookings and a CSV export.

Every function takes a range ``[start, end)`` of aware datetimes and an optional queue slug
(``None``: every queue) and reads the database in a few plain queries; bucketing is done in
Python, which stays fast for tens of thousands of bookings.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.errors import UnknownQueue
from bot.i18n import zone
from bot.store import Store
from bot.store.models import Agent, Booking, Offer, Queue, QueueMember

#: Bookings that were handed out by the round robin: confirmed ones, and confirmed ones the
#: visitor cancelled later (a reschedule keeps its booking ``confirmed``).
MADE = ("confirmed", "cancelled")
BUCKETS = ("week", "day")


@dataclass(frozen=True)
class AgentSeries:
    agent_id: int
    name: str
    email: str
    #: The agent's weight / the sum of the weights of the queue's active members (0..1); equal
    #: shares among active agents when no queue is given; 0 for an inactive or former member.
    weight_share: float
    #: Bookings made per bucket (confirmed + cancelled, by ``created_at``), one per bucket.
    counts: list[int]
    total: int
    #: total / the sum of every agent's total (0 when there are none).
    share: float


@dataclass(frozen=True)
class Funnel:
    offered: int  # conversations shown times (reschedule offers left out)
    chosen: int  # conversations where the visitor clicked a time (a booking of any status)
    booked: int  # bookings that got confirmed (confirmed now or cancelled later)
    cancelled: int  # of those, cancelled since


def _aware(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime) or t.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return t.astimezone(timezone.utc)


def _range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _aware(start, "start"), _aware(end, "end")
    if end < start:
        raise ValueError("end is before start")
    return start, end


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _queue(s: Session, slug: str | None) -> Queue | None:
    """The queue of that slug; None for every queue. An unknown slug raises UnknownQueue."""
    if slug is None:
        return None
    q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one_or_none()
    if q is None:
        raise UnknownQueue(f"no queue {slug!r}")
    return q


def _in_range(query: Select, column: Any, start: datetime, end: datetime) -> Select:
    return query.where(column >= start, column < end)


def _bucket_start(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def buckets_for(start: datetime, end: datetime, *, bucket: str = "week", tz: str = "UTC") -> list[date]:
    """The first local day of each bucket (Monday of each week, or each day) overlapping
    ``[start, end)`` in zone ``tz``."""
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; use one of {', '.join(BUCKETS)}")
    start, end = _range(start, end)
    z = zone(tz)
    step = timedelta(days=7 if bucket == "week" else 1)
    day = _bucket_start(start.astimezone(z).date(), bucket)
    out = []
    while datetime.combine(day, time(), tzinfo=z) < end:
        out.append(day)
        day += step
    return out


def bookings_per_agent(
    store: Store,
    *,
    queue: str | None,
    start: datetime,
    end: datetime,
    bucket: str = "week",
    tz: str = "UTC",
) -> tuple[list[date], list[AgentSeries]]:
    """Bookings made per agent and per bucket in ``[start, end)``, by ``created_at``.

    Buckets are Monday-starting weeks (``bucket="week"``) or days (``"day"``) in zone ``tz``;
    the first and last may be partial. Each bucket is named by its first local day.

    What counts: bookings with status ``confirmed`` or ``cancelled``, i.e. every booking that
    was made. A cancelled booking was still handed out by the round robin at the time (whether
    the queue credits it back afterwards is a routing setting, not history), and a rescheduled
    booking stays one booking (``confirmed``, counted once, by when it was first made, for the
    agent that holds it now). Pending and failed bookings were never made and do not count.

    Agents: the queue's members (every agent when ``queue`` is None), by name, including those
    with no bookings. Inactive members are left out unless they have bookings in the range;
    an agent with bookings in the queue who has since left it is listed too (target share 0),
    so the totals always add up to every booking made. ``weight_share`` is the agent's weight
    over the summed weights of the active members (equal shares without a queue).
    """
    days = buckets_for(start, end, bucket=bucket, tz=tz)
    start, end = _range(start, end)
    z = zone(tz)
    index = {d: i for i, d in enumerate(days)}
    with store.session() as s:
        q = _queue(s, queue)
        rows = select(Booking.agent_id, Booking.created_at).where(Booking.status.in_(MADE))
        if q is not None:
            rows = rows.where(Booking.queue_id == q.id)
        made = s.execute(_in_range(rows, Booking.created_at, start, end)).all()
        # (id, name, email, active, weight); without a queue every agent weighs the same
        if q is not None:
            members = [
                tuple(r)
                for r in s.execute(
                    select(Agent.id, Agent.name, Agent.email, Agent.active, QueueMember.weight)
                    .join(QueueMember, QueueMember.agent_id == Agent.id)
                    .where(QueueMember.queue_id == q.id)
                )
            ]
        else:
            members = [(*r, 1) for r in s.execute(select(Agent.id, Agent.name, Agent.email, Agent.active))]
        gone = {agent_id for agent_id, _ in made} - {m[0] for m in members}
        if gone:  # booked in this queue, no longer a member: keep their bookings in the picture
            members += [
                (*r, False, 0)
                for r in s.execute(select(Agent.id, Agent.name, Agent.email).where(Agent.id.in_(sorted(gone))))
            ]

    counts: dict[int, list[int]] = {m[0]: [0] * len(days) for m in members}
    for agent_id, created_at in made:
        i = index.get(_bucket_start(created_at.astimezone(z).date(), bucket))
        if i is not None:
            counts[agent_id][i] += 1
    shown = [m for m in members if m[3] or sum(counts[m[0]])]
    weights = {m[0]: max(int(m[4] or 0), 0) if m[3] else 0 for m in shown}
    weight_sum = sum(weights.values())
    active = sum(1 for m in shown if m[3])
    grand = len(made)
    series = []
    for agent_id, name, email, is_active, _w in sorted(shown, key=lambda m: (m[1].casefold(), m[1], m[0])):
        if weight_sum:
            target = weights[agent_id] / weight_sum
        else:  # no queue, or every weight 0: equal shares among the active agents
            target = 1 / active if is_active and active else 0.0
        total = sum(counts[agent_id])
        series.append(
            AgentSeries(
                agent_id=agent_id,
                name=name,
                email=email,
                weight_share=target,
                counts=counts[agent_id],
                total=total,
                share=total / grand if grand else 0.0,
            )
        )
    return days, series


def funnel(store: Store, *, queue: str | None, start: datetime, end: datetime) -> Funnel:
    """From times shown to meetings held, for conversations/bookings in ``[start, end)``.

    offered: distinct conversations shown times (offers created in the range; reschedule
    offers, with ``moves_booking`` set, are for an existing booking and left out);
    chosen: distinct conversations with a booking created in the range, any status (the
    visitor clicked a time); booked: bookings created in the range that got confirmed
    (``confirmed`` or ``cancelled``); cancelled: those of them cancelled since.
    """
    start, end = _range(start, end)
    with store.session() as s:
        q = _queue(s, queue)
        offers = select(func.count(distinct(Offer.conversation_id))).where(Offer.moves_booking.is_(None))
        chosen = select(func.count(distinct(Booking.conversation_id)))
        by_status = select(Booking.status, func.count()).group_by(Booking.status)
        if q is not None:
            offers = offers.where(Offer.queue_id == q.id)
            chosen = chosen.where(Booking.queue_id == q.id)
            by_status = by_status.where(Booking.queue_id == q.id)
        n_offered = s.execute(_in_range(offers, Offer.created_at, start, end)).scalar_one()
        n_chosen = s.execute(_in_range(chosen, Booking.created_at, start, end)).scalar_one()
        statuses = dict(s.execute(_in_range(by_status, Booking.created_at, start, end)).all())
    return Funnel(
        offered=n_offered,
        chosen=n_chosen,
        booked=sum(statuses.get(k, 0) for k in MADE),
        cancelled=statuses.get("cancelled", 0),
    )


def failed_bookings(
    store: Store, *, queue: str | None, start: datetime, end: datetime, limit: int = 50
) -> list[dict[str, Any]]:
    """Bookings created in ``[start, end)`` that failed (the calendar refused or was down),
    newest first, at most ``limit``."""
    start, end = _range(start, end)
    with store.session() as s:
        q = _queue(s, queue)
        query = (
            select(Booking.id, Booking.created_at, Queue.slug, Agent.email, Booking.visitor_email, Booking.start,
                   Booking.failure_reason)
            .join(Queue, Queue.id == Booking.queue_id)
            .join(Agent, Agent.id == Booking.agent_id)
            .where(Booking.status == "failed")
            .order_by(Booking.created_at.desc(), Booking.id.desc())
            .limit(max(int(limit), 0))
        )  # fmt: skip
        if q is not None:
            query = query.where(Booking.queue_id == q.id)
        rows = s.execute(_in_range(query, Booking.created_at, start, end)).all()
    return [
        {
            "id": booking_id,
            "created_at": _iso(created_at),
            "queue": slug,
            "agent_email": agent_email,
            "visitor_email": visitor_email,
            "start": _iso(b_start),
            "failure_reason": reason,
        }
        for booking_id, created_at, slug, agent_email, visitor_email, b_start, reason in rows
    ]


def attendance(store: Store, *, queue: str | None, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    """No-show rates of the confirmed meetings that took place in ``[start, end)``, per agent and
    per queue: held, no-show, not marked, and no-shows as a share of the marked ones."""
    start, end = _range(start, end)
    with store.session() as s:
        q = _queue(s, queue)
        query = (
            select(Agent.name, Agent.email, Queue.slug, Booking.attendance, func.count())
            .join(Queue, Queue.id == Booking.queue_id)
            .join(Agent, Agent.id == Booking.agent_id)
            .where(Booking.status == "confirmed", Booking.end <= end)
            .group_by(Agent.name, Agent.email, Queue.slug, Booking.attendance)
        )
        if q is not None:
            query = query.where(Booking.queue_id == q.id)
        rows = s.execute(_in_range(query, Booking.start, start, end)).all()

    def summarise(key_of: Any) -> list[dict[str, Any]]:
        out: dict[Any, dict[str, Any]] = {}
        for name, email, slug, mark, n in rows:
            key = key_of(name, email, slug)
            row = out.setdefault(key, {"name": key[0], "email": key[1], "held": 0, "no_show": 0, "unmarked": 0})
            row[{"held": "held", "no_show": "no_show"}.get(mark or "", "unmarked")] += n
        for row in out.values():
            marked = row["held"] + row["no_show"]
            row["no_show_rate"] = row["no_show"] / marked if marked else None
        return sorted(out.values(), key=lambda r: (r["name"], r["email"] or ""))

    return {"agents": summarise(lambda n, e, q: (n, e)), "queues": summarise(lambda n, e, q: (q, None))}


CSV_FIELDS = (
    "id", "status", "queue", "agent_name", "agent_email", "visitor_email", "visitor_first_name", "visitor_last_name",
    "company", "start", "end", "timezone", "locale", "provider", "created_at", "cancelled_at", "failure_reason",
)  # fmt: skip

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet will not run: a text starting with = + - @, a tab or
    a carriage return (also after leading spaces) gets a leading apostrophe, as OWASP advises.
    Visitor names and companies come from the chat and are hostile input."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) or text.lstrip(" ").startswith(_FORMULA_START):
        return "'" + text
    return text


def bookings_csv(store: Store, *, queue: str | None, start: datetime, end: datetime) -> str:
    """Every booking created in ``[start, end)`` (any status), oldest first, as CSV with a
    header row (``CSV_FIELDS``); times in UTC ISO 8601. Cells are defended against formula
    injection (``csv_cell``)."""
    start, end = _range(start, end)
    with store.session() as s:
        q = _queue(s, queue)
        query = (
            select(Booking, Queue.slug, Agent.name, Agent.email)
            .join(Queue, Queue.id == Booking.queue_id)
            .join(Agent, Agent.id == Booking.agent_id)
            .order_by(Booking.created_at, Booking.id)
        )
        if q is not None:
            query = query.where(Booking.queue_id == q.id)
        rows = s.execute(_in_range(query, Booking.created_at, start, end)).all()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_FIELDS)
        for b, slug, agent_name, agent_email in rows:
            writer.writerow(
                csv_cell(v)
                for v in (
                    b.id, b.status, slug, agent_name, agent_email, b.visitor_email, b.visitor_first_name,
                    b.visitor_last_name, b.company_name, _iso(b.start), _iso(b.end), b.timezone, b.locale,
                    b.provider, _iso(b.created_at), _iso(b.cancelled_at), b.failure_reason,
                )
            )  # fmt: skip
    return out.getvalue()


def default_range(now: datetime) -> tuple[datetime, datetime]:
    """The dashboard's default range: from Monday 00:00 UTC seven weeks before this week's
    Monday up to ``now`` — eight weekly buckets, the last one the current (partial) week."""
    now = _aware(now, "now")
    monday = now.date() - timedelta(days=now.weekday()) - timedelta(weeks=7)
    return datetime.combine(monday, time(), tzinfo=timezone.utc), now


__all__ = [
    "AgentSeries",
    "Funnel",
    "bookings_per_agent",
    "buckets_for",
    "funnel",
    "failed_bookings",
    "bookings_csv",
    "csv_cell",
    "default_range",
]
