"""Dashboard numbers (bot/admin/stats.py) and the fairness chart (bot/web/chart.py), from bookings
made through the booking service."""

from __future__ import annotations

import csv
import html
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.admin.stats import (
    CSV_FIELDS,
    AgentSeries,
    Funnel,
    bookings_csv,
    bookings_per_agent,
    buckets_for,
    csv_cell,
    default_range,
    failed_bookings,
    funnel,
)
from bot.booking import Visitor
from bot.errors import ProviderUnavailable, UnknownQueue
from bot.store.models import Agent, Booking, Offer, Queue, QueueMember
from bot.web.chart import fairness_svg
from tests.helpers import NINE_TO_FIVE, add_queue, utc

SVG = "{http://www.w3.org/2000/svg}"
EVE = '<b>Eve & "Co"</b>'
HYPERLINK = '=HYPERLINK("http://x")'
START = utc(2026, 11, 23)  # Monday


def _agent_id(store, name: str) -> int:
    with store.session() as s:
        return s.execute(select(Agent.id).where(Agent.name == name)).scalar_one()


def _book(service, store, conversation: str, agent: str, **visitor) -> str:
    """Book the first offered time at which ``agent`` is free, routed to them as account owner."""
    email = f"{agent.lower()}@agents.example"
    v = Visitor(
        email=visitor.pop("email", f"{conversation}@visitors.example"), person={"owner_email": email}, **visitor
    )
    page = service.offer_slots(conversation, "sales", count=10, spread=False, visitor=v)
    agent_id = _agent_id(store, agent)
    with store.session() as s:
        offered = {
            o.id: o.agent_ids for o in s.execute(select(Offer).where(Offer.conversation_id == conversation)).scalars()
        }
    slot = next(o for o in page.slots if agent_id in offered[o.id])
    result = service.book(conversation, slot.id, v)
    assert result.agent_email == email
    return result.booking_id


@pytest.fixture
def history(service, store, clock, monkeypatch):
    """Two weeks of sales bookings (Ada weight 200, Bo and Eve 100) and one support booking.

    Week of 23 Nov: Ada 1, Bo 1 (+ a failed booking inserted directly).
    Week of 30 Nov: Ada 3 (one cancelled, one rescheduled), Bo 1, an offer-only conversation,
    a reschedule offer in a conversation of its own, a booking the calendar refused.
    Before the range: one Ada booking and one offer-only conversation.
    """
    add_queue(store, agents=[(n, "Europe/London", NINE_TO_FIVE) for n in ("Ada", "Bo", EVE)])
    add_queue(store, "support", agents=[("Dee", "Europe/London", NINE_TO_FIVE)])
    with store.session() as s:
        sales = s.execute(select(Queue.id).where(Queue.slug == "sales")).scalar_one()
        s.execute(
            update(QueueMember)
            .where(QueueMember.queue_id == sales, QueueMember.agent_id == _agent_id(store, "Ada"))
            .values(weight=200)
        )
    ids: dict[str, str] = {}
    clock.now = utc(2026, 11, 20, 8)  # Friday before the range
    ids["c0"] = _book(service, store, "c0", "Ada")
    service.offer_slots("o0", "sales", count=1)

    clock.now = utc(2026, 11, 24, 8)
    ids["c1"] = _book(service, store, "c1", "Ada", first_name="Dana", last_name="Smith", company_name="Acme")
    ids["c2"] = _book(service, store, "c2", "Bo", first_name=HYPERLINK, last_name="-1+2", company_name="@SUM(A1)")
    clock.now = utc(2026, 11, 25, 9)
    with store.session() as s:
        ids["c9"] = uuid.uuid4().hex
        s.add(
            Booking(
                id=ids["c9"], status="failed", queue_id=sales, agent_id=_agent_id(store, "Bo"), conversation_id="c9",
                visitor_email="c9@visitors.example", start=utc(2026, 11, 26, 10), end=utc(2026, 11, 26, 10, 30),
                timezone="UTC", locale="en", provider="local", failure_reason="calendar said no",
                created_at=clock.now, updated_at=clock.now,
            )
        )  # fmt: skip

    clock.now = utc(2026, 12, 1, 8)
    ids["c3"] = _book(service, store, "c3", "Ada")
    ids["c4"] = _book(service, store, "c4", "Ada")
    ids["c5"] = _book(service, store, "c5", "Ada")
    service.cancel(ids["c5"])
    ids["c6"] = _book(service, store, "c6", "Bo")
    service.offer_slots("c7", "sales", count=3)  # shown times, never clicked
    page, _ = service.offer_reschedule("r1", ids["c3"], count=1)  # a manage page, not a new visitor
    service.reschedule("r1", page.slots[0].id)
    with monkeypatch.context() as m:

        def down(*a, **k):
            raise ProviderUnavailable("calendar down", provider="local")

        m.setattr(service.providers["local"], "create_event", down)
        with pytest.raises(ProviderUnavailable):
            _book(service, store, "c8", "Ada")
    with store.session() as s:
        ids["c8"] = s.execute(select(Booking.id).where(Booking.conversation_id == "c8")).scalar_one()
    support = Visitor(email="s@visitors.example")
    offer = service.offer_slots("s1", "support", count=1).slots[0]
    ids["s1"] = service.book("s1", offer.id, support).booking_id
    clock.now = utc(2026, 12, 1, 9)
    return ids


def test_bookings_per_agent_weekly_counts_and_shares(store, history, clock):
    with store.session() as s:
        moved = s.get(Booking, history["c3"])
        assert (moved.status, moved.sequence) == ("confirmed", 1)  # the reschedule really happened
    days, series = bookings_per_agent(store, queue="sales", start=START, end=clock.now)
    assert days == [date(2026, 11, 23), date(2026, 11, 30)]
    assert [s.name for s in series] == [EVE, "Ada", "Bo"]  # by name ("<" sorts first)
    by = {s.name: s for s in series}
    assert by["Ada"].counts == [1, 3] and by["Ada"].total == 4  # cancelled and rescheduled count once
    assert by["Bo"].counts == [1, 1] and by["Bo"].total == 2  # the failed one does not count
    assert by[EVE].counts == [0, 0] and by[EVE].total == 0
    assert by["Ada"].share == pytest.approx(4 / 6) and by["Bo"].share == pytest.approx(2 / 6) and by[EVE].share == 0
    assert by["Ada"].weight_share == pytest.approx(0.5)
    assert by["Bo"].weight_share == pytest.approx(0.25) and by[EVE].weight_share == pytest.approx(0.25)
    assert by["Ada"].email == "ada@agents.example" and by["Ada"].agent_id == _agent_id(store, "Ada")

    # Every queue: every agent, equal targets, the support booking too.
    _days, everyone = bookings_per_agent(store, queue=None, start=START, end=clock.now)
    assert [(s.name, s.total) for s in everyone] == [(EVE, 0), ("Ada", 4), ("Bo", 2), ("Dee", 1)]
    assert all(s.weight_share == pytest.approx(0.25) for s in everyone)
    assert sum(s.share for s in everyone) == pytest.approx(1)

    # Days in a zone: the range's days, bookings on theirs.
    days, series = bookings_per_agent(
        store, queue="sales", start=utc(2026, 11, 24), end=utc(2026, 12, 2), bucket="day", tz="America/New_York"
    )
    assert days[0] == date(2026, 11, 23) and days[-1] == date(2026, 12, 1) and len(days) == 9
    ada = next(s for s in series if s.name == "Ada")
    assert ada.counts[days.index(date(2026, 11, 24))] == 1 and ada.counts[days.index(date(2026, 12, 1))] == 3

    with pytest.raises(UnknownQueue):
        bookings_per_agent(store, queue="nope", start=START, end=clock.now)
    with pytest.raises(ValueError):
        bookings_per_agent(store, queue="sales", start=START, end=clock.now, bucket="month")


def test_buckets_follow_the_zone_and_count_only_made_bookings(store):
    """Sunday 23:30 UTC is Monday in Berlin; pending and failed bookings were never made."""
    [ada] = add_queue(store)
    with store.session() as s:
        q = s.execute(select(Queue.id)).scalar_one()
        for i, (status, created) in enumerate(
            [
                ("confirmed", utc(2026, 11, 29, 23, 30)),
                ("cancelled", utc(2026, 11, 30, 10)),
                ("pending", utc(2026, 11, 30, 10)),
                ("failed", utc(2026, 11, 30, 11)),
                ("confirmed", utc(2026, 12, 7, 0)),  # at the end: outside [start, end)
            ]
        ):
            s.add(
                Booking(
                    id=f"b{i}", status=status, queue_id=q, agent_id=ada, conversation_id=f"c{i}",
                    visitor_email="v@x.example", start=created + timedelta(days=3), end=created + timedelta(days=3, hours=1),
                    timezone="UTC", locale="en", provider="local", created_at=created, updated_at=created,
                )
            )  # fmt: skip
    span = {"queue": "sales", "start": utc(2026, 11, 23), "end": utc(2026, 12, 7)}
    days, [utc_series] = bookings_per_agent(store, **span)
    assert days == [date(2026, 11, 23), date(2026, 11, 30)] and utc_series.counts == [1, 1]
    # In Berlin the range ends at 01:00 on Monday 7 Dec: that week's first hour is a bucket too.
    days, [berlin] = bookings_per_agent(store, **span, tz="Europe/Berlin")
    assert days == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert berlin.counts == [0, 2, 0] and berlin.total == 2 and berlin.share == 1 and berlin.weight_share == 1


def test_funnel(store, history, clock):
    assert funnel(store, queue="sales", start=START, end=clock.now) == Funnel(
        offered=8, chosen=8, booked=6, cancelled=1
    )
    # offered: c1..c8 (not o0 before the range, not the reschedule conversation r1)
    # chosen: c1..c6, the refused c8 and the failed c9; booked: c1..c6; cancelled: c5
    assert funnel(store, queue="support", start=START, end=clock.now) == Funnel(1, 1, 1, 0)
    assert funnel(store, queue=None, start=START, end=clock.now) == Funnel(9, 9, 7, 1)
    assert funnel(store, queue="sales", start=utc(2026, 11, 1), end=START) == Funnel(2, 1, 1, 0)  # c0, o0


def test_failed_bookings_newest_first(store, history, clock):
    failed = failed_bookings(store, queue="sales", start=START, end=clock.now)
    assert [f["id"] for f in failed] == [history["c8"], history["c9"]]
    newest, older = failed
    assert newest["created_at"] == "2026-12-01T08:00:00Z" and newest["queue"] == "sales"
    assert newest["agent_email"] == "ada@agents.example" and newest["visitor_email"] == "c8@visitors.example"
    assert newest["failure_reason"].startswith("ProviderUnavailable") and newest["start"].endswith("Z")
    assert older == {
        "id": history["c9"],
        "created_at": "2026-11-25T09:00:00Z",
        "queue": "sales",
        "agent_email": "bo@agents.example",
        "visitor_email": "c9@visitors.example",
        "start": "2026-11-26T10:00:00Z",
        "failure_reason": "calendar said no",
    }
    assert failed_bookings(store, queue="sales", start=START, end=clock.now, limit=1) == [newest]
    assert failed_bookings(store, queue="support", start=START, end=clock.now) == []


def test_csv_has_every_booking_and_defuses_formulas(store, history, clock):
    text = bookings_csv(store, queue="sales", start=START, end=clock.now)
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == CSV_FIELDS
    rows = {r["id"]: r for r in reader}
    assert set(rows) == {history[c] for c in ("c1", "c2", "c9", "c3", "c4", "c5", "c6", "c8")}
    assert [rows[history[c]]["status"] for c in ("c1", "c3", "c5", "c8", "c9")] == [
        "confirmed", "confirmed", "cancelled", "failed", "failed",
    ]  # fmt: skip
    hostile = rows[history["c2"]]
    assert hostile["visitor_first_name"] == "'" + HYPERLINK
    assert hostile["visitor_last_name"] == "'-1+2" and hostile["company"] == "'@SUM(A1)"
    assert (hostile["agent_name"], hostile["agent_email"], hostile["queue"]) == ("Bo", "bo@agents.example", "sales")
    plain = rows[history["c1"]]
    assert (plain["visitor_first_name"], plain["visitor_last_name"], plain["company"]) == ("Dana", "Smith", "Acme")
    assert plain["created_at"] == "2026-11-24T08:00:00Z" and plain["cancelled_at"] == "" and plain["timezone"] == "UTC"
    assert rows[history["c5"]]["cancelled_at"] == "2026-12-01T08:00:00Z"
    assert rows[history["c9"]]["failure_reason"] == "calendar said no"
    assert HYPERLINK not in text.replace("'" + HYPERLINK.replace('"', '""'), "")  # never raw
    assert bookings_csv(store, queue="support", start=START, end=START).splitlines() == [",".join(CSV_FIELDS)]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
        ("  =1", "'  =1"), ("Ada", "Ada"), ("a=b", "a=b"), (None, ""), (3, "3"), ("", ""),
    ],
)  # fmt: skip
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_default_range():
    now = utc(2026, 12, 1, 8)  # Tuesday
    start, end = default_range(now)
    assert (start, end) == (utc(2026, 10, 12), now)
    assert len(buckets_for(start, end)) == 8 and buckets_for(start, end)[-1] == date(2026, 11, 30)
    with pytest.raises(ValueError):
        default_range(datetime(2026, 12, 1))


def test_the_fairness_chart(store, history, clock):
    days, series = bookings_per_agent(store, queue="sales", start=START, end=clock.now)
    svg = fairness_svg(days, series, title="Sales <fairness> & co")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("viewBox").startswith("0 0 720 ")
    assert root.find(f"{SVG}title").text == "Sales <fairness> & co"
    desc = root.find(f"{SVG}desc").text
    assert "Ada 4 bookings (67 %, target 50 %)" in desc and "Bo 2 bookings (33 %, target 25 %)" in desc
    assert f"{EVE} 0 bookings (0 %, target 25 %)" in desc
    assert EVE not in svg and "<b>" not in svg and html.escape(EVE) in svg
    assert "style=" not in svg and "<script" not in svg.lower() and "href" not in svg
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "4 (67 %, target 50 %)" in texts and "2 (33 %, target 25 %)" in texts and EVE in texts
    assert "Ada" in texts and "Bo" in texts
    # The weekly columns: one per non-empty week and agent, on a shared scale (Ada's 3 is full).
    columns = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(columns) == 4
    heights = sorted(float(r.get("height")) for r in columns)
    assert heights[-1] == pytest.approx(3 * heights[0])
    # More agents, a taller chart.
    taller = ET.fromstring(fairness_svg(days, series + series, title="t", id_prefix="x"))
    assert int(taller.get("height")) > int(root.get("height"))


def test_the_chart_without_bookings_or_agents():
    for buckets, series in (
        ([], []),
        ([date(2026, 11, 30)], [AgentSeries(1, "Ada & Bo", "a@x", 1.0, [0], 0, 0.0)]),
    ):
        svg = fairness_svg(buckets, series, title="Sales")
        root = ET.fromstring(svg)
        assert "No bookings in this period" in svg and root.get("role") == "img"
        assert "No bookings in this period" in root.find(f"{SVG}desc").text
        assert "style=" not in svg
    assert "Ada &amp; Bo" in svg
