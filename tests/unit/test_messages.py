"""Confirmation e-mail, ICS, outbox, and the metadata checks."""

from __future__ import annotations

import email
import email.policy
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.dialogue.visitor import clean_first_name, parse_metadata
from bot.i18n.texts import say
from bot.inputs import clean_email
from bot.messages.email import DEFAULT_BODY, DEFAULT_SUBJECT, Confirmation, build_confirmation
from bot.messages.outbox import FileOutbox
from tests.helpers import utc


def confirmation(**kw):
    base = dict(
        booking_id="b" * 32,
        agent_name="Ada Lovelace",
        agent_email="ada@agents.example",
        visitor_email="dana@example.com",
        visitor_name="Dana",
        start=utc(2026, 12, 1, 12),
        end=utc(2026, 12, 1, 12, 30),
        timezone=ZoneInfo("Europe/Paris"),
        locale="en",
        conference_url="http://localhost:8000/meet/" + "b" * 32,
        subject_template=DEFAULT_SUBJECT,
        body_template=DEFAULT_BODY,
        person={"first_name": "Dana"},
        company={"name": "Acme"},
        attach_ics=True,
    )
    base.update(kw)
    return Confirmation(**base)


def test_email_renders_tokens_in_the_visitor_zone_with_ics(tmp_path):
    path = FileOutbox(tmp_path).send(build_confirmation(confirmation(), "Meetings <m@localhost>"))
    msg = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
    assert msg["Subject"] == "Your meeting with Ada Lovelace"
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Hi Dana,") and "Acme" in text and "1:00\u202fPM" in text  # 12:00 UTC in Paris
    [ics] = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert ics.get_param("method") == "REQUEST"
    cal = Calendar.from_ical(ics.get_payload(decode=True))
    assert cal["METHOD"] == "REQUEST"
    [ev] = cal.walk("VEVENT")
    assert ev.decoded("DTSTART") == utc(2026, 12, 1, 12) and str(ev["ATTENDEE"]) == "mailto:dana@example.com"
    assert str(ev["UID"]).startswith("b" * 32) and ev["LOCATION"].endswith("b" * 32)
    assert list(tmp_path.glob(".tmp-*")) == []  # written atomically


def test_hostile_names_cannot_inject_headers_or_markup(tmp_path):
    evil = "Eve\r\nBcc: victim@example.com <script>x</script>"
    c = confirmation(visitor_name=evil, person={"first_name": evil}, subject_template="Hi {{person.first_name}}")
    msg = build_confirmation(c, "m@localhost")
    headers = bytes(msg).split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and msg["Bcc"] is None
    assert "\n" not in msg["Subject"]
    assert "<script>" not in msg.get_body(("html",)).get_content()


def test_no_ics_when_the_provider_invites_itself():
    msg = build_confirmation(confirmation(attach_ics=False), "m@localhost")
    assert not [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]


def test_metadata_is_checked_field_by_field():
    meta = parse_metadata(
        {
            "locale": "en-US",
            "timezone": "Mars/Base",
            "queue": "../etc",
            "person": {"first_name": "  Kim \n", "email": "kim@", "owner_email": "o@corp.example", "evil": "x"},
            "company": ["not", "a", "dict"],
        }
    )
    assert meta.locale == "en_US" and meta.timezone is None and meta.queue is None
    # "evil" is a custom field like any other (routing rules read them; the agent sees them)
    assert meta.person == {"first_name": "Kim", "owner_email": "o@corp.example", "evil": "x"} and meta.company == {}
    custom = parse_metadata({"company": {
        "size": 800, "plan": "pro\n", "is_partner": True, "Bad-Key": "x", "nested": {"a": 1}, "list": [1],
        "backup_email": "x@y.z", "long": "y" * 500, **{f"f{i}": i for i in range(30)},
    }}).company  # fmt: skip
    assert custom["size"] == "800" and custom["plan"] == "pro" and custom["is_partner"] == "True"
    assert not {"Bad-Key", "nested", "list", "backup_email", "long"} & custom.keys()  # "long": over 200 characters
    assert len(custom) == 3 + 20 - 2  # size is known, plan and is_partner custom: 18 more of the 30 fit
    assert parse_metadata("garbage").is_empty() and parse_metadata(None).is_empty()
    assert parse_metadata({"timezone": "Asia/Kolkata", "queue": "sales"}).timezone == "Asia/Kolkata"


def test_email_and_name_cleaning():
    assert clean_email("Sure: Jo.Doe+x@Example.co.uk.") == "Jo.Doe+x@Example.co.uk"
    assert clean_email("jo@") is None and clean_email(42) is None and clean_email("a@b") is None
    assert clean_first_name("hi, I'm Dana!") == "Dana"
    assert clean_first_name("my name is <b>Bo</b>") == "<b>Bo</b>"
    assert clean_first_name("   ") is None


def test_email_speaks_the_visitors_language_but_keeps_the_agents_words():
    msg = build_confirmation(confirmation(locale="fr"), "m@localhost")
    assert msg["Subject"] == "Votre rendez-vous avec Ada Lovelace" and msg["Content-Language"] == "fr"
    text = msg.get_body(("plain",)).get_content()
    assert f"{say('email_when', 'fr')}: " in text and say("email_when", "fr") != "When"  # French labels
    assert text.startswith("Bonjour Dana,")  # the default body is ours: in the visitor's language too
    own = build_confirmation(confirmation(locale="de", subject_template="Demo mit {{company.name}}",
                                          body_template="Hi {{person.first_name}}, see you!"), "m@x")
    assert own["Subject"] == "Demo mit Acme"
    assert own.get_body(("plain",)).get_content().startswith("Hi Dana, see you!")  # the agent's own, as written
