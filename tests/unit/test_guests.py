"""Guests on a booking (issue 17): colleagues the visitor brings, at booking time or after.

On the local calendar we send each guest the invitation (ICS REQUEST) ourselves, once, and again
on a move (SEQUENCE + 1) and a cancel (ICS CANCEL); Google and Graph get the guests as attendees
and invite them themselves (tests/unit/test_guests_providers.py).
"""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.booking import Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import AlreadyCancelled, BookingInPast, GuestError, ProviderUnavailable
from bot.i18n.texts import say
from bot.messages.delivery import load_email
from bot.messages.webhooks import EVENTS, add_webhook
from bot.ops.runtime import vault
from bot.store.models import CalendarEvent, OutboxMessage, Queue
from tests.helpers import add_queue, mails_to

VISITOR = Visitor(email="dana@acme.example", first_name="Dana", company_name="Acme", timezone="Europe/Paris", locale="fr")
AGENT = "ada@agents.example"


def _eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _ics(msg: email.message.EmailMessage) -> str | None:
    found = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    return found[0].get_payload(decode=True).decode().replace("\r\n ", "") if found else None  # unfolded


def _icses(outbox: Path, address: str) -> list[str]:
    """The ICS of every e-mail to ``address`` in the file outbox, oldest first."""
    return [ics for p in mails_to(outbox, address) if (ics := _ics(_eml(p))) is not None]


def _outbox(store) -> dict[str, OutboxMessage]:
    with store.session() as s:
        return {r.key: r for r in s.execute(select(OutboxMessage)).scalars()}


def _book(service, visitor=VISITOR, conversation="c"):
    offer = service.offer_slots(conversation, "sales", count=1).slots[0]
    return service.book(conversation, offer.id, visitor)


def test_guests_at_booking_time_each_get_one_invitation_on_the_local_calendar(service, store, settings):
    add_queue(store)
    visitor = Visitor(**{**VISITOR.__dict__, "guests": ("Anna@Acme.example", " bob@acme.example ", "anna@acme.example")})
    booking = _book(service, visitor)
    got = service.get_booking(booking.booking_id)
    assert got["guests"] == ["anna@acme.example", "bob@acme.example"]  # cleaned, lower-cased, once each
    with store.session() as s:
        ev = s.execute(select(CalendarEvent)).scalar_one()
        assert ev.guests == ["anna@acme.example", "bob@acme.example"]
    for guest in ("anna@acme.example", "bob@acme.example"):
        [mail] = mails_to(settings.outbox_dir, guest)
        msg = _eml(mail)
        assert msg["To"] == guest and msg["Content-Language"] == "fr"
        ics = _ics(msg)
        assert "METHOD:REQUEST" in ics and "SEQUENCE:0" in ics and f"UID:{booking.booking_id}@" in ics
        assert f"mailto:{guest}" in ics and "mailto:dana@acme.example" in ics
        text = msg.get_body(("plain",)).get_content()
        assert "Dana" in text  # "Invité par : Dana"
        # the visitor's links (the service here has none) and booking code stay theirs
        assert "/booking/" not in text and say("email_code", "fr") not in text
    # The visitor's own invitation lists the guests as attendees; the agent's notice names them.
    [visitor_mail] = [p for p in mails_to(settings.outbox_dir, VISITOR.email) if "dana@acme.example" in _eml(p)["To"]]
    assert "mailto:anna@acme.example" in _ics(_eml(visitor_mail))
    [notice] = mails_to(settings.outbox_dir, AGENT)
    assert "Guests: anna@acme.example, bob@acme.example" in _eml(notice).get_content()


def test_booking_time_guests_are_checked_before_anything_is_held(service, store):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    with pytest.raises(GuestError) as err:
        service.book("c", offer.id, Visitor(**{**VISITOR.__dict__, "guests": ("not an address",)}))
    assert err.value.reason == "invalid"
    with store.session() as s:
        s.execute(update(Queue).values(max_guests=1))
    with pytest.raises(GuestError) as err:
        service.book("c", offer.id, Visitor(**{**VISITOR.__dict__, "guests": ("a@x.example", "b@x.example")}))
    assert err.value.reason == "too_many" and err.value.limit == 1
    assert service.list_bookings() == []
    # The visitor's and the agent's own addresses are simply left out: they are on the meeting already.
    with store.session() as s:
        s.execute(update(Queue).values(max_guests=10))
    visitor = Visitor(**{**VISITOR.__dict__, "guests": ("DANA@acme.example", AGENT.upper())})
    booking = service.book("c", offer.id, visitor)
    assert service.get_booking(booking.booking_id)["guests"] == []


def test_adding_guests_after_booking_invites_each_once_and_tells_the_agent(service, store, settings):
    add_queue(store)
    booking = _book(service)
    before = _outbox(store)
    got = service.add_guests(booking.booking_id, ["Anna@Acme.example"])
    assert got["guests"] == ["anna@acme.example"] and got["id"] == booking.booking_id
    with store.session() as s:
        assert s.execute(select(CalendarEvent.guests)).scalar_one() == ["anna@acme.example"]
    assert service.get_booking(booking.booking_id)["sequence"] == 0  # the visitor's links keep working
    new = {k for k in _outbox(store) if k not in before}
    assert new == {
        f"guest:{booking.booking_id}:anna@acme.example:0",
        f"agent:{booking.booking_id}:guests_added:1",
    }
    [ics] = _icses(settings.outbox_dir, "anna@acme.example")
    assert "METHOD:REQUEST" in ics and "SEQUENCE:0" in ics
    notice = load_email(_outbox(store)[f"agent:{booking.booking_id}:guests_added:1"])
    assert "Guests added" in notice["Subject"]
    assert "Added: anna@acme.example" in notice.get_content() and "Guests: anna@acme.example" in notice.get_content()
    # The same again (a retry, a double click): nothing changes, nothing is sent.
    count = len(_outbox(store))
    assert service.add_guests(booking.booking_id, ["anna@acme.example", " ANNA@acme.example "]) == got
    assert service.add_guests(booking.booking_id, []) == got
    assert len(_outbox(store)) == count
    assert len(mails_to(settings.outbox_dir, "anna@acme.example")) == 1
    # Another guest: only that one is invited, and the agent hears of it.
    got = service.add_guests(booking.booking_id, ["anna@acme.example", "bob@acme.example"])
    assert got["guests"] == ["anna@acme.example", "bob@acme.example"]
    assert len(mails_to(settings.outbox_dir, "anna@acme.example")) == 1
    assert len(mails_to(settings.outbox_dir, "bob@acme.example")) == 1
    assert f"agent:{booking.booking_id}:guests_added:2" in _outbox(store)


def test_guests_hear_of_a_move_and_a_cancel_once_each(service, store, settings):
    add_queue(store)
    booking = _book(service, Visitor(**{**VISITOR.__dict__, "guests": ("anna@acme.example",)}))
    service.add_guests(booking.booking_id, ["bob@acme.example"])
    page, _same = service.offer_reschedule("c", booking.booking_id, count=2)
    service.reschedule("c", page.slots[0].id)
    service.reschedule("c", page.slots[0].id)  # a double click moves nothing and sends nothing
    for guest in ("anna@acme.example", "bob@acme.example"):
        icses = _icses(settings.outbox_dir, guest)
        assert len(icses) == 2
        moved = [i for i in icses if "SEQUENCE:1" in i]
        assert len(moved) == 1 and "METHOD:REQUEST" in moved[0]
        assert page.slots[0].start.strftime("DTSTART:%Y%m%dT%H%M%SZ") in moved[0]
    service.cancel(booking.booking_id)
    for guest in ("anna@acme.example", "bob@acme.example"):
        icses = _icses(settings.outbox_dir, guest)
        cancels = [i for i in icses if "METHOD:CANCEL" in i]
        assert len(icses) == 3 and len(cancels) == 1 and "SEQUENCE:2" in cancels[0]
    assert service.get_booking(booking.booking_id)["guests"] == ["anna@acme.example", "bob@acme.example"]


@pytest.mark.parametrize(
    ("emails", "reason"),
    [
        (["no address here"], "invalid"),
        (["anna@acme.example", "bob@"], "invalid"),
        ([AGENT], "agent"),
        (["Ada@Agents.example"], "agent"),
        (["DANA@acme.example"], "agent"),
        ([f"guest{i}@acme.example" for i in range(11)], "too_many"),
    ],
)
def test_refused_guests_change_nothing(service, store, settings, emails, reason):
    add_queue(store)
    booking = _book(service)
    before = len(_outbox(store))
    with pytest.raises(GuestError) as err:
        service.add_guests(booking.booking_id, emails)
    assert err.value.reason == reason
    assert service.get_booking(booking.booking_id)["guests"] == []
    assert len(_outbox(store)) == before
    with store.session() as s:
        assert s.execute(select(CalendarEvent.guests)).scalar_one() == []


def test_the_queue_limit_counts_the_guests_already_there(service, store):
    add_queue(store)
    with store.session() as s:
        s.execute(update(Queue).values(max_guests=2))
    booking = _book(service, Visitor(**{**VISITOR.__dict__, "guests": ("a@x.example",)}))
    service.add_guests(booking.booking_id, ["b@x.example"])
    with pytest.raises(GuestError) as err:
        service.add_guests(booking.booking_id, ["c@x.example"])
    assert err.value.reason == "too_many" and err.value.limit == 2
    assert service.add_guests(booking.booking_id, ["a@x.example"])["guests"] == ["a@x.example", "b@x.example"]


def test_a_provider_outage_on_add_changes_nothing(service, store, settings):
    add_queue(store)
    booking = _book(service)

    class Down(LocalCalendar):
        def update_attendee(self, *args, **kwargs):
            raise ProviderUnavailable("calendar down", provider="local")

    service.providers["local"] = Down(store, settings.public_url)
    before = len(_outbox(store))
    with pytest.raises(ProviderUnavailable):
        service.add_guests(booking.booking_id, ["anna@acme.example"])
    assert service.get_booking(booking.booking_id)["guests"] == []
    assert len(_outbox(store)) == before and not mails_to(settings.outbox_dir, "anna@acme.example")
    # Back up: the same call goes through, once.
    service.providers["local"] = LocalCalendar(store, settings.public_url)
    assert service.add_guests(booking.booking_id, ["anna@acme.example"])["guests"] == ["anna@acme.example"]
    assert len(mails_to(settings.outbox_dir, "anna@acme.example")) == 1


def test_cancelled_and_past_bookings_take_no_guests(service, store, clock):
    add_queue(store)
    booking = _book(service)
    later = _book(service, conversation="c2")
    service.cancel(booking.booking_id)
    with pytest.raises(AlreadyCancelled):
        service.add_guests(booking.booking_id, ["anna@acme.example"])
    clock.now = later.start  # the meeting has started
    with pytest.raises(BookingInPast):
        service.add_guests(later.booking_id, ["anna@acme.example"])


def test_a_correction_keeps_the_guests_on_the_event(service, store):
    add_queue(store)
    booking = _book(service, Visitor(**{**VISITOR.__dict__, "guests": ("anna@acme.example",)}))
    service.correct_visitor(booking.booking_id, email="dana.r@acme.example")
    with store.session() as s:
        ev = s.execute(select(CalendarEvent)).scalar_one()
        assert (ev.attendee_email, ev.guests) == ("dana.r@acme.example", ["anna@acme.example"])


def test_bookings_json_and_webhooks_list_the_guests(service, store, settings, capsys, monkeypatch):
    from bot.__main__ import main

    assert "booking.guests_added" in EVENTS
    add_queue(store)
    with store.session() as s:
        add_webhook(s, vault(settings), "http://127.0.0.1:9/hooks")
    booking = _book(service, Visitor(**{**VISITOR.__dict__, "guests": ("anna@acme.example",)}))
    service.add_guests(booking.booking_id, ["bob@acme.example"])
    with store.session() as s:
        hooks = {
            json.loads(r.payload)["event"]: json.loads(r.payload)["body"]["data"]
            for r in s.execute(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).scalars()
        }
    assert hooks["booking.created"]["guests"] == ["anna@acme.example"]
    assert hooks["booking.guests_added"]["guests"] == ["anna@acme.example", "bob@acme.example"]
    assert hooks["booking.guests_added"]["added"] == ["bob@acme.example"]
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["bookings", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["guests"] == ["anna@acme.example", "bob@acme.example"]


def test_rows_from_before_migration_0009_read_as_having_no_guests(tmp_path):
    from alembic import command
    from alembic.config import Config

    from bot.store.db import MIGRATIONS, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.exec_driver_sql("INSERT INTO queues (slug, name, timezone, meeting_minutes, interval_minutes, "
                             "min_notice_minutes, window_days) VALUES ('q', 'Q', 'UTC', 30, 30, 240, 14)")
        conn.exec_driver_sql("INSERT INTO agents (email, name, timezone, provider, active, invitation_subject, "
                             "invitation_body, include_conference, created_at) VALUES ('a@x.example', 'A', 'UTC', 'local', 1, "
                             "'s', 'b', 1, '2026-11-30 10:00:00')")
        conn.exec_driver_sql("INSERT INTO bookings (id, status, queue_id, agent_id, conversation_id, visitor_email, "
                             "person, company, start, \"end\", timezone, locale, provider, created_at, updated_at) "
                             "VALUES ('b1', 'confirmed', 1, 1, 'c', 'v@x.example', '{}', '{}', '2026-12-01 10:00:00', "
                             "'2026-12-01 10:30:00', 'UTC', 'en', 'local', '2026-11-30 10:00:00', "
                             "'2026-11-30 10:00:00')")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT guests FROM bookings").scalar_one() == "[]"
        assert conn.exec_driver_sql("SELECT max_guests FROM queues").scalar_one() == 10
    engine.dispose()
