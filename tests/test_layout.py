"""The import rules of docs/architecture.md, enforced.

core ← store ← resources ← detect ← capabilities ← cases/metrics ← web/cli:
a package imports only from its own layer or below; capabilities never import each
other; web and cli never import each other; nothing imports web or cli.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "longpan"
CAPABILITIES = {"compliance", "vuln", "threat", "probe", "fraud", "apps", "content", "synth"}
LAYERS = {
    "core": 0,
    "store": 1,
    "resources": 2,
    "detect": 3,
    **dict.fromkeys(CAPABILITIES, 4),
    "accounts": 5,
    "cases": 5,
    "metrics": 5,
    "web": 6,
    "cli": 6,
}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "longpan" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violation(own: str, other: str) -> str | None:
    if own == other:
        return None
    if other in ("web", "cli"):
        return f"nothing may import {other}"
    if own in CAPABILITIES and other in CAPABILITIES:
        return "capabilities never import each other"
    if LAYERS[other] > LAYERS[own]:
        return f"{own} (layer {LAYERS[own]}) may not import {other} (layer {LAYERS[other]})"
    return None


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def test_every_package_has_a_layer() -> None:
    packages = {
        p.relative_to(SRC).parts[0] for p in _modules() if len(p.relative_to(SRC).parts) > 1
    }
    assert packages <= set(LAYERS), f"packages without a layer: {packages - set(LAYERS)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_follow_the_layers(path: Path) -> None:
    parts = path.relative_to(SRC).parts
    own = parts[0] if len(parts) > 1 else None
    if own is None:
        return
    problems = []
    for line, module in _imports(path):
        other = _package(module)
        if other is None or other not in LAYERS:
            continue
        reason = _violation(own, other)
        if reason:
            problems.append(f"line {line}: imports {module}: {reason}")
    assert not problems, "\n".join(problems)


def test_the_rule_catches_violations() -> None:
    assert _violation("store", "detect")
    assert _violation("compliance", "vuln")
    assert _violation("web", "cli")
    assert _violation("cases", "web")
    assert _violation("detect", "store") is None
