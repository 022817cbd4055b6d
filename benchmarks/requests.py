"""Benchmark 2: API requests per command, counted from the sandbox's request log.

Runs real ``portalctl`` commands against ``portalctl sandbox serve --any-key`` (each case on
a fresh portal: its own key) and counts the requests that portal's key made, beside the
floor: one GET per resource read (the settings and the template list: 2) and one write per
changed resource (k). Run::

    python benchmarks/requests.py [--write-readme]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _common import REPO, machine, tool, update_readme
from _sandbox import Sandbox, sandbox

SETTINGS = "version: 1\nportal:\n  enabled: true\n  branding:\n    company_name: Acme Cloud\n"
LOGO = "    logo: assets/logo.png\n"
TEMPLATES = {
    "invoice_created": "    invoice_created:\n"
    '      subject: "Invoice {{invoice_number}} from {{company_name}}"\n'
    "      body_file: templates/invoice_created.html\n",
    "payment_failed": "    payment_failed:\n"
    '      subject: "Action needed: we could not charge your card"\n'
    "      body_file: templates/payment_failed.html\n",
}
#: k -> (manage the logo?, templates managed): on a fresh portal, exactly k resources differ.
CASES = {
    1: (False, ()),
    2: (False, ("invoice_created",)),
    3: (False, ("invoice_created", "payment_failed")),
    4: (True, ("invoice_created", "payment_failed")),
}


@dataclass(frozen=True)
class Row:
    """One measured command: its GETs and writes, and the floor beside them."""

    command: str
    gets: int
    writes: int
    floor_gets: int
    floor_writes: int
    note: str


def write_spec(folder: Path, k: int) -> Path:
    logo, templates = CASES[k]
    text = SETTINGS + (LOGO if logo else "")
    if templates:
        text += "  notifications:\n" + "".join(TEMPLATES[t] for t in templates)
    path = folder / f"k{k}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def count(server: Sandbox, key: str) -> tuple[int, int]:
    tenant = hashlib.sha256(key.encode()).hexdigest()
    mine = [r for r in server.requests() if r.get("tenant") == tenant]
    gets = sum(1 for r in mine if r["method"] == "GET")
    return gets, len(mine) - gets


def portalctl(argv: list[str], *, cwd: Path, url: str, key: str, ok: tuple[int, ...]) -> None:
    env = {**os.environ, "PORTAL_API_URL": url, "PORTAL_API_KEY": key, "NO_COLOR": "1"}
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"benchmarks: {' '.join(argv)} exited {proc.returncode}:\n{proc.stderr}")


def measure(binary: str, work: Path, server: Sandbox) -> list[Row]:
    rows: list[Row] = []

    def run(
        label: str,
        argv: list[str],
        key: str,
        floor: tuple[int, int],
        note: str,
        ok: tuple[int, ...] = (0,),
    ) -> None:
        server.clear_requests()
        portalctl([binary, *argv], cwd=work, url=server.url, key=key, ok=ok)
        gets, writes = count(server, key)
        rows.append(Row(label, gets, writes, floor[0], floor[1], note))

    spec4 = write_spec(work, 4).name
    run(
        "plan",
        ["plan", spec4],
        f"sk_test_{secrets.token_hex(8)}",
        (2, 0),
        "settings + template list, concurrently: one round trip",
    )
    for k in CASES:
        key = f"sk_test_{secrets.token_hex(8)}"
        spec = write_spec(work, k).name
        run(
            f"apply SPEC, k={k}",
            ["apply", spec, "--auto-approve"],
            key,
            (2, k),
            "+2 GETs: the verification read after the writes",
        )
        if k == 4:
            run(
                "apply SPEC, no changes",
                ["apply", spec, "--auto-approve"],
                key,
                (2, 0),
                "the plan's read only",
            )
    key = f"sk_test_{secrets.token_hex(8)}"
    portalctl(
        [binary, "plan", spec4, "--out", "plan.json"], cwd=work, url=server.url, key=key, ok=(0,)
    )
    run(
        "apply plan.json, k=4",
        ["apply", "plan.json"],
        key,
        (2, 4),
        "re-read (ETag check) + writes + verification read",
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    binary = tool("portalctl")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for sub in ("assets", "templates"):
            shutil.copytree(REPO / "examples" / sub, work / sub)
        with sandbox(binary, work) as server:
            rows = measure(binary, work, server)
    lines = [
        f"Counted with `python benchmarks/requests.py --write-readme` ({machine()}): every "
        "request the command's key made, from the sandbox's request log (`GET "
        "/_sandbox/requests`). Floor: one GET per resource read (settings and the template "
        "list) and one write per changed resource.",
        "",
        "| command | GETs | writes | total | floor (GETs + writes) | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r.command}` | {r.gets} | {r.writes} | {r.gets + r.writes} | "
            f"{r.floor_gets} + {r.floor_writes} = {r.floor_gets + r.floor_writes} | "
            f"{r.note} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        update_readme("requests", table)


if __name__ == "__main__":
    main()
