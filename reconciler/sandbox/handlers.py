"""Route handlers of the sandbox: the public contract plus the ``/_sandbox/`` admin routes.

A handler takes one routed ``Call`` and returns a ``PortalResponse``, or raises
``content.Problem``; it knows no web framework (``portal`` routes to it, keys and faults
come first there).

Each conditional write reads the resource, checks If-Match, decides and commits inside one
store transaction (``BEGIN IMMEDIATE``: compare-and-swap), so no other writer, on this event
loop or in another process on the same SQLite file, can commit between the check and the
write: of two writes with the same ETag one wins and the other gets 412.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from reconciler.sandbox.content import (
    MAX_LOCALES_PER_EVENT,
    Problem,
    apply_settings_patch,
    check_event,
    check_locale_tag,
    default_template,
    sniff_image,
    validate_template,
)
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.messages import PortalRequest, PortalResponse, json_response, response
from reconciler.sandbox.state import SandboxState
from reconciler.sandbox.store import LocaleDelete, LocaleWrite, SettingsWrite, TemplateWrite

LOGO_PATH = "/v1/portal/settings/branding/logo"
MERGE_PATCH = "application/merge-patch+json"
#: The largest multipart part a front end should parse for the logo upload (the logo limit
#: itself, 512 KiB, is checked here, with a clear 422).
FORM_PART_LIMIT = 4 * 1024 * 1024


class Call:
    """One request routed to a handler: the request, the path's parameters, the sandbox,
    and whose portal it is (``tenant`` = hash of the key, ``mode`` = test | live; both
    empty on the admin routes, which belong to no tenant).

    A plain class, not a dataclass: one fewer class to generate when the embedded target
    starts."""

    __slots__ = ("mode", "params", "request", "state", "tenant")

    def __init__(
        self,
        request: PortalRequest,
        params: Mapping[str, str],
        state: SandboxState,
        tenant: str = "",
        mode: str = "",
    ) -> None:
        self.request = request
        self.params = params
        self.state = state
        self.tenant = tenant
        self.mode = mode


def etag_of(representation: Mapping[str, Any]) -> str:
    """Strong ETag: the quoted sha256 (128 bits) of the stored representation."""
    canonical = json.dumps(representation, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32] + '"'


def _tenant(call: Call) -> tuple[str, str]:
    return call.tenant, call.mode


def _settings_body(call: Call, stored: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(stored))
    logo = body["branding"].get("logo")
    if logo is not None:
        base = call.request.base_url.rstrip("/")
        body["branding"]["logo"] = {"url": f"{base}{LOGO_PATH}/{logo['sha256']}", **logo}
    return body


def _settings_response(call: Call, stored: Mapping[str, Any]) -> PortalResponse:
    return json_response(_settings_body(call, stored), headers={"ETag": etag_of(stored)})


def _template_response(template: Mapping[str, Any]) -> PortalResponse:
    return json_response(dict(template), headers={"ETag": etag_of(template)})


def _media_type(call: Call) -> str:
    return call.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _require_media_type(call: Call, *allowed: str) -> None:
    if _media_type(call) not in allowed:
        raise Problem(
            415,
            "unsupported_media_type",
            "Unsupported Media Type",
            f"send the body as {' or '.join(allowed)}",
            param="Content-Type",
        )


def _if_match(call: Call, resource: str) -> str:
    value = call.request.headers.get("if-match", "").strip()
    if not value:
        raise Problem(
            428,
            "precondition_required",
            "Precondition Required",
            f"writes to {resource} need an If-Match header with the ETag of the last read (or *)",
            param="If-Match",
        )
    return value


def _check_precondition(if_match: str, current: str, resource: str) -> None:
    if if_match == "*":
        return
    if current not in (tag.strip() for tag in if_match.split(",")):
        raise Problem(
            412,
            "precondition_failed",
            "Precondition Failed",
            f"{resource} has changed since it was read (its ETag is no longer {if_match}); "
            "read it again",
            param="If-Match",
        )


def _json(call: Call) -> Any:
    try:
        return json.loads(call.request.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise Problem(
            400, "invalid_json", "Bad Request", f"the body is not valid JSON: {exc}"
        ) from exc


# --- settings -----------------------------------------------------------------------------


async def get_settings(call: Call) -> PortalResponse:
    tenant, mode = _tenant(call)
    return _settings_response(call, call.state.store.settings(tenant, mode))


async def patch_settings(call: Call) -> PortalResponse:
    _require_media_type(call, MERGE_PATCH)
    if_match = _if_match(call, "settings")
    patch = _json(call)
    tenant, mode = _tenant(call)

    def decide(current: dict[str, Any]) -> SettingsWrite | None:
        _check_precondition(if_match, etag_of(current), "settings")
        wanted = apply_settings_patch(current, patch)
        unchanged = {k: v for k, v in current.items() if k != "updated_at"}
        return None if wanted == unchanged else SettingsWrite(wanted)

    return _settings_response(call, call.state.store.update_settings(tenant, mode, decide))


async def put_logo(call: Call) -> PortalResponse:
    _require_media_type(call, "multipart/form-data")
    if_match = _if_match(call, "settings")
    files = {} if call.request.form is None else await call.request.form()
    upload = files.get("file")
    if upload is None:
        raise Problem(
            422,
            "missing_file",
            "Unprocessable Content",
            "send the logo as the multipart part named 'file'",
            param="file",
        )
    data = upload.data
    tenant, mode = _tenant(call)
    sha = hashlib.sha256(data).hexdigest()

    def decide(current: dict[str, Any]) -> SettingsWrite | None:
        _check_precondition(if_match, etag_of(current), "settings")
        content_type, width, height = sniff_image(data)
        logo = current["branding"].get("logo")
        if logo is not None and logo["sha256"] == sha:
            return None
        current["branding"]["logo"] = {
            "sha256": sha,
            "content_type": content_type,
            "width": width,
            "height": height,
            "size": len(data),
        }
        return SettingsWrite(current, logo_blob=(sha, content_type, data))

    return _settings_response(call, call.state.store.update_settings(tenant, mode, decide))


async def delete_logo(call: Call) -> PortalResponse:
    if_match = _if_match(call, "settings")
    tenant, mode = _tenant(call)

    def decide(current: dict[str, Any]) -> SettingsWrite | None:
        _check_precondition(if_match, etag_of(current), "settings")
        if current["branding"].get("logo") is None:
            return None
        current["branding"]["logo"] = None
        return SettingsWrite(current)

    return _settings_response(call, call.state.store.update_settings(tenant, mode, decide))


async def get_logo_file(call: Call) -> PortalResponse:
    tenant, mode = _tenant(call)
    store = call.state.store
    store.settings(tenant, mode)
    blob = store.logo_blob(tenant, call.params["sha256"])
    if blob is None:
        raise Problem(404, "not_found", "Not Found", "no logo with that sha256", param="sha256")
    content_type, data = blob
    return response(
        200, data, media_type=content_type, headers={"Cache-Control": "max-age=31536000"}
    )


# --- templates ----------------------------------------------------------------------------


def _with_etag(template: Mapping[str, Any]) -> dict[str, Any]:
    return {**template, "etag": etag_of(template)}


async def list_templates(call: Call) -> PortalResponse:
    """Every template with its translations, each with its own ETag: a plan's one read."""
    tenant, mode = _tenant(call)
    store = call.state.store
    templates = store.templates(tenant, mode)
    by_event: dict[str, list[dict[str, Any]]] = {}
    for stored in store.locales(tenant, mode):
        item = {k: v for k, v in stored.items() if k != "event"}
        by_event.setdefault(stored["event"], []).append({**item, "etag": etag_of(stored)})
    return json_response(
        {"data": [{**_with_etag(t), "locales": by_event.get(t["event"], [])} for t in templates]}
    )


async def get_template(call: Call) -> PortalResponse:
    event = call.params["event"]
    check_event(event)
    tenant, mode = _tenant(call)
    return _template_response(call.state.store.template(tenant, mode, event))


async def put_template(call: Call) -> PortalResponse:
    event = call.params["event"]
    check_event(event)
    _require_media_type(call, "application/json")
    if_match = _if_match(call, f"templates/{event}")
    payload = _json(call)
    tenant, mode = _tenant(call)

    def decide(current: dict[str, Any]) -> TemplateWrite | None:
        _check_precondition(if_match, etag_of(current), f"templates/{event}")
        subject, body = validate_template(payload)
        if not current["is_default"] and (current["subject"], current["body"]) == (subject, body):
            return None
        return TemplateWrite(subject, body, is_default=False)

    return _template_response(call.state.store.update_template(tenant, mode, event, decide))


async def delete_template(call: Call) -> PortalResponse:
    event = call.params["event"]
    check_event(event)
    if_match = _if_match(call, f"templates/{event}")
    tenant, mode = _tenant(call)

    def decide(current: dict[str, Any]) -> TemplateWrite | None:
        _check_precondition(if_match, etag_of(current), f"templates/{event}")
        if current["is_default"]:
            return None
        subject, body = default_template(event)
        return TemplateWrite(subject, body, is_default=True)

    return _template_response(call.state.store.update_template(tenant, mode, event, decide))


# --- translations of a template ----------------------------------------------------------
#
# Each translation is its own resource with its own strong ETag. A PUT creates it (with
# ``If-None-Match: *``) or replaces it (with ``If-Match``); a DELETE removes it, so the
# customers of that language get the event's default template again.


def _locale_target(call: Call) -> tuple[str, str, str]:
    """(event, canonical tag, resource name) of the request path; 404/422 when bad."""
    event = call.params["event"]
    check_event(event)
    tag = check_locale_tag(call.params["tag"])
    return event, tag, f"templates/{event}/locales/{tag}"


def _locale_response(stored: Mapping[str, Any], status: int = 200) -> PortalResponse:
    return json_response(dict(stored), status, headers={"ETag": etag_of(stored)})


def _check_locale_preconditions(
    call: Call, current: Mapping[str, Any] | None, resource: str
) -> None:
    """RFC 9110 If-Match / If-None-Match against a resource that may not exist."""
    if_match = call.request.headers.get("if-match", "").strip()
    if_none_match = call.request.headers.get("if-none-match", "").strip()
    if not if_match and not if_none_match:
        raise Problem(
            428,
            "precondition_required",
            "Precondition Required",
            f"writes to {resource} need If-Match with the ETag of the last read (or *), or "
            "If-None-Match: * to create it",
            param="If-Match",
        )
    etag = None if current is None else etag_of(current)
    tags = {t.strip() for t in if_match.split(",")} if if_match else set()
    if if_match and (etag is None or ("*" not in tags and etag not in tags)):
        state = "does not exist" if etag is None else f"has changed (its ETag is not {if_match})"
        raise Problem(
            412,
            "precondition_failed",
            "Precondition Failed",
            f"{resource} {state}; read it again",
            param="If-Match",
        )
    nones = {t.strip() for t in if_none_match.split(",")} if if_none_match else set()
    if etag is not None and ("*" in nones or etag in nones):
        raise Problem(
            412,
            "precondition_failed",
            "Precondition Failed",
            f"{resource} already exists (If-None-Match: {if_none_match}); read it again",
            param="If-None-Match",
        )


async def get_locale(call: Call) -> PortalResponse:
    event, tag, resource = _locale_target(call)
    tenant, mode = _tenant(call)
    for stored in call.state.store.locales(tenant, mode, event):
        if stored["locale"] == tag:
            return _locale_response(stored)
    raise Problem(
        404,
        "locale_not_found",
        "Not Found",
        f"{resource}: the template of {event} has no {tag} translation",
        param="tag",
    )


async def put_locale(call: Call) -> PortalResponse:
    event, tag, resource = _locale_target(call)
    _require_media_type(call, "application/json")
    payload = _json(call)
    tenant, mode = _tenant(call)
    store = call.state.store
    created = False

    def decide(current: dict[str, Any] | None) -> LocaleWrite | None:
        nonlocal created
        _check_locale_preconditions(call, current, resource)
        subject, body = validate_template(payload)
        if current is None:
            if store.count_locales(tenant, event) >= MAX_LOCALES_PER_EVENT:
                raise Problem(
                    422,
                    "too_many_locales",
                    "Unprocessable Content",
                    f"the template of {event} already has {MAX_LOCALES_PER_EVENT} translations",
                    param="tag",
                )
            created = True
        elif (current["subject"], current["body"]) == (subject, body):
            return None
        return LocaleWrite(subject, body)

    stored = store.update_locale(tenant, mode, event, tag, decide)
    assert stored is not None
    return _locale_response(stored, 201 if created else 200)


async def delete_locale(call: Call) -> PortalResponse:
    event, tag, resource = _locale_target(call)
    if not call.request.headers.get("if-match", "").strip():
        raise Problem(
            428,
            "precondition_required",
            "Precondition Required",
            f"deleting {resource} needs an If-Match header with the ETag of the last read (or *)",
            param="If-Match",
        )
    tenant, mode = _tenant(call)

    def decide(current: dict[str, Any] | None) -> LocaleDelete:
        _check_locale_preconditions(call, current, resource)
        return LocaleDelete()

    call.state.store.update_locale(tenant, mode, event, tag, decide)
    return response(204)


# --- admin (sandbox only, not part of the contract) ---------------------------------------


async def admin_requests(call: Call) -> PortalResponse:
    state = call.state
    if call.request.method == "DELETE":
        state.requests.clear()
        return response(204)
    return json_response({"data": state.requests})


async def admin_faults(call: Call) -> PortalResponse:
    state = call.state
    if call.request.method == "PUT":
        try:
            state.faults.replace(Faults.from_json(json.loads(call.request.body or b"{}")))
        except (ValueError, RecursionError) as exc:
            return json_response({"error": str(exc)}, 400)
    return json_response(state.faults.faults.to_json())


async def admin_health(call: Call) -> PortalResponse:
    return json_response({"status": "ok"})


Handler = Callable[[Call], Awaitable[PortalResponse]]

ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/v1/portal/settings", get_settings, ["GET"]),
    ("/v1/portal/settings", patch_settings, ["PATCH"]),
    (LOGO_PATH, put_logo, ["PUT"]),
    (LOGO_PATH, delete_logo, ["DELETE"]),
    (LOGO_PATH + "/{sha256}", get_logo_file, ["GET"]),
    ("/v1/notifications/templates", list_templates, ["GET"]),
    ("/v1/notifications/templates/{event}", get_template, ["GET"]),
    ("/v1/notifications/templates/{event}", put_template, ["PUT"]),
    ("/v1/notifications/templates/{event}", delete_template, ["DELETE"]),
    ("/v1/notifications/templates/{event}/locales/{tag}", get_locale, ["GET"]),
    ("/v1/notifications/templates/{event}/locales/{tag}", put_locale, ["PUT"]),
    ("/v1/notifications/templates/{event}/locales/{tag}", delete_locale, ["DELETE"]),
    ("/_sandbox/requests", admin_requests, ["GET", "DELETE"]),
    ("/_sandbox/faults", admin_faults, ["GET", "PUT"]),
    ("/_sandbox/health", admin_health, ["GET"]),
]
