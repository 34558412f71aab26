"""No-shows (issue 19): agents mark a past meeting held or no-show; the booking.no_show webhook,
signed and retried; the dashboard's rates; the round robin still counts a no-show."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
from sqlalchemy import select

from bot.admin import accounts, stats
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import AlreadyCancelled, ConfigError, MeetingNotOver, NotYourBooking
from bot.messages.delivery import Delivery
from bot.messages.outbox import FileOutbox
from bot.messages.webhooks import SIGNATURE_HEADER, WebhookSender, add_webhook, verify
from bot.ops.runtime import vault
from bot.store.models import Booking, OutboxMessage
from tests.helpers import NINE_TO_FIVE, add_queue
from tests.helpers import WebhookReceiver as _Receiver

VISITOR = Visitor(email="nia@acme.example", first_name="Nia", company_name="Acme", timezone="Europe/London")


@pytest.fixture
def world(store, settings, clock):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Receiver.answers, _Receiver.got = [503], []
    v = vault(settings)
    with store.session() as s:
        _hook, secret = add_webhook(s, v, f"http://127.0.0.1:{server.server_port}/hooks", ["booking.no_show"])
    ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/London", NINE_TO_FIVE)])
    delivery = Delivery(store, FileOutbox(settings.outbox_dir), clock=clock, webhooks=WebhookSender(store, v))
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, delivery, clock=clock)
    bookings = []
    for conv in ("c1", "c2", "c3"):
        offer = svc.offer_slots(conv, "sales", count=1).slots[0]
        bookings.append(svc.book(conv, offer.id, VISITOR).booking_id)
    with store.session() as s:
        agents = {b: s.get(Booking, b).agent_id for b in bookings}
    yield {"svc": svc, "delivery": delivery, "secret": secret, "bookings": bookings, "agents": agents, "ids": (ada, bo)}
    svc.close()
    server.shutdown()


def _over(store, clock, booking_id):
    with store.session() as s:
        clock.now = max(clock.now, s.get(Booking, booking_id).end + timedelta(minutes=5))


def test_only_the_agent_marks_a_past_meeting(world, store, clock):
    svc, first = world["svc"], world["bookings"][0]
    owner = world["agents"][first]
    other = next(i for i in world["ids"] if i != owner)
    with pytest.raises(MeetingNotOver):
        svc.mark_attendance(first, "held", agent_id=owner)
    _over(store, clock, first)
    with pytest.raises(NotYourBooking):
        svc.mark_attendance(first, "no_show", agent_id=other)
    with pytest.raises(ConfigError):
        svc.mark_attendance(first, "late", agent_id=owner)
    assert svc.mark_attendance(first, "held", agent_id=owner)["attendance"] == "held"
    with store.session() as s:
        assert s.get(Booking, first).attendance == "held" and s.get(Booking, first).status == "confirmed"
    assert svc.mark_attendance(first, "no_show")["attendance"] == "no_show"  # an admin or the CLI: any booking
    svc.cancel(world["bookings"][2])
    with pytest.raises(AlreadyCancelled):
        svc.mark_attendance(world["bookings"][2], "held")


def test_a_no_show_sends_the_signed_webhook_retried_once_per_marking(world, store, clock):
    svc, delivery, first = world["svc"], world["delivery"], world["bookings"][0]
    _over(store, clock, first)
    svc.mark_attendance(first, "held")  # no event for held
    svc.mark_attendance(first, "no_show")
    svc.mark_attendance(first, "no_show")  # unchanged: nothing more
    with store.session() as s:
        assert len(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).scalars().all()) == 1
    clock.now += timedelta(seconds=5)
    svc.mark_attendance(first, "held")
    svc.mark_attendance(first, "no_show")  # marked again after "held": a second event
    delivery.close()  # the background attempts ran (the first got a 503)
    clock.now += timedelta(minutes=20)
    delivery.deliver_due()  # the 503 is retried
    assert [h["X-Booking-Event"] for h, _ in _Receiver.got] == ["booking.no_show"] * 3
    assert len({h["X-Booking-Delivery"] for h, _ in _Receiver.got}) == 2  # two events, one retried
    for headers, body in _Receiver.got:
        assert verify(world["secret"], body, headers[SIGNATURE_HEADER])
        event = json.loads(body)
        assert event["type"] == "booking.no_show" and event["data"]["id"] == first
        assert event["data"]["attendance"] == "no_show"
    with store.session() as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "webhook")).scalars().all()
    assert sorted(r.status for r in rows) == ["sent", "sent"]


def test_a_no_show_still_counts_for_the_round_robin_and_the_dashboard_shows_rates(world, store, clock):
    svc, (b1, b2, _b3) = world["svc"], world["bookings"]
    for b in (b1, b2):
        _over(store, clock, b)
    offering = svc.offering

    def standing():
        with store.session() as s:
            q = offering.queue(s, "sales")
            members, _ = offering.standing(s, q, offering.members(s, q), clock.now)
        return {m.agent_id: m.count for m in members}

    before = standing()
    svc.mark_attendance(b1, "no_show")
    svc.mark_attendance(b2, "held")
    assert standing() == before  # not credited back
    start, end = clock.now - timedelta(days=7), clock.now + timedelta(minutes=1)
    got = stats.attendance(store, queue="sales", start=start, end=end)
    [queue_row] = got["queues"]
    assert (queue_row["name"], queue_row["held"], queue_row["no_show"]) == ("sales", 1, 1)
    assert queue_row["no_show_rate"] == 0.5
    per_agent = {r["email"]: r for r in got["agents"]}
    owner = {world["agents"][b1], world["agents"][b2]}
    assert sum(r["no_show"] for r in per_agent.values()) == 1 and len(per_agent) == len(owner)
    assert stats.attendance(store, queue="sales", start=end, end=end + timedelta(days=1))["queues"] == []


def test_the_portal_and_the_cli_mark_attendance(world, store, settings, monkeypatch, capsys):
    """The web app and the CLI read the real clock: the fixture's meetings (1–2 December 2026)
    are over by it."""
    from bot.__main__ import main
    from bot.web.app import create_app
    from tests.unit.test_portal import PASSWORD, Browser

    first, second = world["bookings"][0], world["bookings"][1]
    owner = world["agents"][first]
    other = next(i for i in world["ids"] if i != owner)
    accounts.create_account(store, "owner@agents.example", PASSWORD, "agent", agent_id=owner)
    accounts.create_account(store, "other@agents.example", PASSWORD, "agent", agent_id=other)
    app = create_app(settings, store)
    b = Browser(app)
    b.signin("owner@agents.example")
    tab = f"/portal/agents/{owner}/bookings"
    with store.session() as s:  # the visitor answered a qualification question (routing.yml)
        row = s.get(Booking, first)
        row.routing = {**row.routing, "answers": {"team_size": 800, "topic": None}}
    page = b.get(tab)
    assert page.status == 200 and "not marked" in page.text and ">No-show</button>" in page.text
    assert "team_size: 800" in page.text and "topic" not in page.text  # shown to the agent; "not understood" left out
    token = b.csrf(tab)
    done = b.post(tab, {"csrf": token, "booking": first, "attendance": "no_show"})
    assert done.status == 200 and "Marked no-show" in done.text and ">Held</button>" in done.text
    with store.session() as s:
        assert s.get(Booking, first).attendance == "no_show"
    assert b.post(tab, {"booking": first, "attendance": "held"}).status == 403  # no CSRF token
    intruder = Browser(app)
    intruder.signin("other@agents.example")
    assert intruder.get(tab).status == 403  # another agent's tab
    own_tab = f"/portal/agents/{other}/bookings"
    refused = intruder.post(own_tab, {"csrf": intruder.csrf(own_tab), "booking": first, "attendance": "held"})
    assert refused.status == 403 and "not yours" in refused.text
    with store.session() as s:
        assert s.get(Booking, first).attendance == "no_show"  # unchanged
    accounts.create_account(store, "root@example.com", PASSWORD, "admin")
    admin = Browser(app)
    admin.signin("root@example.com")
    board = admin.get("/portal/admin/dashboard?weeks=52")
    assert board.status == 200 and "<h2>No-shows</h2>" in board.text
    # one meeting marked (a no-show), the other two past ones not: 100 % of the marked
    assert re.search(r"<td>sales</td><td>0</td><td>1</td><td>2</td><td>100 %</td>", board.text), board.text[-3000:]
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    with pytest.raises(SystemExit):
        main(["attendance", second, "maybe"])  # argparse: held or no-show
    capsys.readouterr()
    assert main(["attendance", second, "no-show"]) == 0
    assert "no-show" in capsys.readouterr().out
    with store.session() as s:
        assert s.get(Booking, second).attendance == "no_show"
