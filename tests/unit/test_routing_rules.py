"""Routing rules (bot/booking/routing_rules.py): the file, its errors by line, the decision, and
the chat: a visitor sent to another queue is offered its times; a disqualified one is answered
politely in their language with the link, and offered nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from actions.action_ask_qualify_answer import ActionAskQualifyAnswer
from actions.action_book_slot import ActionBookSlot
from actions.action_offer_slots import ActionOfferSlots
from actions.validate_booking_form import ValidateBookingForm
from bot.booking import Visitor
from bot.booking.model import booking_json
from bot.booking.routing_rules import decide, load, parse, pending, read_answer
from bot.errors import ConfigError, Disqualified
from bot.store.models import Booking, Offer, Queue
from tests.helpers import NINE_TO_FIVE, add_queue, load_domain, make_tracker, run, slot_events

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
         "  - name: d\n    default: true\n    queue: null\n", "routing.yml:2: rule 'a' needs either disqualify, or queue and/or owner"),
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


# ---- qualification questions ----------------------------------------------------------------

ASKING = """
questions:
  - id: team_size
    type: number
    from: company.size
    text:
      en: "How many people work at your company?"
      de: "Wie viele Menschen arbeiten in Ihrem Unternehmen?"
  - id: topic
    type: choice
    text: {en: "What would you like to talk about?", de: "Worüber möchten Sie sprechen?"}
    choices:
      - {value: buying, label: {en: Buying, de: Kaufen}}
      - {value: support, label: {en: A problem, de: Ein Problem}}
  - id: country
    type: country
    from: person.country
    text: {en: "Which country are you in?"}
rules:
  - name: partners
    when:
      email_domain: partner.example
      answer.topic: buying
    queue: partners
  - name: big
    when:
      answer.team_size: ">= 500"
      answer.country: [DE, AT, CH]
    queue: enterprise
  - name: support
    when: {answer.topic: support}
    disqualify:
      text: {en: "For help, our support team answers here:", de: "Hilfe gibt es beim Support:"}
      link: https://example.com/support
  - name: default
    default: true
    queue: null
"""


def test_a_question_is_asked_only_when_a_rule_needs_its_answer_to_decide():
    routing = parse(ASKING)
    assert sorted(routing.questions) == ["country", "team_size", "topic"]

    def ask(person=None, company=None, answers=None):
        q = pending(routing, {**meta(person, company), "answers": answers or {}})
        return q.id if q is not None else None

    # partners: the domain fails, so its question is not asked; "big" needs the team size first.
    assert ask({"email": "a@acme.com"}) == "team_size"
    # ... and then the country; the metadata answers it (from: person.country): not asked.
    assert ask({"email": "a@acme.com"}, answers={"team_size": 800}) == "country"
    assert ask({"email": "a@acme.com", "country": "de"}, answers={"team_size": 800}) is None
    assert decide(routing, {**meta({"country": "de"}), "answers": {"team_size": 800}}).queue == "enterprise"
    # A small team: "big" fails on the known answer, so "support" needs the topic.
    assert ask({"email": "a@acme.com"}, answers={"team_size": 20}) == "topic"
    assert ask({"email": "a@acme.com"}, {"size": 20}) == "topic"  # the size from the metadata
    # A partner's domain: the partner rule asks the topic first.
    assert ask({"email": "bo@partner.example"}) == "topic"
    assert decide(routing, {**meta({"email": "bo@partner.example"}), "answers": {"topic": "buying"}}).queue == "partners"
    # Asked and not understood (None): never asked again, the rules decide without it.
    assert ask({"email": "a@acme.com"}, answers={"team_size": None, "topic": None}) is None
    assert decide(routing, {**meta(), "answers": {"team_size": None, "topic": None}}).rule == "default"
    # Without questions nothing is ever pending.
    assert pending(parse(RULES), meta()) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("about 1.200 people", 1200), ("we're 1,500", 1500), ("2k", 2000), ("50-100", 50), ("um die 40 Leute", 40),
        ("3,5", 3.5), ("~ 12 000 employees", 12000), ("quinientos", None), ("no idea", None),
    ],
)  # fmt: skip
def test_a_number_is_read_as_people_type_it(text, expected):
    q = parse(ASKING).questions["team_size"]
    assert read_answer(q, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Germany", "DE"), ("alemania", "DE"), ("in der Schweiz", "CH"), ("we're in the US", "US"), ("FR", "FR"),
        ("Estados Unidos", "US"), ("Reino unido", "GB"), ("espana", "ES"), ("Österreich", "AT"), ("im in canada", "CA"),
        ("no", None), ("it depends", None), ("tell us more", None), ("the uk", "GB"), ("sono in italia", "IT"),
    ],
)  # fmt: skip
def test_a_country_is_read_in_any_of_our_languages(text, expected):
    q = parse(ASKING).questions["country"]
    assert read_answer(q, text) == expected


def test_routing_explain_says_which_question_the_chat_would_ask_first(settings, tmp_path, monkeypatch, capsys):
    from bot.__main__ import main

    path = tmp_path / "routing.yml"
    path.write_text(ASKING)
    monkeypatch.setenv("BOT_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("ROUTING_FILE", str(path))
    assert main(["routing", "explain", "--metadata", '{"person": {"email": "a@acme.com"}}']) == 0
    out = capsys.readouterr().out
    assert "the chat first asks 'team_size' (routing.yml line 3): How many people work at your company?" in out
    assert main(["routing", "explain", "--json", "--metadata", '{"person": {"country": "CH"}, "answers": {"team_size": 900}}']) == 0
    assert json.loads(capsys.readouterr().out) | {"why": None} == {
        "rule": "big", "line": 25, "queue": "enterprise", "disqualified": False, "owner": False, "why": None, "asks": None,
    }  # fmt: skip


def test_a_choice_is_its_label_in_any_language_or_its_value():
    q = parse(ASKING).questions["topic"]
    assert q.buttons("de") == ["Kaufen", "Ein Problem"] and q.buttons("fr") == ["Buying", "A problem"]
    assert [read_answer(q, t) for t in ("Ein Problem", "a problem!", "buying, I think", "support", "kaufen", "hmm")] == [
        "support", "support", "buying", "support", "buying", None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text, expected",
    [
        ("questions:\n  - id: a b\n    text: {en: Hi}\n" + RULES.split("\n", 1)[1], "routing.yml:2: every question needs an id"),
        ("questions:\n  - id: n\n    type: essay\n    text: {en: Hi}\n" + RULES.split("\n", 1)[1],
         "routing.yml:2: question 'n' has type 'essay'"),
        ("questions:\n  - id: n\n    type: choice\n    text: {en: Hi}\n    choices: [{value: a}]\n" + RULES.split("\n", 1)[1],
         "routing.yml:2: question 'n' of type choice needs at least two choices"),
        ("questions:\n  - id: n\n    text: {de: Hallo}\n" + RULES.split("\n", 1)[1],
         "routing.yml:2: question 'n' needs a text per language, English at least"),
        ("questions:\n  - id: n\n    text: {en: Hi, xx: Hu}\n" + RULES.split("\n", 1)[1], "unknown languages ['xx']"),
        ("questions:\n  - id: n\n    from: crm.size\n    text: {en: Hi}\n" + RULES.split("\n", 1)[1],
         "routing.yml:2: question 'n': from: names a metadata field"),
        ("rules:\n  - name: a\n    when: {answer.size: 5}\n    queue: x\n  - name: d\n    default: true\n    queue: null\n",
         "routing.yml:2: answer.size asks for the answer to a question that is not defined"),
        ("rules:\n  - name: d\n    default: true\n    queue: null\nquestion: []\n", "unknown top-level keys ['question']"),
    ],
)  # fmt: skip
def test_a_bad_question_is_refused_with_its_line(text, expected):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert expected in str(err.value)


@pytest.fixture
def asking(service, store):
    add_queue(store, "sales", agents=[("Ada", "Europe/London", NINE_TO_FIVE)])
    add_queue(store, "enterprise", agents=[("Eve", "Europe/Berlin", NINE_TO_FIVE)])
    add_queue(store, "partners", agents=[("Pat", "Europe/Berlin", NINE_TO_FIVE)])
    service.ctx.routing = parse(ASKING)
    yield service
    service.ctx.routing = None


DETAILS = {"email": "kai@konzern.de", "first_name": "Kai", "company": "Konzern", "queue": "sales",
           "timezone": "Europe/Berlin", "language": "de", "locale": "de-DE"}  # fmt: skip


def answering(text: str, slots: dict):
    return make_tracker(
        text=text,
        events=[{"event": "slot", "name": "qualify_answer", "value": text}],
        slots={**slots, "qualify_answer": text, "requested_slot": "qualify_answer"},
        active_loop="booking_form",
    )


def asked_next(events, slots):
    """What the form asks next, as Rasa decides it: the validation's requested_slot when it sets
    one (it does when its required slots differ from the domain's), else the first empty slot
    of the domain's list."""
    state = slot_events(events)
    if "requested_slot" in state:
        return state["requested_slot"]
    now = {**slots, **state}
    return next((s for s in load_domain()["forms"]["booking_form"]["required_slots"] if now.get(s) is None), None)


async def test_the_form_asks_what_the_rules_need_in_the_visitors_language_once_then_offers_the_routed_queue(asking, store):
    form = ValidateBookingForm()
    # The details are in: the form goes on to the question the rules need, asked in German.
    tracker = make_tracker(slots=DETAILS, active_loop="booking_form", text="Konzern",
                           events=[{"event": "slot", "name": "company", "value": "Konzern"}])  # fmt: skip
    _, events = await run(form, tracker)
    assert asked_next(events, DETAILS) == "qualify_answer"
    messages, _ = await run(ActionAskQualifyAnswer(), make_tracker(slots=DETAILS))
    assert messages[0]["text"] == "Wie viele Menschen arbeiten in Ihrem Unternehmen?" and not messages[0]["buttons"]
    # Not a number: said so, asked again (the form keeps asking the same question).
    messages, events = await run(form, answering("keine Ahnung, viele", DETAILS))
    state = slot_events(events)
    assert "Zahl" in messages[0]["text"] and asked_next(events, DETAILS) == "qualify_answer"
    assert "team_size" not in state["qualification"]
    # "so 1.200 Leute": kept; the country comes from nowhere, so it is asked next.
    slots = {**DETAILS, "qualification": state["qualification"]}
    _, events = await run(form, answering("so 1.200 Leute", slots))
    state = slot_events(events)
    assert state["qualification"]["team_size"] == 1200 and asked_next(events, slots) == "qualify_answer"
    slots = {**DETAILS, "qualification": state["qualification"]}
    messages, _ = await run(ActionAskQualifyAnswer(), make_tracker(slots=slots))
    assert messages[0]["text"] == "Which country are you in?"  # no German text: English
    _, events = await run(form, answering("wir sind in Österreich", slots))
    state = slot_events(events)
    assert state["qualification"]["country"] == "AT" and asked_next(events, slots) is None  # the form ends
    # The offer comes from the routed queue; the booking keeps the answers and the rule.
    slots = {**DETAILS, "qualification": state["qualification"]}
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots=slots, text="wir sind in Österreich"))
    offer_id = messages[0]["buttons"][0]["payload"].split('"slot_id":"')[1].rstrip('"}')
    with store.session() as s:
        assert s.get(Queue, s.get(Offer, offer_id).queue_id).slug == "enterprise"
    _, events = await run(ActionBookSlot(), make_tracker(slots=slots, intent="choose_slot",
                                                         entities=[{"entity": "slot_id", "value": offer_id}]))  # fmt: skip
    with store.session() as s:
        b = s.execute(select(Booking).where(Booking.visitor_email == "kai@konzern.de")).scalar_one()
        assert b.queue.slug == "enterprise" and b.routing["routing_rule"]["rule"] == "big"
        assert b.routing["answers"] == {"team_size": 1200, "country": "AT"}
        assert booking_json(b)["answers"] == {"team_size": 1200, "country": "AT"}
    from bot.admin import rules as admin_rules

    explained = admin_rules.explain(store, b.id)
    assert "answers to the qualification questions: country: AT; team_size: 1200" in explained, explained
    # A second booking in the same conversation: nothing asked again.
    assert asking.question("sales", visitor_from(slots)) is None


def visitor_from(slots):
    from actions.common import visitor

    return visitor(make_tracker(slots=slots))


async def test_a_choice_comes_as_buttons_and_a_disqualifying_answer_offers_nothing(asking, store):
    slots = {**DETAILS, "company_info": {"size": 20}}
    messages, _ = await run(ActionAskQualifyAnswer(), make_tracker(slots=slots))
    assert messages[0]["text"] == "Worüber möchten Sie sprechen?"
    assert [b["title"] for b in messages[0]["buttons"]] == ["Kaufen", "Ein Problem"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["Kaufen", "Ein Problem"]  # sent as typed text
    _, events = await run(ValidateBookingForm(), answering("Ein Problem", slots))
    state = slot_events(events)
    assert state["qualification"]["topic"] == "support" and asked_next(events, slots) is None
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots={**slots, "qualification": state["qualification"]}))
    said = " ".join(m.get("text") or "" for m in messages)
    assert "Hilfe gibt es beim Support" in said and "https://example.com/support" in said
    assert not any(m.get("buttons") for m in messages)


async def test_an_answer_not_understood_twice_is_not_asked_a_third_time(asking, store):
    form = ValidateBookingForm()
    slots = dict(DETAILS)
    for text in ("keine Ahnung", "weiß nicht"):
        _, events = await run(form, answering(text, slots))
        slots["qualification"] = slot_events(events)["qualification"]
    assert slots["qualification"]["team_size"] is None
    # Next the topic (the support rule needs it); then the default rule, with times.
    assert asking.question("sales", visitor_from(slots)).id == "topic"
    slots["qualification"] = {**slots["qualification"], "topic": None}
    messages, _ = await run(ActionOfferSlots(), make_tracker(slots=slots))
    assert messages and messages[0]["buttons"]


async def test_times_asked_for_before_the_details_start_the_form_when_a_rule_needs_an_answer(asking, store):
    tracker = make_tracker(text="any time thursday?", intent="ask_time", slots={"queue": "sales", "timezone": "Europe/Berlin"})
    messages, events = await run(ActionOfferSlots(), tracker)
    assert not any(m.get("buttons") for m in messages)
    assert {"event": "followup", "name": "booking_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]


def test_an_owner_rule_offers_only_the_account_owners_times_and_the_queue_to_anyone_else(service, store):
    from bot.booking import domains

    add_queue(store, "sales", agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Eve", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        assert not domains.import_csv(s, "acme.com,eve@agents.example\n").errors
    service.ctx.routing = parse(
        "rules:\n  - name: key accounts\n    when: {company.tier: key}\n    owner: true\n"
        "  - name: default\n    default: true\n    queue: null\n"
    )
    try:
        key = Visitor(email="k@acme.com", company={"tier": "key"}, timezone="Europe/London")
        page = service.offer_slots("own-1", "sales", count=5, visitor=key)
        with store.session() as s:
            names = {a for o in page.slots for a in s.get(Offer, o.id).agent_ids}
        assert names == {agent_id(store, "Eve")}
        booked = service.book("own-1", page.slots[0].id, key)
        assert booked.agent_name == "Eve"
        # Not a key account, or a key account without an owner: the whole queue.
        other = Visitor(email="o@other.com", company={"tier": "key"}, timezone="Europe/London")
        page = service.offer_slots("own-2", "sales", count=5, visitor=other)
        with store.session() as s:
            assert {a for o in page.slots for a in s.get(Offer, o.id).agent_ids} == {
                agent_id(store, "Ada"), agent_id(store, "Eve")
            }
    finally:
        service.ctx.routing = None


def agent_id(store, name):
    from bot.store.models import Agent

    with store.session() as s:
        return s.execute(select(Agent.id).where(Agent.name == name)).scalar_one()
