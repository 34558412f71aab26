"""Hypothesis against the real Rasa server's REST channel (bot.rasa_ext.channels.RestInput).

Hostile bodies must get a 4xx with ``{"error": ...}``, never a 5xx; odd but valid messages (any
Unicode, junk widget metadata) must get a 200 with the bot's replies, through the real action
server. Afterwards both servers are still up and a plain "hello" still gets an answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
TRICKY = st.sampled_from(
    ["\x00", "\u202eevil\u202c", "مرحبا", "👩‍👩‍👧‍👦", "\ufeff", "a\nb", "<script>x</script>", "{{person.email}}", " ", "é" * 300]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT | TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT | TRICKY, inner, max_size=4),
    max_leaves=15,
)


def post(url: str, raw: bytes, content_type: str | None = "application/json") -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, data=raw, method="POST", headers={"Content-Type": content_type} if content_type else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def log_tracebacks(stack: Any) -> dict[str, int]:
    logs = Path(stack.env["BOT_VAR_DIR"]) / "logs"
    return {p.name: p.read_text(errors="replace").count("Traceback") for p in sorted(logs.glob("*.log"))}


@pytest.fixture(scope="module")
def tracebacks_before(stack):
    return log_tracebacks(stack)


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["any", "fields", "raw", "escape", "size", "nested"]))
    if kind == "any":
        return json.dumps(draw(JSON)).encode()
    if kind == "raw":
        return draw(st.binary(max_size=200) | st.sampled_from([b"", b"{", b"\xff\xfe{}", b"sender=a&message=b"]))
    if kind == "nested":
        depth = draw(st.sampled_from([17, 100, 990, 1000, 5000, 20000]))
        return b'{"sender": "fuzz-deep", "message": "hi", "metadata": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
    if kind == "size":
        field, n = draw(st.sampled_from([("sender", 129), ("message", 2001), ("metadata", 9000), ("pad", 70_000), ("pad", 2_000_000)]))
        body: dict[str, Any] = {"sender": "fuzz-size", "message": "hi"}
        body[field] = {"k": "v" * n} if field == "metadata" else "s" * n
        return json.dumps(body).encode()
    if kind == "escape":
        piece = draw(st.sampled_from(['"\\ud83d"', "NaN", "-Infinity", "1e400", '"a\\u0000b"', "1" * 5000]))
        field = draw(st.sampled_from(["sender", "message", "metadata", "input_channel"]))
        return ('{"sender": "fuzz-esc", "message": "hi", "' + field + '": ' + piece + "}").encode()
    body = {"sender": "fuzz-fields", "message": "hi"}
    for field in draw(st.sets(st.sampled_from(["sender", "message", "metadata", "input_channel"]), min_size=1)):
        body[field] = draw(JSON | TRICKY | st.sampled_from(["", "x" * 2001, "s" * 129, "a b", "abc\n"]))
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode()


@FUZZ
@given(raw=hostile(), content_type=st.sampled_from(["application/json", "text/plain", None]))
def test_hostile_payloads_never_get_a_5xx(stack, tracebacks_before, raw, content_type):
    status, ctype, out = post(f"{stack.rasa}/webhooks/rest/webhook", raw, content_type)
    assert status < 500, (raw[:200], status, out[:300])
    if status >= 400:
        assert ctype.startswith("application/json"), (raw[:200], status, out[:300])
        assert isinstance(json.loads(out).get("error"), str), out[:300]
    else:  # some drawn bodies are valid after all: then they are answered like any message
        assert status == 200 and isinstance(json.loads(out), list)


VISITOR_METADATA = st.fixed_dictionaries(
    {},
    optional={
        "timezone": JSON | st.sampled_from(["Europe/Paris", "Mars/Olympus", "UTC", "+05:30", "../../etc"]),
        "locale": JSON | st.sampled_from(["fr-FR", "de", "xx-YY", "en_GB", ""]),
        "queue": JSON | st.sampled_from(["sales", "nope", "SALES", "a" * 65]),
        "person": JSON | st.fixed_dictionaries({}, optional={k: JSON | TRICKY for k in ("first_name", "email", "owner_email")}),
        "company": JSON | st.fixed_dictionaries({}, optional={k: JSON | TRICKY for k in ("name", "owner_email")}),
    },
)


@FUZZ
@given(
    sender=st.from_regex(r"\Afuzz-[a-z0-9]{1,3}\Z"),
    message=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=300).filter(
        lambda s: s.strip()
    )
    | st.sampled_from(["hello", "book a meeting", '/choose_slot{"slot_id":"forged"}', "/restart", "مرحبا", "👋", "stop"]),
    metadata=st.none() | VISITOR_METADATA.filter(lambda m: len(json.dumps(m)) <= 8192),
    stream=st.booleans(),
)
def test_odd_but_valid_messages_are_answered(stack, tracebacks_before, sender, message, metadata, stream):
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    url = f"{stack.rasa}/webhooks/rest/webhook" + ("?stream=true" if stream else "")
    status, _, out = post(url, json.dumps(body).encode())
    assert status == 200, (body, out[:300])
    replies = [json.loads(line) for line in out.decode().splitlines() if line.strip()] if stream else json.loads(out)
    assert isinstance(replies, list)


def test_servers_survive_and_still_answer(stack, tracebacks_before):
    with urllib.request.urlopen(f"{stack.rasa}/", timeout=10) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.env['ACTION_PORT']}/health", timeout=10) as r:
        assert r.status == 200
    replies = stack.say("fuzz-check", "hello")
    assert replies and any(r.get("text") for r in replies)
    after = log_tracebacks(stack)
    new = {name: n - tracebacks_before.get(name, 0) for name, n in after.items() if n > tracebacks_before.get(name, 0)}
    assert not new, f"new tracebacks in the process logs during the fuzzing: {new}"
