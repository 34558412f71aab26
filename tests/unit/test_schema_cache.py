"""bot/rasa_ext/schema_cache.py: jsonschema.validate as before, the schema checked once."""

from __future__ import annotations

from unittest import mock

import jsonschema
import pytest
from jsonschema import validators
from rasa.core.actions.action import RemoteAction

from bot.rasa_ext import schema_cache

SPEC = RemoteAction.action_response_format_spec()
GOOD = {"events": [{"event": "slot", "name": "email", "value": "a@b.c"}], "responses": [{"text": "hi"}]}
BAD = {"events": [{"name": "email"}], "responses": "hi"}  # an event without its type; responses not a list


@pytest.fixture(autouse=True)
def installed():
    schema_cache.install()
    yield
    assert jsonschema.validate is schema_cache.validate


def test_same_answers_as_jsonschema():
    schema_cache.ORIGINAL(GOOD, SPEC)
    jsonschema.validate(GOOD, SPEC)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        schema_cache.ORIGINAL(BAD, SPEC)
    with pytest.raises(jsonschema.ValidationError) as ours:
        jsonschema.validate(BAD, SPEC)
    assert (ours.value.message, list(ours.value.path)) == (theirs.value.message, list(theirs.value.path))
    with pytest.raises(jsonschema.SchemaError):
        jsonschema.validate({}, {"type": "no-such-type"})
    with pytest.raises(jsonschema.SchemaError):  # and again: a bad schema is never remembered as good
        jsonschema.validate({}, {"type": "no-such-type"})


def test_the_schema_is_checked_once_however_often_rasa_asks():
    schema = {**SPEC, "title": "checked once"}  # a schema not seen before in this process
    cls = validators.validator_for(schema)
    with mock.patch.object(cls, "check_schema", wraps=cls.check_schema) as check:
        for _ in range(50):
            jsonschema.validate(GOOD, dict(schema))  # a new dict each time, as Rasa builds it
        assert check.call_count == 1
    changed = {**schema, "required": ["events", "responses", "extra"]}
    with pytest.raises(jsonschema.ValidationError):  # another content is another schema
        jsonschema.validate(GOOD, changed)


def test_rasa_still_rejects_a_bad_action_server_answer():
    action = RemoteAction("action_greet", None)
    assert action._validate_action_result(GOOD)
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(BAD)
