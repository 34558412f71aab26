"""A visitor's time preference, kept in the conversation, and the windows it stands for.

Everything here is wall-clock time in the visitor's zone ("Tuesday afternoon", "not before 9")
turned into UTC windows only at the edge (``windows``), so a zone the visitor names later
("I'm in Chicago actually") re-reads the same words in the new zone, DST-safe. Pure: ``now``
and the zone are parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.scheduling.intervals import Interval

DAY = 24 * 60
#: A visitor's working day when they say nothing (a queue may set its own).
WORKDAY = (8 * 60, 19 * 60)
WORKDAYS = frozenset(range(5))  # Monday..Friday
#: Around an exact time ("Wednesday at 3pm"): from an hour before to two hours after.
AROUND = (60, 120)


@dataclass(frozen=True)
class TimePref:
    """What the visitor asked for, in their zone. ``None`` fields were not said.

    ``first``/``last``: the days (inclusive); ``lo``/``hi``: minutes of the day a meeting may
    start from / must end by; ``at``: a start time asked for; ``bound``: lo/hi came from "after
    3pm"-style bounds, which hold across later changes of day ("...and Thursday?").
    """

    first: date | None = None
    last: date | None = None
    lo: int | None = None
    hi: int | None = None
    at: int | None = None
    bound: bool = False

    def is_empty(self) -> bool:
        return self.first is None and self.lo is None and self.hi is None and self.at is None

    def merged_onto(self, old: TimePref | None) -> TimePref:
        """This newer preference, keeping what it does not replace of ``old``: new hours keep
        the earlier days ("Thursday" … "after 3pm would be best"); a new day keeps an earlier
        bound ("not before 9" … "and Thursday?") but not an earlier day part or exact time."""
        if old is None or old.is_empty():
            return self
        has_hours = self.lo is not None or self.hi is not None or self.at is not None
        first, last = (self.first, self.last) if self.first is not None else (old.first, old.last)
        if has_hours:
            return replace(self, first=first, last=last)
        if old.bound:
            return replace(self, first=first, last=last, lo=old.lo, hi=old.hi, bound=True)
        return replace(self, first=first, last=last)

    def to_slot(self) -> dict[str, Any]:
        d = asdict(self)
        d["first"] = self.first.isoformat() if self.first else None
        d["last"] = self.last.isoformat() if self.last else None
        return d

    @classmethod
    def from_slot(cls, value: Any) -> TimePref | None:
        if not isinstance(value, dict):
            return None
        try:
            first = date.fromisoformat(value["first"]) if value.get("first") else None
            last = date.fromisoformat(value["last"]) if value.get("last") else first
            ints = {k: _minute(value.get(k)) for k in ("lo", "hi", "at")}
        except (KeyError, TypeError, ValueError):
            return None
        return cls(first=first, last=last, bound=bool(value.get("bound")), **ints)


def _minute(value: Any) -> int | None:
    if value is None:
        return None
    m = int(value)
    if not 0 <= m <= DAY:
        raise ValueError(f"minute of day out of range: {m}")
    return m


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # Wall-clock arithmetic in the visitor's zone, then UTC: right on DST days too.
    return (datetime(day.year, day.month, day.day) + timedelta(minutes=minute)).replace(tzinfo=tz)


def day_windows(
    first: date, last: date, lo: int, hi: int, tz: ZoneInfo, weekdays: frozenset[int] | None = None
) -> list[Interval]:
    out = []
    day = first
    while day <= last:
        if (weekdays is None or day.weekday() in weekdays) and hi > lo:
            out.append(Interval(_local(day, lo, tz), _local(day, hi, tz)).utc())
        day += timedelta(days=1)
    return out


def _spans_a_workday(first: date, last: date, pref: TimePref) -> bool:
    """Whether only working days are meant: no day said, or several days that include one
    ("next week" means its working days; "Saturday" or "this weekend" mean what they say)."""
    if pref.first is None:
        return True
    if pref.last is None or pref.last == pref.first:
        return False
    return any((first + timedelta(days=i)).weekday() in WORKDAYS for i in range((last - first).days + 1))


#: How far either side of the hours asked for the nearest times on the same day may be.
NEAR = 2 * 60


def around(pref: TimePref) -> TimePref | None:
    """The same days a little before and after the hours asked for — where a receptionist looks
    first when nothing is free then ("Thursday 2-4pm" is full: Thursday 12:00 or 17:00) — never
    earlier or later in the day than the visitor's working day unless they asked for such hours.
    A one-sided bound ("not before 9", "after 3pm") is a limit, not a wish: None then, as when
    ``pref`` names no days and hours; a range ("between 2 and 4pm") widens both ways."""
    if pref.first is None or (pref.lo is None and pref.hi is None and pref.at is None):
        return None
    if pref.bound and (pref.lo is None or pref.hi is None):
        return None
    lo, hi = _hours(pref)
    wide_lo, wide_hi = max(lo - NEAR, min(lo, WORKDAY[0])), min(hi + NEAR, max(hi, WORKDAY[1]))
    return TimePref(first=pref.first, last=pref.last, lo=max(0, wide_lo), hi=min(DAY, wide_hi))


def windows(pref: TimePref | None, tz: ZoneInfo, now: datetime, horizon_days: int) -> list[Interval]:
    """The UTC windows ``pref`` stands for between now and the booking horizon. Without days,
    or over several days ("next week"), the visitor's working days; without hours, the visitor's working day — a receptionist offers
    "after 3pm" on the next weekdays, and "Saturday" on Saturday, but not at 3 in the morning."""
    today = now.astimezone(tz).date()
    horizon = today + timedelta(days=horizon_days)
    pref = pref or TimePref()
    first = max(pref.first or today, today)
    last = min(pref.last or pref.first or horizon, horizon)
    weekdays = WORKDAYS if _spans_a_workday(first, last, pref) else None
    lo, hi = _hours(pref)
    return day_windows(first, last, lo, hi, tz, weekdays)


def _hours(pref: TimePref) -> tuple[int, int]:
    """The minutes of the day ``pref`` allows: around an exact time, else its hours, else the
    working day (an early "before 7am" or a late "after 8pm" reaches midnight)."""
    if pref.at is not None:
        return max(0, pref.at - AROUND[0]), min(DAY, pref.at + AROUND[1])
    lo = pref.lo if pref.lo is not None else (0 if pref.hi is not None and pref.hi < WORKDAY[0] else WORKDAY[0])
    hi = pref.hi if pref.hi is not None else (DAY if pref.lo is not None and pref.lo >= WORKDAY[1] else WORKDAY[1])
    return lo, hi
