"""Guests on Google Calendar: attendees of the event (insert, and a patch of the whole list with
sendUpdates=all when added later), invited by Google itself — the fake Google records what it
receives and whom it would e-mail. Real google-api-python-client against tests/fakes/google.py."""

from __future__ import annotations

import pytest
import test_google as g  # its fixtures and helpers (tests/unit is on sys.path: no package)

from bot.booking import Visitor
from bot.calendars.google import event_id
from bot.errors import GuestError, ProviderUnavailable
from tests.helpers import mails_to

AGENT, service_for = g.AGENT, g.service_for
# the fixtures, by name
app, connected, google, gsettings = g.app, g.connected, g.google, g.gsettings

VISITOR = Visitor(email="vic@example.com", first_name="Vic", company_name="Initech", timezone="Europe/Paris")


def _invited(google, email: str) -> list[dict]:
    return [n for n in google.notified if n["email"] == email and n["kind"] == "invitation"]


def test_guests_are_attendees_google_invites_each_once(connected, store, gsettings, clock, google):
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir)
    visitor = Visitor(**{**VISITOR.__dict__, "guests": ("Anna@Initech.example",)})
    booking = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, visitor)
    [insert] = [r for r in google.requests if r["method"] == "POST" and r["path"].endswith("/events")]
    assert [a["email"] for a in insert["body"]["attendees"]] == ["vic@example.com", "anna@initech.example"]
    assert insert["query"]["sendUpdates"] == "all"
    assert len(_invited(google, "anna@initech.example")) == 1
    assert not mails_to(gsettings.outbox_dir, "anna@initech.example")  # Google invites; we send nothing

    # Added after booking: one patch of the whole list, sendUpdates=all; Google invites the new one.
    got = svc.add_guests(booking.booking_id, ["bob@initech.example"])
    assert got["guests"] == ["anna@initech.example", "bob@initech.example"]
    [patch] = [r for r in google.requests if r["method"] == "PATCH"]
    assert patch["query"]["sendUpdates"] == "all"
    assert [a["email"] for a in patch["body"]["attendees"]] == [
        "vic@example.com", "anna@initech.example", "bob@initech.example",
    ]  # fmt: skip
    ev = google.events[AGENT][event_id(booking.booking_id)]
    assert [a["email"] for a in ev["attendees"]] == ["vic@example.com", "anna@initech.example", "bob@initech.example"]
    assert len(_invited(google, "bob@initech.example")) == 1 and len(_invited(google, "anna@initech.example")) == 1
    # A retry adds nobody new: no call to Google, nobody invited twice.
    calls = len(google.requests)
    svc.add_guests(booking.booking_id, ["BOB@initech.example"])
    assert len(google.requests) == calls and len(_invited(google, "bob@initech.example")) == 1
    assert not mails_to(gsettings.outbox_dir, "bob@initech.example")

    # A move keeps them (patch of the times only: Google tells them); a cancel reaches them.
    page, _ = svc.offer_reschedule("c", booking.booking_id, count=2)
    svc.reschedule("c", page.slots[0].id)
    ev = google.events[AGENT][event_id(booking.booking_id)]
    assert len(ev["attendees"]) == 3
    assert {n["email"] for n in google.notified if n["kind"] == "update"} >= {"anna@initech.example", "bob@initech.example"}
    svc.correct_visitor(booking.booking_id, first_name="Victor")
    ev = google.events[AGENT][event_id(booking.booking_id)]
    assert [a["email"] for a in ev["attendees"]] == ["vic@example.com", "anna@initech.example", "bob@initech.example"]
    assert len(_invited(google, "anna@initech.example")) == 1  # the correction re-invited no one
    svc.cancel(booking.booking_id)
    assert {n["email"] for n in google.notified if n["kind"] == "cancellation"} == {
        "vic@example.com", "anna@initech.example", "bob@initech.example",
    }  # fmt: skip
    svc.close()


def test_a_google_outage_on_add_changes_nothing(connected, store, gsettings, clock, google):
    svc = service_for(store, gsettings, clock, gsettings.outbox_dir)
    booking = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, VISITOR)
    google.fail_next("patch", 503, times=50)
    with pytest.raises(ProviderUnavailable):
        svc.add_guests(booking.booking_id, ["anna@initech.example"])
    assert svc.get_booking(booking.booking_id)["guests"] == []
    assert [a["email"] for a in google.events[AGENT][event_id(booking.booking_id)]["attendees"]] == ["vic@example.com"]
    google.recover("patch")
    assert svc.add_guests(booking.booking_id, ["anna@initech.example"])["guests"] == ["anna@initech.example"]
    assert len(_invited(google, "anna@initech.example")) == 1
    # The agent's own address is refused before Google is asked.
    calls = len(google.requests)
    with pytest.raises(GuestError) as err:
        svc.add_guests(booking.booking_id, [AGENT])
    assert err.value.reason == "agent" and len(google.requests) == calls
    svc.close()
