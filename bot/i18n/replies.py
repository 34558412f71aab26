"""Replies given outside a conversation turn, where a channel refuses a message before Rasa sees
it: the visitor still reads, in their language, why nothing happened."""

from __future__ import annotations

from typing import Any

from bot.i18n import negotiate
from bot.i18n.detect import detect_language
from bot.i18n.texts import say


def too_long(sender: str | None, message: str, metadata: Any, limit: int) -> dict[str, Any]:
    """The bot message for a chat message over ``limit`` characters (Rasa's REST message shape):
    in the language the message is written in, else the widget's locale, else English."""
    locale = metadata.get("locale") if isinstance(metadata, dict) else None
    fallback = negotiate(locale).split("_")[0] if isinstance(locale, str) and locale else "en"
    language = detect_language(message[:500], fallback)
    return {"recipient_id": sender or "", "text": say("message_too_long", language, limit=limit)}
