"""The agent portal (/portal): sign-in, invitations, and each agent's tabs — calendar,
invitation body, availability, bookings. Admin pages are in ``portal_admin``.

An agent reads and changes only their own pages (``/portal/agents/<own id>/...``); an admin may
open any agent's. Every page goes through ``portal_kit.guard``: signed in, right role, CSRF.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from functools import wraps
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import delete, select

from bot.admin import rules
from bot.admin.accounts import (
    AccountError,
    SignInThrottled,
    accept_invite,
    authenticate,
    read_invite,
    session_token,
    sign_out,
)
from bot.calendars import connect
from bot.errors import BookingError, ConfigError, ConnectError
from bot.i18n import SUPPORTED, format_when, zone, zone_label
from bot.messages.email import default_invitation
from bot.messages.tokens import render_text, tokens_in, unknown_tokens
from bot.ops.runtime import caldav_config, google_config
from bot.settings import Settings
from bot.store.models import Agent, AgentInvitation, Booking, CalendarConnection, Queue, QueueMember, TimeOff
from bot.web import caldav_forms
from bot.web.oauth import LABELS, MEETING, REASONS
from bot.web.portal_kit import (
    COOKIE,
    HEADERS,
    csrf_field,
    e,
    forbidden,
    form_value,
    guard,
    may_see_agent,
    page,
    post_button,
    same_origin,
)
from bot.web.threads import run

log = logging.getLogger(__name__)

#: The token picker: what an agent can put in the invitation body, with sample values for
#: the preview.
TOKENS: list[tuple[str, str, str]] = [
    ("person.first_name", "Visitor's first name", "Dana"),
    ("person.last_name", "Visitor's last name", "Lee"),
    ("person.email", "Visitor's e-mail", "dana@acme.example"),
    ("person.title", "Visitor's job title", "CTO"),
    ("company.name", "Company name", "Acme"),
    ("company.industry", "Company industry", "Retail"),
    ("company.size", "Company size", "200"),
    ("agent.name", "Your name", ""),
    ("meeting.when", "Meeting date and time", ""),
    ("meeting.url", "Meeting link", ""),
]
SAMPLE_LINK = {
    "google": "https://meet.google.com/abc-defg-hij",
    "microsoft": "https://teams.microsoft.com/l/meetup-join/sample",
    "local": "http://localhost:8000/meet/sample",
    "caldav": "http://localhost:8000/meet/sample",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The visitor languages an agent may write an invitation version for (bot.i18n.SUPPORTED).
LANGUAGES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "pt": "Portuguese", "it": "Italian"}
assert tuple(LANGUAGES) == SUPPORTED
#: What the invitation tab says about languages, in plain words.
AS_WRITTEN = (
    "Visitors chat in English, French, German, Spanish, Portuguese or Italian. While the body below is "
    "our default, each visitor gets it in their own language. Once you change it, it is sent exactly as "
    "you wrote it, in every language, unless you add a version for the visitor's language below."
)


def sample_context(agent: Agent, now: datetime, lang: str = "en") -> dict[str, dict[str, str]]:
    ctx: dict[str, dict[str, str]] = {"person": {}, "company": {}}
    for path, _label, value in TOKENS:
        ns, key = path.split(".")
        if value:
            ctx[ns][key] = value
    start = (now + timedelta(days=2)).replace(hour=14, minute=0, second=0, microsecond=0)
    tz = zone(agent.timezone)
    ctx["agent"] = {"name": agent.name, "email": agent.email}
    ctx["meeting"] = {
        "when": f"{format_when(start, start + timedelta(minutes=30), tz, lang)} ({zone_label(tz, lang)})",
        "url": SAMPLE_LINK.get(agent.provider, SAMPLE_LINK["local"]) if agent.include_conference else "",
    }
    return ctx


def check_template(subject: str, body: str) -> None:
    if "\n" in subject.strip() or len(subject) > 300:
        raise ConfigError("The subject must be one line of at most 300 characters.")
    if not body.strip() or len(body) > 10000:
        raise ConfigError("The body must have between 1 and 10,000 characters.")
    unknown = unknown_tokens(subject + "\n" + body)
    if unknown:
        raise ConfigError(
            "Unknown token " + ", ".join("{{" + u + "}}" for u in unknown)
            + ": pick tokens with the { } button (person, company, agent, meeting)."
        )


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("portal")
    secure_cookie = settings.public_url.startswith("https://")

    def set_session(resp: response.HTTPResponse, token: str) -> response.HTTPResponse:
        resp.cookies[COOKIE] = token
        resp.cookies[COOKIE].update({"httponly": True, "samesite": "Strict", "path": "/portal"})
        # Set only over https: Sanic writes a false flag as "Secure=False", which RFC 6265 (5.2.5)
        # reads as Secure whatever its value, so the session never came back over plain http.
        if secure_cookie:
            resp.cookies[COOKIE]["secure"] = True
        return resp

    # ---- sign-in ---------------------------------------------------------------------------
    @bp.get("/portal")
    @guard(settings)
    async def home(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        if who.agent_id is not None and not who.is_admin:
            return response.redirect(f"/portal/agents/{who.agent_id}/calendar", headers=HEADERS)
        return response.redirect("/portal/admin/dashboard", headers=HEADERS)

    def signin_form(next_url: str, email: str = "") -> str:
        return (
            "<form method=post action=/portal/signin class=card>"
            f"<input type=hidden name=next value='{e(next_url)}'>"
            f"<label>E-mail <input type=email name=email required autocomplete=username value='{e(email)}'></label>"
            "<label>Password <input type=password name=password required autocomplete=current-password></label>"
            "<button type=submit>Sign in</button></form>"
        )

    def safe_next(raw: str) -> str:
        # Only a path of the portal: never an open redirect to another site.
        parts = urlsplit(raw or "")
        return raw if raw.startswith("/portal") and not parts.netloc and not raw.startswith("//") else "/portal"

    @bp.route("/portal/signin", methods=["GET", "POST"])
    async def signin(request: Request) -> response.HTTPResponse:
        if request.method == "GET":
            return page("Sign in", signin_form(safe_next(request.args.get("next", "/portal"))))
        if not same_origin(request, settings):
            return page("Sign in", signin_form("/portal"), error="Please sign in from this site.", status=403)
        email, password = form_value(request, "email").strip(), form_value(request, "password")
        next_url = safe_next(form_value(request, "next", "/portal"))
        try:
            account_id = await run(authenticate, request.app.ctx.store, email, password, request.remote_addr or request.ip)
        except SignInThrottled as exc:
            return page("Sign in", signin_form(next_url, email), error=str(exc), status=429)
        if account_id is None:
            return page(
                "Sign in", signin_form(next_url, email), error="That e-mail and password do not match.", status=401
            )
        token = await run(session_token, request.app.ctx.store, request.app.ctx.vault, account_id)
        return set_session(response.redirect(next_url, headers=HEADERS), token)

    @bp.post("/portal/signout")
    @guard(settings)
    async def signout(request: Request) -> response.HTTPResponse:
        await run(sign_out, request.app.ctx.store, request.ctx.who.account_id)
        resp = response.redirect("/portal/signin", headers=HEADERS)
        del resp.cookies[COOKIE]
        return resp

    @bp.route("/portal/invite", methods=["GET", "POST"])
    async def invite(request: Request) -> response.HTTPResponse:
        token = request.args.get("t", "") if request.method == "GET" else form_value(request, "t")
        try:
            body = read_invite(request.app.ctx.vault, token)
        except AccountError as exc:
            return page("Invitation", f"<p>{e(exc)}</p>", status=400)
        form = (
            "<form method=post action=/portal/invite class=card>"
            f"<input type=hidden name=t value='{e(token)}'>"
            f"<p>Welcome, {e(body.get('n') or body['e'])}. Choose a password for <strong>{e(body['e'])}</strong> "
            "(at least 12 characters); next, connect your calendar.</p>"
            "<label>Password <input type=password name=password required minlength=12 autocomplete=new-password></label>"
            "<label>Again <input type=password name=again required minlength=12 autocomplete=new-password></label>"
            "<button type=submit>Create my account</button></form>"
        )
        if request.method == "GET":
            return page("Join the team", form)
        if not same_origin(request, settings):
            return page("Join the team", form, error="Please use the form on this site.", status=403)
        password = form_value(request, "password")
        if password != form_value(request, "again"):
            return page("Join the team", form, error="The two passwords differ.", status=400)
        try:
            account_id = await run(accept_invite, request.app.ctx.store, request.app.ctx.vault, token, password)
        except (AccountError, ConfigError) as exc:
            return page("Join the team", form, error=str(exc), status=400)
        store = request.app.ctx.store
        agent_id = await run(_agent_of, store, account_id)
        token = await run(session_token, store, request.app.ctx.vault, account_id)
        return set_session(response.redirect(f"/portal/agents/{agent_id}/calendar", headers=HEADERS), token)

    # ---- an agent's tabs -------------------------------------------------------------------
    async def load_agent(request: Request, agent_id: int) -> Agent | None:
        def get() -> Agent | None:
            with request.app.ctx.store.session() as s:
                agent = s.get(Agent, agent_id)
                if agent is not None:
                    _ = (agent.hours, agent.overrides, agent.time_off)  # loaded for the page
                return agent

        return await run(get)

    def agent_tab(handler: Callable[[Request, Agent], Awaitable[response.HTTPResponse]]) -> Any:
        """An agent's tab: signed in (``guard``), the agent's own pages or an admin (else 403),
        an agent that exists (else 404); the handler gets the loaded agent."""

        @guard(settings)
        @wraps(handler)
        async def tab(request: Request, agent_id: int) -> response.HTTPResponse:
            who = request.ctx.who
            if not may_see_agent(who, agent_id):
                log.warning("account %s tried agent %s's pages", who.account_id, agent_id)
                return forbidden(who)
            agent = await load_agent(request, agent_id)
            if agent is None:
                return page("Not found", "<p>No such agent.</p>", who, status=404)
            return await handler(request, agent)

        return tab

    def heading(who: Any, agent: Agent) -> str:
        return "" if who.agent_id == agent.id else f"<p class=muted>Agent: {e(agent.name)} ({e(agent.email)})</p>"

    @bp.route("/portal/agents/<agent_id:int>/calendar", methods=["GET", "POST"])
    @agent_tab
    async def calendar_tab(request: Request, agent: Agent) -> response.HTTPResponse:
        who, agent_id = request.ctx.who, agent.id
        notice = error = None
        store, v, base = request.app.ctx.store, request.app.ctx.vault, f"/portal/agents/{agent_id}/calendar"
        do = form_value(request, "do") if request.method == "POST" else ""
        typed = {"url": form_value(request, "url"), "username": form_value(request, "username"),
                 "preset": form_value(request, "preset")} if do == "caldav" else {}  # fmt: skip
        if request.method == "POST" and do in ("caldav", "calendars") and who.agent_id != agent_id:
            return forbidden(who)  # only the agent connects their own account
        if do == "disconnect":
            done = await run(connect.disconnect, store, v, google_config(settings), agent.email)
            notice = "Calendar disconnected. You are out of the queues until you connect one again." if done else None
        elif do == "caldav":
            invite = connect.Invite(agent.email, None, agent.name, agent.timezone)
            try:
                address = caldav_forms.server_url(typed["preset"], typed["url"])
                await run(connect.connect_caldav, store, v, caldav_config(settings), invite, address,
                          typed["username"], form_value(request, "password"))  # fmt: skip
                notice, typed = "CalDAV calendar connected. Choose below which calendars count as busy.", {}
            except ConnectError as exc:
                error = str(exc)
        elif do == "calendars":
            try:
                await run(connect.choose_caldav, store, v, caldav_config(settings), agent_id,
                          form_value(request, "calendar"), caldav_forms.form_list(request, "busy"))  # fmt: skip
                notice = "Saved: visitors are offered the times you are free in the calendars marked busy."
            except ConnectError as exc:
                error = str(exc)
        elif request.method == "POST":
            return page("Calendar", "<p>Unknown action.</p>", who, status=400)
        conn = await run(_connection, store, agent_id)
        if conn is None:
            state = "<p><strong>No calendar connected.</strong> Visitors are offered your hours from the "
            state += "built-in calendar only.</p>" if agent.provider == "local" else "</p>"
        else:
            health = {
                "connected": "Connected",
                "needs_reconnect": "Needs reconnect: the provider stopped accepting our access. Connect again.",
            }.get(conn["status"], conn["status"])
            attention = ""
            if conn["failing"]:  # the last read failed after the last good one (or there was no good one)
                attention = (
                    f"<p class=error role=alert>Needs attention: the last read failed at {e(conn['last_error_at'])}: "
                    f"{e(conn['last_error'])}. Visitors are not offered your times until it reads again.</p>"
                )
            state = (
                f"{attention}<dl class=facts><dt>Provider</dt><dd>{e(LABELS.get(conn['provider'], conn['provider']))}</dd>"
                f"<dt>Account</dt><dd>{e(conn['account_email'])}</dd>"
                f"<dt>Status</dt><dd class='status-{e(conn['status'])}'>{e(health)}</dd>"
                f"<dt>Connected since</dt><dd>{e(conn['connected_at'])}</dd>"
                f"<dt>Last successful read</dt><dd>{e(conn['last_ok_at'] or 'not yet')}</dd>"
                f"<dt>Last error</dt><dd>{e(conn['last_error'] or 'none')}</dd></dl>"
                + post_button(who, f"/portal/agents/{agent_id}/calendar", "Disconnect", fields={"do": "disconnect"})
            )
            if conn["provider"] == "caldav" and who.agent_id == agent_id:
                try:
                    account, calendars = await run(connect.caldav_calendars, store, v, caldav_config(settings), agent_id)
                    state += caldav_forms.choose_form(base, csrf_field(who), calendars, account.calendar, account.busy)
                except ConnectError as exc:
                    state += f"<p class=muted>Your calendars cannot be listed right now: {e(exc)}</p>"
        offers = ""
        if who.agent_id == agent_id:  # only the agent connects their own account
            token = connect.invite_token(request.app.ctx.vault, agent.email, None, agent.name, agent.timezone)
            for provider in ("google", "microsoft"):
                reasons = "".join(f"<li>{e(r)}</li>" for r in REASONS[provider])
                offers += (
                    f"<section class=card><h2>{e(LABELS[provider])}</h2><p>We ask for these permissions, and only "
                    f"these:</p><ul>{reasons}</ul><p>Meetings get a {e(MEETING[provider])} link.</p>"
                    f"<p><a class=button href='/oauth/{provider}/start?invite={e(token)}'>Connect "
                    f"{e(LABELS[provider])}</a></p></section>"
                )
            reasons = "".join(f"<li>{e(r)}</li>" for r in REASONS["caldav"])
            offers += (
                "<section class=card><h2>CalDAV (iCloud, Fastmail, Nextcloud, …)</h2>"
                f"<p>With an app password, no sign-in page. We use it to:</p><ul>{reasons}</ul>"
                f"<p>Meetings get a link to {e(MEETING['caldav'])}.</p>"
                + caldav_forms.connect_form(base, csrf_field(who), **typed)
                + "</section>"
            )
            offers = "<h2>Connect a calendar</h2><p>One calendar per agent: connecting replaces the current one.</p>" + offers
        return page("Calendar", heading(who, agent) + state + offers, who, active="calendar", notice=notice,
                    error=error, status=400 if error else 200)  # fmt: skip

    @bp.route("/portal/agents/<agent_id:int>/invitation", methods=["GET", "POST"])
    @agent_tab
    async def invitation_tab(request: Request, agent: Agent) -> response.HTTPResponse:
        """The main invitation (no ``lang``) or the agent's version for one visitor language
        (``?lang=fr`` to open it; POST field ``lang``, with ``do=remove`` to delete it)."""
        who, agent_id, store = request.ctx.who, agent.id, request.app.ctx.store
        error = notice = None
        post = request.method == "POST"
        lang = (form_value(request, "lang") if post else request.args.get("lang", "")).strip()
        if lang and lang not in LANGUAGES:
            return page("Invitation", heading(who, agent) + "<p>Unknown language.</p>", who, active="invitation",
                        status=400)
        versions = await run(_versions, store, agent_id)
        if lang:
            subject, body = versions.get(lang) or default_invitation(lang)
        else:
            subject, body = agent.invitation_subject, agent.invitation_body
        include = agent.include_conference
        if post and lang and form_value(request, "do") == "remove":
            await run(_remove_version, store, agent_id, lang)
            notice = f"Removed the {LANGUAGES[lang]} version: {LANGUAGES[lang]}-speaking visitors get the main invitation."
            versions.pop(lang, None)
            lang, (subject, body) = "", (agent.invitation_subject, agent.invitation_body)
        elif post:
            subject, body = form_value(request, "subject"), form_value(request, "body").replace("\r\n", "\n")
            if not lang:
                include = form_value(request, "include_conference") == "on"
            try:
                check_template(subject, body)
                if lang:
                    await run(_save_version, store, agent_id, lang, subject.strip(), body)
                    versions[lang] = (subject.strip(), body)
                    notice = f"Saved. {LANGUAGES[lang]}-speaking visitors get this version from the next booking on."
                else:
                    await run(_save_invitation, store, agent_id, subject.strip(), body, include)
                    notice = "Saved. The next booking's confirmation uses this text."
            except ConfigError as exc:
                error = str(exc)
        agent.include_conference = include
        ctx = sample_context(agent, datetime.now(timezone.utc), lang or "en")
        picker = "".join(
            f"<li role=option tabindex=-1 data-token='{e('{{' + path + '}}')}'>"
            f"<code>{e('{{' + path + '}}')}</code> {e(label)}</li>"
            for path, label, _v in TOKENS
        )
        meeting = MEETING.get(agent.provider, "meeting")
        base = f"/portal/agents/{agent_id}/invitation"
        if lang:
            options = "".join(
                f"<option value='{code}'{' selected' if code == lang else ''}>{e(name)}</option>"
                for code, name in LANGUAGES.items()
            )
            intro = (
                f"<p><a href='{base}'>← Main invitation</a></p>"
                f"<p class=muted>The version for {e(LANGUAGES[lang])}-speaking visitors: it replaces the main "
                "invitation for them only. Leave the subject empty to use the main one.</p>"
            )
            fields = f"<label>Language <select name=lang>{options}</select></label>"
            extra = ""
            after = (
                post_button(who, base, f"Remove the {LANGUAGES[lang]} version", fields={"lang": lang, "do": "remove"})
                if lang in versions else ""
            )
        else:
            intro = f"<p class=muted id=as-written>{e(AS_WRITTEN)}</p>"
            fields = ""
            extra = (
                f"<label class=check><input type=checkbox name=include_conference{' checked' if include else ''}> "
                f"Include a {e(meeting)} link</label>"
            )
            after = _versions_card(who, base, versions)
        form = (
            intro + f"<form method=post action='{base}' class='card editor' id=invitation"
            f" data-preview='{base}/preview'>{csrf_field(who)}{fields}"
            f"<label>Subject <input name=subject maxlength=300 value='{e(subject)}'></label>"
            "<div class=toolbar><button type=button id=token-button aria-haspopup=listbox aria-expanded=false "
            "aria-controls=token-list title='Insert a token'>{ }</button>"
            f"<ul id=token-list role=listbox aria-label='Tokens' hidden>{picker}</ul></div>"
            f"<label>Body <textarea name=body id=body rows=10 maxlength=10000>{e(body)}</textarea></label>"
            f"{extra}<button type=submit>Save</button></form>{after}"
            "<section class=card><h2>Preview</h2><p class=muted>With sample values (Dana Lee, CTO at Acme).</p>"
            f"<p><strong id=preview-subject>{e(render_text(subject, ctx))}</strong></p>"
            f"<div id=preview aria-live=polite class=preview>{e(render_text(body, ctx))}</div>"
            f"<p class=muted>Tokens used: {e(', '.join(tokens_in(subject + body)) or 'none')}</p></section>"
        )
        title = f"Invitation in {LANGUAGES[lang]}" if lang else "Invitation"
        return page(
            title, heading(who, agent) + form, who, active="invitation", notice=notice, error=error,
            status=400 if error else 200,
        )

    @bp.post("/portal/agents/<agent_id:int>/invitation/preview")
    @guard(settings)
    async def invitation_preview(request: Request, agent_id: int) -> response.HTTPResponse:
        if not may_see_agent(request.ctx.who, agent_id):
            return response.json({"error": "not allowed"}, status=403)
        agent = await load_agent(request, agent_id)
        if agent is None:
            return response.json({"error": "no such agent"}, status=404)
        subject, body = form_value(request, "subject"), form_value(request, "body")
        lang = form_value(request, "lang")
        if not lang:  # a language version has no checkbox: the agent's setting holds
            agent.include_conference = form_value(request, "include_conference") == "on"
        ctx = sample_context(agent, datetime.now(timezone.utc), lang if lang in LANGUAGES else "en")
        problem = None
        try:
            check_template(subject, body)
        except ConfigError as exc:
            problem = str(exc)
        return response.json(
            {"subject": render_text(subject, ctx), "body": render_text(body, ctx), "problem": problem},
            headers={"Cache-Control": "no-store"},
        )

    @bp.route("/portal/agents/<agent_id:int>/availability", methods=["GET", "POST"])
    @agent_tab
    async def availability_tab(request: Request, agent: Agent) -> response.HTTPResponse:
        who, agent_id = request.ctx.who, agent.id
        error = notice = None
        if request.method == "POST":
            try:
                notice = await run(_change_availability, request.app.ctx.store, agent, request)
            except (ConfigError, ValueError) as exc:
                error = str(exc) or "That was not understood."
            agent = await load_agent(request, agent_id)
        queues = await run(_queue_rules, request.app.ctx.store, agent_id)
        overrides = "".join(
            f"<li>{e(day)}: {e(blocks or 'day off')} "
            + post_button(who, f"/portal/agents/{agent_id}/availability", "Remove",
                          fields={"do": "remove-override", "day": day}, cls="link")
            + "</li>"
            for day, blocks in _overrides(agent)
        ) or "<li>None</li>"
        tz = zone(agent.timezone)
        time_off = "".join(
            f"<li>{e(t.start.astimezone(tz).strftime('%Y-%m-%d %H:%M'))} – {e(t.end.astimezone(tz).strftime('%Y-%m-%d %H:%M'))}"
            f"{' (' + e(t.reason) + ')' if t.reason else ''} "
            + post_button(who, f"/portal/agents/{agent_id}/availability", "Remove",
                          fields={"do": "remove-timeoff", "id": t.id}, cls="link")
            + "</li>"
            for t in sorted(agent.time_off, key=lambda t: t.start)
        ) or "<li>None</li>"
        queue_rules = "".join(
            f"<li>{e(q['name'])}: {q['meeting']} min meetings, at least {q['notice']} min notice, "
            f"{q['before']} min buffer before and {q['after']} after, up to {q['window']} days ahead</li>"
            for q in queues
        ) or "<li>Not in any queue yet.</li>"
        base = f"/portal/agents/{agent_id}/availability"
        body = (
            heading(who, agent)
            + f"<form method=post action='{base}' class=card>{csrf_field(who)}<input type=hidden name=do value=hours>"
            f"<label>Time zone <input name=timezone required value='{e(agent.timezone)}' "
            "placeholder='Europe/Paris' pattern='[A-Za-z_]+(/[A-Za-z0-9_+-]+)*'></label>"
            f"<label>Weekly hours <input name=hours value='{e(rules.format_hours(agent.hours))}' "
            "placeholder='mon-fri 09:00-17:00; sat 10:00-12:00' aria-describedby=hours-help></label>"
            "<p id=hours-help class=muted>Days and times in your zone, e.g. <code>mon-thu 09:00-12:00,13:00-17:00; "
            "fri 09:00-13:00</code>.</p>"
            "<label>Most meetings per day <input type=number min=0 max=50 name=max_per_day "
            f"value='{e(agent.max_meetings_per_day if agent.max_meetings_per_day is not None else '')}' "
            "placeholder='no limit'></label>"
            "<fieldset><legend>Your buffers and notice (minutes; your queue's apply when larger)</legend>"
            f"<label>Free before a meeting <input type=number min=0 max=10080 name=buffer_before "
            f"value='{agent.buffer_before_minutes}'></label>"
            f"<label>Free after a meeting <input type=number min=0 max=10080 name=buffer_after "
            f"value='{agent.buffer_after_minutes}'></label>"
            f"<label>Minimum notice <input type=number min=0 max=10080 name=notice "
            f"value='{agent.min_notice_minutes}'></label></fieldset>"
            "<button type=submit>Save hours</button></form>"
            f"<section class=card><h2>Days with other hours</h2><ul>{overrides}</ul>"
            f"<form method=post action='{base}'>{csrf_field(who)}<input type=hidden name=do value=override>"
            "<label>Day <input type=date name=day required></label>"
            "<label>Hours that day <input name=blocks placeholder='10:00-14:00 (empty: day off)'></label>"
            "<button type=submit>Add</button></form></section>"
            f"<section class=card><h2>Time off</h2><ul>{time_off}</ul>"
            f"<form method=post action='{base}'>{csrf_field(who)}<input type=hidden name=do value=timeoff>"
            "<label>From <input type=datetime-local name=start required></label>"
            "<label>Until <input type=datetime-local name=end required></label>"
            "<label>Reason (optional) <input name=reason maxlength=200></label>"
            "<button type=submit>Add time off</button></form></section>"
            f"<section class=card><h2>Your queues' rules</h2><p class=muted>Set per queue by your admin; "
            f"the larger of these and your own buffers and notice apply:</p><ul>{queue_rules}</ul></section>"
        )
        return page("Availability", body, who, active="availability", notice=notice, error=error,
                    status=400 if error else 200)

    @bp.route("/portal/agents/<agent_id:int>/bookings", methods=["GET", "POST"])
    @agent_tab
    async def bookings_tab(request: Request, agent: Agent) -> response.HTTPResponse:
        who, agent_id = request.ctx.who, agent.id
        error = notice = None
        status = 200
        if request.method == "POST":  # a past meeting marked held or no-show
            attendance = form_value(request, "attendance")
            try:
                row = await run(
                    request.app.ctx.service.mark_attendance, form_value(request, "booking"), attendance, agent_id=agent_id
                )
                notice = f"Marked {'held' if attendance == 'held' else 'no-show'}: {row['visitor_email']}."
            except (ConfigError, BookingError) as exc:
                error = {"NotYourBooking": "That booking is not yours.", "MeetingNotOver": "That meeting is not over yet."}.get(
                    type(exc).__name__, str(exc) or "That was not understood."
                )
                status = 403 if type(exc).__name__ == "NotYourBooking" else 400
        rows = await run(_bookings_of, request.app.ctx.store, agent_id)
        now = datetime.now(timezone.utc)
        tz = zone(agent.timezone)
        action = f"/portal/agents/{agent_id}/bookings"

        def attendance(b: dict[str, Any]) -> str:
            if b["status"] != "confirmed" or b["end"] > now:
                return e(b["status"])
            mark = {"held": "held", "no_show": "no-show"}.get(b["attendance"] or "", "not marked")
            buttons = "".join(
                post_button(who, action, label, fields={"booking": b["id"], "attendance": value}, cls="link")
                for value, label in (("held", "Held"), ("no_show", "No-show"))
                if b["attendance"] != value
            )
            return f"{e(mark)}<br>{buttons}"

        def table(items: list[dict[str, Any]]) -> str:
            if not items:
                return "<p>None.</p>"
            trs = "".join(
                "<tr>"
                f"<td>{e(format_when(b['start'], b['end'], tz, 'en'))}</td>"
                f"<td>{e(b['visitor'])}<br><a href='mailto:{e(b['email'])}'>{e(b['email'])}</a></td>"
                f"<td>{e(b['company'])}</td>"
                f"<td>{e(b['details'])}</td>"
                f"<td>{'<br>'.join(e(g) for g in b['guests']) or '—'}</td>"
                f"<td>{attendance(b)}</td>"
                f"<td><code>{e(b['id'][:8])}</code></td></tr>"
                for b in items
            )
            return (
                "<div class=scroll><table><thead><tr><th scope=col>When</th><th scope=col>Visitor</th>"
                "<th scope=col>Company</th><th scope=col>Details</th><th scope=col>Guests</th><th scope=col>Status</th>"
                f"<th scope=col>Code</th></tr></thead><tbody>{trs}</tbody></table></div>"
            )

        upcoming = [b for b in rows if b["end"] > now and b["status"] == "confirmed"]
        past = [b for b in rows if not (b["end"] > now and b["status"] == "confirmed")][::-1]
        body = (
            heading(who, agent)
            + f"<p class=muted>Times in {e(zone_label(tz, 'en'))}.</p>"
            + f"<h2>Upcoming</h2>{table(upcoming)}<h2>Past and cancelled</h2>{table(past[:100])}"
        )
        return page("My bookings" if who.agent_id == agent_id else "Bookings", body, who, active="bookings",
                    notice=notice, error=error, status=status)

    return bp


# ---- the database side (run in a thread) ------------------------------------------------------
def _agent_of(store: Any, account_id: int) -> int | None:
    from bot.store.models import Account

    with store.session() as s:
        return s.get(Account, account_id).agent_id


def _connection(store: Any, agent_id: int) -> dict[str, Any] | None:
    with store.session() as s:
        c = s.execute(select(CalendarConnection).where(CalendarConnection.agent_id == agent_id)).scalar_one_or_none()
        if c is None:
            return None
        return {
            "provider": c.provider,
            "account_email": c.account_email,
            "status": c.status,
            "last_error": c.last_error,
            "connected_at": c.connected_at.strftime("%Y-%m-%d %H:%M UTC"),
            "last_ok_at": c.last_ok_at.strftime("%Y-%m-%d %H:%M UTC") if c.last_ok_at else None,
            "last_error_at": c.last_error_at.strftime("%Y-%m-%d %H:%M UTC") if c.last_error_at else None,
            "failing": c.last_error_at is not None and (c.last_ok_at is None or c.last_error_at > c.last_ok_at),
        }


def _save_invitation(store: Any, agent_id: int, subject: str, body: str, include: bool) -> None:
    with store.session() as s:
        agent = s.get(Agent, agent_id)
        agent.invitation_subject, agent.invitation_body, agent.include_conference = subject, body, include


def _versions_card(who: Any, base: str, versions: dict[str, tuple[str, str]]) -> str:
    """The agent's versions per language, with an edit link and a remove button each, and the
    language picker that opens a new one (prefilled with our default in that language)."""
    rows = "".join(
        f"<tr><td>{e(LANGUAGES[code])}</td><td>{e(versions[code][0]) or '<span class=muted>(main subject)</span>'}</td>"
        f"<td><a href='{base}?lang={code}'>Edit</a> "
        + post_button(who, base, "Remove", fields={"lang": code, "do": "remove"})
        + "</td></tr>"
        for code in LANGUAGES if code in versions
    )
    table = (
        f"<table id=versions><thead><tr><th>Language</th><th>Subject</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        if rows else "<p class=muted>No versions per language yet.</p>"
    )
    options = "".join(f"<option value='{code}'>{e(name)}</option>" for code, name in LANGUAGES.items())
    return (
        "<section class=card><h2>A version per language</h2>"
        "<p>Write the invitation again for the visitors of one language: they get that version, everyone "
        f"else the invitation above.</p>{table}"
        f"<form method=get action='{base}'><label>Language <select name=lang>{options}</select></label> "
        "<button type=submit>Add or edit</button></form></section>"
    )


def _versions(store: Any, agent_id: int) -> dict[str, tuple[str, str]]:
    with store.session() as s:
        rows = s.execute(select(AgentInvitation).where(AgentInvitation.agent_id == agent_id)).scalars()
        return {r.lang: (r.subject, r.body) for r in rows}


def _save_version(store: Any, agent_id: int, lang: str, subject: str, body: str) -> None:
    with store.session() as s:
        row = s.get(AgentInvitation, (agent_id, lang))
        if row is None:
            s.add(AgentInvitation(agent_id=agent_id, lang=lang, subject=subject, body=body))
        else:
            row.subject, row.body = subject, body


def _remove_version(store: Any, agent_id: int, lang: str) -> None:
    with store.session() as s:
        s.execute(delete(AgentInvitation).where(AgentInvitation.agent_id == agent_id, AgentInvitation.lang == lang))


def _overrides(agent: Agent) -> list[tuple[str, str]]:
    days: dict[date, list[str]] = {}
    for o in agent.overrides:
        blocks = days.setdefault(o.day, [])
        if o.start_minute is not None and o.end_minute is not None:
            blocks.append(f"{_hhmm(o.start_minute)}-{_hhmm(o.end_minute)}")
    return [(d.isoformat(), ",".join(b)) for d, b in sorted(days.items())]


def _queue_rules(store: Any, agent_id: int) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.execute(select(Queue).join(QueueMember).where(QueueMember.agent_id == agent_id)).scalars().all()
        return [
            {
                "name": q.name,
                "meeting": q.meeting_minutes,
                "notice": q.min_notice_minutes,
                "before": q.buffer_before_minutes,
                "after": q.buffer_after_minutes,
                "window": q.window_days,
            }
            for q in rows
        ]


def _change_availability(store: Any, agent: Agent, request: Request) -> str:
    do = form_value(request, "do")
    if do == "hours":
        cap = form_value(request, "max_per_day").strip()
        if cap and (not cap.isdigit() or int(cap) > 50):
            raise ConfigError("Most meetings per day must be a number from 0 to 50, or empty for no limit.")
        own = {}
        for name in ("buffer_before", "buffer_after", "notice"):
            raw = form_value(request, name, "0").strip() or "0"
            if not raw.isdigit():
                raise ConfigError("Buffers and notice are whole minutes, 0 or more.")
            own[name] = int(raw)
        rules.set_agent(
            store,
            agent.email,
            tz=rules.check_zone(form_value(request, "timezone").strip()),
            hours=form_value(request, "hours").strip(),
            max_per_day=int(cap) if cap else None,
            **own,
        )
        return "Hours saved."
    if do == "override":
        day = rules.parse_day(form_value(request, "day"))
        rules.set_override(store, agent.email, day, form_value(request, "blocks").strip())
        return f"Hours for {day.isoformat()} saved."
    if do == "remove-override":
        rules.set_override(store, agent.email, rules.parse_day(form_value(request, "day")), None)
        return "Removed."
    if do == "timeoff":
        start = datetime.fromisoformat(form_value(request, "start"))
        end = datetime.fromisoformat(form_value(request, "end"))
        if start.tzinfo or end.tzinfo:
            raise ConfigError("Give local times in your zone.")
        rules.add_time_off(store, agent.email, start, end, form_value(request, "reason").strip()[:200] or None)
        return "Time off added."
    if do == "remove-timeoff":
        raw = form_value(request, "id")
        with store.session() as s:
            # Only this agent's entries: an id of someone else's deletes nothing.
            s.execute(delete(TimeOff).where(TimeOff.id == int(raw or 0), TimeOff.agent_id == agent.id))
        return "Removed."
    raise ConfigError("Unknown action.")


def _bookings_of(store: Any, agent_id: int) -> list[dict[str, Any]]:
    with store.session() as s:
        rows = s.execute(
            select(Booking)
            .where(Booking.agent_id == agent_id, Booking.status.in_(("confirmed", "cancelled")))
            .order_by(Booking.start)
        ).scalars().all()
        out = []
        for b in rows:
            person = {k: v for k, v in (b.person or {}).items() if k not in ("first_name", "last_name", "email") and v}
            company = {k: v for k, v in (b.company or {}).items() if k != "name" and v}
            answers = {k: v for k, v in ((b.routing or {}).get("answers") or {}).items() if v is not None}
            details = "; ".join(f"{k}: {v}" for k, v in sorted({**person, **company, **answers}.items()))
            out.append(
                {
                    "id": b.id,
                    "start": b.start,
                    "end": b.end,
                    "status": b.status,
                    "visitor": " ".join(p for p in (b.visitor_first_name, b.visitor_last_name) if p) or "—",
                    "email": b.visitor_email,
                    "company": b.company_name or "—",
                    "details": details or "—",
                    "guests": list(b.guests or ()),
                    "attendance": b.attendance,
                }
            )
        return out


__all__ = ["blueprint", "TOKENS", "check_template"]
