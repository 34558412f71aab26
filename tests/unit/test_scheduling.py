"""The pure slot engine: exact slots under a frozen `now`, DST days included."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling import AgentSchedule, Interval, Rules, merge, queue_slots, subtract
from tests.helpers import utc

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_9_17 = {d: [(9 * 60, 17 * 60)] for d in range(5)}


def starts(slots):
    return [s.start for s in slots]


def test_merge_and_subtract():
    a = Interval(utc(2026, 1, 1, 9), utc(2026, 1, 1, 12))
    b = Interval(utc(2026, 1, 1, 11), utc(2026, 1, 1, 13))
    c = Interval(utc(2026, 1, 1, 13), utc(2026, 1, 1, 14))
    assert merge([c, a, b]) == [Interval(utc(2026, 1, 1, 9), utc(2026, 1, 1, 14))]
    busy = [Interval(utc(2026, 1, 1, 10), utc(2026, 1, 1, 10, 30)), Interval(utc(2026, 1, 1, 13), utc(2026, 1, 1, 15))]
    assert subtract([Interval(utc(2026, 1, 1, 9), utc(2026, 1, 1, 14))], busy) == [
        Interval(utc(2026, 1, 1, 9), utc(2026, 1, 1, 10)),
        Interval(utc(2026, 1, 1, 10, 30), utc(2026, 1, 1, 13)),
    ]


def test_interval_rejects_naive_and_reversed():
    from datetime import datetime

    with pytest.raises(ValueError):
        Interval(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        Interval(utc(2026, 1, 2), utc(2026, 1, 1))


def test_notice_window_and_busy_give_exact_slots():
    # Tuesday 1 Dec 2026 08:00 UTC = 03:00 in New York; notice 4 h → 12:00 UTC = 07:00 local.
    agent = AgentSchedule(
        1, NY, {1: [(9 * 60, 11 * 60)]}, busy=[Interval(utc(2026, 12, 1, 14, 30), utc(2026, 12, 1, 15, 10))]
    )
    rules = Rules(meeting_minutes=30, interval_minutes=30, min_notice_minutes=240, window_days=1)
    slots = queue_slots([agent], rules, utc(2026, 12, 1, 8))
    # 9:00-11:00 EST = 14:00-16:00 UTC; busy 14:30-15:10 removes 14:30 and 15:00.
    assert starts(slots) == [utc(2026, 12, 1, 14), utc(2026, 12, 1, 15, 30)]
    assert all(s.end - s.start == timedelta(minutes=30) and s.agent_ids == (1,) for s in slots)


def test_notice_cuts_into_a_block_on_the_grid():
    agent = AgentSchedule(1, ZoneInfo("UTC"), {1: [(9 * 60, 12 * 60)]})
    rules = Rules(meeting_minutes=30, interval_minutes=30, min_notice_minutes=65, window_days=1)
    # now 09:00 → earliest 10:05 → first grid start 10:30.
    assert starts(queue_slots([agent], rules, utc(2026, 12, 1, 9))) == [
        utc(2026, 12, 1, 10, 30),
        utc(2026, 12, 1, 11),
        utc(2026, 12, 1, 11, 30),
    ]


def test_us_dst_spring_forward_moves_utc_start():
    # Friday 6 March 2026 is EST (UTC-5); Monday 9 March is EDT (UTC-4).
    agent = AgentSchedule(1, NY, WEEKDAYS_9_17)
    rules = Rules(meeting_minutes=60, interval_minutes=60, min_notice_minutes=0, window_days=4)
    slots = queue_slots([agent], rules, utc(2026, 3, 6, 0))
    fri = [s for s in starts(slots) if s.day == 6]
    mon = [s for s in starts(slots) if s.day == 9]
    assert fri[0] == utc(2026, 3, 6, 14) and len(fri) == 8
    assert mon[0] == utc(2026, 3, 9, 13) and len(mon) == 8
    assert all(s.astimezone(NY).hour in range(9, 17) for s in starts(slots))


def test_hours_across_the_spring_forward_gap_2026_03_08():
    # Sunday 01:00-04:00 local on the change day: 02:00-03:00 does not exist.
    agent = AgentSchedule(1, NY, {6: [(60, 240)]})
    rules = Rules(meeting_minutes=30, interval_minutes=30, min_notice_minutes=0, window_days=3)
    slots = queue_slots([agent], rules, utc(2026, 3, 7, 0))
    assert starts(slots) == [utc(2026, 3, 8, 6), utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7), utc(2026, 3, 8, 7, 30)]
    assert [s.astimezone(NY).strftime("%H:%M") for s in starts(slots)] == ["01:00", "01:30", "03:00", "03:30"]


def test_hours_across_the_fall_back_2026_10_25():
    # Sunday 01:00-04:00 in Paris on the change day lasts four real hours (02:00-03:00 twice).
    agent = AgentSchedule(1, PARIS, {6: [(60, 240)]})
    rules = Rules(meeting_minutes=60, interval_minutes=60, min_notice_minutes=0, window_days=3)
    slots = queue_slots([agent], rules, utc(2026, 10, 24, 0))
    assert starts(slots) == [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)]


def test_union_keeps_eligible_agents_and_pages_with_after():
    london = AgentSchedule(1, ZoneInfo("Europe/London"), {1: [(9 * 60, 10 * 60)]})
    paris = AgentSchedule(2, PARIS, {1: [(10 * 60, 11 * 60)]})  # 09:00-10:00 UTC too
    rules = Rules(meeting_minutes=30, interval_minutes=30, min_notice_minutes=0, window_days=1)
    slots = queue_slots([london, paris], rules, utc(2026, 12, 1, 0))
    assert [(s.start, s.agent_ids) for s in slots] == [(utc(2026, 12, 1, 9), (1, 2)), (utc(2026, 12, 1, 9, 30), (1, 2))]
    assert starts(queue_slots([london, paris], rules, utc(2026, 12, 1, 0), after=slots[0].start)) == [
        utc(2026, 12, 1, 9, 30)
    ]


def test_window_is_respected_and_naive_now_refused():
    agent = AgentSchedule(1, ZoneInfo("UTC"), {d: [(0, 1440)] for d in range(7)})
    rules = Rules(meeting_minutes=60, interval_minutes=60, min_notice_minutes=0, window_days=1)
    slots = queue_slots([agent], rules, utc(2026, 12, 1, 0))
    assert len(slots) == 24 and slots[-1].end == utc(2026, 12, 2, 0)
    from datetime import datetime

    with pytest.raises(ValueError):
        queue_slots([agent], rules, datetime(2026, 12, 1))
