"""Availability rules: exact slots on fixtures (DST days included) and properties that must hold
for any rules (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduling import AgentSchedule, Interval, Rules, availability, queue_slots, working_ranges
from bot.scheduling.offering import day_part, pick_page
from tests.helpers import utc

NY, PARIS, SYD = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris"), ZoneInfo("Australia/Sydney")
UTCZ = ZoneInfo("UTC")


def starts(slots):
    return [s.start for s in slots]


def local(slots, tz):
    return [s.start.astimezone(tz).strftime("%m-%d %H:%M") for s in slots]


def rules(**kw):
    base = dict(meeting_minutes=30, interval_minutes=30, min_notice_minutes=0, window_days=3)
    base.update(kw)
    return Rules(**base)


# ---- exact fixtures -------------------------------------------------------------------------
def test_buffers_apply_around_busy_time():
    agent = AgentSchedule(
        1, UTCZ, {1: [(9 * 60, 13 * 60)]}, busy=[Interval(utc(2026, 12, 1, 10), utc(2026, 12, 1, 11))]
    )
    got = queue_slots(
        [agent], rules(window_days=1, buffer_before_minutes=15, buffer_after_minutes=30), utc(2026, 12, 1)
    )
    # 09:30 ends at 10:00 but needs 30 min after; 11:00 needs 15 min before.
    assert starts(got) == [
        utc(2026, 12, 1, 9),
        utc(2026, 12, 1, 11, 30),
        utc(2026, 12, 1, 12),
        utc(2026, 12, 1, 12, 30),
    ]


def test_an_agents_own_buffers_and_notice_apply_when_larger_than_the_queues():
    busy = [Interval(utc(2026, 12, 1, 10), utc(2026, 12, 1, 11))]
    own = AgentSchedule(1, UTCZ, {1: [(9 * 60, 13 * 60)]}, busy=busy, buffer_before_minutes=15,
                        buffer_after_minutes=30, min_notice_minutes=9 * 60 + 30)
    plain = AgentSchedule(2, UTCZ, {1: [(9 * 60, 13 * 60)]}, busy=busy)
    now = utc(2026, 12, 1)
    # Agent 1: 09:00 is inside their own notice (09:30); 09:30 needs 30 min after; 11:00 needs
    # 15 min before. Agent 2 keeps the queue's rules (none): every start but the busy hour.
    avail = availability([own, plain], rules(window_days=1, buffer_after_minutes=10), now)
    by_agent = {a: [s.start for s in avail.slots() if a in s.agent_ids] for a in (1, 2)}
    assert by_agent[1] == [utc(2026, 12, 1, 11, 30), utc(2026, 12, 1, 12), utc(2026, 12, 1, 12, 30)]
    assert by_agent[2] == [utc(2026, 12, 1, 9), utc(2026, 12, 1, 11), utc(2026, 12, 1, 11, 30),
                           utc(2026, 12, 1, 12), utc(2026, 12, 1, 12, 30)]
    # The queue's larger buffer wins over the agent's smaller one.
    avail = availability([own], rules(window_days=1, buffer_before_minutes=60), now)
    assert [s.start for s in avail.slots()] == [utc(2026, 12, 1, 12), utc(2026, 12, 1, 12, 30)]


def test_overrides_replace_a_day_and_days_off_remove_it():
    weekly = {d: [(9 * 60, 10 * 60)] for d in range(5)}
    agent = AgentSchedule(
        1,
        UTCZ,
        weekly,
        overrides={
            date(2026, 12, 1): [(14 * 60, 15 * 60)],
            date(2026, 12, 2): [],
            date(2026, 12, 5): [(10 * 60, 11 * 60)],
        },
    )
    got = queue_slots([agent], rules(window_days=5), utc(2026, 12, 1))
    assert local(got, UTCZ) == [
        "12-01 14:00",
        "12-01 14:30",
        "12-03 09:00",
        "12-03 09:30",
        "12-04 09:00",
        "12-04 09:30",
        "12-05 10:00",
        "12-05 10:30",
    ]


def test_time_off_blocks_without_buffers():
    agent = AgentSchedule(
        1, UTCZ, {1: [(9 * 60, 12 * 60)]}, time_off=[Interval(utc(2026, 12, 1, 10), utc(2026, 12, 1, 11))]
    )
    got = queue_slots(
        [agent], rules(window_days=1, buffer_before_minutes=30, buffer_after_minutes=30), utc(2026, 12, 1)
    )
    assert local(got, UTCZ) == ["12-01 09:00", "12-01 09:30", "12-01 11:00", "12-01 11:30"]


def test_daily_cap_counts_the_agents_local_day():
    # Tokyo agent: Tue 1 Dec already has 2 meetings with a cap of 2 → no slots that local day.
    tokyo = ZoneInfo("Asia/Tokyo")
    weekly = {d: [(9 * 60, 10 * 60)] for d in range(5)}
    agent = AgentSchedule(1, tokyo, weekly, max_per_day=2, booked_per_day={date(2026, 12, 1): 2})
    got = queue_slots([agent], rules(window_days=2), utc(2026, 11, 30, 12))
    assert local(got, tokyo) == ["12-02 09:00", "12-02 09:30"]
    assert queue_slots([AgentSchedule(1, tokyo, weekly, max_per_day=0)], rules(window_days=2), utc(2026, 11, 30)) == []


def sunday_night(tz, day):
    """An agent who works 01:00-04:00 on the Sunday of a DST change, in 30-minute steps."""
    return AgentSchedule(1, tz, {6: [(60, 240)]}), utc(day.year, day.month, day.day) - timedelta(days=1)


def test_eu_spring_forward_2026_03_29():
    agent, now = sunday_night(PARIS, date(2026, 3, 29))
    got = queue_slots([agent], rules(), now)
    # 02:00-03:00 does not exist in Paris that night: two real hours of work.
    assert local(got, PARIS) == ["03-29 01:00", "03-29 01:30", "03-29 03:00", "03-29 03:30"]
    assert starts(got)[0] == utc(2026, 3, 29, 0)


def test_us_fall_back_2026_11_01():
    agent, now = sunday_night(NY, date(2026, 11, 1))
    got = queue_slots([agent], rules(), now)
    # 01:00-02:00 happens twice in New York: four real hours, 01:xx shown twice.
    assert starts(got) == [utc(2026, 11, 1, 5) + timedelta(minutes=30 * i) for i in range(8)]
    assert local(got, NY) == [
        "11-01 01:00",
        "11-01 01:30",
        "11-01 01:00",
        "11-01 01:30",
        "11-01 02:00",
        "11-01 02:30",
        "11-01 03:00",
        "11-01 03:30",
    ]


def test_sydney_fall_back_2026_04_05_and_spring_forward_2026_10_04():
    agent = AgentSchedule(1, SYD, {6: [(60, 240)]})
    back = queue_slots([agent], rules(meeting_minutes=60, interval_minutes=60), utc(2026, 4, 4))
    # 03:00 AEDT → 02:00 AEST: 02:00-03:00 twice, four real hours.
    assert len(back) == 4 and back[-1].end - back[0].start == timedelta(hours=4)
    assert starts(back) == [utc(2026, 4, 4, 14), utc(2026, 4, 4, 15), utc(2026, 4, 4, 16), utc(2026, 4, 4, 17)]
    fwd = queue_slots([agent], rules(meeting_minutes=60, interval_minutes=60), utc(2026, 10, 3))
    # 02:00 AEST → 03:00 AEDT: two real hours.
    assert local(fwd, SYD) == ["10-04 01:00", "10-04 03:00"]
    assert starts(fwd) == [utc(2026, 10, 3, 15), utc(2026, 10, 3, 16)]


def test_weekday_hours_across_eu_change_in_both_zones():
    # A Paris agent 09:00-10:00 on Fri 27 Mar (CET) and Mon 30 Mar (CEST), seen from New York
    # (already on EDT since 8 March): the agent's local time stays 09:00, UTC and NY shift by an hour.
    agent = AgentSchedule(1, PARIS, {d: [(9 * 60, 10 * 60)] for d in range(5)})
    got = queue_slots([agent], rules(meeting_minutes=60, interval_minutes=60, window_days=4), utc(2026, 3, 27))
    assert local(got, PARIS) == ["03-27 09:00", "03-30 09:00"]
    assert local(got, NY) == ["03-27 04:00", "03-30 03:00"]


def test_day_part_windows_follow_the_visitors_zone():
    window = day_part(date(2026, 3, 8), "afternoon", NY)  # US DST change day
    assert window == Interval(utc(2026, 3, 8, 16), utc(2026, 3, 8, 21))
    agent = AgentSchedule(1, UTCZ, {d: [(0, 1440)] for d in range(7)})
    avail = availability([agent], rules(window_days=3, meeting_minutes=60, interval_minutes=60), utc(2026, 3, 7))
    page = pick_page(avail, 10, within=window, tz=NY)
    assert [s.start.astimezone(NY).hour for s in page] == [12, 13, 14, 15, 16]


def test_page_is_spread_in_the_visitors_zone():
    agent = AgentSchedule(1, UTCZ, {d: [(9 * 60, 17 * 60)] for d in range(7)})
    avail = availability([agent], rules(window_days=3, interval_minutes=15), utc(2026, 12, 1))
    page = pick_page(avail, 5, tz=UTCZ)
    assert local(page, UTCZ) == ["12-01 09:00", "12-01 10:00", "12-01 11:00", "12-02 09:00", "12-02 10:00"]
    assert local(pick_page(avail, 3, tz=UTCZ, spread=False), UTCZ) == ["12-01 09:00", "12-01 09:15", "12-01 09:30"]


# ---- properties -----------------------------------------------------------------------------
ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Australia/Sydney", "Asia/Kolkata", "Asia/Tokyo"])
BASE = utc(2026, 3, 1)


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 4))
    r = Rules(
        meeting_minutes=draw(st.sampled_from([15, 30, 45, 60])),
        interval_minutes=draw(st.sampled_from([15, 30, 60])),
        min_notice_minutes=draw(st.integers(0, 600)),
        window_days=draw(st.integers(1, 10)),
        buffer_before_minutes=draw(st.sampled_from([0, 5, 15])),
        buffer_after_minutes=draw(st.sampled_from([0, 10, 30])),
    )
    now = BASE + timedelta(days=draw(st.integers(0, 280)), minutes=draw(st.integers(0, 1439)))
    agents = []
    for i in range(n):
        tz = ZoneInfo(draw(ZONES))
        weekly = {}
        for d in draw(st.sets(st.integers(0, 6), max_size=7)):
            lo = draw(st.integers(0, 20)) * 60
            weekly[d] = [(lo, min(1440, lo + draw(st.integers(1, 12)) * 60))]

        def when():
            return now + timedelta(minutes=draw(st.integers(-600, r.window_days * 1440)))

        busy = []
        for _ in range(draw(st.integers(0, 12))):
            s = when()
            busy.append(Interval(s, s + timedelta(minutes=draw(st.integers(5, 180)))))
        off = []
        if draw(st.booleans()):
            s = when()
            off.append(Interval(s, s + timedelta(hours=draw(st.integers(1, 48)))))
        first = now.astimezone(tz).date()
        overrides = {}
        for _ in range(draw(st.integers(0, 2))):
            day = first + timedelta(days=draw(st.integers(0, r.window_days)))
            overrides[day] = draw(st.sampled_from([[], [(10 * 60, 12 * 60)], [(60, 240)]]))
        cap = draw(st.one_of(st.none(), st.integers(0, 3)))
        booked = {first + timedelta(days=draw(st.integers(0, 3))): draw(st.integers(0, 3))} if cap is not None else {}
        agents.append(
            AgentSchedule(
                i + 1, tz, weekly, busy=busy, overrides=overrides, time_off=off, max_per_day=cap, booked_per_day=booked
            )
        )
    return agents, r, now


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_every_offered_slot_obeys_every_rule(scenario):
    agents, r, now = scenario
    by_id = {a.agent_id: a for a in agents}
    length = timedelta(minutes=r.meeting_minutes)
    for slot in queue_slots(agents, r, now):
        assert slot.end - slot.start == length
        assert slot.start >= now + timedelta(minutes=r.min_notice_minutes)
        assert slot.end <= now + timedelta(days=r.window_days) + timedelta(minutes=1)
        assert slot.agent_ids and list(slot.agent_ids) == sorted(set(slot.agent_ids))
        for agent_id in slot.agent_ids:
            a = by_id[agent_id]
            # inside the agent's hours (weekly or override) in the agent's own zone
            hours = working_ranges(a.weekly, a.timezone, slot.start, slot.end, a.overrides)
            assert any(h.contains(Interval(slot.start, slot.end)) for h in hours)
            day = slot.start.astimezone(a.timezone).date()
            if day in a.overrides and not a.overrides[day]:
                raise AssertionError("offered on a day off")
            # clear of busy time with buffers, and of time off
            guarded = Interval(
                slot.start - timedelta(minutes=r.buffer_before_minutes),
                slot.end + timedelta(minutes=r.buffer_after_minutes),
            )
            assert not any(b.overlaps(guarded) for b in a.busy)
            assert not any(t.overlaps(Interval(slot.start, slot.end)) for t in a.time_off)
            # under the daily cap, counted in the agent's local day
            if a.max_per_day is not None:
                assert a.booked_per_day.get(day, 0) < a.max_per_day
