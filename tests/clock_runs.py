"""The conversation, language and browser tests under faked clocks (`make test-clock`).

Each run starts the real three processes and the test process under libfaketime (Debian's
`faketime`), from a chosen instant, with the clock ticking on from there; monotonic clocks stay
real (asyncio, timeouts). The instants are the hard ones for a booking assistant: a weekend,
a night in each demo agent's zone, the US and EU DST change days, New Year's Eve. Prints a
table and writes results/clock.md; exits 1 when any run fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: (name, UTC instant)
INSTANTS = [
    ("weekend (Sat 11:00 UTC)", "2026-12-12 11:00:00"),
    ("night in New York (03:00 EST)", "2026-12-08 08:00:00"),
    ("night in Paris (03:00 CET)", "2026-12-08 02:00:00"),
    ("night in Tokyo (03:00 JST)", "2026-12-08 18:00:00"),
    ("US DST change day (01:30 EST)", "2027-03-14 06:30:00"),
    ("EU DST change day (00:30 UTC)", "2027-03-28 00:30:00"),
    ("New Year's Eve (23:30 UTC)", "2026-12-31 23:30:00"),
]
SUITES = [
    "tests/e2e/conversations/test_conversations.py",
    "tests/e2e/test_conversation.py",
    "tests/e2e/test_languages.py",
    "tests/e2e/test_browser_widget.py",
]


def run(name: str, instant: str) -> tuple[str, str, float]:
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
    suites = [s for s in SUITES if (ROOT / s).exists()]
    # An offset from the real clock, not "@instant": "@" starts each process's clock at the
    # instant when *that* process starts, so servers started a minute after the tests would run a
    # minute behind them; with one offset every process shares the same faked now.
    target = datetime.strptime(instant, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    cmd = ["faketime", "-f", f"{target - time.time():+.0f}", sys.executable, "-m", "pytest", "-q", "-m", "e2e", "-p", "no:cacheprovider", *suites]
    print(f"== {name}: faketime from {instant} UTC", flush=True)
    start = time.monotonic()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    (ROOT / "results").mkdir(exist_ok=True)
    slug = re.sub(r"\W+", "-", instant).strip("-")
    (ROOT / "results" / f"clock-{slug}.log").write_text(out.stdout + out.stderr)  # the whole run, to read
    tail = [line for line in out.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = tail[-1].strip("= ") if tail else f"exit {out.returncode}"
    if out.returncode != 0:
        failed = [line for line in out.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        sys.stdout.write("\n".join(failed[:30]) + "\n")
    print(f"   {summary} ({elapsed:.0f} s)", flush=True)
    return ("ok" if out.returncode == 0 else "FAILED"), summary, elapsed


def main() -> int:
    only = os.environ.get("CLOCKS")  # e.g. CLOCKS=0,5,6 runs the first, sixth and seventh only
    chosen = [INSTANTS[int(i)] for i in only.split(",")] if only else INSTANTS
    rows = [(name, instant, *run(name, instant)) for name, instant in chosen]
    lines = ["| clock | instant (UTC) | result | tests | time |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {i} | {r} | {s} | {t:.0f} s |" for n, i, r, s, t in rows]
    table = "\n".join(lines)
    print(table)
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "clock.md").write_text(table + "\n")
    return 0 if all(r == "ok" for _, _, r, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
