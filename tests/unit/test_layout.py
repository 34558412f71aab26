"""The import graph of bot/ and actions/ points one way (README, "Tour of the folders").

Packages are in layers, top to bottom; a module may import from its own package and from
packages in lower layers, never from its layer or above. Imports inside functions count too
(they are how a cycle hides). ``bot`` never imports ``actions``, nor Rasa outside rasa_ext/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Top to bottom. Each entry is a layer; a package may import only from layers below its own.
LAYERS: list[set[str]] = [
    {"actions", "bot.__main__", "bot.rasa_ext"},  # what Rasa, the action server and the CLI load
    {"bot.web"},
    {"bot.ops"},
    {"bot.admin"},
    {"bot.booking", "bot.dialogue"},
    {"bot.calendars"},
    {"bot.messages"},
    {"bot.i18n"},
    {"bot.scheduling", "bot.store"},
    {"bot.settings", "bot.crypto", "bot.inputs"},
    {"bot.errors", "bot"},  # bot: the package itself, its docstring and version
]
LAYER = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """``bot.booking.offering`` → ``bot.booking``; ``actions.common`` → ``actions``."""
    parts = module.split(".")
    return "actions" if parts[0] == "actions" else ".".join(parts[:2])


def _imports() -> list[tuple[str, str]]:
    """(importing module, imported module) for every import of bot, actions or rasa."""
    files = [p for top in ("bot", "actions") for p in (ROOT / top).rglob("*.py") if "migrations" not in p.parts]
    known = {_module(p) for p in files}
    out = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("rasa", "rasa_sdk"):
                    out.append((_module(path), name.split(".")[0]))
                elif name.split(".")[0] in ("bot", "actions"):
                    while name not in known and "." in name:
                        name = name.rsplit(".", 1)[0]  # an imported name, not a module
                    out.append((_module(path), name))
    return out


def test_every_package_is_in_a_layer():
    packages = {_package(_module(p)) for top in ("bot", "actions") for p in (ROOT / top).rglob("*.py")}
    assert packages <= set(LAYER), f"put these in LAYERS: {sorted(packages - set(LAYER))}"


def test_imports_point_down():
    upward = []
    for src, dst in _imports():
        if dst in ("rasa", "rasa_sdk"):
            continue
        a, b = _package(src), _package(dst)
        if a != b and LAYER[b] <= LAYER[a]:
            upward.append(f"{src} imports {dst}")
    assert not upward, "imports that do not point down:\n" + "\n".join(sorted(upward))


def test_bot_never_imports_actions_and_only_rasa_ext_imports_rasa():
    wrong = [
        f"{src} imports {dst}"
        for src, dst in _imports()
        if src.startswith("bot") and (dst.startswith("actions") or (dst in ("rasa", "rasa_sdk") and not src.startswith("bot.rasa_ext")))
    ]
    assert not wrong, "\n".join(wrong)


def test_bot_package_has_no_side_effects():
    """``import bot`` runs nothing: no imports, only the docstring and the version."""
    tree = ast.parse((ROOT / "bot" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        assert isinstance(node, (ast.Expr, ast.Assign)), ast.dump(node)
