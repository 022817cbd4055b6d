"""The sandbox's modules import each other one way: no circle, no import hidden in a function."""

from __future__ import annotations

import ast
from pathlib import Path

SANDBOX = Path(__file__).resolve().parents[3] / "reconciler" / "sandbox"


def imported(path: Path, *, inside_functions: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested.update(id(child) for child in ast.walk(node) if child is not node)
    out: set[str] = set()
    for node in ast.walk(tree):
        if (id(node) in nested) != inside_functions:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def test_handlers_do_not_import_the_app() -> None:
    assert "reconciler.sandbox.app" not in imported(
        SANDBOX / "handlers.py", inside_functions=False
    ) | imported(SANDBOX / "handlers.py", inside_functions=True)


def test_the_app_imports_its_handlers_at_the_top() -> None:
    assert "reconciler.sandbox.handlers" in imported(SANDBOX / "app.py", inside_functions=False)
    inside = imported(SANDBOX / "app.py", inside_functions=True)
    assert not {name for name in inside if name.startswith("reconciler.sandbox")}


def test_the_shared_state_type_lives_in_its_own_module() -> None:
    from reconciler.sandbox import app as sandbox_app
    from reconciler.sandbox import handlers, state

    assert sandbox_app.SandboxState is state.SandboxState
    assert handlers.SandboxState is state.SandboxState
