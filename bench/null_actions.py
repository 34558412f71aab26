"""Rasa's floor for ``bench/floor.py``: every custom action of domain.yml, doing none of our work.

Served by the same rasa-sdk action server (``python -m rasa_sdk --actions bench.null_actions``).
Each action answers what our action answered at the same point of the same conversation,
recorded by ``bench/floor.py`` (``BENCH_FLOOR_CANNED``: a folder with ``<sender>.json`` per
conversation, written before that conversation starts here: the action calls in order, each with
its status, events and responses). So Rasa does exactly the work it did for our
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
FOLDER = Path(os.environ["BENCH_FLOOR_CANNED"]) if os.environ.get("BENCH_FLOOR_CANNED") else None
CANNED: dict[str, list[dict[str, Any]]] = {}
CALLS: dict[str, int] = defaultdict(int)


def _calls(sender: str) -> list[dict[str, Any]]:
    if sender not in CANNED:
        path = FOLDER / f"{sender}.json" if FOLDER else None
        CANNED[sender] = json.loads(path.read_text()) if path and path.is_file() else []
    return CANNED[sender]


async def _canned(self: Action, dispatcher: CollectingDispatcher, tracker: Any, domain: Any) -> list[dict[str, Any]]:
    calls = _calls(tracker.sender_id)
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
