"""Checking untrusted input, whoever receives it: e-mail addresses, short single-line texts,
how deeply JSON nests, and which page a browser request comes from (``Origin``). A foundation: the
chat (``bot.dialogue``), the portal accounts, the web app's relay and the Rasa channels all check
their input with these."""

from __future__ import annotations

import re
from typing import Any, Callable, Collection

MAX_FIELD = 200
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
FIND_EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def clean_email(value: object) -> str | None:
    """The e-mail address in ``value`` (``"it's jo@x.io"`` → ``jo@x.io``), or None."""
    if not isinstance(value, str) or len(value) > 400:
        return None
    m = FIND_EMAIL_RE.search(value)
    if not m:
        return None
    candidate = m.group(0).rstrip(".")
    return candidate if EMAIL_RE.match(candidate) and len(candidate) <= 254 else None


def clean_text(value: object, limit: int = MAX_FIELD) -> str | None:
    """A short single-line string: whitespace folded, control characters dropped."""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return None
    text = "".join(ch for ch in str(value) if ch.isprintable() or ch == " ")
    text = " ".join(text.split())
    if not text or len(text) > limit:
        return None
    return text


def nesting_depth(value: Any, limit: int) -> int:
    """How many objects/arrays deep ``value`` goes (a scalar is 0), counting no further than
    ``limit + 1``. Iterative: the answer never depends on how deep the caller's stack is."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


#: Distinct refused origins reported one by one; past this many, one more report says so and the
#: rest go unreported (a client can make up any number of Origin values).
MAX_REPORTED_ORIGINS = 100


class OriginGate:
    """Which browser pages may use an endpoint, by the ``Origin`` header they send.

    ``report(origin)`` is called the first time an origin is refused (not on every poll or retry);
    past ``MAX_REPORTED_ORIGINS`` distinct ones, once more with ``None``, then never.
    """

    def __init__(self, allowed: Collection[str], report: Callable[[str | None], None]):
        self.allowed = frozenset(o.lower() for o in allowed)
        self._report = report
        self._reported: set[str] = set()
        self._quiet = False

    def admits(self, origin: str | None) -> bool:
        """No ``Origin`` (not a browser, or a same-origin GET; blank counts as none) passes; else
        only an allowed one."""
        key = (origin or "").strip().lower()[:200]
        if not key or key in self.allowed:
            return True
        if key not in self._reported and not self._quiet:
            if len(self._reported) < MAX_REPORTED_ORIGINS:
                self._reported.add(key)
                self._report(key)
            else:
                self._quiet = True
                self._report(None)
        return False
