"""Every path, header and field of the portal API the client relies on, in one place.

Adapting to the real API later is a change to this module only: the rest of the client
speaks in resources (``settings``, ``templates/<event>``) and model types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.api import shapes
from reconciler.model import LiveTemplate, Secret

SETTINGS_PATH = "/v1/portal/settings"
LOGO_PATH = "/v1/portal/settings/branding/logo"
TEMPLATES_PATH = "/v1/notifications/templates"

MERGE_PATCH = "application/merge-patch+json"
JSON = "application/json"
LOGO_FORM_FIELD = "file"

#: Resource names used in plans, ETag maps and PreconditionFailed.resource.
SETTINGS_RESOURCE = "settings"


def template_path(event: str) -> str:
    return f"{TEMPLATES_PATH}/{quote(event, safe='')}"


def logo_file_path(sha256: str) -> str:
    return f"{LOGO_PATH}/{quote(sha256, safe='')}"


def same_origin(url: str, base_url: str) -> bool:
    """Is ``url`` (absolute or relative) on the scheme/host/port of ``base_url``?"""
    target, base = urlsplit(url), urlsplit(base_url)
    if not target.scheme and not target.netloc:
        return True
    return (target.scheme, target.netloc.lower()) == (base.scheme, base.netloc.lower())


def template_resource(event: str) -> str:
    return f"templates/{event}"


def auth_headers(key: Secret) -> dict[str, str]:
    return {"X-Api-Key": key.reveal()}


def if_match_header(etag: str) -> dict[str, str]:
    return {"If-Match": etag}


def template_request(subject: str, body: str) -> dict[str, str]:
    return {"subject": subject, "body": body}


def parse_settings(body: Any) -> dict[str, Any]:
    """Settings as the rest of the code sees them (raises ``shapes.ShapeError``)."""
    return shapes.check_settings(body)


def parse_template(body: Any, etag: str | None = None, *, event: str | None = None) -> LiveTemplate:
    """One template; ``etag`` from the header, else the list item's ``etag`` field."""
    template = shapes.check_template(body, event=event)
    return _live_template(template, etag or shapes.check_etag(template.get("etag"), "etag"))


def parse_template_list(body: Any) -> dict[str, LiveTemplate]:
    return {
        item["event"]: _live_template(item, item["etag"])
        for item in shapes.check_template_list(body)
    }


def _live_template(template: Mapping[str, Any], etag: str) -> LiveTemplate:
    return LiveTemplate(
        event=template["event"],
        subject=template["subject"],
        body=template["body"],
        is_default=template["is_default"],
        etag=etag,
    )


def problem_fields(body: Any) -> Mapping[str, str]:
    """``{detail, code, param, request_id, title}`` of a problem+json body: the ones that are
    strings (anything else a server puts there is ignored, never shown)."""
    if not isinstance(body, dict):
        return {}
    fields = ("title", "detail", "code", "param", "request_id")
    return {k: body[k] for k in fields if isinstance(body.get(k), str) and body[k]}


def settings_match(body: Mapping[str, Any], patch: Mapping[str, Any]) -> bool:
    """Does ``body`` already hold every value ``patch`` sets (used after a lost answer)?"""
    for key, value in patch.items():
        current = body.get(key)
        if isinstance(value, Mapping):
            if not isinstance(current, Mapping) or not settings_match(current, value):
                return False
        elif value is None:
            continue  # null resets to a default; can't tell from here, so don't block
        elif isinstance(value, str) and isinstance(current, str) and key == "primary_color":
            if value.lower() != current.lower():
                return False
        elif current != value:
            return False
    return True


def logo_sha256(body: Mapping[str, Any]) -> str | None:
    logo = (body.get("branding") or {}).get("logo")
    return str(logo["sha256"]) if isinstance(logo, Mapping) and "sha256" in logo else None
