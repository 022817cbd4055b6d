"""``PortalClient``: one portal's API over a shared connection pool (see ``session``).

Every request carries the key of its portal in ``X-Api-Key``; the key is never logged.
Reads are retried on transport failures and 429/500/502/503/504 (reads are idempotent).
Writes are conditional (``If-Match``) and, when the answer to a write is lost after it was
sent, the client does not resend blindly: it re-reads the resource and resends only if it is
unchanged, returns the re-read if it already holds what was written, and otherwise raises
``WriteOutcomeUnknown``.

Every answer is bounded (``bounds``: size, overall deadline, JSON depth) and checked against
the contract's shapes (``shapes``) before anything uses it; a bad answer is a
``MalformedAnswer`` naming the request and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from reconciler import __version__
from reconciler.api import routes
from reconciler.api.bounds import Bounds
from reconciler.api.errors import (
    CONTRACT_HINT,
    Answer,
    error_for_response,
    quote_server,
    unreachable,
)
from reconciler.api.retry import RetryPolicy, parse_retry_after
from reconciler.api.runtime import Runtime
from reconciler.api.shapes import ShapeError, check_etag
from reconciler.api.wire import (
    AnswerTooLarge,
    Files,
    Outgoing,
    TransportFailure,
    UndecodableAnswer,
    Wire,
)
from reconciler.errors import MalformedAnswer, ReconcilerError, WriteOutcomeUnknown
from reconciler.logs import get_logger
from reconciler.model import LiveState, LiveTemplate, LiveTranslation, Target, translation_resource

T = TypeVar("T")
log = get_logger("reconciler.api")

#: Sent with every request.
DEFAULT_HEADERS = {"User-Agent": f"portalctl/{__version__}", "Accept": "application/json"}


class _Unchanged:
    """Verification outcome: the resource still has the ETag the write was based on."""


UNCHANGED = _Unchanged()


class _AnswerLost(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PortalClient:
    """One portal's API: reads, conditional writes, errors as ``ReconcilerError``s."""

    def __init__(self, target: Target, wire: Wire, retry: RetryPolicy, runtime: Runtime) -> None:
        self.target = target
        self._wire = wire
        self._retry = retry
        self._sleep = runtime.sleep if retry.sleep is None else retry.sleep
        self._runtime = runtime
        self._where = target.describe()
        self._bounds = Bounds.from_env()

    # --- reads ----------------------------------------------------------------------------

    async def read_state(self) -> LiveState:
        """Settings and every template, read concurrently."""
        results = await self._runtime.gather(self.get_settings(), self.list_templates())
        settings_result, templates_result = results
        if isinstance(settings_result, BaseException):
            raise settings_result
        if isinstance(templates_result, BaseException):
            raise templates_result
        settings, etag = settings_result
        return LiveState(settings=settings, settings_etag=etag, templates=templates_result)

    async def get_settings(self) -> tuple[dict[str, Any], str]:
        answer = await self._read("GET", routes.SETTINGS_PATH, routes.SETTINGS_RESOURCE)
        return self._settings(answer)

    async def list_templates(self) -> dict[str, LiveTemplate]:
        answer = await self._read("GET", routes.TEMPLATES_PATH, "templates")
        return self._parse(answer, routes.parse_template_list)

    async def get_template(self, event: str) -> LiveTemplate:
        resource = routes.template_resource(event)
        answer = await self._read("GET", routes.template_path(event), resource)
        return self._template(answer, event)

    async def get_logo_file(self, logo: Mapping[str, Any]) -> bytes:
        """Download the live logo (``settings.branding.logo``), checked against its sha256.

        The key is only sent when the logo URL is on the API's own origin; a logo served
        from another host (a CDN) is fetched without it.
        """
        sha = str(logo.get("sha256") or "")
        url = str(logo.get("url") or routes.logo_file_path(sha))
        same_origin = routes.same_origin(url, self._wire.base_url)
        answer = await self._read("GET", url, "logo", auth=same_origin)
        data = answer.content
        if hashlib.sha256(data).hexdigest() != sha:
            raise MalformedAnswer(
                f"the logo downloaded from {self._where} ({answer.request}) does not match its "
                f"sha256 {sha}",
                request=answer.request,
                status=answer.status,
                request_id=answer.request_id,
                hint="run the command again; if it persists, re-upload the logo",
            )
        return data

    # --- writes ---------------------------------------------------------------------------

    async def patch_settings(
        self, patch: Mapping[str, Any], *, if_match: str
    ) -> tuple[dict[str, Any], str]:
        """Merge-patch (RFC 7396) the settings; returns the new (body, etag)."""

        async def verify() -> tuple[dict[str, Any], str] | _Unchanged | None:
            body, etag = await self.get_settings()
            if etag == if_match:
                return UNCHANGED
            return (body, etag) if routes.settings_match(body, patch) else None

        return await self._write(
            "PATCH",
            routes.SETTINGS_PATH,
            routes.SETTINGS_RESOURCE,
            if_match=if_match,
            parse=self._settings,
            verify=verify,
            content=json.dumps(dict(patch)).encode("utf-8"),
            headers={"Content-Type": routes.MERGE_PATCH},
        )

    async def put_logo(
        self, data: bytes, *, content_type: str, filename: str, if_match: str
    ) -> tuple[dict[str, Any], str]:
        """Upload the logo (If-Match is the SETTINGS ETag); returns the new settings."""
        sha = hashlib.sha256(data).hexdigest()

        async def verify() -> tuple[dict[str, Any], str] | _Unchanged | None:
            body, etag = await self.get_settings()
            if etag == if_match:
                return UNCHANGED
            return (body, etag) if routes.logo_sha256(body) == sha else None

        return await self._write(
            "PUT",
            routes.LOGO_PATH,
            routes.SETTINGS_RESOURCE,
            if_match=if_match,
            parse=self._settings,
            verify=verify,
            files={routes.LOGO_FORM_FIELD: (filename, data, content_type)},
        )

    async def delete_logo(self, *, if_match: str) -> tuple[dict[str, Any], str]:
        """Reset the logo to none; returns the new settings."""

        async def verify() -> tuple[dict[str, Any], str] | _Unchanged | None:
            body, etag = await self.get_settings()
            if etag == if_match:
                return UNCHANGED
            return (body, etag) if routes.logo_sha256(body) is None else None

        return await self._write(
            "DELETE",
            routes.LOGO_PATH,
            routes.SETTINGS_RESOURCE,
            if_match=if_match,
            parse=self._settings,
            verify=verify,
        )

    async def put_template(
        self, event: str, *, subject: str, body: str, if_match: str
    ) -> LiveTemplate:
        resource = routes.template_resource(event)

        async def verify() -> LiveTemplate | _Unchanged | None:
            live = await self.get_template(event)
            if live.etag == if_match:
                return UNCHANGED
            done = not live.is_default and (live.subject, live.body) == (subject, body)
            return live if done else None

        return await self._write(
            "PUT",
            routes.template_path(event),
            resource,
            if_match=if_match,
            parse=lambda answer: self._template(answer, event),
            verify=verify,
            content=_json(routes.template_request(subject, body)),
            headers={"Content-Type": "application/json"},
        )

    async def delete_template(self, event: str, *, if_match: str) -> LiveTemplate:
        """Reset a template to the portal's default content; returns it."""
        resource = routes.template_resource(event)

        async def verify() -> LiveTemplate | _Unchanged | None:
            live = await self.get_template(event)
            if live.etag == if_match:
                return UNCHANGED
            return live if live.is_default else None

        return await self._write(
            "DELETE",
            routes.template_path(event),
            resource,
            if_match=if_match,
            parse=lambda answer: self._template(answer, event),
            verify=verify,
        )

    # --- translations of a template (issue 13) --------------------------------------------

    async def _live_translation(self, event: str, locale: str) -> LiveTranslation | None:
        """The translation as listed now (None: there is none); used to settle lost answers."""
        template = (await self.list_templates()).get(event)
        return None if template is None else template.locales.get(locale)

    async def put_translation(
        self, event: str, locale: str, *, subject: str, body: str, if_match: str | None
    ) -> LiveTranslation:
        """Replace a translation (``if_match``: its ETag) or create it (``None``: sent with
        ``If-None-Match: *``, so a translation created meanwhile by someone else is a 412)."""
        resource = translation_resource(event, locale)

        async def verify() -> LiveTranslation | _Unchanged | None:
            live = await self._live_translation(event, locale)
            if live is None:
                return UNCHANGED if if_match is None else None
            if live.etag == if_match:
                return UNCHANGED
            return live if (live.subject, live.body) == (subject, body) else None

        def parse(answer: Answer) -> LiveTranslation:
            etag = self._etag(answer)
            return self._parse(answer, lambda data: routes.parse_translation(event, data, etag))

        return await self._write(
            "PUT",
            routes.translation_path(event, locale),
            resource,
            if_match=if_match,
            parse=parse,
            verify=verify,
            content=_json(routes.template_request(subject, body)),
            headers={"Content-Type": "application/json"},
        )

    async def delete_translation(self, event: str, locale: str, *, if_match: str) -> str:
        """Remove a translation (its customers get the event's template); returns its name."""
        resource = translation_resource(event, locale)

        async def verify() -> str | _Unchanged | None:
            live = await self._live_translation(event, locale)
            if live is None:
                return resource
            return UNCHANGED if live.etag == if_match else None

        return await self._write(
            "DELETE",
            routes.translation_path(event, locale),
            resource,
            if_match=if_match,
            parse=lambda response: resource,
            verify=verify,
        )

    # --- plumbing -------------------------------------------------------------------------

    async def _read(self, method: str, path: str, resource: str, *, auth: bool = True) -> Answer:
        try:
            answer, attempts = await self._exchange(method, path, resend_if_sent=True, auth=auth)
        except _AnswerLost as lost:  # pragma: no cover - reads always resend
            raise unreachable(self._where, lost.reason) from lost
        return self._check(answer, resource, attempts)

    async def _write(
        self,
        method: str,
        path: str,
        resource: str,
        *,
        if_match: str | None,
        parse: Callable[[Answer], T],
        verify: Callable[[], Awaitable[T | _Unchanged | None]],
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> T:
        condition = (
            routes.if_none_match_any() if if_match is None else routes.if_match_header(if_match)
        )
        all_headers = {**(headers or {}), **condition}
        uncertain = False
        for _ in range(self._retry.max_attempts):
            try:
                answer, attempts = await self._exchange(
                    method, path, resend_if_sent=False, headers=all_headers, **kwargs
                )
            except _AnswerLost as lost:
                outcome = await self._settle(method, path, resource, lost.reason, verify)
                if isinstance(outcome, _Unchanged):
                    uncertain = True
                    continue  # not applied: resending is safe
                return outcome
            if answer.status == 412 and (uncertain or attempts > 1):
                # An earlier attempt may have been applied before its answer got lost; if
                # the resource now holds exactly what we wrote, that attempt was ours.
                try:
                    mine = await verify()
                except ReconcilerError:
                    mine = None
                if mine is not None and not isinstance(mine, _Unchanged):
                    log.debug("api.write_verified", resource=resource, applied=True)
                    return mine
            checked = self._check(answer, resource, attempts)
            try:
                return parse(checked)
            except MalformedAnswer as bad:
                # The server accepted the write (2xx) but its answer is unusable: the change
                # was probably made, so "nothing was written" would be wrong.
                raise WriteOutcomeUnknown(
                    f"{bad.message}; the write was accepted (HTTP {answer.status}), so it may or "
                    "may not have been applied",
                    request=answer.request,
                    hint="run `portalctl plan` to see the portal's current state; " + CONTRACT_HINT,
                ) from bad
        raise unreachable(
            self._where,
            f"the connection kept dropping during {method} {resource}; it was not applied",
        )

    async def _settle(
        self,
        method: str,
        path: str,
        resource: str,
        reason: str,
        verify: Callable[[], Awaitable[T | _Unchanged | None]],
    ) -> T | _Unchanged:
        """After a lost answer: find out from a re-read whether the write happened."""
        request = _request_name(method, path, self._wire.base_url)
        maybe = f"the write may or may not have been applied ({method} {resource})"
        hint = "run `portalctl plan` to see the portal's current state, then apply again"
        try:
            outcome = await verify()
        except ReconcilerError as exc:
            raise WriteOutcomeUnknown(
                f"lost the answer from {self._where} ({reason}) and could not re-read "
                f"{resource}: {exc.message}; {maybe}",
                request=request,
                hint=hint,
            ) from exc
        if outcome is None:
            raise WriteOutcomeUnknown(
                f"lost the answer from {self._where} ({reason}) and {resource} has since "
                f"changed in another way; {maybe}",
                request=request,
                hint=hint,
            )
        log.debug("api.write_verified", resource=resource, applied=outcome is not UNCHANGED)
        return outcome

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        resend_if_sent: bool,
        auth: bool = True,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: Files | None = None,
    ) -> tuple[Answer, int]:
        """Send with retries; returns the final answer and the number of attempts.

        Reads (``resend_if_sent``) are also retried on 500: they are idempotent. An attempt
        that overruns the deadline is not retried: a server that slow would only be slow
        again, and the user should hear it now."""
        policy = self._retry
        statuses = policy.read_retry_statuses if resend_if_sent else policy.retry_statuses
        sent_headers = {**DEFAULT_HEADERS, **(headers or {})}
        if auth:
            sent_headers.update(routes.auth_headers(self.target.api_key))
        request = _request_name(method, path, self._wire.base_url)
        bounds = self._bounds
        out = Outgoing(
            method,
            path,
            sent_headers,
            content=content,
            files=files,
            max_bytes=bounds.max_bytes,
            deadline=bounds.deadline,
        )
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                raw = await self._wire.send(out)
            except TransportFailure as failure:
                log.debug(
                    "api.request",
                    method=method,
                    path=path,
                    status=None,
                    attempt=attempt,
                    error=failure.reason,
                )
                if failure.sent and not resend_if_sent:
                    raise _AnswerLost(failure.reason) from failure
                delay = policy.backoff(attempt)
                if not policy.may_retry(attempt, started, delay):
                    raise unreachable(self._where, failure.reason) from failure
                await self._sleep(delay)
                continue
            except TimeoutError:
                reason = (
                    f"no complete answer to {request} within {bounds.deadline:g} s "
                    "(the server was too slow or kept the connection open)"
                )
                log.debug("api.request", method=method, path=path, status=None, error=reason)
                if not resend_if_sent:
                    raise _AnswerLost(reason) from None
                raise unreachable(self._where, reason) from None
            except AnswerTooLarge as big:
                raise self._too_large(request, big.declared) from None
            except UndecodableAnswer:
                raise MalformedAnswer(
                    f"the portal's answer to {request} is malformed: its body could not be "
                    "decoded (Content-Encoding)",
                    request=request,
                    hint=CONTRACT_HINT,
                ) from None
            answer = Answer(request, raw.status, raw.reason, raw.headers, raw.content)
            log.debug(
                "api.request",
                method=method,
                path=path,
                status=answer.status,
                attempt=attempt,
            )
            if answer.status in statuses:
                retry_after = parse_retry_after(answer.header("Retry-After"))
                delay = policy.delay(attempt, retry_after)
                if policy.may_retry(attempt, started, delay):
                    await self._sleep(delay)
                    continue
            return answer, attempt

    def _too_large(self, request: str, declared: int | None) -> MalformedAnswer:
        limit = _size(self._bounds.max_bytes)
        what = (
            f"it declares {declared} bytes (Content-Length)"
            if declared is not None
            else f"its body ran past {limit}; stopped reading"
        )
        return MalformedAnswer(
            f"the portal's answer to {request} is too large: {what}; the limit is {limit}",
            request=request,
            hint=CONTRACT_HINT,
        )

    def _check(self, answer: Answer, resource: str, attempts: int) -> Answer:
        if answer.is_success:
            return answer
        raise error_for_response(
            answer,
            where=self._where,
            resource=resource,
            key_env=self.target.api_key_env if not self.target.is_sandbox else None,
            attempts=attempts,
            bounds=self._bounds,
        )

    def _parse(self, answer: Answer, parse: Callable[[Any], T]) -> T:
        body = answer.json(self._bounds)
        try:
            return parse(body)
        except ShapeError as exc:
            raise answer.malformed(str(exc), field=exc.field) from None

    def _etag(self, answer: Answer) -> str:
        try:
            return check_etag(answer.header("ETag"))
        except ShapeError as exc:
            raise answer.malformed(str(exc), field="ETag") from None

    def _settings(self, answer: Answer) -> tuple[dict[str, Any], str]:
        body = self._parse(answer, routes.parse_settings)
        return body, self._etag(answer)

    def _template(self, answer: Answer, event: str) -> LiveTemplate:
        etag = self._etag(answer)
        return self._parse(answer, lambda body: routes.parse_template(body, etag, event=event))


def _json(body: Any) -> bytes:
    """A JSON request body (compact, UTF-8)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _request_name(method: str, path: str, base_url: str) -> str:
    """``GET /v1/portal/settings``: how messages name a request, by the path it was sent to
    (after the base URL's own path, so a base URL ending in /v1 shows as /v1/v1/...)."""
    parts = urlsplit(path)
    base_path = urlsplit(base_url).path
    sent = parts.path if parts.scheme else base_path.rstrip("/") + "/" + path.lstrip("/")
    return f"{method} {quote_server(sent, 120)}"


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count % (1024 * 1024) == 0 else f"{count} bytes"
