"""Routing rules (bot/booking/routing_rules.py): the file, its errors by line, the decision, and
the chat: a visitor sent to another queue is offered its times; a disqualified one is answered
politely in their language with the link, and offered nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.action_offer_slots import ActionOfferSlots
from bot.booking import Visitor
from bot.booking.routing_rules import decide, load, parse
from bot.errors import ConfigError, Disqualified
from bot.store.models import Booking, Offer
from tests.helpers import NINE_TO_FIVE, add_queue, make_tracker, run

ROOT = Path(__file__).resolve().parents[2]

RULES = """
rules:
  - name: big germans
    when:
      company.size: ">= 500"
      person.country: [de, AT, CH]
    queue: enterprise
  - name: mid-size
    when:
      company.size: {min: 50, max: 499}
      company.plan: {not: [free]}
    queue: growth
  - name: students
    when:
      company.industry: Education
    disqualify:
      text:
        en: "We don't run demos for students; our guides are free:"
        de: "Für Studierende gibt es keine Demos; unsere Leitfäden sind frei:"
      link: https://example.com/guides
  - name: private mail
    when:
      email_domain: free_mail
      page_queue: pricing
    queue: sales
  - name: partners
    when:
      email_domain: [partner.example, Ally.example]
      company.reseller: true
      person.crm_id: {exists: true}
    queue: partners
  - name: default
    default: true
    queue: null
"""


def meta(person=None, company=None, queue=None):
    return {"person": person or {}, "company": company or {}, "queue": queue}


def test_first_match_wins_over_every_kind_of_attribute():
    rules = parse(RULES)
    assert decide(rules, meta({"country": "DE"}, {"size": "1,200"})).rule == "big germans"  # a number as text
    assert decide(rules, meta({"country": "fr"}, {"size": 1200})).rule == "default"
    assert decide(rules, meta({}, {"size": 120, "plan": "pro"})).queue == "growth"
    assert decide(rules, meta({}, {"size": 120, "plan": "FREE"})).rule == "default"  # not: case-insensitive
    assert decide(rules, meta({}, {"size": "many"})).rule == "default"  # not a number: no match
    d = decide(rules, meta({}, {"industry": "education"}))
    assert d.rule == "students" and d.disqualify is not None
    assert decide(rules, meta({"email": "a@gmail.com"}, queue="pricing")).queue == "sales"
    assert decide(rules, meta({"email": "a@acme.com"}, queue="pricing")).rule == "default"
    partner = meta({"email": "x@ally.example", "crm_id": "42"}, {"reseller": "yes"})
    assert decide(rules, partner).rule == "partners"
    assert decide(rules, {**partner, "person": {"email": "x@ally.example"}}).rule == "default"  # crm_id missing
    last = decide(rules, meta())
    assert (last.rule, last.queue, last.line) == ("default", None, RULES.splitlines().index("  - name: default") + 1)
    assert decide(rules, meta({"country": "AT"}, {"size": 500})).why == (
        "company.size = 500 matches '>= 500'",
        "person.country = 'AT' matches ['de', 'AT', 'CH']",
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("rules: [", "routing.yml:1: not valid YAML"),
        ("other: 1", "routing.yml:1: expected a top-level 'rules:' list"),
        ("rules:\n  - name: a\n    when: {company.size: '>= 5'}\n    queue: x\n", "exactly one default rule is required"),
        ("rules:\n  - name: d\n    default: true\n    queue: null\n  - name: a\n    when: {company.size: 5}\n    queue: x\n",
         "and it comes last"),
        ("rules:\n  - name: a\n    when: {company.size: 5}\n    queue: x\n    disqualify: {text: {en: no}}\n"
         "  - name: d\n    default: true\n    queue: null\n", "routing.yml:2: rule 'a' needs exactly one of queue or disqualify"),
        ("rules:\n  - name: a\n    when: {company.size: '>> 5'}\n    queue: x\n  - name: d\n    default: true\n    queue: null\n",
         "routing.yml:2: company.size: '>> 5' is not a comparison"),
        ("rules:\n  - name: a\n    when: {visitor.mood: happy}\n    queue: x\n  - name: d\n    default: true\n    queue: null\n",
         "routing.yml:2: unknown attribute 'visitor.mood'"),
        ("rules:\n  - name: a\n    when: {company.x: 1}\n    disqualify: {text: {de: nein}}\n  - name: d\n    default: true\n"
         "    queue: null\n", "routing.yml:2: disqualify needs text: per language, English at least"),
        ("rules:\n  - name: a\n    whn: {company.x: 1}\n    queue: x\n  - name: d\n    default: true\n    queue: null\n",
         "routing.yml:2: unknown keys ['whn']"),
        ("rules:\n  - name: d\n    default: true\n    queue: null\n  - name: d\n    default: true\n    queue: null\n",
         "the name 'd' is used twice"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_with_the_line_of_each_problem(text, expected):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert expected in str(err.value)


def test_the_shipped_file_sends_everyone_to_the_pages_queue():
    rules = load(ROOT / "routing.yml")
    assert [r.name for r in rules] == ["default"]
    assert decide(rules, meta({"email": "x@y.com"}, {"size": 10_000}, queue="emea")).queue is None


@pytest.fixture
def routed(service, store):
    add_queue(store, "sales", agents=[("Ada", "Europe/London", NINE_TO_FIVE)])
    add_queue(store, "enterprise", agents=[("Eve", "Europe/Berlin", NINE_TO_FIVE)])
    service.ctx.routing = parse(RULES)
    yield service
    service.ctx.routing = None


def test_the_service_offers_the_routed_queue_and_records_the_rule(routed, store):
    big = Visitor(email="k@konzern.de", first_name="K", company_name="Konzern", person={"country": "DE"},
                  company={"size": 5000}, timezone="Europe/Berlin")  # fmt: skip
    page = routed.offer_slots("big-1", "sales", count=2, visitor=big)
    assert page.queue.slug == "enterprise"
    booking = routed.book("big-1", page.slots[0].id, big)
    with store.session() as s:
        b = s.get(Booking, booking.booking_id)
        assert b.agent.name == "Eve" and b.routing["routing_rule"]["rule"] == "big germans"
    from bot.admin import rules as admin_rules

    assert "Routing rule 'big germans' (routing.yml line 3): company.size = 5000" in admin_rules.explain(
        store, booking.booking_id
    )
    student = Visitor(email="s@uni.example", company={"industry": "education"}, timezone="Europe/Berlin")
    with pytest.raises(Disqualified):
        routed.offer_slots("stu-1", "sales", visitor=student)
    with store.session() as s:
        assert s.query(Offer).filter(Offer.conversation_id == "stu-1").count() == 0


async def test_the_chat_answers_a_disqualified_visitor_in_their_language_and_offers_nothing(routed, store):
    slots = {"email": "lena@uni.example", "first_name": "Lena", "company": "Uni", "language": "de",
             "company_info": {"industry": "education"}, "timezone": "Europe/Berlin"}  # fmt: skip
    tracker = make_tracker(text="Ich möchte einen Termin", intent="book_meeting", slots=slots)
    messages, _events = await run(ActionOfferSlots(), tracker)
    said = " ".join(m.get("text") or "" for m in messages)
    assert "Für Studierende gibt es keine Demos" in said and "https://example.com/guides" in said
    assert not any(m.get("buttons") for m in messages)
    anyone = make_tracker(text="a meeting please", intent="book_meeting", slots={**slots, "company_info": {}})
    messages, _events = await run(ActionOfferSlots(), anyone)
    assert any(m.get("buttons") for m in messages)  # the default rule: the page's queue, times offered


def test_the_cli_checks_the_file_and_explains_a_route(store, settings, tmp_path, monkeypatch, capsys):
    from bot.__main__ import main

    add_queue(store, "sales")
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    good = tmp_path / "routing.yml"
    good.write_text(RULES)
    assert main(["routing", "check", str(good)]) == 1  # the queues enterprise, growth, partners do not exist
    err = capsys.readouterr().err
    assert "routing.yml:3: rule 'big germans' sends visitors to the queue 'enterprise', which does not exist" in err
    bad = tmp_path / "bad.yml"
    bad.write_text("rules:\n  - name: a\n    when: {company.size: '>> 5'}\n    queue: sales\n")
    assert main(["routing", "check", str(bad)]) != 0
    err = capsys.readouterr().err
    assert "bad.yml:2: company.size" in err and "exactly one default rule" in err
    ok = tmp_path / "ok.yml"
    ok.write_text("rules:\n  - name: d\n    default: true\n    queue: sales\n")
    assert main(["routing", "check", str(ok)]) == 0 and "1 rules, OK" in capsys.readouterr().out
    monkeypatch.setenv("ROUTING_FILE", str(good))
    assert main(["routing", "explain", "--metadata", '{"company": {"industry": "education"}, "locale": "de-DE"}']) == 0
    out = capsys.readouterr().out
    assert "rule 'students'" in out and "no meeting: Für Studierende" in out
    assert main(["routing", "explain", "--json", "--metadata", '{"company": {"size": 90, "plan": "pro"}}']) == 0
    assert json.loads(capsys.readouterr().out)["queue"] == "growth"
    assert main(["routing", "explain", "--metadata", "[1, 2]"]) != 0
