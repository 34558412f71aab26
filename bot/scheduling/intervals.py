"""Half-open UTC intervals and the set operations the slot engine needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable


@dataclass(frozen=True, order=True)
class Interval:
    """``[start, end)``, both timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Interval bounds must be timezone-aware")
        if self.end < self.start:
            raise ValueError(f"Interval ends before it starts: {self.start} > {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def utc(self) -> Interval:
        return Interval(self.start.astimezone(timezone.utc), self.end.astimezone(timezone.utc))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping, with touching intervals joined."""
    out: list[Interval] = []
    for iv in sorted(intervals):
        if iv.start == iv.end:
            continue
        if out and iv.start <= out[-1].end:
            if iv.end > out[-1].end:
                out[-1] = Interval(out[-1].start, iv.end)
        else:
            out.append(iv)
    return out


def subtract(ranges: Iterable[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """``ranges`` minus ``busy``, both merged first."""
    busy_m = merge(busy)
    out: list[Interval] = []
    for rng in merge(ranges):
        cursor = rng.start
        for b in busy_m:
            if b.end <= cursor:
                continue
            if b.start >= rng.end:
                break
            if b.start > cursor:
                out.append(Interval(cursor, b.start))
            cursor = max(cursor, b.end)
            if cursor >= rng.end:
                break
        if cursor < rng.end:
            out.append(Interval(cursor, rng.end))
    return out
