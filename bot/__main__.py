"""Command line: ``python -m bot COMMAND``. ``python -m bot --help`` lists the commands."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from typing import Sequence

from bot.settings import Settings, load_settings


def _setup(settings: Settings) -> None:
    from bot.demo import seed_demo
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


def _table(rows: list[dict], cols: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c) or "")) for r in rows)) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c) or "").ljust(widths[c]) for c in cols))


def cmd_bookings(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import build_service

    rows = build_service(settings).list_bookings()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _table(rows, ["id", "status", "queue", "agent_email", "visitor_email", "start", "timezone"])
    return 0


def cmd_callbacks(settings: Settings, args: argparse.Namespace) -> int:
    from bot.runtime import build_service

    rows = build_service(settings).list_callbacks()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _table(rows, ["id", "status", "queue", "email", "first_name", "company", "created_at"])
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web import create_app

    app = create_app(settings)
    app.run(host=args.host or settings.host, port=args.port or settings.web_port, access_log=False, workers=1)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.supervisor import Stack, train

    t0 = time.monotonic()
    _setup(settings)
    if not args.no_train:
        print("Training the model if the data changed (Rasa skips an unchanged fingerprint)...", flush=True)
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
            f"  Chat page:      http://localhost:{s.web_port}/\n"
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
    p = sub.add_parser("serve", help="run the web app (chat page, meeting rooms, health)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(fn=cmd_serve)
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
