"""``extends: PATH``: a spec laid over a base spec, with the source of every value kept.

A spec that names a base is that base with its own values laid over it: mappings merge
key by key; scalars and lists replace; an explicit ``null`` replaces too, so it keeps its
usual meaning (``logo: null`` resets the portal's logo) even over a base's value. A base
may extend another, up to ``MAX_DEPTH`` bases. The merged tree keeps each node as its file
wrote it, so every diagnostic and every ``Origin`` names the file and line that set the
value. Files a base names (logo, ``body_file``) are resolved from the base's folder.

A base must be a file of the same repository as the spec (the folder holding ``.git``,
found upwards from the spec, else the current folder): what decides what is applied is
reviewed in the same pull request. A base is checked here only as part of what extends
it; ``validate base.yaml`` checks it as a spec of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from reconciler.model import Diagnostic, Severity
from reconciler.spec import files
from reconciler.spec.textcheck import quoted
from reconciler.spec.yamlload import (
    MAX_SPEC_BYTES,
    LoadedYaml,
    YMap,
    YNode,
    YScalar,
    YSeq,
    load_yaml,
)
from reconciler.spec.ytree import flow_trap_text

#: Most bases a spec may stack (spec -> base -> base ...).
MAX_DEPTH = 5

#: Keys that are one value written two ways: setting one in an overlay drops the other.
_ALTERNATIVES = {"body": ("body_file",), "body_file": ("body",)}

_HINT_RELATIVE = "the path is relative to the folder of the spec that names it"


# eq=False: files of a chain are compared by identity only (nothing compares two by value), and
# Python 3.11 compiles each generated method at start-up (~0.07 ms for __eq__).
@dataclass(frozen=True, eq=False)
class SpecFile:
    """One file of the chain: its path (as the user would name it) and what it holds."""

    path: Path
    file: str
    loaded: LoadedYaml


def repository_root(spec: Path) -> Path:
    """The folder holding ``.git`` (a folder, or a file in a git worktree), found upwards
    from the spec's folder; else the current working folder."""
    start = spec.absolute().parent
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder.resolve()
    return Path.cwd().resolve()


def load_chain(first: SpecFile) -> tuple[list[SpecFile], list[Diagnostic]]:
    """The spec and every base it extends, in order, and the problems met following
    ``extends``. Each file's own diagnostics stay in its ``loaded``."""
    chain = [first]
    root = repository_root(first.path)
    seen: dict[Path, str] = {_real(first.path): first.file}
    while True:
        current = chain[-1]
        tree = current.loaded.tree
        node = tree.entries.get("extends") if tree is not None else None
        if node is None or ("extends",) in current.loaded.bad:
            return chain, []
        step = _follow(current, node, root, seen, chain)
        if isinstance(step, Diagnostic):
            return chain, [step]
        chain.append(step)
        seen[_real(step.path)] = step.file


def _follow(
    current: SpecFile, node: YNode, root: Path, seen: dict[Path, str], chain: list[SpecFile]
) -> SpecFile | Diagnostic:
    def error(rule: str, message: str, hint: str) -> Diagnostic:
        return Diagnostic(rule, Severity.ERROR, node.origin, "extends", message, hint)

    flow = node.flow_source if isinstance(node, YMap | YSeq) else None
    if flow:
        return error("yaml-flow-value", *flow_trap_text(flow))
    if isinstance(node, YScalar) and node.value is None and node.plain and node.comment:
        return error(
            "yaml-comment-value",
            f'the value is empty: "#" starts a YAML comment, so {node.comment[:40]} is not read',
            f"quote it: {quoted(node.comment)}",
        )
    if not isinstance(node, YScalar) or not isinstance(node.value, str) or not node.value:
        return error(
            "extends-invalid",
            "extends must name one base spec file",
            "write a path relative to this spec, e.g. extends: ../portal.yaml",
        )
    rel = node.value
    shown = files.shown(rel)
    if os.path.isabs(rel):
        return error(
            "extends-invalid",
            f"{shown} is an absolute path",
            "write a path relative to this spec's folder, e.g. extends: ../portal.yaml",
        )
    path = current.path.parent / rel
    display = files.display_path(current.file, rel)
    real = _real(path)
    if not _within(real, root):
        return error(
            "extends-outside-repository",
            f"{shown} is outside the repository that holds this spec",
            "keep the base in the same repository (the folder holding .git), so one review "
            "sees both",
        )
    if real in seen:
        names = " -> ".join([*(f.file for f in chain[_index(chain, real) :]), seen[real]])
        return error(
            "extends-cycle",
            f"{shown} makes a cycle: {names}",
            "remove the extends that closes the loop",
        )
    if len(chain) > MAX_DEPTH:
        names = " -> ".join([*(f.file for f in chain), display])
        return error(
            "extends-too-deep",
            f"{shown} would be base number {len(chain)}; at most {MAX_DEPTH} bases may be "
            f"stacked ({names})",
            "flatten the chain: merge some of these bases into one",
        )
    if not os.path.lexists(path):
        return error(
            "extends-missing", f"{shown} does not exist", f"{_HINT_RELATIVE}; check its spelling"
        )
    try:
        raw = files.read_capped(path, MAX_SPEC_BYTES, follow=True)
    except files.FileProblem as problem:
        if problem.kind == "not-a-file":
            kind = problem.message.removeprefix("it is ").removesuffix(", not a regular file")
            return error(
                "extends-invalid",
                f"{shown} is {kind}, not a spec file",
                "name the base's .yaml file",
            )
        return error("extends-missing", f"{shown}: {problem.message}", problem.hint)
    size = path.stat().st_size if len(raw) > MAX_SPEC_BYTES else None
    return SpecFile(Path(display), display, load_yaml(raw, display, size=size))


def merge_chain(chain: list[SpecFile]) -> YMap:
    """The trees of ``chain`` (spec first), each laid over the next one."""
    trees = [f.loaded.tree for f in chain]
    assert all(tree is not None for tree in trees)
    merged: YNode = trees[-1]  # type: ignore[assignment]
    for tree in reversed(trees[:-1]):
        merged = merge(merged, tree)  # type: ignore[arg-type]
    assert isinstance(merged, YMap)
    return merged


def merge(base: YNode, overlay: YNode) -> YNode:
    """``overlay`` laid over ``base``: mappings merge key by key (base order, then new
    keys); anything else (scalar, list, null) in the overlay replaces the base's value.
    A template's ``body`` and ``body_file`` are one value: the overlay's replaces the
    base's, whichever way each is written."""
    if not isinstance(base, YMap) or not isinstance(overlay, YMap):
        return overlay
    entries = dict(base.entries)
    for key, node in overlay.entries.items():
        for other in _ALTERNATIVES.get(key, ()):
            entries.pop(other, None)  # an inline body replaces a body_file, and back
        entries[key] = merge(entries[key], node) if key in entries else node
    return replace(overlay, entries=entries)


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _index(chain: list[SpecFile], real: Path) -> int:
    for i, item in enumerate(chain):
        if _real(item.path) == real:
            return i
    return 0
