"""Guests where people see and set them: the reschedule page's "bring a colleague" form (in the
visitor's language, behind the same signed token as the page's other form), the portal's
bookings tab, the queue's limit in the CLI and the portal's queue settings."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update
from test_portal import PASSWORD, Browser

from bot.__main__ import main
from bot.admin import accounts
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import ProviderUnavailable
from bot.i18n.texts import say
from bot.messages.delivery import load_email
from bot.messages.links import manage_token
from bot.messages.outbox import FileOutbox
from bot.ops.runtime import vault
from bot.store.models import Booking, OutboxMessage, Queue
from bot.web import create_app
from tests.helpers import add_queue

VISITOR = Visitor(email="dana@acme.example", first_name="Dana", company_name="Acme", timezone="Europe/Paris", locale="fr")


@pytest.fixture
def page(store, settings):
    """The reschedule page of a booking made in French, with its signed token."""
    add_queue(store)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    booking = svc.book("c", offer.id, VISITOR)
    svc.close()
    token = manage_token(vault(settings), booking.booking_id, 0, booking.end, datetime.now(timezone.utc), "reschedule",
                         booking.start)
    app = create_app(settings, store)
    path = f"/booking/{booking.booking_id}/reschedule"

    def post(data):  # as the page's form sends it
        _req, resp = app.test_client.post(path, data={"do": "guest", **data})
        return resp.status, resp.text

    return {"app": app, "path": path, "token": token, "id": booking.booking_id, "post": post}


def _guests(store, booking_id):
    with store.session() as s:
        return s.get(Booking, booking_id).guests


def _guest_mails(store, guest):
    with store.session() as s:
        return [load_email(r) for r in s.execute(select(OutboxMessage).where(OutboxMessage.key.like(f"guest:%:{guest}:%")))
                .scalars()]


def test_the_page_invites_a_colleague_once(page, store):
    _req, resp = page["app"].test_client.get(f"{page['path']}?t={page['token']}")
    assert resp.status == 200 and "name=guest" in resp.text and say("page_guest_legend", "fr") in resp.text
    assert resp.text.count(f"name=t value='{page['token']}'") == 2  # both forms carry the signed token
    status, text = page["post"]({"t": page["token"], "guest": "Anna@Acme.example"})
    assert status == 200 and html.escape(say("page_guest_added", "fr", email="anna@acme.example")) in text
    assert "<li>anna@acme.example</li>" in text and "name=offer" in text  # the page goes on, same link
    assert _guests(store, page["id"]) == ["anna@acme.example"]
    [mail] = _guest_mails(store, "anna@acme.example")
    assert mail["To"] == "anna@acme.example" and "/booking/" not in mail.get_body(("plain",)).get_content()
    # Sent again (a reload, a double click): nothing new, nothing sent twice; several at once are fine.
    status, text = page["post"]({"t": page["token"], "guest": "anna@acme.example"})
    assert status == 200 and html.escape(say("page_guest_already", "fr", email="anna@acme.example")) in text
    status, text = page["post"]({"t": page["token"], "guest": "anna@acme.example, bob@acme.example"})
    assert status == 200 and html.escape(say("page_guest_added", "fr", email="bob@acme.example")) in text
    assert len(_guest_mails(store, "anna@acme.example")) == 1 and len(_guest_mails(store, "bob@acme.example")) == 1


@pytest.mark.parametrize(
    ("guest", "text"),
    [
        ("anna at acme", say("page_guest_invalid", "fr")),
        ("", say("page_guest_invalid", "fr")),
        ("ada@agents.example", say("page_guest_agent", "fr", agent="Ada")),
        ("dana@acme.example", say("page_guest_agent", "fr", agent="Ada")),
    ],
)
def test_the_page_says_why_a_guest_is_refused(page, store, guest, text):
    status, body = page["post"]({"t": page["token"], "guest": guest})
    assert status == 422 and html.escape(text) in body and "name=guest" in body
    assert _guests(store, page["id"]) == []


def test_the_page_says_when_the_meeting_is_full(page, store):
    with store.session() as s:
        s.execute(update(Queue).values(max_guests=1))
    assert page["post"]({"t": page["token"], "guest": "anna@acme.example"})[0] == 200
    status, body = page["post"]({"t": page["token"], "guest": "bob@acme.example"})
    assert status == 422 and html.escape(say("page_guest_too_many", "fr", limit=1)) in body
    assert _guests(store, page["id"]) == ["anna@acme.example"]


def test_a_bad_token_or_a_calendar_outage_adds_nobody(page, store, monkeypatch):
    tampered = page["token"][:-2] + ("AA" if not page["token"].endswith("AA") else "BB")
    assert page["post"]({"t": tampered, "guest": "anna@acme.example"})[0] == 404
    assert page["post"]({"guest": "anna@acme.example"})[0] == 404

    def down(*args, **kwargs):
        raise ProviderUnavailable("calendar down", provider="local")

    monkeypatch.setattr(LocalCalendar, "update_attendee", down)  # the app builds its service when it starts
    status, body = page["post"]({"t": page["token"], "guest": "anna@acme.example"})
    assert status == 503 and html.escape(say("page_guest_failed", "fr")) in body
    assert _guests(store, page["id"]) == [] and _guest_mails(store, "anna@acme.example") == []


def test_the_agent_sees_the_guests_in_the_portal(store, settings):
    [ada] = add_queue(store)
    accounts.create_account(store, "ada@agents.example", PASSWORD, "agent", agent_id=ada)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir))
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    svc.book("c", offer.id, Visitor(**{**VISITOR.__dict__, "guests": ("anna@acme.example", "o'brien@x.example")}))
    svc.close()
    b = Browser(create_app(settings, store))
    b.signin("ada@agents.example")
    text = b.get(f"/portal/agents/{ada}/bookings").text
    assert "<th scope=col>Guests</th>" in text and "anna@acme.example<br>" in text
    assert "o&#x27;brien@x.example" in text  # escaped, as everything the visitor gave


def test_the_limit_is_a_queue_setting(store, settings, monkeypatch, capsys):
    add_queue(store)
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["queue", "set", "sales", "--max-guests", "3"]) == 0
    with store.session() as s:
        assert s.execute(select(Queue.max_guests)).scalar_one() == 3
    assert main(["queue", "set", "sales", "--max-guests", "-1"]) == 2
    assert "guests per booking" in capsys.readouterr().err
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    b = Browser(create_app(settings, store))
    b.signin("root@example.com")
    form = b.get("/portal/admin/queues/sales").text
    assert re.search(r"name=max_guests[^>]*value='3'", form) or re.search(r"value='3'[^>]*name=max_guests", form)
    token = re.search(r"name=csrf value='([^']+)'", form).group(1)
    with store.session() as s:
        q = s.execute(select(Queue)).scalar_one()
        fields = {"name": q.name, "timezone": q.timezone, "meeting_minutes": str(q.meeting_minutes),
                  "interval_minutes": str(q.interval_minutes), "min_notice_minutes": str(q.min_notice_minutes),
                  "window_days": str(q.window_days), "buffer_before_minutes": "0", "buffer_after_minutes": "0",
                  "routing_mode": q.routing_mode, "fairness_margin": "0", "rr_period": q.rr_period,
                  "reminder_minutes": q.reminder_minutes, "credit_back_on_cancel": "on"}
    saved = b.post("/portal/admin/queues/sales", {"csrf": token, "do": "settings", **fields, "max_guests": "5"})
    assert saved.status == 200, saved.text[:500]
    with store.session() as s:
        assert s.execute(select(Queue.max_guests)).scalar_one() == 5
