"""Guests on Outlook / Microsoft 365: required attendees of the Graph event (create, and a PATCH of
the whole list when added later), invited by Exchange itself — the fake Graph records what it
receives and whom it would send a meeting request. Real msal + httpx against tests/fakes/microsoft.py."""

from __future__ import annotations

import pytest
import test_microsoft as m  # its fixtures and helpers (tests/unit is on sys.path: no package)

from bot.booking import Visitor
from bot.errors import ProviderUnavailable
from tests.helpers import mails_to

AGENT, service_for = m.AGENT, m.service_for
# the fixtures, by name
app, mconnected, ms, msettings = m.app, m.mconnected, m.ms, m.msettings

VISITOR = Visitor(email="vic@example.com", first_name="Vic", company_name="Initech", timezone="Europe/Dublin")


def _event(ms, booking_id: str) -> dict:
    [event] = [e for e in ms.events[AGENT].values() if e.get("transactionId") == booking_id]
    return event


def _attendees(event: dict) -> list[tuple[str, str]]:
    return [(a["emailAddress"]["address"], a["type"]) for a in event["attendees"]]


def _invited(ms, email: str) -> list[dict]:
    return [n for n in ms.notified if n["email"] == email and n["kind"] == "invitation"]


def test_guests_are_required_attendees_graph_invites_each_once(mconnected, store, msettings, clock, ms):
    svc = service_for(store, msettings, clock)
    visitor = Visitor(**{**VISITOR.__dict__, "guests": ("anna@initech.example",)})
    booking = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, visitor)
    [create] = [r for r in ms.requests if r["method"] == "POST" and r["path"].endswith("/me/events")]
    assert [a["type"] for a in create["body"]["attendees"]] == ["required", "required"]
    assert _attendees(_event(ms, booking.booking_id)) == [
        ("vic@example.com", "required"), ("anna@initech.example", "required"),
    ]  # fmt: skip
    assert len(_invited(ms, "anna@initech.example")) == 1
    assert not mails_to(msettings.outbox_dir, "anna@initech.example")  # Exchange invites; we send nothing

    svc.add_guests(booking.booking_id, ["Bob@Initech.example"])
    [patch] = [r for r in ms.requests if r["method"] == "PATCH"]
    assert [a["emailAddress"]["address"] for a in patch["body"]["attendees"]] == [
        "vic@example.com", "anna@initech.example", "bob@initech.example",
    ]  # fmt: skip
    assert len(_invited(ms, "bob@initech.example")) == 1 and len(_invited(ms, "anna@initech.example")) == 1
    calls = len(ms.requests)
    svc.add_guests(booking.booking_id, ["bob@initech.example"])  # a retry: nothing to do, nothing sent
    assert len(ms.requests) == calls

    page, _ = svc.offer_reschedule("c", booking.booking_id, count=2)
    svc.reschedule("c", page.slots[0].id)
    assert len(_event(ms, booking.booking_id)["attendees"]) == 3
    svc.cancel(booking.booking_id)
    assert {n["email"] for n in ms.notified if n["kind"] == "cancellation"} == {
        "vic@example.com", "anna@initech.example", "bob@initech.example",
    }  # fmt: skip
    svc.close()


def test_a_graph_outage_on_add_changes_nothing(mconnected, store, msettings, clock, ms):
    svc = service_for(store, msettings, clock)
    booking = svc.book("c", svc.offer_slots("c", "sales", count=1).slots[0].id, VISITOR)
    ms.fail_next("patch", 503, times=50)
    with pytest.raises(ProviderUnavailable):
        svc.add_guests(booking.booking_id, ["anna@initech.example"])
    assert svc.get_booking(booking.booking_id)["guests"] == []
    assert _attendees(_event(ms, booking.booking_id)) == [("vic@example.com", "required")]
    ms.recover("patch")
    assert svc.add_guests(booking.booking_id, ["anna@initech.example"])["guests"] == ["anna@initech.example"]
    assert len(_invited(ms, "anna@initech.example")) == 1
    svc.close()
