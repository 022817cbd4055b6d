"""Shared helpers for the benchmark scripts: a repeated-runs timer and README updating.

The timer is a small equivalent of hyperfine (warm-up runs, then N timed runs of a whole
command, mean / stdev / min), written in Python so the benchmarks need nothing beyond the
project's own dependencies (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Stats:
    """Wall-clock seconds over ``runs`` runs of one command."""

    mean: float
    stdev: float
    minimum: float
    runs: int

    def ms(self) -> str:
        return f"{self.mean * 1000:.0f} ms ± {self.stdev * 1000:.0f}"


def tool(name: str) -> str:
    """Path of a console script installed beside this interpreter (same virtualenv)."""
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"benchmarks: {name} is not installed; run: pip install -e '.[bench]'")
    return found


def time_command(
    argv: Sequence[str],
    *,
    runs: int = 20,
    warmup: int = 3,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    ok_codes: Sequence[int] = (0,),
) -> Stats:
    """Run ``argv`` ``warmup`` times untimed, then ``runs`` times timed; fail on a bad exit."""
    full_env = {**os.environ, **(env or {})}
    samples: list[float] = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok_codes:
            raise SystemExit(
                f"benchmarks: {' '.join(argv)} exited {proc.returncode}:\n"
                f"{proc.stderr.decode(errors='replace')}"
            )
        if i >= warmup:
            samples.append(elapsed)
    return Stats(
        mean=statistics.fmean(samples),
        stdev=statistics.stdev(samples) if len(samples) > 1 else 0.0,
        minimum=min(samples),
        runs=len(samples),
    )


def update_readme(section: str, markdown: str) -> None:
    """Replace the text between ``<!-- bench:SECTION -->`` and ``<!-- /bench:SECTION -->``."""
    text = README.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{section} -->", f"<!-- /bench:{section} -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"benchmarks: README.md has no {start} ... {end} markers")
    text = pattern.sub(lambda _m: f"{start}\n{markdown.rstrip()}\n{end}", text)
    README.write_text(text, encoding="utf-8")


def machine() -> str:
    """One line describing where the figures were taken."""
    cores = os.cpu_count()
    return f"Python {sys.version.split()[0]}, {cores} cores, {sys.platform}"


def install_kind() -> str:
    """How the measured portalctl is installed: figures from an editable install include
    recompiling the package on every run when PYTHONDONTWRITEBYTECODE is set."""
    from importlib.metadata import distribution

    direct = distribution("portal-reconciler").read_text("direct_url.json") or ""
    editable = '"editable": true' in direct.replace("'", '"')
    return "EDITABLE install: figures include recompiling" if editable else "non-editable install"
