"""config.yml must not defeat Rasa's training cache.

Rasa caches each trained component under a fingerprint of its config. DIET and TED fill the
missing keys of a partial dict parameter (e.g. ``hidden_layers_sizes: {text: [...]}``) into the
config dict in place while they train, after the fingerprint was taken; the next run's
fingerprint, taken before that, then never matches and the component trains again every time.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

CLASSES = {
    "DIETClassifier": "rasa.nlu.classifiers.diet_classifier",
    "ResponseSelector": "rasa.nlu.selectors.response_selector",
    "TEDPolicy": "rasa.core.policies.ted_policy",
    "UnexpecTEDIntentPolicy": "rasa.core.policies.unexpected_intent_policy",
}


def _components() -> list[dict]:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    return [c for c in config.get("pipeline", []) + config.get("policies", []) if c["name"] in CLASSES]


@pytest.mark.parametrize("component", _components(), ids=lambda c: c["name"])
def test_dict_parameters_spell_out_every_key_the_component_would_fill_in(component: dict) -> None:
    cls = getattr(importlib.import_module(CLASSES[component["name"]]), component["name"])
    defaults = cls.get_default_config()
    for key, value in component.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            missing = set(defaults[key]) - set(value)
            assert not missing, (
                f"config.yml {component['name']}.{key} lacks {sorted(missing)}: the component adds them "
                "while training, after Rasa fingerprinted the config, so every `rasa train` retrains it"
            )


def test_the_check_above_has_something_to_check() -> None:
    assert any(c["name"] == "DIETClassifier" for c in _components())


def test_the_data_fingerprint_follows_every_training_input(tmp_path: Path) -> None:
    from bot.ops.supervisor import data_fingerprint

    (tmp_path / "data" / "nlu" / "en").mkdir(parents=True)
    (tmp_path / "config.yml").write_text("pipeline: []\n")
    (tmp_path / "domain.yml").write_text("intents: [greet]\n")
    nlu = tmp_path / "data" / "nlu" / "en" / "core.yml"
    nlu.write_text("nlu: []\n")
    first = data_fingerprint(tmp_path)
    assert data_fingerprint(tmp_path) == first  # stable
    nlu.write_text("nlu: [x]\n")
    assert data_fingerprint(tmp_path) != first  # a data file
    nlu.write_text("nlu: []\n")
    assert data_fingerprint(tmp_path) == first
    (tmp_path / "data" / "rules.yml").write_text("rules: []\n")
    assert data_fingerprint(tmp_path) != first  # a new file
    (tmp_path / "data" / "rules.yml").unlink()
    (tmp_path / "config.yml").write_text("pipeline: [a]\n")
    assert data_fingerprint(tmp_path) != first  # the config
