"""What a command was given, expanded once: spec files or saved plans, and the shard of them
this run takes. Light on purpose (``validate`` starts through here): nothing heavier than
``pathlib`` is imported until it is needed."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from reconciler.errors import UsageError

SPEC_SUFFIXES = (".yaml", ".yml")
DEFAULT_SPEC = "portal.yaml"


@dataclass(frozen=True)
class Shard:
    """``--shard K/N``: this run takes the sources whose stable shard number is K."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        k, sep, n = text.partition("/")
        if not sep or not k.strip().isdigit() or not n.strip().isdigit():
            raise UsageError(
                f"--shard {text!r}: expected K/N, e.g. --shard 1/4",
                hint="K is this runner's shard (1..N), N the number of shards",
            )
        index, count = int(k), int(n)
        if count < 1 or not 1 <= index <= count:
            raise UsageError(
                f"--shard {text}: K must be between 1 and N (N at least 1)",
                hint="with N shards, run --shard 1/N, 2/N ... N/N once each",
            )
        return cls(index, count)

    def takes(self, path: Path) -> bool:
        """Stable in the path alone: adding or removing a spec never moves the others."""
        return shard_of(path, self.count) == self.index


def shard_of(path: Path, count: int) -> int:
    """The shard (1..count) of ``path``, from the SHA-256 of its normalised relative path."""
    import hashlib

    text = os.path.normpath(path)
    if os.path.isabs(text):
        with contextlib.suppress(ValueError):  # another drive (Windows)
            text = os.path.relpath(text)
    key = PurePosixPath(*Path(text).parts).as_posix()
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % count + 1


@dataclass(frozen=True)
class Sources:
    """What a command was given, expanded once: spec files, or saved plan files."""

    paths: tuple[Path, ...]
    saved_plans: bool = False
    #: Paths found by expanding a folder or a pattern (not named one by one).
    found: frozenset[Path] = field(default_factory=frozenset)


def expand_sources(
    args: Sequence[str], *, plans: bool = False, shard: Shard | None = None
) -> Sources:
    """Expand file, folder and glob arguments into the files to work on (the one expander).

    No argument means ``./portal.yaml``. A folder stands for its ``*.yaml``/``*.yml`` files
    (sorted, not recursive: bases live in subfolders or elsewhere), or, with ``plans``, for the
    ``*.plan.json`` files ``plan --out DIR`` wrote. Duplicates are dropped, order kept. Plans
    and specs cannot be mixed. A name that matches nothing is a UsageError.
    """
    out: dict[Path, None] = {}
    seen: set[Path] = set()
    found: set[Path] = set()

    def add(path: Path, *, expanded: bool) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out[path] = None
            if expanded:
                found.add(path)

    for arg in args or (DEFAULT_SPEC,):
        path = Path(arg)
        if path.is_dir():
            saved = _saved_plans(path) if plans else []
            specs = sorted(p for p in path.iterdir() if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not saved and not specs:
                what = ".yaml, .yml or .plan.json" if plans else ".yaml or .yml"
                raise UsageError(f"{arg}: no {what} files in this directory")
            for p in saved or specs:
                add(p, expanded=True)
        elif path.exists():
            add(path, expanded=False)
        elif has_magic(arg):
            import glob

            matches = sorted(glob.glob(arg))
            if not matches:
                raise UsageError(f"{arg}: no file matches this pattern")
            for m in matches:
                add(Path(m), expanded=True)
        elif not args:
            raise UsageError(
                f"{DEFAULT_SPEC}: no such file",
                hint="name your spec (`portalctl plan path/to/portal.yaml`), or create one "
                "with `portalctl init`",
            )
        else:
            raise UsageError(f"{arg}: no such file", hint="check the path to your portal.yaml")
    paths = list(out)
    kinds = {False}
    if plans:
        from reconciler.planfile import looks_like_plan_file

        kinds = {looks_like_plan_file(p) for p in paths}
        if len(kinds) > 1:
            given = [str(p) for p in paths if looks_like_plan_file(p)]
            raise UsageError(
                f"apply was given both plan files ({', '.join(given[:3])}"
                f"{', ...' if len(given) > 3 else ''}) and specs",
                hint="apply either saved plans (`portalctl apply plans/`) or specs, not both "
                "at once",
            )
    if shard is not None:
        paths = [p for p in paths if shard.takes(p)]
    return Sources(tuple(paths), saved_plans=kinds == {True}, found=frozenset(found))


def has_magic(arg: str) -> bool:
    """Whether ``arg`` is a glob pattern. glob (~1 ms to import: it compiles its patterns) is
    imported only for a name that is neither a file nor a folder."""
    import glob

    return glob.has_magic(arg)


def _saved_plans(folder: Path) -> list[Path]:
    """The plan files ``plan --out DIR`` wrote in ``folder``."""
    from reconciler.planfile import PLAN_SUFFIX

    return sorted(p for p in folder.glob(f"*{PLAN_SUFFIX}") if p.is_file())
