"""Routing rules: which queue a visitor meets, or none, decided by who they are (issue 19).

A YAML file a designer edits like the Rasa data (``routing.yml`` at the top of the repo, or
``ROUTING_FILE``), checked at start and by ``python -m bot routing check`` with line numbers::

    rules:
      - name: enterprise                 # ordered: the first rule whose conditions all hold wins
        when:
          company.size: ">= 500"         # a number compared: >=, >, <=, <, =, !=
          person.country: [DE, AT, CH]   # one of (case does not matter)
        queue: enterprise
      - name: key accounts
        when: {company.tier: key}
        owner: true                      # only the visitor's account owner's times (accounts, owner_email)
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
gmail.com, web.de, …), ``page_queue`` (the queue the page asked for), and ``answer.<id>``: the
answer to a qualification question of the same file. A value may also be ``{min: 10, max: 99}``,
``{exists: true}`` or ``{not: [...]}``. The decision is stored with the booking (``bot explain``)
and ``python -m bot routing explain --metadata JSON`` prints it.

Qualification questions are asked in chat only when a rule needs the answer to decide — every
other condition of that rule holds and the metadata lacks it (``from:`` names the metadata field
that answers it already) — and never twice::

    questions:
      - id: team_size
        type: number                     # number | country | choice | text
        from: company.size               # optional: the metadata field that answers it
        text: {en: "How many people work at your company?", de: "Wie viele …?"}
      - id: topic
        type: choice                     # shown as buttons, in the visitor's language
        text: {en: "What would you like to talk about?"}
        choices:
          - {value: sales, label: {en: Buying, de: Kaufen}}
          - {value: support, label: {en: A problem, de: Ein Problem}}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from babel import Locale

from bot.booking.domains import domain_of, is_free_mail
from bot.errors import ConfigError

ACTIONS = ("queue", "owner", "disqualify")
RULE_KEYS = {"name", "when", "default", *ACTIONS}
_COMPARE = re.compile(r"^\s*(>=|<=|!=|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$")
_ATTRIBUTE = re.compile(r"^(person|company)\.[A-Za-z0-9_]+$|^email_domain$|^page_queue$|^answer\.[A-Za-z0-9_]+$")
_METADATA = re.compile(r"^(person|company)\.[A-Za-z0-9_]+$")
QUESTION_TYPES = ("number", "country", "choice", "text")
QUESTION_KEYS = {"id", "type", "text", "from", "choices"}
LANGUAGES = ("en", "fr", "de", "es", "pt", "it")


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
    owner: bool = False  # only the visitor's account owner's times (when they have one)


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]  # language → button text

    def text(self, language: str) -> str:
        return str(self.label.get(language) or self.label.get("en") or self.value)


@dataclass(frozen=True)
class Question:
    """A qualification question: asked in chat when a rule needs its answer (``answer.<id>``)."""

    id: str
    line: int
    type: str  # number | country | choice | text
    text: dict[str, str]  # language → the question
    source: str | None = None  # ``from:``, the metadata field that answers it already
    choices: tuple[Choice, ...] = ()

    def ask(self, language: str) -> str:
        return str(self.text.get(language) or self.text.get("en") or "")

    def buttons(self, language: str) -> list[str]:
        return [c.text(language) for c in self.choices]


class Routing(list):
    """The rules, in order (a list of :class:`Rule`), and the questions they may ask by id."""

    def __init__(self, rules: list[Rule], questions: dict[str, Question] | None = None) -> None:
        super().__init__(rules)
        self.questions: dict[str, Question] = dict(questions or {})


@dataclass(frozen=True)
class Decision:
    rule: str
    line: int
    queue: str | None  # None: the page's queue (or the default queue)
    disqualify: dict[str, Any] | None = None  # {"text": {lang: text}, "link": url}
    why: tuple[str, ...] = ()  # each condition that held, for people
    owner: bool = False  # the visitor meets their account owner (when they have one in the queue)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "queue": self.queue, "disqualified": self.disqualify is not None,
                "owner": self.owner, "why": list(self.why)}  # fmt: skip


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
    top = set(data) - {"rules", "questions", "__line__"}
    if top:
        errors.append(f"{source}:1: unknown top-level keys {sorted(top)} (the file has rules: and questions:)")
    questions = _questions(data.get("questions"), source, errors)
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
        if ("disqualify" in raw) == ("queue" in raw or "owner" in raw):
            errors.append(f"{at}: rule {name!r} needs either disqualify, or queue and/or owner")
        if "owner" in raw and not isinstance(raw["owner"], bool):
            errors.append(f"{at}: owner is true (the visitor's account owner) or false")
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
                errors.append(
                    f"{at}: unknown attribute {attr!r} (person.<field>, company.<field>, email_domain, page_queue, answer.<id>)"
                )
            elif str(attr).startswith("answer.") and str(attr)[7:] not in questions:
                errors.append(f"{at}: {attr} asks for the answer to a question that is not defined under questions:")
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
                owner=raw.get("owner") is True,
            )
        )
    defaults = [r for r in rules if r.default]
    if len(defaults) != 1 or not rules[-1].default:
        errors.append(f"{source}: exactly one default rule is required, and it comes last")
    if errors:
        raise ConfigError("\n".join(errors))
    return Routing(rules, questions)


def _texts(value: Any, at: str, what: str, errors: list[str]) -> dict[str, str]:
    """A ``{language: text}`` mapping (English required; other languages: the six we speak)."""
    if not isinstance(value, dict) or not isinstance(value.get("en"), str) or not value["en"].strip():
        errors.append(f"{at}: {what} needs a text per language, English at least")
        return {}
    texts = {k: v for k, v in value.items() if k != "__line__"}
    unknown = sorted(set(texts) - set(LANGUAGES))
    if unknown:
        errors.append(f"{at}: {what} has texts in unknown languages {unknown} (we speak {', '.join(LANGUAGES)})")
    if any(not isinstance(v, str) or not v.strip() for v in texts.values()):
        errors.append(f"{at}: {what}'s texts must be plain text")
    return {k: str(v) for k, v in texts.items()}


def _questions(raw: Any, source: str, errors: list[str]) -> dict[str, Question]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        errors.append(f"{source}: 'questions:' must be a list of questions")
        return {}
    out: dict[str, Question] = {}
    for i, q in enumerate(raw):
        if not isinstance(q, dict):
            errors.append(f"{source}: question {i + 1} is not a mapping")
            continue
        at = f"{source}:{q.get('__line__', 0)}"
        unknown = set(q) - QUESTION_KEYS - {"__line__"}
        if unknown:
            errors.append(f"{at}: unknown keys {sorted(unknown)} (a question has {', '.join(sorted(QUESTION_KEYS))})")
        qid = q.get("id")
        if not isinstance(qid, str) or not re.fullmatch(r"[A-Za-z0-9_]+", qid):
            errors.append(f"{at}: every question needs an id of letters, digits and _")
            continue
        if qid in out:
            errors.append(f"{at}: the question id {qid!r} is used twice")
        kind = q.get("type", "text")
        if kind not in QUESTION_TYPES:
            errors.append(f"{at}: question {qid!r} has type {kind!r}; the types are {', '.join(QUESTION_TYPES)}")
        text = _texts(q.get("text"), at, f"question {qid!r}", errors)
        src = q.get("from")
        if src is not None and not (isinstance(src, str) and _METADATA.match(src)):
            errors.append(f"{at}: question {qid!r}: from: names a metadata field like company.size")
            src = None
        choices: list[Choice] = []
        if kind == "choice":
            raw_choices = q.get("choices")
            if not isinstance(raw_choices, list) or len(raw_choices) < 2:
                errors.append(f"{at}: question {qid!r} of type choice needs at least two choices")
                raw_choices = []
            for c in raw_choices:
                cat = f"{source}:{c.get('__line__', 0) if isinstance(c, dict) else 0}"
                value = c.get("value") if isinstance(c, dict) else None
                if not isinstance(value, (str, int)) or not str(value).strip():
                    errors.append(f"{cat}: each choice of {qid!r} needs a value")
                    continue
                label = c.get("label") or {"en": str(value)}
                choices.append(Choice(str(value), _texts(label, cat, f"the choice {value!r}", errors)))
            if len({c.value for c in choices}) != len(choices):
                errors.append(f"{at}: question {qid!r} has the same choice value twice")
        elif "choices" in q:
            errors.append(f"{at}: only questions of type choice have choices")
        out[qid] = Question(qid, q.get("__line__", 0), kind, text, src, tuple(choices))
    return out


def load(path: Path) -> Routing:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the routing file {path}: {exc.strerror or exc}") from None
    return parse(text, str(path.name))


def _value(metadata: dict[str, Any], attr: str, questions: dict[str, Question] | None = None) -> Any:
    if attr.startswith("answer."):
        qid = attr[7:]
        answers = metadata.get("answers") or {}
        if isinstance(answers, dict) and answers.get(qid) not in (None, ""):
            return answers[qid]
        q = (questions or {}).get(qid)
        return _value(metadata, q.source) if q is not None and q.source else None
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
        return {"queue": queue_slug, "person": {}, "company": {}, "answers": {}}
    person = {**(visitor.person or {}), "email": visitor.email}
    company = {**(visitor.company or {})}
    if visitor.company_name and "name" not in company:
        company["name"] = visitor.company_name
    answers = dict(visitor.answers or {})
    return {"queue": queue_slug, "person": person, "company": company, "answers": answers}


def decide(rules: Routing, metadata: dict[str, Any]) -> Decision:
    """The first rule whose conditions all hold for ``metadata`` (the widget's, as sent, with
    ``answers`` to the questions). A question not answered is a missing value."""
    questions = rules.questions
    for rule in rules:
        if rule.default or all(holds(a, c, _value(metadata, a, questions)) for a, c in rule.when.items()):
            why = tuple(f"{a} = {_value(metadata, a, questions)!r} matches {c!r}" for a, c in rule.when.items())
            return Decision(rule.name, rule.line, rule.queue, rule.disqualify, why, rule.owner)
    raise AssertionError("parse() guarantees a default rule")


def pending(rules: Routing, metadata: dict[str, Any]) -> Question | None:
    """The question to ask before deciding, or None when the rules can decide now.

    Rules are read in order as :func:`decide` does. A rule whose known conditions fail is passed
    over without asking anything; the first rule whose known conditions all hold but which reads
    an answer not given yet (not in ``metadata["answers"]``, not in the metadata field its
    ``from:`` names) asks that question. A question in ``answers`` — even with None, "not
    understood" — is never asked again."""
    questions = rules.questions
    if not questions:
        return None
    answers = metadata.get("answers") or {}
    for rule in rules:
        if rule.default:
            return None
        unknown: list[str] = []
        fails = False
        for attr, cond in rule.when.items():
            qid = attr[7:] if attr.startswith("answer.") else None
            value = _value(metadata, attr, questions)
            if qid is not None and value in (None, "") and qid not in answers:
                unknown.append(qid)
            elif not holds(attr, cond, value):
                fails = True
                break
        if fails:
            continue
        if unknown:
            return questions[unknown[0]]
        return None  # this rule matches
    return None


# ---- reading a typed answer -------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("-", " ").split())


_NUMBER = re.compile(r"(\d{1,3}(?:[.,\s]\d{3})+|\d+(?:[.,]\d+)?)\s*(k|m|mil|tsd|thousand|mille|mila|tausend)?\b", re.I)
_SCALE = {"k": 1_000, "mil": 1_000, "tsd": 1_000, "thousand": 1_000, "mille": 1_000, "mila": 1_000, "tausend": 1_000,
          "m": 1_000_000}  # fmt: skip


def read_number(text: str) -> float | None:
    """The first number of a typed answer: "about 200", "1,200", "1.200" (de), "2k", "50-100"
    (the first: 50), "~ 40 people"; None without digits."""
    m = _NUMBER.search(text or "")
    if m is None:
        return None
    digits, scale = m.group(1), (m.group(2) or "").lower()
    if re.fullmatch(r"\d{1,3}(?:[.,\s]\d{3})+", digits):
        n = float(re.sub(r"[.,\s]", "", digits))
    else:
        n = float(digits.replace(",", "."))
    n *= _SCALE.get(scale, 1)
    return int(n) if n == int(n) else n


_ALIASES = {
    "usa": "US", "us": "US", "u s a": "US", "america": "US", "eeuu": "US", "ee uu": "US", "eua": "US",
    "uk": "GB", "england": "GB", "great britain": "GB", "britain": "GB", "scotland": "GB", "wales": "GB",
    "inglaterra": "GB", "angleterre": "GB", "inghilterra": "GB", "england uk": "GB",
    "holland": "NL", "the netherlands": "NL", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "deutschland": "DE", "germany": "DE", "allemagne": "DE",
}  # fmt: skip
_COUNTRIES: dict[str, str] = {}


def _country_names() -> dict[str, str]:
    if not _COUNTRIES:
        for language in LANGUAGES:
            for code, name in Locale.parse(language).territories.items():
                if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO"):
                    _COUNTRIES.setdefault(_fold(name), code)
        _COUNTRIES.update(_ALIASES)
    return _COUNTRIES


def read_country(text: str) -> str | None:
    """An ISO country code from a typed answer in any of our languages: "Germany", "alemania",
    "in der Schweiz", "we're in the US", "FR"; None when no country is named."""
    raw = (text or "").strip()
    names = _country_names()
    codes = set(names.values())
    # A code only in capitals ("FR", "US"): "no", "it" and "us" are words too.
    upper = [w for w in re.findall(r"\b[A-Z]{2}\b", raw) if w in codes or w.lower() in _ALIASES]
    words = re.findall(r"[^\W\d_]+", _fold(raw))
    for size in (4, 3, 2, 1):  # the longest name first: "united states" before "states"
        for i in range(len(words) - size + 1):
            code = names.get(" ".join(words[i : i + size]))
            if code is not None and (size > 1 or len(words[i]) > 2 or words[i] == "uk"):
                return code
    if upper:
        return names.get(upper[0].lower(), upper[0])
    return None


def read_choice(question: Question, text: str) -> str | None:
    """The choice a visitor clicked or typed: its label in any language, or its value."""
    said = _fold(text or "").strip(" .!?")
    names = [(c.value, {_fold(c.value)} | {_fold(v) for v in c.label.values()}) for c in question.choices]
    for value, folded in names:
        if said in folded:
            return value
    for value, folded in names:  # "buying, I think": a label inside the answer
        if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", said) for n in folded if len(n) > 2):
            return value
    return None


def read_answer(question: Question, text: str) -> Any:
    """The answer to ``question`` in ``text`` (a number, a country code, a choice's value, or the
    text), or None when the answer is not one."""
    if question.type == "number":
        return read_number(text)
    if question.type == "country":
        return read_country(text)
    if question.type == "choice":
        return read_choice(question, text)
    cleaned = " ".join((text or "").split())[:200]
    return cleaned or None


def disqualify_text(decision: Decision, language: str) -> tuple[str, str | None]:
    """The rule's answer in ``language`` (else English) and its link."""
    dq = decision.disqualify or {}
    texts = dq.get("text") or {}
    return str(texts.get(language) or texts.get("en") or ""), dq.get("link")


__all__ = [
    "Choice",
    "Decision",
    "Question",
    "Routing",
    "Rule",
    "decide",
    "disqualify_text",
    "holds",
    "load",
    "parse",
    "pending",
    "read_answer",
    "routing_metadata",
]
