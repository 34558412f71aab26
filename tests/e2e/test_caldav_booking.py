"""A visitor books with a CalDAV-connected agent (a real Radicale), through the real processes."""

from __future__ import annotations

import email
import email.policy
import json
import time
import urllib.parse

import caldav
import pytest
import requests
from icalendar import Calendar

from bot.settings import load_settings
from tests.helpers import mails_to
from tests.servers.radicale import Radicale

pytestmark = pytest.mark.e2e

USER, APP_PASSWORD = "cleo", "cleo-app-pass-4k"


@pytest.fixture
def radicale(tmp_path):
    server = Radicale(tmp_path / "radicale", {USER: APP_PASSWORD})
    server.make_calendars(USER, {"work": "Work"})
    yield server
    server.close()


def _wait(probe, seconds=15.0):
    """What ``probe`` returns once it is truthy (mail and calendar writes may trail the reply)."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_agent_connects_caldav_then_a_visitor_books_and_gets_our_invitation(stack, radicale):
    stack.cli("queue", "set", "dsales", "--name", "CalDAV sales", "--timezone", "Europe/Paris", "--notice", "60")
    [link] = [
        line for line in stack.cli(
            "agent", "invite", "cleo@dav.example", "--queue", "dsales", "--name", "Cleo",
            "--timezone", "Europe/Paris", "--provider", "caldav",
        ).splitlines() if "/portal/connect/caldav?" in line
    ]  # fmt: skip
    invite = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["invite"][0]
    form = requests.get(f"{stack.web}/portal/connect/caldav?invite={urllib.parse.quote(invite)}", timeout=10)
    assert form.status_code == 200 and "App password" in form.text
    done = requests.post(
        f"{stack.web}/portal/connect/caldav",
        data={"invite": invite, "url": radicale.url, "username": USER, "password": APP_PASSWORD},
        timeout=30,
    )
    assert done.status_code == 200 and "connected" in done.text, done.text[:500]

    meta = {"person": {"first_name": "Lou", "email": "lou@example.com"}, "company": {"name": "Rivoli"}, "queue": "dsales"}
    replies = stack.say("e2e-caldav", "can I book a call?", meta)
    offered = [b for r in replies for b in r.get("buttons", [])]
    assert offered, replies
    replies = stack.say("e2e-caldav", offered[0]["payload"], meta)
    text = " ".join(r.get("text", "") for r in replies)
    assert "You're booked! Cleo" in text and "/meet/" in text, replies
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "lou@example.com"]
    assert row["provider"] == "caldav" and row["status"] == "confirmed"
    client = caldav.DAVClient(url=radicale.url, username=USER, password=APP_PASSWORD, enable_rfc6764=False)
    [obj] = client.calendar(url=f"{radicale.url}{USER}/work/").events()
    event = Calendar.from_ical(obj.data).walk("VEVENT")[0]
    assert str(event["UID"]).startswith(row["id"]) and "lou@example.com" in str(event["ATTENDEE"])
    outbox = load_settings(stack.env, dotenv=False).outbox_dir
    [eml] = _wait(lambda: mails_to(outbox, "lou@example.com"))
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    [ics] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]["UID"] == event["UID"]
    assert stack.release(row["id"])  # through the cancel link, as the conversation suite does
    assert _wait(lambda: not client.calendar(url=f"{radicale.url}{USER}/work/").events())
