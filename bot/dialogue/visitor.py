"""What the widget tells us about the visitor, checked field by field.

Metadata comes from the page (contract 3 in DESIGN.md). Nothing in it is trusted: wrong types,
unknown zones and oversize values are dropped with a log line and the defaults apply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Mapping

from bot.i18n import negotiate, zone
from bot.inputs import clean_email, clean_text

log = logging.getLogger(__name__)

PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "title", "country", "owner_email")
COMPANY_FIELDS = ("name", "domain", "industry", "size", "country", "owner_email")
QUEUE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


#: Custom fields a page may send besides the known ones (what routing rules read, shown to the
#: agent with the booking): lower-case names, plain values, at most this many.
CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_CUSTOM = 20


def _fields(raw: object, allowed: tuple[str, ...], what: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        log.info("ignoring metadata %s: expected an object, got %s", what, type(raw).__name__)
        return {}
    out: dict[str, str] = {}
    for key in allowed:
        if key not in raw:
            continue
        value = clean_email(raw[key]) if key.endswith("email") else clean_text(raw[key])
        if value is None:
            log.info("ignoring metadata %s.%s: not a usable value", what, key)
        else:
            out[key] = value
    custom = 0
    for key, item in raw.items():
        if key in allowed or not isinstance(key, str) or not CUSTOM_KEY.match(key) or key.endswith("email"):
            continue
        value = clean_text(str(item), limit=200) if isinstance(item, (str, int, float, bool)) else None
        if value is None or custom >= MAX_CUSTOM:
            log.info("ignoring metadata %s.%s: not a usable custom field", what, key[:40])
            continue
        out[key] = value
        custom += 1
    return out


@dataclass(frozen=True)
class VisitorMeta:
    locale: str | None = None
    timezone: str | None = None
    queue: str | None = None
    person: dict[str, str] = field(default_factory=dict)
    company: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.locale or self.timezone or self.queue or self.person or self.company)


def parse_metadata(raw: object) -> VisitorMeta:
    """Widget metadata → only the parts we can use."""
    if not isinstance(raw, Mapping):
        if raw not in (None, ""):
            log.info("ignoring metadata: expected an object, got %s", type(raw).__name__)
        return VisitorMeta()
    locale = negotiate(raw["locale"]) if isinstance(raw.get("locale"), str) else None
    tz = None
    if "timezone" in raw:
        candidate = raw.get("timezone")
        if isinstance(candidate, str) and zone(candidate, "UTC").key == candidate:
            tz = candidate
        else:
            log.info("ignoring metadata timezone %r", candidate)
    queue = None
    if "queue" in raw:
        q = raw.get("queue")
        if isinstance(q, str) and QUEUE_RE.match(q):
            queue = q
        else:
            log.info("ignoring metadata queue %r", q)
    return VisitorMeta(
        locale=locale,
        timezone=tz,
        queue=queue,
        person=_fields(raw.get("person"), PERSON_FIELDS, "person"),
        company=_fields(raw.get("company"), COMPANY_FIELDS, "company"),
    )


_NAME_PREFIX = re.compile(
    r"^(?:(?:hi|hello|hey)[,!.]?\s+)?(?:i'?m|i am|my name is|my name's|it'?s|this is|call me|name:?)\s+", re.IGNORECASE
)


def clean_first_name(value: object) -> str | None:
    """A first name from a form answer (``"I'm Dana"`` → ``Dana``). Stored as given otherwise."""
    text = clean_text(value, limit=100)
    if text is None:
        return None
    text = _NAME_PREFIX.sub("", text).strip(" .!")
    return text or None

