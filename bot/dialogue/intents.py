"""The last word on the intent of a message: the classifier proposes, the words decide.

The intents that start something — stop the booking, cancel or move a meeting — are taken only
when the message says so (bot.dialogue.lexicon); otherwise the next intent the classifier
ranked is taken, or "not understood" (``nlu_fallback``), which inside the booking form makes the
message the answer to the question asked. A request for a meeting that the classifier was not
sure of ("I'd like to book another meeting") is taken as one when nothing in it cancels or
moves. A question about the meeting (bot.dialogue.questions: who, how long, on what tool, what
time elsewhere, guests, price...) is ``ask_meeting`` whatever the classifier thought, unless the
message also cancels, moves, asks for free times or for a booking. Pure: ``bot.rasa_ext.intent_guard`` runs it inside Rasa's NLU pipeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from bot.dialogue.answers import find_code, find_email, stated_name
from bot.dialogue.lexicon import (
    asks_for_times,
    asks_to_cancel,
    is_explicit_stop,
    says_book,
    says_cancel,
    says_correction,
    says_move,
    says_resume,
)
from bot.dialogue.questions import asks
from bot.dialogue.understanding import states_zone
from bot.i18n.detect import fold

FALLBACK = "nlu_fallback"
QUESTION = "ask_meeting"
#: Topics a request for a meeting may carry and still be one ("a demo about pricing", "a call on
#: Teams", "my partner comes too"); who, how long, when elsewhere and what next are answered.
BOOKED_WITH = {"guest", "price", "product", "support", "medium"}
OUT_OF_SCOPE = "out_of_scope"
#: Intents an e-mail with a booking code may carry and stay ("cancel 9e1c2fa07b3d, sam@x.com").
LOOKUP_KEEPS = {"give_booking_code", "cancel_meeting", "reschedule_meeting"}
#: Question topics that are not about the meeting: the out_of_scope intent, answered honestly.
NOT_ABOUT_THE_MEETING = {"price", "product", "support"}
#: Intents a correction of the visitor's details may carry on with (it books or changes a meeting).
KEEPS_A_CORRECTION = {"book_meeting", "cancel_meeting", "reschedule_meeting"}

#: intent → the evidence it needs in the text.
NEEDS_WORDS: dict[str, Callable[[str], bool]] = {
    "stop": is_explicit_stop,
    "cancel_meeting": asks_to_cancel,
    "reschedule_meeting": says_move,
}


@dataclass(frozen=True)
class Decision:
    intent: str
    confidence: float
    reason: str  # "" when the classifier's intent stands


def _evidenced(name: str, text: str) -> bool:
    check = NEEDS_WORDS.get(name)
    return check is None or check(text)


def decide(text: str, intent: str, confidence: float, ranking: list[tuple[str, float]], threshold: float) -> Decision:
    """The intent to act on. ``ranking`` is the classifier's (name, confidence), best first."""
    text = text or ""
    if text.startswith("/"):  # a button payload names its intent itself
        return Decision(intent, confidence, "")
    scores = dict(ranking)
    changes_booking = says_cancel(text) or says_move(text)
    if intent == "book_meeting" and asks_for_times(text):
        return Decision("ask_time", scores.get("ask_time", confidence), "a question about free times")
    code = find_code(text)
    if code is not None and re.search(r"[a-f]", code) and find_email(text) and intent not in LOOKUP_KEEPS:
        # "sam@example.com 9e1c2fa07b3d": an e-mail and a booking code (hex with a letter, so no
        # phone number) are a lookup, whatever the classifier made of the random code.
        return Decision("give_booking_code", scores.get("give_booking_code", confidence), "an e-mail and a booking code")
    looks_up = intent == "give_booking_code" and code is not None
    if intent not in KEEPS_A_CORRECTION and not looks_up and corrects_details(text):
        # "oops wrong email, it's mark@acme.com": not an intent of its own — the answer being
        # corrected (in the form) or the booking's attendee (after it), whatever the classifier says.
        return Decision(FALLBACK, confidence, "a correction of the visitor's details")
    asked = asks(text)
    if says_book(text) and not changes_booking and (asked in BOOKED_WITH or (asked is None and intent == QUESTION and not _wh(text))):
        # "can I book a chat about your pro plan?", "a demo, and my partner pablo@acme.com comes
        # too?": a booking asked for, with its topic or guest (kept by the actions' context step).
        return Decision("book_meeting", scores.get("book_meeting", confidence), f"a booking with a question ({asked})")
    if asked is not None and not changes_booking and not asks_for_times(text):
        # "how long is the meeting?", "c'est avec qui ?", "can my cto join? bob@acme.com": a
        # question to answer, never a cancel, a stop or a new booking. Price, product and support
        # are out of scope — answered honestly by the same answers (action_out_of_scope).
        target = OUT_OF_SCOPE if asked in NOT_ABOUT_THE_MEETING else QUESTION
        if intent != target:
            return Decision(target, scores.get(target, confidence), f"a question ({asked})")
    if intent in NEEDS_WORDS and not _evidenced(intent, text):
        if says_book(text) and not changes_booking:
            return Decision("book_meeting", scores.get("book_meeting", confidence), f"{intent} without its words")
        for name, score in ranking:
            if name in (intent, FALLBACK) or not _evidenced(name, text):
                continue
            if score >= threshold:
                return Decision(name, score, f"{intent} without its words")
            break
        return Decision(FALLBACK, confidence, f"{intent} without its words")
    if intent in (FALLBACK, OUT_OF_SCOPE) and asked is None and states_zone(text):
        # "ah, esqueci de dizer: estou em Lisboa esta semana": where the visitor is, not an
        # unknown request — whatever the classifier made of the rest of the sentence.
        return Decision("inform_timezone", scores.get("inform_timezone", confidence), "a place the visitor is in")
    if intent == FALLBACK or confidence < threshold:
        if is_explicit_stop(text):
            return Decision("stop", scores.get("stop", confidence), "an explicit stop phrase")
        if says_resume(text) and not changes_booking:
            return Decision("affirm", scores.get("affirm", confidence), "a resume phrase")
        if says_book(text) and not changes_booking:
            return Decision("book_meeting", scores.get("book_meeting", confidence), "a request for a meeting")
    return Decision(intent, confidence, "")


#: Question words that open a question about something, not a request ("who booked this?").
WH_WORDS = set(
    "who what when where why how which qui quoi quand ou pourquoi comment quel quelle wer was wann wo warum wie"
    " welche quien que cuando donde como cual quem quando onde porque qual chi cosa dove perche come quale".split()
)


def _wh(text: str) -> bool:
    words = fold(text).split()
    return bool(words) and words[0].strip("¿?!.,") in WH_WORDS


def corrects_details(text: str) -> bool:
    """A correction word with an e-mail address or a "my name is" phrase beside it."""
    return says_correction(text) and (find_email(text) is not None or stated_name(text) is not None)
