"""reconciler.plan: changes, order, disruptive marks, ownership, (de)serialisation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.errors import UsageError
from reconciler.model import (
    RESET,
    DesiredLogo,
    DesiredTemplate,
    LiveState,
    LiveTemplate,
    Origin,
)
from reconciler.plan import (
    Action,
    Stage,
    compute_plan,
)
from reconciler.planfile import (
    PLAN_FORMAT_VERSION,
    load_plan,
    looks_like_plan_file,
    plan_file_names,
    plan_from_dict,
    plan_to_dict,
    save_plan,
)
from tests.helpers.plans import SPEC, desired, full_plan, live_state, local


def test_no_changes_when_everything_matches(tmp_path: Path) -> None:
    d = desired(tmp_path, settings={"enabled": True, "branding": {"primary_color": "#1662DD"}})
    plan = compute_plan(d, live_state(), target="embedded sandbox (.portal/sandbox.db)")
    assert plan.changes == ()
    assert not plan.has_changes
    assert plan.summary_line() == "No changes. The portal matches portal.yaml."


def test_settings_changes_carry_origin_and_order(tmp_path: Path) -> None:
    d = desired(
        tmp_path,
        settings={
            "enabled": False,
            "branding": {"primary_color": "#0A4FB8", "company_name": "Acme"},
            "permissions": {"update_payment_methods": False, "cancel_subscription": False},
        },
    )
    plan = compute_plan(d, live_state(), target="t")
    assert [(c.field, c.before, c.after, c.disruptive) for c in plan.changes] == [
        ("branding.company_name", None, "Acme", False),
        ("branding.primary_color", "#1662dd", "#0a4fb8", False),
        ("permissions.update_payment_methods", True, False, True),
        ("enabled", True, False, True),  # a portal disable is shown (and sent) last
    ]
    assert plan.changes[1].origin == Origin(SPEC, 5, 20)
    assert plan.changes[3].reason is not None and "portal link" in plan.changes[3].reason
    assert plan.summary_line() == "Plan: 4 to change, 0 to upload, 0 to reset."
    assert [c.title for c in plan.disruptive] == [
        "update settings permissions.update_payment_methods",
        "update settings enabled",
    ]


def test_turning_permissions_on_or_enabling_is_not_disruptive(tmp_path: Path) -> None:
    live = live_state(enabled=False, permissions={"download_invoices": False})
    d = desired(tmp_path, settings={"enabled": True, "permissions": {"download_invoices": True}})
    plan = compute_plan(d, live, target="t")
    assert len(plan.changes) == 2
    assert plan.disruptive == ()


def test_logo_upload_reset_and_unmanaged(tmp_path: Path) -> None:
    f = local(tmp_path, "assets/logo.png", b"\x89PNG fake")
    logo = DesiredLogo(f, "image/png", 200, 50)
    plan = compute_plan(desired(tmp_path, logo=logo), live_state(), target="t")
    (change,) = plan.changes
    assert (change.resource, change.action, change.stage) == (
        "settings/logo",
        Action.UPLOAD,
        Stage.LOGO,
    )
    assert change.after == {
        "file": "assets/logo.png",
        "sha256": f.sha256,
        "content_type": "image/png",
        "size": 9,
    }
    assert change.before is None

    live_logo = {"url": "u", "sha256": f.sha256.upper(), "content_type": "image/png"}
    live = live_state(branding={"primary_color": "#1662dd", "logo": live_logo})
    assert compute_plan(desired(tmp_path, logo=logo), live, target="t").changes == ()
    # unmanaged: left alone even though the live logo exists
    assert compute_plan(desired(tmp_path), live, target="t").changes == ()
    (reset,) = compute_plan(desired(tmp_path, logo=RESET), live, target="t").changes
    assert reset.action is Action.RESET and reset.after is None
    assert compute_plan(desired(tmp_path, logo=RESET), live_state(), target="t").changes == ()


def test_templates_update_reset_and_line_endings(tmp_path: Path) -> None:
    live = live_state()
    custom = LiveTemplate("payment_failed", "Custom", "x\n", False, '"t2"')
    live = LiveState(
        live.settings, live.settings_etag, {**live.templates, "payment_failed": custom}
    )
    body_file = local(tmp_path, "templates/invoice_created.html", b"Hi\r\ninvoice_created\r\n")
    d = desired(
        tmp_path,
        templates={
            "invoice_created": DesiredTemplate(
                "invoice_created", "New subject", "Hi\ninvoice_created\n", body_file
            ),
            "payment_failed": RESET,
            "payment_succeeded": DesiredTemplate(
                "payment_succeeded", "default payment_succeeded", "Hello\r\npayment_succeeded\r\n"
            ),
        },
    )
    plan = compute_plan(d, live, target="t")
    assert [(c.resource, c.action) for c in plan.changes] == [
        ("templates/invoice_created", Action.UPDATE),
        ("templates/payment_failed", Action.RESET),
    ]
    upd = plan.changes[0]
    assert upd.before == {"subject": "default invoice_created", "is_default": True}
    assert upd.after == {"subject": "New subject"}
    assert upd.body_diff == (
        "--- live templates/invoice_created\n+++ templates/invoice_created.html\n"
        "@@ -1,2 +1,2 @@\n-Hello\n+Hi\n invoice_created\n"
    )
    assert upd.origin == Origin(SPEC, 12, 5)
    assert plan.summary_line() == "Plan: 1 to change, 0 to upload, 1 to reset."


def test_execution_order_logo_templates_settings(tmp_path: Path) -> None:
    f = local(tmp_path, "logo.png", b"png")
    d = desired(
        tmp_path,
        settings={"enabled": False, "branding": {"company_name": "A"}},
        logo=DesiredLogo(f, "image/png", None, None),
        templates={"payment_failed": DesiredTemplate("payment_failed", "S", "B")},
    )
    plan = compute_plan(d, live_state(), target="t")
    assert [c.stage for c in plan.changes] == [
        Stage.LOGO,
        Stage.TEMPLATES,
        Stage.SETTINGS,
        Stage.SETTINGS,
    ]
    assert plan.changes[-1].field == "enabled"


def test_to_dict_round_trip_and_checksum(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)
    data = plan_to_dict(plan)
    assert data["format_version"] == PLAN_FORMAT_VERSION
    assert data["summary"] == {"update": 3, "upload": 1, "reset": 0, "disruptive": 1}
    assert data["etags"]["settings"] == '"s1"'
    assert set(data["files"]) == {"assets/logo.png", "templates/pf.html"}
    assert data["desired"]["templates"]["invoice_created"] == "default"
    assert data["desired"]["target"] == {
        "api_url": "https://api.4geeks.io",
        "api_key_env": "ACME_KEY",
    }
    assert data["checksum"].startswith("sha256:")
    again = plan_from_dict(json.loads(json.dumps(data)))
    assert plan_to_dict(again) == data
    assert again.changes == plan.changes
    assert again.desired.logo == plan.desired.logo  # abs paths rebuilt relative to the spec


def test_from_dict_refuses_other_versions_and_edits(tmp_path: Path) -> None:
    data = plan_to_dict(full_plan(tmp_path))
    with pytest.raises(UsageError, match=r"plan format_version 99 is not supported by portalctl"):
        plan_from_dict({**data, "format_version": 99})
    edited = json.loads(json.dumps(data))
    edited["desired"]["settings"]["enabled"] = True
    with pytest.raises(UsageError) as err:
        plan_from_dict(edited, source="plan.json")
    assert str(err.value) == (
        "plan.json: the plan file was modified or is corrupt (checksum mismatch); plan files "
        "must not be edited; make the plan again with `portalctl plan --out`"
    )
    with pytest.raises(UsageError, match="not a portalctl plan file"):
        plan_from_dict({"hello": 1})


def test_save_and_load_plan_file(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert looks_like_plan_file(path)
    assert not looks_like_plan_file(tmp_path / "templates/pf.html")
    assert plan_to_dict(load_plan(path)) == plan_to_dict(plan)
    with pytest.raises(UsageError, match="no such file"):
        load_plan(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(UsageError, match="invalid JSON"):
        load_plan(tmp_path / "bad.json")


def test_plan_file_names_are_unique_or_refused(tmp_path: Path) -> None:
    a, b, c = Path("p/a/portal.yaml"), Path("p/b/portal.yaml"), Path("p/c.yml")
    assert plan_file_names([a, b, c]) == {
        a: "a-portal.plan.json",
        b: "b-portal.plan.json",
        c: "c.plan.json",
    }
    # Names differing only in case are told apart by folder (case-insensitive file systems).
    upper, lower = Path("x/Acme.yaml"), Path("y/acme.yaml")
    assert plan_file_names([upper, lower]) == {
        upper: "x-Acme.plan.json",
        lower: "y-acme.plan.json",
    }
    clashes = [
        (["portals/a.yaml", "portals/a.yml"], "portals/a.yaml and portals/a.yml", "a.plan.json"),
        # told apart by folder, x/a/b.yaml becomes a-b.plan.json: the name of x/a-b.yaml
        (["x/a-b.yaml", "x/a/b.yaml", "x/b.yaml"], "x/a-b.yaml and x/a/b.yaml", "a-b.plan.json"),
        (["p/A.yaml", "p/a.yml"], "p/A.yaml and p/a.yml", "a.plan.json"),  # case-insensitive
    ]
    for specs, both, name in clashes:
        with pytest.raises(UsageError) as err:
            plan_file_names([Path(spec) for spec in specs])
        assert err.value.exit_code == 3
        assert str(err.value) == (
            f"{both} would both be saved as the plan file {name}, and one would overwrite the "
            "other; rename one of the specs, or plan them with separate --out folders"
        )
