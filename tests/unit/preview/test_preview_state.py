"""The after-apply view is live with the spec laid over it (ownership rule), and the
marks name exactly what the plan changes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reconciler.model import PERMISSIONS, RESET, TEMPLATE_VARIABLES
from reconciler.preview.portal import ACTION_LABELS
from reconciler.preview.samples import SAMPLE_VALUES
from reconciler.preview.state import after_view, changed_marks, live_view
from tests.imagedata import png
from tests.unit.preview.builders import PORTAL_URL, desired_state, live_state, plan_for


def test_every_template_variable_has_a_documented_sample() -> None:
    assert set(SAMPLE_VALUES) | {"customer_portal_link"} == TEMPLATE_VARIABLES
    assert "customer_portal_link" not in SAMPLE_VALUES


def test_every_permission_has_a_button_in_the_models_order() -> None:
    assert tuple(ACTION_LABELS) == PERMISSIONS


def test_what_the_spec_leaves_out_stays_as_live(tmp_path: Path) -> None:
    live = live_state(company_name="Old Co", permissions={"cancel_subscription": True})
    desired = desired_state(
        tmp_path,
        {"branding": {"primary_color": "#aa3300"}, "permissions": {"download_invoices": False}},
    )
    after = after_view(desired, live)
    assert after.primary_color == "#aa3300"
    assert after.company_name == "Old Co"
    assert dict(after.permissions) == {
        "update_payment_methods": True,
        "view_payment_history": True,
        "download_invoices": False,
        "cancel_subscription": True,
    }
    assert after.enabled is True
    assert after.portal_url == PORTAL_URL
    assert after.emails == live_view(live).emails


def test_templates_are_replaced_or_reset_and_the_others_kept(tmp_path: Path) -> None:
    live = live_state()
    desired = desired_state(
        tmp_path, templates={"invoice_created": ("New {{invoice_number}}", "<p>hi</p>")}
    )
    after = after_view(desired, live)
    assert after.emails["invoice_created"].subject == "New {{invoice_number}}"
    assert after.emails["payment_failed"] == live_view(live).emails["payment_failed"]
    reset = after_view(desired_state(tmp_path, templates={"payment_failed": RESET}), live)
    assert reset.emails["payment_failed"].pending_default is True


def test_logo_new_reset_and_left_alone(tmp_path: Path) -> None:
    old, new = png(200, 50), png(100, 25)
    live = live_state(logo=old)
    unmanaged = after_view(desired_state(tmp_path), live, logo_before=old)
    assert unmanaged.logo is not None and unmanaged.logo.data == old
    uploaded = after_view(desired_state(tmp_path, logo=new), live, logo_before=old)
    assert uploaded.logo is not None and uploaded.logo.data == new
    assert uploaded.logo.sha256 == hashlib.sha256(new).hexdigest()
    assert after_view(desired_state(tmp_path, logo=RESET), live).logo is None


def test_live_logo_bytes_that_do_not_match_the_sha256_are_not_shown() -> None:
    live = live_state(logo=png(200, 50))
    view = live_view(live, logo_bytes=b"something else")
    assert view.logo is not None and view.logo.data is None


def test_marks_name_what_the_plan_changes(tmp_path: Path) -> None:
    live = live_state()
    desired = desired_state(
        tmp_path,
        {"enabled": True, "branding": {"primary_color": "#aa3300", "company_name": "Old Co"}},
        logo=png(200, 50),
        templates={"payment_failed": ("Payment failed", "Fix it: {{customer_portal_link}}")},
    )
    assert changed_marks(plan_for(desired, live)) == {"branding.primary_color", "logo"}
