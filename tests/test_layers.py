"""Layer contracts, checked over the AST of every module (imports inside functions included).

DESIGN.md "Layers": imports only point down. The CLI is the composition root (the only place
that wires the sandbox in); nothing imports it. The core never imports the sandbox. httpx,
deepdiff and jsonschema each enter through one place. And no two modules import each other,
directly or round a longer circle, at run time (``if TYPE_CHECKING:`` imports do not run).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reconciler"

#: Top to bottom; a module may import its own layer and the ones below, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("reconciler.cli",),
    ("reconciler.sandbox",),
    ("reconciler.preview",),
    ("reconciler.render",),
    ("reconciler.reconcile", "reconciler.validation", "reconciler.sources"),
    ("reconciler.apply", "reconciler.export"),
    ("reconciler.planfile",),
    ("reconciler.plan",),
    ("reconciler.diff", "reconciler.api"),
    ("reconciler.spec", "reconciler.scaffold"),
    ("reconciler.targets", "reconciler.images", "reconciler.locales"),
    ("reconciler.logs", "reconciler.textsafe"),
    ("reconciler.model", "reconciler.errors", "reconciler"),
)

#: third-party package -> the only modules (prefixes) that may import it.
GATES: dict[str, tuple[str, ...]] = {
    "httpx": ("reconciler.api.httpwire", "reconciler.api.pool"),
    "httpcore": ("reconciler.api.pool",),
    "deepdiff": ("reconciler.diff",),
    "jsonschema": ("reconciler.spec.schema",),
    "starlette": ("reconciler.sandbox",),
    "uvicorn": ("reconciler.sandbox", "reconciler.cli.sandbox"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # what it imports (absolute)
    line: int
    typing_only: bool


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, module: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every import in ``source`` (at any depth), resolved to an absolute name."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]

    def walk(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.body:
                    yield from walk_one(sub, True)
                for sub in child.orelse:
                    yield from walk_one(sub, typing_only)
                continue
            yield from walk_one(child, typing_only)

    def walk_one(node: ast.AST, typing_only: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, typing_only)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                # ``from reconciler import plan`` imports the module reconciler.plan.
                yield Import(module, f"{base}.{alias.name}", node.lineno, typing_only)
        yield from walk(node, typing_only)

    yield from walk(tree, False)


def package_imports(root: Path = PACKAGE) -> list[Import]:
    out: list[Import] = []
    for path in sorted(root.rglob("*.py")):
        name = module_name(path, root)
        out.extend(imports_of(path.read_text("utf-8"), name, is_package=path.name == "__init__.py"))
    return out


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_of(name: str) -> int:
    best, rank = -1, len(LAYERS)
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if within(name, prefix) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def violations(imports: list[Import]) -> list[str]:
    found: list[str] = []
    for imp in imports:
        top = imp.target.split(".")[0]
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        if top in GATES and not any(within(imp.module, p) for p in GATES[top]):
            found.append(f"{where}: {top} enters only through {', '.join(GATES[top])}")
        if top != "reconciler":
            continue
        if within(imp.target, "reconciler.cli") and not within(imp.module, "reconciler.cli"):
            found.append(f"{where}: nothing imports the CLI")
        elif (
            within(imp.target, "reconciler.sandbox")
            and not within(imp.module, "reconciler.cli")
            and not within(imp.module, "reconciler.sandbox")
        ):
            found.append(f"{where}: only the CLI wires the sandbox in")
        elif not imp.typing_only and layer_of(imp.target) < layer_of(imp.module):
            found.append(f"{where}: imports point down the layers")
    return found


def cycles(imports: list[Import], known: set[str]) -> list[list[str]]:
    """Import circles among ``known`` modules, counting imports that run (not typing)."""
    graph: dict[str, set[str]] = {name: set() for name in known}

    def owner(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    for imp in imports:
        dest = owner(imp.target)
        if imp.typing_only or dest is None or dest == imp.module:
            continue
        # Importing a.b.c runs a/__init__ and a/b/__init__ too; those edges are real.
        if within(imp.module, dest):
            continue  # a package's module importing its own package: not a circle
        graph[imp.module].add(dest)
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    return found


def known_modules(root: Path = PACKAGE) -> set[str]:
    return {module_name(p, root) for p in root.rglob("*.py")}


def test_the_package_keeps_its_layers() -> None:
    assert violations(package_imports()) == []


def test_no_import_circle_between_modules() -> None:
    assert cycles(package_imports(), known_modules()) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "reconciler.plan",
            "def f():\n    from reconciler.sandbox import create_app\n",
            "reconciler.plan:2 imports reconciler.sandbox.create_app: only the CLI wires the "
            "sandbox in",
        ),
        (
            "reconciler.api.session",
            "from reconciler.sandbox import SANDBOX_KEY\n",
            "reconciler.api.session:1 imports reconciler.sandbox.SANDBOX_KEY: only the CLI "
            "wires the sandbox in",
        ),
        (
            "reconciler.reconcile",
            "import httpx\n",
            "reconciler.reconcile:1 imports httpx: httpx enters only through "
            "reconciler.api.httpwire, reconciler.api.pool",
        ),
        (
            "reconciler.api.client",
            "def f():\n    import httpx\n",
            "reconciler.api.client:2 imports httpx: httpx enters only through "
            "reconciler.api.httpwire, reconciler.api.pool",
        ),
        (
            "reconciler.render.text",
            "def f():\n    import reconciler.cli.wiring\n",
            "reconciler.render.text:2 imports reconciler.cli.wiring: nothing imports the CLI",
        ),
        (
            "reconciler.plan",
            "from deepdiff import DeepDiff\n",
            "reconciler.plan:1 imports deepdiff.DeepDiff: deepdiff enters only through "
            "reconciler.diff",
        ),
        (
            "reconciler.spec.build",
            "def f():\n    from reconciler.reconcile import PortalRun\n",
            "reconciler.spec.build:2 imports reconciler.reconcile.PortalRun: imports point down "
            "the layers",
        ),
    ],
)
def test_each_contract_catches_its_breach(module: str, source: str, expected: str) -> None:
    assert violations(list(imports_of(source, module))) == [expected]


def test_a_circle_is_found_even_through_a_function_level_import() -> None:
    known = {"reconciler.a", "reconciler.b", "reconciler.c"}
    imports = [
        *imports_of("from reconciler import b\n", "reconciler.a"),
        *imports_of("def f():\n    from reconciler.c import x\n", "reconciler.b"),
        *imports_of("import reconciler.a\n", "reconciler.c"),
    ]
    assert cycles(imports, known) == [
        ["reconciler.a", "reconciler.b", "reconciler.c", "reconciler.a"]
    ]
    typing_only = imports_of("if TYPE_CHECKING:\n    import reconciler.a\n", "reconciler.c")
    assert cycles([*imports[:2], *typing_only], known) == []
