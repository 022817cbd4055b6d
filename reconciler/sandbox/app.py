"""The sandbox over HTTP: a Starlette app that hands every request to ``SandboxPortal``.

The portal (``portal.py``) does all the work: keys, limits, faults, routing, the request
log. This module only translates: the ASGI request becomes a ``PortalRequest`` (body read,
headers decoded, the multipart form parsed by Starlette when the logo route asks for it),
the ``PortalResponse`` is sent back, and the drop fault (``Dropped``) resets the connection
through the server's ``portalctl.drop`` extension (``server.py``), or raises
``ConnectionResetError`` when there is none (in-process, httpx's ASGI transport).

Starlette stays the shell, not the router: its one middleware answers every HTTP request,
and its error middleware still turns a sandbox bug into a plain 500.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.sandbox.content import Problem
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.handlers import FORM_PART_LIMIT
from reconciler.sandbox.portal import (
    Dropped,
    PortalRequest,
    PortalResponse,
    SandboxPortal,
    Upload,
    open_portal,
)
from reconciler.sandbox.state import key_hash as key_hash  # where tests have long found it

DROP_EXTENSION = "portalctl.drop"


class PortalAdapter:
    """ASGI middleware that answers every HTTP request with ``portal.handle``; other
    scopes (lifespan) go on to the wrapped app."""

    def __init__(self, app: ASGIApp, portal: SandboxPortal) -> None:
        self.app = app
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            answer = await self.portal.handle(await portal_request(request))
        except Dropped as exc:
            await _drop_connection(scope, str(exc))
            return
        await send_response(answer, send)


async def portal_request(request: Request) -> PortalRequest:
    """The ``PortalRequest`` of a Starlette request (its body read)."""
    headers: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    async def form() -> Mapping[str, Upload]:
        return await _multipart_files(request)

    return PortalRequest(
        method=request.method,
        path=request.scope["path"],
        headers=headers,
        body=await request.body(),
        form=form,
        base_url=str(request.base_url).rstrip("/"),
        query=request.scope.get("query_string", b"").decode("latin-1"),
    )


async def _multipart_files(request: Request) -> Mapping[str, Upload]:
    """The files of a multipart body (the last part of a name wins); 400 when malformed."""
    try:
        async with request.form(max_files=4, max_fields=4, max_part_size=FORM_PART_LIMIT) as parsed:
            files: dict[str, Upload] = {}
            for name, value in parsed.items():
                if isinstance(value, UploadFile):
                    files[name] = Upload(
                        value.filename or "", value.content_type or "", await value.read()
                    )
            return files
    except MultiPartException as exc:
        message = exc.message
    except HTTPException as exc:  # Starlette >= 0.41 wraps the parser's error in an app
        if exc.status_code != 400:
            raise
        message = str(exc.detail)
    raise Problem(400, "invalid_multipart", "Bad Request", message, param="file")


async def send_response(answer: PortalResponse, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": answer.status,
            "headers": [
                (name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers
            ],
        }
    )
    await send({"type": "http.response.body", "body": answer.body})


async def _drop_connection(scope: Scope, message: str) -> None:
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is None:
        # In-process (ASGI transport): nothing to close; fail like a reset socket would.
        raise ConnectionResetError(message)
    drop()
    for _ in range(3):  # let the server see the connection is gone before we return
        await asyncio.sleep(0)


def create_app(
    db_path: Path,
    *,
    api_keys: Iterable[str] | None = None,
    any_key: bool = False,
    faults: Faults | None = None,
    admin_needs_key: bool = False,
) -> Starlette:
    """The sandbox app over the SQLite file ``db_path`` (created if missing); the options
    are ``open_portal``'s. ``app.state.sandbox`` is the portal's ``SandboxState``;
    ``app.state.portal`` the portal."""
    portal = open_portal(
        db_path,
        api_keys=api_keys,
        any_key=any_key,
        faults=faults,
        admin_needs_key=admin_needs_key,
        sleep=asyncio.sleep,
    )
    app = Starlette(middleware=[Middleware(PortalAdapter, portal=portal)])
    app.state.sandbox = portal.state
    app.state.portal = portal
    return app
