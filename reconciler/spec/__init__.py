"""portal.yaml -> a validated, linted ``DesiredState``.

The pipeline, each step adding ``Diagnostic``s so a user sees every problem at once:

1. ``yamlload``: strict YAML (no duplicates, anchors, tags, YAML 1.1 surprises), with
   the file:line:col of every node;
2. ``schema``: ``schemas/portal.schema.json`` (the only jsonschema importer), with
   readable messages and "did you mean";
3. ``build``: the ``DesiredState``, reading the logo and template files it names;
4. ``lint``: rules of meaning drawn from the product's help article.

Public API: ``load_spec`` and ``lint_rules``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from reconciler.errors import SpecError, UsageError
from reconciler.model import DesiredState, Diagnostic, Severity
from reconciler.spec.rules import RULES, is_structural
from reconciler.spec.yamlload import MAX_SPEC_BYTES, dotted, load_yaml

__all__ = ["lint_rules", "load_spec", "sort_diagnostics"]


def load_spec(path: Path | str, *, strict: bool = False) -> tuple[DesiredState, list[Diagnostic]]:
    """Load, schema-validate and lint one portal.yaml.

    Returns the ``DesiredState`` and the non-error diagnostics (warnings and notices),
    sorted. Raises ``SpecError`` carrying ALL diagnostics (errors first, most useful
    first) if there is any error, or any warning when ``strict``. Raises ``UsageError``
    when the file does not exist or cannot be read. Positions name the file exactly as
    ``path`` was given.
    """
    from reconciler.spec.build import build_state
    from reconciler.spec.extends import SpecFile, load_chain, merge_chain
    from reconciler.spec.lint import lint
    from reconciler.spec.schema import schema_diagnostics, secret_paths, text_secrets, tree_checks

    file = os.fspath(path)
    spec_path = Path(path)
    raw = _read(spec_path, file)
    size = spec_path.stat().st_size if len(raw) > MAX_SPEC_BYTES else None
    chain, broken_chain = load_chain(SpecFile(spec_path, file, load_yaml(raw, file, size=size)))
    diagnostics = list(broken_chain)
    loader_bad: set[tuple[str | int, ...]] = set()
    for item in chain:
        loaded = item.loaded
        diagnostics += loaded.diagnostics
        # API keys outside any value (comments), or anywhere if the file did not load.
        diagnostics += text_secrets(loaded.text, loaded.scalar_spans, item.file)
        loader_bad |= loaded.bad
    if broken_chain or any(item.loaded.tree is None for item in chain):
        raise SpecError(sort_diagnostics(_redacted(diagnostics), file))
    tree = merge_chain(chain)

    schema_found, bad = schema_diagnostics(tree, file)
    secrets = secret_paths(tree)
    # Values the loader or the secret check already reported are not reported again.
    quiet = {dotted(p) for p in secrets | loader_bad}
    diagnostics += [d for d in schema_found if not _is_under_dotted(d.path, quiet)]
    bad |= secrets | loader_bad
    for item in chain:  # each file's own values, also those an overlay replaces
        assert item.loaded.tree is not None
        diagnostics += tree_checks(item.loaded.tree, item.file, bad)

    built = build_state(tree, chain, file, bad)
    diagnostics += built.diagnostics
    diagnostics += lint(built, tree)

    ordered = sort_diagnostics(_redacted(diagnostics), file)
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    if any(d.severity in failing for d in ordered):
        raise SpecError(ordered)
    return built.state, ordered


def lint_rules() -> list[tuple[str, str, str]]:
    """Every rule as (rule id, severity, one-line description), for docs."""
    return [(rule, sev.value, text) for rule, (sev, _structural, text) in RULES.items()]


def sort_diagnostics(diagnostics: list[Diagnostic], file: str) -> list[Diagnostic]:
    """Most useful first: severity, then YAML/schema before meaning, then the spec file
    before the files it names, then position."""
    return sorted(
        diagnostics,
        key=lambda d: (
            d.severity.rank,
            not is_structural(d.rule),
            d.origin.file != file,
            d.origin.file,
            d.origin.line,
            d.origin.col,
            d.rule,
            d.message,
        ),
    )


def _is_under_dotted(path: str, parents: set[str]) -> bool:
    """Whether dotted ``path`` is one of ``parents`` or lies below one of them."""
    return any(
        path == parent or path.startswith((f"{parent}.", f"{parent}[")) for parent in parents
    )


def _redacted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Defence in depth: no diagnostic may echo anything that looks like an API key."""
    from reconciler.spec.schema import redact

    return [
        replace(
            d,
            path=redact(d.path),
            message=redact(d.message),
            hint=redact(d.hint) if d.hint else None,
        )
        for d in diagnostics
    ]


def _read(spec_path: Path, file: str) -> bytes:
    """The spec's bytes, capped; a FIFO or device named as a spec is refused, not read."""
    from reconciler.spec.files import FileProblem, read_capped

    if spec_path.is_dir():
        raise UsageError(
            f"{file}: is a directory, not a spec file",
            hint="name the portal.yaml file inside it",
        )
    if not spec_path.exists():
        raise UsageError(f"{file}: no such file")
    try:
        return read_capped(spec_path, MAX_SPEC_BYTES, follow=True)
    except FileProblem as problem:
        raise UsageError(f"{file}: {problem.message}", hint=problem.hint) from None
