"""The sandbox's portal content rules: defaults, validation, image sniffing (no I/O).

Every rule here is part of the contract (``schemas/portal-api.openapi.yaml``); a
violation raises ``Problem``, which the portal turns into ``application/problem+json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.model import (
    BODY_MAX_BYTES,
    COMPANY_NAME_MAX_CHARS,
    EVENTS,
    HEX_COLOUR,
    LOGO_MAX_BYTES,
    PERMISSIONS,
    SUBJECT_MAX_CHARS,
    TEMPLATE_VARIABLES,
)

DEFAULT_PRIMARY_COLOR = "#1662dd"
DEFAULT_PERMISSIONS: dict[str, bool] = {
    "update_payment_methods": True,
    "view_payment_history": True,
    "download_invoices": True,
    "cancel_subscription": False,
}
#: A bound on translations per event (each is a row and part of every template list).
MAX_LOCALES_PER_EVENT = 50
COLOR_RE = HEX_COLOUR  # the one hex-colour pattern (model.py)
VARIABLE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "invoice_created": (
        "Invoice {{invoice_number}} from {{company_name}}",
        "Hello {{customer_name}},\n\n"
        "Invoice {{invoice_number}} for {{invoice_amount}} {{invoice_currency}} is due on "
        "{{invoice_due_date}}.\n\n"
        "View, pay or download it in your billing portal: {{customer_portal_link}}\n",
    ),
    "payment_failed": (
        "We could not process your payment to {{company_name}}",
        "Hello {{customer_name}},\n\n"
        "We could not charge your {{card_brand}} card ending in {{card_last4}} "
        "({{failure_reason}}). We will try again on {{next_retry_date}}.\n\n"
        "Update your payment method in your billing portal: {{customer_portal_link}}\n",
    ),
    "payment_succeeded": (
        "Payment received: thank you",
        "Hello {{customer_name}},\n\n"
        "We received your payment of {{payment_amount}} on {{payment_date}}.\n\n"
        "Your billing history: {{customer_portal_link}}\n",
    ),
    "subscription_canceled": (
        "Your subscription {{subscription_name}} was canceled",
        "Hello {{customer_name}},\n\n"
        "Your subscription {{subscription_name}} ends on {{cancellation_date}}.\n\n"
        "Manage your billing: {{customer_portal_link}}\n",
    ),
}


class Problem(Exception):
    """An API error, rendered as RFC 9457 problem+json by the portal."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.param = param
        self.headers = dict(headers or {})


def invalid(param: str, detail: str, code: str = "invalid_value") -> Problem:
    return Problem(422, code, "Unprocessable Content", detail, param=param)


def default_template(event: str) -> tuple[str, str]:
    """(subject, body) a never-customised template has."""
    if event in DEFAULT_TEMPLATES:
        return DEFAULT_TEMPLATES[event]
    words = event.replace("_", " ")
    return (
        f"{words.capitalize()} from {{{{company_name}}}}",
        f"Hello {{{{customer_name}}}},\n\n{words.capitalize()}.\n\n"
        "Your billing portal: {{customer_portal_link}}\n",
    )


def new_settings() -> dict[str, Any]:
    """The stored settings of a new portal (``updated_at`` is filled in by the store)."""
    return {
        "enabled": False,
        "branding": {"company_name": None, "primary_color": DEFAULT_PRIMARY_COLOR, "logo": None},
        "permissions": dict(DEFAULT_PERMISSIONS),
        "portal_url": None,
    }


# --- settings merge patch -----------------------------------------------------------------

_READ_ONLY = {"portal_url", "updated_at", "branding.logo"}


def apply_settings_patch(current: Mapping[str, Any], patch: Any) -> dict[str, Any]:
    """RFC 7396 merge patch on the writable settings fields.

    ``null`` on a writable leaf resets it to the portal's default. Read-only or unknown
    fields, and values of the wrong type, raise a 422 ``Problem`` naming the field.
    """
    if not isinstance(patch, dict):
        raise Problem(400, "invalid_body", "Bad Request", "the merge patch must be a JSON object")
    result: dict[str, Any] = {
        "enabled": current["enabled"],
        "branding": dict(current["branding"]),
        "permissions": dict(current["permissions"]),
        "portal_url": current.get("portal_url"),
    }
    for key, value in patch.items():
        if key in _READ_ONLY:
            raise invalid(key, f"{key} is read-only", "read_only_field")
        if key == "enabled":
            if value is None:
                value = False
            if not isinstance(value, bool):
                raise invalid(key, "enabled must be true or false")
            result["enabled"] = value
        elif key == "branding":
            _patch_branding(result["branding"], value)
        elif key == "permissions":
            _patch_permissions(result["permissions"], value)
        else:
            raise invalid(key, f"unknown field {key!r}", "unknown_field")
    return result


def _patch_branding(branding: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise invalid("branding", "branding must be an object")
    for key, item in value.items():
        param = f"branding.{key}"
        if param in _READ_ONLY:
            raise invalid(
                param,
                "branding.logo is read-only here; upload with PUT "
                "/v1/portal/settings/branding/logo",
                "read_only_field",
            )
        if key == "company_name":
            if item is not None and (
                not isinstance(item, str)
                or not 1 <= len(item) <= COMPANY_NAME_MAX_CHARS
                or not item.strip()
            ):
                raise invalid(
                    param,
                    f"company_name must be 1..{COMPANY_NAME_MAX_CHARS} characters, not blank",
                )
            branding[key] = item
        elif key == "primary_color":
            if item is None:
                item = DEFAULT_PRIMARY_COLOR
            if not isinstance(item, str) or not COLOR_RE.match(item):
                raise invalid(param, "primary_color must be a hex colour #RRGGBB")
            branding[key] = item.lower()
        else:
            raise invalid(param, f"unknown field {param!r}", "unknown_field")


def _patch_permissions(permissions: dict[str, Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise invalid("permissions", "permissions must be an object")
    for key, item in value.items():
        param = f"permissions.{key}"
        if key not in PERMISSIONS:
            raise invalid(param, f"unknown permission {key!r}", "unknown_field")
        if item is None:
            item = DEFAULT_PERMISSIONS.get(key, False)
        if not isinstance(item, bool):
            raise invalid(param, f"{key} must be true or false")
        permissions[key] = item


# --- templates ----------------------------------------------------------------------------


def check_event(event: str) -> None:
    if event not in EVENTS:
        raise Problem(
            404,
            "unknown_event",
            "Not Found",
            f"no notification template for event {event!r} (events: {', '.join(EVENTS)})",
            param="event",
        )


def check_locale_tag(tag: str) -> str:
    """The canonical form of a path's language tag (``pt-br`` -> ``pt-BR``); 422 if malformed."""
    from reconciler.locales import TAG_EXAMPLES, InvalidTag, canonical_tag

    try:
        return canonical_tag(tag)
    except InvalidTag as exc:
        raise invalid(
            "tag",
            f"{tag[:40]!r} is not a BCP 47 language tag ({exc}); e.g. {TAG_EXAMPLES}",
            "invalid_locale",
        ) from exc


def validate_template(payload: Any) -> tuple[str, str]:
    """Validate a PUT body ``{subject, body}``; returns them."""
    if not isinstance(payload, dict):
        raise Problem(400, "invalid_body", "Bad Request", "the body must be a JSON object")
    for key in payload:
        if key not in {"subject", "body"}:
            raise invalid(key, f"unknown field {key!r}", "unknown_field")
    subject, body = payload.get("subject"), payload.get("body")
    if not isinstance(subject, str):
        raise invalid("subject", "subject is required and must be a string")
    if not isinstance(body, str):
        raise invalid("body", "body is required and must be a string")
    if not 1 <= len(subject) <= SUBJECT_MAX_CHARS:
        raise invalid("subject", f"subject must be 1..{SUBJECT_MAX_CHARS} characters")
    if "\n" in subject or "\r" in subject:
        raise invalid("subject", "subject must be a single line")
    if len(body.encode("utf-8")) > BODY_MAX_BYTES:
        raise invalid("body", f"body must be at most {BODY_MAX_BYTES} bytes (UTF-8)")
    for param, text in (("subject", subject), ("body", body)):
        for match in VARIABLE_RE.finditer(text):
            name = match.group(1)
            if name not in TEMPLATE_VARIABLES:
                raise invalid(
                    param,
                    f"unknown template variable {{{{{name}}}}} in {param}",
                    "unknown_variable",
                )
    return subject, body


# --- logo ---------------------------------------------------------------------------------


def sniff_image(data: bytes) -> tuple[str, int, int]:
    """(content_type, width, height) by magic bytes and header (the same reader the spec's
    lint uses); 422 unless a well-formed PNG or JPEG within the size limit."""
    from reconciler.images import NotAnImage
    from reconciler.images import sniff_image as read_header

    if not data:
        raise invalid("file", "the logo file is empty", "invalid_image")
    if len(data) > LOGO_MAX_BYTES:
        raise invalid(
            "file",
            f"the logo is {len(data)} bytes; the limit is {LOGO_MAX_BYTES} bytes (512 KiB)",
            "file_too_large",
        )
    try:
        info = read_header(data)
    except NotAnImage as exc:
        code = (
            "invalid_image"
            if data.startswith((b"\x89PNG", b"\xff\xd8\xff"))
            else ("unsupported_image_type")
        )
        raise invalid("file", f"the logo must be a PNG or JPEG image: it {exc}", code) from exc
    return info.content_type, info.width, info.height
