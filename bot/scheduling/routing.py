"""Who gets the meeting: pure functions over counts and weights, every decision explained.

1. Account owner: an owner e-mail from the visitor's person/company metadata that belongs to
   a queue member free at the chosen time wins.
2. Otherwise weighted round robin among the free members: fewest bookings in the current
   period relative to weight, ties to the least recently booked, then the lower id.
3. ``max-fairness`` holds back members ahead of their weighted share by more than the margin
   (they are neither offered nor chosen while ahead); ``max-availability`` holds back nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

MODES = ("max-availability", "max-fairness")
PERIODS = ("day", "week", "month")
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Member:
    agent_id: int
    name: str
    email: str
    weight: int
    count: int  # confirmed bookings in the current period
    last_booked: datetime | None = None

    @property
    def load(self) -> float:
        return self.count / self.weight if self.weight > 0 else float("inf")


@dataclass(frozen=True)
class Decision:
    order: list[int]  # free, not held back, most preferred first
    rule: str  # "account_owner" or "round_robin"
    explanation: dict[str, Any]


def period_start(now: datetime, period: str, tz: ZoneInfo) -> datetime:
    """Start of the current calendar day/week/month in the queue's zone, as UTC."""
    local = now.astimezone(tz)
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    elif period != "day":
        raise ValueError(f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)


def shares(members: Sequence[Member]) -> dict[int, float]:
    """Each member's weighted share of the bookings made so far in the period."""
    total = sum(m.count for m in members)
    weight = sum(max(m.weight, 0) for m in members)
    return {m.agent_id: (total * max(m.weight, 0) / weight if weight else 0.0) for m in members}


def held_back(members: Sequence[Member], mode: str, margin: float, keep: Iterable[int] = ()) -> set[int]:
    """Members ahead of their weighted share by more than ``margin`` (``max-fairness`` only)."""
    if mode != "max-fairness":
        return set()
    share = shares(members)
    kept = set(keep)
    return {m.agent_id for m in members if m.agent_id not in kept and m.count - share[m.agent_id] > margin}


def route(
    free: Sequence[Member],
    members: Sequence[Member],
    *,
    owners: Iterable[int] = (),
    mode: str = "max-availability",
    margin: float = 0,
    period_from: datetime | None = None,
) -> Decision:
    """Order the free members for a booking and say why."""
    owner_ids = [o for o in owners if any(m.agent_id == o for m in members)]
    free_ids = {m.agent_id for m in free}
    share = shares(members)
    back = held_back(members, mode, margin, keep=owner_ids)
    eligible = [m for m in free if m.agent_id not in back] or list(free)
    ranked = sorted(eligible, key=lambda m: (m.load, m.last_booked or _NEVER, m.agent_id))
    free_owner = next((o for o in owner_ids if o in free_ids), None)
    rule = "round_robin"
    order = [m.agent_id for m in ranked]
    if free_owner is not None:
        rule = "account_owner"
        order = [free_owner] + [a for a in order if a != free_owner]
    explanation = {
        "rule": rule,
        "mode": mode,
        "margin": margin,
        "period_from": period_from.isoformat() if period_from else None,
        "owners": owner_ids,
        "owner_free": free_owner is not None,
        "candidates": [
            {
                "agent_id": m.agent_id,
                "name": m.name,
                "email": m.email,
                "free": m.agent_id in free_ids,
                "held_back": m.agent_id in back,
                "count": m.count,
                "weight": m.weight,
                "share": round(share[m.agent_id], 2),
                "last_booked": m.last_booked.isoformat() if m.last_booked else None,
            }
            for m in sorted(members, key=lambda m: m.agent_id)
        ],
        "order": order,
    }
    return Decision(order, rule, explanation)


def describe(explanation: dict[str, Any], chosen: int | None = None) -> str:
    """The explanation in words, for `python -m bot explain`."""
    lines = []
    by_id = {c["agent_id"]: c for c in explanation.get("candidates", [])}
    chosen = chosen if chosen is not None else explanation.get("chosen")
    who = by_id.get(chosen, {}).get("name", f"agent {chosen}")
    ruled = explanation.get("routing_rule")
    if isinstance(ruled, dict):
        why = "; ".join(ruled.get("why") or []) or "no conditions (the default rule)"
        lines.append(f"Routing rule {ruled.get('rule')!r} (routing.yml line {ruled.get('line')}): {why}.")
        if ruled.get("owner"):
            lines.append("The rule offers only the visitor's account owner's times when they have an owner in the queue.")
    answers = explanation.get("answers")
    if isinstance(answers, dict) and answers:
        said = "; ".join(f"{k}: {'not understood' if v is None else v}" for k, v in answers.items())
        lines.append(f"The visitor's answers to the qualification questions: {said}.")
    if explanation.get("rule") == "account_owner":
        lines.append(f"{who} got the meeting as the account owner named in the visitor's metadata, free at that time.")
    else:
        if explanation.get("owners"):
            lines.append("The account owner named in the metadata was not free at that time.")
        lines.append(
            f"{who} got the meeting by weighted round robin ({explanation.get('mode')}): fewest bookings "
            f"since {explanation.get('period_from')} relative to weight, ties to the least recently booked."
        )
    lines.append("")
    lines.append(f"{'agent':<24}{'free':>6}{'held back':>11}{'bookings':>10}{'weight':>8}{'share':>8}  last booked")
    for c in explanation.get("candidates", []):
        mark = "→ " if c["agent_id"] == chosen else "  "
        lines.append(
            f"{mark}{c['name'][:22]:<22}{'yes' if c['free'] else 'no':>6}{'yes' if c['held_back'] else 'no':>11}"
            f"{c['count']:>10}{c['weight']:>8}{c['share']:>8}  {c['last_booked'] or '-'}"
        )
    return "\n".join(lines)
