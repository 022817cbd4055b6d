"""Fixtures shared by every test (owned by the API/sandbox work; documented for all).

- ``start_sandbox`` (function scope): factory ``start_sandbox(*args, any_key=True,
  log_level=None, env=None) -> SandboxServer``. Starts ``python -m reconciler.cli
  [--log-level L] sandbox serve --port 0 --db <tmp>/sandbox.db [--any-key] *args`` as a
  SUBPROCESS on a free loopback port, waits for the ready line and returns a handle;
  every server it started is stopped after the test. ``args`` are extra ``serve`` flags,
  e.g. ``start_sandbox("--rate-limit", "1")``.
- ``sandbox_server`` (function scope): ``start_sandbox()`` with the defaults.
- ``shared_sandbox`` (module scope): one server for a whole module (e.g. schemathesis).
- ``embedded_env``: chdir to ``tmp_path`` and unset ``PORTAL_API_URL``,
  ``PORTAL_API_KEY`` and ``PORTAL_SANDBOX_DB``, so commands use the embedded sandbox in
  ``tmp_path/.portal/sandbox.db``. Returns ``tmp_path``.

``SandboxServer`` has ``.url``, ``.key`` (a valid key: the first ``--api-key`` given,
else a fresh random one with ``--any-key``, else ``SANDBOX_KEY``; more portals with
``.new_key()`` under ``--any-key``), ``.db_path``, ``.process``, ``.ready_line``,
``.requests()`` (``GET /_sandbox/requests``), ``.clear_requests()``,
``.set_faults(**faults)`` (``PUT /_sandbox/faults``; replaces all faults and resets the
write counters), ``.stderr()`` (everything the server logged) and ``.stop()`` /
``.kill()`` (SIGKILL).
"""

from __future__ import annotations

import os
import secrets
import selectors
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.model import SANDBOX_KEY
from tests.helpers.cli import copy_worktree

READY_PREFIX = "sandbox listening on "
START_TIMEOUT = 30.0


@dataclass
class SandboxServer:
    """A ``portalctl sandbox serve`` subprocess on a free loopback port."""

    url: str
    key: str
    db_path: Path
    process: subprocess.Popen[str]
    stderr_path: Path
    ready_line: str
    _keys: list[str] = field(default_factory=list)

    def new_key(self, mode: str = "test") -> str:
        """Another valid key (with ``--any-key``): a separate, fresh portal."""
        return f"sk_{mode}_{secrets.token_hex(8)}"

    def requests(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/_sandbox/requests", timeout=10)
        response.raise_for_status()
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def clear_requests(self) -> None:
        httpx.delete(f"{self.url}/_sandbox/requests", timeout=10).raise_for_status()

    def set_faults(self, **faults: Any) -> dict[str, Any]:
        response = httpx.put(f"{self.url}/_sandbox/faults", json=faults, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout:
            self.process.stdout.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup (crash tests)."""
        self.process.kill()
        self.process.wait(10)


def launch_sandbox(
    workdir: Path,
    *args: str,
    any_key: bool = True,
    log_level: str | None = None,
    env: Mapping[str, str] | None = None,
    db_path: Path | None = None,
) -> SandboxServer:
    """Start a sandbox subprocess in ``workdir`` and wait until it is ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = db_path or workdir / "sandbox.db"
    stderr_path = workdir / f"sandbox-{secrets.token_hex(4)}.stderr"
    command = [sys.executable, "-m", "reconciler.cli"]
    if log_level:
        command += ["--log-level", log_level]
    command += ["sandbox", "serve", "--port", "0", "--db", str(db)]
    if any_key:
        command.append("--any-key")
    command += list(args)
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY"):
        child_env.pop(name, None)
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=workdir,
            env=child_env,
        )
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    try:
        if not selector.select(timeout=START_TIMEOUT):
            process.kill()
            pytest.fail(f"sandbox did not start within {START_TIMEOUT}s: {stderr_path.read_text()}")
        line = process.stdout.readline().strip()
    finally:
        selector.close()
    if not line.startswith(READY_PREFIX):
        process.kill()
        pytest.fail(f"unexpected sandbox output {line!r}: {stderr_path.read_text()}")
    url = line[len(READY_PREFIX) :].split(" ", 1)[0]
    given = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--api-key"]
    key = given[0] if given else f"sk_test_{secrets.token_hex(8)}" if any_key else SANDBOX_KEY
    return SandboxServer(
        url=url, key=key, db_path=db, process=process, stderr_path=stderr_path, ready_line=line
    )


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[Callable[..., SandboxServer]]:
    """Factory: ``start_sandbox(*serve_args, any_key=True, log_level=None, env=None)``."""
    started: list[SandboxServer] = []

    def start(*args: str, **kwargs: Any) -> SandboxServer:
        server = launch_sandbox(tmp_path / f"sandbox{len(started)}", *args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox_server(start_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    """A sandbox subprocess with default flags (``--any-key``), stopped after the test."""
    return start_sandbox()


@pytest.fixture(scope="module")
def shared_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One sandbox subprocess for a whole test module."""
    server = launch_sandbox(tmp_path_factory.mktemp("shared-sandbox"))
    yield server
    server.stop()


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in ``tmp_path`` against the embedded sandbox (``tmp_path/.portal/sandbox.db``)."""
    monkeypatch.chdir(tmp_path)
    # Not a CI job, even when the suite runs in one: in CI, apply, drift and export refuse to
    # fall back to the embedded sandbox (tests/integration/test_target_rules.py covers that).
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB", "CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


# --- the repository as a user would get it: a copy of the work tree, and its wheel --------

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per run as pip builds it for users (isolated build,
    so it needs the package index for setuptools), from a copy of the work tree."""
    root = tmp_path_factory.mktemp("wheel")
    source = copy_worktree(root / "src")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(root / "dist"),
            str(source),
        ],
        env={**os.environ, "PIP_CACHE_DIR": str(root / "pip-cache")},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (root / "dist").glob("portal_reconciler-*.whl")
    return wheel
