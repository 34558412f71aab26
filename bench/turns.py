"""Turn latency over Rasa, on the real three processes (``make bench``).

1. Chat turns over the REST channel on the demo queue. Baseline: a plain turn (``hello`` → a
   response from the domain, no custom action). Compared: the turn that offers slots (form
   validation + slot engine + offers stored) and the turn that books (routing, hold, local
   calendar event, e-mail).
2. A queue of 50 agents × 500 busy events on the local calendar. Chat turns: the same message
   ("I'd like to book a meeting") from an unknown visitor — the form's validation action and a
   trivial custom action that asks for the e-mail — against a known visitor — the validation
   action and ``action_offer_slots`` (busy times, engine, routing standing, offers, buttons).
   Also the two actions alone through Rasa's ``/conversations/<id>/execute``.

Reported as p50/p95 in ms and as ratios to each baseline's p50, measured in the same run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.fixtures import seed_big_queue
from bot.ops.supervisor import ROOT, Stack, free_port, newest_model
from bot.settings import Settings
from bot.store import Store

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


def post(url: str, body: dict[str, Any]) -> tuple[float, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        out = json.loads(r.read())
    return (time.perf_counter() - t0) * 1000, out


def summary(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=20)
    return {"p50": statistics.median(ms), "p95": q[18], "n": len(ms)}


def main() -> int:
    var = Path(tempfile.mkdtemp(prefix="bench-var-"))
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = {**os.environ, "BOT_VAR_DIR": str(var), **{k: str(v) for k, v in ports.items()}}
    subprocess.run([sys.executable, "-m", "bot", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    store = Store(Settings(var_dir=var).db_url)
    seed_big_queue(store, "big", 50, 500, datetime.now(timezone.utc))
    store.dispose()
    settings = Settings(
        var_dir=var, rasa_port=ports["RASA_PORT"], action_port=ports["ACTION_PORT"], web_port=ports["WEB_PORT"]
    )
    url = f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook"
    print(f"Starting the stack (logs in {var}/logs)...", flush=True)
    with Stack(settings, model=newest_model(), log_dir=var / "logs", env=env):
        for i in range(5):  # warm up every path once
            post(url, {"sender": f"warm-{i}", "message": "hello"})
        plain, offer, book = [], [], []
        for i in range(ROUNDS):
            meta = {
                "person": {"first_name": "Bench", "email": f"bench{i}@example.com"},
                "company": {"name": "Bench Co"},
                "timezone": "Europe/Berlin",
            }
            sender = f"bench-{i}"
            ms, _ = post(url, {"sender": sender, "message": "hello", "metadata": meta})
            plain.append(ms)
            ms, replies = post(url, {"sender": sender, "message": "I'd like to book a meeting", "metadata": meta})
            offer.append(ms)
            buttons = [b for r in replies for b in r.get("buttons", [])]
            if not buttons:
                raise SystemExit(f"no slots offered in round {i}: {replies}")
            ms, replies = post(
                url, {"sender": sender, "message": buttons[i % len(buttons)]["payload"], "metadata": meta}
            )
            book.append(ms)
            if "You're booked" not in " ".join(r.get("text", "") for r in replies):
                raise SystemExit(f"booking failed in round {i}: {replies}")
        api = f"http://127.0.0.1:{ports['RASA_PORT']}/conversations"
        trivial_turn, offer_turn, trivial, big = [], [], [], []
        ask = "I'd like to book a meeting"
        for i in range(ROUNDS + 5):
            known = {
                "person": {"first_name": "B", "email": f"b{i}@example.com"},
                "company": {"name": "B"},
                "queue": "big",
            }
            ms_t, r_t = post(url, {"sender": f"big-anon-{i}", "message": ask, "metadata": {"queue": "big"}})
            ms_o, r_o = post(url, {"sender": f"big-known-{i}", "message": ask, "metadata": known})
            if "e-mail" not in " ".join(r.get("text", "") for r in r_t) or not any(r.get("buttons") for r in r_o):
                raise SystemExit(f"unexpected replies: {r_t} / {r_o}")
            post(f"{api}/x-big-{i}/tracker/events", {"event": "slot", "name": "queue", "value": "big"})
            post(f"{api}/x-triv-{i}/tracker/events", {"event": "slot", "name": "queue", "value": "big"})
            ms_a, _ = post(f"{api}/x-triv-{i}/execute", {"name": "action_ask_email"})
            ms_b, _ = post(f"{api}/x-big-{i}/execute", {"name": "action_offer_slots"})
            if i >= 5:  # the first rounds warm the busy-time cache
                trivial_turn.append(ms_t)
                offer_turn.append(ms_o)
                trivial.append(ms_a)
                big.append(ms_b)
    result = {"plain_turn": summary(plain), "offer_turn": summary(offer), "book_turn": summary(book)}
    base = result["plain_turn"]["p50"]
    print(f"\n{'chat turn (demo queue)':<34}{'p50 ms':>9}{'p95 ms':>9}{'x plain':>9}")
    for name, r in result.items():
        r["ratio_p50"] = r["p50"] / base
        print(f"{name:<34}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['ratio_p50']:>9.2f}")
    actions = {
        "trivial_action_turn": summary(trivial_turn),
        "offer_turn_50x500": summary(offer_turn),
        "trivial_action_only": summary(trivial),
        "offer_action_only_50x500": summary(big),
    }
    print(f"\n{'queue of 50 agents x 500 busy':<34}{'p50 ms':>9}{'p95 ms':>9}{'x trivial':>10}")
    for name, r in actions.items():
        base = actions["trivial_action_turn" if name.endswith("turn") or "turn_" in name else "trivial_action_only"]
        r["ratio_p50"] = r["p50"] / base["p50"]
        print(f"{name:<34}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['ratio_p50']:>10.2f}")
    result.update(actions)
    out = ROOT / "results" / "bench-turns.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
