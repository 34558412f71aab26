"""Admin pages of the portal: queues (settings, members and weights), agents (health, invite,
deactivate), the dashboard (round-robin fairness, funnel, failed bookings, CSV) and webhook
deliveries. Every route requires the admin role (``portal_kit.guard(settings, "admin")``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import func, select

from bot.admin import rules, stats
from bot.admin.accounts import invitation_email, invite_token
from bot.admin.when import parse_when
from bot.booking import domains
from bot.errors import BookingError, ConfigError
from bot.messages.delivery import queue_email
from bot.scheduling.routing import MODES, PERIODS
from bot.settings import Settings
from bot.store.models import Account, Agent, CalendarConnection, Queue, QueueMember, Webhook
from bot.web.chart import fairness_svg
from bot.web.portal_kit import HEADERS, csrf_field, e, form_value, guard, page, post_button
from bot.web.threads import run

log = logging.getLogger(__name__)

QUEUE_FIELDS: list[tuple[str, str, str]] = [
    # (form field / Queue attribute, label, input type)
    ("name", "Name", "text"),
    ("timezone", "Time zone", "text"),
    ("meeting_minutes", "Meeting length (minutes)", "meeting"),
    ("interval_minutes", "Start times every (minutes)", "number"),
    ("min_notice_minutes", "Minimum notice (minutes)", "number"),
    ("window_days", "Bookable days ahead", "number"),
    ("buffer_before_minutes", "Buffer before (minutes)", "number"),
    ("buffer_after_minutes", "Buffer after (minutes)", "number"),
    ("routing_mode", "Routing", "mode"),
    ("fairness_margin", "Fairness margin (bookings)", "number"),
    ("rr_period", "Round-robin period", "period"),
    ("reminder_minutes", "Reminders (minutes before, comma-separated)", "text"),
    ("max_guests", "Guests a visitor may bring (per booking)", "number"),
    ("credit_back_on_cancel", "A cancelled booking stops counting for the round robin", "bool"),
]
ROUTING_LABELS = {
    "max-availability": "Maximize availability (whoever is free, fairest first)",
    "max-fairness": "Maximize fairness (hold back agents ahead of their share)",
}


def blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("portal_admin")
    admin_only = guard(settings, "admin")

    # ---- queues -------------------------------------------------------------------------------
    @bp.route("/portal/admin/queues", methods=["GET", "POST"])
    @admin_only
    async def queues(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        error = None
        if request.method == "POST":
            slug = form_value(request, "slug").strip().lower()
            try:
                if not slug or not slug.replace("-", "").isalnum() or len(slug) > 64:
                    raise ConfigError("The queue id must be letters, digits and dashes (e.g. sales-emea).")
                if await run(_queue_exists, request.app.ctx.store, slug):
                    raise ConfigError(f"A queue {slug!r} exists already.")
                await run(
                    rules.set_queue, request.app.ctx.store, slug,
                    name=form_value(request, "name").strip() or slug.title(),
                    timezone=form_value(request, "timezone").strip() or "UTC",
                    meeting_minutes=int(form_value(request, "meeting_minutes") or 30),
                )
                return response.redirect(f"/portal/admin/queues/{slug}", status=303, headers=HEADERS)
            except (ConfigError, ValueError) as exc:
                error = str(exc)
        rows = await run(_queues, request.app.ctx.store)
        trs = "".join(
            f"<tr><td><a href='/portal/admin/queues/{e(q['slug'])}'>{e(q['name'])}</a></td><td><code>{e(q['slug'])}</code></td>"
            f"<td>{q['meeting']} min</td><td>{e(q['routing'])}</td><td>{q['members']}</td></tr>"
            for q in rows
        )
        lengths = "".join(f"<option value={m}{' selected' if m == 30 else ''}>{m} min</option>" for m in rules.MEETING_LENGTHS)
        body = (
            "<div class=scroll><table><thead><tr><th scope=col>Queue</th><th scope=col>Id</th><th scope=col>Meeting</th>"
            f"<th scope=col>Routing</th><th scope=col>Members</th></tr></thead><tbody>{trs}</tbody></table></div>"
            f"<form method=post action=/portal/admin/queues class=card><h2>New queue</h2>{csrf_field(who)}"
            "<label>Id <input name=slug required maxlength=64 pattern='[a-z0-9-]+' placeholder=sales-emea></label>"
            "<label>Name <input name=name maxlength=200 placeholder='Sales EMEA'></label>"
            "<label>Time zone <input name=timezone value=UTC></label>"
            f"<label>Meeting length <select name=meeting_minutes>{lengths}</select></label>"
            "<button type=submit>Create queue</button></form>"
        )
        return page("Queues", body, who, active="queues", error=error, status=400 if error else 200)

    @bp.route("/portal/admin/queues/<slug:str>", methods=["GET", "POST"])
    @admin_only
    async def queue(request: Request, slug: str) -> response.HTTPResponse:
        who = request.ctx.who
        store = request.app.ctx.store
        if not await run(_queue_exists, store, slug):
            return page("Not found", "<p>No such queue.</p>", who, status=404)
        error = notice = None
        if request.method == "POST":
            try:
                notice = await run(_change_queue, store, slug, request)
            except (ConfigError, ValueError) as exc:
                error = str(exc) or "That was not understood."
        q, members, others = await run(_queue_detail, store, slug)

        def field(name: str, label: str, kind: str) -> str:
            value = q[name]
            if kind == "meeting":
                opts = "".join(
                    f"<option value={m}{' selected' if m == value else ''}>{m} min</option>" for m in rules.MEETING_LENGTHS
                )
                return f"<label>{e(label)} <select name={name}>{opts}</select></label>"
            if kind == "mode":
                opts = "".join(
                    f"<option value='{e(m)}'{' selected' if m == value else ''}>{e(ROUTING_LABELS.get(m, m))}</option>"
                    for m in MODES
                )
                return f"<label>{e(label)} <select name={name}>{opts}</select></label>"
            if kind == "period":
                opts = "".join(f"<option{' selected' if p == value else ''}>{e(p)}</option>" for p in PERIODS)
                return f"<label>{e(label)} <select name={name}>{opts}</select></label>"
            if kind == "bool":
                return f"<label class=check><input type=checkbox name={name}{' checked' if value else ''}> {e(label)}</label>"
            attrs = " type=number min=0" if kind == "number" else ""
            return f"<label>{e(label)} <input name={name}{attrs} value='{e(value)}'></label>"

        settings_form = (
            f"<form method=post action='/portal/admin/queues/{e(slug)}' class=card><h2>Settings</h2>{csrf_field(who)}"
            "<input type=hidden name=do value=settings>"
            + "".join(field(*f) for f in QUEUE_FIELDS)
            + "<button type=submit>Save settings</button></form>"
        )
        rows = "".join(
            "<tr>"
            f"<td>{e(m['name'])}<br><span class=muted>{e(m['email'])}</span></td>"
            f"<td><form method=post action='/portal/admin/queues/{e(slug)}' class=inline>{csrf_field(who)}"
            f"<input type=hidden name=do value=weight><input type=hidden name=agent value='{m['id']}'>"
            f"<label>Weight for {e(m['name'])} <input type=number min=0 max=1000 name=weight value='{m['weight']}' "
            f"class=narrow></label> <button type=submit>Save</button></form></td>"
            f"<td>{m['share']}</td><td>{'active' if m['active'] else 'inactive'}</td>"
            f"<td>{post_button(who, f'/portal/admin/queues/{slug}', 'Remove', fields={'do': 'remove', 'agent': m['id']}, cls='link')}</td>"
            "</tr>"
            for m in members
        ) or "<tr><td colspan=5>No members yet.</td></tr>"
        add = "".join(f"<option value='{a['id']}'>{e(a['name'])} ({e(a['email'])})</option>" for a in others)
        members_html = (
            "<section class=card><h2>Members and weights</h2><p class=muted>A weight of 200 gets twice the "
            "bookings of 100 over the round-robin period; 0 keeps the agent in the queue without new bookings.</p>"
            "<div class=scroll><table><thead><tr><th scope=col>Agent</th><th scope=col>Weight</th>"
            "<th scope=col>Target share</th><th scope=col>Status</th><th scope=col></th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div>"
            + (
                f"<form method=post action='/portal/admin/queues/{e(slug)}'>{csrf_field(who)}"
                f"<input type=hidden name=do value=add><label>Agent <select name=agent>{add}</select></label>"
                "<label>Weight <input type=number name=weight min=0 max=1000 value=100></label>"
                "<button type=submit>Add to queue</button></form>"
                if others else "<p class=muted>Every agent is a member.</p>"
            )
            + "</section>"
        )
        explain_form = (
            f"<form method=get action='/portal/admin/queues/{e(slug)}/explain' class=card>"
            "<h2>Why is a time not offered?</h2><p class=muted>For each agent: whether visitors are offered a "
            "meeting starting then, and if not, the first rule that removes it.</p>"
            "<label>Start <input type=datetime-local name=when required></label>"
            f"<label>In the time zone <input name=zone value='{e(q['timezone'])}'></label>"
            "<button type=submit>Explain</button></form>"
        )
        return page(f"Queue: {q['name']}", settings_form + members_html + explain_form, who, active="queues",
                    notice=notice, error=error, status=400 if error else 200)

    @bp.get("/portal/admin/queues/<slug:str>/explain")
    @admin_only
    async def explain_slot(request: Request, slug: str) -> response.HTTPResponse:
        who = request.ctx.who
        if not await run(_queue_exists, request.app.ctx.store, slug):
            return page("Not found", "<p>No such queue.</p>", who, status=404)
        back = f"<p><a href='/portal/admin/queues/{e(slug)}'>Back to the queue</a></p>"
        try:
            when = parse_when(request.args.get("when", ""), request.args.get("zone") or None, "UTC")
            out = await run(request.app.ctx.service.explain_slot, slug, when)
        except (ConfigError, BookingError) as exc:
            return page("Why is a time not offered?", back, who, active="queues", error=str(exc), status=400)
        rows = "".join(
            f"<tr><td>{e(r['agent'])}<br><span class=muted>{e(r['email'])} · {e(r['timezone'])}</span></td>"
            f"<td>{'offered' if r['offered'] else '<strong>' + e(r['reason']) + '</strong>'}</td><td>{e(r['detail'])}</td></tr>"
            for r in out["agents"]
        ) or "<tr><td colspan=3>The queue has no active agents.</td></tr>"
        body = (
            f"<p>A meeting at <strong>{e(f'{when:%a %Y-%m-%d %H:%M}')} ({e(str(when.tzinfo))})</strong> is "
            f"<strong>{'offered' if out['offered'] else 'not offered'}</strong> to visitors of this queue.</p>"
            "<div class=scroll><table><thead><tr><th scope=col>Agent</th><th scope=col>Result</th>"
            f"<th scope=col>Why</th></tr></thead><tbody>{rows}</tbody></table></div>" + back
        )
        return page("Why is a time not offered?", body, who, active="queues")

    # ---- agents -------------------------------------------------------------------------------
    @bp.route("/portal/admin/agents", methods=["GET", "POST"])
    @admin_only
    async def agents(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        store = request.app.ctx.store
        error = notice = None
        link = ""
        if request.method == "POST":
            do = form_value(request, "do")
            try:
                if do == "invite":
                    url = await run(_invite, request, settings, who.email)
                    notice = f"Invitation sent to {form_value(request, 'email').strip().lower()}."
                    link = f"<details class=card><summary>Invitation link</summary><p><code>{e(url)}</code></p></details>"
                elif do in ("activate", "deactivate"):
                    name = await run(_set_active, store, int(form_value(request, "agent") or 0), do == "activate")
                    notice = f"{name} is {'active' if do == 'activate' else 'deactivated: no new bookings, no sign-in'}."
                else:
                    raise ConfigError("Unknown action.")
            except (ConfigError, ValueError) as exc:
                error = str(exc) or "That was not understood."
        rows = await run(_agents, store)
        trs = "".join(
            "<tr>"
            f"<td><a href='/portal/agents/{a['id']}/calendar'>{e(a['name'])}</a><br><span class=muted>{e(a['email'])}</span></td>"
            f"<td>{e(a['health'])}</td><td>{e(a['queues'] or '—')}</td><td>{e(a['account'])}</td>"
            f"<td>{'active' if a['active'] else 'inactive'}</td>"
            f"<td>{post_button(who, '/portal/admin/agents', 'Deactivate' if a['active'] else 'Activate', fields={'do': 'deactivate' if a['active'] else 'activate', 'agent': a['id']}, cls='link')}</td>"
            "</tr>"
            for a in rows
        )
        queue_opts = "<option value=''>none yet</option>" + "".join(
            f"<option value='{e(q['slug'])}'>{e(q['name'])}</option>" for q in await run(_queues, store)
        )
        body = (
            link
            + "<div class=scroll><table><thead><tr><th scope=col>Agent</th><th scope=col>Calendar</th>"
            "<th scope=col>Queues (weight)</th><th scope=col>Portal account</th><th scope=col>Status</th>"
            f"<th scope=col></th></tr></thead><tbody>{trs}</tbody></table></div>"
            f"<form method=post action=/portal/admin/agents class=card><h2>Invite an agent</h2>{csrf_field(who)}"
            "<input type=hidden name=do value=invite>"
            "<label>E-mail <input type=email name=email required></label>"
            "<label>Name <input name=name required maxlength=200></label>"
            "<label>Time zone <input name=timezone value=UTC required></label>"
            f"<label>Queue <select name=queue>{queue_opts}</select></label>"
            "<button type=submit>Send invitation</button></form>"
        )
        return page("Agents", body, who, active="agents", notice=notice, error=error, status=400 if error else 200)

    # ---- customer accounts (owner routing by e-mail domain) -------------------------------------
    @bp.route("/portal/admin/accounts", methods=["GET", "POST"])
    @admin_only
    async def accounts_page(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        store = request.app.ctx.store
        error = notice = None
        text = ""
        if request.method == "POST":
            text = form_value(request, "csv")
            result = await run(_import_domains, store, text)
            notice = f"{result.added} added, {result.updated} updated, {len(result.errors)} lines skipped."
            if result.errors:
                error = " ".join(result.errors[:20]) + (" …" if len(result.errors) > 20 else "")
            else:
                text = ""
        rows = await run(_domains, store)
        trs = "".join(
            f"<tr><td><code>{e(r['domain'])}</code></td><td>{e(r['name'] or '—')}</td><td>{e(r['owner_email'])}</td></tr>"
            for r in rows
        ) or "<tr><td colspan=3>No accounts yet.</td></tr>"
        body = (
            "<p class=muted>A visitor whose e-mail belongs to one of these domains (or a subdomain) meets the "
            "account's owner when they are free. Free-mail domains (gmail.com, outlook.com, web.de, orange.fr …) "
            "are never matched.</p>"
            "<div class=scroll><table><thead><tr><th scope=col>Domain</th><th scope=col>Account</th>"
            f"<th scope=col>Owner</th></tr></thead><tbody>{trs}</tbody></table></div>"
            f"<form method=post action=/portal/admin/accounts class=card><h2>Import</h2>{csrf_field(who)}"
            "<label>CSV, one account per line: <code>domain,owner_email,name</code> (a header line is fine)"
            f"<textarea name=csv rows=8 required>{e(text)}</textarea></label>"
            "<button type=submit>Import</button></form>"
        )
        return page("Accounts", body, who, active="accounts", notice=notice, error=error, status=400 if error else 200)

    # ---- dashboard ----------------------------------------------------------------------------
    def period(request: Request) -> tuple[str | None, datetime, datetime]:
        start, end = stats.default_range(datetime.now(timezone.utc))
        weeks = request.args.get("weeks", "")
        if weeks.isdigit() and 1 <= int(weeks) <= 52:
            start = end - timedelta(weeks=int(weeks))
        return (request.args.get("queue") or None), start, end

    @bp.get("/portal/admin/dashboard")
    @admin_only
    async def dashboard(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        store = request.app.ctx.store
        queue, start, end = period(request)
        all_queues = await run(_queues, store)
        if queue and queue not in {q["slug"] for q in all_queues}:
            queue = None
        buckets, series = await run(stats.bookings_per_agent, store, queue=queue, start=start, end=end)
        f = await run(stats.funnel, store, queue=queue, start=start, end=end)
        failed = await run(stats.failed_bookings, store, queue=queue, start=start, end=end)
        shows = await run(stats.attendance, store, queue=queue, start=start, end=end)
        title = f"Bookings per agent, {start:%d %b} – {end:%d %b %Y}" + (f", queue {queue}" if queue else "")
        chart = fairness_svg(buckets, series, title=title)
        steps = [("Offered times", f.offered), ("Chose a time", f.chosen), ("Booked", f.booked), ("Cancelled", f.cancelled)]
        top = max(f.offered, 1)
        funnel = "".join(
            f"<li><span class=label>{e(label)}</span> <meter min=0 max={top} value={n}>{n}</meter> "
            f"<span><strong>{n}</strong>{f' ({round(100 * n / top)} %)' if i else ''}</span></li>"
            for i, (label, n) in enumerate(steps)
        )
        fails = "".join(
            f"<tr><td>{e(x['created_at'])}</td><td>{e(x['agent_email'])}</td><td>{e(x['visitor_email'])}</td>"
            f"<td>{e(x['failure_reason'])}</td></tr>"
            for x in failed
        ) or "<tr><td colspan=4>None in this period.</td></tr>"
        opts = "<option value=''>All queues</option>" + "".join(
            f"<option value='{e(q['slug'])}'{' selected' if q['slug'] == queue else ''}>{e(q['name'])}</option>"
            for q in all_queues
        )
        def rate(r: dict[str, Any]) -> str:
            return "—" if r["no_show_rate"] is None else f"{100 * r['no_show_rate']:.0f} %"

        def show_rows(items: list[dict[str, Any]]) -> str:
            return "".join(
                f"<tr><td>{e(r['name'])}</td><td>{r['held']}</td><td>{r['no_show']}</td><td>{r['unmarked']}</td>"
                f"<td>{rate(r)}</td></tr>"
                for r in items
            ) or "<tr><td colspan=5>No past meetings in this period.</td></tr>"

        head = ("<thead><tr><th scope=col>{}</th><th scope=col>Held</th><th scope=col>No-show</th>"
                "<th scope=col>Not marked</th><th scope=col>No-show rate</th></tr></thead>")
        no_shows = (
            "<section class=card><h2>No-shows</h2><p class=muted>Past meetings as their agents marked them; the rate "
            "is no-shows among the marked ones. A no-show still counts for the round robin.</p>"
            f"<div class=scroll><table>{head.format('Agent')}<tbody>{show_rows(shows['agents'])}</tbody></table></div>"
            f"<div class=scroll><table>{head.format('Queue')}<tbody>{show_rows(shows['queues'])}</tbody></table></div>"
            "</section>"
        )
        csv_q = f"?queue={e(queue)}" if queue else ""
        body = (
            "<form method=get action=/portal/admin/dashboard class=inline-form>"
            f"<label>Queue <select name=queue>{opts}</select></label>"
            "<label>Weeks <input type=number name=weeks min=1 max=52 value='" + e(request.args.get("weeks", "8")) + "'></label>"
            "<button type=submit>Show</button></form>"
            f"<section class=card><h2>Round robin</h2><figure>{chart}</figure></section>"
            f"<section class=card><h2>Funnel</h2><ol class=funnel>{funnel}</ol>"
            "<p class=muted>Offered: conversations shown times. Chose: conversations that clicked one. "
            "Booked: confirmed. Cancelled: of those, cancelled later.</p></section>"
            + no_shows
            + "<section class=card><h2>Failed bookings</h2><div class=scroll><table><thead><tr><th scope=col>When</th>"
            "<th scope=col>Agent</th><th scope=col>Visitor</th><th scope=col>Reason</th></tr></thead>"
            f"<tbody>{fails}</tbody></table></div></section>"
            f"<p><a class=button href='/portal/admin/bookings.csv{csv_q}'>Export bookings (CSV)</a></p>"
        )
        return page("Dashboard", body, who, active="dashboard")

    @bp.get("/portal/admin/bookings.csv")
    @admin_only
    async def bookings_csv(request: Request) -> response.HTTPResponse:
        queue, start, end = period(request)
        text = await run(stats.bookings_csv, request.app.ctx.store, queue=queue, start=start, end=end)
        return response.text(
            text,
            content_type="text/csv; charset=utf-8",
            headers={**HEADERS, "Content-Disposition": f"attachment; filename=bookings-{end:%Y-%m-%d}.csv"},
        )

    # ---- webhooks -----------------------------------------------------------------------------
    @bp.get("/portal/admin/webhooks")
    @admin_only
    async def webhooks(request: Request) -> response.HTTPResponse:
        who = request.ctx.who
        hooks = await run(_webhooks, request.app.ctx.store)
        deliveries = await run(request.app.ctx.service.delivery.listing, "webhook")
        hook_rows = "".join(
            f"<tr><td>{h['id']}</td><td>{e(h['url'])}</td><td>{e(h['events'])}</td><td>{'on' if h['active'] else 'off'}</td></tr>"
            for h in hooks
        ) or "<tr><td colspan=4>No webhooks. Add one with <code>python -m bot webhook add URL</code>.</td></tr>"
        rows = "".join(
            f"<tr><td>{d['id']}</td><td>{e(d['key'].split(':', 2)[-1])}</td><td>{e(d['recipient'])}</td>"
            f"<td class='status-{e(d['status'])}'>{e(d['status'])}</td><td>{d['attempts']}</td>"
            f"<td>{e(d['last_error'] or '')}</td><td>{e(d['sent_at'] or d['next_attempt_at'])}</td></tr>"
            for d in deliveries[::-1][:200]
        ) or "<tr><td colspan=7>No deliveries yet.</td></tr>"
        body = (
            "<section class=card><h2>Endpoints</h2><div class=scroll><table><thead><tr><th scope=col>Id</th>"
            "<th scope=col>URL</th><th scope=col>Events</th><th scope=col>Active</th></tr></thead>"
            f"<tbody>{hook_rows}</tbody></table></div></section>"
            "<section class=card><h2>Deliveries</h2><div class=scroll><table><thead><tr><th scope=col>#</th>"
            "<th scope=col>Event</th><th scope=col>URL</th><th scope=col>Status</th><th scope=col>Attempts</th>"
            "<th scope=col>Last error</th><th scope=col>Sent / next try</th></tr></thead>"
            f"<tbody>{rows}</tbody></table></div></section>"
        )
        return page("Webhooks", body, who, active="webhooks")

    return bp


# ---- the database side (run in a thread) ------------------------------------------------------
def _queue_exists(store: Any, slug: str) -> bool:
    with store.session() as s:
        return s.execute(select(Queue.id).where(Queue.slug == slug)).first() is not None


def _queues(store: Any) -> list[dict[str, Any]]:
    with store.session() as s:
        counts = dict(s.execute(select(QueueMember.queue_id, func.count()).group_by(QueueMember.queue_id)).all())
        return [
            {"slug": q.slug, "name": q.name, "meeting": q.meeting_minutes, "routing": q.routing_mode,
             "members": counts.get(q.id, 0)}
            for q in s.execute(select(Queue).order_by(Queue.name)).scalars()
        ]


def _queue_detail(store: Any, slug: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    with store.session() as s:
        q = s.execute(select(Queue).where(Queue.slug == slug)).scalar_one()
        values = {name: getattr(q, name) for name, _l, _k in QUEUE_FIELDS}
        rows = s.execute(
            select(Agent, QueueMember.weight).join(QueueMember).where(QueueMember.queue_id == q.id).order_by(Agent.name)
        ).all()
        total = sum(w for _a, w in rows if _a.active) or 1
        members = [
            {"id": a.id, "name": a.name, "email": a.email, "weight": w, "active": a.active,
             "share": f"{round(100 * w / total)} %" if a.active else "—"}
            for a, w in rows
        ]
        ids = {m["id"] for m in members}
        others = [
            {"id": a.id, "name": a.name, "email": a.email}
            for a in s.execute(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)).scalars()
            if a.id not in ids
        ]
        return values, members, others


def _change_queue(store: Any, slug: str, request: Request) -> str:
    do = form_value(request, "do")
    if do == "settings":
        fields: dict[str, Any] = {}
        for name, _label, kind in QUEUE_FIELDS:
            raw = form_value(request, name).strip()
            if kind == "bool":
                fields[name] = raw == "on"
            elif kind in ("number", "meeting"):
                if not raw.lstrip("-").isdigit():
                    raise ConfigError(f"{_label} must be a whole number.")
                fields[name] = int(raw)
            elif name == "reminder_minutes":
                fields[name] = raw
            elif raw:
                fields[name] = raw
        rules.set_queue(store, slug, **fields)
        return "Settings saved."
    agent_id = int(form_value(request, "agent") or 0)
    email = _agent_email(store, agent_id)
    if do in ("add", "weight"):
        raw = form_value(request, "weight").strip()
        if not raw.isdigit() or int(raw) > 1000:
            raise ConfigError("The weight must be a whole number from 0 to 1000.")
        rules.set_member(store, slug, email, int(raw))
        return "Member added." if do == "add" else "Weight saved."
    if do == "remove":
        rules.set_member(store, slug, email, remove=True)
        return "Member removed."
    raise ConfigError("Unknown action.")


def _agent_email(store: Any, agent_id: int) -> str:
    with store.session() as s:
        agent = s.get(Agent, agent_id)
        if agent is None:
            raise ConfigError("No such agent.")
        return agent.email


def _agents(store: Any) -> list[dict[str, Any]]:
    with store.session() as s:
        conns = {c.agent_id: c for c in s.execute(select(CalendarConnection)).scalars()}
        accounts = {a.agent_id: a for a in s.execute(select(Account).where(Account.agent_id.is_not(None))).scalars()}
        member = {}
        for agent_id, slug, weight in s.execute(
            select(QueueMember.agent_id, Queue.slug, QueueMember.weight).join(Queue)
        ):
            member.setdefault(agent_id, []).append(f"{slug} ({weight})")
        out = []
        for a in s.execute(select(Agent).order_by(Agent.name)).scalars():
            c = conns.get(a.id)
            if c is None:
                health = "built-in calendar" if a.provider == "local" else "not connected"
            elif c.status == "connected":
                health = f"{c.provider}: connected"
            else:
                health = f"{c.provider}: needs reconnect" + (f" ({c.last_error})" if c.last_error else "")
            acct = accounts.get(a.id)
            out.append(
                {"id": a.id, "name": a.name, "email": a.email, "active": a.active, "health": health,
                 "queues": ", ".join(member.get(a.id, [])),
                 "account": "none" if acct is None else ("signed in " + acct.last_login_at.strftime("%Y-%m-%d")
                                                          if acct.last_login_at else "invited, never signed in")}
            )
        return out


def _set_active(store: Any, agent_id: int, active: bool) -> str:
    with store.session() as s:
        agent = s.get(Agent, agent_id)
        if agent is None:
            raise ConfigError("No such agent.")
        agent.active = active
        return agent.name


def _invite(request: Request, settings: Settings, inviter: str) -> str:
    store, vault = request.app.ctx.store, request.app.ctx.vault
    email = form_value(request, "email").strip()
    name = " ".join(form_value(request, "name").split())[:200]
    tz = rules.check_zone(form_value(request, "timezone").strip() or "UTC")
    queue = form_value(request, "queue").strip() or None
    if not name:
        raise ConfigError("Give the agent's name.")
    if queue and not _queue_exists(store, queue):
        raise ConfigError("No such queue.")
    token = invite_token(vault, email, name, tz, queue)
    url = f"{settings.public_url}/portal/invite?t={token}"
    msg = invitation_email(settings.mail_from, email.lower(), name, url, inviter)
    delivery = request.app.ctx.service.delivery
    with store.session() as s:
        row = queue_email(s, msg, key=f"invite:{email.lower()}:{datetime.now(timezone.utc).timestamp():.0f}")
        row_id = row.id
    delivery.kick([row_id])
    return url


def _import_domains(store: Any, text: str) -> domains.ImportResult:
    with store.session() as s:
        return domains.import_csv(s, text)


def _domains(store: Any) -> list[dict[str, str]]:
    with store.session() as s:
        return domains.list_domains(s)


def _webhooks(store: Any) -> list[dict[str, Any]]:
    with store.session() as s:
        return [
            {"id": h.id, "url": h.url, "events": h.events, "active": h.active}
            for h in s.execute(select(Webhook).order_by(Webhook.id)).scalars()
        ]
