"""What a customer would see, before and after apply: ``PortalView`` and the overlay.

``live_view`` reads the portal as it is; ``after_view`` lays the spec over it following the
ownership rule (what the spec names replaces the live value; what it leaves out stays as
live). Both are pure: the logo's bytes are passed in, never fetched here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model import (
    PERMISSIONS,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    LiveState,
    ResetToDefault,
)
from reconciler.plan import LOGO, SETTINGS, Plan

#: The portal's colour when the API reports none (the API default, DESIGN.md).
FALLBACK_COLOR = "#1662dd"


@dataclass(frozen=True)
class LogoView:
    """A logo: its bytes when available (else the preview draws a placeholder naming the
    sha256 prefix), its sha256 and content type."""

    data: bytes | None
    sha256: str
    content_type: str


@dataclass(frozen=True)
class EmailView:
    """One notification template. ``pending_default`` means "reset to the portal's default
    content", whose text only the portal knows (shown after apply)."""

    event: str
    subject: str
    body: str
    is_default: bool
    pending_default: bool = False


@dataclass(frozen=True)
class PortalView:
    """The portal as a customer sees it (seed, Steps 2-3) plus its emails."""

    enabled: bool
    company_name: str | None
    primary_color: str
    logo: LogoView | None
    permissions: Mapping[str, bool]
    portal_url: str | None
    emails: Mapping[str, EmailView]


def _branding(settings: Mapping[str, Any]) -> Mapping[str, Any]:
    branding = settings.get("branding")
    return branding if isinstance(branding, Mapping) else {}


def _permissions(settings: Mapping[str, Any]) -> dict[str, bool]:
    raw = settings.get("permissions")
    perms = raw if isinstance(raw, Mapping) else {}
    return {name: perms.get(name) is True for name in PERMISSIONS}


def _color(value: Any) -> str:
    text = str(value or FALLBACK_COLOR).lower()
    ok = len(text) == 7 and text[0] == "#" and all(c in "0123456789abcdef" for c in text[1:])
    return text if ok else FALLBACK_COLOR


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def translation_key(event: str, tag: str) -> str:
    """How a translation is named among the emails (and in screenshot file names):
    ``invoice_created.es``, like the body file export writes."""
    return f"{event}.{tag}"


def live_view(live: LiveState, *, logo_bytes: bytes | None = None) -> PortalView:
    """The portal as read. ``logo_bytes``: the live logo's content when it could be read
    (checked against its sha256 here too: bytes that do not match are not shown)."""
    logo: LogoView | None = None
    meta = live.logo
    if meta is not None:
        sha = str(meta.get("sha256") or "").lower()
        data = logo_bytes
        if data is not None and hashlib.sha256(data).hexdigest() != sha:
            data = None
        logo = LogoView(data, sha, str(meta.get("content_type") or "image/png"))
    branding = _branding(live.settings)
    url = live.settings.get("portal_url")
    return PortalView(
        enabled=live.settings.get("enabled") is True,
        company_name=_name(branding.get("company_name")),
        primary_color=_color(branding.get("primary_color")),
        logo=logo,
        permissions=_permissions(live.settings),
        portal_url=url if isinstance(url, str) and url else None,
        emails={
            **{
                event: EmailView(event, tpl.subject, tpl.body, tpl.is_default)
                for event, tpl in sorted(live.templates.items())
            },
            **{
                translation_key(event, tag): EmailView(
                    translation_key(event, tag), tr.subject, tr.body, is_default=False
                )
                for event, tpl in sorted(live.templates.items())
                for tag, tr in sorted(tpl.locales.items())
            },
        },
    )


def after_view(
    desired: DesiredState, live: LiveState, *, logo_before: bytes | None = None
) -> PortalView:
    """The portal once ``desired`` is applied: live, with every field the spec names
    replaced. Reading the desired logo's file is the one I/O (it was hashed when the spec
    was loaded; a file changed since is shown as a placeholder, not as different bytes)."""
    before = live_view(live, logo_bytes=logo_before)
    settings = desired.settings
    branding = {**_branding(live.settings), **_branding(settings)}
    perms = dict(before.permissions)
    raw = settings.get("permissions")
    for name, value in (raw if isinstance(raw, Mapping) else {}).items():
        if name in perms and isinstance(value, bool):
            perms[name] = value
    enabled = settings.get("enabled", before.enabled) is True
    emails = dict(before.emails)
    for event, want in desired.templates.items():
        if isinstance(want, DesiredTemplate):
            emails[event] = EmailView(event, want.subject, want.body, is_default=False)
        elif isinstance(want, ResetToDefault):
            have = emails.get(event)
            if have is None or not have.is_default:
                emails[event] = EmailView(event, "", "", is_default=True, pending_default=True)
    for event, locales in desired.translations.items():
        for tag, tr in locales.items():
            key = translation_key(event, tag)
            if isinstance(tr, DesiredTranslation):
                emails[key] = EmailView(key, tr.subject, tr.body, is_default=False)
            elif key in emails:
                # Removed: that language's customers get the event's own email again.
                emails[key] = EmailView(key, "", "", is_default=True, pending_default=True)
    return PortalView(
        enabled=enabled,
        company_name=_name(branding.get("company_name")),
        primary_color=_color(branding.get("primary_color")),
        logo=_after_logo(desired, before.logo),
        permissions=perms,
        # The URL is the portal's (read-only); a portal enabled for the first time by this
        # apply gets one then, so it is unknown (None) here.
        portal_url=before.portal_url,
        emails=dict(sorted(emails.items())),
    )


def _after_logo(desired: DesiredState, before: LogoView | None) -> LogoView | None:
    want = desired.logo
    if isinstance(want, ResetToDefault):
        return None
    if not isinstance(want, DesiredLogo):
        return before
    sha = want.file.sha256.lower()
    try:
        data: bytes | None = want.file.abs_path.read_bytes()
    except OSError:
        data = None
    if data is not None and hashlib.sha256(data).hexdigest() != sha:
        data = None
    return LogoView(data, sha, want.content_type)


def changed_marks(plan: Plan) -> frozenset[str]:
    """What the plan changes, as marks the page uses: a settings field
    (``branding.primary_color``, ``permissions.cancel_subscription``, ``enabled``),
    ``logo``, or ``email:<event>`` (``email:<event>.<tag>`` for a translation)."""
    marks: set[str] = set()
    for change in plan.changes:
        if change.resource == SETTINGS and change.field:
            marks.add(change.field)
        elif change.resource == LOGO:
            marks.add("logo")
        elif change.resource.startswith("templates/"):
            event, _, tag = change.resource.split("/", 1)[1].partition("/locales/")
            marks.add("email:" + (translation_key(event, tag) if tag else event))
    return frozenset(marks)
