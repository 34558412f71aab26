"""Time preferences: what visitors say about when (bot/i18n/timeprefs.read_pref) and the
windows it stands for in their zone (bot/scheduling/preferences.windows). ``now`` is fixed."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.i18n.timeprefs import read_pref
from bot.scheduling.preferences import TimePref, around, windows

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)  # Monday
LONDON = ZoneInfo("Europe/London")


def local_hours(pref, tz=LONDON, now=NOW, days=14):
    return [(w.start.astimezone(tz), w.end.astimezone(tz)) for w in windows(pref, tz, now, days)]


@pytest.mark.parametrize(
    "text, lang, first, lo, hi, at",
    [
        ("can I book a demo next Tuesday afternoon?", "en", date(2026, 12, 15), 12 * 60, 18 * 60, None),
        ("none of those work, anything Thursday morning?", "en", date(2026, 12, 10), 8 * 60, 12 * 60, None),
        ("Wednesday at 3pm", "en", date(2026, 12, 9), None, None, 15 * 60),
        ("demain 10h30", "fr", date(2026, 12, 8), None, None, 10 * 60 + 30),
        ("Hallo, ich hätte gern einen Termin am Freitag gegen 14 Uhr", "de", date(2026, 12, 11), None, None, 14 * 60),
        ("nächste Woche Dienstag", "de", date(2026, 12, 15), None, None, None),
        ("el viernes por la tarde", "es", date(2026, 12, 11), 12 * 60, 18 * 60, None),
        ("amanhã à tarde", "pt", date(2026, 12, 8), 12 * 60, 18 * 60, None),
        ("giovedì mattina", "it", date(2026, 12, 10), 8 * 60, 12 * 60, None),
        ("between 2 and 4pm", "en", None, 14 * 60, 16 * 60, None),
        ("entre 8h et midi", "fr", None, 8 * 60, 12 * 60, None),
        ("not before 9", "en", None, 9 * 60, None, None),
        ("nicht vor 9 Uhr", "de", None, 9 * 60, None, None),
        ("after 3pm", "en", None, 15 * 60, None, None),
        ("no antes de las 10", "es", None, 10 * 60, None, None),
        ("não antes das 9h", "pt", None, 9 * 60, None, None),
        ("ma dopo le 15", "it", None, 15 * 60, None, None),
        ("Thursday after 3pm", "en", date(2026, 12, 10), 15 * 60, None, None),
    ],
)
def test_read_pref(text, lang, first, lo, hi, at):
    p = read_pref(text, lang, LONDON, NOW)
    assert p is not None, text
    assert (p.first, p.lo, p.hi, p.at) == (first, lo, hi, at), (text, p)


def test_weeks_are_whole_weeks():
    for text, lang in [("next week", "en"), ("la semaine prochaine", "fr")]:
        p = read_pref(text, lang, LONDON, NOW)
        assert (p.first, p.last) == (date(2026, 12, 14), date(2026, 12, 20))


def test_a_week_means_its_working_days_a_weekend_its_weekend():
    week = local_hours(read_pref("next week", "en", LONDON, NOW))
    assert [s.date() for s, _ in week] == [date(2026, 12, d) for d in (14, 15, 16, 17, 18)]
    weekend = local_hours(TimePref(first=date(2026, 12, 12), last=date(2026, 12, 13)))
    assert [s.weekday() for s, _ in weekend] == [5, 6]


@pytest.mark.parametrize("text", ["Ferrero", "mark2020@acme.com", "hi, I'd like to book a demo", "mi chiamo Giulia", ""])
def test_no_time_no_pref(text):
    assert read_pref(text, "en", LONDON, NOW) is None


def test_no_preference_means_the_visitors_working_days():
    got = local_hours(None)
    assert got and all(s.weekday() < 5 and s.hour >= 8 and (e.hour, e.minute) <= (19, 0) for s, e in got)
    assert got[0][0].date() == date(2026, 12, 7)


def test_hours_apply_on_weekdays_a_named_day_on_that_day():
    after3 = local_hours(TimePref(lo=15 * 60, bound=True))
    assert all(s.hour == 15 and e.hour == 19 and s.weekday() < 5 for s, e in after3)
    saturday = local_hours(TimePref(first=date(2026, 12, 12), last=date(2026, 12, 12)))
    assert [(s.hour, e.hour) for s, e in saturday] == [(8, 19)]


def test_exact_time_window_around_it():
    [(s, e)] = local_hours(TimePref(first=date(2026, 12, 9), last=date(2026, 12, 9), at=15 * 60))
    assert (s.hour, e.hour) == (14, 17)


def test_windows_in_another_zone_and_across_dst():
    chicago = ZoneInfo("America/Chicago")
    [(s, e)] = local_hours(TimePref(first=date(2026, 12, 15), last=date(2026, 12, 15), lo=720, hi=1080), chicago)
    assert s.tzinfo is chicago and (s.hour, e.hour) == (12, 18)
    # 29 March 2026: Europe/London springs forward at 01:00; a morning is still 08:00-12:00 local.
    spring = datetime(2026, 3, 27, 10, tzinfo=timezone.utc)
    [(s, e)] = local_hours(TimePref(first=date(2026, 3, 29), last=date(2026, 3, 29), lo=480, hi=720), LONDON, spring)
    assert (s.hour, e.hour) == (8, 12) and s.utcoffset().total_seconds() == 3600


def test_a_new_day_keeps_a_bound_and_new_hours_keep_the_day():
    bound = TimePref(lo=9 * 60, bound=True)
    thursday = TimePref(first=date(2026, 12, 10), last=date(2026, 12, 10))
    merged = thursday.merged_onto(bound)
    assert (merged.first, merged.lo) == (date(2026, 12, 10), 9 * 60)
    later = TimePref(lo=15 * 60, bound=True).merged_onto(thursday)
    assert (later.first, later.lo) == (date(2026, 12, 10), 15 * 60)
    morning = TimePref(first=date(2026, 12, 10), last=date(2026, 12, 10), lo=480, hi=720)
    friday = TimePref(first=date(2026, 12, 11), last=date(2026, 12, 11)).merged_onto(morning)
    assert (friday.first, friday.lo) == (date(2026, 12, 11), None)


def test_slot_round_trip_and_bad_slot_values():
    p = TimePref(first=date(2026, 12, 10), last=date(2026, 12, 11), lo=480, hi=720, bound=True)
    assert TimePref.from_slot(p.to_slot()) == p
    for bad in [None, "x", {"first": "nope"}, {"lo": 99999}, {"hi": "abc"}]:
        assert TimePref.from_slot(bad) is None


def test_codes_and_odd_readings_are_not_times():
    assert read_pref("3f9a1c2e7b dana@acme.example", "en", LONDON, NOW) is None
    assert read_pref("my code is 123456789", "en", LONDON, NOW) is None


def test_a_word_for_now_is_not_a_time_asked_for():
    assert read_pref("me li date in ora italiana?", "it", ZoneInfo("Europe/Rome"), NOW) is None


def test_an_ordinal_choice_is_not_a_day_of_the_month():
    for text, lang in [("the first one", "en"), ("le premier", "fr"), ("die zweite", "de"), ("la primera", "es")]:
        assert read_pref(text, lang, LONDON, NOW) is None, text
    assert read_pref("the 15th", "en", LONDON, NOW) is None
    assert read_pref("December 15th", "en", LONDON, NOW).first == date(2026, 12, 15)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("next tuesday afternoon", "en"),
        ("el proximo martes por la tarde", "es"),
        ("mardi prochain", "fr"),
        ("nächsten Dienstag", "de"),
        ("martedi prossimo", "it"),
        ("na proxima terca", "pt"),
    ],
)
def test_next_tuesday_said_on_a_saturday_is_next_weeks(text, lang):
    """Duckling takes "next Tuesday" as the one after the coming one: on Saturday 12 December that
    skipped to the 22nd; next week's Tuesday is the 15th."""
    saturday = datetime(2026, 12, 12, 11, tzinfo=timezone.utc)
    pref = read_pref(text, lang, ZoneInfo("Europe/Madrid"), saturday)
    assert pref is not None and pref.first == pref.last == date(2026, 12, 15)


@pytest.mark.parametrize(
    ("text", "lang", "hours"),
    [
        ("none of those work, anything thursday morning?", "en", (480, 720)),
        ("têm alguma coisa quinta de manhã?", "pt", (480, 720)),
        ("jeudi 15h ?", "fr", None),
        ("thursday?", "en", None),
    ],
)
def test_a_weekday_named_on_that_day_after_its_hours_is_next_weeks(text, lang, hours):
    """Said at 23:30 on Thursday 31 December: that Thursday's morning is over, so it is the 7th
    (in the morning, the same words still mean today)."""
    tz = ZoneInfo("Europe/London")
    late = read_pref(text, lang, tz, datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc))
    assert late is not None and late.first == date(2027, 1, 7)
    if hours:
        assert (late.lo, late.hi) == hours
    early = read_pref(text, lang, tz, datetime(2026, 12, 31, 7, 0, tzinfo=timezone.utc))
    assert early is not None and early.first == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("pref", "window"),
    [
        (TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), lo=14 * 60, hi=16 * 60), (12 * 60, 18 * 60)),
        # never earlier than the working day unless asked: 8-9am widens later only
        (TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), lo=8 * 60, hi=9 * 60), (8 * 60, 11 * 60)),
        # 7pm asked: evening hours are theirs to ask for, two more hours are not
        (TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), at=19 * 60), (16 * 60, 21 * 60)),
        # a range given as bounds widens both ways
        (TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), lo=14 * 60, hi=16 * 60, bound=True), (12 * 60, 18 * 60)),
    ],
)
def test_the_nearest_hours_on_the_same_day(pref, window):
    near = around(pref)
    assert near is not None and (near.first, near.last) == (pref.first, pref.last)
    assert (near.lo, near.hi) == window


@pytest.mark.parametrize(
    "pref",
    [
        TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), lo=15 * 60, bound=True),  # "not before 3pm"
        TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3), hi=12 * 60, bound=True),  # "before noon"
        TimePref(lo=14 * 60, hi=16 * 60),  # no day: the next days at those hours come instead
        TimePref(first=date(2026, 12, 3), last=date(2026, 12, 3)),  # a whole day: nothing to widen
    ],
)
def test_a_limit_or_a_bare_day_is_not_widened(pref):
    assert around(pref) is None
