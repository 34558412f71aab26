"""The confirmation e-mail: the agent's invitation rendered from tokens, plus an ICS REQUEST
when the calendar provider does not invite the attendee itself."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from bot.i18n import format_when, zone_label
from bot.i18n.texts import TEXTS, say, template
from bot.messages.tokens import render_html, render_text

#: The default invitation, English source: new agents get a copy; translations are the
#: ``invitation_*_default`` entries of ``bot/i18n/locales/<lang>.po``.
DEFAULT_SUBJECT = TEXTS["invitation_subject_default"]
DEFAULT_BODY = TEXTS["invitation_body_default"]


def default_invitation(lang: str) -> tuple[str, str]:
    """The default subject and body in ``lang`` (English when untranslated), tokens unfilled."""
    return template("invitation_subject_default", lang), template("invitation_body_default", lang)


def _own(text: str | None, default: str) -> bool:
    """Whether the agent wrote ``text`` (not empty, not our default as copied to new agents)."""
    return bool(text and text.strip()) and text.replace("\r\n", "\n").strip() != default.strip()


def invitation_for(
    lang: str, subject: str | None, body: str | None, versions: Mapping[str, tuple[str, str]] | None = None
) -> tuple[str, str]:
    """The subject and body templates a visitor speaking ``lang`` gets, each looked up in order:
    the agent's version for ``lang`` → the agent's own main text, when they changed it (sent
    as written, in every language) → our default in ``lang``. ``versions``: lang → (subject,
    body); a version's empty subject falls through to the next step."""
    lang = (lang or "en").replace("-", "_").split("_")[0].lower()
    d_subject, d_body = default_invitation(lang)
    v_subject, v_body = (versions or {}).get(lang, ("", ""))
    if v_subject and v_subject.strip():
        subject_t = v_subject
    else:
        subject_t = subject if subject and _own(subject, DEFAULT_SUBJECT) else d_subject
    if v_body and v_body.strip():
        body_t = v_body
    else:
        body_t = body if body and _own(body, DEFAULT_BODY) else d_body
    return subject_t, body_t


@dataclass(frozen=True)
class Confirmation:
    booking_id: str
    agent_name: str
    agent_email: str
    visitor_email: str
    visitor_name: str
    start: datetime
    end: datetime
    timezone: ZoneInfo
    locale: str
    conference_url: str | None
    subject_template: str
    body_template: str
    person: Mapping[str, Any]
    company: Mapping[str, Any]
    attach_ics: bool
    #: Signed link to the page where the visitor cancels (shown in the e-mail when set).
    manage_url: str | None = None
    sequence: int = 0
    #: Signed link to the page where the visitor picks a new time (until the meeting starts).
    reschedule_url: str | None = None
    #: The visitor's guests (lower-case addresses): attendees in the ICS, listed to the agent.
    guests: tuple[str, ...] = ()
    #: The agent's invitation versions per visitor language: lang → (subject, body).
    invitations: Mapping[str, tuple[str, str]] = field(default_factory=dict)


def token_context(c: Confirmation) -> dict[str, Mapping[str, Any]]:
    return {
        "person": c.person,
        "company": c.company,
        "agent": {"name": c.agent_name, "email": c.agent_email},
        "meeting": {
            "when": format_when(c.start, c.end, c.timezone, c.locale),
            "url": c.conference_url or "",
        },
    }


def build_ics(c: Confirmation, summary: str, description: str, domain: str, method: str = "REQUEST") -> bytes:
    """REQUEST for a new or moved meeting, CANCEL to remove it (same UID, higher SEQUENCE)."""
    cal = Calendar()
    cal.add("prodid", "-//meeting booking in website chat//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    ev = Event()
    ev.add("uid", f"{c.booking_id}@{domain}")
    ev.add("dtstamp", datetime.now(timezone.utc))
    ev.add("dtstart", c.start.astimezone(timezone.utc))
    ev.add("dtend", c.end.astimezone(timezone.utc))
    ev.add("sequence", c.sequence)
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    ev.add("summary", summary)
    ev.add("description", description)
    if c.conference_url:
        ev.add("location", c.conference_url)
        ev.add("url", c.conference_url)
    organizer = vCalAddress(f"mailto:{c.agent_email}")
    organizer.params["cn"] = vText(c.agent_name)
    ev.add("organizer", organizer)
    for attendee in ics_attendees(c.visitor_email, c.visitor_name or c.visitor_email, c.guests):
        ev.add("attendee", attendee)
    cal.add_component(ev)
    return cal.to_ical()


def ics_attendees(email: str, name: str, guests: Sequence[str], **params: str) -> list[vCalAddress]:
    """The visitor, then each guest: required attendees asked to reply (``params``: more, e.g.
    ``schedule_agent="CLIENT"``)."""
    people = [(email, name)] + [(g, g) for g in guests if g.lower() != email.lower()]
    out = []
    for address, cn in people:
        attendee = vCalAddress(f"mailto:{address}")
        attendee.params["cn"] = vText(cn)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        for key, value in params.items():
            attendee.params[key.replace("_", "-")] = vText(value)
        out.append(attendee)
    return out


def build_confirmation(c: Confirmation, mail_from: str, *, corrected: bool = False) -> EmailMessage:
    """The confirmation, in the visitor's language; ``corrected``: sent again after the visitor
    corrected their e-mail or name (its own Message-ID; the ICS REQUEST has the new SEQUENCE)."""
    ctx = token_context(c)
    lang = c.locale.split("_")[0]
    # The default invitation is ours, so it speaks the visitor's language; an agent's own text
    # stays as written unless they wrote a version for this language (invitation_for). A subject
    # is one line: a hostile name must not smuggle in headers.
    subject_t, body_t = invitation_for(lang, c.subject_template, c.body_template, c.invitations)
    subject = " ".join(render_text(subject_t, ctx).split())
    facts = [
        f"{say('email_when', lang)}: {_when(c)}",
        f"{say('email_with', lang)}: {c.agent_name}",
    ]
    if c.conference_url:
        facts.append(f"{say('email_join', lang)}: {c.conference_url}")
    facts += _links(c, lang)
    code = f"{say('email_code', lang)}: {c.booking_id}"
    text = render_text(body_t, ctx) + "\n\n" + "\n".join(facts) + f"\n\n{code}\n"
    fact_html = "".join(f"<li>{html.escape(f)}</li>" for f in facts)
    html_body = (
        "<!doctype html><html><body>"
        f"<p>{render_html(body_t, ctx)}</p><ul>{fact_html}</ul>"
        f"<p>{html.escape(code)}</p></body></html>"
    )
    ics = "REQUEST" if c.attach_ics else None
    suffix = f"-corrected-{c.sequence}" if corrected else ""
    return _to_visitor(c, mail_from, lang, subject, text, suffix=suffix, html_body=html_body, ics_method=ics)


def _when(c: Confirmation, start: datetime | None = None, end: datetime | None = None) -> str:
    when = format_when(start or c.start, end or c.end, c.timezone, c.locale)
    return f"{when} ({zone_label(c.timezone, c.locale)})"


def _links(c: Confirmation, lang: str) -> list[str]:
    """The signed "another time?" and "cancel?" links, when the app serves those pages."""
    out = []
    if c.reschedule_url:
        out.append(f"{say('email_reschedule', lang)}: {c.reschedule_url}")
    if c.manage_url:
        out.append(f"{say('email_cancel', lang)}: {c.manage_url}")
    return out


def _to_visitor(
    c: Confirmation,
    mail_from: str,
    lang: str,
    subject: str,
    text: str,
    *,
    suffix: str = "",
    html_body: str | None = None,
    ics_method: str | None = None,
) -> EmailMessage:
    """An e-mail to the visitor about this booking (replies go to the agent), optionally with an
    HTML part and an ICS of ``ics_method``."""
    msg = EmailMessage()
    domain = c.agent_email.rsplit("@", 1)[-1] or "localhost"
    msg["Subject"] = subject
    msg["From"] = mail_from
    msg["To"] = formataddr((" ".join(c.visitor_name.split()), c.visitor_email))
    msg["Reply-To"] = formataddr((" ".join(c.agent_name.split()), c.agent_email))
    msg["Message-ID"] = make_msgid(idstring=c.booking_id + suffix, domain=domain)
    msg["X-Booking-Id"] = c.booking_id
    msg.set_content(text)
    if html_body is not None:
        msg.add_alternative(html_body, subtype="html")
    if ics_method:
        ics = build_ics(c, subject, text, domain, method=ics_method)
        name = "cancel.ics" if ics_method == "CANCEL" else "invite.ics"
        msg.add_attachment(ics, maintype="text", subtype="calendar", filename=name, params={"method": ics_method})
    msg["Content-Language"] = lang  # last: set_content() and friends drop Content-* headers
    return msg


def build_cancellation(c: Confirmation, mail_from: str) -> EmailMessage:
    """The visitor's notice that the meeting is cancelled, in their language; with an ICS CANCEL
    when we sent the invitation (``attach_ics``), so their calendar drops the event."""
    lang = c.locale.split("_")[0]
    subject = " ".join(say("email_cancelled_subject", lang, agent=c.agent_name).split())
    text = (
        say("email_cancelled_body", lang, agent=c.agent_name, when=_when(c))
        + f"\n\n{say('email_code', lang)}: {c.booking_id}\n"
    )
    ics = "CANCEL" if c.attach_ics else None
    return _to_visitor(c, mail_from, lang, subject, text, suffix="-cancel", ics_method=ics)


def build_reminder(c: Confirmation, mail_from: str) -> EmailMessage:
    """A reminder before the meeting, in the visitor's language, with the link and the cancel link."""
    lang = c.locale.split("_")[0]
    when = _when(c)
    subject = " ".join(say("email_reminder_subject", lang, agent=c.agent_name, when=when).split())
    lines = [say("email_reminder_body", lang, agent=c.agent_name, when=when), ""]
    if c.conference_url:
        lines.append(f"{say('email_join', lang)}: {c.conference_url}")
    lines += _links(c, lang)
    lines += ["", f"{say('email_code', lang)}: {c.booking_id}"]
    return _to_visitor(c, mail_from, lang, subject, "\n".join(lines) + "\n", suffix="-reminder")


def build_rescheduled(c: Confirmation, was_start: datetime, was_end: datetime, mail_from: str) -> EmailMessage:
    """The visitor's notice that the meeting moved, in their language; with an updated ICS
    REQUEST (same UID, higher SEQUENCE) when we sent the invitation, so their calendar moves it."""
    lang = c.locale.split("_")[0]
    when = _when(c)
    subject = " ".join(say("email_moved_subject", lang, agent=c.agent_name, when=when).split())
    lines = [say("email_moved_body", lang, agent=c.agent_name, when=when, was=_when(c, was_start, was_end)), ""]
    lines += [f"{say('email_when', lang)}: {when}", f"{say('email_with', lang)}: {c.agent_name}"]
    if c.conference_url:
        lines.append(f"{say('email_join', lang)}: {c.conference_url}")
    lines += _links(c, lang)
    lines += ["", f"{say('email_code', lang)}: {c.booking_id}"]
    ics = "REQUEST" if c.attach_ics else None
    return _to_visitor(
        c, mail_from, lang, subject, "\n".join(lines) + "\n", suffix=f"-moved-{c.sequence}", ics_method=ics
    )


def build_guest_mail(
    c: Confirmation, guest: str, mail_from: str, kind: str = "invitation", *, was: tuple[datetime, datetime] | None = None
) -> EmailMessage:
    """What a guest of the visitor gets when we send the invitations (the local calendar; Google
    and Graph invite the attendees themselves): the invitation with an ICS REQUEST, a move
    (``kind="moved"``, ``was`` = the old start and end; REQUEST with the booking's SEQUENCE) or a
    cancellation (``kind="cancelled"``; ICS CANCEL). In the visitor's language, addressed to the
    guest, without the visitor's signed links or booking code: those are the visitor's to use."""
    lang = c.locale.split("_")[0]
    # The guest is not the visitor: the invitation greets them without the visitor's name.
    g = replace(c, person={"email": guest}, manage_url=None, reschedule_url=None)
    when = _when(g)
    invited_by = f"{say('email_invited_by', lang)}: {' '.join(c.visitor_name.split()) or c.visitor_email}"
    if kind == "cancelled":
        subject = " ".join(say("email_cancelled_subject", lang, agent=c.agent_name).split())
        text = say("email_cancelled_body", lang, agent=c.agent_name, when=when) + f"\n\n{invited_by}\n"
        method = "CANCEL"
    else:
        if kind == "moved":
            subject = " ".join(say("email_moved_subject", lang, agent=c.agent_name, when=when).split())
            start, end = was or (c.start, c.end)
            head = say("email_moved_body", lang, agent=c.agent_name, when=when, was=_when(g, start, end))
        else:
            subject_t, body_t = invitation_for(lang, c.subject_template, c.body_template, c.invitations)
            subject = " ".join(render_text(subject_t, token_context(g)).split())
            head = render_text(body_t, token_context(g))
        facts = [f"{say('email_when', lang)}: {when}", f"{say('email_with', lang)}: {c.agent_name}", invited_by]
        if c.conference_url:
            facts.append(f"{say('email_join', lang)}: {c.conference_url}")
        text = head + "\n\n" + "\n".join(facts) + "\n"
        method = "REQUEST"
    tag = hashlib.sha256(guest.encode()).hexdigest()[:12]  # a Message-ID has room for no second "@"
    msg = _to_visitor(g, mail_from, lang, subject, text, suffix=f"-guest-{kind}-{c.sequence}-{tag}", ics_method=method)
    msg.replace_header("To", guest)
    return msg


def build_agent_notice(
    event: str,
    c: Confirmation,
    agent_zone: ZoneInfo,
    mail_from: str,
    *,
    previous: tuple[datetime, datetime] | None = None,
    was_visitor: str = "",
    added: Sequence[str] = (),
) -> EmailMessage:
    """The agent's e-mail about a new, moved (``previous`` = the old start and end), cancelled
    or corrected (``was_visitor`` = the old name and e-mail) booking, with everything the visitor told us (person and company details), times
    in the agent's zone. Plain text: the values are the visitor's and are never interpreted."""
    verb = {
        "created": "New booking",
        "cancelled": "Booking cancelled",
        "rescheduled": "Booking moved",
        "updated": "Visitor's details corrected",
        "guests_added": "Guests added",
    }[event]
    when = f"{format_when(c.start, c.end, agent_zone, 'en')} ({zone_label(agent_zone, 'en')})"
    who = " ".join(c.visitor_name.split()) or c.visitor_email
    company = str(c.company.get("name") or "").strip()
    subject = " ".join(f"{verb}: {who}{f' ({company})' if company else ''}, {when}".split())
    lines = [f"{verb} with {who}.", "", f"When: {when}"]
    if previous is not None:
        lines.append(f"Was: {format_when(previous[0], previous[1], agent_zone, 'en')}")
    if was_visitor:
        lines.append(f"Was: {' '.join(was_visitor.split())}")
    if c.conference_url and event != "cancelled":
        lines.append(f"Join: {c.conference_url}")
    if added:
        lines.append(f"Added: {', '.join(added)}")
    if c.guests:
        lines.append(f"Guests: {', '.join(c.guests)}")
    lines += ["", "Visitor:", f"  e-mail: {c.visitor_email}"]
    lines += [f"  {k}: {' '.join(str(v).split())}" for k, v in sorted(c.person.items()) if k != "email" and v]
    if c.company:
        lines += ["Company:"] + [f"  {k}: {' '.join(str(v).split())}" for k, v in sorted(c.company.items()) if v]
    lines += ["", f"Booking code: {c.booking_id}", f"Visitor's language and zone: {c.locale}, {c.timezone.key}"]
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = mail_from
    msg["To"] = formataddr((" ".join(c.agent_name.split()), c.agent_email))
    msg["Reply-To"] = formataddr((who, c.visitor_email))
    msg["X-Booking-Id"] = c.booking_id
    msg.set_content("\n".join(lines) + "\n")
    return msg
