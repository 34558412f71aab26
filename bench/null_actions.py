"""Rasa's floor for ``bench/floor.py``: every custom action of domain.yml, doing none of our work.

Served by the same rasa-sdk action server (``python -m rasa_sdk --actions bench.null_actions``).
Each action answers what our action answered at the same point of the same conversation,
recorded by ``bench/floor.py`` (``BENCH_FLOOR_CANNED``: a JSON file, sender → the action calls in
order, each with its status, events and responses). So Rasa does exactly the work it did for our
bot — the same predictions, the same events, the same trackers sent — and the action server only
parses the request and returns canned JSON: the floor any bot on Rasa pays, without the slot
engine, routing, the store or the texts. Without the file every action returns nothing.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

DOMAIN = Path(__file__).resolve().parents[1] / "domain.yml"
CANNED: dict[str, list[dict[str, Any]]] = (
    json.loads(Path(os.environ["BENCH_FLOOR_CANNED"]).read_text()) if os.environ.get("BENCH_FLOOR_CANNED") else {}
)
CALLS: dict[str, int] = defaultdict(int)


async def _canned(self: Action, dispatcher: CollectingDispatcher, tracker: Any, domain: Any) -> list[dict[str, Any]]:
    calls = CANNED.get(tracker.sender_id) or []
    n = CALLS[tracker.sender_id]
    CALLS[tracker.sender_id] += 1
    if n >= len(calls) or calls[n]["next_action"] != self.name():
        return []  # not recorded (the warm-up): nothing
    call = calls[n]
    if call["status"] != 200:
        raise ActionExecutionRejection(self.name())
    dispatcher.messages.extend(call["responses"])
    return call["events"]


NAMES = [a if isinstance(a, str) else next(iter(a)) for a in yaml.safe_load(DOMAIN.read_text())["actions"]]
ACTIONS = {name: type(f"Null_{name}", (Action,), {"name": lambda self, n=name: n, "run": _canned}) for name in NAMES}
