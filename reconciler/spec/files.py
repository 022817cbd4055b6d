"""Files a spec points at (logo, body_file): confined to the spec's folder, read with a cap.

A spec is reviewed in a pull request; a path that leaves its folder (``../../etc/passwd``,
an absolute path, a symlink pointing elsewhere) would upload a file nobody reviewed, so it
is refused, whatever the file is.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Sequence
from pathlib import Path

from reconciler.model import LocalFile

#: Longest file name (one path component) most file systems accept, in bytes.
_NAME_MAX = 255

_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]|^\\\\")


class FileProblem(Exception):
    """Why a referenced file cannot be used: ``kind`` is one of ``absolute``,
    ``outside``, ``missing``, ``not-a-file``, ``invalid-name``, ``unreadable``. Internal
    to the spec package: it always becomes a ``Diagnostic``."""

    def __init__(self, kind: str, message: str, hint: str) -> None:
        self.kind = kind
        self.message = message
        self.hint = hint
        super().__init__(message)


def display_path(spec_file: str, rel: str) -> str:
    """How to name ``rel`` (relative to the spec) in messages: joined to the spec's folder
    as the user wrote it, e.g. ``examples/templates/invoice_created.html``."""
    return os.path.normpath(os.path.join(os.path.dirname(spec_file), rel))


def shown(rel: str) -> str:
    """``rel`` quoted for a one-line message: escaped if it holds control characters,
    shortened if it is very long."""
    if len(rel) > 80:
        rel = f"{rel[:40]}…{rel[-20:]}"
    if rel.isprintable():
        return f'"{rel}"'
    import json  # ~2 ms: only for a path holding control characters

    return json.dumps(rel, ensure_ascii=False)


def resolve_inside(spec_dir: Path, rel: str, *, what: str) -> Path:
    """The real path of ``rel`` under ``spec_dir``; raise ``FileProblem`` if it is absolute,
    leaves the folder (also through symlinks), is missing, is not a regular file, or
    cannot be looked up (NUL character, name too long, symlink loop, permissions).
    ``what`` names the file in hints (``logo``, ``template``)."""
    example = "assets/logo.png" if what == "logo" else "templates/invoice_created.html"
    if "\0" in rel:
        raise FileProblem(
            "invalid-name",
            f"{shown(rel)} contains a NUL character, which no file name can hold",
            f"remove it from the path, e.g. {example}",
        )
    if os.path.isabs(rel) or _WINDOWS_ABSOLUTE.match(rel):
        raise FileProblem(
            "absolute",
            f"{shown(rel)} is an absolute path",
            f"use a path relative to the spec's folder, e.g. {example}",
        )
    try:
        return _resolve(spec_dir, rel, what, example)
    except FileProblem:
        raise
    except RuntimeError as exc:  # Python < 3.13: Path.resolve() on a symlink loop
        raise _loop(rel) from exc
    except (OSError, ValueError) as exc:
        raise _os_problem(rel, exc) from exc


def _resolve(spec_dir: Path, rel: str, what: str, example: str) -> Path:
    root = spec_dir.resolve()
    candidate = spec_dir / rel
    real = candidate.resolve()
    if not _is_within(real, root):
        lexical = Path(os.path.normpath(root / rel))
        if _is_within(lexical, root):
            message = f"{shown(rel)} is a symlink to a file outside the spec's folder"
        else:
            message = f"{shown(rel)} points outside the spec's folder"
        raise FileProblem(
            "outside",
            message,
            f"copy the {what} next to the spec and point at it, e.g. {example}",
        )
    try:
        info = real.stat()
    except FileNotFoundError:
        if candidate.is_symlink():
            raise FileProblem(
                "missing",
                f"{shown(rel)} is a symlink to a file that does not exist",
                f"point the symlink at the {what} file, or replace it with the file itself",
            ) from None
        raise FileProblem(
            "missing",
            f"{shown(rel)} does not exist",
            "the path is relative to the spec's folder; check its spelling",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(
            "not-a-file",
            f"{shown(rel)} is not a regular file",
            f"point at the {what} file itself, e.g. {example}",
        )
    return real


def _loop(rel: str) -> FileProblem:
    return FileProblem(
        "unreadable",
        f"{shown(rel)} is a symlink loop (it leads back to itself)",
        "point the symlink at a real file, or replace it with the file itself",
    )


def _os_problem(rel: str, exc: OSError | ValueError) -> FileProblem:
    """A lookup failure as a message: name too long, symlink loop, permission, ..."""
    if isinstance(exc, ValueError):
        return FileProblem(
            "invalid-name", f"{shown(rel)} is not a usable path ({exc})", "check the path"
        )
    if exc.errno == errno.ELOOP:
        return _loop(rel)
    if exc.errno == errno.ENAMETOOLONG:
        longest = max(len(part.encode("utf-8", "replace")) for part in rel.split("/"))
        if longest > _NAME_MAX:
            message = f"{shown(rel)} has a file name of {longest} bytes"
        else:
            message = f"{shown(rel)} is too long a path"
        return FileProblem(
            "invalid-name",
            message,
            f"shorten it: file systems allow at most {_NAME_MAX} bytes per name",
        )
    return FileProblem(
        "unreadable",
        f"{shown(rel)} cannot be looked up ({exc.strerror or exc})",
        "check the path and the permissions of the folders on it",
    )


def read_capped(path: Path, limit: int, *, follow: bool = False) -> bytes:
    """Up to ``limit + 1`` bytes of ``path`` (so callers can tell "too large" without
    reading a huge file); raise ``FileProblem`` if it cannot be read or is not a regular
    file. The check is made on the opened file itself, so a file swapped after it was
    checked for a FIFO (which would block), a device (``/dev/zero``, endless) or a
    symlink (``follow=False``) is refused at once, never read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
            raise FileProblem(
                "not-a-file",
                "it was replaced by a symlink",
                "point at the file itself, not at a symlink",
            ) from exc
        raise _unreadable(exc) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(
                "not-a-file",
                f"it is {_file_kind(info.st_mode)}, not a regular file",
                "point at a regular file",
            )
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise _unreadable(exc) from exc
    finally:
        os.close(fd)


def _unreadable(exc: OSError | ValueError) -> FileProblem:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return FileProblem("unreadable", f"cannot read it ({reason})", "check the file's permissions")


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def check_local_file(
    spec_dir: Path,
    rel_path: str,
    *,
    max_bytes: int,
    what: str = "file",
    allowed: Sequence[Path] = (),
) -> bytes:
    """The bytes of ``rel_path`` (relative to ``spec_dir``), checked as ``validate`` checks
    a logo or ``body_file``: relative, inside ``spec_dir`` or one of the ``allowed``
    folders (pass the folders of ``DesiredState.sources``, since a base's files live next
    to the base), also through symlinks; a regular file (not a FIFO or a device); at most
    ``max_bytes`` bytes, never reading more than one byte past that. Raises
    ``UsageError`` (exit 3) naming the file, what is wrong and what to do. Meant for
    ``apply PLAN.json``, whose files may have been swapped since the plan was made."""
    from reconciler.errors import UsageError

    shown_path = display_path(os.path.join(os.fspath(spec_dir), "x"), rel_path)
    root, rel = spec_dir, rel_path
    if not os.path.isabs(rel_path) and "\0" not in rel_path:
        target = Path(os.path.normpath(spec_dir.absolute() / rel_path))
        for folder in allowed:
            home = Path(os.path.normpath(folder.absolute()))
            if _is_within(target, home):
                root, rel = folder, os.path.relpath(target, home)
                break
    try:
        real = resolve_inside(root, rel, what=what)
        data = read_capped(real, max_bytes)
    except FileProblem as problem:
        message = problem.message
        if message.startswith(shown(rel)):
            message = message[len(shown(rel)) :].lstrip()
        raise UsageError(f"{shown_path}: {message}", hint=problem.hint) from None
    if len(data) > max_bytes:
        raise UsageError(
            f"{shown_path}: is larger than the limit of {max_bytes} bytes",
            hint="make the plan again from a spec that passes `portalctl validate`",
        )
    return data


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
