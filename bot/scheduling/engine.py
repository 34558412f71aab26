"""The pure slot engine: weekly hours → UTC ranges → minus busy → slots → union over a queue.

No I/O and no clock: ``now`` is a parameter. Datetimes are UTC-aware inside; local time only
exists while weekly hours are laid onto real dates in the agent's own zone, so DST changes are
handled by ``zoneinfo``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from bot.scheduling.intervals import Interval, merge

UTC = timezone.utc

#: Monday=0 … Sunday=6 → blocks of (start minute, end minute) after local midnight; end ≤ 1440.
WeeklyHours = Mapping[int, Sequence[tuple[int, int]]]


@dataclass(frozen=True)
class Rules:
    """How a queue offers time."""

    meeting_minutes: int = 30
    interval_minutes: int = 30
    min_notice_minutes: int = 240
    window_days: int = 14

    def __post_init__(self) -> None:
        if self.meeting_minutes <= 0 or self.interval_minutes <= 0:
            raise ValueError("meeting length and start interval must be positive")


@dataclass(frozen=True)
class AgentSchedule:
    agent_id: int
    timezone: ZoneInfo
    weekly: WeeklyHours
    busy: Sequence[Interval] = field(default_factory=tuple)


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    agent_ids: tuple[int, ...]


def _local_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # Naive local wall time → aware. A wall time inside a spring-forward gap takes the
    # pre-transition offset (fold=0), i.e. lands just after the gap, as a clock would show.
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def working_ranges(weekly: WeeklyHours, tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """The agent's working hours between ``start`` and ``end`` as UTC intervals (unclipped blocks)."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    out: list[Interval] = []
    day = first
    while day <= last:
        for lo, hi in weekly.get(day.weekday(), ()):
            s, e = _local_to_utc(day, lo, tz), _local_to_utc(day, hi, tz)
            if s < e and e > start and s < end:
                out.append(Interval(s, e))
        day += timedelta(days=1)
    return sorted(out)


def _is_free(busy_starts: list[datetime], busy: list[Interval], s: datetime, e: datetime) -> bool:
    # busy is merged and sorted; the only candidates to overlap [s, e) are the one starting
    # before e with the latest start.
    i = bisect_left(busy_starts, e) - 1
    return i < 0 or busy[i].end <= s


def agent_slot_starts(agent: AgentSchedule, rules: Rules, earliest: datetime, latest: datetime) -> list[datetime]:
    """Starts (UTC) of meetings that fit the agent's hours, avoid busy time and lie in the window.

    Starts step by the queue's interval from the beginning of each working block.
    """
    length = timedelta(minutes=rules.meeting_minutes)
    step = timedelta(minutes=rules.interval_minutes)
    busy = merge(b.utc() for b in agent.busy)
    busy_starts = [b.start for b in busy]
    out: list[datetime] = []
    for block in working_ranges(agent.weekly, agent.timezone, earliest, latest):
        s = block.start
        if s < earliest:  # jump to the first grid point at or after `earliest`
            s += step * -(-(earliest - s) // step)
        while s + length <= block.end and s + length <= latest:
            if _is_free(busy_starts, busy, s, s + length):
                out.append(s)
            s += step
    return out


def queue_slots(
    agents: Iterable[AgentSchedule],
    rules: Rules,
    now: datetime,
    *,
    after: datetime | None = None,
) -> list[Slot]:
    """Every open slot of the queue, earliest first, each with the agents free for it.

    ``after`` (exclusive) pages onward from a slot already shown.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    if after is not None:
        earliest = max(earliest, after.astimezone(UTC) + timedelta(microseconds=1))
    latest = now + timedelta(days=rules.window_days)
    if earliest >= latest:
        return []
    length = timedelta(minutes=rules.meeting_minutes)
    by_start: dict[datetime, set[int]] = {}
    for agent in agents:
        for s in agent_slot_starts(agent, rules, earliest, latest):
            by_start.setdefault(s, set()).add(agent.agent_id)
    return [Slot(s, s + length, tuple(sorted(ids))) for s, ids in sorted(by_start.items())]
