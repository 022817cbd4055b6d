"""Start ``portalctl sandbox serve`` for a benchmark and read its request log."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

READY = "sandbox listening on "


@dataclass
class Sandbox:
    """A running sandbox server: its URL and its request log."""

    url: str
    process: subprocess.Popen[str]

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/_sandbox/requests", timeout=30) as answer:
            data: list[dict[str, Any]] = json.load(answer)["data"]
        return data

    def clear_requests(self) -> None:
        request = urllib.request.Request(f"{self.url}/_sandbox/requests", method="DELETE")
        with urllib.request.urlopen(request, timeout=30):
            pass


@contextmanager
def sandbox(portalctl: str, workdir: Path, *flags: str) -> Iterator[Sandbox]:
    """``portalctl sandbox serve --any-key --port 0 FLAGS`` in ``workdir``, stopped on exit."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            portalctl,
            "sandbox",
            "serve",
            "--any-key",
            "--port",
            "0",
            "--db",
            str(workdir / "sandbox.db"),
            *flags,
        ],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=30):
            raise SystemExit("benchmarks: the sandbox did not start within 30 s")
        line = process.stdout.readline().strip()
        selector.close()
        if not line.startswith(READY):
            raise SystemExit(f"benchmarks: unexpected sandbox output {line!r}")
        yield Sandbox(url=line[len(READY) :].split(" ", 1)[0], process=process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        if process.stdout:
            process.stdout.close()
