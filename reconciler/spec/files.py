"""Files a spec points at (logo, body_file): confined to the spec's folder, read with a cap.

A spec is reviewed in a pull request; a path that leaves its folder (``../../etc/passwd``,
an absolute path, a symlink pointing elsewhere) would upload a file nobody reviewed, so it
is refused, whatever the file is.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from reconciler.model import LocalFile

_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


class FileProblem(Exception):
    """Why a referenced file cannot be used: ``kind`` is one of ``absolute``,
    ``outside``, ``missing``, ``not-a-file``, ``unreadable``. Internal to the spec
    package: it always becomes a ``Diagnostic``."""

    def __init__(self, kind: str, message: str, hint: str) -> None:
        self.kind = kind
        self.message = message
        self.hint = hint
        super().__init__(message)


def display_path(spec_file: str, rel: str) -> str:
    """How to name ``rel`` (relative to the spec) in messages: joined to the spec's folder
    as the user wrote it, e.g. ``examples/templates/invoice_created.html``."""
    return os.path.normpath(os.path.join(os.path.dirname(spec_file), rel))


def resolve_inside(spec_dir: Path, rel: str, *, what: str) -> Path:
    """The real path of ``rel`` under ``spec_dir``; raise ``FileProblem`` if it is absolute,
    leaves the folder (also through symlinks), is missing or is not a regular file.
    ``what`` names the file in hints (``logo``, ``template``)."""
    example = "assets/logo.png" if what == "logo" else "templates/invoice_created.html"
    if os.path.isabs(rel) or _WINDOWS_ABSOLUTE.match(rel):
        raise FileProblem(
            "absolute",
            f'"{rel}" is an absolute path',
            f"use a path relative to the spec's folder, e.g. {example}",
        )
    root = spec_dir.resolve()
    candidate = spec_dir / rel
    real = candidate.resolve()
    if not _is_within(real, root):
        lexical = Path(os.path.normpath(root / rel))
        if _is_within(lexical, root):
            message = f'"{rel}" is a symlink to a file outside the spec\'s folder'
        else:
            message = f'"{rel}" points outside the spec\'s folder'
        raise FileProblem(
            "outside",
            message,
            f"copy the {what} next to the spec and point at it, e.g. {example}",
        )
    if not real.exists():
        raise FileProblem(
            "missing",
            f'"{rel}" does not exist',
            "the path is relative to the spec's folder; check its spelling",
        )
    if not real.is_file():
        raise FileProblem(
            "not-a-file",
            f'"{rel}" is not a regular file',
            f"point at the {what} file itself, e.g. {example}",
        )
    return real


def read_capped(path: Path, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``path`` (so callers can tell "too large" without
    reading a huge file); raise ``FileProblem`` if it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise FileProblem(
            "unreadable",
            f"cannot read it ({exc.strerror or exc})",
            "check the file's permissions",
        ) from exc


def local_file(rel: str, path: Path, data: bytes) -> LocalFile:
    """The model's record of a file used by the spec (hash of its exact bytes)."""
    return LocalFile(
        path=rel, abs_path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data)
    )


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
