"""The in-process sandbox loads no web framework: checked on ``sys.modules`` of a fresh
interpreter that imports the portal, opens one and answers a request (never timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PROBE = """
import json, sys
from pathlib import Path

import reconciler.sandbox.portal as portal

async def no_wait(delay):
    return None

with portal.open_portal(Path(sys.argv[1]), sleep=no_wait) as sandbox:
    request = portal.PortalRequest(
        "GET", "/v1/portal/settings", {"x-api-key": "sk_test_sandbox"}
    )
    coro = sandbox.handle(request)
    try:
        coro.send(None)
        raise SystemExit("handle suspended")
    except StopIteration as done:
        answer = done.value
print(json.dumps({"status": answer.status, "modules": sorted(sys.modules)}))
"""
#: Top-level packages the embedded target must not pay for.
FRAMEWORKS = {
    "starlette",
    "anyio",
    "asyncio",
    "httpx",
    "httpcore",
    "multipart",
    "python_multipart",
    "sniffio",
    "uvicorn",
    "h11",
}


def loaded(tmp_path: Path) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "sandbox.db")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["status"], result["modules"]


def test_the_portal_answers_without_loading_a_web_framework(tmp_path: Path) -> None:
    status, modules = loaded(tmp_path)
    assert status == 200
    assert "reconciler.sandbox.portal" in modules  # the probe really ran the portal
    assert sorted(m for m in modules if m.split(".")[0] in FRAMEWORKS) == []
