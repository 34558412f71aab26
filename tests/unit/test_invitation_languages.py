"""The invitation the visitor reads (issue 17): our default in the six languages, following the
visitor's; an agent's own text as written in every language, unless the agent wrote a version
for the visitor's language (agent_invitations); the portal's editor for those versions."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot.admin import accounts
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.i18n import SUPPORTED
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT, default_invitation, invitation_for
from bot.messages.outbox import FileOutbox
from bot.messages.tokens import render_text, tokens_in
from bot.store.models import Agent, AgentInvitation, CalendarEvent
from bot.web import create_app
from bot.web.portal import sample_context
from tests.helpers import NINE_TO_FIVE, add_queue, mails_to
from tests.unit.test_portal import PASSWORD, Browser

OWN_SUBJECT = "Our call, {{person.first_name}}"
OWN_BODY = "Dear {{person.first_name}} of {{company.name}}, see you soon!"


@pytest.fixture
def book(service, store, settings):
    """Book the next time as Kim of Globex speaking ``locale``: (the e-mail, the calendar
    event's summary and description)."""

    def book(locale: str, email_to: str = "kim@globex.example"):
        conversation = f"c-{locale}-{email_to}"
        offer = service.offer_slots(conversation, "sales", count=1).slots[0]
        visitor = Visitor(email=email_to, first_name="Kim", company_name="Globex", locale=locale,
                          timezone="Europe/Paris")
        result = service.book(conversation, offer.id, visitor)
        [path] = [p for p in mails_to(settings.outbox_dir, email_to) if result.booking_id in p.name]
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        with store.session() as s:
            event = s.execute(select(CalendarEvent).where(CalendarEvent.attendee_email == email_to)).scalars().one()
            return msg, event.summary, event.description

    return book


def body_of(msg) -> str:
    return msg.get_body(("plain",)).get_content()


# ---- the six defaults --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", SUPPORTED)
def test_each_default_renders_with_the_demo_tokens(lang):
    subject, body = default_invitation(lang)
    assert tokens_in(subject) == tokens_in(DEFAULT_SUBJECT) and tokens_in(body) == tokens_in(DEFAULT_BODY)
    if lang != "en":
        assert (subject, body) != (DEFAULT_SUBJECT, DEFAULT_BODY)  # really translated
    agent = Agent(name="Ada Lovelace", email="ada@agents.example", timezone="Europe/London", provider="local",
                  include_conference=True)
    ctx = sample_context(agent, datetime(2026, 12, 1, 8, tzinfo=timezone.utc), lang)
    for template in (subject, body):
        out = render_text(template, ctx)
        assert "{{" not in out and "}}" not in out
    assert "Dana" in render_text(body, ctx) and "Acme" in render_text(body, ctx)
    assert "Ada Lovelace" in render_text(subject, ctx)
    # without a name or company, the fallbacks read naturally (no empty token, no stray space)
    bare = render_text(body, {"agent": {"name": "Ada"}})
    assert " ," not in bare and "  " not in bare and "{{" not in bare


def test_the_lookup_order():
    versions = {"fr": ("Rendez-vous", "Bonjour !"), "it": ("", "Ciao!")}
    # the default, unchanged: in the visitor's language
    assert invitation_for("de_DE", DEFAULT_SUBJECT, DEFAULT_BODY) == default_invitation("de")
    assert invitation_for("pt-BR", "", "") == default_invitation("pt")
    assert invitation_for("xx", DEFAULT_SUBJECT, DEFAULT_BODY) == (DEFAULT_SUBJECT, DEFAULT_BODY)
    # the agent's own: as written, in every language
    assert invitation_for("de", OWN_SUBJECT, OWN_BODY) == (OWN_SUBJECT, OWN_BODY)
    assert invitation_for("de", DEFAULT_SUBJECT, OWN_BODY) == (default_invitation("de")[0], OWN_BODY)
    # the version for the visitor's language wins, for that language only
    assert invitation_for("fr_FR", OWN_SUBJECT, OWN_BODY, versions) == ("Rendez-vous", "Bonjour !")
    assert invitation_for("es", OWN_SUBJECT, OWN_BODY, versions) == (OWN_SUBJECT, OWN_BODY)
    assert invitation_for("es", DEFAULT_SUBJECT, DEFAULT_BODY, versions) == default_invitation("es")
    # a version without a subject takes the next subject in line
    assert invitation_for("it", OWN_SUBJECT, OWN_BODY, versions) == (OWN_SUBJECT, "Ciao!")
    assert invitation_for("it", DEFAULT_SUBJECT, DEFAULT_BODY, versions) == (default_invitation("it")[0], "Ciao!")
    # a body saved from a browser (CRLF) that is still our default counts as the default
    assert invitation_for("fr", DEFAULT_SUBJECT, DEFAULT_BODY.replace("\n", "\r\n")) == default_invitation("fr")


# ---- through a booking -----------------------------------------------------------------------------
def test_a_french_visitor_with_a_default_agent_gets_the_french_invitation(book, store):
    add_queue(store)
    msg, summary, description = book("fr_FR")
    assert msg["Subject"] == "Votre rendez-vous avec Ada" and msg["Content-Language"] == "fr"
    text = body_of(msg)
    assert text.startswith("Bonjour Kim,\n\nmerci d'avoir réservé un rendez-vous.")
    assert "en savoir plus sur Globex" in text and "Bien cordialement,\nAda" in text and "{{" not in text
    assert "Hi Kim" not in text
    html = msg.get_body(("html",)).get_content()
    assert "Bonjour Kim" in html
    # the calendar event (what Google and Microsoft send as their invitation) speaks French too
    assert summary == "Votre rendez-vous avec Ada" and description.startswith("Bonjour Kim,")


def test_an_agents_own_body_stays_as_written_for_a_german_visitor(book, store):
    add_queue(store, subject=OWN_SUBJECT, body=OWN_BODY)
    msg, summary, description = book("de_DE")
    assert msg["Subject"] == "Our call, Kim" and msg["Content-Language"] == "de"
    assert body_of(msg).startswith("Dear Kim of Globex, see you soon!")
    assert "Wann" in body_of(msg)  # the fixed parts still speak German
    assert summary == "Our call, Kim" and description == "Dear Kim of Globex, see you soon!"


def test_a_version_per_language_wins_for_its_language_only(book, store):
    [ada] = add_queue(store, subject=OWN_SUBJECT, body=OWN_BODY)
    with store.session() as s:
        s.add(AgentInvitation(agent_id=ada, lang="fr", subject="Notre échange, {{person.first_name}}",
                              body="Chère équipe {{company.name}}, à bientôt !"))
    fr, fr_summary, _ = book("fr", email_to="kim@globex.example")
    assert fr["Subject"] == "Notre échange, Kim" and body_of(fr).startswith("Chère équipe Globex, à bientôt !")
    assert fr_summary == "Notre échange, Kim"
    de, _, _ = book("de", email_to="lea@globex.example")
    assert de["Subject"] == "Our call, Kim" and body_of(de).startswith("Dear Kim of Globex")


# ---- the portal ------------------------------------------------------------------------------------
@pytest.fixture
def world(store, settings):
    ada, bo = add_queue(store, agents=[("Ada", "Europe/London", NINE_TO_FIVE), ("Bo", "Europe/Paris", [])])
    accounts.create_account(store, "ada@agents.example", PASSWORD, "agent", agent_id=ada)
    accounts.create_account(store, "bo@agents.example", PASSWORD, "agent", agent_id=bo)
    return {"app": create_app(settings, store), "ada": ada, "bo": bo}


def versions_of(store, agent_id):
    with store.session() as s:
        rows = s.execute(select(AgentInvitation).where(AgentInvitation.agent_id == agent_id)).scalars()
        return {r.lang: (r.subject, r.body) for r in rows}


def test_the_portal_says_the_invitation_is_sent_as_written(world):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = b.get(f"/portal/agents/{world['ada']}/invitation")
    assert page.status == 200
    assert "sent exactly as you wrote it, in every language" in page.text
    assert "A version per language" in page.text and "<select name=lang>" in page.text
    opened = b.get(f"/portal/agents/{world['ada']}/invitation?lang=de")
    assert opened.status == 200 and "Invitation in German" in opened.text
    assert "Hallo {{person.first_name | &quot;zusammen&quot;}}" in opened.text  # starts from our German default
    assert "Remove the German version" not in opened.text  # nothing to remove yet
    assert b.get(f"/portal/agents/{world['ada']}/invitation?lang=xx").status == 400


def test_add_edit_remove_a_language_version(world, store):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/invitation"
    token = b.csrf(page)
    added = b.post(page, {"csrf": token, "lang": "fr", "subject": "Notre échange", "body": "Bonjour {{person.first_name}} !"})
    assert added.status == 200 and "Saved" in added.text and "Remove the French version" in added.text
    assert versions_of(store, world["ada"]) == {"fr": ("Notre échange", "Bonjour {{person.first_name}} !")}
    listed = b.get(page)
    assert "<table id=versions>" in listed.text and "Notre échange" in listed.text and "?lang=fr" in listed.text
    edited = b.post(page, {"csrf": token, "lang": "fr", "subject": "", "body": "Salut {{person.first_name}}\r\n!"})
    assert edited.status == 200
    assert versions_of(store, world["ada"]) == {"fr": ("", "Salut {{person.first_name}}\n!")}
    b.post(page, {"csrf": token, "lang": "it", "subject": "Ciao", "body": "Ciao!"})
    removed = b.post(page, {"csrf": token, "lang": "fr", "do": "remove"})
    assert removed.status == 200 and "Removed the French version" in removed.text
    assert versions_of(store, world["ada"]) == {"it": ("Ciao", "Ciao!")}
    with store.session() as s:  # the main invitation was never touched
        ada = s.get(Agent, world["ada"])
        assert (ada.invitation_subject, ada.invitation_body) == (DEFAULT_SUBJECT, DEFAULT_BODY)


def test_a_language_version_needs_auth_csrf_and_a_valid_template(world, store):
    page = f"/portal/agents/{world['ada']}/invitation"
    anon = Browser(world["app"])
    assert anon.get(page + "?lang=fr").status == 302
    assert anon.post(page, {"lang": "fr", "subject": "x", "body": "pwned"}).status == 401
    bo = Browser(world["app"])
    bo.signin("bo@agents.example")
    bo_token = bo.csrf(f"/portal/agents/{world['bo']}/invitation")
    assert bo.get(page + "?lang=fr").status == 403
    assert bo.post(page, {"csrf": bo_token, "lang": "fr", "subject": "x", "body": "pwned"}).status == 403
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    token = b.csrf(page)
    for forged in ({}, {"csrf": "forged"}, {"csrf": bo_token}):
        assert b.post(page, {**forged, "lang": "fr", "subject": "x", "body": "pwned"}).status == 403
        assert b.post(page, {**forged, "lang": "it", "do": "remove"}).status == 403
    bad = b.post(page, {"csrf": token, "lang": "fr", "subject": "x", "body": "Bonjour {{visitor.name}}"})
    assert bad.status == 400 and "Unknown token" in bad.text and "Invitation in French" in bad.text
    assert b.post(page, {"csrf": token, "lang": "fr", "subject": "x", "body": "  "}).status == 400
    assert b.post(page, {"csrf": token, "lang": "fr", "subject": "a\nb", "body": "ok"}).status == 400
    assert b.post(page, {"csrf": token, "lang": "klingon", "subject": "x", "body": "ok"}).status == 400
    assert versions_of(store, world["ada"]) == {}


def test_a_hostile_language_version_stays_inert(world, store, settings, clock):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/invitation"
    token = b.csrf(page)
    hostile = "<script>alert(1)</script>{{person.first_name}}' onmouseover='x"
    saved = b.post(page, {"csrf": token, "lang": "es", "subject": "<img src=x onerror=alert(1)>", "body": hostile})
    assert saved.status == 200
    for html in (saved.text, b.get(page + "?lang=es").text, b.get(page).text):
        assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in saved.text
    preview = b.post(f"{page}/preview", {"csrf": token, "lang": "es", "subject": "Hola", "body": hostile})
    assert preview.json["body"] == "<script>alert(1)</script>Dana' onmouseover='x"  # text, shown as text
    assert preview.json["problem"] is None
    # and in the e-mail to a Spanish visitor: plain text, the HTML part escapes it whole

    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir),
                         clock=clock)
    offer = svc.offer_slots("c", "sales", count=1).slots[0]
    svc.book("c", offer.id, Visitor(email="kim@globex.example", first_name="Kim", company_name="Globex", locale="es"))
    svc.close()
    [path] = mails_to(settings.outbox_dir, "kim@globex.example")
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "<img src=x onerror=alert(1)>"  # plain text header, one line
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;Kim" in html


def test_the_preview_of_a_version_speaks_its_language(world):
    b = Browser(world["app"])
    b.signin("ada@agents.example")
    page = f"/portal/agents/{world['ada']}/invitation"
    token = b.csrf(page)
    preview = b.post(f"{page}/preview", {"csrf": token, "lang": "de", "subject": "{{meeting.when}}", "body": "x"})
    assert preview.status == 200 and preview.json["problem"] is None
    assert "Britische Zeit" in preview.json["subject"], preview.json  # the date and zone in German


# ---- the migration ---------------------------------------------------------------------------------
def test_migration_0010_keeps_every_agents_invitation(tmp_path):
    from alembic import command
    from alembic.config import Config

    from bot.store.db import MIGRATIONS, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
        for email_, subject, body in (("a@x.example", DEFAULT_SUBJECT, DEFAULT_BODY),
                                      ("b@x.example", "Mine", "My own words, {{person.first_name}}")):
            conn.exec_driver_sql(
                "INSERT INTO agents (email, name, timezone, provider, active, invitation_subject, invitation_body, "
                "include_conference, created_at) VALUES (?, 'A', 'UTC', 'local', 1, ?, ?, 1, '2026-11-30 10:00:00')",
                (email_, subject, body),
            )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT email, invitation_subject, invitation_body FROM agents ORDER BY email").all()
        assert [tuple(r) for r in rows] == [("a@x.example", DEFAULT_SUBJECT, DEFAULT_BODY),
                                            ("b@x.example", "Mine", "My own words, {{person.first_name}}")]
        assert conn.exec_driver_sql("SELECT count(*) FROM agent_invitations").scalar_one() == 0
    with engine.begin() as conn:  # and back down
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM agents").scalar_one() == 2
    engine.dispose()
