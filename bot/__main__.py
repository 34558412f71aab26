"""Command line: ``python -m bot COMMAND``. ``python -m bot --help`` lists the commands."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from typing import Any, Sequence

from bot.settings import Settings, load_settings


def _setup(settings: Settings) -> None:
    from bot.ops.demo import seed_demo
    from bot.store import Store

    store = Store(settings.db_url)
    store.migrate()
    if seed_demo(store):
        print("Seeded the demo: queue 'sales' with three agents (New York, Paris, Tokyo).", flush=True)
    store.dispose()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.store import Store

    Store(settings.db_url).migrate()
    print("database is up to date")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    _setup(settings)
    return 0


def _show(rows: list[dict], as_json: bool, cols: Sequence[str]) -> None:
    """A JSON list, or a plain table of ``cols``."""
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _table(rows, cols)


def _table(rows: list[dict], cols: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c) or "")) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c) or "").ljust(widths[c]) for c in cols))


def cmd_bookings(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.runtime import build_service

    rows = build_service(settings).list_bookings()
    _show(rows, args.json, ["id", "status", "queue", "agent_email", "visitor_email", "start", "timezone"])
    return 0


def cmd_callbacks(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.runtime import build_service

    rows = build_service(settings).list_callbacks()
    _show(rows, args.json, ["id", "status", "queue", "email", "first_name", "company", "created_at"])
    return 0


def _store(settings: Settings):  # noqa: ANN202 - keeps bot.store import lazy
    from bot.store import Store

    return Store(settings.db_url)


def cmd_agents(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import rules

    rows = rules.list_agents(_store(settings))
    _show(rows, args.json, ["email", "name", "timezone", "hours", "max_per_day", "queues", "calendar", "calendar_error"])
    return 0


def cmd_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Portal admins: ``admin create EMAIL`` asks for the password (or reads it from stdin)."""
    import getpass

    from bot.admin.accounts import AccountError, create_account
    from bot.errors import ConfigError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12 characters or more): ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("the two passwords differ")
    try:
        create_account(_store(settings), args.email, password, "admin", replace=args.reset)
    except AccountError as exc:
        raise ConfigError(str(exc)) from exc
    print(f"Admin {args.email.lower()} can sign in at {settings.public_url}/portal")
    return 0


def cmd_agent(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import rules
    from bot.errors import ConfigError

    store = _store(settings)
    if args.action == "add":
        rules.add_agent(
            store,
            args.email,
            args.name or args.email.split("@")[0],
            args.timezone,
            args.hours or "mon-fri 09:00-17:00",
            queue=args.queue,
            weight=args.weight,
        )
    elif args.action == "set":
        cap: int | None | str = "keep"
        if args.max_per_day is not None:
            if args.max_per_day != "none" and not args.max_per_day.isdigit():
                raise ConfigError("--max-per-day takes a whole number or 'none'")
            cap = None if args.max_per_day == "none" else int(args.max_per_day)
        rules.set_agent(
            store,
            args.email,
            name=args.name,
            tz=args.timezone,
            hours=args.hours,
            max_per_day=cap,
            active=None if args.active is None else args.active == "yes",
            buffer_before=args.buffer_before,
            buffer_after=args.buffer_after,
            notice=args.notice,
        )
    elif args.action == "override":
        blocks = None if args.clear else ("" if args.off else args.hours)
        rules.set_override(store, args.email, rules.parse_day(args.date), blocks)
    elif args.action == "holidays":
        rules.add_holidays(store, args.email, [rules.parse_day(d) for d in args.dates])
    elif args.action == "time-off":
        rules.add_time_off(store, args.email, rules.parse_when(args.start), rules.parse_when(args.end), args.reason)
    elif args.action == "invite":
        from bot.ops.runtime import configured_providers, connect_url, vault

        if args.timezone:
            rules.check_zone(args.timezone)
        providers = [args.provider] if args.provider else configured_providers(settings) or ["google"]
        for provider in providers:
            print(connect_url(settings, vault(settings), args.email, args.queue, args.name, args.timezone, provider))
        print("Send a link to the agent: it lists the permissions asked for, and is valid for 7 days.")
        return 0
    elif args.action == "caldav":
        return _caldav(settings, store, args)
    elif args.action == "disconnect":
        from bot.calendars.connect import disconnect
        from bot.ops.runtime import google_config, vault

        if not disconnect(store, vault(settings), google_config(settings), args.email):
            raise ConfigError(f"{args.email} has no connected calendar")
    print("ok")
    return 0


def _caldav(settings: Settings, store: Any, args: argparse.Namespace) -> int:
    """Connect (or, with --list, only look at) an agent's CalDAV calendar. The app password comes
    from the environment variable --password-env names, else from stdin: never an argument."""
    import getpass
    import os

    from bot.admin import rules
    from bot.calendars import connect, dav
    from bot.errors import ConfigError
    from bot.ops.runtime import caldav_config, vault

    # an error is the one line main prints; the outcome is printed below (no INFO lines from the calendars)
    logging.getLogger("bot.calendars").setLevel(logging.WARNING)
    if args.timezone:
        rules.check_zone(args.timezone)
    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise ConfigError(f"the environment variable {args.password_env} is empty or not set")
    elif sys.stdin.isatty():
        password = getpass.getpass("App password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    cfg = caldav_config(settings)
    if args.list:
        url, calendars = dav.discover(args.url, args.username, password, cfg)
        for c in calendars:
            print(f"{c.url}\t{c.name}")
        print(f"{len(calendars)} calendar(s) at {url}; nothing was stored.")
        return 0
    invite = connect.Invite(args.email.lower(), args.queue, args.name, args.timezone)
    calendars = connect.connect_caldav(store, vault(settings), cfg, invite, args.url, args.username, password,
                                       args.calendar, args.busy)  # fmt: skip
    names = {c.url: c.name for c in calendars}
    calendar, busy = dav.choose(calendars, args.calendar, args.busy)  # what was stored (no second discovery)
    print(f"{args.email.lower()} is connected: meetings go into {names[calendar]}; "
          f"busy: {', '.join(names[u] for u in busy)}")  # fmt: skip
    return 0


class _NoPasswordArgument(argparse.Action):
    """``--password``: refused without echoing it (argparse would otherwise take it for an
    abbreviation of ``--password-env`` and print the value back as a variable's name)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        parser.error("the password is never an argument (it would stay in the shell history): "
                     "use --password-env VAR, or give it on stdin")  # fmt: skip


def cmd_queue(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import rules

    store = _store(settings)
    if args.action == "set":
        rules.set_queue(
            store,
            args.slug,
            name=args.name,
            timezone=args.timezone,
            meeting_minutes=args.length,
            interval_minutes=args.interval,
            buffer_before_minutes=args.buffer_before,
            buffer_after_minutes=args.buffer_after,
            min_notice_minutes=args.notice,
            window_days=args.window,
            routing_mode=args.routing,
            fairness_margin=args.margin,
            reminder_minutes=args.reminders,
            credit_back_on_cancel=args.credit_back,
            rr_period=args.period,
            max_guests=args.max_guests,
        )
    else:
        rules.set_member(store, args.slug, args.email, weight=args.weight, remove=args.remove)
    print("ok")
    return 0


def cmd_explain_slot(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin.when import parse_when
    from bot.ops.runtime import build_service

    svc = build_service(settings)
    info = svc.queue_info(args.queue)
    if info.slug != args.queue:
        from bot.errors import UnknownQueue

        raise UnknownQueue(f"no queue {args.queue!r}")
    when = parse_when(args.when, args.zone, info.timezone)
    out = svc.explain_slot(args.queue, when)
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    verdict = "offered" if out["offered"] else "NOT offered"
    print(f"{when:%a %Y-%m-%d %H:%M} {when.tzinfo} in queue {out['queue']}: {verdict}")
    for row in out["agents"]:
        mark = "offered" if row["offered"] else row["reason"]
        print(f"  {row['agent']} <{row['email']}> ({row['timezone']}, {row['provider']}): {mark} — {row['detail']}")
    if not out["agents"]:
        print("  the queue has no active agents")
    return 0


def cmd_routing(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.booking import routing_rules
    from bot.errors import ConfigError

    path = Path(args.file or settings.routing_file)
    if not path.exists():
        raise ConfigError(f"no routing file at {path} (ROUTING_FILE): every visitor meets the page's queue")
    rules = routing_rules.load(path)
    if args.action == "check":
        from sqlalchemy import inspect, select

        from bot.store.models import Queue

        store = _store(settings)
        known: set[str] | None = None
        if inspect(store.engine).has_table("queues"):
            with store.session() as s:
                known = set(s.execute(select(Queue.slug)).scalars())
        missing = [r for r in rules if r.queue and known is not None and r.queue not in known]
        for r in missing:
            print(f"{path.name}:{r.line}: rule {r.name!r} sends visitors to the queue {r.queue!r}, which does not exist",
                  file=sys.stderr)  # fmt: skip
        if missing:
            return 1
        note = "" if known is not None else " (queues not checked: the database is not set up)"
        print(f"{path.name}: {len(rules)} rules, OK{note}")
        return 0
    try:
        metadata = json.loads(args.metadata)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--metadata is not JSON: {exc.msg}") from None
    if not isinstance(metadata, dict):
        raise ConfigError("--metadata must be a JSON object like the widget's metadata")
    if args.queue:
        metadata = {**metadata, "queue": args.queue}
    asks = routing_rules.pending(rules, metadata)  # answers go in as {"answers": {"team_size": 800}}
    decision = routing_rules.decide(rules, metadata)
    if args.json:
        print(json.dumps({**decision.as_dict(), "asks": asks.id if asks else None}, indent=2))
        return 0
    if asks is not None:
        print(f"the chat first asks {asks.id!r} ({path.name} line {asks.line}): {asks.ask('en')}")
        print("  without an answer (as now):")
    print(f"rule {decision.rule!r} ({path.name} line {decision.line})")
    for why in decision.why:
        print(f"  {why}")
    if decision.disqualify is not None:
        text, link = routing_rules.disqualify_text(decision, str(metadata.get("locale", "en"))[:2])
        print(f"  → no meeting: {text} {link or ''}".rstrip())
    else:
        print(f"  → queue {decision.queue or metadata.get('queue') or settings.default_queue!r}")
        if decision.owner:
            print("  → only the visitor's account owner's times, when they have an owner in that queue")
    return 0


def cmd_accounts(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.booking import domains
    from bot.errors import ConfigError

    store = _store(settings)
    if args.action == "import":
        try:
            text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {args.file}: {exc}") from exc
        with store.session() as s:
            result = domains.import_csv(s, text)
        for err in result.errors:
            print(err, file=sys.stderr)
        print(f"{result.added} added, {result.updated} updated, {len(result.errors)} lines skipped")
        return 1 if result.errors else 0
    with store.session() as s:
        rows = domains.list_domains(s)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['domain']:<40} {r['owner_email']:<40} {r['name']}")
    return 0


def cmd_attendance(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.runtime import build_service

    svc = build_service(settings)
    try:
        row = svc.mark_attendance(args.booking_id, args.attendance.replace("-", "_"))
    finally:
        svc.close()
    print(f"booking {row['id']}: {args.attendance} ({row['visitor_email']}, {row['start']})")
    return 0


def cmd_explain(settings: Settings, args: argparse.Namespace) -> int:
    from bot.admin import rules

    print(rules.explain(_store(settings), args.booking_id))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web import create_app

    app = create_app(settings)
    app.run(host=args.host or settings.host, port=args.port or settings.web_port, access_log=False, workers=1)
    return 0


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.runtime import build_delivery

    rows = build_delivery(settings, _store(settings)).listing()
    _show(rows, args.json, ["id", "key", "recipient", "status", "attempts", "next_attempt_at", "last_error"])
    return 0


def cmd_webhook(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.messages.webhooks import add_webhook
    from bot.ops.runtime import build_delivery, vault
    from bot.store.models import Webhook

    store = _store(settings)
    with store.session() as s:
        if args.action == "add":
            hook, secret = add_webhook(s, vault(settings), args.url, args.events)
            print(f"webhook {hook.id} -> {hook.url} ({hook.events})")
            print(f"signing secret (shown once; verify X-Booking-Signature with it): {secret}")
            return 0
        if args.action == "remove":
            hook = s.get(Webhook, args.id)
            if hook is None:
                print(f"error: no webhook {args.id}", file=sys.stderr)
                return 1
            hook.active = False
            print(f"webhook {hook.id} deactivated (queued deliveries are dropped)")
            return 0
        if args.action == "list":
            rows = [
                {"id": h.id, "url": h.url, "events": h.events, "active": h.active}
                for h in s.execute(select(Webhook).order_by(Webhook.id)).scalars()
            ]
            _show(rows, args.json, ["id", "url", "events", "active"])
            return 0
    rows = [
        {**r, "url": r["recipient"], "event": r["key"].split(":")[-1]}
        for r in build_delivery(settings, store).listing(kind="webhook")
    ]
    _show(rows, args.json, ["id", "url", "event", "status", "attempts", "next_attempt_at", "last_error"])
    return 0


def cmd_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.ops.runtime import build_service

    done = build_service(settings).reconcile(timedelta(seconds=args.older_than))
    for what in ("confirmed", "released", "unsettled"):
        print(f"{what}: {len(done[what])}" + (f" ({', '.join(done[what])})" if done[what] else ""))
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.runtime import build_service
    from bot.ops.worker import Worker

    worker = Worker(build_service(settings), settings)

    def _stop(signum: int, frame: object) -> None:
        worker.stop(timeout=0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Worker: outbox every {worker.interval:.1f} s, reconciler every 10 s. Ctrl-C stops it.", flush=True)
    worker.run()
    return 0


def cmd_scale_up(settings: Settings, args: argparse.Namespace) -> int:
    """The scaled topology in the foreground on this machine (deploy/README.md)."""
    import os

    from bot.ops.scale import PgTarget, ScaleConfig, Topology
    from bot.ops.supervisor import newest_model, train

    if not settings.database_url.startswith("postgresql"):
        print("error: set DATABASE_URL=postgresql://user@host:5432/db for the scaled topology", file=sys.stderr)
        return 2
    store_db = PgTarget.parse(settings.database_url)
    tracker = os.environ.get("TRACKER_DATABASE_URL") or store_db.url(f"{store_db.db}_tracker")
    if not args.no_train:
        train()
    cfg = ScaleConfig(
        database_url=settings.database_url,
        tracker_url=tracker,
        redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        rasa=args.rasa,
        actions=args.actions,
        web=args.web,
        model=newest_model(),
        **({"rasa_token": settings.rasa_token} if settings.rasa_token else {}),
    )
    topo = Topology(settings, cfg, log_dir=settings.var_dir / "logs")
    topo.prepare()
    _setup(settings)

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"Starting {args.rasa} Rasa, {args.actions} action, {args.web} web processes and a worker...", flush=True)
    try:
        topo.start(timeout=600)
        print("\nReady. Logs in", settings.var_dir / "logs")
        for name, urls in (("Web (chat)", topo.web_urls), ("Rasa", topo.rasa_urls), ("Actions", topo.action_urls)):
            print(f"  {name:11} {', '.join(urls)}")
        if not settings.rasa_token:
            print(f"  Rasa API token (generated; set RASA_TOKEN to choose): {cfg.rasa_token}")
        print("Press Ctrl-C to stop them all.", flush=True)
        while topo.alive():
            time.sleep(0.5)
        print("error: a process exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        topo.stop()


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.supervisor import train

    train(force=args.force)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.supervisor import Stack, train

    t0 = time.monotonic()
    _setup(settings)
    if not args.no_train:
        print("Training the model if config, domain or data changed...", flush=True)
        train()
    stack = Stack(settings)
    print("Starting the Rasa server, the action server and the web app (the model takes ~40 s to load)...", flush=True)
    stopping = False

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C and SIGTERM alike, even where SIGINT was ignored

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start()
        s = settings
        print(
            f"\nReady in {time.monotonic() - t0:.0f} s.\n"
            f"  Chat page:      http://localhost:{s.web_port}/   (widget: /widget.js)\n"
            f"  Portal:         http://localhost:{s.web_port}/portal   (first admin: python -m bot admin create EMAIL)\n"
            f"  Rasa REST:      http://localhost:{s.rasa_port}/webhooks/rest/webhook\n"
            f"  Action server:  http://localhost:{s.action_port}/health\n"
            f"  Bookings:       .venv/bin/python -m bot bookings\n"
            "Press Ctrl-C to stop all three.\n",
            flush=True,
        )
        while stack.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        stopping = True
    except RuntimeError as exc:  # a process died or never became ready
        print(f"error: {exc}", file=sys.stderr)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the shutdown finish
        crashed = not stopping
        print("\nStopping...", flush=True)
        stack.stop()
        print("Stopped.")
    return 1 if crashed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Meeting booking in website chat.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(fn=cmd_migrate)
    sub.add_parser("seed-demo", help="migrate and create the demo queue and agents (once)").set_defaults(fn=cmd_seed)
    p = sub.add_parser("bookings", help="list bookings")
    p.add_argument("--json", action="store_true", help="print a JSON list (see README)")
    p.set_defaults(fn=cmd_bookings)
    p = sub.add_parser("callbacks", help="list visitors who asked to be called back")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_callbacks)
    p = sub.add_parser("agents", help="list agents with their hours, caps and queues")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_agents)
    p = sub.add_parser("agent", help="add an agent or change their availability rules")
    asub = p.add_subparsers(dest="action", required=True)
    a = asub.add_parser("add", help="add an agent on the local calendar")
    a.add_argument("email")
    a.add_argument("--name")
    a.add_argument("--timezone", required=True, help="IANA zone, e.g. Europe/Paris")
    a.add_argument("--hours", help="e.g. 'mon-fri 09:00-12:00 13:00-17:00; sat 10:00-14:00'")
    a.add_argument("--queue", help="add to this queue")
    a.add_argument("--weight", type=int, default=100)
    a = asub.add_parser("set", help="change name, zone, weekly hours, daily cap, own buffers and notice, active")
    a.add_argument("email")
    a.add_argument("--name")
    a.add_argument("--timezone")
    a.add_argument("--hours", help="replaces the weekly hours, e.g. 'mon-thu 08:00-16:00'")
    a.add_argument("--max-per-day", help="a number, or 'none' for no cap")
    a.add_argument("--buffer-before", type=int, help="the agent's own free minutes before a meeting (the queue's if larger)")
    a.add_argument("--buffer-after", type=int, help="the agent's own free minutes after a meeting (the queue's if larger)")
    a.add_argument("--notice", type=int, help="the agent's own minimum notice in minutes (the queue's if larger)")
    a.add_argument("--active", choices=["yes", "no"])
    a = asub.add_parser("override", help="hours for one date (replacing the weekly hours), a day off, or clear")
    a.add_argument("email")
    a.add_argument("date", help="YYYY-MM-DD")
    g = a.add_mutually_exclusive_group(required=True)
    g.add_argument("--hours", help="e.g. '10:00-13:00'")
    g.add_argument("--off", action="store_true")
    g.add_argument("--clear", action="store_true")
    a = asub.add_parser("holidays", help="days off")
    a.add_argument("email")
    a.add_argument("dates", nargs="+", help="YYYY-MM-DD ...")
    a = asub.add_parser("time-off", help="time away over a range (naive times are in the agent's zone)")
    a.add_argument("email")
    a.add_argument("start", help="e.g. 2026-12-21T00:00")
    a.add_argument("end", help="e.g. 2027-01-04T00:00")
    a.add_argument("--reason")
    a = asub.add_parser("invite", help="print a link for the agent to connect Google Calendar and join a queue")
    a.add_argument("email")
    a.add_argument("--queue", help="the queue they join once connected")
    a.add_argument("--name")
    a.add_argument("--timezone", help="for a new agent (default UTC)")
    a.add_argument("--provider", choices=["google", "microsoft", "caldav"], help="default: every configured one")
    a = asub.add_parser("caldav", help="connect the agent's CalDAV calendar (iCloud, Fastmail, Nextcloud, ...)")
    a.add_argument("email")
    a.add_argument("--url", required=True, help="the CalDAV address, e.g. https://caldav.fastmail.com/")
    a.add_argument("--username", required=True)
    a.add_argument("--password-env", help="the environment variable holding the app password (default: read stdin)")
    a.add_argument("--password", nargs="?", action=_NoPasswordArgument, help=argparse.SUPPRESS)
    a.add_argument("--queue", help="the queue they join")
    a.add_argument("--name")
    a.add_argument("--timezone", help="for a new agent (default UTC)")
    a.add_argument("--calendar", help="the calendar URL to book into (default: the first by name)")
    a.add_argument("--busy", nargs="+", help="the calendar URLs that count as busy (default: all)")
    a.add_argument("--list", action="store_true", help="list the calendars found; store nothing")
    a = asub.add_parser("disconnect", help="revoke and remove the agent's calendar connection")
    a.add_argument("email")
    p.set_defaults(fn=cmd_agent)
    p = sub.add_parser("queue", help="create or change a queue, its members and weights")
    qsub = p.add_subparsers(dest="action", required=True)
    q = qsub.add_parser("set", help="create or change a queue")
    q.add_argument("slug")
    q.add_argument("--name")
    q.add_argument("--timezone", help="the zone named to visitors whose zone is unknown")
    q.add_argument("--length", type=int, help="meeting length: 15, 30, 45 or 60 minutes")
    q.add_argument("--interval", type=int, help="minutes between possible starts")
    q.add_argument("--buffer-before", type=int, help="free minutes needed before a meeting")
    q.add_argument("--buffer-after", type=int, help="free minutes needed after a meeting")
    q.add_argument("--notice", type=int, help="minimum notice in minutes (default 240)")
    q.add_argument("--window", type=int, help="booking window in days (default 14)")
    q.add_argument("--routing", help="max-availability or max-fairness")
    q.add_argument("--margin", type=int, help="max-fairness: bookings ahead of the share before holding back")
    q.add_argument("--period", help="round-robin period: day, week or month")
    q.add_argument("--reminders", help='reminder lead times in minutes, e.g. "1440,60" (a day and an hour); "" for none')
    q.add_argument("--max-guests", type=int, help="guests a visitor may bring to one booking (default 10; 0: none)")
    q.add_argument(
        "--credit-back", action=argparse.BooleanOptionalAction, default=None,
        help="a cancelled booking stops counting for the round robin (default on)",
    )
    q = qsub.add_parser("member", help="add a member, set their weight, or remove them")
    q.add_argument("slug")
    q.add_argument("email")
    q.add_argument("--weight", type=int, default=100)
    q.add_argument("--remove", action="store_true")
    p.set_defaults(fn=cmd_queue)
    p = sub.add_parser("admin", help="portal admins: create one (or reset their password)")
    asub = p.add_subparsers(dest="action", required=True)
    a = asub.add_parser("create", help="an admin account for the portal at /portal")
    a.add_argument("email")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    a.add_argument("--reset", action="store_true", help="the account exists: set a new password (ends its sessions)")
    p.set_defaults(fn=cmd_admin)
    p = sub.add_parser("explain", help="why a booking went to its agent")
    p.add_argument("booking_id")
    p.set_defaults(fn=cmd_explain)
    p = sub.add_parser("routing", help="the routing rules (routing.yml): check them, or explain a visitor's route")
    rt = p.add_subparsers(dest="action", required=True)
    a = rt.add_parser("check", help="validate the file (errors with line numbers) and the queues it names")
    a.add_argument("file", nargs="?", help="default: ROUTING_FILE (routing.yml)")
    a = rt.add_parser("explain", help="which rule a visitor with this metadata gets, and why")
    a.add_argument("--metadata", required=True, help='the widget\'s metadata as JSON, e.g. \'{"company": {"size": 800}}\'')
    a.add_argument("--queue", help="the queue the page asks for")
    a.add_argument("--file", help="default: ROUTING_FILE (routing.yml)")
    a.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_routing)
    p = sub.add_parser("accounts", help="customer accounts by e-mail domain → owner agent (owner routing)")
    acc = p.add_subparsers(dest="action", required=True)
    a = acc.add_parser("import", help="CSV lines domain,owner_email[,name]; free-mail domains are refused")
    a.add_argument("file", help="the CSV file, or - for stdin")
    a = acc.add_parser("list", help="the imported domains and their owners")
    a.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_accounts)
    p = sub.add_parser("attendance", help="mark a past meeting as held or no-show (no-show: booking.no_show webhook)")
    p.add_argument("booking_id")
    p.add_argument("attendance", choices=["held", "no-show"])
    p.set_defaults(fn=cmd_attendance)
    p = sub.add_parser(
        "explain-slot", help="why a time is or is not offered: for each agent of the queue, the first rule that removes it"
    )
    p.add_argument("queue", help="the queue's slug")
    p.add_argument("when", help="the meeting's start, e.g. 2026-12-10T15:00 (in --zone, else the queue's zone)")
    p.add_argument("--zone", help="the zone WHEN is in, e.g. Europe/Paris (the visitor's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_explain_slot)
    p = sub.add_parser("serve", help="run the web app (chat page, meeting rooms, health)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_serve)
    p = sub.add_parser("outbox", help="list queued, sent and failed e-mails")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_outbox)
    p = sub.add_parser("webhook", help="webhooks: add, list, remove; deliveries with their attempts")
    wsub = p.add_subparsers(dest="action", required=True)
    w = wsub.add_parser("add", help="POST booking events to URL, signed (X-Booking-Signature)")
    w.add_argument("url")
    w.add_argument("--events", nargs="+", help="booking.created booking.cancelled booking.rescheduled booking.updated (default: all)")
    w = wsub.add_parser("list")
    w.add_argument("--json", action="store_true")
    w = wsub.add_parser("remove")
    w.add_argument("id", type=int)
    w = wsub.add_parser("deliveries", help="every delivery: status, attempts, last error")
    w.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_webhook)
    p = sub.add_parser("reconcile", help="settle bookings a crash left pending (the worker does this too)")
    p.add_argument("--older-than", type=float, default=120.0, help="seconds since the booking last changed")
    p.set_defaults(fn=cmd_reconcile)
    p = sub.add_parser("worker", help="deliver the outbox with retries and settle interrupted bookings")
    p.set_defaults(fn=cmd_worker)
    p = sub.add_parser("scale-up", help="several Rasa/action/web processes and a worker on Postgres + Redis")
    p.add_argument("--rasa", type=int, default=2)
    p.add_argument("--actions", type=int, default=2)
    p.add_argument("--web", type=int, default=1)
    p.add_argument("--no-train", action="store_true")
    p.set_defaults(fn=cmd_scale_up)
    p = sub.add_parser("train", help="train the model unless the newest one was trained from the same files")
    p.add_argument("--force", action="store_true", help="run rasa train even so (Rasa still reuses its cache)")
    p.set_defaults(fn=cmd_train)
    p = sub.add_parser("run", help="migrate, seed, train if needed, start all three processes")
    p.add_argument("--no-train", action="store_true", help="use the newest model in models/ as it is")
    p.set_defaults(fn=cmd_run)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
        return int(args.fn(settings, args) or 0)
    except Exception as exc:
        from bot.errors import BotError

        if isinstance(exc, BotError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
