"""Benchmark 1: cold start of portalctl against octoDNS, as ratios measured in the same run.

Pairs of whole commands, each run in a fresh process (warm-up runs first, then N timed runs):

* ``portalctl --help``                       vs ``octodns-sync --help``
* ``portalctl validate examples/portal.yaml`` vs ``octodns-validate`` (a 9-record zone)
* ``portalctl plan examples/portal.yaml``     vs ``octodns-sync`` (plan mode, YAML -> YAML)

portalctl plans against the embedded sandbox (in-process, a SQLite file in a temp dir), so
both sides read config and "live" state from local disk. Run::

    pip install -e '.[bench]' && python benchmarks/cold_start.py [--runs 20] [--write-readme]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import REPO, Stats, machine, time_command, tool, update_readme

OCTODNS = REPO / "benchmarks" / "octodns"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()

    portalctl = tool("portalctl")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "examples", work / "examples")
        env = {"PORTAL_API_URL": "", "PORTAL_API_KEY": "", "NO_COLOR": "1", "CI": ""}
        pairs: list[tuple[str, list[str], dict[str, object], list[str], dict[str, object]]] = [
            ("help", [portalctl, "--help"], {}, [tool("octodns-sync"), "--help"], {}),
            (
                "validate",
                [portalctl, "validate", "examples/portal.yaml"],
                {},
                [tool("octodns-validate"), "--config-file", "config.yaml"],
                {},
            ),
            (
                "plan",
                [portalctl, "plan", "examples/portal.yaml"],
                {"ok_codes": (0, 2)},
                [tool("octodns-sync"), "--config-file", "config.yaml"],
                {},
            ),
        ]
        rows = []
        for name, ours, ours_kw, theirs, theirs_kw in pairs:
            a: Stats = time_command(
                ours, runs=args.runs, warmup=args.warmup, cwd=work, env=env, **ours_kw
            )  # type: ignore[arg-type]
            b: Stats = time_command(
                theirs, runs=args.runs, warmup=args.warmup, cwd=OCTODNS, **theirs_kw
            )  # type: ignore[arg-type]
            rows.append(
                (
                    name,
                    " ".join(["portalctl", *ours[1:]]),
                    a,
                    " ".join([Path(theirs[0]).name, *theirs[1:]]),
                    b,
                )
            )
            print(
                f"{name:9} portalctl {a.ms():>14}   octoDNS {b.ms():>14}   "
                f"ratio {a.mean / b.mean:.2f}x"
            )

    lines = [
        f"Measured with `python benchmarks/cold_start.py --runs {args.runs} --write-readme` "
        f"({args.runs} runs after {args.warmup} warm-up runs, {machine()}). "
        "Ratio below 1 means portalctl is faster.",
        "",
        "| step | portalctl | mean | octoDNS | mean | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for name, ours, a, theirs, b in rows:
        lines.append(
            f"| {name} | `{ours}` | {a.ms()} | `{theirs}` | {b.ms()} | {a.mean / b.mean:.2f}x |"
        )
    table = "\n".join(lines)
    print()
    print(table)
    if args.write_readme:
        update_readme("cold-start", table)


if __name__ == "__main__":
    main()
