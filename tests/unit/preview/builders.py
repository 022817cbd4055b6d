"""Desired and live states for preview tests, built from the model's plain dataclasses."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.model import (
    RESET,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    LiveState,
    LiveTemplate,
    LocalFile,
    ResetToDefault,
)
from reconciler.plan import Plan, compute_plan

PORTAL_URL = "https://billing.example.test/p/acme"


def live_state(
    *,
    enabled: bool = True,
    company_name: str | None = "Old Co",
    color: str = "#1662dd",
    permissions: Mapping[str, bool] | None = None,
    logo: bytes | None = None,
    templates: Mapping[str, tuple[str, str]] | None = None,
    portal_url: str | None = PORTAL_URL,
) -> LiveState:
    perms = {
        "update_payment_methods": True,
        "view_payment_history": True,
        "download_invoices": True,
        "cancel_subscription": False,
        **(permissions or {}),
    }
    logo_meta: dict[str, Any] | None = None
    if logo is not None:
        sha = hashlib.sha256(logo).hexdigest()
        logo_meta = {
            "url": f"https://api.example.test/v1/portal/settings/branding/logo/{sha}",
            "sha256": sha,
            "content_type": "image/png",
            "width": 200,
            "height": 50,
        }
    tpls = templates or {
        "invoice_created": ("Invoice {{invoice_number}}", "Pay here: {{customer_portal_link}}"),
        "payment_failed": ("Payment failed", "Fix it: {{customer_portal_link}}"),
    }
    return LiveState(
        settings={
            "enabled": enabled,
            "branding": {"company_name": company_name, "primary_color": color, "logo": logo_meta},
            "permissions": perms,
            "portal_url": portal_url,
            "updated_at": "2026-01-01T00:00:00Z",
        },
        settings_etag='"s1"',
        templates={
            event: LiveTemplate(event, subject, body, is_default=False, etag=f'"{event}"')
            for event, (subject, body) in tpls.items()
        },
    )


def desired_state(
    tmp_path: Path,
    settings: Mapping[str, Any] | None = None,
    *,
    logo: bytes | ResetToDefault | None = None,
    templates: Mapping[str, tuple[str, str] | ResetToDefault] | None = None,
) -> DesiredState:
    want_logo: DesiredLogo | ResetToDefault | None = None
    if isinstance(logo, bytes):
        path = tmp_path / "logo.png"
        path.write_bytes(logo)
        sha = hashlib.sha256(logo).hexdigest()
        want_logo = DesiredLogo(LocalFile("logo.png", path, sha, len(logo)), "image/png", 200, 50)
    elif logo is RESET:
        want_logo = RESET
    tpls: dict[str, DesiredTemplate | ResetToDefault] = {}
    for event, value in (templates or {}).items():
        tpls[event] = value if isinstance(value, ResetToDefault) else DesiredTemplate(event, *value)
    return DesiredState(
        spec_path=tmp_path / "portal.yaml",
        settings=dict(settings or {}),
        logo=want_logo,
        templates=tpls,
    )


def plan_for(desired: DesiredState, live: LiveState) -> Plan:
    return compute_plan(desired, live, target="https://api.example.test", created_at="2026-01-01")
