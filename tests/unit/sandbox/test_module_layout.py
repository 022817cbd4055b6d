"""The sandbox's modules import each other one way (app -> portal -> handlers), with no
import hidden in a function, and the framework-free core names no web framework at all."""

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


CORE = ("portal", "handlers", "messages", "content", "store", "state", "faults")
FRAMEWORKS = ("starlette", "anyio", "asyncio", "httpx", "httpcore", "multipart", "uvicorn")


def everything_imported(name: str) -> set[str]:
    path = SANDBOX / f"{name}.py"
    return imported(path, inside_functions=False) | imported(path, inside_functions=True)


def test_handlers_import_neither_front_end() -> None:
    names = everything_imported("handlers")
    assert "reconciler.sandbox.app" not in names
    assert "reconciler.sandbox.portal" not in names


def test_the_portal_imports_its_handlers_and_the_app_its_portal_at_the_top() -> None:
    assert "reconciler.sandbox.handlers" in imported(SANDBOX / "portal.py", inside_functions=False)
    assert "reconciler.sandbox.portal" in imported(SANDBOX / "app.py", inside_functions=False)
    for name in ("portal", "app"):
        inside = imported(SANDBOX / f"{name}.py", inside_functions=True)
        assert not {module for module in inside if module.startswith("reconciler.sandbox")}


def test_the_core_names_no_web_framework_even_inside_a_function() -> None:
    found = {
        f"{name}: {module}"
        for name in CORE
        for module in everything_imported(name)
        if module.split(".")[0] in FRAMEWORKS
    }
    assert found == set()


def test_the_shared_state_type_lives_in_its_own_module() -> None:
    from reconciler.sandbox import handlers, portal, state

    assert portal.SandboxState is state.SandboxState
    assert handlers.SandboxState is state.SandboxState
