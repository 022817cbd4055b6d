"""Benchmark 1: cold start of portalctl against octoDNS, as ratios measured in the same run.

Pairs of whole commands, each run in a fresh process, alternating portalctl and octoDNS
run by run (warm-up runs first, then N timed runs of each):

* ``portalctl --help``                       vs ``octodns-sync --help``
* ``portalctl validate examples/portal.yaml`` vs ``octodns-validate`` (a 9-record zone)
* ``portalctl plan examples/portal.yaml``     vs ``octodns-sync`` (plan mode, YAML -> YAML)

portalctl plans against the embedded sandbox (in-process, a SQLite file in a temp dir), so
both sides read config and "live" state from local disk. Also prints the peak RSS of
``validate`` and ``plan`` (``os.wait4``), each figure beside 0.1.0's and its target.
Measure a NON-editable install (``pip install '.[bench]'``): with PYTHONDONTWRITEBYTECODE
set, an editable install recompiles the package on every run. Run::

    pip install '.[bench]' && python benchmarks/cold_start.py [--runs 20] [--write-readme]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import REPO, Command, Stats, install_kind, machine, time_pair, tool, update_readme

OCTODNS = REPO / "benchmarks" / "octodns"

#: 0.1.0's figures (README, same script): ratio to octoDNS, peak RSS in MiB.
RELEASE_0_1_0 = {"help": 0.54, "validate": 1.13, "plan": 1.68}
RSS_0_1_0 = {"validate": 30.0, "plan": 39.0}
#: Issue 14's targets: ratio at most, peak RSS at most (MiB).
TARGET_RATIO = {"help": 0.4, "validate": 0.7, "plan": 1.0}
TARGET_RSS = {"validate": 30.0, "plan": 40.0}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()

    portalctl = tool("portalctl")
    kind = install_kind()
    print(f"portalctl: {portalctl} ({kind})")
    results: list[tuple[str, str, Stats, str, Stats]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "examples", work / "examples")
        env = {
            "PORTAL_API_URL": "",
            "PORTAL_API_KEY": "",
            "NO_COLOR": "1",
            "CI": "",
            "GITHUB_ACTIONS": "",
            "PORTAL_SANDBOX_DB": str(work / "sandbox.db"),
        }
        pairs = [
            ("help", ["--help"], {}, [tool("octodns-sync"), "--help"]),
            (
                "validate",
                ["validate", "examples/portal.yaml"],
                {},
                [tool("octodns-validate"), "--config-file", "config.yaml"],
            ),
            (
                "plan",
                ["plan", "examples/portal.yaml"],
                {"ok_codes": (0, 2)},
                [tool("octodns-sync"), "--config-file", "config.yaml"],
            ),
        ]
        for name, ours, extra, theirs in pairs:
            a, b = time_pair(
                Command([portalctl, *ours], cwd=work, env=env, **extra),  # type: ignore[arg-type]
                Command(theirs, cwd=OCTODNS),
                runs=args.runs,
                warmup=args.warmup,
            )
            cmd_theirs = " ".join([Path(theirs[0]).name, *theirs[1:]])
            results.append((name, " ".join(["portalctl", *ours]), a, cmd_theirs, b))
            print(
                f"{name:9} portalctl {a.ms():>14}   octoDNS {b.ms():>14}   ratio "
                f"{a.mean / b.mean:.2f}x (median {a.median / b.median:.2f}x, CPU "
                f"{a.cpu / b.cpu:.2f}x; 0.1.0 "
                f"{RELEASE_0_1_0[name]:.2f}x; target <= {TARGET_RATIO[name]}x: "
                f"{verdict(a.mean / b.mean <= TARGET_RATIO[name])})   peak RSS "
                f"{a.peak_rss_mib:.1f} MiB"
            )

    lines = [
        f"Measured with `python benchmarks/cold_start.py --runs {args.runs} --write-readme` "
        f"on a {kind} ({args.runs} runs of each side after {args.warmup} warm-up runs, "
        f"portalctl and octoDNS alternating; {machine()}). Ratio below 1 means portalctl is "
        "faster; 0.1.0 is the previous release measured by the same script. Verdicts use "
        "the ratio of mean wall times; the ratio of medians and of CPU time (user + system, "
        "`os.wait4`) are beside it because on a busy machine wall time swings.",
        "",
        "| step | portalctl | mean | octoDNS | mean | ratio | median ratio | CPU ratio "
        "| 0.1.0 | target |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, ours, a, theirs, b in results:
        ratio = a.mean / b.mean
        lines.append(
            f"| {name} | `{ours}` | {a.ms()} | `{theirs}` | {b.ms()} | {ratio:.2f}x "
            f"| {a.median / b.median:.2f}x | {a.cpu / b.cpu:.2f}x "
            f"| {RELEASE_0_1_0[name]:.2f}x | <= {TARGET_RATIO[name]}x: "
            f"{verdict(ratio <= TARGET_RATIO[name])} |"
        )
    lines += ["", "| peak RSS (VmHWM via wait4) | now | 0.1.0 | target |", "|---|---|---|---|"]
    for name, ours, a, _theirs, _b in results:
        if name in TARGET_RSS:
            lines.append(
                f"| `{ours}` | {a.peak_rss_mib:.1f} MiB | {RSS_0_1_0[name]:.0f} MiB | "
                f"<= {TARGET_RSS[name]:.0f} MiB: {verdict(a.peak_rss_mib <= TARGET_RSS[name])} |"
            )
    table = "\n".join(lines)
    print()
    print(table)
    if args.write_readme:
        update_readme("cold-start", table)


if __name__ == "__main__":
    main()
