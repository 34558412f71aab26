"""After the booking and the portal (``make bench``): what moving, cancelling and the dashboard
cost, as ratios against a baseline measured in the same run.

- offer: a page of new times for a *move* (the same agent's first, then the queue's) against a
  page of times for a new booking, same queue (20 agents, local calendar, SQLite).
- write: a move to the same agent (its page of new times + the move, like a booking's offer +
  book), a move to another agent (the move alone), and a cancel, against a booking.
- dashboard: the stats of 8 weeks with 5,000 bookings against one page of new times.
- sign-in: one Argon2id verification (absolute, for the record: it is meant to be slow).

Prints a table; writes results/bench-after.json.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.admin import accounts, stats
from bot.booking import BookingService, Visitor
from bot.calendars.local import LocalCalendar
from bot.errors import SlotTaken
from bot.messages.outbox import FileOutbox
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Agent, Booking, Queue, QueueMember, TimeOff, WeeklyHour

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
ZONES = ["Europe/London", "Europe/Paris", "America/New_York", "Asia/Tokyo"]
RUNS = 40


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(store: Store, n_agents: int = 20) -> None:
    with store.session() as s:
        q = Queue(slug="sales", name="Sales", timezone="Europe/London", meeting_minutes=30, interval_minutes=30,
                  min_notice_minutes=240, window_days=14)
        s.add(q)
        for i in range(n_agents):
            a = Agent(name=f"Agent {i}", email=f"a{i}@bench.example", timezone=ZONES[i % len(ZONES)],
                      provider="local", invitation_subject="Meeting", invitation_body="Hi {{person.first_name}}",
                      include_conference=True)
            a.hours = [WeeklyHour(weekday=d, start_minute=9 * 60, end_minute=17 * 60) for d in range(5)]
            s.add(a)
            s.add(QueueMember(queue=q, agent=a, weight=100))


def timed(fn, runs: int = RUNS) -> float:
    """Median milliseconds of ``fn()`` over ``runs`` calls (``fn`` sets itself up per call)."""
    out = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bench-after-"))
    settings = Settings(var_dir=tmp)
    store = Store(settings.db_url)
    store.migrate()
    seed(store)
    clock = Clock(NOW)
    svc = BookingService(store, {"local": LocalCalendar(store, settings.public_url)}, FileOutbox(settings.outbox_dir),
                         clock=clock)
    visitor = Visitor(email="v@bench.example", first_name="Vi", timezone="Europe/Paris")
    booked: list[str] = []

    def book(i: int) -> None:
        page = svc.offer_slots(f"b{i}", "sales", count=5, spread=False)
        booked.append(svc.book(f"b{i}", page.slots[i % 5].id, visitor).booking_id)

    def offer_new(i: int) -> None:
        svc.offer_slots(f"n{i}", "sales", count=5)

    def offer_move(i: int) -> None:
        svc.offer_reschedule(f"b{i}", booked[i], count=5)

    def move_same(i: int) -> None:
        # Like `book` (offer + book): the page of new times, then the move to its first.
        page, _same = svc.offer_reschedule(f"b{i}", booked[i], count=5, spread=False)
        svc.reschedule(f"b{i}", page.slots[0].id)

    def cancel(i: int) -> None:
        svc.cancel(booked[i])

    results: dict[str, float] = {}
    results["book"] = timed(book)
    results["offer (new booking)"] = timed(offer_new)
    results["offer (move)"] = timed(offer_move)
    results["move, same agent"] = timed(move_same)
    # A move to another agent: the agents of the even bookings take the rest of the window off,
    # so their bookings' new times are all colleagues'.
    with store.session() as s:
        off = {s.get(Booking, booked[i]).agent_id for i in range(0, RUNS, 2)}
        for agent_id in off:
            s.add(TimeOff(agent_id=agent_id, start=NOW, end=NOW + timedelta(days=30)))
    others = {}
    for i in range(RUNS):
        page, same = svc.offer_reschedule(f"b{i}", booked[i], count=5) if i % 2 == 0 else (None, 0)
        others[i] = page.slots[i % len(page.slots)] if page and same == 0 and page.slots else None

    other_ms: list[float] = []
    for i in range(0, RUNS, 2):
        if others[i] is None:
            continue
        t0 = time.perf_counter()
        try:
            svc.reschedule(f"b{i}", others[i].id)
        except SlotTaken:  # an earlier move took that time: not a move, not timed
            continue
        other_ms.append((time.perf_counter() - t0) * 1000)
    moved_other = len(other_ms)
    results["move, other agent"] = statistics.median(other_ms or [0.0])
    results["cancel"] = timed(cancel)
    # The dashboard over 5,000 bookings in 8 weeks.
    with store.session() as s:
        agents = [a.id for a in s.query(Agent.id)]
        qid = s.query(Queue.id).scalar()
        for k in range(5000):
            at = NOW - timedelta(minutes=17 * k)
            s.add(Booking(id=uuid.uuid4().hex, status="confirmed" if k % 7 else "cancelled", queue_id=qid,
                          agent_id=agents[k % len(agents)], conversation_id=f"d{k}", visitor_email="d@x.example",
                          start=at, end=at + timedelta(minutes=30), timezone="UTC", locale="en", provider="local",
                          created_at=at, updated_at=at))
    start, end = stats.default_range(NOW)

    def dashboard(_i: int) -> None:
        stats.bookings_per_agent(store, queue="sales", start=start, end=end)
        stats.funnel(store, queue="sales", start=start, end=end)
        stats.failed_bookings(store, queue="sales", start=start, end=end)

    results["dashboard (5,000 bookings)"] = timed(dashboard, runs=10)
    accounts.create_account(store, "bench@example.com", "bench password 123", "admin")
    results["sign-in (Argon2id verify)"] = timed(
        lambda i: accounts.authenticate(store, "bench@example.com", "bench password 123", f"10.0.0.{i}", NOW), runs=10
    )
    svc.close()
    store.dispose()

    base_offer, base_book = results["offer (new booking)"], results["book"]
    ratios = {
        "offer (move)": results["offer (move)"] / base_offer,
        "move, same agent": results["move, same agent"] / base_book,
        "move, other agent": results["move, other agent"] / base_book,
        "cancel": results["cancel"] / base_book,
        "dashboard (5,000 bookings)": results["dashboard (5,000 bookings)"] / base_offer,
    }
    print(f"median of {RUNS} runs (SQLite, local calendar, 20 agents); moves to another agent measured: {moved_other}")
    print(f"{'':30} {'ms':>8} {'ratio':>8}  baseline")
    for name, ms in results.items():
        ratio = ratios.get(name)
        base = "offer (new booking)" if name in ("offer (move)", "dashboard (5,000 bookings)") else "book"
        shown = f"{ratio:.2f}" if ratio else ""
        print(f"{name:30} {ms:8.1f} {shown:>8}  {base if ratio else ''}")
    out = ROOT / "results" / "bench-after.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"ms": results, "ratios": ratios}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
