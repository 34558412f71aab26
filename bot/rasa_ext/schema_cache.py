"""``jsonschema.validate`` that checks a schema once, not on every call (issue 21).

Rasa 3.6 validates every answer of the action server with ``jsonschema.validate(result,
action_response_format_spec())``. jsonschema first validates *the schema itself* against its
meta-schema on every call (``check_schema``), then builds a validator; for Rasa's response schema
that is 60 % of a Rasa server's CPU in a booking conversation (py-spy, ``bench/floor.py``), for a
schema that never changes.

``install()`` replaces ``jsonschema.validate`` with the same function that remembers, per schema
content, the checked validator: the same validator class (``$schema`` or the latest draft), the
same ``SchemaError`` for a bad schema, the same best-match ``ValidationError`` for a bad instance.
Rasa imports ``validate`` inside its functions, so it picks this one up; nothing of Rasa is
copied or changed. Installed by the modules Rasa loads from our configuration
(``bot/rasa_ext/tracker_store.py``).
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import jsonschema
from jsonschema import exceptions, validators

ORIGINAL = jsonschema.validate
MAX_SCHEMAS = 64  # Rasa has a handful; anything beyond is validated the plain way
_validators: dict[tuple[Any, str], Any] = {}
_lock = threading.Lock()


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    if args or kwargs:
        return ORIGINAL(instance, schema, cls, *args, **kwargs)
    try:
        key = (cls, json.dumps(schema, sort_keys=True))
    except (TypeError, ValueError):  # not JSON (a custom type in the schema): as jsonschema does
        return ORIGINAL(instance, schema, cls)
    validator = _validators.get(key)
    if validator is None:
        klass = cls if cls is not None else validators.validator_for(schema)
        klass.check_schema(schema)  # raises SchemaError, as jsonschema.validate does
        validator = klass(copy.deepcopy(schema))  # the caller may change its dict later
        with _lock:
            if len(_validators) < MAX_SCHEMAS:
                _validators[key] = validator
    error = exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        raise error
    return None


def install() -> None:
    jsonschema.validate = validate


__all__ = ["install", "validate", "ORIGINAL"]
