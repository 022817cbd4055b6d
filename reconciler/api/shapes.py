"""The contract's shapes (``schemas/portal-api.openapi.yaml``), checked on every 2xx answer.

Nothing the server sends is used before it passes here: a string where a boolean belongs
(``"enabled": "false"``), a ``null`` subject, a template missing from the list, a colour that
is not a colour, an ETag that could not be sent back in ``If-Match``... each raises
``ShapeError`` naming the field and saying what was expected and what came instead. Values are
never coerced (``bool("false")`` is ``True``).

Fields the contract does not know are tolerated and kept (an API may grow), so only what the
client relies on is checked; strings are held to the contract's lengths (2048 characters where
it sets none), so an answer cannot push a megabyte into a one-line plan. Hand-written rather
than generated from the OpenAPI file: the checks are few, they run on every answer, and their
messages are what a user reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.model import EVENTS
from reconciler.textsafe import safe_line

HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
SHA256 = re.compile(r"[0-9a-f]{64}")
#: A strong ETag (RFC 9110): visible ASCII but the double quote, quoted; bounded in length.
ETAG = re.compile(r'"[\x21\x23-\x7e]{1,200}"')
_URL = re.compile(r"https?://[\x21-\x7e]+")
_LOGO_URL = re.compile(r"(?:https?://|/)[\x21-\x7e]*")
LOGO_TYPES = ("image/png", "image/jpeg")
PERMISSIONS = (
    "update_payment_methods",
    "view_payment_history",
    "download_invoices",
    "cancel_subscription",
)
MAX_LOGO_BYTES = 512 * 1024
#: Template bodies are at most 64 KiB in UTF-8 (``TemplateWrite.body``).
MAX_BODY_BYTES = 65536


class ShapeError(ValueError):
    """An answer does not have the contract's shape; ``field`` is its dotted path."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field} {problem}")


def describe(value: Any) -> str:
    """What a JSON value is, for a message; server text is escaped and cut short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"[:40]
    if isinstance(value, str):
        shown = safe_line(value[:40]).replace('"', '\\"')
        return f'the string "{shown}{"..." if len(value) > 40 else ""}"'
    if isinstance(value, list):
        return "an array"
    return "an object"


def _get(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise ShapeError(path, "is missing")
    return obj[key]


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(path, f"must be an object, got {describe(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ShapeError(path, f"must be true or false, got {describe(value)}")
    return value


def _string(
    value: Any,
    path: str,
    *,
    nullable: bool = False,
    pattern: re.Pattern[str] | None = None,
    expected: str = "a string",
    non_empty: bool = False,
    max_length: int = 2048,
) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        null = " or null" if nullable else ""
        raise ShapeError(path, f"must be {expected}{null}, got {describe(value)}")
    if pattern is not None and not pattern.fullmatch(value):
        raise ShapeError(path, f"must be {expected}, got {describe(value)}")
    if non_empty and not value:
        raise ShapeError(path, f"must be {expected}, got an empty string")
    if len(value) > max_length:
        raise ShapeError(path, f"must be at most {max_length} characters, got {len(value)}")
    return value


def _integer(
    value: Any, path: str, *, nullable: bool = False, low: int = 0, high: int | None = None
) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        null = " or null" if nullable else ""
        raise ShapeError(path, f"must be a whole number{null}, got {describe(value)}")
    if value < low or (high is not None and value > high):
        top = f" and {high}" if high is not None else ""
        raise ShapeError(path, f"must be between {low}{top}, got {value}")
    return value


def check_settings(body: Any) -> dict[str, Any]:
    """``GET|PATCH /v1/portal/settings`` and the logo writes: ``PortalSettings``."""
    settings = _object(body, "the body")
    _bool(_get(settings, "enabled", "enabled"), "enabled")
    branding = _object(_get(settings, "branding", "branding"), "branding")
    _string(
        _get(branding, "company_name", "branding.company_name"),
        "branding.company_name",
        nullable=True,
        max_length=100,
    )
    _string(
        _get(branding, "primary_color", "branding.primary_color"),
        "branding.primary_color",
        pattern=HEX_COLOR,
        expected="a #rrggbb colour",
    )
    logo = _get(branding, "logo", "branding.logo")
    if logo is not None:
        check_logo(logo, "branding.logo")
    permissions = _object(_get(settings, "permissions", "permissions"), "permissions")
    for name in PERMISSIONS:
        _bool(_get(permissions, name, f"permissions.{name}"), f"permissions.{name}")
    _string(
        _get(settings, "portal_url", "portal_url"),
        "portal_url",
        nullable=True,
        pattern=_URL,
        expected="an http(s) URL",
    )
    _string(_get(settings, "updated_at", "updated_at"), "updated_at")
    return dict(settings)


def check_logo(value: Any, path: str) -> Mapping[str, Any]:
    logo = _object(value, path)
    _string(
        _get(logo, "url", f"{path}.url"),
        f"{path}.url",
        pattern=_LOGO_URL,
        expected="an http(s) URL or an absolute path",
    )
    _string(
        _get(logo, "sha256", f"{path}.sha256"),
        f"{path}.sha256",
        pattern=SHA256,
        expected="64 lowercase hex digits",
    )
    content_type = _get(logo, "content_type", f"{path}.content_type")
    if content_type not in LOGO_TYPES:
        raise ShapeError(
            f"{path}.content_type",
            f"must be image/png or image/jpeg, got {describe(content_type)}",
        )
    for name in ("width", "height"):
        _integer(_get(logo, name, f"{path}.{name}"), f"{path}.{name}", nullable=True)
    _integer(_get(logo, "size", f"{path}.size"), f"{path}.size", low=1, high=MAX_LOGO_BYTES)
    return logo


def check_template(body: Any, *, path: str = "", event: str | None = None) -> Mapping[str, Any]:
    """One ``Template`` (``event`` given: it must be the one asked for) or list item."""
    prefix = f"{path}." if path else ""
    template = _object(body, path or "the body")
    name = _get(template, "event", f"{prefix}event")
    if name not in EVENTS:
        raise ShapeError(
            f"{prefix}event", f"must be one of {', '.join(EVENTS)}, got {describe(name)}"
        )
    if event is not None and name != event:
        raise ShapeError(f"{prefix}event", f"must be {event} (the event asked for), got {name}")
    _string(
        _get(template, "subject", f"{prefix}subject"),
        f"{prefix}subject",
        expected="a non-empty string",
        non_empty=True,
        max_length=128,
    )
    body_text = _string(
        _get(template, "body", f"{prefix}body"), f"{prefix}body", max_length=MAX_BODY_BYTES
    )
    if body_text is not None and len(body_text.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        raise ShapeError(f"{prefix}body", f"must be at most {MAX_BODY_BYTES} bytes in UTF-8")
    _bool(_get(template, "is_default", f"{prefix}is_default"), f"{prefix}is_default")
    _string(_get(template, "updated_at", f"{prefix}updated_at"), f"{prefix}updated_at")
    return template


def check_template_list(body: Any) -> list[Mapping[str, Any]]:
    """``GET /v1/notifications/templates``: every event exactly once, each with its ETag."""
    listing = _object(body, "the body")
    data = _get(listing, "data", "data")
    if not isinstance(data, list):
        raise ShapeError("data", f"must be an array, got {describe(data)}")
    items: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        path = f"data[{index}]"
        template = check_template(item, path=path)
        check_etag(_get(template, "etag", f"{path}.etag"), f"{path}.etag")
        if template["event"] in seen:
            raise ShapeError(f"{path}.event", f"lists {template['event']} a second time")
        seen.add(template["event"])
        items.append(template)
    missing = [event for event in EVENTS if event not in seen]
    if missing:
        raise ShapeError("data", f"has no template for {', '.join(missing)}")
    return items


def check_etag(value: Any, field: str = "the ETag header") -> str:
    """A strong ETag that can be sent back verbatim in ``If-Match``."""
    if value is None:
        raise ShapeError(field, "is missing")
    if not isinstance(value, str) or not ETAG.fullmatch(value):
        raise ShapeError(
            field,
            f'must be a quoted ASCII string like "5d41402a", got {describe(value)}',
        )
    return value
