"""Slot engine speed (``make bench``): queues of 10, 50 and 200 agents, 500 busy intervals each,
over a 14-day window, against a naive reference in the same run.

The naive reference is the obvious algorithm: every candidate start of every agent checked
against every busy interval of that agent. Both must produce the same slots (checked).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from bot.scheduling import AgentSchedule, Busy, Rules, availability
from bot.scheduling.engine import _Calendar, _candidates, _local_day, from_minute, to_minute

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
RULES = Rules(
    meeting_minutes=30,
    interval_minutes=15,
    min_notice_minutes=240,
    window_days=14,
    buffer_before_minutes=5,
    buffer_after_minutes=10,
)
ZONES = ["America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney"]
HOURS = [
    {d: [(9 * 60, 17 * 60)] for d in range(5)},
    {d: [(8 * 60, 12 * 60), (13 * 60, 17 * 60)] for d in range(5)},
    {d: [(10 * 60, 18 * 60)] for d in range(6)},
    {d: [(7 * 60, 11 * 60), (14 * 60, 19 * 60)] for d in range(5)},
]


def make_queue(n_agents: int, n_busy: int, seed: int = 7) -> list[AgentSchedule]:
    rng = random.Random(seed)
    start = to_minute(NOW)
    agents = []
    for i in range(n_agents):
        s = np.sort(np.array([start + rng.randrange(0, 15 * 1440) for _ in range(n_busy)], dtype=np.int64))
        e = s + np.array([rng.choice((15, 30, 45, 60, 90)) for _ in range(n_busy)], dtype=np.int64)
        agents.append(AgentSchedule(i + 1, ZoneInfo(ZONES[i % len(ZONES)]), HOURS[i % len(HOURS)], Busy(s, e)))
    return agents


def naive(agents: list[AgentSchedule], rules: Rules, early_exit: bool = False) -> dict[int, set[int]]:
    """The reference: every candidate start checked against every busy interval of its agent.

    With ``early_exit`` a candidate stops at its first conflict (a stronger baseline, shown too).
    """
    now_m = to_minute(NOW, ceil=True)
    earliest, latest = now_m + rules.min_notice_minutes, now_m + rules.window_days * 1440
    out: dict[int, set[int]] = {}
    cal, memo = _Calendar(), {}
    for a in agents:
        first = _local_day(from_minute(earliest), a.timezone) - timedelta(days=1)
        last = _local_day(from_minute(latest), a.timezone) + timedelta(days=1)
        busy = list(zip(a.busy.starts.tolist(), a.busy.ends.tolist(), strict=True))
        for s in _candidates(a, rules, first, last, cal, memo)[0].tolist():
            if s < earliest or s + rules.meeting_minutes > latest:
                continue
            lo, hi = s - rules.buffer_before_minutes, s + rules.meeting_minutes + rules.buffer_after_minutes
            if early_exit:
                ok = all(not (b0 < hi and lo < b1) for b0, b1 in busy)
            else:
                conflicts = 0
                for b0, b1 in busy:
                    if b0 < hi and lo < b1:
                        conflicts += 1
                ok = conflicts == 0
            if ok:
                out.setdefault(s, set()).add(a.agent_id)
    return out


def fast(agents, rules):
    return availability(agents, rules, NOW)


def as_dict(avail) -> dict[int, set[int]]:
    return {int(avail.starts[i]): set(avail.agents_at(i)) for i in range(len(avail))}


def timed(fn, *args, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> int:
    print(
        f"{'agents':>6} {'busy/agent':>10} {'slots':>7} {'engine ms':>10} {'naive ms':>10} {'x faster':>9}"
        f" {'early-exit ms':>14} {'x faster':>9}"
    )
    last = None
    for n_agents, n_busy in [(10, 500), (50, 500), (200, 125), (200, 250), (200, 500), (200, 1000)]:
        agents = make_queue(n_agents, n_busy)
        fast_ms, avail = timed(fast, agents, RULES, repeat=15)
        naive_ms, ref = timed(naive, agents, RULES, repeat=1)
        early_ms, ref2 = timed(naive, agents, RULES, True, repeat=1)
        if as_dict(avail) != ref or ref2 != ref:
            print(f"MISMATCH for {n_agents} agents x {n_busy} busy", file=sys.stderr)
            return 1
        print(
            f"{n_agents:>6} {n_busy:>10} {len(avail):>7} {fast_ms:>10.2f} {naive_ms:>10.0f} {naive_ms / fast_ms:>9.0f}"
            f" {early_ms:>14.0f} {early_ms / fast_ms:>9.0f}",
            flush=True,
        )
        if (n_agents, n_busy) == (200, 500):
            last = (fast_ms, naive_ms / fast_ms)
    assert last is not None
    print(f"bench: 200 agents x 500 busy: {last[0]:.1f} ms, {last[1]:.0f}x faster than naive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
