"""The sandbox portal itself, framework-free: ``SandboxPortal.handle(PortalRequest)``.

One implementation, served two ways: over HTTP by the Starlette app (``app.py``, a thin
adapter: ``portalctl sandbox serve`` and the tests), and in-process by the embedded target,
which calls ``handle`` directly. Neither this module nor what it imports loads starlette,
anyio, asyncio, httpx or python-multipart (a test holds it to that), so the in-process
target starts fast.

What ``handle`` does for every public request (any path not under ``/_sandbox/``), in order:
request id -> API key (401) -> rate limit (429) -> latency -> dropped connection (raises
``Dropped``) -> random 500 -> write faults (``fail_write_numbers`` 500, ``race_412``) -> the
route. Every answer gets ``Request-Id`` and ``X-RateLimit-*``, and the request is recorded
in ``state.requests``. Admin routes under ``/_sandbox/`` skip all of that; when the sandbox
is public (``admin_keys``) they first demand one of the keys given with --api-key.

Routing keeps what the sandbox answered when it was a Starlette app: the same paths
(``handlers.ROUTES``, matched on the percent-decoded path), ``HEAD`` wherever ``GET`` is
allowed, 405 with ``Allow`` when the path is known and the method is not (``Allow`` names
the methods of the first route with that path), a 307 redirect for a path that only
differs by a trailing slash, else 404; 404 and 405 are problems whose ``detail`` names the
method and path.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.locales import InvalidTag, canonical_tag
from reconciler.model import SANDBOX_KEY
from reconciler.sandbox.content import Problem
from reconciler.sandbox.faults import DEFAULT_RATE_LIMIT, Faults, FaultState
from reconciler.sandbox.handlers import ROUTES, Call, Handler
from reconciler.sandbox.messages import (
    PortalRequest,
    PortalResponse,
    Upload,
    json_response,
    response,
    with_headers,
)
from reconciler.sandbox.state import KEY_RE, SandboxState, key_hash
from reconciler.sandbox.store import LocaleWrite, Store, rfc3339

__all__ = [
    "Dropped",
    "PortalRequest",
    "PortalResponse",
    "SandboxPortal",
    "Upload",
    "open_portal",
]

WRITE_PATH_RE = re.compile(
    r"^/v1/(?:portal/settings(?:/branding/logo)?|notifications/templates/(?P<event>[^/]+)"
    r"(?:/locales/(?P<tag>[^/]+))?)$"
)
PROBLEM_BASE = "https://api.4geeks.io/problems/"
_WWW_AUTHENTICATE = {"WWW-Authenticate": 'Basic realm="portal"'}


class Dropped(Exception):
    """The 'drop' fault: the front end must end the connection without an answer.

    Nothing was applied. An HTTP front end resets the socket; an in-process one fails the
    call the way a reset socket would (the client then retries, as it would over HTTP).
    """


class _Route:
    """One of ``handlers.ROUTES``, compiled (a plain class: cheap to define at import)."""

    __slots__ = ("allow", "handler", "methods", "pattern")

    def __init__(self, path: str, handler: Handler, declared: list[str]) -> None:
        methods = [m.upper() for m in declared]
        if "GET" in methods:
            methods.append("HEAD")
        self.pattern = _compile(path)
        self.handler = handler
        self.methods = frozenset(methods)
        self.allow = ", ".join(methods)  # the Allow header of a 405 on this route


_PARAM_RE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def _compile(path: str) -> re.Pattern[str]:
    """The pattern Starlette built for ``path``: ``{name}`` is one non-empty segment."""
    regex, last = "^", 0
    for match in _PARAM_RE.finditer(path):
        regex += re.escape(path[last : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
        last = match.end()
    return re.compile(regex + re.escape(path[last:]) + "$")


_ROUTES = tuple(_Route(path, handler, methods) for path, handler, methods in ROUTES)


def problem_response(problem: Problem, request_id: str | None) -> PortalResponse:
    """RFC 9457 ``application/problem+json`` for ``problem``."""
    body = {
        "type": PROBLEM_BASE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
        "param": problem.param,
        "request_id": request_id,
    }
    return json_response(
        body, problem.status, headers=problem.headers, media_type="application/problem+json"
    )


def api_key(headers: Mapping[str, str]) -> str | None:
    """The key of a request: ``X-Api-Key``, else the user name of HTTP Basic auth ("" when
    that is not decodable); None when neither is sent."""
    key = headers.get("x-api-key")
    if key is not None:
        return key
    auth = headers.get("authorization", "")
    if auth[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII, or not UTF-8 once decoded
        return ""
    return decoded.split(":", 1)[0]


def _url_path(path: str) -> str:
    """The path as a URL shows it (what Starlette's ``request.url.path`` gave): ``?``, ``#``
    and ``\\`` escaped, tabs and line breaks dropped."""
    escaped = path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return urlsplit("http://sandbox" + escaped).path


def _redirect(request: PortalRequest, path: str) -> PortalResponse:
    url = request.base_url.rstrip("/") + _url_path(path)
    if request.query:
        url += "?" + request.query
    location = quote(url, safe=":/%#?=@[]!$&'()*+,;")
    return with_headers(response(307), [("location", location)])


class SandboxPortal:
    """The sandbox: one ``SandboxState`` answering ``PortalRequest``s.

    ``sleep`` is how the latency fault waits (``asyncio.sleep`` under an event loop; any
    awaitable-returning callable elsewhere). ``handle`` suspends only there and, for a logo
    upload, in ``request.form``: with no latency fault and no form, its coroutine completes
    on its first ``send(None)``.
    """

    def __init__(self, state: SandboxState, *, sleep: Callable[[float], Awaitable[None]]) -> None:
        self.state = state
        self._sleep = sleep

    def close(self) -> None:
        """Close the store (the SQLite connection)."""
        self.state.store.close()

    def __enter__(self) -> SandboxPortal:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    async def handle(self, request: PortalRequest) -> PortalResponse:
        """Answer ``request``. Never raises for a bad request (that is a 4xx answer); raises
        ``Dropped`` for the drop fault. Anything else raised is a sandbox bug: the request
        is still recorded, and the front end decides what the client sees."""
        if request.path.startswith("/_sandbox/"):
            return await self._admin(request)
        return await self._public(request)

    async def _admin(self, request: PortalRequest) -> PortalResponse:
        if not self.state.admin_allowed(api_key(request.headers)):
            problem = Problem(
                401,
                "unauthenticated",
                "Unauthorized",
                "the admin routes of a public sandbox need one of the keys given with "
                "--api-key (X-Api-Key header, or the HTTP Basic user name)",
                headers=_WWW_AUTHENTICATE,
            )
            return problem_response(problem, None)
        try:
            return await self._dispatch(request, "", "")
        except Problem as problem:
            return problem_response(problem, None)

    async def _public(self, request: PortalRequest) -> PortalResponse:
        request_id = "req_" + secrets.token_hex(8)
        limit = int((self.state.faults.faults.rate_limit or DEFAULT_RATE_LIMIT) // 1) or 1
        rate_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit),
            "X-RateLimit-Reset": "0",
        }
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "status": None,
            "tenant": None,
            "time": rfc3339(datetime.now(UTC)),
            "request_id": request_id,
        }
        try:
            try:
                answer = await self._guarded(request, entry, rate_headers)
            except Problem as problem:
                answer = problem_response(problem, request_id)
            answer = with_headers(answer, [("Request-Id", request_id), *rate_headers.items()])
            entry["status"] = answer.status
            return answer
        finally:
            self.state.record(entry)

    async def _guarded(
        self, request: PortalRequest, entry: dict[str, Any], rate_headers: dict[str, str]
    ) -> PortalResponse:
        """Key, rate limit and faults, then the route (see the module docstring)."""
        faults = self.state.faults
        key = api_key(request.headers)
        if not key:
            raise Problem(
                401,
                "unauthenticated",
                "Unauthorized",
                "no API key: send it in the X-Api-Key header, or as the HTTP Basic user name",
                headers=_WWW_AUTHENTICATE,
            )
        tenant = self.state.tenant_for(key)
        if tenant is None:
            raise Problem(
                401,
                "invalid_api_key",
                "Unauthorized",
                "the API key is not valid for this portal API",
                headers=_WWW_AUTHENTICATE,
            )
        digest, mode = tenant
        entry["tenant"] = digest
        decision = faults.rate(digest, time.monotonic())
        rate_headers.update(
            {
                "X-RateLimit-Limit": str(decision.limit),
                "X-RateLimit-Remaining": str(decision.remaining),
                "X-RateLimit-Reset": str(decision.reset),
            }
        )
        if not decision.allowed:
            raise Problem(
                429,
                "rate_limited",
                "Too Many Requests",
                f"more than {decision.limit} requests per second for this key",
                headers={"Retry-After": str(decision.retry_after)},
            )
        if faults.faults.latency_ms:
            await self._sleep(faults.faults.latency_ms / 1000)
        if faults.should_drop():
            raise Dropped("sandbox fault: connection dropped without a response")
        if faults.should_error():
            raise Problem(500, "internal_error", "Internal Server Error", "injected failure")
        write = WRITE_PATH_RE.match(request.path)
        if write is not None and request.method in {"PATCH", "PUT", "DELETE"}:
            number = faults.count_write(digest)
            if number in faults.faults.fail_write_numbers:
                raise Problem(
                    500,
                    "internal_error",
                    "Internal Server Error",
                    f"injected failure of write #{number}; nothing was applied",
                )
            if faults.take_race():
                self._concurrent_write(digest, mode, write.group("event"), write.group("tag"))
                raise Problem(
                    412,
                    "precondition_failed",
                    "Precondition Failed",
                    "the resource was changed by another writer since it was read",
                    param="If-Match",
                )
        return await self._dispatch(request, digest, mode)

    async def _dispatch(self, request: PortalRequest, tenant: str, mode: str) -> PortalResponse:
        """The route's answer; 405, 404 (as ``Problem``) or a trailing-slash redirect."""
        path, method = request.path, request.method
        partial: _Route | None = None
        for route in _ROUTES:
            match = route.pattern.match(path)
            if match is None:
                continue
            if method in route.methods:
                call = Call(request, match.groupdict(), self.state, tenant, mode)
                return await route.handler(call)
            if partial is None:
                partial = route
        if partial is not None:
            raise Problem(
                405,
                "method_not_allowed",
                "Method Not Allowed",
                f"{method} {_url_path(path)}: Method Not Allowed",
                headers={"Allow": partial.allow},
            )
        if path != "/":
            other = path.rstrip("/") if path.endswith("/") else path + "/"
            if any(route.pattern.match(other) for route in _ROUTES):
                return _redirect(request, other)
        raise Problem(404, "not_found", "Not Found", f"{method} {_url_path(path)}: Not Found")

    def _concurrent_write(self, tenant: str, mode: str, event: str | None, tag: str | None) -> None:
        """What ``race_412`` simulates: another writer touches the resource."""
        store = self.state.store
        if event is not None and tag is not None:
            try:
                locale = canonical_tag(tag)
            except InvalidTag:
                return
            store.update_locale(
                tenant,
                mode,
                event,
                locale,
                lambda current: (
                    None if current is None else LocaleWrite(current["subject"], current["body"])
                ),
            )
            return
        if event is None:
            settings = store.settings(tenant, mode)
            store.save_settings(tenant, settings)
            return
        templates = {t["event"]: t for t in store.templates(tenant, mode)}
        current = templates.get(event)
        if current is not None:
            store.save_template(
                tenant,
                event,
                current["subject"],
                current["body"],
                is_default=current["is_default"],
                previous=current["updated_at"],
            )


def open_portal(
    db_path: Path,
    *,
    api_keys: Iterable[str] | None = None,
    any_key: bool = False,
    faults: Faults | None = None,
    admin_needs_key: bool = False,
    sleep: Callable[[float], Awaitable[None]],
) -> SandboxPortal:
    """The sandbox over the SQLite file ``db_path`` (created if missing).

    ``api_keys``: the keys accepted (each its own portal); default ``[SANDBOX_KEY]``.
    ``any_key``: accept any well-formed key ``sk_(test|live)_...``, each its own portal.
    ``admin_needs_key``: the ``/_sandbox/`` admin routes need one of ``api_keys`` (public);
    with no explicit key (or only the public built-in one) they are closed.
    ``sleep``: see ``SandboxPortal``. Raises ``ValueError`` for a malformed key (before
    the file is touched), ``OSError``/``sqlite3.Error`` when the file cannot be opened.
    """
    given = list(api_keys or [])
    keys: dict[str, str] = {}
    for key in given or [SANDBOX_KEY]:
        match = KEY_RE.match(key)
        if match is None:
            raise ValueError("an API key must look like sk_test_... or sk_live_...")
        keys[key_hash(key)] = match.group(1)
    state = SandboxState(
        store=Store(Path(db_path)),
        faults=FaultState(faults or Faults()),
        any_key=any_key,
        keys=keys,
        admin_keys=frozenset(key_hash(key) for key in given if key != SANDBOX_KEY)
        if admin_needs_key
        else None,
    )
    return SandboxPortal(state, sleep=sleep)
