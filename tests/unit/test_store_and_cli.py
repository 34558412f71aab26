"""Migrations match the models; the CLI prints the public booking shape (contract 5)."""

from __future__ import annotations

import json
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot.__main__ import main
from bot.booking import CONTRACT_FIELDS, Visitor
from bot.ops.demo import seed_demo
from bot.store.models import Agent, Base
from tests.helpers import add_queue


def test_migrations_build_exactly_the_models(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_seed_demo_is_idempotent_and_spans_time_zones(store, service, clock):
    assert seed_demo(store) is True and seed_demo(store) is False
    with store.session() as s:
        zones = set(s.execute(select(Agent.timezone)).scalars())
    assert len(zones) == 3
    # Agents in New York, Paris and Tokyo: whenever a visitor comes, even on a weekend, the
    # first open slot is at most three days away and a full page is offered.
    start = clock.now
    for hour in range(0, 7 * 24, 5):
        clock.now = start + timedelta(hours=hour)
        page = service.offer_slots("c", "sales", count=5)
        assert len(page.slots) == 5
        assert page.slots[0].start - clock.now <= timedelta(days=3)
    hours = {slot.start.hour for slot in service.offer_slots("c", "sales", count=300).slots}
    assert len(hours) >= 18


def test_bookings_json_has_the_contract_fields(service, store, settings, monkeypatch, capsys):
    add_queue(store)
    offer = service.offer_slots("c", "sales", count=1).slots[0]
    service.book("c", offer.id, Visitor(email="v@example.com", first_name="V", timezone="Asia/Tokyo", locale="en"))
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["bookings", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert set(CONTRACT_FIELDS) <= row.keys()
    assert row["start"] == "2026-12-01T12:00:00Z" and row["end"] == "2026-12-01T12:30:00Z"
    assert row["timezone"] == "Asia/Tokyo" and row["status"] == "confirmed"
