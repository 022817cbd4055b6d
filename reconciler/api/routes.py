"""Every path, header and field of the portal API the client relies on, in one place.

Adapting to the real API later is a change to this module only: the rest of the client
speaks in resources (``settings``, ``templates/<event>``) and model types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.api import shapes
from reconciler.model import LiveTemplate, LiveTranslation, Secret

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


# --- translations of a template (issue 13) -------------------------------------------------


def translation_path(event: str, locale: str) -> str:
    return f"{template_path(event)}/locales/{quote(locale, safe='')}"


def if_none_match_any() -> dict[str, str]:
    """The precondition that creates a resource only if it does not exist yet."""
    return {"If-None-Match": "*"}


def parse_translation(
    event: str, item: Any, etag: str | None = None, *, path: str = ""
) -> LiveTranslation:
    """One translation: a list item (its ``etag`` field) or a GET/PUT body (``etag`` header).

    The tag is re-canonicalised (``pt-br`` -> ``pt-BR``) so plans compare like with like.
    """
    from reconciler.locales import InvalidTag, canonical_tag

    prefix = f"{path}." if path else ""
    if not isinstance(item, dict):
        raise shapes.ShapeError(
            path or "the body", f"must be an object, got {shapes.describe(item)}"
        )
    for name in ("locale", "subject", "body"):
        value = item.get(name)
        if not isinstance(value, str) or (name != "body" and not value):
            raise shapes.ShapeError(
                f"{prefix}{name}", f"must be a non-empty string, got {shapes.describe(value)}"
            )
    if "event" in item and item["event"] != event:
        raise shapes.ShapeError(
            f"{prefix}event", f"must be {event}, got {shapes.describe(item['event'])}"
        )
    try:
        locale = canonical_tag(item["locale"])
    except InvalidTag:
        raise shapes.ShapeError(
            f"{prefix}locale",
            f"must be a BCP 47 language tag, got {shapes.describe(item['locale'])}",
        ) from None
    found = etag if etag is not None else shapes.check_etag(item.get("etag"), f"{prefix}etag")
    return LiveTranslation(event, locale, item["subject"], item["body"], found)


def parse_translation_list(event: str, items: Any, path: str) -> dict[str, LiveTranslation]:
    """A template's ``locales`` array (absent: none, for an API without translations)."""
    if items is None:
        return {}
    if not isinstance(items, list):
        raise shapes.ShapeError(path, f"must be an array, got {shapes.describe(items)}")
    out: dict[str, LiveTranslation] = {}
    for index, item in enumerate(items):
        translation = parse_translation(event, item, path=f"{path}[{index}]")
        if translation.locale in out:
            raise shapes.ShapeError(
                f"{path}[{index}].locale", f"lists {translation.locale} a second time"
            )
        out[translation.locale] = translation
    return out


def parse_template_list(body: Any) -> dict[str, LiveTemplate]:
    return {
        item["event"]: _live_template(item, item["etag"], path=f"data[{index}]")
        for index, item in enumerate(shapes.check_template_list(body))
    }


def _live_template(template: Mapping[str, Any], etag: str, *, path: str = "") -> LiveTemplate:
    return LiveTemplate(
        event=template["event"],
        subject=template["subject"],
        body=template["body"],
        is_default=template["is_default"],
        etag=etag,
        locales=parse_translation_list(
            template["event"],
            template.get("locales"),
            f"{path}.locales" if path else "locales",
        ),
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
