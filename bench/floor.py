"""CPU per whole booking against Rasa's own floor (``make bench``; issue 21).

The same conversations twice, on the embedded default with the same model:

1. our bot: a known visitor says hello, asks for a meeting, asks for other times, clicks the
   first one offered (booked: the local calendar, the e-mail, the outbox) and says goodbye;
2. Rasa's floor: the same messages — the same click payloads — on a bot whose custom actions do
   none of our work (``bench/null_actions.py``, on the same rasa-sdk action server): each answers
   what ours answered at that point, recorded by a proxy between Rasa and our action server in
   the first run (the proxy runs in this script, whose CPU is not counted). Rasa's work is then
   the same in both runs; what differs is ours.

Both stacks run side by side and take turns, conversation by conversation, so whatever else the
machine does falls on both alike. CPU is every process of each stack (Rasa, the action server,
the web process) from /proc around each conversation, summed and divided by their number. Reported: CPU per booking for each process
and the ratio ours / floor, measured in the same run. Target: ≤ 1.5 × the floor, met or MISSED.

    python -m bench.floor [--bookings 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.length import cpu_of, post
from bot.ops.supervisor import ROOT, Stack, free_port, newest_model
from bot.settings import Settings

TARGET = 1.5


def meta(i: int) -> dict[str, Any]:
    return {
        "person": {"first_name": "Flo", "last_name": f"Or{i}", "email": f"floor{i}@example.com"},
        "company": {"name": "Floor Co"},
        "timezone": "Europe/Paris",
    }


class Recorder(ThreadingHTTPServer):
    """Between Rasa and our action server: forwards every call and keeps what came back."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.calls: dict[str, list[dict[str, Any]]] = defaultdict(list)
        super().__init__(("127.0.0.1", 0), _Forward)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Forward(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def _forward(self, body: bytes | None) -> None:
        req = urllib.request.Request(self.server.target + self.path, data=body, method=self.command)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        if body:
            call = json.loads(body)
            out = json.loads(data) if status == 200 else {}
            self.server.calls[call["sender_id"]].append(
                {
                    "next_action": call["next_action"],
                    "status": status,
                    **{k: out.get(k, []) for k in ("events", "responses")},
                }
            )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._forward(None)

    def do_POST(self) -> None:
        self._forward(self.rfile.read(int(self.headers["Content-Length"])))


def stack(null: bool, model: str, canned: Path | None = None) -> tuple[Stack, Path, str, Recorder | None]:
    var = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    actions_port = free_port()
    recorder = None if null else Recorder(f"http://127.0.0.1:{actions_port}")
    proxy = recorder.server_address[1] if recorder else actions_port
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": proxy, "WEB_PORT": free_port()}
    env = {**os.environ, "BOT_VAR_DIR": str(var), "SMTP_URL": "", **{k: str(v) for k, v in ports.items()}}
    if canned is not None:
        env["BENCH_FLOOR_CANNED"] = str(canned)
    subprocess.run([sys.executable, "-m", "bot", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    settings = Settings(
        var_dir=var, rasa_port=ports["RASA_PORT"], action_port=ports["ACTION_PORT"], web_port=ports["WEB_PORT"]
    )
    s = Stack(settings, model=model, log_dir=var / "logs", env=env)  # Rasa calls the proxy's port
    actions = next(p for p in s.procs if p.name == "actions")
    actions.argv[actions.argv.index("--port") + 1] = str(actions_port)
    actions.ready_url = f"http://127.0.0.1:{actions_port}/health"
    if null:
        actions.argv[actions.argv.index("--actions") + 1] = "bench.null_actions"
    return s, var, f"http://127.0.0.1:{ports['RASA_PORT']}/webhooks/rest/webhook", recorder


def converse(url: str, i: int, click: str | None) -> tuple[str, bool]:
    """One booking conversation; ``click``: the payload to send (None: the first time offered).
    Returns (the payload clicked, whether it was booked)."""
    sender, m = f"floor-{i}", meta(i)
    post(url, {"sender": sender, "message": "hello", "metadata": m})
    post(url, {"sender": sender, "message": "I'd like to book a meeting", "metadata": m})
    replies = post(url, {"sender": sender, "message": "other times?", "metadata": m})
    payload = click
    if payload is None:
        buttons = [b for r in replies for b in r.get("buttons", [])]
        if not buttons:
            raise SystemExit(f"conversation {i}: no times offered: {replies}")
        payload = buttons[0]["payload"]
    replies = post(url, {"sender": sender, "message": payload, "metadata": m})
    booked = "booked" in " ".join(r.get("text", "") for r in replies).lower()
    post(url, {"sender": sender, "message": "thanks, bye", "metadata": m})
    return payload, booked


def main_loop(model: str, n: int) -> tuple[dict[str, float], dict[str, float]]:
    """Both stacks up side by side; conversation i on ours (recorded), then the same on the
    floor, so whatever else the machine does falls on both alike."""
    canned = Path(tempfile.mkdtemp(prefix="bench-floor-canned-"))
    ours, ours_var, ours_url, recorder = stack(False, model)
    floor, floor_var, floor_url, _ = stack(True, model, canned)
    assert recorder is not None
    print(f"our bot and Rasa's floor: starting (logs in {ours_var}/logs, {floor_var}/logs)...", flush=True)
    used = {
        "ours": dict.fromkeys(("rasa", "actions", "web"), 0.0),
        "floor": dict.fromkeys(("rasa", "actions", "web"), 0.0),
    }
    try:
        with ours, floor:
            for i in range(-2, n):  # two warm-up conversations on each, not counted
                clicked = None
                for name, s, url in (("ours", ours, ours_url), ("floor", floor, floor_url)):
                    if name == "floor":  # what ours answered in this conversation, for the null actions
                        sender = f"floor-{i}"
                        (canned / f"{sender}.json").write_text(json.dumps(recorder.calls.get(sender, [])))
                    before = cpu_of(s.procs)
                    payload, booked = converse(url, i, clicked)
                    clicked = payload
                    time.sleep(0.2)  # the processes finish the turn's bookkeeping
                    after = cpu_of(s.procs)
                    if not booked:  # the floor too: its canned answers followed the same conversation
                        raise SystemExit(f"{name}: conversation {i} was not booked")
                    if i >= 0:
                        for k in used[name]:
                            used[name][k] += after[k] - before.get(k, 0.0)
                if (i + 1) % 10 == 0:
                    print(f"  {i + 1} bookings each", flush=True)
    finally:
        recorder.shutdown()
        for path in (canned, ours_var, floor_var):
            shutil.rmtree(path, ignore_errors=True)
    per = {}
    for name, cpu in used.items():
        per[name] = {k: 1000 * v / n for k, v in cpu.items()}
        per[name]["all"] = sum(per[name].values())
    return per["ours"], per["floor"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bookings", type=int, default=30)
    args = ap.parse_args(argv)
    model = newest_model()
    if model is None:
        raise SystemExit("no trained model in models/: run `make train` first")
    ours, floor = main_loop(model, args.bookings)
    lines = ["| CPU per booking, ms | ours | Rasa's floor | ratio |", "|---|---:|---:|---:|"]
    for k in ("rasa", "actions", "web", "all"):
        ratio = ours[k] / floor[k] if floor[k] else float("nan")
        lines.append(f"| {k} | {ours[k]:.0f} | {floor[k]:.0f} | {ratio:.2f} |")
    ratio = ours["all"] / floor["all"]
    verdict = f"- whole booking, all processes: {ratio:.2f} × Rasa's floor (target ≤ {TARGET}) — " + (
        "met" if ratio <= TARGET else "MISSED"
    )
    text = "\n".join([*lines, "", verdict])
    print("\n" + text)
    out = ROOT / "results" / "bench-floor.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"# CPU per booking against Rasa's floor ({args.bookings} bookings each)\n\n{text}\n")
    (ROOT / "results" / "bench-floor.json").write_text(json.dumps({"ours": ours, "floor": floor, "ratio": ratio}))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
