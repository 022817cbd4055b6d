"""Which portal a command talks to: flags > spec ``target:`` > environment > embedded sandbox.

No network code here (no httpx): resolution only decides the URL, finds the key by the
NAME of its environment variable, and checks the URL is safe to send a key to.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.errors import UsageError
from reconciler.logs import mask_keys, register_secret
from reconciler.model import Secret, Target, TargetSpec

URL_ENV = "PORTAL_API_URL"
KEY_ENV = "PORTAL_API_KEY"
SANDBOX_DB_ENV = "PORTAL_SANDBOX_DB"
DEFAULT_SANDBOX_DB = Path(".portal/sandbox.db")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
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
    if parts.scheme == "http" and not insecure and not is_loopback(hostname):
        raise UsageError(
            f"refusing to send the API key over plain http:// to {hostname}",
            hint="use https://, or pass --insecure if you really mean it",
        )
    return url.strip().rstrip("/")


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
    sandbox (``sandbox_db``, else ``$PORTAL_SANDBOX_DB``, else ``.portal/sandbox.db``
    relative to the working directory, with the sandbox key). Key: the variable
    ``spec_target.api_key_env`` names, else ``$PORTAL_API_KEY``; it is registered for log
    redaction. A URL without a key is a ``UsageError`` naming the variable to set.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    key_env = (spec_target.api_key_env if spec_target else None) or KEY_ENV
    url = (
        api_url
        or (spec_target.api_url if spec_target else None)
        or environ.get(URL_ENV, "").strip()
        or None
    )
    if url is None:
        from reconciler.sandbox import SANDBOX_KEY

        db = sandbox_db or Path(environ.get(SANDBOX_DB_ENV, "").strip() or DEFAULT_SANDBOX_DB)
        return Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=db)
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
