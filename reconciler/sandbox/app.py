"""The sandbox ASGI app: Starlette routes behind one middleware for keys, limits and faults.

Order of what the middleware does for every public request (``/v1/...``):
request id -> API key (401) -> rate limit (429) -> latency -> dropped connection ->
random 500 -> write faults (``fail_write_numbers`` 500, ``race_412``) -> the route. It
adds ``Request-Id`` and ``X-RateLimit-*`` to every response and records the request in
``app.state.sandbox.requests``. Admin routes under ``/_sandbox/`` skip all of that; when the
sandbox is public (``admin_keys``) they first demand one of the keys given with --api-key.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.locales import InvalidTag, canonical_tag
from reconciler.sandbox import SANDBOX_KEY, handlers
from reconciler.sandbox.content import Problem
from reconciler.sandbox.faults import DEFAULT_RATE_LIMIT, Faults, FaultState
from reconciler.sandbox.state import KEY_RE, SandboxState, key_hash
from reconciler.sandbox.store import LocaleWrite, Store, rfc3339

WRITE_PATH_RE = re.compile(
    r"^/v1/(?:portal/settings(?:/branding/logo)?|notifications/templates/(?P<event>[^/]+)"
    r"(?:/locales/(?P<tag>[^/]+))?)$"
)
PROBLEM_BASE = "https://api.4geeks.io/problems/"
DROP_EXTENSION = "portalctl.drop"


def problem_response(problem: Problem, request_id: str | None) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "code": problem.code,
        "param": problem.param,
        "request_id": request_id,
    }
    return JSONResponse(
        body,
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


def _api_key(scope: Scope) -> str | None:
    headers = Headers(scope=scope)
    key = headers.get("x-api-key")
    if key is not None:
        return key
    auth = headers.get("authorization", "")
    if auth[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.split(":", 1)[0]


class SandboxMiddleware:
    """Keys, rate limits, faults, ``Request-Id``/``X-RateLimit-*`` and the request log."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/_sandbox/"):
            if not self.state.admin_allowed(_api_key(scope)):
                problem = Problem(
                    401,
                    "unauthenticated",
                    "Unauthorized",
                    "the admin routes of a public sandbox need one of the keys given with "
                    "--api-key (X-Api-Key header, or the HTTP Basic user name)",
                    headers={"WWW-Authenticate": 'Basic realm="portal"'},
                )
                await problem_response(problem, None)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        request_id = "req_" + secrets.token_hex(8)
        scope["sandbox.request_id"] = request_id
        limit = int((self.state.faults.faults.rate_limit or DEFAULT_RATE_LIMIT) // 1) or 1
        rate_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(limit),
            "X-RateLimit-Reset": "0",
        }
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "status": None,
            "tenant": None,
            "time": rfc3339(datetime.now(UTC)),
            "request_id": request_id,
        }

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                headers = MutableHeaders(scope=message)
                headers["Request-Id"] = request_id
                for name, value in rate_headers.items():
                    headers[name] = value
            await send(message)

        try:
            await self._handle(scope, receive, send_with_headers, entry, rate_headers)
        except Problem as problem:
            await problem_response(problem, request_id)(scope, receive, send_with_headers)
        finally:
            self.state.record(entry)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        entry: dict[str, Any],
        rate_headers: dict[str, str],
    ) -> None:
        faults = self.state.faults
        key = _api_key(scope)
        if not key:
            raise Problem(
                401,
                "unauthenticated",
                "Unauthorized",
                "no API key: send it in the X-Api-Key header, or as the HTTP Basic user name",
                headers={"WWW-Authenticate": 'Basic realm="portal"'},
            )
        tenant = self.state.tenant_for(key)
        if tenant is None:
            raise Problem(
                401,
                "invalid_api_key",
                "Unauthorized",
                "the API key is not valid for this portal API",
                headers={"WWW-Authenticate": 'Basic realm="portal"'},
            )
        digest, mode = tenant
        entry["tenant"] = digest
        scope["sandbox.tenant"] = digest
        scope["sandbox.mode"] = mode
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
            await asyncio.sleep(faults.faults.latency_ms / 1000)
        if faults.should_drop():
            await _drop_connection(scope)
            return
        if faults.should_error():
            raise Problem(500, "internal_error", "Internal Server Error", "injected failure")
        write = WRITE_PATH_RE.match(scope["path"])
        if write is not None and scope["method"] in {"PATCH", "PUT", "DELETE"}:
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
        await self.app(scope, receive, send)

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


async def _drop_connection(scope: Scope) -> None:
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        # In-process (ASGI transport): nothing to close; fail like a reset socket would.
        raise ConnectionResetError("sandbox fault: connection dropped without a response")
    drop()
    for _ in range(3):  # let the server see the connection is gone before we return
        await asyncio.sleep(0)


async def _http_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    problem = Problem(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        str(exc.detail) if exc.detail else "Error",
        f"{request.method} {request.url.path}: {exc.detail}",
        headers=exc.headers,
    )
    return problem_response(problem, request.scope.get("sandbox.request_id"))


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc, request.scope.get("sandbox.request_id"))


def create_app(
    db_path: Path,
    *,
    api_keys: Iterable[str] | None = None,
    any_key: bool = False,
    faults: Faults | None = None,
    admin_needs_key: bool = False,
) -> Starlette:
    """The sandbox app over the SQLite file ``db_path`` (created if missing).

    ``api_keys``: the keys accepted (each its own portal); default ``[SANDBOX_KEY]``.
    ``any_key``: accept any well-formed key ``sk_(test|live)_...``, each its own portal.
    ``admin_needs_key``: the ``/_sandbox/`` admin routes need one of ``api_keys`` (public);
    with no explicit key (or only the public built-in one) they are closed.
    """
    keys: dict[str, str] = {}
    for key in list(api_keys or []) or [SANDBOX_KEY]:
        match = KEY_RE.match(key)
        if match is None:
            raise ValueError("an API key must look like sk_test_... or sk_live_...")
        keys[key_hash(key)] = match.group(1)
    state = SandboxState(
        store=Store(Path(db_path)),
        faults=FaultState(faults or Faults()),
        any_key=any_key,
        keys=keys,
        admin_keys=frozenset(key_hash(key) for key in (api_keys or []) if key != SANDBOX_KEY)
        if admin_needs_key
        else None,
    )
    app = Starlette(
        routes=[
            Route(path, endpoint, methods=methods) for path, endpoint, methods in handlers.ROUTES
        ],
        exception_handlers={HTTPException: _http_problem, Problem: _problem},
        middleware=[Middleware(SandboxMiddleware, state=state)],
    )
    app.state.sandbox = state
    return app
