"""``validate`` over N >= 1 spec files: every file checked, one result each, never a network call.

The CLI (``reconciler.cli.validate``) only prints these results; the rules themselves live in
``reconciler.spec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import SpecError, UsageError
from reconciler.model import Diagnostic, Severity
from reconciler.textsafe import plural


# eq=False: results are compared by identity only (nothing compares two by value), and
# Python 3.11 compiles each generated method at start-up (~0.07 ms for __eq__).
@dataclass(eq=False)
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
    from pathlib import Path

    # A plain file (``validate portal.yaml``) needs neither the expander nor glob.
    out: list[str] = []
    for arg in args:
        if Path(arg).is_file():
            out.append(arg)
            continue
        from reconciler.sources import expand_sources, has_magic

        if Path(arg).is_dir() or (not Path(arg).exists() and has_magic(arg)):
            out.extend(str(p) for p in expand_sources([arg]).paths)
        else:
            out.append(arg)
    if not args:
        from reconciler.sources import expand_sources

        out = [str(p) for p in expand_sources(()).paths]
    if shard is not None:
        from reconciler.sources import Shard

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
