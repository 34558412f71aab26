"""Routing rules: which queue a visitor meets, or none, decided by who they are (issue 19).

A YAML file a designer edits like the Rasa data (``routing.yml`` at the top of the repo, or
``ROUTING_FILE``), checked at start and by ``python -m bot routing check`` with line numbers::

    rules:
      - name: enterprise                 # ordered: the first rule whose conditions all hold wins
        when:
          company.size: ">= 500"         # a number compared: >=, >, <=, <, =, !=
          person.country: [DE, AT, CH]   # one of (case does not matter)
        queue: enterprise
      - name: students
        when: {company.industry: education}
        disqualify:                      # a polite "no meeting" answer with a link, in the visitor's language
          text: {en: "We don't offer demos for students, but our guides are free.", de: "…"}
          link: https://example.com/guides
      - name: default                    # required, last, without conditions
        default: true
        queue: null                      # null: the page's queue (metadata), else the default queue

Conditions read the visitor's metadata: ``person.<field>`` and ``company.<field>`` (any field the
page sends, custom ones included), ``email_domain`` (a domain or a list; ``free_mail`` matches
gmail.com, web.de, …), and ``page_queue`` (the queue the page asked for). A value may also be
``{min: 10, max: 99}``, ``{exists: true}`` or ``{not: [...]}``. The decision is stored with the
booking (``bot explain``) and ``python -m bot routing explain --metadata JSON`` prints it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.booking.domains import domain_of, is_free_mail
from bot.errors import ConfigError

ACTIONS = ("queue", "disqualify")
RULE_KEYS = {"name", "when", "default", *ACTIONS}
_COMPARE = re.compile(r"^\s*(>=|<=|!=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$")
_ATTRIBUTE = re.compile(r"^(person|company)\.[A-Za-z0-9_]+$|^email_domain$|^page_queue$")


class _Lines(yaml.SafeLoader):
    """Keeps each mapping's line (1-based) under the key ``__line__``."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


@dataclass(frozen=True)
class Rule:
    name: str
    line: int
    when: dict[str, Any] = field(default_factory=dict)
    default: bool = False
    queue: str | None = None
    disqualify: dict[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    rule: str
    line: int
    queue: str | None  # None: the page's queue (or the default queue)
    disqualify: dict[str, Any] | None = None  # {"text": {lang: text}, "link": url}
    why: tuple[str, ...] = ()  # each condition that held, for people

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "queue": self.queue, "disqualified": self.disqualify is not None,
                "why": list(self.why)}  # fmt: skip


def _condition_errors(where: str, value: Any) -> list[str]:
    if isinstance(value, dict):
        keys = set(value) - {"__line__"}
        if not keys or keys - {"min", "max", "exists", "not"}:
            return [f"{where}: a condition mapping takes min, max, exists or not, not {sorted(keys)}"]
        bad = [k for k in ("min", "max") if k in value and not isinstance(value[k], (int, float))]
        return [f"{where}: {k} must be a number" for k in bad]
    if isinstance(value, list):
        return [] if value and all(isinstance(v, (str, int, float, bool)) for v in value) else [
            f"{where}: a list of values must hold plain values"
        ]
    if isinstance(value, str) and value.strip()[:1] in "<>=!" and not _COMPARE.match(value):
        return [f"{where}: {value!r} is not a comparison like '>= 500'"]
    return [] if isinstance(value, (str, int, float, bool)) else [f"{where}: not a value, list or condition"]


def parse(text: str, source: str = "routing.yml") -> list[Rule]:
    """The rules of ``text``, or ConfigError listing every problem as ``source:LINE: message``."""
    try:
        data = yaml.load(text, Loader=_Lines)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list) or not data["rules"]:
        raise ConfigError(f"{source}:1: expected a top-level 'rules:' list with at least the default rule")
    errors: list[str] = []
    rules: list[Rule] = []
    names: set[str] = set()
    for i, raw in enumerate(data["rules"]):
        if not isinstance(raw, dict):
            errors.append(f"{source}: rule {i + 1} is not a mapping")
            continue
        line = raw.get("__line__", 0)
        at = f"{source}:{line}"
        unknown = set(raw) - RULE_KEYS - {"__line__"}
        if unknown:
            errors.append(f"{at}: unknown keys {sorted(unknown)} (a rule has {', '.join(sorted(RULE_KEYS))})")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            errors.append(f"{at}: every rule needs a name")
            name = f"rule {i + 1}"
        elif name in names:
            errors.append(f"{at}: the name {name!r} is used twice")
        names.add(name)
        actions = [a for a in ACTIONS if a in raw]
        if len(actions) != 1:
            errors.append(f"{at}: rule {name!r} needs exactly one of queue or disqualify")
        when = raw.get("when") or {}
        default = raw.get("default") is True
        if default and when:
            errors.append(f"{at}: the default rule has no conditions")
        if not default and not when:
            errors.append(f"{at}: rule {name!r} has no conditions: give it 'when:' or make it the default")
        if not isinstance(when, dict):
            errors.append(f"{at}: 'when' must map attributes to values")
            when = {}
        for attr, value in when.items():
            if attr == "__line__":
                continue
            if not _ATTRIBUTE.match(str(attr)):
                errors.append(f"{at}: unknown attribute {attr!r} (person.<field>, company.<field>, email_domain, page_queue)")
            errors += _condition_errors(f"{at}: {attr}", value)
        queue = raw.get("queue")
        if "queue" in raw and queue is not None and not (isinstance(queue, str) and queue.strip()):
            errors.append(f"{at}: queue must be a queue id, or null for the page's queue")
        dq = raw.get("disqualify")
        if "disqualify" in raw:
            texts = dq.get("text") if isinstance(dq, dict) else None
            if not isinstance(texts, dict) or not {k for k in texts if k != "__line__"} or "en" not in texts:
                errors.append(f"{at}: disqualify needs text: per language, English at least")
            link = dq.get("link") if isinstance(dq, dict) else None
            if link is not None and not (isinstance(link, str) and link.startswith(("https://", "http://"))):
                errors.append(f"{at}: disqualify's link must be an http(s) address")
        rules.append(
            Rule(
                name=name,
                line=line,
                when={k: v for k, v in when.items() if k != "__line__"},
                default=default,
                queue=queue,
                disqualify={k: v for k, v in dq.items() if k != "__line__"} if isinstance(dq, dict) else None,
            )
        )
    defaults = [r for r in rules if r.default]
    if len(defaults) != 1 or not rules[-1].default:
        errors.append(f"{source}: exactly one default rule is required, and it comes last")
    if errors:
        raise ConfigError("\n".join(errors))
    return rules


def load(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the routing file {path}: {exc.strerror or exc}") from None
    return parse(text, str(path.name))


def _value(metadata: dict[str, Any], attr: str) -> Any:
    if attr == "email_domain":
        person = metadata.get("person") or {}
        return domain_of(person.get("email") if isinstance(person, dict) else None)
    if attr == "page_queue":
        return metadata.get("queue")
    part, key = attr.split(".", 1)
    section = metadata.get(part) or {}
    return section.get(key) if isinstance(section, dict) else None


def _number(v: Any) -> float | None:
    try:
        return float(str(v).replace(",", "").replace("_", "").strip()) if v is not None and v != "" else None
    except ValueError:
        return None


def holds(attr: str, cond: Any, value: Any) -> bool:
    if isinstance(cond, dict):
        if "exists" in cond and bool(cond["exists"]) != (value not in (None, "")):
            return False
        if "not" in cond:
            banned = cond["not"] if isinstance(cond["not"], list) else [cond["not"]]
            if any(holds(attr, b, value) for b in banned):
                return False
        n = _number(value)
        if ("min" in cond or "max" in cond) and n is None:
            return False
        return ("min" not in cond or n >= cond["min"]) and ("max" not in cond or n <= cond["max"])
    if isinstance(cond, list):
        return any(holds(attr, c, value) for c in cond)
    if attr == "email_domain" and cond == "free_mail":
        return value is not None and is_free_mail(str(value))
    if isinstance(cond, str):
        m = _COMPARE.match(cond)
        if m:
            n, target = _number(value), float(m.group(2))
            if n is None:
                return False
            return {">=": n >= target, "<=": n <= target, ">": n > target, "<": n < target, "=": n == target,
                    "!=": n != target}[m.group(1)]  # fmt: skip
    if value is None:
        return False
    if isinstance(cond, bool):
        return str(value).strip().lower() in (("true", "yes", "1") if cond else ("false", "no", "0"))
    if isinstance(cond, (int, float)):
        return _number(value) == float(cond)
    return str(value).strip().lower() == str(cond).strip().lower()


def routing_metadata(queue_slug: str | None, visitor: Any) -> dict[str, Any]:
    """What the rules read, from the page's queue and the visitor (as the widget sent them)."""
    if visitor is None:
        return {"queue": queue_slug, "person": {}, "company": {}}
    person = {**(visitor.person or {}), "email": visitor.email}
    company = {**(visitor.company or {})}
    if visitor.company_name and "name" not in company:
        company["name"] = visitor.company_name
    return {"queue": queue_slug, "person": person, "company": company}


def decide(rules: list[Rule], metadata: dict[str, Any]) -> Decision:
    """The first rule whose conditions all hold for ``metadata`` (the widget's, as sent)."""
    for rule in rules:
        if rule.default or all(holds(a, c, _value(metadata, a)) for a, c in rule.when.items()):
            why = tuple(f"{a} = {_value(metadata, a)!r} matches {c!r}" for a, c in rule.when.items())
            return Decision(rule.name, rule.line, rule.queue, rule.disqualify, why)
    raise AssertionError("parse() guarantees a default rule")


def disqualify_text(decision: Decision, language: str) -> tuple[str, str | None]:
    """The rule's answer in ``language`` (else English) and its link."""
    dq = decision.disqualify or {}
    texts = dq.get("text") or {}
    return str(texts.get(language) or texts.get("en") or ""), dq.get("link")


__all__ = ["Decision", "Rule", "decide", "disqualify_text", "holds", "load", "parse", "routing_metadata"]
