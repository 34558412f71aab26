"""IntentGuard: an NLU component after the classifiers (config.yml) that applies
``bot.dialogue.intents.decide`` — intents that start something need the words that say so."""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.dialogue.intents import decide

log = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class IntentGuard(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"threshold": 0.6}

    def __init__(self, config: dict[str, Any]) -> None:
        self.threshold = float(config.get("threshold", 0.6))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentGuard:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            if not name:
                continue
            ranking = [
                (r.get(INTENT_NAME_KEY), float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0))
                for r in message.get(INTENT_RANKING_KEY) or []
            ]
            confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            d = decide(message.get(TEXT) or "", name, confidence, ranking, self.threshold)
            if d.intent == name:
                continue
            log.debug("intent %s → %s (%s)", name, d.intent, d.reason)
            message.set(INTENT, {INTENT_NAME_KEY: d.intent, PREDICTED_CONFIDENCE_KEY: d.confidence}, add_to_output=True)
            rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != d.intent]
            chosen = {INTENT_NAME_KEY: d.intent, PREDICTED_CONFIDENCE_KEY: d.confidence}
            message.set(INTENT_RANKING_KEY, [chosen, *rest], add_to_output=True)
            message.set("intent_guard", {"from": name, "reason": d.reason}, add_to_output=True)
        return messages
