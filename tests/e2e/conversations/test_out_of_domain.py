"""Out-of-domain messages must never cancel, move or stop anything (ood/<lang>.yml).

Each message is sent in three states:
  (a) fresh     — the first message of a new conversation;
  (b) company   — the answer to the company question of the booking form (a known visitor
                  without company metadata asked for a meeting; the bot asks for the company);
  (c) booked    — after a completed booking (a known visitor asked, clicked the first slot).
A false action is a run of action_manage_booking, action_cancel_booking, action_booking_stopped
or action_deactivate_loop — or, in (c), another booking made or the booking gone. One test per
language; it lists every false action, not just the first. The rates per language and state go
to the terminal summary and results/ood.md.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conversations import harness

pytestmark = pytest.mark.e2e

MIN_MESSAGES = 40
WORKERS = 6


@pytest.fixture(scope="module")
def ood(request, client):
    langs = tuple(
        item.callspec.params["lang"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec") and "lang" in item.callspec.params
    )
    started = time.monotonic()
    out = harness.run_ood(client, langs, workers=WORKERS)
    harness.REGISTRY["ood"].update(out)
    harness.REGISTRY["timings"]["ood"] = time.monotonic() - started
    return out


def test_every_language_has_enough_messages():
    for lang in harness.LANGS:
        messages = harness.load_ood(lang)
        assert len(messages) >= MIN_MESSAGES, f"{lang}: {len(messages)} messages, want ≥ {MIN_MESSAGES}"
        assert len(set(messages)) == len(messages), f"{lang}: a message repeats"


@pytest.mark.parametrize("lang", harness.LANGS)
def test_out_of_domain_messages_cause_no_false_action(lang, ood):
    outcomes = ood[lang]["outcomes"]
    false = [o for o in outcomes if o.false]
    broken = [o for o in outcomes if o.setup_error]
    lines = []
    if false:
        lines.append(f"{len(false)} false action(s) in {len(outcomes)} sends ({lang}):")
        lines += [f"  {o.line()}" for o in false]
    if broken:
        lines.append(f"{len(broken)} send(s) could not be measured (setup failed):")
        lines += [f"  {o.line()}" for o in broken]
    if lines:
        pytest.fail("\n".join(lines), pytrace=False)
