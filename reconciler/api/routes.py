"""Every path, header and field of the portal API the client relies on, in one place.

Adapting to the real API later is a change to this module only: the rest of the client
speaks in resources (``settings``, ``templates/<event>``) and model types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from reconciler.model import LiveTemplate, LiveTranslation, Secret, translation_resource

SETTINGS_PATH = "/v1/portal/settings"
LOGO_PATH = "/v1/portal/settings/branding/logo"
TEMPLATES_PATH = "/v1/notifications/templates"

MERGE_PATCH = "application/merge-patch+json"
JSON = "application/json"
LOGO_FORM_FIELD = "file"

#: Resource names used in plans, ETag maps and PreconditionFailed.resource.
SETTINGS_RESOURCE = "settings"


class MalformedResponse(ValueError):
    """The API answered 2xx with a body this module cannot map (contract drift)."""


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
    if not isinstance(body, dict) or not isinstance(body.get("branding"), dict):
        raise MalformedResponse("settings body is not an object with branding")
    if not isinstance(body.get("permissions"), dict):
        raise MalformedResponse("settings body has no permissions object")
    return body


def parse_template(body: Any, etag: str | None = None) -> LiveTemplate:
    if not isinstance(body, dict):
        raise MalformedResponse("template body is not an object")
    try:
        return LiveTemplate(
            event=str(body["event"]),
            subject=str(body["subject"]),
            body=str(body["body"]),
            is_default=bool(body["is_default"]),
            etag=etag or str(body["etag"]),
            locales=parse_translation_list(str(body["event"]), body.get("locales", [])),
        )
    except KeyError as exc:
        raise MalformedResponse(f"template body lacks {exc.args[0]!r}") from exc


# --- translations of a template (issue 13) -------------------------------------------------


def translation_path(event: str, locale: str) -> str:
    return f"{template_path(event)}/locales/{quote(locale, safe='')}"


def if_none_match_any() -> dict[str, str]:
    """The precondition that creates a resource only if it does not exist yet."""
    return {"If-None-Match": "*"}


def parse_translation(event: str, item: Any, etag: str | None = None) -> LiveTranslation:
    """One translation (a list item, or a GET/PUT body with its ETag header)."""
    from reconciler.locales import InvalidTag, canonical_tag

    if not isinstance(item, dict):
        raise MalformedResponse(f"a translation of {event} is not an object")
    fields = {k: item.get(k) for k in ("locale", "subject", "body")}
    for name, value in fields.items():
        if not isinstance(value, str):
            raise MalformedResponse(f"a translation of {event} has no text {name}")
    tag = str(fields["locale"])
    try:
        locale = canonical_tag(tag)
    except InvalidTag as exc:
        raise MalformedResponse(f"a translation of {event} has a malformed locale") from exc
    found = etag if etag is not None else item.get("etag")
    if not isinstance(found, str) or not found:
        raise MalformedResponse(f"{translation_resource(event, locale)} has no etag")
    return LiveTranslation(event, locale, str(fields["subject"]), str(fields["body"]), found)


def parse_translation_list(event: str, items: Any) -> dict[str, LiveTranslation]:
    if not isinstance(items, list):
        raise MalformedResponse(f"the locales of {event} are not an array")
    out: dict[str, LiveTranslation] = {}
    for item in items:
        translation = parse_translation(event, item)
        if translation.locale in out:
            raise MalformedResponse(f"{event} lists the {translation.locale} translation twice")
        out[translation.locale] = translation
    return out


def parse_template_list(body: Any) -> dict[str, LiveTemplate]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise MalformedResponse("template list body has no data array")
    templates = [parse_template(item) for item in body["data"]]
    return {tpl.event: tpl for tpl in templates}


def problem_fields(body: Any) -> Mapping[str, Any]:
    """``{detail, code, param, request_id, title}`` of a problem+json body (or empty)."""
    if not isinstance(body, dict):
        return {}
    return {k: body.get(k) for k in ("title", "detail", "code", "param", "request_id")}


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
