"""Find a headless Chromium on this machine and drive it: screenshots and DOM dumps.

Driver: Chromium's own ``--headless --screenshot`` / ``--dump-dom``, run as a subprocess
with a timeout. No extra dependency: Playwright would be a heavy install whose browser
download cannot work offline (or in locked-down CI), and our pages need no interaction:
they are static HTML at a known size. Each run gets a fresh, empty profile and every
background-network feature off, so a screenshot never talks to the network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ReconcilerError, UsageError
from reconciler.logs import get_logger

#: Environment variable naming the browser binary (wins over the search below).
BROWSER_ENV = "PORTALCTL_CHROMIUM"
#: Names searched on PATH, in order.
CANDIDATES: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

INSTALL_HINT = (
    "install one (Debian/Ubuntu: `apt-get install chromium`) or set "
    f"{BROWSER_ENV} to the path of a Chromium or Chrome binary"
)

_FLAGS: tuple[str, ...] = (
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    # A sandboxed srcdoc frame in its own process is sometimes not painted yet when the
    # screenshot is taken; in-process it always is. The frame's sandbox still applies.
    "--disable-features=IsolateSandboxedIframes",
)


#: What Chromium says when its process sandbox cannot start (no user namespaces, no setuid
#: helper): then it is run again with --no-sandbox.
_NO_SANDBOX_RE = re.compile(r"No usable sandbox|sandbox.*(?:namespace|setuid)", re.I)

log = get_logger(__name__)


class BrowserError(ReconcilerError):
    """The browser could not take a screenshot or dump a page (exit 1)."""


@dataclass(frozen=True)
class Browser:
    """A Chromium binary and how to run it headless."""

    path: Path
    timeout: float = 60.0

    def _run(self, args: Sequence[str], what: str) -> str:
        no_sandbox = _needs_no_sandbox()
        done = self._once(args, what, no_sandbox=no_sandbox)
        if done.returncode != 0 and not no_sandbox and _NO_SANDBOX_RE.search(done.stderr):
            # Ubuntu 24.04 (GitHub's runners) forbids the user namespaces Chromium's own
            # sandbox needs. The pages we render run no script (CSP, sandboxed frames), so
            # rendering them without the browser's process sandbox is an acceptable fallback.
            log.warning("preview.browser_without_sandbox", browser=str(self.path))
            done = self._once(args, what, no_sandbox=True)
        if done.returncode != 0:
            last = _last_line(done.stderr)
            raise BrowserError(
                f"{self.path} failed {what} (exit {done.returncode}){': ' + last if last else ''}",
                hint=f"check the browser works headless, or point {BROWSER_ENV} at another one",
            )
        return done.stdout

    def _once(
        self, args: Sequence[str], what: str, *, no_sandbox: bool
    ) -> subprocess.CompletedProcess[str]:
        with tempfile.TemporaryDirectory(prefix="portalctl-chromium-") as profile:
            argv = [str(self.path), *_FLAGS, f"--user-data-dir={profile}", *args]
            if no_sandbox:
                argv.insert(1, "--no-sandbox")
            try:
                return subprocess.run(
                    argv,
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    check=False,
                    stdin=subprocess.DEVNULL,
                    env=browser_env(),
                )
            except subprocess.TimeoutExpired as exc:
                raise BrowserError(
                    f"{self.path} did not finish {what} within {self.timeout:g} s",
                    hint=f"check that the browser starts headless (`{self.path} --headless "
                    "--dump-dom about:blank`), or point " + BROWSER_ENV + " at another one",
                ) from exc
            except OSError as exc:
                raise BrowserError(
                    f"cannot run {self.path}: {exc.strerror or exc}", hint=INSTALL_HINT
                ) from exc

    def screenshot(self, page: Path, out: Path, *, width: int, height: int) -> Path:
        """Write a PNG of ``page`` (a local HTML file) at ``width`` x ``height`` CSS px."""
        target = out.resolve()
        if target.exists():
            target.unlink()
        self._run(
            [
                f"--screenshot={target}",
                f"--window-size={width},{height}",
                "--force-device-scale-factor=1",
                page.resolve().as_uri(),
            ],
            f"a screenshot of {page.name}",
        )
        if not target.is_file():
            raise BrowserError(
                f"{self.path} exited without writing the screenshot {out}",
                hint=f"check the browser supports --headless --screenshot, or set {BROWSER_ENV}",
            )
        return out

    def dump_dom(self, page: Path) -> str:
        """The DOM of ``page`` after loading, serialised (``--dump-dom``)."""
        return self._run(["--dump-dom", page.resolve().as_uri()], f"loading {page.name}")


#: Environment variables never handed to the browser: an API key has no business there.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.I)


def browser_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the browser runs with: ours, minus anything named like a secret
    (``PORTAL_API_KEY``, the spec's ``api_key_env`` such as ``ACME_PORTAL_KEY``, tokens)."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if not _SECRET_NAME.search(k)}


def _needs_no_sandbox() -> bool:
    # Chromium refuses to start as root with its sandbox on (containers, CI runners).
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if "dbus" not in line.lower()]
    return (useful or lines or [""])[-1][:200]


def find_browser(env: Mapping[str, str] | None = None) -> Browser:
    """The browser named by $PORTALCTL_CHROMIUM, else the first of ``CANDIDATES`` on PATH.

    UsageError (exit 3) when none is found, naming how to install one.
    """
    environ = os.environ if env is None else env
    named = environ.get(BROWSER_ENV)
    if named:
        path = Path(named)
        found = shutil.which(named) if not path.is_file() else str(path)
        if found is None or not os.access(found, os.X_OK):
            raise UsageError(
                f"{BROWSER_ENV}={named} is not an executable browser",
                hint=f"set {BROWSER_ENV} to the path of a Chromium or Chrome binary, or unset "
                "it to search PATH for one",
            )
        return Browser(Path(found))
    search = environ.get("PATH")
    for name in CANDIDATES:
        found = shutil.which(name, path=search)
        if found is not None:
            return Browser(Path(found))
    raise UsageError(
        f"--png needs a headless Chromium or Chrome, and none was found on PATH "
        f"(looked for {', '.join(CANDIDATES)})",
        hint=INSTALL_HINT,
    )
