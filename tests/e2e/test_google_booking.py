"""A visitor books with a Google-connected agent (the fake Google), through the real processes."""

from __future__ import annotations

import json
import urllib.parse

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_agent_connects_by_invitation_then_a_visitor_gets_a_meet_link(stack, google):
    stack.cli("queue", "set", "gsales", "--name", "Google sales", "--timezone", "Europe/Rome", "--notice", "60")
    link = stack.cli(
        "agent", "invite", "gina@acme.example", "--queue", "gsales", "--name", "Gina", "--timezone", "Europe/Rome"
    ).splitlines()[0]
    invite = urllib.parse.urlsplit(link).query
    page = requests.get(f"{stack.web}/portal/connect/google?{invite}", timeout=10)
    assert page.status_code == 200 and "Google Meet link" in page.text
    start = requests.get(f"{stack.web}/oauth/google/start?{invite}", allow_redirects=False, timeout=10)
    consent = requests.get(start.headers["location"], allow_redirects=False, timeout=10)
    back = urllib.parse.urlsplit(consent.headers["location"])
    done = requests.get(f"{stack.web}{back.path}?{back.query}", timeout=30)
    assert done.status_code == 200 and "connected" in done.text, done.text

    meta = {
        "person": {"first_name": "Ola", "email": "ola@example.com"},
        "company": {"name": "Nordic"},
        "queue": "gsales",
        "timezone": "Europe/Oslo",
    }
    replies = stack.say("e2e-google", "I'd like to book a meeting", meta)
    offered = [b for r in replies for b in r.get("buttons", [])]
    assert offered, replies
    replies = stack.say("e2e-google", offered[0]["payload"], meta)
    text = " ".join(r.get("text", "") for r in replies)
    assert "You're booked! Gina" in text and "https://meet.google.com/" in text, replies
    [row] = [b for b in json.loads(stack.cli("bookings", "--json")) if b["visitor_email"] == "ola@example.com"]
    assert row["provider"] == "google" and row["conference_url"].startswith("https://meet.google.com/")
    [event] = [e for e in google.events["gina@acme.example"].values() if e["status"] == "confirmed"]
    assert event["attendees"][0]["email"] == "ola@example.com"
    assert event["start"]["dateTime"].replace("Z", "+00:00").startswith(row["start"].replace("Z", ""))
