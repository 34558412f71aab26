"""CalDAV with the real ``caldav`` client against a real Radicale 3 on 127.0.0.1: the provider
contract, busy time as calendars really hold it (recurrences and their exceptions, transparent,
cancelled, tentative, all-day, floating, other zones, old series), bookings with our ICS
invitation, and faults (401, 503, a server that hangs)."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import caldav
import pytest
from icalendar import Calendar as ICalendar
from sqlalchemy import select

from bot.booking import BookingService, Visitor
from bot.calendars.base import AgentRef
from bot.calendars.connect import Invite, connect_caldav
from bot.calendars.dav import CalDAVCalendar, CalDAVConfig
from bot.calendars.local import LocalCalendar
from bot.errors import ProviderAuthError, ProviderUnavailable
from bot.messages.outbox import FileOutbox
from bot.ops.runtime import _reconnect_notice, vault
from bot.store.models import Agent, Booking, CalendarConnection
from tests.helpers import add_queue, mails_to, utc
from tests.servers.radicale import Radicale

AGENT = "ana@dav.example"
USER, PASSWORD = "ana", "app-pass-7f3k"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def radicale(tmp_path):
    server = Radicale(tmp_path / "radicale", {USER: PASSWORD})
    server.make_calendars(USER, {"work": "Work", "private": "Private"})
    yield server
    server.close()


def dav_cal(server, cal_id="work"):
    client = caldav.DAVClient(url=server.url, username=USER, password=PASSWORD, enable_rfc6764=False)
    return client.calendar(url=f"{server.url}{USER}/{cal_id}/")


def cfg(settings, timeout=2.0, budget=1.0):
    return CalDAVConfig(timeout=timeout, retry_budget=budget, public_url=settings.public_url)


@pytest.fixture
def agent_id(store, settings, radicale):
    add_queue(store, agents=[])
    connect_caldav(store, vault(settings), cfg(settings), Invite(AGENT, "sales", "Ana", "Europe/Paris"),
                   radicale.url, USER, PASSWORD, calendar=f"{radicale.url}{USER}/work/")  # fmt: skip
    with store.session() as s:
        return s.execute(select(Agent).where(Agent.email == AGENT)).scalar_one().id


def provider(store, settings, sleeps=None, outbox=None, **kw):
    v = vault(settings)
    notify = _reconnect_notice(settings, store, v, outbox, "caldav") if outbox else None
    return CalDAVCalendar(
        store, v, cfg(settings, **kw), on_needs_reconnect=notify,
        sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
    )  # fmt: skip


def put(server, body: str, cal_id="work", name=None):
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    text = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tests//EN\n" + "\n".join(lines) + "\nEND:VCALENDAR\n"
    dav_cal(server, cal_id).save_event(text.replace("\n", "\r\n"))


def busy_of(cal, agent_id, start, end):
    return [(b.start, b.end) for b in cal.busy([AgentRef(agent_id, AGENT, "Ana")], start, end)[agent_id].intervals()]


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# ---- connect -----------------------------------------------------------------------------------
def test_connect_discovers_the_calendars_and_keeps_the_password_encrypted(agent_id, store, settings):
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        agent = s.get(Agent, agent_id)
        assert (conn.provider, conn.status, conn.calendar_id, agent.provider) == ("caldav", "connected", "Work", "caldav")
        assert agent.timezone == "Europe/Paris"
    raw = b"".join(p.read_bytes() for p in settings.var_dir.glob("bot.db*"))
    assert PASSWORD.encode() not in raw and b"app-pass" not in raw


# ---- the contract every provider keeps ------------------------------------------------------------
def test_provider_contract_on_radicale(agent_id, store, settings, radicale):
    from tests.unit.test_google import run_contract

    def attendee(event_id):
        [obj] = dav_cal(radicale).events()
        ev = ICalendar.from_ical(obj.data).walk("VEVENT")[0]
        people = ev.get("ATTENDEE")
        first = people[0] if isinstance(people, list) else people
        assert first.params["SCHEDULE-AGENT"] == "CLIENT"  # we invite; the server must not
        return str(first).removeprefix("mailto:")

    run_contract(provider(store, settings), AgentRef(agent_id, AGENT, "Ana"), attendee)
    puts = [r for r in radicale.faults.seen if r.startswith("PUT /ana/work/" + "a1" * 16)]
    assert len(puts) >= 2  # the retry PUT again, met If-None-Match, and made no second event
    assert not dav_cal(radicale).events()


def test_a_create_retried_after_it_went_through_finds_the_same_event(agent_id, store, settings, radicale):
    from bot.calendars.base import EventRequest

    cal = provider(store, settings)
    agent = AgentRef(agent_id, AGENT, "Ana")
    req = EventRequest("c3" * 16, agent, utc(2026, 12, 2, 10), utc(2026, 12, 2, 11), "M", "B", "v@example.com", "V", True)
    first, second = cal.create_event(req), cal.create_event(req)
    assert first == second and first.conference_url == f"{settings.public_url}/meet/{'c3' * 16}"
    [obj] = dav_cal(radicale).events()
    assert ICalendar.from_ical(obj.data).walk("VEVENT")[0]["UID"] == f"{'c3' * 16}@dav.example"


# ---- busy time, as calendars hold it ----------------------------------------------------------------
def test_recurring_series_with_a_moved_and_a_cancelled_occurrence(agent_id, store, settings, radicale):
    put(radicale, """
        BEGIN:VEVENT
        UID:standup
        DTSTAMP:20241101T000000Z
        DTSTART;TZID=Europe/Paris:20241202T093000
        DTEND;TZID=Europe/Paris:20241202T100000
        RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR
        SUMMARY:Stand-up (began two years ago)
        END:VEVENT
        BEGIN:VEVENT
        UID:standup
        DTSTAMP:20241101T000000Z
        RECURRENCE-ID;TZID=Europe/Paris:20261208T093000
        DTSTART;TZID=Europe/Paris:20261208T150000
        DTEND;TZID=Europe/Paris:20261208T153000
        SUMMARY:Stand-up moved to the afternoon
        END:VEVENT
        BEGIN:VEVENT
        UID:standup
        DTSTAMP:20241101T000000Z
        RECURRENCE-ID;TZID=Europe/Paris:20261209T093000
        DTSTART;TZID=Europe/Paris:20261209T093000
        DTEND;TZID=Europe/Paris:20261209T100000
        STATUS:CANCELLED
        SUMMARY:No stand-up today
        END:VEVENT
    """)
    got = busy_of(provider(store, settings), agent_id, paris(2026, 12, 7), paris(2026, 12, 11))
    assert got == [
        (paris(2026, 12, 7, 9, 30), paris(2026, 12, 7, 10)),  # Monday: the series, two years on
        (paris(2026, 12, 8, 15), paris(2026, 12, 8, 15, 30)),  # Tuesday: moved, not at 9:30
        (paris(2026, 12, 10, 9, 30), paris(2026, 12, 10, 10)),  # Wednesday cancelled; Thursday as usual
    ]


def test_exdate_removes_an_occurrence(agent_id, store, settings, radicale):
    put(radicale, """
        BEGIN:VEVENT
        UID:weekly
        DTSTAMP:20260101T000000Z
        DTSTART:20261201T130000Z
        DTEND:20261201T140000Z
        RRULE:FREQ=DAILY;COUNT=5
        EXDATE:20261202T130000Z
        END:VEVENT
    """)
    got = busy_of(provider(store, settings), agent_id, utc(2026, 12, 1), utc(2026, 12, 4))
    assert [s for s, _ in got] == [utc(2026, 12, 1, 13), utc(2026, 12, 3, 13)]


def test_transparent_cancelled_declined_are_free_and_tentative_is_busy(agent_id, store, settings, radicale):
    for uid, extra in [
        ("transp", "TRANSP:TRANSPARENT"),
        ("cancelled", "STATUS:CANCELLED"),
        ("declined", f"ATTENDEE;PARTSTAT=DECLINED:mailto:{AGENT}\nORGANIZER:mailto:boss@dav.example"),
        ("tentative", "STATUS:TENTATIVE"),
    ]:
        hour = {"transp": 9, "cancelled": 10, "declined": 11, "tentative": 12}[uid]
        put(radicale, f"""
            BEGIN:VEVENT
            UID:{uid}
            DTSTAMP:20260101T000000Z
            DTSTART:20261202T{hour:02d}0000Z
            DTEND:20261202T{hour:02d}3000Z
            {extra}
            END:VEVENT
        """)
    got = busy_of(provider(store, settings), agent_id, utc(2026, 12, 2), utc(2026, 12, 3))
    assert got == [(utc(2026, 12, 2, 12), utc(2026, 12, 2, 12, 30))]


def test_all_day_and_floating_events_are_read_in_the_agents_zone(agent_id, store, settings, radicale):
    put(radicale, """
        BEGIN:VEVENT
        UID:offsite
        DTSTAMP:20260101T000000Z
        DTSTART;VALUE=DATE:20261203
        DTEND;VALUE=DATE:20261204
        SUMMARY:Offsite (all day)
        END:VEVENT
    """)
    put(radicale, """
        BEGIN:VEVENT
        UID:dentist
        DTSTAMP:20260101T000000Z
        DTSTART:20261204T090000
        DTEND:20261204T100000
        SUMMARY:Dentist (floating)
        END:VEVENT
    """)
    got = busy_of(provider(store, settings), agent_id, utc(2026, 12, 1), utc(2026, 12, 7))
    assert got == [
        (paris(2026, 12, 3), paris(2026, 12, 4)),  # midnight to midnight in Paris, not in UTC
        (paris(2026, 12, 4, 9), paris(2026, 12, 4, 10)),  # 9:00 on the agent's wall clock
    ]


def test_an_event_in_another_zone_keeps_its_instant(agent_id, store, settings, radicale):
    put(radicale, """
        BEGIN:VTIMEZONE
        TZID:America/New_York
        BEGIN:STANDARD
        DTSTART:19701101T020000
        RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
        TZOFFSETFROM:-0400
        TZOFFSETTO:-0500
        END:STANDARD
        BEGIN:DAYLIGHT
        DTSTART:19700308T020000
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
        TZOFFSETFROM:-0500
        TZOFFSETTO:-0400
        END:DAYLIGHT
        END:VTIMEZONE
        BEGIN:VEVENT
        UID:nyc
        DTSTAMP:20260101T000000Z
        DTSTART;TZID=America/New_York:20261202T090000
        DTEND;TZID=America/New_York:20261202T100000
        END:VEVENT
    """)
    got = busy_of(provider(store, settings), agent_id, utc(2026, 12, 2), utc(2026, 12, 3))
    assert got == [(utc(2026, 12, 2, 14), utc(2026, 12, 2, 15))]  # 9:00 in New York is 15:00 in Paris


def test_only_the_calendars_chosen_as_busy_count(agent_id, store, settings, radicale):
    put(radicale, """
        BEGIN:VEVENT
        UID:gym
        DTSTAMP:20260101T000000Z
        DTSTART:20261202T120000Z
        DTEND:20261202T130000Z
        END:VEVENT
    """, cal_id="private")
    window = (utc(2026, 12, 2), utc(2026, 12, 3))
    assert busy_of(provider(store, settings), agent_id, *window) == [(utc(2026, 12, 2, 12), utc(2026, 12, 2, 13))]
    from bot.calendars.connect import choose_caldav

    work = f"{radicale.url}{USER}/work/"
    choose_caldav(store, vault(settings), cfg(settings), agent_id, work, [work])
    assert busy_of(provider(store, settings), agent_id, *window) == []


def test_a_broken_object_does_not_hide_the_rest(agent_id, store, settings, radicale):
    from bot.calendars.dav import busy_intervals

    good = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20261202T100000Z\r\nDTEND:20261202T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    got = busy_intervals(["not a calendar", good], utc(2026, 12, 2), utc(2026, 12, 3), PARIS, set())
    assert [(i.start, i.end) for i in got] == [(utc(2026, 12, 2, 10), utc(2026, 12, 2, 11))]


# ---- booking through the chat's service ----------------------------------------------------------------
VISITOR = Visitor(email="vic@example.com", first_name="Vic", company_name="Initech", timezone="Europe/Paris")


def service_for(store, settings, clock, **kw):
    return BookingService(
        store,
        {"local": LocalCalendar(store, settings.public_url), "caldav": provider(store, settings, **kw)},
        FileOutbox(settings.outbox_dir),
        clock=clock,
    )


def _hours(store, agent_id):
    with store.session() as s:
        return sorted((h.weekday, h.start_minute, h.end_minute) for h in s.get(Agent, agent_id).hours)


def test_booking_puts_the_event_on_the_calendar_and_mails_our_invitation(agent_id, store, settings, clock, radicale):
    assert _hours(store, agent_id)[0] == (0, 540, 1020)
    put(radicale, """
        BEGIN:VEVENT
        UID:busy
        DTSTAMP:20260101T000000Z
        DTSTART;TZID=Europe/Paris:20261201T130000
        DTEND;TZID=Europe/Paris:20261201T150000
        END:VEVENT
    """)
    svc = service_for(store, settings, clock)
    page = svc.offer_slots("c", "sales", count=2, spread=False)
    assert [s.start for s in page.slots] == [paris(2026, 12, 1, 15), paris(2026, 12, 1, 15, 30)]  # after 13-15
    result = svc.book("c", page.slots[0].id, VISITOR)
    assert result.conference_url == f"{settings.public_url}/meet/{result.booking_id}"
    events = [ICalendar.from_ical(o.data).walk("VEVENT")[0] for o in dav_cal(radicale).events()]
    [ours] = [e for e in events if str(e["UID"]).startswith(result.booking_id)]
    assert ours.decoded("DTSTART") == paris(2026, 12, 1, 15)
    [eml] = mails_to(settings.outbox_dir, VISITOR.email)
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    [ics] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    sent = ICalendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert sent["UID"] == ours["UID"]  # the visitor's invitation and the agent's event are one meeting
    # the booked time is busy now, for the next visitor
    assert paris(2026, 12, 1, 15) not in [s.start for s in svc.offer_slots("c2", "sales", count=4, spread=False).slots]
    # a move rewrites the same event with a higher SEQUENCE; a cancel removes it
    page, _ = svc.offer_reschedule("c", result.booking_id, count=4, spread=False)
    moved = svc.reschedule("c", page.slots[-1].id)
    [obj] = [o for o in dav_cal(radicale).events() if result.booking_id in str(o.url)]
    ev = ICalendar.from_ical(obj.data).walk("VEVENT")[0]
    assert ev.decoded("DTSTART") == moved.start and int(ev["SEQUENCE"]) == 1 and ev["UID"] == ours["UID"]
    svc.cancel(result.booking_id)
    assert [o for o in dav_cal(radicale).events() if result.booking_id in str(o.url)] == []
    svc.close()


def test_the_meeting_link_is_the_one_the_agents_invitation_names(agent_id, store, settings, clock, radicale):
    with store.session() as s:
        agent = s.get(Agent, agent_id)
        agent.invitation_body = "Hi {{person.first_name}}, join me at https://zoom.example/j/123 when it is time."
    svc = service_for(store, settings, clock)
    result = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, VISITOR)
    assert result.conference_url == "https://zoom.example/j/123"
    svc.close()


def test_a_link_in_the_visitors_own_words_is_never_the_meeting_link(agent_id, store, settings, clock, radicale):
    with store.session() as s:
        s.get(Agent, agent_id).invitation_body = "Meeting with {{company.name}}."
    svc = service_for(store, settings, clock)
    hostile = Visitor(email="vic@example.com", first_name="Vic", company_name="https://evil.example/x", timezone="UTC")
    result = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, hostile)
    assert result.conference_url == f"{settings.public_url}/meet/{result.booking_id}"
    svc.close()


# ---- faults ---------------------------------------------------------------------------------------
def test_a_revoked_app_password_fails_closed_and_tells_the_agent(agent_id, store, settings, clock, radicale):
    outbox = FileOutbox(settings.var_dir / "agent-mail")
    svc = BookingService(store, {"caldav": provider(store, settings, outbox=outbox)}, FileOutbox(settings.outbox_dir),
                         clock=clock)  # fmt: skip
    radicale.set_password(USER, "a-new-one")
    assert svc.offer_slots("c", "sales").slots == []  # never offered as free when unreadable
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        assert conn.status == "needs_reconnect" and "401" in conn.last_error
    [notice] = (settings.var_dir / "agent-mail").glob("*.eml")
    assert "/portal/connect/caldav?invite=" in notice.read_text() and "app password" in notice.read_text()
    with pytest.raises(ProviderAuthError):
        provider(store, settings).create_event(_request(agent_id))
    svc.close()


def _request(agent_id, key="d4" * 16):
    from bot.calendars.base import EventRequest

    return EventRequest(key, AgentRef(agent_id, AGENT, "Ana"), utc(2026, 12, 2, 10), utc(2026, 12, 2, 11),
                        "M", "B", "v@example.com", "V", True)  # fmt: skip


def test_503_is_retried_honouring_retry_after(agent_id, store, settings, radicale):
    sleeps: list[float] = []
    cal = provider(store, settings, sleeps=sleeps, budget=5.0)
    radicale.faults.status, radicale.faults.retry_after, radicale.faults.methods = 503, "1", {"PUT"}
    seen = len(radicale.faults.seen)

    def recover(seconds):
        sleeps.append(seconds)
        radicale.faults.clear()  # the server is back after the first wait

    cal.sleep = recover
    created = cal.create_event(_request(agent_id))
    assert sleeps == [1.0] and created.provider_event_id.endswith(".ics")
    assert len([r for r in radicale.faults.seen[seen:] if r.startswith("PUT")]) >= 2
    assert len(dav_cal(radicale).events()) == 1


def test_an_outage_makes_no_half_booking_and_shows_in_the_health(agent_id, store, settings, clock, radicale):
    sleeps: list[float] = []
    svc = service_for(store, settings, clock, sleeps=sleeps, budget=3.0)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    radicale.faults.status = 503  # every request, no Retry-After: backoff until the budget is spent
    with pytest.raises(ProviderUnavailable):
        svc.book("c", offer.id, VISITOR)
    assert sleeps and sum(sleeps) <= 3.0
    with store.session() as s:
        assert [b.status for b in s.execute(select(Booking)).scalars()] == ["failed"]
    radicale.faults.clear()
    assert dav_cal(radicale).events() == []  # nothing half-made on the calendar
    assert not mails_to(settings.outbox_dir, VISITOR.email)
    radicale.faults.status = 503
    cal = provider(store, settings)
    assert cal.busy([AgentRef(agent_id, AGENT, "Ana")], utc(2026, 12, 2), utc(2026, 12, 3)) == {}
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        assert conn.status == "connected" and conn.last_error_at is not None and "503" in conn.last_error
        assert conn.last_ok_at is None or conn.last_ok_at < conn.last_error_at
    radicale.faults.clear()
    cal.forget(agent_id)
    assert agent_id in cal.busy([AgentRef(agent_id, AGENT, "Ana")], utc(2026, 12, 2), utc(2026, 12, 3))
    with store.session() as s:
        conn = s.execute(select(CalendarConnection)).scalar_one()
        assert conn.last_ok_at > conn.last_error_at
    svc.close()


def test_a_server_that_hangs_times_out_within_the_budget(agent_id, store, settings, radicale):
    import time

    cal = provider(store, settings, timeout=0.5, budget=1.0)
    cal.sleep = time.sleep
    radicale.faults.delay, radicale.faults.methods = 2.0, {"REPORT"}
    started = time.monotonic()
    assert cal.busy([AgentRef(agent_id, AGENT, "Ana")], utc(2026, 12, 2), utc(2026, 12, 3)) == {}
    assert time.monotonic() - started < 4.0  # a visitor is waiting: a few timeouts, then give up
    radicale.faults.clear()


def test_the_meeting_room_opens_for_a_caldav_booking(agent_id, store, settings, clock, radicale):
    from bot.web import create_app

    svc = service_for(store, settings, clock)
    result = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, VISITOR)
    app = create_app(settings, store=store)
    _, room = app.test_client.get(f"/meet/{result.booking_id}")
    assert room.status == 200 and "cancelled" not in room.text
    _, unknown = app.test_client.get(f"/meet/{'0' * 32}")
    assert unknown.status == 404
    svc.cancel(result.booking_id)
    _, gone = app.test_client.get(f"/meet/{result.booking_id}")
    assert gone.status == 200 and "cancelled" in gone.text
    svc.close()


def test_the_caldav_client_leaves_requests_on_the_pinned_urllib3():
    """caldav 3.x with niquests would install urllib3-future, whose .pth hook replaces the urllib3
    that requests (and Rasa) import; the 3.6.0a1 pin has no niquests."""
    import importlib.metadata as md
    import re

    import urllib3

    from tests.helpers import ROOT

    pinned = re.search(r"^urllib3==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert urllib3.__version__ == pinned
    installed = {d.metadata["Name"].lower() for d in md.distributions()}
    assert "urllib3-future" not in installed and "niquests" not in installed
    assert caldav.__version__ == "3.6.0a1"


def test_an_address_urllib_cannot_parse_is_a_clear_error_not_a_crash():
    from bot.calendars.dav import check_url
    from bot.errors import ConnectError

    for bad in ("00000[", "https://[::1", "https://cal.example:99999/", "https://cal.example:port/"):
        with pytest.raises(ConnectError, match="not a server address"):
            check_url(bad)
    assert check_url("caldav.fastmail.com") == "https://caldav.fastmail.com"
