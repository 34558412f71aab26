"""Routing: weighted round robin, account owner, max-fairness — and the explanation."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from bot.__main__ import main
from bot.admin.rules import set_member, set_queue
from bot.booking import Visitor
from bot.scheduling.routing import Member, held_back, period_start, route
from tests.helpers import NINE_TO_FIVE, add_queue, utc


def members(counts, weights):
    return [Member(i, f"A{i}", f"a{i}@x.example", w, c) for i, (c, w) in enumerate(zip(counts, weights, strict=True))]


def test_weighted_round_robin_prefers_lowest_load_then_least_recent():
    ms = members([2, 1, 2], [100, 100, 200])
    assert route(ms, ms).order == [1, 2, 0]  # loads 0.02, 0.01, 0.01: the tie goes to the lower id
    recent = [
        Member(1, "A1", "a1@x", 100, 1, utc(2026, 12, 1, 10)),
        Member(2, "A2", "a2@x", 200, 2, utc(2026, 12, 1, 9)),
    ]
    assert route(recent, recent).order == [2, 1]


def test_account_owner_wins_when_free_and_is_explained():
    ms = members([0, 5, 0], [100, 100, 100])
    d = route(ms, ms, owners=[1])
    assert d.order[0] == 1 and d.rule == "account_owner"
    d = route([ms[0], ms[2]], ms, owners=[1])  # owner not free
    assert d.rule == "round_robin" and d.explanation["owners"] == [1] and not d.explanation["owner_free"]


@pytest.mark.parametrize("seed", range(5))
def test_max_fairness_keeps_1000_bookings_within_one_of_the_weighted_share(seed):
    weights = [100, 100, 200, 50]
    rng = random.Random(seed)
    counts = [0] * len(weights)
    for _ in range(1000):
        ms = members(counts, weights)
        back = held_back(ms, "max-fairness", 0)
        while True:  # each slot has a random set of free agents; held-back agents are not offered
            free = [m for m in ms if rng.random() < 0.5 and m.agent_id not in back]
            if free:
                break
        counts[route(free, ms, mode="max-fairness", margin=0).order[0]] += 1
    share = [1000 * w / sum(weights) for w in weights]
    assert all(abs(c - s) <= 1 for c, s in zip(counts, share, strict=True)), (counts, share)


def test_max_availability_holds_nobody_back():
    ms = members([10, 0], [100, 100])
    assert held_back(ms, "max-availability", 0) == set()
    assert held_back(ms, "max-fairness", 0) == {0}
    assert held_back(ms, "max-fairness", 0, keep=[0]) == set()  # an account owner is never held back


def test_period_start_in_the_queue_zone():
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    assert period_start(utc(2026, 11, 30, 16), "month", tokyo) == utc(2026, 11, 30, 15)  # 1 Dec 00:00 Tokyo
    assert period_start(utc(2026, 12, 3, 12), "week", ZoneInfo("UTC")) == utc(2026, 11, 30)
    assert period_start(utc(2026, 12, 3, 12), "day", ZoneInfo("UTC")) == utc(2026, 12, 3)
    with pytest.raises(ValueError):
        period_start(utc(2026, 12, 3), "year", tokyo)


def test_service_routes_by_weight_and_owner_and_explain_prints_it(service, store, clock, settings, monkeypatch, capsys):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bea", "Europe/London", NINE_TO_FIVE)])
    set_member(store, "sales", "bea@agents.example", weight=300)
    chosen = []
    for i in range(8):
        offer = service.offer_slots(f"c{i}", "sales", count=1, after=utc(2026, 12, 2, 9) + timedelta(hours=i)).slots[0]
        chosen.append(service.book(f"c{i}", offer.id, Visitor(email=f"v{i}@example.com")).agent_name)
        clock.now += timedelta(minutes=1)
    assert chosen.count("Bea") == 6 and chosen.count("Ada") == 2
    owner = Visitor(email="o@example.com", company={"name": "Big", "owner_email": "ADA@agents.example"})
    offer = service.offer_slots("owner", "sales", count=1, visitor=owner).slots[0]
    result = service.book("owner", offer.id, owner)
    assert result.agent_name == "Ada"
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["explain", result.booking_id]) == 0
    out = capsys.readouterr().out
    assert "account owner" in out and "→ Ada" in out and "Bea" in out


def test_max_fairness_queue_hides_an_agent_ahead_of_share(service, store, clock):
    add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bea", "Europe/London", [(1, 9 * 60, 17 * 60)])])
    set_queue(store, "sales", routing_mode="max-fairness", fairness_margin=0)
    # Only Ada works on Wednesday 2 Dec: she takes one booking and is then ahead of her share.
    offer = service.offer_slots("c0", "sales", count=1, after=utc(2026, 12, 2, 8)).slots[0]
    assert service.book("c0", offer.id, Visitor(email="v@example.com")).agent_name == "Ada"
    page = service.offer_slots("c1", "sales", count=5)
    # Only Bea's times (Tuesdays) are offered until Ada is back within her share.
    assert page.slots and all(s.start.weekday() == 1 for s in page.slots)
    assert (
        service.offer_slots("c2", "sales", count=3, after=utc(2026, 12, 2, 0)).slots[0].start.date()
        != utc(2026, 12, 2).date()
    )
    rows = json.loads(json.dumps(service.list_bookings()))
    assert len(rows) == 1
