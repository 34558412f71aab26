"""The pages behind the cancel and reschedule links in the visitor's e-mails, in their language.

GET shows the meeting (and, to reschedule, the new times: the same agent's first); only a POST
carrying the same signed token changes anything, so a mail scanner that follows links changes
nothing. The token names the booking, the action and the booking's sequence: once the booking is
cancelled or moved the sequence moves on and the link is spent (the new e-mail has new links).
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request

from bot.errors import (
    AlreadyCancelled,
    BookingInPast,
    BookingNotFound,
    GuestError,
    OfferExpired,
    OfferNotFound,
    ProviderError,
    SlotInPast,
    SlotTaken,
)
from bot.i18n import format_slot, format_when, zone, zone_label
from bot.i18n.texts import say
from bot.messages.links import check_manage_token
from bot.ops.runtime import vault
from bot.settings import Settings
from bot.web.threads import run

log = logging.getLogger(__name__)
BOOKING_RE = re.compile(r"^[0-9a-f]{32}$")


def room_page(lang: str, title: str, body: str, status: int = 200) -> response.HTTPResponse:
    """A small page for a visitor or an agent arriving from a link (cancel, reschedule, calendar
    connect): never cached, no referrer (the link's token stays here)."""
    return response.html(
        f"<!doctype html><html lang={html.escape(lang)}><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        "<meta name=referrer content=no-referrer>"
        f"<title>{html.escape(title)}</title><link rel=stylesheet href=/static/chat.css></head>"
        f"<body><main class=room><h1>{html.escape(title)}</h1>{body}</main></body></html>",
        status=status,
        headers={"Cache-Control": "no-store"},
    )


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("manage")
    v = vault(settings)

    def describe(b: dict[str, Any]) -> tuple[str, dict[str, str]]:
        lang = (b.get("locale") or "en").split("_")[0]
        tz = zone(b.get("timezone"))
        start, end = _utc(b["start"]), _utc(b["end"])
        when = f"{format_when(start, end, tz, b.get('locale') or 'en')} ({zone_label(tz, b.get('locale') or 'en')})"
        return lang, {"agent": b["agent_name"], "when": when}

    async def load(
        request: Request, booking_id: str, token: str, action: str = "cancel"
    ) -> tuple[dict[str, Any] | None, int | None]:
        if not BOOKING_RE.match(booking_id or ""):
            return None, None
        seq = check_manage_token(v, token or "", booking_id, action)
        if seq is None:
            return None, None
        return await run(request.app.ctx.service.get_booking, booking_id), seq

    def invalid(lang: str = "en", title: str = "page_cancel_title") -> response.HTTPResponse:
        return room_page(lang, say(title, lang), _p(say("page_link_invalid", lang)), status=404)

    def form_token(request: Request) -> tuple[str, dict[str, Any]]:
        form = request.form if request.content_type.startswith("application/x-www-form-urlencoded") else None
        return ((form or {}).get("t", "") or ""), (form or {})

    @bp.route("/booking/<booking_id:str>/cancel", methods=["GET", "POST"])
    async def cancel_page(request: Request, booking_id: str) -> response.HTTPResponse:
        # One route for both methods: Sanic then answers other methods 405, not 404.
        return await (cancel(request, booking_id) if request.method == "POST" else show(request, booking_id))

    async def show(request: Request, booking_id: str) -> response.HTTPResponse:
        token = request.args.get("t", "")
        b, seq = await load(request, booking_id, token)
        if b is None:
            return invalid()
        lang, values = describe(b)
        title = say("page_cancel_title", lang)
        if b["status"] == "cancelled":
            return room_page(lang, title, _p(say("page_already_cancelled", lang)))
        if b["status"] != "confirmed" or seq != b["sequence"]:
            return invalid(lang)
        form = (
            f"<form method=post action='/booking/{booking_id}/cancel'>"
            f"<input type=hidden name=t value='{html.escape(token, quote=True)}'>"
            f"<button type=submit>{html.escape(say('page_cancel_button', lang))}</button></form>"
        )
        return room_page(lang, title, _p(say("page_cancel_question", lang, **values)) + form)

    async def cancel(request: Request, booking_id: str) -> response.HTTPResponse:
        token, _form = form_token(request)
        b, seq = await load(request, booking_id, token)
        if b is None:
            return invalid()
        lang, values = describe(b)
        title = say("page_cancel_title", lang)
        try:
            await run(request.app.ctx.service.cancel, booking_id, sequence=seq)
        except AlreadyCancelled:
            return room_page(lang, title, _p(say("page_already_cancelled", lang)))
        except BookingInPast:
            return room_page(lang, title, _p(say("page_meeting_past", lang)), status=409)
        except BookingNotFound:
            return invalid(lang)
        except ProviderError as exc:
            log.warning("cancel of %s failed at the provider: %s", booking_id, type(exc).__name__)
            return room_page(lang, title, _p(say("page_cancel_failed", lang)), status=503)
        return room_page(lang, title, _p(say("page_cancelled", lang, **values)))

    # ---- reschedule -------------------------------------------------------------------------
    @bp.route("/booking/<booking_id:str>/reschedule", methods=["GET", "POST"])
    async def reschedule_page(request: Request, booking_id: str) -> response.HTTPResponse:
        if request.method == "POST":
            return await move(request, booking_id)
        return await choose(request, booking_id, request.args.get("t", ""), request.args.get("after"))

    async def checked(
        request: Request, booking_id: str, token: str
    ) -> tuple[dict[str, Any] | None, int | None, response.HTTPResponse | None]:
        """The booking behind a reschedule link, or the page that says why it cannot move."""
        b, seq = await load(request, booking_id, token, "reschedule")
        if b is None:
            return None, None, invalid(title="page_reschedule_title")
        lang, _values = describe(b)
        title = say("page_reschedule_title", lang)
        if b["status"] == "cancelled":
            return None, None, room_page(lang, title, _p(say("page_already_cancelled", lang)))
        if b["status"] != "confirmed" or seq != b["sequence"]:
            return None, None, invalid(lang, "page_reschedule_title")
        return b, seq, None

    async def choose(
        request: Request,
        booking_id: str,
        token: str,
        after: str | None,
        notice: str | None = None,
        status: int = 200,
        message: str | None = None,
    ) -> response.HTTPResponse:
        b, seq, refused = await checked(request, booking_id, token)
        if refused is not None:
            return refused
        lang, values = describe(b)
        title = say("page_reschedule_title", lang)
        guests = guest_form(booking_id, token, lang, b.get("guests") or [])
        try:
            page, same = await run(
                request.app.ctx.service.offer_reschedule,
                f"link:{booking_id}",
                booking_id,
                after=_after(after),
                sequence=seq,
            )
        except BookingInPast:
            return room_page(lang, title, _p(say("meeting_started", lang)), status=409)
        except (BookingNotFound, AlreadyCancelled):
            return invalid(lang, "page_reschedule_title")
        head = (_p(say(notice, lang)) if notice else "") + (
            f"<p role=status>{html.escape(message)}</p>" if message else ""
        ) + _p(say("page_reschedule_intro", lang, **values))
        if not page.slots:
            return room_page(lang, title, head + _p(say("page_reschedule_none", lang)) + guests, status=status)
        locale = b.get("locale") or "en"
        tz = zone(b.get("timezone"), page.queue.timezone)

        def group(legend: str, slots: list) -> str:
            if not slots:
                return ""
            items = "".join(
                f"<label><input type=radio name=offer required value='{html.escape(o.id, quote=True)}'> "
                f"{html.escape(format_slot(o.start, tz, locale))}</label><br>"
                for o in slots
            )
            return f"<fieldset><legend>{html.escape(legend)}</legend>{items}</fieldset>"

        later = page.slots[-1].start.isoformat().replace("+00:00", "Z")
        form = (
            f"<form method=post action='/booking/{booking_id}/reschedule'>"
            f"<input type=hidden name=t value='{html.escape(token, quote=True)}'>"
            + group(say("page_reschedule_same", lang, agent=values["agent"]), page.slots[:same])
            + group(say("page_reschedule_colleague", lang), page.slots[same:])
            + f"<p>{html.escape(say('times_in_zone', lang, zone=zone_label(tz, locale)))}</p>"
            f"<button type=submit>{html.escape(say('page_reschedule_button', lang))}</button></form>"
            f"<p><a href='/booking/{booking_id}/reschedule?t={html.escape(token, quote=True)}&amp;after={later}'>"
            f"{html.escape(say('page_reschedule_later', lang))}</a></p>"
        )
        return room_page(lang, title, head + form + guests, status=status)

    def guest_form(booking_id: str, token: str, lang: str, guests: list[str]) -> str:
        """A colleague's e-mail address to invite: the same signed token as the move form."""
        listed = "".join(f"<li>{html.escape(g)}</li>" for g in guests)
        return (
            f"<form method=post action='/booking/{booking_id}/reschedule'>"
            f"<input type=hidden name=t value='{html.escape(token, quote=True)}'><input type=hidden name=do value=guest>"
            f"<fieldset><legend>{html.escape(say('page_guest_legend', lang))}</legend>"
            + (f"<ul>{listed}</ul>" if listed else "")
            + f"<label>{html.escape(say('page_guest_label', lang))} "
            "<input type=email name=guest multiple required maxlength=2000 autocomplete=off></label> "
            f"<button type=submit>{html.escape(say('page_guest_button', lang))}</button></fieldset></form>"
        )

    def ended(exc: Exception, lang: str, title: str) -> response.HTTPResponse:
        """The page for a booking that can no longer change: cancelled, started, or unknown."""
        if isinstance(exc, AlreadyCancelled):
            return room_page(lang, title, _p(say("page_already_cancelled", lang)))
        if isinstance(exc, BookingInPast):
            return room_page(lang, title, _p(say("meeting_started", lang)), status=409)
        return invalid(lang, "page_reschedule_title")

    async def add_guest(request: Request, booking_id: str) -> response.HTTPResponse:
        token, form = form_token(request)
        b, _seq, refused = await checked(request, booking_id, token)
        if refused is not None:
            return refused
        lang, values = describe(b)
        title = say("page_reschedule_title", lang)
        raw = str(form.get("guest", "") or "")[:2000]
        emails = [part for part in re.split(r"[\s,;]+", raw) if part]  # several addresses at once are fine
        before = set(b.get("guests") or [])
        try:
            if not emails:
                raise GuestError("invalid", "no address given")
            got = await run(request.app.ctx.service.add_guests, booking_id, emails)
        except GuestError as exc:
            text = {
                "invalid": say("page_guest_invalid", lang),
                "agent": say("page_guest_agent", lang, agent=values["agent"]),
                "too_many": say("page_guest_too_many", lang, limit=exc.limit if exc.limit is not None else ""),
            }[exc.reason]
            return await choose(request, booking_id, token, None, status=422, message=text)
        except (AlreadyCancelled, BookingInPast, BookingNotFound) as exc:
            return ended(exc, lang, title)
        except ProviderError as exc:
            log.warning("adding guests to %s failed at the provider: %s", booking_id, type(exc).__name__)
            return await choose(request, booking_id, token, None, status=503, message=say("page_guest_failed", lang))
        added = [g for g in got.get("guests") or [] if g not in before]
        if added:
            text = say("page_guest_added", lang, email=", ".join(added))
        else:
            text = say("page_guest_already", lang, email=", ".join(e.lower() for e in emails))
        return await choose(request, booking_id, token, None, message=text)

    async def move(request: Request, booking_id: str) -> response.HTTPResponse:
        token, form = form_token(request)
        if form.get("do") == "guest" or "guest" in form:  # the "bring a colleague" form of the same page
            return await add_guest(request, booking_id)
        b, seq, refused = await checked(request, booking_id, token)
        if refused is not None:
            return refused
        lang, _values = describe(b)
        title = say("page_reschedule_title", lang)
        offer_id = form.get("offer", "") or ""
        try:
            moved = await run(
                request.app.ctx.service.reschedule, f"link:{booking_id}", offer_id, booking_id=booking_id, sequence=seq
            )
        except (SlotTaken, OfferExpired, SlotInPast, OfferNotFound):
            return await choose(request, booking_id, token, None, notice="page_reschedule_taken", status=409)
        except (AlreadyCancelled, BookingInPast, BookingNotFound) as exc:
            return ended(exc, lang, title)
        except ProviderError as exc:
            log.warning("reschedule of %s failed at the provider: %s", booking_id, type(exc).__name__)
            return room_page(lang, title, _p(say("page_reschedule_failed", lang)), status=503)
        tz = zone(moved.timezone)
        when = f"{format_when(moved.start, moved.end, tz, moved.locale)} ({zone_label(tz, moved.locale)})"
        return room_page(lang, title, _p(say("page_rescheduled", lang, agent=moved.agent_name, when=when)))

    return bp


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso[:-1] + "+00:00" if iso.endswith("Z") else iso)


def _after(raw: str | None) -> datetime | None:
    """The "later times" cursor from the query string; anything unparsable starts from now."""
    if not raw or len(raw) > 40:
        return None
    try:
        t = _utc(raw)
    except ValueError:
        return None
    return t if t.tzinfo is not None else None
