"""The pure slot engine: rules → working ranges → minus busy (with buffers) → slots → union.

No I/O and no clock: ``now`` is a parameter. Inside, times are integer minutes since the Unix
epoch (UTC); local time only exists while weekly hours and date overrides are laid onto real
dates in the agent's own zone, so DST changes come from ``zoneinfo``.

Fast path: every agent's candidate starts and busy intervals are laid side by side in one
numpy key space (``agent index << 32 | minute``), so checking 200 agents × 500 busy intervals
is a handful of vectorised passes instead of a Python loop per pair. Candidate starts are
cached by (zone, hours, overrides, rules, dates): agents who share a schedule share the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from bot.scheduling.intervals import Interval

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SHIFT = 32  # agent index << SHIFT | minute: minutes since epoch fit well below 2**32

#: Monday=0 … Sunday=6 → blocks of (start minute, end minute) after local midnight; end ≤ 1440.
WeeklyHours = Mapping[int, Sequence[tuple[int, int]]]
#: A local date → that day's blocks, replacing the weekly hours; an empty list is a day off.
Overrides = Mapping[date, Sequence[tuple[int, int]]]


def to_minute(t: datetime, *, ceil: bool = False) -> int:
    """Aware datetime → minutes since the epoch (floor, or ceil for ends)."""
    if ceil:
        return -((EPOCH - t) // MINUTE)
    return (t - EPOCH) // MINUTE


def from_minute(m: int) -> datetime:
    return EPOCH + timedelta(minutes=int(m))


@dataclass(frozen=True)
class Busy:
    """Busy time as sorted integer-minute arrays; ends are exclusive."""

    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def from_intervals(cls, intervals: Iterable[Interval]) -> Busy:
        pairs = sorted((to_minute(iv.start), to_minute(iv.end, ceil=True)) for iv in intervals)
        if not pairs:
            return EMPTY_BUSY
        arr = np.array(pairs, dtype=np.int64)
        return cls(arr[:, 0].copy(), arr[:, 1].copy())

    @classmethod
    def of(cls, value: Busy | Iterable[Interval]) -> Busy:
        return value if isinstance(value, Busy) else cls.from_intervals(value)

    @classmethod
    def concat(cls, parts: Sequence[Busy]) -> Busy:
        parts = [p for p in parts if len(p)]
        if not parts:
            return EMPTY_BUSY
        if len(parts) == 1:
            return parts[0]
        starts = np.concatenate([p.starts for p in parts])
        ends = np.concatenate([p.ends for p in parts])
        order = np.argsort(starts, kind="stable")
        return cls(starts[order], ends[order])

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def intervals(self) -> list[Interval]:
        return [
            Interval(from_minute(s), from_minute(e))
            for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)
        ]


EMPTY_BUSY = Busy(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class Rules:
    """How a queue offers time."""

    meeting_minutes: int = 30
    interval_minutes: int = 30
    min_notice_minutes: int = 240
    window_days: int = 14
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0

    def __post_init__(self) -> None:
        if self.meeting_minutes <= 0 or self.interval_minutes <= 0:
            raise ValueError("meeting length and start interval must be positive")
        if min(self.buffer_before_minutes, self.buffer_after_minutes, self.min_notice_minutes, self.window_days) < 0:
            raise ValueError("buffers, notice and window cannot be negative")


@dataclass(frozen=True)
class AgentSchedule:
    agent_id: int
    timezone: ZoneInfo
    weekly: WeeklyHours
    busy: Busy | Sequence[Interval] = ()
    overrides: Overrides = field(default_factory=dict)
    time_off: Sequence[Interval] = ()
    #: At most this many meetings per local day (None: no cap); ``booked_per_day`` counts existing ones.
    max_per_day: int | None = None
    booked_per_day: Mapping[date, int] = field(default_factory=dict)
    #: The agent's own buffers and notice; the larger of theirs and the queue's applies.
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0

    @cached_property
    def weekly_key(self) -> tuple:
        return tuple(sorted((d, tuple(sorted(map(tuple, blocks)))) for d, blocks in self.weekly.items()))


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    agent_ids: tuple[int, ...]


class _Calendar:
    """Local date + minute → UTC minute, one zoneinfo lookup per zone and day (exact on DST days)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, date], tuple[int, bool]] = {}

    def _day(self, tz: ZoneInfo, day: date) -> tuple[int, bool]:
        key = (tz.key, day)
        hit = self._days.get(key)
        if hit is None:
            start = datetime(day.year, day.month, day.day, tzinfo=tz)
            nxt = start + timedelta(days=1)
            off0, off1 = start.utcoffset(), nxt.utcoffset()
            assert off0 is not None and off1 is not None
            epoch_day = (day - date(1970, 1, 1)).days * 1440
            hit = (epoch_day - int(off0.total_seconds() // 60), off0 != off1)
            self._days[key] = hit
        return hit

    def utc_minute(self, tz: ZoneInfo, day: date, minute: int) -> int:
        base, changes = self._day(tz, day)
        if not changes:
            return base + minute
        # A DST change that day: convert exactly. A wall time inside a spring-forward gap takes
        # the pre-transition offset (fold=0), i.e. lands just after the gap, as a clock shows.
        naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
        return to_minute(naive.replace(tzinfo=tz).astimezone(UTC))


def working_ranges(
    weekly: WeeklyHours,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    overrides: Overrides | None = None,
) -> list[Interval]:
    """The agent's working blocks that touch ``[start, end)``, as UTC intervals (unclipped)."""
    cal = _Calendar()
    lo, hi = to_minute(start), to_minute(end, ceil=True)
    out = []
    for s, e, _ in _blocks(
        cal,
        tz,
        weekly,
        overrides or {},
        _local_day(start, tz) - timedelta(days=1),
        _local_day(end, tz) + timedelta(days=1),
    ):
        if s < e and e > lo and s < hi:
            out.append(Interval(from_minute(s), from_minute(e)))
    return out


def _local_day(t: datetime, tz: ZoneInfo) -> date:
    return t.astimezone(tz).date()


def _blocks(cal: _Calendar, tz: ZoneInfo, weekly: WeeklyHours, overrides: Overrides, first: date, last: date):
    day, i = first, 0
    while day <= last:
        blocks = overrides[day] if day in overrides else weekly.get(day.weekday(), ())
        for lo, hi in blocks:
            yield cal.utc_minute(tz, day, lo), cal.utc_minute(tz, day, hi), i
        day += timedelta(days=1)
        i += 1


def _candidates(
    agent: AgentSchedule, rules: Rules, first: date, last: date, cal: _Calendar, memo: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Meeting starts inside the agent's blocks (UTC minutes) and the local day index of each."""
    ov = tuple(sorted((d, tuple(map(tuple, b))) for d, b in agent.overrides.items() if first <= d <= last))
    key = (agent.timezone.key, agent.weekly_key, ov, rules.meeting_minutes, rules.interval_minutes, first, last)
    hit = memo.get(key)
    if hit is None:
        starts: list[np.ndarray] = []
        days: list[np.ndarray] = []
        for s, e, i in _blocks(cal, agent.timezone, agent.weekly, agent.overrides, first, last):
            run = np.arange(s, e - rules.meeting_minutes + 1, rules.interval_minutes, dtype=np.int64)
            if run.size:
                starts.append(run)
                days.append(np.full(run.size, i, dtype=np.int32))
        if starts:
            all_starts, where = np.unique(np.concatenate(starts), return_index=True)  # sorted, no repeats
            hit = (all_starts, np.concatenate(days)[where])
        else:
            hit = (EMPTY_BUSY.starts, np.zeros(0, np.int32))
        memo[key] = hit
    return hit


@dataclass(frozen=True)
class Availability:
    """Every open slot start of a queue (sorted UTC minutes) with the agents free for each."""

    starts: np.ndarray  # unique, sorted
    ptr: np.ndarray  # agents of starts[i] are agent_ids[ptr[i]:ptr[i+1]]
    agent_ids: np.ndarray
    meeting_minutes: int

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def agents_at(self, i: int) -> tuple[int, ...]:
        return tuple(int(a) for a in self.agent_ids[self.ptr[i] : self.ptr[i + 1]])

    def slot(self, i: int) -> Slot:
        s = int(self.starts[i])
        return Slot(from_minute(s), from_minute(s + self.meeting_minutes), self.agents_at(i))

    def index_range(self, after: datetime | None = None, within: Interval | None = None) -> tuple[int, int]:
        lo, hi = 0, len(self)
        if after is not None:
            lo = int(np.searchsorted(self.starts, to_minute(after), side="right"))
        if within is not None:
            lo = max(lo, int(np.searchsorted(self.starts, to_minute(within.start, ceil=True), side="left")))
            last_start = to_minute(within.end) - self.meeting_minutes
            hi = min(hi, int(np.searchsorted(self.starts, last_start, side="right")))
        return lo, max(lo, hi)

    def slots(
        self, after: datetime | None = None, within: Interval | None = None, limit: int | None = None
    ) -> list[Slot]:
        lo, hi = self.index_range(after, within)
        if limit is not None:
            hi = min(hi, lo + limit)
        return [self.slot(i) for i in range(lo, hi)]


def availability(agents: Sequence[AgentSchedule], rules: Rules, now: datetime) -> Availability:
    """All open slots of a queue between ``now + notice`` and ``now + window``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_m = to_minute(now, ceil=True)
    earliest = now_m + rules.min_notice_minutes
    latest = now_m + rules.window_days * 1440
    length = rules.meeting_minutes
    cal = _Calendar()
    memo: dict = {}
    day_range: dict[str, tuple[date, date]] = {}
    cand_parts: list[np.ndarray] = []
    cand_owner: list[int] = []
    lo_parts: list[np.ndarray] = []
    hi_parts: list[np.ndarray] = []
    busy_owner: list[int] = []
    for idx, agent in enumerate(agents):
        rng = day_range.get(agent.timezone.key)
        if rng is None:
            rng = (
                _local_day(from_minute(earliest), agent.timezone) - timedelta(days=1),
                _local_day(from_minute(latest), agent.timezone) + timedelta(days=1),
            )
            day_range[agent.timezone.key] = rng
        first, last = rng
        starts, days = _candidates(agent, rules, first, last, cal, memo)
        if agent.max_per_day is not None:
            full = [(d - first).days for d, n in agent.booked_per_day.items() if n >= agent.max_per_day]
            if agent.max_per_day <= 0:
                continue
            if full:
                starts = starts[~np.isin(days, np.array(full, dtype=np.int32))]
        if agent.min_notice_minutes > rules.min_notice_minutes:
            starts = starts[starts >= now_m + agent.min_notice_minutes]
        if not starts.size:
            continue
        cand_parts.append(starts)
        cand_owner.append(idx)
        busy = Busy.of(agent.busy)
        # A slot [s, s+len) needs [s - before, s + len + after) free of busy time; time off
        # has no buffers.
        lo_a = busy.starts - max(rules.buffer_after_minutes, agent.buffer_after_minutes)
        hi_a = busy.ends + max(rules.buffer_before_minutes, agent.buffer_before_minutes)
        if agent.time_off:
            off = Busy.from_intervals(agent.time_off)
            lo_a, hi_a = np.concatenate([lo_a, off.starts]), np.concatenate([hi_a, off.ends])
            order = np.argsort(lo_a, kind="stable")
            lo_a, hi_a = lo_a[order], hi_a[order]
        if lo_a.size:
            lo_parts.append(lo_a)
            hi_parts.append(hi_a)
            busy_owner.append(idx)
    empty = np.zeros(0, dtype=np.int64)
    if not cand_parts:
        return Availability(empty, np.zeros(1, dtype=np.int64), empty, length)
    ids = np.array([a.agent_id for a in agents], dtype=np.int64)
    # One key space: agent index in the high bits, minute in the low bits. Each agent's
    # candidates are sorted and unique, and agents come in index order: cands is sorted.
    sizes = np.fromiter((p.size for p in cand_parts), dtype=np.int64, count=len(cand_parts))
    cands = np.concatenate(cand_parts) + np.repeat(np.array(cand_owner, dtype=np.int64) << SHIFT, sizes)
    minutes_all = cands & ((1 << SHIFT) - 1)
    cands = cands[(minutes_all >= earliest) & (minutes_all + length <= latest)]
    free = np.ones(cands.size, dtype=bool)
    if lo_parts:
        bsizes = np.fromiter((p.size for p in lo_parts), dtype=np.int64, count=len(lo_parts))
        boff = np.repeat(np.array(busy_owner, dtype=np.int64) << SHIFT, bsizes)
        lo = np.concatenate(lo_parts) + boff  # sorted: agent-major, each agent's by start
        reach = np.maximum.accumulate(np.concatenate(hi_parts) + boff)
        # The last busy interval starting before the slot ends; the furthest any busy
        # interval up to it reaches. Another agent's intervals reach below this agent's keys.
        j = np.searchsorted(lo, cands + length, side="left") - 1
        free = (j < 0) | (reach[np.maximum(j, 0)] <= cands)
    keys = cands[free]
    minutes = keys & ((1 << SHIFT) - 1)
    agent_ids = ids[keys >> SHIFT]
    order = np.argsort((minutes << 20) | (keys >> SHIFT), kind="stable")
    minutes, agent_ids = minutes[order], agent_ids[order]
    uniq, first_idx = np.unique(minutes, return_index=True)
    ptr = np.append(first_idx, minutes.size).astype(np.int64)
    return Availability(uniq, ptr, agent_ids, length)


def queue_slots(
    agents: Iterable[AgentSchedule],
    rules: Rules,
    now: datetime,
    *,
    after: datetime | None = None,
) -> list[Slot]:
    """Every open slot of the queue, earliest first, each with the agents free for it."""
    return availability(list(agents), rules, now).slots(after=after)


def is_free(agent: AgentSchedule, rules: Rules, slot: Interval, now: datetime) -> bool:
    """Whether ``agent`` could take ``slot`` now: inside hours, clear of busy time with buffers, under the cap."""
    avail = availability([agent], rules, now)
    i = int(np.searchsorted(avail.starts, to_minute(slot.start)))
    return i < len(avail) and int(avail.starts[i]) == to_minute(slot.start)
