"""A fleet of 50 portals over loopback HTTP (``sandbox serve --any-key``), three of them
failing for different reasons (issue 6 acceptance):

- p07: its key is rejected (401);
- p13: its API answers 500 to everything (it targets a second sandbox with error_rate 1);
- p21: it was changed on the portal behind its saved plan (stale ETag).

The 47 others are planned and applied; a second plan shows them in sync; the summary names
the three failures with their one-line messages; the exit code is the worst failure's.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import ApiSession
from reconciler.cli import run
from reconciler.model import Secret, Target
from reconciler.sandbox.app import key_hash

N = 50
BAD_KEY, ERRORS, STALE = 7, 13, 21


def spec_text(i: int, url: str) -> str:
    text = (
        "version: 1\n"
        "target:\n"
        f"  api_url: {url}\n"
        f"  api_key_env: ACME_P{i:02d}_KEY\n"
        "portal:\n"
        "  enabled: true\n"
        "  branding:\n"
        f"    company_name: Portal {i:02d}\n"
        f'    primary_color: "#{(i * 2):02x}3a6e"\n'
        "  permissions:\n"
        f"    cancel_subscription: {'true' if i % 3 == 0 else 'false'}\n"
    )
    if i % 5 == 0:
        text += (
            "  notifications:\n"
            "    invoice_created:\n"
            f'      subject: "Invoice {{{{invoice_number}}}} from portal {i:02d}"\n'
            "      body: |\n"
            f"        Hello, your invoice from portal {i:02d} is ready.\n"
            "        See it at {{customer_portal_link}}\n"
        )
    return text


def summary_block(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = max(i for i, line in enumerate(lines) if line.startswith("portalctl: fleet: "))
    return lines[start:]


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_sandbox: Any) -> dict[str, Any]:
    main, broken = start_sandbox(), start_sandbox()
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "portals").mkdir()
    keys: dict[int, str] = {}
    for i in range(1, N + 1):
        server = broken if i == ERRORS else main
        keys[i] = server.new_key()
        monkeypatch.setenv(f"ACME_P{i:02d}_KEY", keys[i])
        (tmp_path / "portals" / f"p{i:02d}.yaml").write_text(spec_text(i, server.url))
    return {"main": main, "broken": broken, "keys": keys}


def test_fifty_portals_three_failures(
    fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main, broken, keys = fleet["main"], fleet["broken"], fleet["keys"]

    # 1. Plan all 50 into plans/: every portal is fresh, so every one has changes.
    assert run(["plan", "portals", "--out", "plans", "--detailed-exitcode"]) == 2
    out, err = capsys.readouterr()
    assert summary_block(err) == [
        "portalctl: fleet: 50 portals: 0 in sync, 50 with changes, 0 failed"
    ]
    assert sorted(p.name for p in Path("plans").iterdir()) == [
        f"p{i:02d}.plan.json" for i in range(1, N + 1)
    ]
    assert out.count("\n=== portals/p") == N - 1 and out.startswith(
        f"=== portals/p01.yaml -> {main.url} ===\n"
        f"portalctl will make these changes to {main.url} (spec portals/p01.yaml):\n"
    )
    assert f"=== portals/p13.yaml -> {broken.url} ===\n" in out

    # 2. Three portals go wrong between the plan and the apply.
    monkeypatch.setenv(f"ACME_P{BAD_KEY:02d}_KEY", "not-a-valid-key")
    broken.set_faults(error_rate=1.0)

    async def change_behind_the_plan() -> None:
        target = Target(url=main.url, api_key=Secret(keys[STALE]))
        async with ApiSession() as session:
            client = session.client(target)
            _, etag = await client.get_settings()
            await client.patch_settings({"branding": {"company_name": "By hand"}}, if_match=etag)

    asyncio.run(change_behind_the_plan())
    main.clear_requests()
    broken.clear_requests()

    # 3. Apply the 50 saved plans: 47 applied, 3 named failures, exit 6 (the worst: 401).
    assert run(["apply", "plans", "--parallelism", "8"]) == 6
    out, err = capsys.readouterr()
    block = summary_block(err)
    assert block[0] == "portalctl: fleet: 50 portals: 0 in sync, 47 applied, 3 failed"
    assert len(block) == 4
    assert re.fullmatch(
        rf"  plans/p07\.plan\.json: the API key was rejected by {re.escape(main.url)} \(HTTP 401: "
        r"the API key is not valid for this portal API\) \(request req_[0-9a-f]+\); "
        r"check ACME_P07_KEY",
        block[1],
    ), block[1]
    assert re.fullmatch(
        rf"  plans/p13\.plan\.json: {re.escape(broken.url)} failed with HTTP 500 on GET "
        r"/v1/(portal/settings|notifications/templates) after 5 attempts: injected failure "
        r"\(request req_[0-9a-f]+\); try again later; "
        r"if it persists, report it with the request id",
        block[2],
    ), block[2]
    assert re.fullmatch(
        r"  plans/p21\.plan\.json: the plan is stale: settings changed on the portal since the "
        r"plan was made \(ETag \"[0-9a-f]+\" -> \"[0-9a-f]+\"\); run `portalctl plan` again, "
        r"review the new plan, then apply it",
        block[3],
    ), block[3]
    assert out.count(": Apply complete: ") == N - 3
    for key in keys.values():
        assert key not in out + err
    # Nothing was written for the stale portal (nor could be for the other two).
    stale = key_hash(keys[STALE])
    assert [r for r in main.requests() if r["tenant"] == stale and r["method"] != "GET"] == []
    assert {(r["method"], r["status"]) for r in broken.requests()} == {("GET", 500)}

    # 4. A second plan, faults gone: the 47 are in sync; the 3 still have their changes.
    monkeypatch.setenv(f"ACME_P{BAD_KEY:02d}_KEY", keys[BAD_KEY])
    broken.set_faults()
    assert run(["plan", "portals", "--format", "json", "--detailed-exitcode"]) == 2
    out, err = capsys.readouterr()
    assert summary_block(err) == [
        "portalctl: fleet: 50 portals: 47 in sync, 3 with changes, 0 failed"
    ]
    doc = json.loads(out)
    assert doc["format_version"] == 2 and len(doc["portals"]) == N
    assert [p["spec"] for p in doc["portals"] if p["plan"]["has_changes"]] == [
        "portals/p07.yaml",
        "portals/p13.yaml",
        "portals/p21.yaml",
    ]

    # 5. Applying the specs fixes the three; then drift finds the whole fleet in sync.
    assert run(["apply", "portals", "--auto-approve"]) == 0
    assert summary_block(capsys.readouterr().err) == [
        "portalctl: fleet: 50 portals: 47 in sync, 3 applied, 0 failed"
    ]
    assert run(["drift", "portals"]) == 0
    assert summary_block(capsys.readouterr().err) == [
        "portalctl: fleet: 50 portals: 50 in sync, 0 with changes, 0 failed"
    ]


def test_fleet_plan_failures_remove_old_plan_files(
    fleet: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    main, broken = fleet["main"], fleet["broken"]
    assert run(["plan", "portals", "--out", "plans"]) == 0
    capsys.readouterr()
    monkeypatch.setenv(f"ACME_P{BAD_KEY:02d}_KEY", "not-a-valid-key")
    broken.set_faults(error_rate=1.0)
    # Worst wins: 401 and a 500 that persisted through the retries are both exit 6.
    assert run(["plan", "portals", "--out", "plans", "--parallelism", "32"]) == 6
    out, err = capsys.readouterr()
    block = summary_block(err)
    assert block[0] == "portalctl: fleet: 50 portals: 0 in sync, 48 with changes, 2 failed"
    assert [line.split(":", 1)[0] for line in block[1:]] == [
        "  portals/p07.yaml",
        "  portals/p13.yaml",
    ]
    assert (
        "portalctl: removed stale plan file plans/p07.plan.json\n"
        "portalctl: removed stale plan file plans/p13.plan.json\n"
        "portalctl: 48 plan files saved to plans\n"
    ) in err
    names = sorted(p.name for p in Path("plans").iterdir())
    assert len(names) == 48 and "p07.plan.json" not in names and "p13.plan.json" not in names
    assert (
        f"=== portals/p07.yaml -> {main.url} ===\nerror: the API key was rejected by {main.url}"
        in out
    )
    # Only the 401 portal failing: exit 6; only the 500 portal: exit 6 too (reads retried).
    broken.set_faults()
    assert run(["plan", "portals"]) == 6
    monkeypatch.setenv(f"ACME_P{BAD_KEY:02d}_KEY", fleet["keys"][BAD_KEY])
    broken.set_faults(error_rate=1.0)
    assert run(["plan", "portals"]) == 6
