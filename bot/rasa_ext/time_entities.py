"""TimeEntities: an NLU component (config.yml) that reads what a message says about when — with
Duckling running in-process (bot/i18n/timeprefs.py) — and adds it as the entity ``time``.

The value is the preference in the visitor's zone (``TimePref.to_slot()``: days, and hours as
minutes of the day); ``additional_info`` says how it was read: the zone (the message metadata's
``timezone``, else UTC), the language (the detector's, else the metadata's locale, else English)
and the reference time. The actions' context step uses the entity when it was read as they
would read it — same zone, language and minute — and reads the text again otherwise (a zone
stated in the same message, "I'm in Chicago, tomorrow at 3", changes the zone the words mean).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.visitor import parse_metadata
from bot.i18n import zone
from bot.i18n.detect import detect_language
from bot.i18n.timeprefs import read_time

log = logging.getLogger(__name__)

ENTITY = "time"
EXTRACTOR = "TimeEntities"


def time_entity(text: str, metadata: object, now: datetime) -> dict[str, Any] | None:
    """The ``time`` entity of ``text``, or None when it says nothing about when."""
    if not text or text.startswith("/"):
        return None
    meta = parse_metadata(metadata)
    tz = zone(meta.timezone, "UTC")
    browser = meta.locale.split("_")[0] if meta.locale else "en"
    lang = detect_language(text, browser)
    try:
        pref, span = read_time(text, lang, tz, now)
    except Exception:  # noqa: BLE001 - a text we cannot read is no reason to fail the message
        log.warning("time could not be read from a message", exc_info=True)
        return None
    if pref is None or pref.is_empty() or span is None:
        return None
    return {
        "entity": ENTITY,
        "start": span[0],
        "end": span[1],
        "value": pref.to_slot(),
        "confidence_entity": 1.0,
        "extractor": EXTRACTOR,
        "additional_info": {"timezone": tz.key, "lang": lang, "reference": now.isoformat()},
    }


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class TimeEntities(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TimeEntities:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        now = datetime.now(timezone.utc)
        for message in messages:
            entity = time_entity(message.get(TEXT) or "", message.get("metadata"), now)
            if entity is not None:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
