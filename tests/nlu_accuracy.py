"""Intent accuracy per language on the held-out test sets (tests/nlu/<lang>/<topic>.yml).

Run after `rasa test nlu --nlu tests/nlu --out results/nlu` (make test does both). Prints a
table, writes results/nlu/accuracy.json, and exits 1 when any language is below the floor.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FLOOR = 0.90
TARGET = 0.95


def examples(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text())
    out = []
    for block in data.get("nlu", []):
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((line[2:].strip(), block["intent"]))
    return out


def main(results: Path = ROOT / "results" / "nlu") -> int:
    errors = (
        json.loads((results / "intent_errors.json").read_text()) if (results / "intent_errors.json").exists() else []
    )
    wrong = {(e["text"], e["intent"]) for e in errors}
    report = {}
    print(f"{'language':<10}{'examples':>10}{'correct':>10}{'accuracy':>10}")
    for folder in sorted(p for p in (ROOT / "tests" / "nlu").iterdir() if p.is_dir()):
        # The folder is the language; its topic files (and any subfolders) are read together.
        items = [item for path in sorted(folder.rglob("*.yml")) for item in examples(path)]
        if not items:
            continue
        lang = folder.name
        bad = sum(1 for item in items if item in wrong)
        acc = 1 - bad / len(items)
        report[lang] = {"examples": len(items), "correct": len(items) - bad, "accuracy": round(acc, 4)}
        flag = "" if acc >= TARGET else ("  below target" if acc >= FLOOR else "  BELOW FLOOR")
        print(f"{lang:<10}{len(items):>10}{len(items) - bad:>10}{acc:>10.1%}{flag}")
    (results / "accuracy.json").write_text(json.dumps(report, indent=2))
    failing = [lang for lang, r in report.items() if r["accuracy"] < FLOOR]
    if failing:
        print(f"intent accuracy below {FLOOR:.0%} in: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
