"""``portalctl validate SPEC... [--strict] [--format text|json]``.

A SPEC is a file, a directory (its ``*.yaml``/``*.yml``) or a glob pattern, as for the
other fleet commands.

Checks every file (one failing does not stop the others) without contacting any portal.
text: diagnostics on stderr, one summary line per file on stdout. json: one document on
stdout. Exit 0 when all are valid, 3 when any has an error (or a warning with --strict)
or cannot be read, 1 when checking a file met an unexpected error (a bug; the others are
still checked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import click

from reconciler.errors import ExitCode, SpecError, UsageError
from reconciler.model import Diagnostic, Severity
from reconciler.render import plural


@dataclass
class FileResult:
    """The outcome for one file: its diagnostics, or the reason it could not be read."""

    file: str
    valid: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    error: str | None = None
    #: True when ``error`` is a bug in portalctl, not a problem with the file.
    internal: bool = False

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)

    def summary(self, strict: bool) -> str:
        errors = self.count(Severity.ERROR)
        warnings = self.count(Severity.WARNING)
        notices = self.count(Severity.NOTICE)
        tail = f", {plural(notices, 'notice')}" if notices else ""
        if self.valid:
            return f"{self.file}: valid ({plural(warnings, 'warning')}{tail})"
        text = f"{self.file}: {plural(errors, 'error')}, {plural(warnings, 'warning')}{tail}"
        if not errors and strict:
            text += " (warnings fail with --strict)"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "valid": self.valid,
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "notices": self.count(Severity.NOTICE),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def expand(args: tuple[str, ...], shard: str | None = None) -> list[str]:
    """Files to check: ./portal.yaml when none is named; directories and unexpanded globs
    become their spec files; a missing plain file is kept so it is reported as such beside
    the others."""
    import glob
    from pathlib import Path

    from reconciler.reconcile import Shard, expand_sources

    out: list[str] = []
    for arg in args:
        if Path(arg).is_dir() or (not Path(arg).exists() and glob.has_magic(arg)):
            out.extend(str(p) for p in expand_sources([arg]).paths)
        else:
            out.append(arg)
    if not args:
        out = [str(p) for p in expand_sources(()).paths]
    if shard is not None:
        chosen = Shard.parse(shard)
        out = [f for f in out if chosen.takes(Path(f))]
    return out


def check_file(file: str, *, strict: bool, debug: bool = False) -> FileResult:
    """Validate one spec file; never raises for a bad or missing file. An unexpected
    exception (a bug) becomes this file's ``internal`` failure so the other files are still
    checked; with ``debug`` it propagates (for its traceback)."""
    from reconciler.spec import load_spec

    try:
        _state, diagnostics = load_spec(file, strict=strict)
    except SpecError as err:
        return FileResult(file, valid=False, diagnostics=list(err.diagnostics))
    except UsageError as err:
        return FileResult(file, valid=False, error=str(err))
    except Exception as exc:  # a bug: report it for this file, go on with the others
        if debug:
            raise
        from reconciler.logs import redact_text

        return FileResult(
            file,
            valid=False,
            error=redact_text(
                f"{file}: internal error: {type(exc).__name__}: {exc} "
                "(run with --debug for a traceback, and please report it)"
            ),
            internal=True,
        )
    return FileResult(file, valid=True, diagnostics=diagnostics)


@click.command("validate")
@click.argument("files", nargs=-1, metavar="[SPEC]...")
@click.option("--strict", is_flag=True, help="Fail on warnings too (notices never fail).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: diagnostics on stderr, a summary per file on stdout; json: one document on stdout.",
)
@click.option("--shard", metavar="K/N", help="Check shard K of N only (a stable split by path).")
@click.pass_context
def validate(
    ctx: click.Context,
    files: tuple[str, ...],
    strict: bool,
    output_format: str,
    shard: str | None,
) -> None:
    """Check portal.yaml files offline: YAML, schema, files they name, and lint rules.

    SPEC defaults to ./portal.yaml; a folder or a glob checks every spec in it.

    \b
    Exit codes: 0 all valid (warnings are printed), 3 any error (or warning with
    --strict), or a file that cannot be read.
    """
    from reconciler.cli import _state

    debug = bool(_state["debug"])
    results = [check_file(file, strict=strict, debug=debug) for file in expand(files, shard)]
    if output_format == "json":
        for result in results:
            if result.error is not None:
                click.echo(f"portalctl: error: {result.error}", err=True)
        document = {"version": 1, "files": [r.to_dict() for r in results]}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        for result in results:
            if result.error is not None:
                click.echo(f"portalctl: error: {result.error}", err=True)
                continue
            for diagnostic in result.diagnostics:
                click.echo(str(diagnostic), err=True)
            click.echo(result.summary(strict))
    if any(r.internal for r in results):
        ctx.exit(ExitCode.ERROR)  # a bug must not pass for "invalid spec"
    ctx.exit(ExitCode.OK if all(r.valid for r in results) else ExitCode.INVALID)
