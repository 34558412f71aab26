"""Simulated website visitors for ``bench.load``: whole bookings over the chat, in six languages.

One visitor is an asyncio task that books meeting after meeting (closed loop, no think time by
default): greet → ask to book → e-mail → first name → company (the turn that offers slot
buttons) → click a button (again, up to three clicks, when the time was just taken). Every turn
is timed and classified; every reply is checked against the texts the assistant says in that
language (``bot.i18n.texts``), so a wrong answer counts as an error, not as a fast turn.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from bot.i18n.texts import say, template

#: The turn types, in conversation order. ``greet`` is the trivial custom-action turn
#: (action_greet only says a text): the baseline the offer turn is compared with.
KINDS = ("greet", "form", "offer", "book")
MAX_CLICKS = 3


@dataclass(frozen=True)
class Language:
    code: str
    locale: str  # what the widget sends (navigator.language)
    timezone: str  # what the widget sends (Intl...timeZone)
    greet: str
    ask: str


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "en-GB", "Europe/London", "hello", "I'd like to book a meeting with your sales team"),
        Language(
            "fr", "fr-FR", "Europe/Paris", "bonjour", "Je voudrais prendre rendez-vous avec votre équipe commerciale"
        ),
        Language("de", "de-DE", "Europe/Berlin", "hallo", "Ich möchte einen Termin mit Ihrem Vertrieb vereinbaren"),
        Language("es", "es-ES", "Europe/Madrid", "hola", "Quisiera reservar una reunión con su equipo de ventas"),
        Language("pt", "pt-BR", "America/Sao_Paulo", "olá", "Gostaria de agendar uma reunião com a equipe de vendas"),
        Language(
            "it", "it-IT", "Europe/Rome", "buongiorno", "Vorrei prenotare un incontro con il vostro team commerciale"
        ),
    )
}
FIRST_NAMES = ("Alex", "Sam", "Robin", "Kim", "Noa", "Charlie")
COMPANIES = ("Globex", "Initech", "Umbrella", "Hooli", "Acme", "Stark")


def prefix(key: str, lang: str) -> str:
    """The fixed start of a translated text, before its first placeholder."""
    return re.split(r"{\w+}", template(key, lang))[0].strip()


class Expect:
    """What each answer must contain, per language (computed once)."""

    def __init__(self, langs: list[str]):
        self.greet = {x: prefix("greet", x) for x in langs}
        self.ask_email = {x: say("ask_email", x) for x in langs}
        self.ask_first_name = {x: say("ask_first_name", x) for x in langs}
        self.ask_company = {x: say("ask_company", x) for x in langs}
        self.offer = {x: prefix("offer_intro", x) for x in langs}
        self.booked = {x: prefix("booked", x) for x in langs}
        self.retry = {x: (say("slot_taken", x), say("slot_unavailable", x)) for x in langs}


@dataclass
class Turn:
    kind: str
    start: float  # time.monotonic()
    end: float
    ok: bool
    error: str | None = None  # "http 503", "timeout", "transport", "unexpected reply"
    server: str = ""

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class Conversation:
    sender: str
    lang: str
    server: str  # the Rasa server this sender is routed to
    sent: list[str] = field(default_factory=list)  # user messages that got a 200 answer, in order
    failed: list[str] = field(default_factory=list)  # messages whose turn failed (HTTP, timeout)
    outcome: str = "running"  # "booked", or why not
    clicks: int = 0
    booked_at: float | None = None


def texts(replies: Any) -> str:
    return (
        " ".join(str(r.get("text") or "") for r in replies if isinstance(r, dict)) if isinstance(replies, list) else ""
    )


def buttons(replies: Any) -> list[dict[str, Any]]:
    if not isinstance(replies, list):
        return []
    return [b for r in replies if isinstance(r, dict) for b in (r.get("buttons") or [])]


class TurnFailed(Exception):
    pass


@dataclass
class Shared:
    """State shared by the visitors of one run."""

    client: httpx.AsyncClient
    url_for: Callable[[str], str]  # sender → chat endpoint (web relay or a Rasa server)
    server_for: Callable[[str], str]  # sender → the Rasa server that handles it
    expect: Expect
    langs: list[str]
    tag: str
    stop: asyncio.Event  # set: start no new conversation
    turns: list[Turn] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    on_booked: Callable[[float], None] | None = None
    think: float = 0.0


async def _say(sh: Shared, conv: Conversation, kind: str, message: str) -> Any:
    meta = {"locale": LANGUAGES[conv.lang].locale, "timezone": LANGUAGES[conv.lang].timezone}
    body = {"sender": conv.sender, "message": message, "metadata": meta}
    t0 = time.monotonic()
    error = None
    replies: Any = None
    try:
        r = await sh.client.post(sh.url_for(conv.sender), json=body)
        if r.status_code != 200:
            error = f"http {r.status_code}"
        else:
            replies = r.json()
    except httpx.TimeoutException:
        error = "timeout"
    except (httpx.HTTPError, ValueError) as exc:
        error = f"transport ({type(exc).__name__})"
    t1 = time.monotonic()
    sh.turns.append(Turn(kind, t0, t1, error is None, error, conv.server))
    if error is not None:
        conv.failed.append(message)
        conv.outcome = error
        raise TurnFailed(error)
    conv.sent.append(message)
    return replies


def _check(sh: Shared, conv: Conversation, replies: Any, needle: str, what: str) -> None:
    if needle not in texts(replies):
        sh.turns[-1].ok = False  # answered, but not what the conversation needs: an error
        sh.turns[-1].error = "unexpected reply"
        conv.outcome = f"unexpected reply to {what}: {texts(replies)[:120]!r}"
        raise TurnFailed(conv.outcome)


async def converse(sh: Shared, conv: Conversation, n: int, rng: random.Random) -> None:
    """One whole booking. Raises nothing: the outcome is in ``conv.outcome``."""
    lang, ex = conv.lang, sh.expect
    try:
        r = await _say(sh, conv, "greet", LANGUAGES[lang].greet)
        _check(sh, conv, r, ex.greet[lang], "greeting")
        await asyncio.sleep(sh.think)
        r = await _say(sh, conv, "form", LANGUAGES[lang].ask)
        _check(sh, conv, r, ex.ask_email[lang], "the booking request")
        await asyncio.sleep(sh.think)
        r = await _say(sh, conv, "form", f"{conv.sender}@example.com")
        _check(sh, conv, r, ex.ask_first_name[lang], "the e-mail")
        await asyncio.sleep(sh.think)
        r = await _say(sh, conv, "form", FIRST_NAMES[n % len(FIRST_NAMES)])
        _check(sh, conv, r, ex.ask_company[lang], "the first name")
        await asyncio.sleep(sh.think)
        r = await _say(sh, conv, "offer", COMPANIES[n % len(COMPANIES)])
        _check(sh, conv, r, ex.offer[lang], "the company")
        offered = buttons(r)
        while True:
            if not offered:
                sh.turns[-1].ok, sh.turns[-1].error = False, "unexpected reply"
                conv.outcome = f"no slot buttons: {texts(r)[:120]!r}"
                return
            if conv.clicks >= MAX_CLICKS:
                conv.outcome = f"not booked after {MAX_CLICKS} clicks (times taken)"
                return
            await asyncio.sleep(sh.think)
            conv.clicks += 1
            r = await _say(sh, conv, "book", str(rng.choice(offered)["payload"]))
            said = texts(r)
            if ex.booked[lang] in said:
                conv.outcome, conv.booked_at = "booked", sh.turns[-1].end
                if sh.on_booked is not None:
                    sh.on_booked(conv.booked_at)
                return
            if not any(t in said for t in ex.retry[lang]):
                _check(sh, conv, r, ex.booked[lang], "the slot click")
            offered = buttons(r)  # just taken: pick again from the new times
    except TurnFailed:
        return


async def visitor(sh: Shared, vid: int, delay: float, seed: int) -> None:
    """Book meetings one after the other until ``sh.stop`` is set."""
    rng = random.Random(seed)
    await asyncio.sleep(delay)
    n = 0
    while not sh.stop.is_set():
        lang = sh.langs[(vid + n) % len(sh.langs)]
        sender = f"load-{sh.tag}-{vid:03d}-{n:05d}"
        conv = Conversation(sender, lang, sh.server_for(sender))
        sh.conversations.append(conv)
        await converse(sh, conv, vid + n, rng)
        n += 1
