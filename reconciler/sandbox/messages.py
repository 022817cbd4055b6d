"""A sandbox request and its answer as plain data, and how answers are built (no framework).

``portal.SandboxPortal.handle`` takes a ``PortalRequest`` and returns a ``PortalResponse``;
the Starlette app (``app.py``) and the in-process embedded target are two ways of carrying
them. ``portal`` re-exports these names: front ends import them from there.

Answers are built the way Starlette's ``Response``/``JSONResponse`` built them before the
sandbox had its own core, so they stay byte-identical: header names lower-case, the given
headers first, then ``content-length`` (not on 1xx/204/304) and ``content-type``; JSON
compact, UTF-8, non-ASCII kept as is.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Reason phrases of the statuses the sandbox sends (RFC 9110 wording, as in problem titles).
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Upload:
    """One file of a multipart form."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class PortalRequest:
    """One HTTP request to the sandbox, as the front end received it.

    ``path`` is percent-decoded and has no query string: what ASGI puts in
    ``scope["path"]`` and what the routes are matched against (``/v1/a%2Fb`` arrives as
    ``/v1/a/b``). ``query`` is the raw query string; no route reads it, only the
    trailing-slash redirect keeps it. ``headers``: names lower-case, one value per name
    (the first, when a request repeats a header). ``form``: the multipart files by part
    name (the last part of a name wins), parsed on demand by the one route that needs them
    (``PUT .../branding/logo``); it may raise ``content.Problem(400, "invalid_multipart",
    ...)``; None reads as a form without files. ``base_url``: scheme and authority the
    client used (no trailing slash needed), for the logo URL in settings bodies.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    form: Callable[[], Awaitable[Mapping[str, Upload]]] | None = None
    base_url: str = "http://sandbox.localhost"
    query: str = ""


@dataclass(frozen=True)
class PortalResponse:
    """The sandbox's answer: send ``headers`` (names lower-case, in order) and ``body``.

    A ``HEAD`` request gets its ``GET`` answer, body included (as Starlette gives it); an
    HTTP server leaves the body out, an in-process caller should ignore it.
    """

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key == wanted), None)


def reason_of(status: int) -> str:
    phrase = REASONS.get(status)
    if phrase is None:  # not a status the sandbox sends today; ask the standard library
        from http import HTTPStatus

        phrase = HTTPStatus(status).phrase
    return phrase


def response(
    status: int,
    body: bytes = b"",
    *,
    media_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> PortalResponse:
    """An answer with Starlette's header rules (see the module docstring)."""
    raw = [(name.lower(), value) for name, value in (headers or {}).items()]
    names = {name for name, _ in raw}
    if "content-length" not in names and not (status < 200 or status in (204, 304)):
        raw.append(("content-length", str(len(body))))
    if media_type is not None and "content-type" not in names:
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type += "; charset=utf-8"
        raw.append(("content-type", media_type))
    return PortalResponse(status, reason_of(status), tuple(raw), body)


def json_response(
    content: Any,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> PortalResponse:
    body = json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")
    return response(status, body, media_type=media_type, headers=headers)


def with_headers(answer: PortalResponse, items: Iterable[tuple[str, str]]) -> PortalResponse:
    """``answer`` with each header of ``items`` set: it replaces the first header of that
    name (dropping any others) or is appended."""
    headers = list(answer.headers)
    for name, value in items:
        name = name.lower()
        found = [index for index, (key, _) in enumerate(headers) if key == name]
        for index in reversed(found[1:]):
            del headers[index]
        if found:
            headers[found[0]] = (name, value)
        else:
            headers.append((name, value))
    return PortalResponse(answer.status, answer.reason, tuple(headers), answer.body)
