"""Translate API error answers into the project's exceptions (``httpwire`` does the same for
httpx's failures).

Nothing above ``reconciler.api`` ever sees an httpx type. No message
built here contains the API key: it only ever travels in a request header, and request
headers are never part of a message. Text the server chose (problem+json ``detail``,
``request_id``, a reason phrase) is escaped with ``textsafe.safe_line`` and cut short before
it is quoted, so an answer cannot move the cursor, rewrite the line or flood the terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reconciler.api.bounds import Bounds, NotJson, TooDeep, load_json
from reconciler.api.routes import problem_fields
from reconciler.errors import (
    ApiAuthError,
    ApiError,
    ApiRejected,
    ApiUnreachable,
    MalformedAnswer,
    PreconditionFailed,
    RateLimited,
)
from reconciler.textsafe import safe_line

UNREACHABLE_HINT = "check PORTAL_API_URL and your network"
CONTRACT_HINT = (
    "the server does not answer like the portal API; check PORTAL_API_URL, and if it is "
    "right, report it with the request id"
)
#: The longest piece of server text quoted in a message.
QUOTE_LIMIT = 200


def quote_server(text: str, limit: int = QUOTE_LIMIT) -> str:
    """Server-supplied text made safe for one line: controls escaped, length capped."""
    shown = safe_line(text[:limit])
    return f"{shown}..." if len(text) > limit else shown


@dataclass(frozen=True)
class Answer:
    """A complete answer, read within the bounds: what the client works with after the wire.

    ``request`` names it for messages (``GET /v1/portal/settings``)."""

    request: str
    status: int
    reason: str
    #: header names lower-case
    headers: Mapping[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def request_id(self) -> str | None:
        value = self.header("Request-Id")
        return quote_server(value, 100) if value else None

    def json(self, bounds: Bounds) -> Any:
        """The body as JSON, nesting bounded; ``MalformedAnswer`` if it is not JSON."""
        try:
            return load_json(self.content, max_depth=bounds.max_depth)
        except (NotJson, TooDeep) as exc:
            raise self.malformed(str(exc)) from None

    def malformed(self, problem: str, *, field: str | None = None) -> MalformedAnswer:
        return MalformedAnswer(
            f"the portal's answer to {self.request} is malformed: {problem}",
            request=self.request,
            field=field,
            status=self.status,
            request_id=self.request_id,
            hint=CONTRACT_HINT,
        )


def unreachable(where: str, reason: str, *, hint: str = UNREACHABLE_HINT) -> ApiUnreachable:
    return ApiUnreachable(f"cannot reach {where}: {reason}", hint=hint)


def _problem(answer: Answer, bounds: Bounds) -> Mapping[str, str]:
    try:
        return problem_fields(load_json(answer.content, max_depth=bounds.max_depth))
    except (NotJson, TooDeep):
        return {}


def error_for_response(
    answer: Answer,
    *,
    where: str,
    resource: str,
    key_env: str | None,
    attempts: int,
    bounds: Bounds,
) -> ApiError:
    """The exception for a non-2xx answer that will not be retried any more."""
    status = answer.status
    problem = _problem(answer, bounds)
    detail = quote_server(problem.get("detail") or answer.reason or "no detail")
    code = problem.get("code")
    param = problem.get("param")
    code = quote_server(code, 60) if code else None
    param = quote_server(param, 100) if param else None
    raw_id = problem.get("request_id")
    request_id = quote_server(raw_id, 100) if raw_id else answer.request_id
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "param": param,
        "request_id": request_id,
    }
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if status in (401, 403):
        hint = (
            f"check {key_env}" if key_env else "the embedded sandbox accepts only its built-in key"
        )
        return ApiAuthError(
            f"the API key was rejected by {where} (HTTP {status}: {detail})", hint=hint, **common
        )
    if status == 412:
        return PreconditionFailed(
            f"{resource} changed on {where} since it was read (HTTP 412)",
            resource=resource,
            status=status,
            code=code,
            param=param,
            request_id=request_id,
        )
    if status in (400, 422):
        what = param or resource
        return ApiRejected(
            f"{where} rejected {what}: {detail}",
            hint="fix the value in portal.yaml and run `portalctl plan` again",
            **common,
        )
    if status == 429:
        return RateLimited(
            f"{where} kept answering 429 Too Many Requests{tries}",
            hint="wait a minute and run the command again; fewer parallel runs with the same "
            "key help",
            **common,
        )
    if status >= 500:
        # The server is failing, not refusing: like an unreachable API, try again later.
        return ApiUnreachable(
            f"{where} failed with HTTP {status} on {answer.request}{tries}: {detail}",
            hint="try again later; if it persists, report it with the request id",
            **common,
        )
    if (status == 404 and resource != "logo") or 300 <= status < 400:
        # The contract's paths always exist: a 404 (or a redirect) means the base URL is not
        # the API's root, typically copied with its /v1 suffix or pointing at a website.
        path = urlsplit(where).path.rstrip("/")
        fix = (
            f"remove {path} from the API URL (use {where[: len(where) - len(path)]})"
            if path
            else "set PORTAL_API_URL to the API's base URL, e.g. https://api.4geeks.io"
        )
        return ApiUnreachable(
            f"{where} answered HTTP {status} to {answer.request}: this is not the portal "
            f"API's base URL",
            hint=f"{fix}; the client adds the /v1/... paths itself",
            **common,
        )
    return ApiError(
        f"{where} answered HTTP {status} to {answer.request}: {detail}",
        hint="this looks like a portalctl bug or an API change; please report it",
        **common,
    )
