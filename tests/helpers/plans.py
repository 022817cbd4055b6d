"""Plans and states to test with: a live portal, local files, desired states, a full plan."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reconciler.model import (
    RESET,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    LiveState,
    LiveTemplate,
    LocalFile,
    Origin,
    TargetSpec,
)
from reconciler.plan import (
    Plan,
    compute_plan,
)

SPEC = "portal.yaml"


def live_state(**overrides: object) -> LiveState:
    settings = {
        "enabled": True,
        "branding": {"company_name": None, "primary_color": "#1662dd", "logo": None},
        "permissions": {
            "update_payment_methods": True,
            "view_payment_history": True,
            "download_invoices": True,
            "cancel_subscription": False,
        },
        "portal_url": "https://billing.example/p/abc",
        "updated_at": "2026-01-01T00:00:00Z",
    }
    settings.update(overrides)
    templates = {
        event: LiveTemplate(event, f"default {event}", f"Hello\n{event}\n", True, f'"t-{event}"')
        for event in ("invoice_created", "payment_failed", "payment_succeeded")
    }
    return LiveState(settings=settings, settings_etag='"s1"', templates=templates)


def local(tmp_path: Path, name: str, data: bytes) -> LocalFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return LocalFile(name, path, hashlib.sha256(data).hexdigest(), len(data))


def desired(tmp_path: Path, **kw: object) -> DesiredState:
    base: dict[str, object] = {
        "spec_path": tmp_path / SPEC,
        "settings": {},
        "origins": {
            "portal.branding.primary_color": Origin(SPEC, 5, 20),
            "portal.enabled": Origin(SPEC, 3, 12),
            "portal.notifications.invoice_created": Origin(SPEC, 12, 5),
        },
    }
    base.update(kw)
    return DesiredState(**base)  # type: ignore[arg-type]


def full_plan(tmp_path: Path) -> Plan:
    f = local(tmp_path, "assets/logo.png", b"png-bytes")
    body = local(tmp_path, "templates/pf.html", b"Body {{customer_portal_link}}\n")
    d = desired(
        tmp_path,
        settings={"branding": {"primary_color": "#0a4fb8"}, "enabled": False},
        logo=DesiredLogo(f, "image/png", 200, 50),
        templates={
            "payment_failed": DesiredTemplate(
                "payment_failed", "S", body.abs_path.read_text(), body
            ),
            "invoice_created": RESET,
        },
        target=TargetSpec("https://api.4geeks.io", "ACME_KEY"),
    )
    return compute_plan(
        d,
        live_state(),
        target="https://api.4geeks.io",
        target_url="https://api.4geeks.io",
        created_at="2026-01-02T03:04:05+00:00",
    )
