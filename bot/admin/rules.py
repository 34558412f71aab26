"""Setting agents' rules and queues from the command line (the portal later uses the same calls).

Hours are written the way people say them: ``"mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00"``.
Date overrides replace the weekly hours of that date; a day off is an override without hours.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Iterable

from sqlalchemy import delete, select

from bot.errors import ConfigError
from bot.i18n import zone
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT
from bot.scheduling.routing import MODES, PERIODS, describe
from bot.store import Store
from bot.store.models import (
    Agent,
    Booking,
    CalendarConnection,
    DateOverride,
    Queue,
    QueueMember,
    TimeOff,
    WeeklyHour,
)

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_BLOCK = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
MEETING_LENGTHS = (15, 30, 45, 60)


def parse_blocks(text: str) -> list[tuple[int, int]]:
    """``"09:00-12:00 13:00-17:00"`` → minutes after midnight; ends may be ``24:00``."""
    blocks = []
    for part in text.replace(",", " ").split():
        m = _BLOCK.match(part)
        if not m:
            raise ConfigError(f"can't read {part!r}: write times like 09:00-12:30")
        h0, m0, h1, m1 = map(int, m.groups())
        lo, hi = h0 * 60 + m0, h1 * 60 + m1
        if m0 > 59 or m1 > 59 or h0 > 23 or hi > 1440 or lo >= hi:
            raise ConfigError(f"{part!r} is not a time range within one day")
        blocks.append((lo, hi))
    return _no_overlaps(blocks, text)


def _no_overlaps(blocks: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    blocks = sorted(blocks)
    for (_, end), (start, _) in zip(blocks, blocks[1:], strict=False):
        if start < end:
            raise ConfigError(f"blocks overlap: {text!r}")
    return blocks


def _days(text: str) -> list[int]:
    out: list[int] = []
    for part in text.lower().split(","):
        if "-" in part:
            a, b = part.split("-", 1)
            if a not in DAYS or b not in DAYS:
                raise ConfigError(f"unknown day range {part!r}: use mon, tue, wed, thu, fri, sat, sun")
            i, j = DAYS.index(a), DAYS.index(b)
            out.extend(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part in DAYS:
            out.append(DAYS.index(part))
        else:
            raise ConfigError(f"unknown day {part!r}: use mon, tue, wed, thu, fri, sat, sun")
    return out


def parse_hours(spec: str) -> dict[int, list[tuple[int, int]]]:
    """``"mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00"`` → weekday → blocks."""
    weekly: dict[int, list[tuple[int, int]]] = {}
    for clause in filter(None, (c.strip() for c in spec.split(";"))):
        days, _, blocks = clause.partition(" ")
        parsed = parse_blocks(blocks)
        for d in _days(days):
            weekly[d] = _no_overlaps(weekly.get(d, []) + parsed, spec)
    return weekly


def format_hours(rows: Iterable[WeeklyHour]) -> str:
    by_day: dict[int, list[str]] = {}
    for h in sorted(rows, key=lambda r: (r.weekday, r.start_minute)):
        by_day.setdefault(h.weekday, []).append(
            f"{h.start_minute // 60:02d}:{h.start_minute % 60:02d}-{h.end_minute // 60:02d}:{h.end_minute % 60:02d}"
        )
    return "; ".join(f"{DAYS[d]} {' '.join(b)}" for d, b in sorted(by_day.items())) or "(none)"


def _agent(s: Any, email: str) -> Agent:
    agent = s.execute(select(Agent).where(Agent.email == email.lower())).scalar_one_or_none()
    if agent is None:
        raise ConfigError(f"no agent {email!r}; add one with `python -m bot agent add`")
    return agent


def _queue(s: Any, slug: str) -> Queue:
    q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one_or_none()
    if q is None:
        raise ConfigError(f"no queue {slug!r}; create it with `python -m bot queue set {slug} --name ...`")
    return q


def check_zone(tz: str) -> str:
    if zone(tz, "UTC").key != tz:
        raise ConfigError(f"unknown time zone {tz!r}: use an IANA name such as Europe/Paris")
    return tz


def add_agent(
    store: Store,
    email: str,
    name: str,
    tz: str,
    hours: str = "mon-fri 09:00-17:00",
    queue: str | None = None,
    weight: int = 100,
) -> None:
    with store.session() as s:
        if s.execute(select(Agent).where(Agent.email == email.lower())).scalar_one_or_none() is not None:
            raise ConfigError(f"agent {email!r} exists; change it with `python -m bot agent set`")
        agent = Agent(
            email=email.lower(),
            name=name,
            timezone=check_zone(tz),
            provider="local",
            invitation_subject=DEFAULT_SUBJECT,
            invitation_body=DEFAULT_BODY,
            include_conference=True,
        )
        agent.hours = [
            WeeklyHour(weekday=d, start_minute=a, end_minute=b)
            for d, blocks in parse_hours(hours).items()
            for a, b in blocks
        ]
        s.add(agent)
        if queue:
            s.add(QueueMember(queue=_queue(s, queue), agent=agent, weight=weight))


def set_agent(
    store: Store,
    email: str,
    *,
    name: str | None = None,
    tz: str | None = None,
    hours: str | None = None,
    max_per_day: int | None | str = "keep",
    active: bool | None = None,
    buffer_before: int | None = None,
    buffer_after: int | None = None,
    notice: int | None = None,
) -> None:
    """Change an agent. Buffers and notice are the agent's own minutes (0 to a week); the
    larger of these and the queue's applies."""
    own = {"buffer_before_minutes": buffer_before, "buffer_after_minutes": buffer_after, "min_notice_minutes": notice}
    for key, value in own.items():
        if value is not None and not 0 <= int(value) <= 7 * 24 * 60:
            raise ConfigError(f"{key.replace('_minutes', '').replace('_', ' ')} must be 0 to 10080 minutes")
    with store.session() as s:
        agent = _agent(s, email)
        if name:
            agent.name = name
        if tz:
            agent.timezone = check_zone(tz)
        if hours is not None:
            agent.hours = [
                WeeklyHour(weekday=d, start_minute=a, end_minute=b)
                for d, blocks in parse_hours(hours).items()
                for a, b in blocks
            ]
        if max_per_day != "keep":
            if max_per_day is not None and int(max_per_day) < 0:
                raise ConfigError("--max-per-day must be 0 or more")
            agent.max_meetings_per_day = None if max_per_day is None else int(max_per_day)
        if active is not None:
            agent.active = active
        for key, value in own.items():
            if value is not None:
                setattr(agent, key, int(value))


def set_override(store: Store, email: str, day: date, blocks: str | None) -> None:
    """Replace ``day``'s hours (``blocks``), make it a day off (``""``), or clear (``None``)."""
    with store.session() as s:
        agent = _agent(s, email)
        s.execute(delete(DateOverride).where(DateOverride.agent_id == agent.id, DateOverride.day == day))
        if blocks is None:
            return
        parsed = parse_blocks(blocks) if blocks else []
        if not parsed:
            s.add(DateOverride(agent_id=agent.id, day=day))
        for a, b in parsed:
            s.add(DateOverride(agent_id=agent.id, day=day, start_minute=a, end_minute=b))


def add_holidays(store: Store, email: str, days: Iterable[date]) -> None:
    for d in days:
        set_override(store, email, d, "")


def add_time_off(store: Store, email: str, start: datetime, end: datetime, reason: str | None = None) -> None:
    """Naive times are in the agent's own zone."""
    with store.session() as s:
        agent = _agent(s, email)
        tz = zone(agent.timezone)
        start, end = (t if t.tzinfo else t.replace(tzinfo=tz) for t in (start, end))
        if end <= start:
            raise ConfigError("time off must end after it starts")
        s.add(TimeOff(agent_id=agent.id, start=start, end=end, reason=reason))


#: The most guests a queue may allow on one booking (Google and Graph take far more attendees;
#: a meeting booked from a chat with more people than this is not a sales meeting).
MAX_GUESTS = 100


def set_queue(store: Store, slug: str, **fields: Any) -> None:
    """Create or change a queue. Fields: name, timezone, meeting_minutes, interval_minutes,
    buffer_before_minutes, buffer_after_minutes, min_notice_minutes, window_days, routing_mode,
    fairness_margin, rr_period, reminder_minutes, credit_back_on_cancel, max_guests."""
    fields = {k: v for k, v in fields.items() if v is not None}
    if "reminder_minutes" in fields:
        from bot.booking import reminder_minutes

        parts = [p.strip() for p in str(fields["reminder_minutes"]).split(",") if p.strip()]
        kept = reminder_minutes(fields["reminder_minutes"])
        if len(kept) != len(set(parts)):
            raise ConfigError("reminders must be minutes before the start, 5 to 10080, comma-separated (e.g. 1440,60)")
        fields["reminder_minutes"] = ",".join(map(str, kept))
    if "meeting_minutes" in fields and fields["meeting_minutes"] not in MEETING_LENGTHS:
        raise ConfigError(f"meeting length must be one of {', '.join(map(str, MEETING_LENGTHS))} minutes")
    if "routing_mode" in fields and fields["routing_mode"] not in MODES:
        raise ConfigError(f"routing must be one of {', '.join(MODES)}")
    if "rr_period" in fields and fields["rr_period"] not in PERIODS:
        raise ConfigError(f"period must be one of {', '.join(PERIODS)}")
    if "timezone" in fields:
        check_zone(fields["timezone"])
    for key in ("interval_minutes", "window_days"):
        if key in fields and int(fields[key]) <= 0:
            raise ConfigError(f"{key.replace('_', ' ')} must be positive")
    if "max_guests" in fields and not 0 <= int(fields["max_guests"]) <= MAX_GUESTS:
        raise ConfigError(f"guests per booking must be from 0 to {MAX_GUESTS}")
    for key in ("buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "fairness_margin"):
        if key in fields and int(fields[key]) < 0:
            raise ConfigError(f"{key.replace('_', ' ')} cannot be negative")
    with store.session() as s:
        q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one_or_none()
        if q is None:
            q = Queue(slug=slug, name=fields.pop("name", slug.title()), timezone=fields.pop("timezone", "UTC"))
            s.add(q)
        for key, value in fields.items():
            setattr(q, key, value)


def set_member(store: Store, slug: str, email: str, weight: int | None = 100, remove: bool = False) -> None:
    with store.session() as s:
        q, agent = _queue(s, slug), _agent(s, email)
        m = s.get(QueueMember, (q.id, agent.id))
        if remove:
            if m is not None:
                s.delete(m)
            return
        if weight is None or weight < 0:
            raise ConfigError("weight must be 0 or more")
        if m is None:
            s.add(QueueMember(queue_id=q.id, agent_id=agent.id, weight=weight))
        else:
            m.weight = weight


def list_agents(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        out = []
        for a in s.execute(select(Agent).order_by(Agent.id)).scalars():
            queues = s.execute(
                select(Queue.slug, QueueMember.weight).join(QueueMember).where(QueueMember.agent_id == a.id)
            ).all()
            conn = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == a.id)).scalars().first()
            out.append(
                {
                    "email": a.email,
                    "name": a.name,
                    "timezone": a.timezone,
                    "active": a.active,
                    "hours": format_hours(a.hours),
                    "max_per_day": a.max_meetings_per_day,
                    "buffer_before": a.buffer_before_minutes,
                    "buffer_after": a.buffer_after_minutes,
                    "notice": a.min_notice_minutes,
                    "overrides": sorted({o.day.isoformat() for o in a.overrides}),
                    "time_off": [f"{t.start.isoformat()}/{t.end.isoformat()}" for t in a.time_off],
                    "queues": {slug: w for slug, w in queues},
                    # The portal's connection state, for the CLI too: local | connected |
                    # needs_reconnect, which calendar, and the last error if any.
                    "calendar": "local" if conn is None else conn.status,
                    "calendar_account": None if conn is None else f"{conn.provider}:{conn.account_email}",
                    "calendar_error": None if conn is None else conn.last_error,
                }
            )
        return out


def explain(store: Store, booking_id: str) -> str:
    with store.session() as s:
        b = s.get(Booking, booking_id)
        if b is None:
            raise ConfigError(f"no booking {booking_id!r}")
        head = (
            f"Booking {b.id} ({b.status}), queue {b.queue.slug}, "
            f"{b.start.isoformat()} – {b.end.isoformat()}, agent {b.agent.name} <{b.agent.email}>"
        )
        if not b.routing:
            return head + "\n(no routing record: booked before routing was recorded)"
        return head + "\n\n" + describe(b.routing, b.agent_id)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{text!r} is not a date like 2026-12-24") from exc


def parse_when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{text!r} is not a time like 2026-12-24T09:00") from exc
    return value if isinstance(value, datetime) else datetime.combine(value, time())
