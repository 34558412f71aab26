"""Turn latency over Rasa's REST channel, on the real three processes (``make bench``).

Baseline: a plain turn (``hello`` → a response from the domain, no custom action). Compared in
the same run: the turn that offers slots (form validation + slot engine + offers stored) and the
turn that books (routing, hold, local calendar event, e-mail). Reported as p50/p95 in ms and as
ratios to the baseline's p50, so machines of different speed compare.
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
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.supervisor import ROOT, Stack, free_port, newest_model

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
    result = {"plain_turn": summary(plain), "offer_turn": summary(offer), "book_turn": summary(book)}
    base = result["plain_turn"]["p50"]
    print(f"\n{'turn':<12}{'p50 ms':>9}{'p95 ms':>9}{'x plain':>9}")
    for name, r in result.items():
        r["ratio_p50"] = r["p50"] / base
        print(f"{name:<12}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['ratio_p50']:>9.2f}")
    out = ROOT / "results" / "bench-turns.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
