"""Turn cost against conversation length (``make bench``; issue 21).

Known visitors talk for ``--messages`` messages (default 200) each in ``--conversations`` (3)
conversations that take turns, cycling
"I'd like to book a meeting" (the form, then times), "other times?" (the next page) and "hello",
as a visitor who keeps a chat open all day would. For every message: the latency over REST and
the CPU seconds every process of the stack used (Rasa, action server, web, and on the scaled
topology Postgres and Redis), from /proc.

Reported at messages 5, 50, 100 and 200 — each the median latency and the mean CPU of the nine
messages around it (three whole cycles, so every window has the same mix) — and as the ratio to
message 5, measured in the same run. Target: message 200 ≤ 1.2 × message 5 in latency p50 and in
CPU, printed as met or MISSED, on the embedded default (SQLite, in-memory conversations) and on
the scaled topology (Postgres tracker store + Redis lock store, one Rasa server).

A new session starts light: the visitor then comes back after the session expired (the tracker
gets ``/session_start``) and the next nine messages are measured the same way.

    python -m bench.length [--messages 200] [--topologies embedded,scaled] [--conversations 3]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import REDIS_URL, _children, cpu_seconds, drop_scaled, scaled_targets, seed, tree
from bot.ops.scale import ScaleConfig, Topology
from bot.ops.supervisor import ROOT, Stack, free_port, newest_model
from bot.settings import Settings

MARKS = (5, 50, 100, 200)
HALF = 4  # a window is the mark ± 4 messages: nine, three whole cycles
TARGET = 1.2
CYCLE = ("I'd like to book a meeting", "other times?", "hello")
META = {
    "person": {"first_name": "Lena", "last_name": "Long", "email": "lena.long@example.com"},
    "company": {"name": "Long Chats GmbH"},
    "timezone": "Europe/Berlin",
}


def post(url: str, body: dict[str, Any], token: str | None = None) -> Any:
    if token:
        url += ("&" if "?" in url else "?") + f"token={token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def get(url: str, token: str | None = None) -> Any:
    if token:
        url += ("&" if "?" in url else "?") + f"token={token}"
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.loads(r.read())


@dataclass
class Turn:
    n: int  # 1-based message number in the conversation
    ms: float
    cpu: dict[str, float]  # process → CPU seconds this turn


@dataclass
class Run:
    topology: str
    turns: list[Turn] = field(default_factory=list)
    fresh: list[Turn] = field(default_factory=list)  # after the session expired
    events: int = 0  # events in the conversation's tracker at the end

    def window(self, mark: int, turns: list[Turn] | None = None) -> list[Turn]:
        turns = self.turns if turns is None else turns
        lo, hi = max(1, mark - HALF), mark + HALF
        if hi > turns[-1].n:  # the last mark: the nine messages that end the conversation
            lo, hi = turns[-1].n - 2 * HALF, turns[-1].n
        elif lo == 1:
            hi = 1 + 2 * HALF
        return [t for t in turns if lo <= t.n <= hi]

    @staticmethod
    def p50(turns: list[Turn]) -> float:
        return statistics.median(t.ms for t in turns)

    @staticmethod
    def cpu_ms(turns: list[Turn], proc: str | None = None) -> float:
        total = sum(v for t in turns for k, v in t.cpu.items() if proc is None or k == proc)
        return 1000 * total / len(turns)


def cpu_of(procs: list[Any]) -> dict[str, float]:
    """CPU seconds so far of each process of the stack (with its children), Postgres and Redis."""
    kids = _children()
    out: dict[str, float] = {}
    for p in procs:
        if p.popen is not None:
            out[p.name.split("-")[0]] = out.get(p.name.split("-")[0], 0.0) + sum(
                cpu_seconds(x) for x in tree(p.popen.pid, kids)
            )
    out["postgres"] = out["redis"] = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if comm in ("postgres", "postmaster"):
            out["postgres"] += cpu_seconds(int(entry))
        elif comm == "redis-server":
            out["redis"] += cpu_seconds(int(entry))
    return out


def talk(
    run: Run, procs: list[Any], url: str, senders: list[str], messages: int, token: str | None, into: list[Turn]
) -> None:
    """``messages`` messages in each conversation, taking turns (message n of every one, then
    n + 1), so drift on the machine falls on every mark alike."""
    for n in range(1, messages + 1):
        text = CYCLE[(n - 1) % len(CYCLE)]
        for sender in senders:
            before = cpu_of(procs)
            t0 = time.perf_counter()
            replies = post(url, {"sender": sender, "message": text, "metadata": META}, token)
            ms = (time.perf_counter() - t0) * 1000
            time.sleep(0.05)  # let the processes finish their bookkeeping (logs, commits) inside this turn
            after = cpu_of(procs)
            if not replies:
                raise SystemExit(f"{run.topology}: no reply to message {n} ({text!r})")
            if text == CYCLE[0] and not any(r.get("buttons") for r in replies):
                raise SystemExit(f"{run.topology}: message {n} ({text!r}) offered no times: {replies}")
            into.append(Turn(n, ms, {k: max(0.0, after[k] - before.get(k, 0.0)) for k in after}))
        if n % 50 == 0:
            print(
                f"  {run.topology}: {n} messages in each of {len(senders)} conversations, last {ms:.0f} ms", flush=True
            )


def conversation(run: Run, procs: list[Any], rasa: str, messages: int, token: str | None, count: int) -> None:
    tag = secrets.token_hex(4)
    senders = [f"length-{tag}-{i}" for i in range(count)]
    url = f"{rasa}/webhooks/rest/webhook"
    for i in range(9):  # warm every path (caches, first queries) on another conversation
        post(url, {"sender": f"warm-{tag}", "message": CYCLE[i % len(CYCLE)], "metadata": META}, token)
    talk(run, procs, url, senders, messages, token, run.turns)
    expected = [CYCLE[(n - 1) % len(CYCLE)] for n in range(1, messages + 1)]
    for sender in senders:
        tracker = get(f"{rasa}/conversations/{sender}/tracker?include_events=ALL", token)
        run.events = max(run.events, len(tracker["events"]))
        users = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
        if users[-messages:] != expected:
            raise SystemExit(f"{run.topology}: the tracker lost or reordered messages ({len(users)} user events)")
        # The visitor comes back after the session expired: Rasa starts a new session on this
        # message. Running action_session_start is what Rasa does then (the carried-over slots).
        post(f"{rasa}/conversations/{sender}/execute", {"name": "action_session_start"}, token)
    talk(run, procs, url, senders, 1 + 2 * HALF, token, run.fresh)


def embedded(messages: int, model: str, count: int) -> Run:
    var = Path(tempfile.mkdtemp(prefix="bench-length-"))
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "WEB_PORT": free_port()}
    env = {**os.environ, "BOT_VAR_DIR": str(var), "SMTP_URL": "", **{k: str(v) for k, v in ports.items()}}
    subprocess.run([sys.executable, "-m", "bot", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    settings = Settings(
        var_dir=var, rasa_port=ports["RASA_PORT"], action_port=ports["ACTION_PORT"], web_port=ports["WEB_PORT"]
    )
    run = Run("embedded")
    print(f"embedded default: starting (logs in {var}/logs)...", flush=True)
    with Stack(settings, model=model, log_dir=var / "logs", env=env) as stack:
        conversation(run, stack.procs, f"http://127.0.0.1:{ports['RASA_PORT']}", messages, None, count)
    shutil.rmtree(var, ignore_errors=True)
    return run


def scaled(messages: int, model: str, count: int) -> Run:
    _tag, store_db, tracker_db, prefix = scaled_targets("length")
    var = Path(tempfile.mkdtemp(prefix="bench-length-scaled-"))
    env = {"BOT_VAR_DIR": str(var), "SMTP_URL": "", "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cfg = ScaleConfig(
        database_url=store_db.url(),
        tracker_url=tracker_db.url(),
        redis_url=REDIS_URL,
        redis_key_prefix=prefix,
        rasa=1,
        actions=1,
        web=1,
        worker=False,
        model=model,
        extra_env=env,
    )
    topo = Topology(Settings(var_dir=var, database_url=store_db.url()), cfg, log_dir=var / "logs")
    run = Run("scaled")
    try:
        topo.prepare()
        seed(store_db.url(), 0)
        print(f"scaled topology (Postgres + Redis, one Rasa server): starting (logs in {var}/logs)...", flush=True)
        topo.start(timeout=400)
        conversation(run, topo.procs, topo.rasa_urls[0], messages, cfg.rasa_token, count)
    finally:
        topo.stop()
        drop_scaled(store_db, tracker_db, prefix)
    shutil.rmtree(var, ignore_errors=True)
    return run


def report(runs: list[Run]) -> tuple[str, bool]:
    lines, ok = [], True
    lines.append(
        "| topology | message | latency p50 ms | × msg 5 | CPU ms (all processes) | × msg 5 | of which Rasa | actions |"
    )
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for run in runs:
        base = run.window(MARKS[0])
        b_ms, b_cpu = Run.p50(base), Run.cpu_ms(base)
        marks = [m for m in MARKS if m <= run.turns[-1].n]
        for mark in marks:
            w = run.window(mark)
            lines.append(
                f"| {run.topology} | {mark} | {Run.p50(w):.0f} | {Run.p50(w) / b_ms:.2f} | {Run.cpu_ms(w):.0f} | "
                f"{Run.cpu_ms(w) / b_cpu:.2f} | {Run.cpu_ms(w, 'rasa'):.0f} | {Run.cpu_ms(w, 'actions'):.0f} |"
            )
        w = run.fresh
        lines.append(
            f"| {run.topology} | new session, 1–9 | {Run.p50(w):.0f} | {Run.p50(w) / b_ms:.2f} | {Run.cpu_ms(w):.0f} | "
            f"{Run.cpu_ms(w) / b_cpu:.2f} | {Run.cpu_ms(w, 'rasa'):.0f} | {Run.cpu_ms(w, 'actions'):.0f} |"
        )
        last = run.window(marks[-1])
        for what, value in (("latency p50", Run.p50(last) / b_ms), ("CPU", Run.cpu_ms(last) / b_cpu)):
            met = value <= TARGET
            ok &= met
            verdicts.append(
                f"- {run.topology}: message {marks[-1]} / message 5, {what}: {value:.2f} "
                f"(target ≤ {TARGET}) — {'met' if met else 'MISSED'}"
            )
        fresh = Run.p50(run.fresh) / b_ms
        met = fresh <= TARGET
        ok &= met
        verdicts.append(
            f"- {run.topology}: a new session after {run.turns[-1].n} messages / message 5, latency p50: "
            f"{fresh:.2f} (target ≤ {TARGET}) — {'met' if met else 'MISSED'}; {run.events} events in the tracker"
        )
    return "\n".join(lines + [""] + verdicts), ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--topologies", default="embedded,scaled")
    ap.add_argument("--conversations", type=int, default=3, help="conversations at once, taking turns")
    args = ap.parse_args(argv)
    model = newest_model()
    if model is None:
        raise SystemExit("no trained model in models/: run `make train` first")
    runs = []
    for name in args.topologies.split(","):
        runs.append({"embedded": embedded, "scaled": scaled}[name.strip()](args.messages, model, args.conversations))
    text, ok = report(runs)
    print("\n" + text)
    out = ROOT / "results" / "bench-length.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("# Turn cost against conversation length\n\n" + text + "\n")
    turns = {r.topology: [[t.n, round(t.ms, 1), round(1000 * sum(t.cpu.values()), 1)] for t in r.turns] for r in runs}
    out.with_suffix(".json").write_text(json.dumps({"columns": ["message", "ms", "cpu_ms"], "turns": turns}))
    print(f"\nwritten to {out.relative_to(ROOT)}")
    print("all targets met" if ok else "some targets MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
