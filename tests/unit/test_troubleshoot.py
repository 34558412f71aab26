"""bot/scheduling/troubleshoot.py: the first rule that removes a time, and agreement with the engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from bot.errors import UnknownQueue
from bot.scheduling.engine import AgentSchedule, Rules, is_free
from bot.scheduling.intervals import Interval
from bot.scheduling.troubleshoot import REASONS, AgentParts, explain

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)  # Monday 09:00 in Paris
WEEKDAYS = {d: [(9 * 60, 17 * 60)] for d in range(5)}  # Mon–Fri 09:00–17:00
RULES = Rules(meeting_minutes=30, interval_minutes=30, min_notice_minutes=240, window_days=14)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """December ``day`` 2026 at ``hour:minute`` in Paris."""
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def span(day: int, h1: float, h2: float) -> Interval:
    return Interval(paris(day, int(h1), int(h1 % 1 * 60)), paris(day, int(h2), int(h2 % 1 * 60)))


def agent(calendar=(), own=(), **kw) -> AgentParts:
    return AgentParts(AgentSchedule(**{"agent_id": 7, "timezone": PARIS, "weekly": WEEKDAYS, **kw}), calendar, own)


def reason(a: AgentParts, start: datetime, rules: Rules = RULES) -> str:
    return explain(a, rules, NOW, start).reason


def test_each_rule_that_can_remove_a_time_is_named():
    wed = 9  # Wednesday 9 December
    assert reason(agent(), paris(wed, 10)) == "offered"
    assert reason(agent(), paris(7, 11)) == "notice"  # Monday 11:00 is within 4 hours of 09:00
    assert reason(agent(min_notice_minutes=60 * 24 * 3), paris(wed, 10)) == "notice"  # the agent's own notice
    assert reason(agent(), paris(28, 10)) == "window"  # 21 days ahead
    assert reason(agent(), paris(wed, 8)) == "hours"
    assert reason(agent(), paris(wed, 16, 45)) == "hours"  # it would end at 17:15
    assert reason(agent(), paris(wed, 10, 15)) == "start time"
    assert reason(agent(), paris(12, 10)) == "hours"  # Saturday
    assert reason(agent(overrides={date(2026, 12, 9): [(13 * 60, 15 * 60)]}), paris(wed, 10)) == "override"
    assert reason(agent(overrides={date(2026, 12, 9): []}), paris(wed, 14)) == "override"  # a day off
    assert reason(agent(overrides={date(2026, 12, 12): [(10 * 60, 12 * 60)]}), paris(12, 10)) == "offered"
    assert reason(agent(time_off=[span(wed, 0, 23.5)]), paris(wed, 10)) == "time off"
    capped = agent(max_per_day=2, booked_per_day={date(2026, 12, 9): 2})
    assert reason(capped, paris(wed, 10)) == "daily cap" and reason(capped, paris(10, 10)) == "offered"
    assert reason(agent(calendar=None), paris(wed, 10)) == "calendar unreadable"
    assert reason(agent(own=[span(wed, 10, 10.5)]), paris(wed, 10)) == "our booking"
    assert reason(agent(calendar=[span(wed, 9.75, 10.25)]), paris(wed, 10)) == "calendar busy"
    buffered = agent(calendar=[span(wed, 9, 9.75)], buffer_before_minutes=30)
    assert reason(buffered, paris(wed, 10)) == "buffer" and reason(buffered, paris(wed, 10, 30)) == "offered"
    after = Rules(
        meeting_minutes=30, interval_minutes=30, min_notice_minutes=240, window_days=14, buffer_after_minutes=15
    )
    assert reason(agent(calendar=[span(wed, 10.5, 11)]), paris(wed, 10), after) == "buffer"


def test_the_detail_says_what_in_the_agents_zone():
    v = explain(agent(calendar=[span(9, 9.75, 10.25)]), RULES, NOW, paris(9, 10))
    assert "09:45" in v.detail and "10:15" in v.detail and not v.offered
    v = explain(agent(overrides={date(2026, 12, 9): [(13 * 60, 15 * 60)]}), RULES, NOW, paris(9, 10))
    assert "13:00–15:00" in v.detail


@st.composite
def parts(draw) -> AgentParts:
    def blocks():
        lo = draw(st.integers(0, 40)) * 30
        return [(lo, min(1440, lo + draw(st.integers(1, 20)) * 30))]

    weekly = {d: blocks() for d in draw(st.sets(st.integers(0, 6), max_size=7))}
    base = datetime(2026, 12, 7, tzinfo=PARIS)

    def intervals(n: int) -> list[Interval]:
        out = []
        for _ in range(draw(st.integers(0, n))):
            s = base + timedelta(minutes=draw(st.integers(0, 16 * 96)) * 15)
            out.append(Interval(s, s + timedelta(minutes=draw(st.integers(1, 12)) * 15)))
        return out

    overrides = {
        date(2026, 12, 7) + timedelta(days=d): draw(st.sampled_from([[], blocks()]))
        for d in draw(st.sets(st.integers(0, 15), max_size=3))
    }
    cap = draw(st.sampled_from([None, 0, 1, 2]))
    schedule = AgentSchedule(
        agent_id=1,
        timezone=draw(st.sampled_from([PARIS, ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")])),
        weekly=weekly,
        overrides=overrides,
        time_off=intervals(1),
        max_per_day=cap,
        booked_per_day={date(2026, 12, 7) + timedelta(days=draw(st.integers(0, 15))): draw(st.integers(0, 2))},
        buffer_before_minutes=draw(st.sampled_from([0, 15, 30])),
        buffer_after_minutes=draw(st.sampled_from([0, 15])),
        min_notice_minutes=draw(st.sampled_from([0, 600])),
    )
    return AgentParts(schedule, calendar=intervals(4), own=intervals(2))


@examples(max_examples=400, deadline=None)
@given(parts(), st.integers(0, 16 * 96), st.sampled_from([15, 30]), st.sampled_from([0, 15]))
def test_says_offered_exactly_when_the_engine_offers_and_always_names_a_rule(a, quarter, interval, buffer):
    rules = Rules(
        meeting_minutes=30,
        interval_minutes=interval,
        min_notice_minutes=240,
        window_days=14,
        buffer_before_minutes=buffer,
    )
    start = datetime(2026, 12, 7, tzinfo=timezone.utc) + timedelta(minutes=quarter * 15)
    verdict = explain(a, rules, NOW, start)
    engine = is_free(a.schedule(), rules, Interval(start, start + timedelta(minutes=30)), NOW)
    assert verdict.reason in REASONS and verdict.reason != "other", verdict
    assert verdict.offered == engine, (verdict, engine)
    unreadable = replace(a, calendar=None)
    assert not explain(unreadable, rules, NOW, start).offered  # never offered without a readable calendar


# --------------------------------------------------------------------------- the service and the CLI


class UnreadableCalendar:
    """A provider whose busy read fails, as a calendar does after its token was revoked."""

    name = "google"

    def busy(self, agents, start, end):
        from bot.errors import ProviderError

        raise ProviderError("401 from the calendar")


def test_explain_slot_reads_every_source_of_the_queue(store, settings, clock):
    from datetime import timedelta as td

    from bot.booking import BookingService, Visitor
    from bot.calendars.local import LocalCalendar
    from bot.messages.outbox import FileOutbox
    from bot.store.models import Agent, CalendarEvent, DateOverride, TimeOff
    from tests.helpers import NINE_TO_FIVE, add_queue, utc

    ada, bo, cy, di = add_queue(store, agents=[(n, "Europe/London", NINE_TO_FIVE) for n in ("Ada", "Bo", "Cy", "Di")])
    thursday = utc(2026, 12, 3, 14, 0)  # 14:00 in London; the clock says Tuesday 08:00
    with store.session() as s:
        s.add(CalendarEvent(agent_id=ada, start=thursday - td(minutes=15), end=thursday + td(minutes=15), summary="x"))
        s.add(TimeOff(agent_id=bo, start=thursday - td(hours=2), end=thursday + td(hours=2)))
        s.add(DateOverride(agent_id=cy, day=date(2026, 12, 3), start_minute=9 * 60, end_minute=12 * 60))
        s.get(Agent, di).provider = "google"
    svc = BookingService(
        store,
        {"local": LocalCalendar(store, settings.public_url), "google": UnreadableCalendar()},
        FileOutbox(settings.outbox_dir),
        clock=clock,
    )
    try:
        out = svc.explain_slot("sales", thursday)
        why = {r["agent"]: r["reason"] for r in out["agents"]}
        assert why == {"Ada": "calendar busy", "Bo": "time off", "Cy": "override", "Di": "calendar unreadable"}
        assert not out["offered"]
        # Book the one free agent at another time; that time is then "our booking" for them, and
        # the explanation agrees with what visitors are offered.
        later = utc(2026, 12, 3, 10, 0)
        offered_before = {sl.start for sl in svc.offer_slots("conv-x", "sales", count=200).slots}
        assert (later in offered_before) == svc.explain_slot("sales", later)["offered"]
        page = svc.offer_slots("conv-y", "sales", within=Interval(later, later + td(minutes=30)), count=5)
        slot = next(sl for sl in page.slots if sl.start == later)
        svc.book(
            "conv-y",
            slot.id,
            Visitor(email="pat@example.com", first_name="Pat", company_name="Acme", timezone="Europe/London"),
        )
        explained = svc.explain_slot("sales", later)
        after = {r["agent"]: r["reason"] for r in explained["agents"]}
        assert list(after.values()).count("our booking") == 1  # the agent who got it; Bo and Cy are still free
        assert after["Di"] == "calendar unreadable" and explained["offered"]
        with pytest.raises(UnknownQueue):
            svc.explain_slot("no-such-queue", later)
    finally:
        svc.close()


def test_the_cli_explains_a_time_in_the_visitors_zone(store, settings, monkeypatch, capsys):
    import json

    from bot.__main__ import main
    from tests.helpers import NINE_TO_FIVE, add_queue

    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Kai", "Asia/Tokyo", NINE_TO_FIVE)])
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    # The CLI reads the real clock: a Thursday 2–8 days ahead, 10:00 in Paris = 09:00 in London
    # (winter) or 09:00 too in summer, 17:00 or 18:00 in Tokyo.
    day = datetime.now(PARIS).date() + timedelta(days=2)
    day += timedelta(days=(3 - day.weekday()) % 7)
    when = f"{day.isoformat()}T10:00"
    assert main(["explain-slot", "sales", when, "--zone", "Europe/Paris", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["start"].startswith(when) and out["offered"]
    assert {r["agent"]: r["reason"] for r in out["agents"]} == {"Ada": "offered", "Kai": "hours"}
    assert main(["explain-slot", "sales", when, "--zone", "Europe/Paris"]) == 0
    text = capsys.readouterr().out
    assert "offered" in text and "Kai" in text and "outside the agent's working hours" in text
    assert main(["explain-slot", "nope", when]) != 0
    assert "no queue 'nope'" in capsys.readouterr().err
    assert main(["explain-slot", "sales", "next thursday"]) != 0
    assert "not a date and time" in capsys.readouterr().err
