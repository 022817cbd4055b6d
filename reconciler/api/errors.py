"""Translate httpx failures and API error answers into the project's exceptions.

This is the boundary: nothing above ``reconciler.api`` ever sees an httpx type. No message
built here contains the API key: it only ever travels in a request header, and request
headers are never part of a message.
"""

from __future__ import annotations

from typing import Any

import httpx

from reconciler.api.routes import problem_fields
from reconciler.errors import (
    ApiAuthError,
    ApiError,
    ApiRejected,
    ApiUnreachable,
    PreconditionFailed,
    RateLimited,
)

#: Failures that happen before any byte of the request left: always safe to retry.
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

UNREACHABLE_HINT = "check PORTAL_API_URL and your network"


def describe_transport_error(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting timed out after {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        reason = str(exc) or "connection failed"
        return f"connection failed ({reason})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return "the connection was dropped before a complete response"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def unreachable(where: str, reason: str, *, hint: str = UNREACHABLE_HINT) -> ApiUnreachable:
    return ApiUnreachable(f"cannot reach {where}: {reason}", hint=hint)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def error_for_response(
    response: httpx.Response,
    *,
    where: str,
    resource: str,
    key_env: str | None,
    attempts: int,
) -> ApiError:
    """The exception for a non-2xx answer that will not be retried any more."""
    status = response.status_code
    problem = problem_fields(_json_or_none(response))
    detail = str(problem.get("detail") or response.reason_phrase or "no detail")
    code = problem.get("code")
    param = problem.get("param")
    request_id = problem.get("request_id") or response.headers.get("Request-Id")
    common: dict[str, Any] = {
        "status": status,
        "code": code,
        "param": param,
        "request_id": request_id,
    }
    method = response.request.method
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
        return ApiError(
            f"{where} failed with HTTP {status} on {method} {resource}{tries}: {detail}",
            hint="try again later; if it persists, report it with the request id",
            **common,
        )
    return ApiError(
        f"{where} answered HTTP {status} to {method} {resource}: {detail}",
        hint="this looks like a portalctl bug or an API change; please report it",
        **common,
    )
