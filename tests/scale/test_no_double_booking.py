"""Promise 1: 1,000 booking attempts for the same few slots, spread over two action servers on
one Postgres → no agent is ever booked twice at once, and every loser is told and offered
other times.

The attempts go straight to the action servers' webhook (as Rasa would call them), so this
needs no trained model; the contention is real: 32 at a time, two processes, one database.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from bot.booking import BookingService
from bot.calendars.local import LocalCalendar
from bot.i18n.texts import say
from bot.messages.outbox import FileOutbox
from bot.store.models import Offer, Queue
from tests.helpers import add_queue, load_domain
from tests.scale.conftest import dump_logs, start_topology

pytestmark = pytest.mark.scale

ATTEMPTS = 1000
SLOTS = 3
EVERY_DAY = [(d, 8 * 60, 18 * 60) for d in range(7)]


def _tracker(domain: dict, sender: str, offer_id: str, i: int) -> dict:
    slots = {name: None for name in domain["slots"]}
    slots.update(
        email=f"visitor{i}@example.com",
        first_name=f"V{i}",
        company="Acme",
        timezone="Europe/London",
        language="en",
        callback_offered=False,
    )
    payload = f'/choose_slot{{"slot_id":"{offer_id}"}}'
    return {
        "sender_id": sender,
        "slots": slots,
        "latest_message": {
            "text": payload,
            "intent": {"name": "choose_slot", "confidence": 1.0},
            "entities": [{"entity": "slot_id", "value": offer_id}],
            "metadata": {},
        },
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


def test_a_thousand_attempts_on_two_action_servers_never_double_book(tmp_path, databases, redis_prefix, pg_store):
    store = pg_store
    agents = add_queue(store, agents=[(n, "Europe/London", EVERY_DAY) for n in ("Ada", "Bo", "Cy")], notice=60)
    # The few slots everybody wants: the first three of the queue, each open with all three agents.
    seeder = BookingService(store, {"local": LocalCalendar(store, "http://localhost")}, FileOutbox(tmp_path / "o"))
    page = seeder.offer_slots("seed", "sales", count=SLOTS, spread=False).slots
    seeder.close()
    assert len(page) == SLOTS
    now = datetime.now(timezone.utc)
    offers = []
    with store.session() as s:
        queue_id = s.execute(select(Queue.id).where(Queue.slug == "sales")).scalar_one()
        for i in range(ATTEMPTS):
            slot = page[i % SLOTS]
            offer = Offer(
                id=secrets.token_urlsafe(12),
                conversation_id=f"visitor-{i}",
                queue_id=queue_id,
                start=slot.start,
                end=slot.end,
                agent_ids=agents,
                expires_at=now + timedelta(minutes=30),
                created_at=now,
            )
            s.add(offer)
            offers.append((f"visitor-{i}", offer.id))

    topo = start_topology(tmp_path, databases, redis_prefix, rasa=0, actions=2, web=0, worker=False)
    domain = load_domain()

    def attempt(i: int) -> tuple[int, dict]:
        sender, offer_id = offers[i]
        url = topo.action_urls[i % 2] + "/webhook"
        body = {
            "next_action": "action_book_slot",
            "sender_id": sender,
            "tracker": _tracker(domain, sender, offer_id, i),
            "domain": domain,
            "version": "3.6.2",
        }
        req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            return i, json.loads(r.read())

    try:
        with ThreadPoolExecutor(32) as pool:
            answers = dict(pool.map(attempt, range(ATTEMPTS)))
        assert topo.alive()
    except BaseException:
        dump_logs(tmp_path / "var" / "logs")
        raise
    finally:
        topo.stop()

    booked, told = [], []
    taken = say("slot_taken", "en")
    for i, answer in answers.items():
        texts = [m.get("text") or "" for m in answer["responses"]]
        buttons = [b for m in answer["responses"] for b in m.get("buttons") or []]
        if any(t.startswith("You're booked!") for t in texts):
            booked.append(i)
        else:
            # Every loser hears why and gets other times to pick from.
            assert any(taken in t for t in texts), texts
            assert buttons and all(b["payload"].startswith('/choose_slot{"slot_id":"') for b in buttons)
            told.append(i)
    assert len(booked) + len(told) == ATTEMPTS
    assert len(booked) == SLOTS * len(agents)  # every agent got each contested slot exactly once
    with store.engine.connect() as conn:
        overlaps = conn.execute(
            text(
                "SELECT count(*) FROM bookings a JOIN bookings b ON a.agent_id = b.agent_id AND a.id < b.id "
                "AND a.start < b.end AND b.start < a.end "
                "WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')"
            )
        ).scalar()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM bookings GROUP BY status")).all())
        queued = conn.execute(text("SELECT count(*) FROM outbox WHERE key LIKE 'confirmation:%'")).scalar()
    assert overlaps == 0
    assert statuses == {"confirmed": SLOTS * len(agents)}  # nothing pending, nothing half-made
    assert queued == SLOTS * len(agents)  # one confirmation e-mail per booking, in the outbox
