"""Which portal a command talks to: flags > spec ``target:`` > environment > embedded sandbox.

No network code here (no httpx): resolution only decides the URL, finds the key by the
NAME of its environment variable, and checks the URL is safe to send a key to.

The embedded sandbox is one per project, found the way git finds ``.git``: the nearest
existing ``.portal/`` in this folder or a parent, else the repository root, else here. On it
each ``target.api_key_env`` NAME is its own portal (as each key is on a real API), and no
real key is ever sent to it. In CI (``CI`` or ``GITHUB_ACTIONS`` set), falling back to it
silently is refused where it would mislead (apply, drift, export): choose it explicitly
with ``PORTAL_API_URL=sandbox`` (or ``--api-url sandbox``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import UsageError
from reconciler.logs import mask_keys, register_secret
from reconciler.model import SANDBOX_KEY, Secret, Target, TargetSpec

URL_ENV = "PORTAL_API_URL"
KEY_ENV = "PORTAL_API_KEY"
SANDBOX_DB_ENV = "PORTAL_SANDBOX_DB"
DEFAULT_SANDBOX_DB = Path(".portal/sandbox.db")
#: ``PORTAL_API_URL`` / ``--api-url`` value that chooses the embedded sandbox on purpose.
SANDBOX_URL = "sandbox"
CI_ENVS = ("CI", "GITHUB_ACTIONS")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        import ipaddress  # only when a host is not spelt as a loopback name

        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: What can travel in an HTTP header: printable ASCII, no spaces.
_HEADER_SAFE = re.compile(r"[!-~]+")


def check_url(url: str, *, insecure: bool = False) -> str:
    """Validate an API base URL; returns it without a trailing slash.

    Plain ``http://`` is refused (the key would travel in clear) unless the host is
    loopback or ``insecure`` is set. Messages never echo a key pasted into the URL.
    """
    shown = mask_keys(url.strip())
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
    except ValueError as exc:
        raise UsageError(
            f"invalid API URL {shown!r}: {exc}",
            hint="use an absolute https:// URL, e.g. https://api.4geeks.io",
        ) from None
    if parts.scheme not in {"http", "https"} or not hostname:
        raise UsageError(
            f"invalid API URL {shown!r}",
            hint="use an absolute https:// URL, e.g. https://api.4geeks.io",
        )
    if parts.username or parts.password:
        raise UsageError(
            f"the API URL {parts.scheme}://{hostname} must not contain credentials",
            hint=f"put the key in {KEY_ENV} (or the variable target.api_key_env names)",
        )
    if parts.query or parts.fragment:
        raise UsageError(f"the API URL {shown!r} must not have a query or fragment")
    if parts.path.rstrip("/").lower().endswith("/v1"):
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')[:-3]}"
        raise UsageError(
            f"the API URL {shown!r} ends with /v1, but portalctl adds /v1/... itself",
            hint=f"use the base URL without the version: {mask_keys(base)}",
        )
    if parts.scheme == "http" and not insecure and not is_loopback(hostname):
        raise UsageError(
            f"refusing to send the API key over plain http:// to {hostname}",
            hint="use https://, or pass --insecure if you really mean it",
        )
    return url.strip().rstrip("/")


def find_sandbox_db(start: Path | None = None) -> Path:
    """The project's sandbox database: the nearest existing ``.portal/`` from ``start`` up,
    else the repository root's (the folder holding ``.git``), else ``start``'s. Shown
    relative to the working folder when inside it, absolute otherwise."""
    here = Path.cwd() if start is None else start
    here_abs = here.resolve()
    chain = [here_abs, *here_abs.parents]
    found = next((d for d in chain if (d / ".portal").is_dir()), None)
    if found is None:
        found = next((d for d in chain if (d / ".git").exists()), here_abs)
    db = found / DEFAULT_SANDBOX_DB
    try:
        return db.relative_to(here_abs)
    except ValueError:
        return db


def in_ci(env: Mapping[str, str]) -> bool:
    """True on a CI runner (``CI`` or ``GITHUB_ACTIONS`` set to anything but false/0)."""
    return any(env.get(name, "").strip().lower() not in ("", "0", "false") for name in CI_ENVS)


def refuse_implicit_sandbox_in_ci(target: Target, env: Mapping[str, str]) -> None:
    """UsageError when a CI job would silently fall back to the embedded sandbox: an apply
    there "succeeds" against a throwaway database, a drift job files false drift."""
    if target.implicit and in_ci(env):
        raise UsageError(
            f"{URL_ENV} is not set, and in CI portalctl does not fall back to the embedded "
            "sandbox (a throwaway local database, not your portal)",
            hint=f"set {URL_ENV} and {KEY_ENV} from the workflow's secrets, or "
            f"{URL_ENV}={SANDBOX_URL} to use the sandbox on purpose",
        )


def sandbox_key(key_env: str | None) -> Secret:
    """The sandbox portal a spec lands on: the default one, or one per key variable NAME
    (never the variable's value: a real key is never sent to the sandbox)."""
    if not key_env or key_env == KEY_ENV:
        return Secret(SANDBOX_KEY)
    return Secret(f"{SANDBOX_KEY}_{key_env.lower()}")


def resolve_target(
    *,
    spec_target: TargetSpec | None = None,
    api_url: str | None = None,
    insecure: bool = False,
    env: Mapping[str, str] | None = None,
    sandbox_db: Path | None = None,
) -> Target:
    """Resolve where to talk to.

    URL: ``api_url`` (flag) > ``spec_target.api_url`` > ``$PORTAL_API_URL`` > the embedded
    sandbox (``sandbox_db``, else ``$PORTAL_SANDBOX_DB``, else the project's
    ``.portal/sandbox.db``, see ``find_sandbox_db``). ``sandbox`` as the URL chooses the
    sandbox explicitly. Key: the variable ``spec_target.api_key_env`` names, else
    ``$PORTAL_API_KEY``; it is registered for log redaction. A URL without a key is a
    ``UsageError`` naming the variable to set.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    key_env = (spec_target.api_key_env if spec_target else None) or KEY_ENV
    url = (
        api_url
        or (spec_target.api_url if spec_target else None)
        or environ.get(URL_ENV, "").strip()
        or None
    )
    if url is None or url.strip().lower() == SANDBOX_URL:
        env_db = environ.get(SANDBOX_DB_ENV, "").strip()
        db = sandbox_db or (Path(env_db) if env_db else find_sandbox_db())
        return Target(
            url=None,
            api_key=sandbox_key(spec_target.api_key_env if spec_target else None),
            sandbox_db=db,
            implicit=url is None,
        )
    url = check_url(url, insecure=insecure)
    key = environ.get(key_env, "").strip()
    if not key:
        raise UsageError(
            f"no API key for {url}: {key_env} is not set",
            hint=f"export {key_env}=sk_live_... (or sk_test_...) and run the command again",
        )
    if not _HEADER_SAFE.fullmatch(key):
        # A pasted line break or a non-ASCII character: it cannot be sent as a header, and
        # the HTTP library would quote the whole value back in its error. Never echo it.
        raise UsageError(
            f"{key_env} does not hold a usable API key: it contains spaces, line breaks or "
            "non-ASCII characters",
            hint=f"set {key_env} to the key alone (sk_live_... or sk_test_...), with nothing "
            "around it",
        )
    register_secret(key)
    return Target(url=url, api_key=Secret(key), insecure=insecure, api_key_env=key_env)
