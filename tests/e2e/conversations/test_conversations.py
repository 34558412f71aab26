"""Does the assistant listen like a good receptionist? Scripted conversations in six languages
(<lang>.yml in this folder), played against the real three processes; each turn is checked for
behaviour — what was offered, booked and stored, which actions ran, the reply's language —
never for wording. See README.md here for the format and every expectation key.

The conversations run a few at a time in one module fixture (the stack is shared and the
whole suite has to stay fast); each test then reports its own conversation.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conversations import harness

pytestmark = pytest.mark.e2e

CONVERSATIONS = harness.load_conversations()
WORKERS = 4
MIN_PER_LANGUAGE = 14


def _param(conv):
    return pytest.param(conv, id=f"{conv['lang']}-{conv['id']}")


@pytest.fixture(scope="module")
def results(request, client):
    """Run every selected conversation of this module once (``WORKERS`` at a time)."""
    selected = [
        item.callspec.params["conv"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec") and "conv" in item.callspec.params
    ]
    valid = [c for c in selected if not harness.validate(c)]
    started = time.monotonic()
    out = harness.run_all(client, valid, workers=WORKERS)
    harness.REGISTRY["conversations"].update(out)
    harness.REGISTRY["timings"]["conversations"] = time.monotonic() - started
    return out


def test_the_data_set_covers_every_language():
    ids = [(c["lang"], c["id"]) for c in CONVERSATIONS]
    assert len(ids) == len(set(ids)), "conversation ids repeat within a language"
    for lang in harness.LANGS:
        n = sum(1 for c in CONVERSATIONS if c["lang"] == lang)
        assert n >= MIN_PER_LANGUAGE, f"{lang}: {n} conversations, want ≥ {MIN_PER_LANGUAGE}"
    bad = {f"{c['lang']}-{c['id']}": harness.validate(c) for c in CONVERSATIONS if harness.validate(c)}
    assert not bad, bad


@pytest.mark.parametrize("conv", [_param(c) for c in CONVERSATIONS])
def test_conversation(conv, results):
    problems = harness.validate(conv)
    if problems:
        pytest.fail(f"{conv['lang']}-{conv.get('id')}: malformed conversation: {problems}", pytrace=False)
    res = results[f"{conv['lang']}-{conv['id']}"]
    if not res.ok:
        pytest.fail(res.report(), pytrace=False)
