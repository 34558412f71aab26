"""Two fresh trainings, the same predictions (`make check-determinism`, about 10 minutes here).

Trains the model twice from scratch (each with its own empty training cache, so nothing is
restored), parses every held-out NLU text (tests/nlu) with both, and compares intents and
confidences. Exits 1 on any difference. The pipeline's seeds (config.yml random_seed) and
`--num-threads 2` make DIET and TED deterministic on one machine kind.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def held_out_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "nlu").rglob("*.yml")):
        for block in (yaml.safe_load(path.read_text()) or {}).get("nlu", []):
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    texts.append(line.strip()[2:])
    return texts


def train(out: Path) -> Path:
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache"), "RASA_TELEMETRY_ENABLED": "false"}
    start = time.monotonic()
    cmd = [sys.executable, "-m", "rasa", "train", "--num-threads", "2", "--out", str(out / "models")]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"trained {out.name} in {time.monotonic() - start:.0f} s", flush=True)
    return next((out / "models").glob("*.tar.gz"))


async def predictions(model: Path, texts: list[str]) -> list[tuple[str, float]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    out = []
    for text in texts:
        parsed = await agent.parse_message(text)
        out.append((parsed["intent"]["name"], round(float(parsed["intent"]["confidence"]), 6)))
    return out


def main() -> int:
    texts = held_out_texts()
    with tempfile.TemporaryDirectory() as tmp:
        a, b = train(Path(tmp) / "a"), train(Path(tmp) / "b")
        pa, pb = asyncio.run(predictions(a, texts)), asyncio.run(predictions(b, texts))
    report = {
        "texts": len(texts),
        "same_intent": sum(x[0] == y[0] for x, y in zip(pa, pb, strict=True)),
        "identical_confidence": sum(x == y for x, y in zip(pa, pb, strict=True)),
        "max_confidence_diff": max(abs(x[1] - y[1]) for x, y in zip(pa, pb, strict=True)),
    }
    print(json.dumps(report))
    return 0 if report["identical_confidence"] == len(texts) else 1


if __name__ == "__main__":
    sys.exit(main())
