"""Our token syntax, rendered safely. Not a template engine: no code, no loops, no filters.

    {{person.first_name}}            a value, or nothing when it is unknown
    {{person.first_name | "there"}}  a value, or the quoted default

Namespaces: ``person``, ``company``, ``agent``, ``meeting``. Only strings and numbers are
rendered; anything else counts as missing. A malformed token is left as written, so an agent
sees their mistake in the preview instead of losing text. Output for HTML is escaped whole.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any, Mapping

log = logging.getLogger(__name__)

NAMESPACES = ("person", "company", "agent", "meeting")

TOKEN_RE = re.compile(
    r"\{\{\s*(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*"
    r"(?:\|\s*(?P<default>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'))?\s*\}\}"
)

Context = Mapping[str, Mapping[str, Any]]


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _lookup(context: Context, path: str) -> str | None:
    namespace, *keys = path.split(".")
    value: Any = context.get(namespace)
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    return text or None


def tokens_in(template: str) -> list[str]:
    """The token paths a template uses, in order of first use."""
    seen: dict[str, None] = {}
    for m in TOKEN_RE.finditer(template):
        seen.setdefault(m.group("path"), None)
    return list(seen)


def unknown_tokens(template: str) -> list[str]:
    """Paths outside the known namespaces (for editors to warn about)."""
    return [p for p in tokens_in(template) if p.split(".", 1)[0] not in NAMESPACES]


def render_text(template: str, context: Context) -> str:
    def sub(m: re.Match[str]) -> str:
        path = m.group("path")
        value = _lookup(context, path)
        if value is None:
            if path.split(".", 1)[0] not in NAMESPACES:
                log.info("template uses unknown token %s", path)
            default = m.group("default")
            return _unquote(default) if default else ""
        return value

    return TOKEN_RE.sub(sub, template)


def render_html(template: str, context: Context) -> str:
    """Rendered, then escaped whole: neither the template nor a value can inject markup."""
    return html.escape(render_text(template, context)).replace("\n", "<br>\n")
