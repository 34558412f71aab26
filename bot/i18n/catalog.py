"""Bot texts in every language: English in ``bot/i18n/texts.py`` (the source), translations in gettext
catalogs ``bot/i18n/locales/<lang>.po`` (msgctxt = the text's key, msgid = the English text),
read with babel. A missing or empty translation falls back to English (and a test fails)."""

from __future__ import annotations

import threading
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
_lock = threading.Lock()
_catalogs: dict[str, dict[str, str]] = {}


def catalog(lang: str) -> dict[str, str]:
    """key → translated text for ``lang`` (empty for English and unknown languages)."""
    with _lock:
        if lang not in _catalogs:
            path = LOCALES / f"{lang}.po"
            entries: dict[str, str] = {}
            if path.exists():
                with path.open("rb") as fh:
                    for msg in read_po(fh):
                        if msg.id and msg.context and isinstance(msg.string, str) and msg.string:
                            entries[msg.context] = msg.string
            _catalogs[lang] = entries
        return _catalogs[lang]
