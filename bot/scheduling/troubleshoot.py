"""Why a time is or is not offered, agent by agent (issue 19: "why is this time not offered?").

Pure: given one agent's rules and busy time *by source* and the queue's rules, :func:`explain`
names the first rule that removes a meeting starting at ``start``, in the order a person would
check them: the queue's notice and window, the agent's hours (or that day's override), the start
grid, time off, the daily cap, a calendar that could not be read, our own booking, the calendar's
busy time, then the buffers around busy time. The engine (:func:`bot.scheduling.engine.is_free`)
stays the authority: a test checks on random schedules that :func:`explain` says "offered" exactly
when the engine offers the time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Sequence
from zoneinfo import ZoneInfo

from bot.scheduling.engine import (
    AgentSchedule,
    Busy,
    Rules,
    from_minute,
    is_free,
    to_minute,
    working_ranges,
)
from bot.scheduling.intervals import Interval

#: Every answer, in the order they are checked; "offered" when none applies.
REASONS = (
    "notice",
    "window",
    "override",
    "hours",
    "start time",
    "time off",
    "daily cap",
    "calendar unreadable",
    "our booking",
    "calendar busy",
    "buffer",
    "other",  # the engine does not offer it and no rule above says why: a bug to report
    "offered",
)


@dataclass(frozen=True)
class AgentParts:
    """One agent's schedule with its busy time kept by source: ``rules`` is the engine's
    schedule without busy time (hours, overrides, time off, cap, buffers, notice)."""

    rules: AgentSchedule
    calendar: Busy | Sequence[Interval] | None  # None: the calendar could not be read
    own: Sequence[Interval] = ()  # our bookings that hold the agent

    def schedule(self) -> AgentSchedule:
        """The engine's view (both busy sources together; an unreadable calendar as no busy time)."""
        return replace(self.rules, busy=Busy.concat([Busy.of(self.calendar or ()), Busy.from_intervals(self.own)]))


@dataclass(frozen=True)
class Verdict:
    agent_id: int
    reason: str  # one of REASONS
    detail: str  # for a person: what exactly, with times in the agent's zone

    @property
    def offered(self) -> bool:
        return self.reason == "offered"


def _hm(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def _overlap(intervals: Sequence[Interval], lo: datetime, hi: datetime) -> Interval | None:
    return next((iv for iv in sorted(intervals, key=lambda i: i.start) if iv.start < hi and iv.end > lo), None)


def explain(parts: AgentParts, rules: Rules, now: datetime, start: datetime) -> Verdict:
    """The first rule that keeps a meeting at ``start`` from being offered with the agent of ``parts``."""
    agent = parts.rules
    tz = agent.timezone
    end = start + timedelta(minutes=rules.meeting_minutes)
    now = from_minute(to_minute(now, ceil=True))  # the engine counts from the next whole minute

    def no(reason: str, detail: str) -> Verdict:
        return Verdict(agent.agent_id, reason, detail)

    notice = max(rules.min_notice_minutes, agent.min_notice_minutes)
    if start < now + timedelta(minutes=notice):
        whose = "the agent's" if agent.min_notice_minutes > rules.min_notice_minutes else "the queue's"
        return no("notice", f"less than {notice} minutes from now ({whose} minimum notice)")
    if end > now + timedelta(days=rules.window_days):
        return no("window", f"beyond the booking window of {rules.window_days} days")
    day = start.astimezone(tz).date()
    blocks = working_ranges(agent.weekly, tz, start, end, agent.overrides)
    inside = [b for b in blocks if b.start <= start and end <= b.end]
    if not inside:
        if day in agent.overrides:
            hours = ", ".join(
                f"{lo // 60:02d}:{lo % 60:02d}–{hi // 60:02d}:{hi % 60:02d}" for lo, hi in agent.overrides[day]
            )
            return no("override", f"{day.isoformat()} has its own hours: {hours or 'not working'}")
        return no("hours", f"{_hm(start, tz)}–{end.astimezone(tz):%H:%M} is outside the agent's working hours")
    if all(((start - b.start).total_seconds() / 60) % rules.interval_minutes for b in inside):
        first = inside[0].start.astimezone(tz).strftime("%H:%M")
        return no("start time", f"meetings start every {rules.interval_minutes} minutes from {first}")
    off = _overlap(agent.time_off, start, end)
    if off is not None:
        return no("time off", f"time off {_hm(off.start, tz)} – {_hm(off.end, tz)}")
    if agent.max_per_day is not None and agent.booked_per_day.get(day, 0) >= agent.max_per_day:
        return no(
            "daily cap", f"already {agent.booked_per_day.get(day, 0)} meetings on {day} (at most {agent.max_per_day})"
        )
    if parts.calendar is None:
        return no("calendar unreadable", "the calendar could not be read, so none of the agent's times are offered")
    calendar = Busy.of(parts.calendar).intervals()
    mine = _overlap(parts.own, start, end)
    if mine is not None:
        return no("our booking", f"booked with us {_hm(mine.start, tz)}–{mine.end.astimezone(tz):%H:%M}")
    busy = _overlap(calendar, start, end)
    if busy is not None:
        return no("calendar busy", f"busy in the calendar {_hm(busy.start, tz)}–{busy.end.astimezone(tz):%H:%M}")
    before = max(rules.buffer_before_minutes, agent.buffer_before_minutes)
    after = max(rules.buffer_after_minutes, agent.buffer_after_minutes)
    # A meeting needs `before` free minutes before it and `after` free minutes after it.
    near = _overlap([*parts.own, *calendar], start - timedelta(minutes=before), end + timedelta(minutes=after))
    if near is not None:
        return no(
            "buffer",
            f"too close to busy time {_hm(near.start, tz)}–{near.end.astimezone(tz):%H:%M} "
            f"(buffers: {before} min before a meeting, {after} min after)",
        )
    if not is_free(parts.schedule(), rules, Interval(start, end), now):  # the engine has the last word
        return no("other", "not offered by the slot engine, and no rule above says why: please report it")
    return no("offered", "free: offered to visitors (routing then picks among the free agents)")


__all__ = ["AgentParts", "Verdict", "REASONS", "explain"]
