"""Start-up: a command imports only what it uses (checked on ``sys.modules``, never timed).

Each case runs the CLI in a fresh interpreter and lists the modules it ended up with:
``--help`` loads no command module; ``validate`` of a valid spec needs no event loop, no
HTTP client, no jsonschema (the generated fast validator said valid) and no web framework;
an invalid spec does bring jsonschema in, to explain the errors; ``plan`` on the embedded
sandbox needs no network connection pool and no TLS certificates.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
from reconciler.cli import run
code = run(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
#: Through the console script's entry point, and listing the modules before the probe itself
#: imports json to report them.
PROBE_MAIN = """
import sys
from reconciler.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
modules = sorted(sys.modules)
import json
print(json.dumps({"code": code, "modules": modules}))
"""
#: Never needed to list commands or to validate a valid spec.
HEAVY = {
    "asyncio",
    "anyio",
    "httpx",
    "httpcore",
    "ssl",
    "jsonschema",
    "starlette",
    "uvicorn",
    "deepdiff",
    "structlog",
    "sqlite3",
    "reconciler.api",
    "reconciler.sandbox",
}
#: What ``validate`` of a valid spec stopped loading for issue 14 (cold start; each cost
#: ~1-3 ms), named one by one so that whoever brings one back sees what it costs.
NOT_FOR_VALIDATE = {
    # stdlib logging, and what it imports: no library on this path logs through it
    "logging",
    "traceback",
    "textwrap",
    "json",  # only for --format json, or to explain a spec's errors
    "glob",  # only for a pattern
    "reconciler.sources",  # only for a folder, a pattern or no SPEC
    "reconciler.spec.yamltraps",  # only for YAML that does not parse
    "difflib",  # only for a did-you-mean hint
}


def imported(tmp_path: Path, *argv: str, probe: str = PROBE) -> tuple[int, set[str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CI", "GITHUB_ACTIONS", "PORTAL_API_URL", "PORTAL_API_KEY"}
    }
    env["PORTAL_SANDBOX_DB"] = str(tmp_path / "sandbox.db")
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    last = done.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    return result["code"], set(result["modules"])


@pytest.fixture
def example(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path / "examples" / "portal.yaml"


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    code, modules = imported(tmp_path, "--help")
    assert code == 0
    assert sorted(m for m in modules if m.startswith("reconciler.cli.")) == []
    assert sorted(HEAVY & modules) == []
    assert "yaml" not in modules and "reconciler.model" not in modules
    assert "logging" not in modules


def test_validate_of_a_valid_spec_imports_nothing_it_does_not_use(
    tmp_path: Path, example: Path
) -> None:
    code, modules = imported(tmp_path, "validate", str(example))
    assert code == 0
    assert sorted(HEAVY & modules) == []


def test_validate_through_the_console_entry_point_skips_what_it_does_not_need(
    tmp_path: Path, example: Path
) -> None:
    code, modules = imported(tmp_path, "validate", str(example), probe=PROBE_MAIN)
    assert code == 0
    assert sorted((HEAVY | NOT_FOR_VALIDATE) & modules) == []
    assert "reconciler.spec" in modules  # it did validate


def test_validate_of_an_invalid_spec_asks_jsonschema_to_explain(tmp_path: Path) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text(
        'version: 1\nportal:\n  branding:\n    primary_color: "#12345"\n', encoding="utf-8"
    )
    code, modules = imported(tmp_path, "validate", str(spec))
    assert code == 3
    assert "jsonschema" in modules
    assert sorted({"asyncio", "httpx", "starlette"} & modules) == []


def test_plan_on_the_embedded_sandbox_opens_no_network_pool(tmp_path: Path, example: Path) -> None:
    code, modules = imported(tmp_path, "plan", str(example))
    assert code == 0
    assert "reconciler.sandbox" in modules  # it did plan, in-process
    assert sorted({"httpcore", "h11", "certifi", "jsonschema"} & modules) == []


#: Not needed by a run whose every portal is the embedded sandbox: it is called in-process
#: (``reconciler.sandbox.wire``) on the inline runtime, with no HTTP and no event loop.
EVENT_LOOP_AND_HTTP = {
    "asyncio",
    "anyio",
    "cachebox",
    "httpx",
    "httpcore",
    "h11",
    "starlette",
    "multipart",
    "python_multipart",
    "reconciler.api.httpwire",
    "reconciler.api.pool",
    "reconciler.sandbox.app",
}


def test_plan_and_apply_on_the_embedded_sandbox_need_no_event_loop_and_no_http(
    tmp_path: Path, example: Path
) -> None:
    code, modules = imported(tmp_path, "plan", str(example), "--detailed-exitcode")
    assert code == 2  # it read the portal and found changes: deepdiff did run
    assert {"deepdiff", "reconciler.sandbox.wire", "sqlite3"} <= modules
    assert sorted(EVENT_LOOP_AND_HTTP & modules) == []
    code, modules = imported(tmp_path, "apply", str(example), "--auto-approve")
    assert code == 0
    assert sorted(EVENT_LOOP_AND_HTTP & modules) == []
    code, modules = imported(tmp_path, "plan", str(example), "--detailed-exitcode")
    assert code == 0  # the apply was real: nothing left to change
    # In sync: no deepdiff, so no library that logs through stdlib logging either.
    assert sorted((EVENT_LOOP_AND_HTTP | {"deepdiff", "logging"}) & modules) == []


def test_the_console_entry_point_collects_rarely_and_freezes_what_is_left(
    tmp_path: Path, example: Path
) -> None:
    """``main`` (the console script) tunes the cycle collector for a short-lived process:
    it collects every 50,000 allocations instead of 700, and freezes what is left before
    exiting so the interpreter's shutdown does not trace every object again."""
    probe = (
        "import atexit, gc, json, sys\n"
        "atexit.register(lambda: print(json.dumps("
        "[gc.get_threshold()[0], gc.get_freeze_count()])))\n"
        "from reconciler.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "validate", str(example)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    threshold, frozen = json.loads(done.stdout.strip().splitlines()[-1])
    assert threshold == 50_000
    assert frozen > 10_000  # the modules' objects: nothing left for shutdown to trace
