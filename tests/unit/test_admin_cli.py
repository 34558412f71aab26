"""The rules CLI end to end on a real database: what an operator types, what the engine sees."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from bot.admin.rules import parse_blocks, parse_hours
from bot.errors import ConfigError
from tests.helpers import utc


@pytest.fixture
def cli(store, settings, monkeypatch, capsys):
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    def run(*args: str) -> str:
        assert main(list(args)) == 0
        return capsys.readouterr().out

    return run


def test_hours_parsing_and_clear_errors():
    assert parse_hours("mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00")[5] == [(600, 840)]
    assert sorted(parse_hours("fri-mon 08:00-09:00")) == [0, 4, 5, 6]
    assert parse_blocks("22:00-24:00") == [(1320, 1440)]
    for bad, msg in [
        ("mon 9-5", "write times like"),
        ("moon 09:00-10:00", "unknown day"),
        ("mon 10:00-09:00", "not a time range"),
        ("mon 09:00-11:00 10:00-12:00", "overlap"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            parse_hours(bad)


def test_operator_sets_up_a_queue_and_the_offers_follow(cli, service, clock):
    cli(
        "queue",
        "set",
        "support",
        "--name",
        "Support",
        "--timezone",
        "Europe/Berlin",
        "--length",
        "45",
        "--interval",
        "15",
        "--buffer-before",
        "10",
        "--buffer-after",
        "5",
        "--notice",
        "60",
        "--window",
        "7",
        "--routing",
        "max-fairness",
        "--margin",
        "2",
        "--period",
        "week",
    )
    cli(
        "agent",
        "add",
        "Lea@Example.com",
        "--name",
        "Lea",
        "--timezone",
        "Europe/Berlin",
        "--hours",
        "mon-fri 09:00-12:00",
        "--queue",
        "support",
        "--weight",
        "150",
    )
    cli("agent", "set", "lea@example.com", "--max-per-day", "1")
    cli("agent", "holidays", "lea@example.com", "2026-12-02")
    cli("agent", "override", "lea@example.com", "2026-12-03", "--hours", "14:00-15:00")
    cli("agent", "time-off", "lea@example.com", "2026-12-04T00:00", "2026-12-05T00:00", "--reason", "training")
    [agent] = json.loads(cli("agents", "--json"))
    assert agent["email"] == "lea@example.com" and agent["queues"] == {"support": 150}
    assert agent["hours"].startswith("mon 09:00-12:00") and agent["max_per_day"] == 1
    assert agent["overrides"] == ["2026-12-02", "2026-12-03"]
    page = service.offer_slots("c", "support", count=20, spread=False)
    berlin = [s.start.astimezone(ZoneInfo("Europe/Berlin")) for s in page.slots]
    days = sorted({t.date().isoformat() for t in berlin})
    # Tue 1 Dec (after 1 h notice from 09:00 Berlin), Wed off, Thu 14:00-15:00 only, Fri time off, Mon 7 Dec.
    assert days == ["2026-12-01", "2026-12-03", "2026-12-07"]
    assert [t.strftime("%H:%M") for t in berlin if t.day == 3] == ["14:00", "14:15"]
    assert all(s.end - s.start == timedelta(minutes=45) for s in page.slots)
    assert page.slots[0].start == utc(2026, 12, 1, 9)  # 10:00 Berlin: one hour's notice from 09:00


def test_cli_errors_are_plain(cli, capsys):
    assert main(["queue", "set", "x", "--length", "50"]) == 2
    assert "meeting length must be one of 15, 30, 45, 60" in capsys.readouterr().err
    assert main(["agent", "set", "nobody@example.com", "--name", "X"]) == 2
    assert "no agent" in capsys.readouterr().err
    assert main(["agent", "add", "a@example.com", "--timezone", "Mars/Base"]) == 2
    assert "unknown time zone" in capsys.readouterr().err
    assert main(["explain", "nope"]) == 2
    assert main(["agent", "add", "b@example.com", "--timezone", "UTC"]) == 0
    assert main(["agent", "set", "b@example.com", "--max-per-day", "lots"]) == 2
    assert "whole number" in capsys.readouterr().err


def test_agents_shows_the_calendar_connection_state(cli, store):
    from bot.store.models import Agent, CalendarConnection

    cli("agent", "add", "gina@example.com", "--name", "Gina", "--timezone", "Europe/Rome")
    cli("agent", "add", "lou@example.com", "--name", "Lou", "--timezone", "Europe/Paris")
    with store.session() as s:
        gina = s.query(Agent).filter_by(email="gina@example.com").one()
        s.add(
            CalendarConnection(
                agent_id=gina.id,
                provider="google",
                account_email="gina@acme.example",
                secret="x",
                status="needs_reconnect",
                last_error="invalid_grant: Token has been expired or revoked.",
            )
        )
    rows = {a["email"]: a for a in json.loads(cli("agents", "--json"))}
    assert rows["gina@example.com"]["calendar"] == "needs_reconnect"
    assert rows["gina@example.com"]["calendar_account"] == "google:gina@acme.example"
    assert "invalid_grant" in rows["gina@example.com"]["calendar_error"]
    assert rows["lou@example.com"]["calendar"] == "local" and rows["lou@example.com"]["calendar_error"] is None
    table = cli("agents")
    assert "needs_reconnect" in table and "invalid_grant" in table
