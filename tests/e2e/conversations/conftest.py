"""Pass table per language for the conversation suite, false-action rates for the out-of-domain
set: printed at the end of the session and written to results/conversations.md and results/ood.md."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conversations import harness

RESULTS_DIR = Path(__file__).resolve().parents[3] / "results"
_outcomes: dict[str, str] = {}  # "<lang>-<id>" → passed | failed | error


@pytest.fixture(scope="module")
def client(stack, var_dir):
    """The runner's view of the stack: Rasa's REST API and tracker, the SQLite database, the outbox."""
    from bot.settings import load_settings

    settings = load_settings(stack.env, dotenv=False)
    url = settings.db_url
    assert url.startswith("sqlite:///"), f"the conversation runner reads the SQLite database, got {url}"
    c = harness.Client(
        stack.rasa,
        url[len("sqlite:///") :],
        stack.env.get("RASA_TOKEN", ""),
        web_url=stack.web,
        outbox=settings.outbox_dir,
    )
    harness.REGISTRY["model"] = c.model()
    return c


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "test_conversations.py::test_conversation[" not in report.nodeid:
        return
    key = report.nodeid.split("[", 1)[1][:-1]
    if report.when == "setup" and not report.passed:
        _outcomes[key] = "error"
    elif report.when == "call":
        _outcomes[key] = "passed" if report.passed else "failed"


def _conversation_table() -> list[str]:
    rows = ["| language | conversations | passed | failed | pass rate |", "|---|---:|---:|---:|---:|"]
    total = {"n": 0, "passed": 0, "failed": 0}
    for lang in harness.LANGS:
        mine = [v for k, v in _outcomes.items() if k.split("-", 1)[0] == lang]
        if not mine:
            continue
        n, ok = len(mine), mine.count("passed")
        bad = n - ok
        total["n"] += n
        total["passed"] += ok
        total["failed"] += bad
        rows.append(f"| {lang} | {n} | {ok} | {bad} | {100 * ok / n:.0f} % |")
    if total["n"]:
        t = total
        rows.append(
            f"| **all** | {t['n']} | {t['passed']} | {t['failed']} | {100 * t['passed'] / t['n']:.0f} % |"
        )
    return rows


def _first_problem(key: str) -> str:
    res = harness.REGISTRY["conversations"].get(key)
    if res is None:
        return _outcomes.get(key, "")
    if res.error:
        return res.error
    if not res.failures:
        return ""
    head = res.failures[0].splitlines()
    said = head[0]
    why = next((line.strip()[2:] for line in head if line.strip().startswith("✗")), "")
    return f"{said} — {why}"


def _ood_started() -> list[str]:
    """Informational: which messages opened the form or offered times (other than at the company question)."""
    out = []
    for lang, data in harness.REGISTRY["ood"].items():
        for state in ("fresh", "booked"):
            msgs = [o.message for o in data["outcomes"] if o.state == state and o.started_booking]
            if msgs:
                out.append(f"- {lang}/{state}: " + ", ".join(repr(m) for m in msgs))
    return out


def _ood_table() -> tuple[list[str], list[str]]:
    rows = [
        "| language | state | messages | false actions | false-action rate | not measured | started a booking* | stored as company* |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    details: list[str] = []
    for lang, data in harness.REGISTRY["ood"].items():
        for state in harness.OOD_STATES:
            outs = [o for o in data["outcomes"] if o.state == state]
            if not outs:
                continue
            measured = [o for o in outs if not o.setup_error]
            false = [o for o in measured if o.false]
            rate = f"{100 * len(false) / len(measured):.1f} %" if measured else "–"
            started = sum(o.started_booking for o in measured)
            as_company = sum(o.taken_as_company for o in measured) if state == "company" else "–"
            rows.append(
                f"| {lang} | {state} | {len(outs)} | {len(false)} | {rate} | {len(outs) - len(measured)} | {started} | {as_company} |"
            )
            details += [f"- {o.line()}".replace("\n", "\n  ") for o in false]
    return rows, details


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    timings = harness.REGISTRY["timings"]
    model = harness.REGISTRY.get("model") or "?"
    if _outcomes:
        rows = _conversation_table()
        terminalreporter.write_sep("=", "conversations: pass rate per language")
        for line in rows:
            terminalreporter.write_line(line)
        failing = [k for k, v in sorted(_outcomes.items()) if v != "passed"]
        md = [
            "# Conversation suite",
            "",
            f"Run {stamp}, model `{model}`, {timings.get('conversations', 0):.0f} s for the conversations "
            "(tests/e2e/conversations/test_conversations.py).",
            "",
            *rows,
            "",
        ]
        if failing:
            md += ["## Failing conversations (first failing turn)", ""]
            md += [f"- `{k}`: {_first_problem(k)}" for k in failing]
            md.append("")
        _write("conversations.md", md, terminalreporter)
    if harness.REGISTRY["ood"]:
        rows, details = _ood_table()
        terminalreporter.write_sep("=", "out-of-domain: false actions per language and state")
        for line in rows:
            terminalreporter.write_line(line)
        md = [
            "# Out-of-domain messages",
            "",
            f"Run {stamp}, model `{model}`, {timings.get('ood', 0):.0f} s (tests/e2e/conversations/test_out_of_domain.py).",
            "States: fresh = first message of a new conversation; company = answer to the company question;",
            "booked = after a completed booking. A false action: action_manage_booking, action_cancel_booking,",
            "action_booking_stopped, action_deactivate_loop, or (booked) another booking made / the booking gone.",
            "\\* informational, not a failure: the reply opened the booking form or offered times; the message",
            "was stored as the company name.",
            "",
            *rows,
            "",
            "Booked conversations used for state (c): "
            + ", ".join(f"{lang} {d.get('booked_conversations', 0)}" for lang, d in harness.REGISTRY["ood"].items()),
            "",
            "## False actions",
            "",
            *(details or ["none"]),
            "",
            "## Messages that started a booking (informational)",
            "",
            *(_ood_started() or ["none"]),
            "",
        ]
        _write("ood.md", md, terminalreporter)


def _write(name: str, lines: list[str], terminalreporter) -> None:
    try:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / name).write_text("\n".join(lines), encoding="utf-8")
        terminalreporter.write_line(f"written: {RESULTS_DIR / name}")
    except OSError as exc:
        terminalreporter.write_line(f"could not write {RESULTS_DIR / name}: {exc}")
