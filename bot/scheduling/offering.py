"""Choosing which open slots to show: a spread-out page, paging onward, visitor windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.scheduling.engine import Availability, Slot, from_minute
from bot.scheduling.intervals import Interval

#: Parts of a day a visitor may name ("Thursday afternoon"), as local minutes [start, end).
DAY_PARTS = {
    "morning": (8 * 60, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, 21 * 60),
    "day": (0, 24 * 60),
}
MAX_PER_DAY = 3


def day_part(day: date, part: str, tz: ZoneInfo) -> Interval:
    """A visitor's window, e.g. ``day_part(thursday, "afternoon", visitor_zone)``, in UTC."""
    lo, hi = DAY_PARTS[part]
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    # Wall-clock arithmetic in the visitor's zone, then UTC: right on DST days too.
    start = (midnight.replace(tzinfo=None) + timedelta(minutes=lo)).replace(tzinfo=tz)
    end = (midnight.replace(tzinfo=None) + timedelta(minutes=hi)).replace(tzinfo=tz)
    return Interval(start, end).utc()


def pick_page(
    avail: Availability,
    count: int,
    *,
    after: datetime | None = None,
    within: Interval | Sequence[Interval] | None = None,
    tz: ZoneInfo,
    spread: bool = True,
) -> list[Slot]:
    """The earliest ``count`` slots after ``after`` (inside ``within``: one window, or several —
    a visitor's working days, "after 3pm" on each weekday), spread out.

    Spread: starts at least an hour (or a meeting length) apart and at most three per day in
    the visitor's zone; when that leaves the page short, the earliest remaining slots fill it.
    """
    candidates = _candidates(avail, after, within)
    if not spread:
        return [avail.slot(i) for i in candidates[:count]]
    gap = max(60, avail.meeting_minutes)
    chosen: list[int] = []
    per_day: dict[date, int] = {}
    last = None
    for i in candidates:
        if len(chosen) >= count:
            break
        start = int(avail.starts[i])
        day = from_minute(start).astimezone(tz).date()
        if (last is None or start - last >= gap) and per_day.get(day, 0) < MAX_PER_DAY:
            chosen.append(i)
            per_day[day] = per_day.get(day, 0) + 1
            last = start
    if len(chosen) < count:
        taken = set(chosen)
        extra = [j for j in candidates[: count * 4] if j not in taken]
        chosen = sorted(chosen + extra[: count - len(chosen)])
    return [avail.slot(j) for j in chosen]


def _candidates(avail: Availability, after: datetime | None, within: Interval | Sequence[Interval] | None) -> list[int]:
    """Indices of the slot starts after ``after`` inside any of the windows, in time order."""
    if within is None or isinstance(within, Interval):
        lo, hi = avail.index_range(after, within)
        return list(range(lo, hi))
    out: set[int] = set()
    for w in within:
        lo, hi = avail.index_range(after, w)
        out.update(range(lo, hi))
    return sorted(out)
