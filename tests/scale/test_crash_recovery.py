"""Promise 4: kill -9 the action server between the provider call and the commit. After the
restart, the worker's reconciler finds the pending booking by its idempotency key and confirms
it: no duplicate calendar event, no lost booking, no stuck hold, and the e-mail goes out."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from bot.booking import BookingService
from bot.calendars.local import LocalCalendar
from bot.messages.outbox import FileOutbox
from tests.helpers import add_queue, load_domain, mails_to
from tests.scale.conftest import dump_logs, start_topology
from tests.scale.test_no_double_booking import EVERY_DAY, _tracker

pytestmark = pytest.mark.scale


def _book(url: str, domain: dict, sender: str, offer_id: str) -> dict:
    body = {
        "next_action": "action_book_slot",
        "sender_id": sender,
        "tracker": _tracker(domain, sender, offer_id, 1),
        "domain": domain,
        "version": "3.6.2",
    }
    req = urllib.request.Request(url + "/webhook", json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def test_kill_between_provider_and_commit_is_settled_after_restart(tmp_path, databases, redis_prefix, pg_store):
    store = pg_store
    add_queue(store, agents=[("Ada", "Europe/London", EVERY_DAY)], notice=60)
    seeder = BookingService(store, {"local": LocalCalendar(store, "http://localhost")}, FileOutbox(tmp_path / "o"))
    first, second = seeder.offer_slots("crash-visitor", "sales", count=2).slots
    seeder.close()
    topo = start_topology(
        tmp_path,
        databases,
        redis_prefix,
        rasa=0,
        actions=1,
        web=0,
        worker=True,
        extra_env={"RECONCILE_AFTER_SECONDS": "2", "WORKER_INTERVAL_SECONDS": "0.2"},
    )
    domain = load_domain()
    outbox = tmp_path / "var" / "outbox"
    try:
        topo.restart("actions-1", env={"BOT_FAULT": "crash:after-provider"})
        with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
            _book(topo.action_urls[0], domain, "crash-visitor", first.id)
        actions = topo.proc("actions-1").popen
        assert actions.wait(10) == -9  # SIGKILL: no cleanup ran
        with store.engine.connect() as conn:
            [(booking_id, status)] = conn.execute(text("SELECT id, status FROM bookings")).all()
            assert status == "pending"
            assert conn.execute(text("SELECT count(*) FROM calendar_events")).scalar() == 1  # the event was made
        topo.restart("actions-1", env={})
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                status = conn.execute(text("SELECT status FROM bookings WHERE id = :i"), {"i": booking_id}).scalar()
            if status != "pending":
                break
            time.sleep(0.3)
        assert status == "confirmed"
        while time.monotonic() < deadline and not list(outbox.glob(f"*{booking_id}*.eml")):
            time.sleep(0.2)
        [eml] = [  # the confirmation, delivered by the worker (a reminder may be due already, too)
            p for p in mails_to(outbox, "visitor1@example.com") if booking_id in p.name and "-reminder@" not in p.read_text()
        ]
        assert "crash-visitor" not in eml.read_text() and "visitor1@example.com" in eml.read_text()
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM calendar_events")).scalar() == 1  # no duplicate
            blocks = conn.execute(text("SELECT count(*) FROM booking_blocks WHERE booking_id = :i"), {"i": booking_id})
            assert blocks.scalar() == 6  # the hold belongs to the confirmed booking
        # The restarted server books normally, and the settled slot is not offered twice.
        answer = _book(topo.action_urls[0], domain, "crash-visitor", second.id)
        assert any((m.get("text") or "").startswith("You're booked!") for m in answer["responses"])
    except BaseException:
        dump_logs(tmp_path / "var" / "logs")
        raise
    finally:
        topo.stop()
