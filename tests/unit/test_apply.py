"""reconciler.apply: write grouping, the merge-patch, refusals, staleness, and the write
loop against the in-process sandbox (the one fake of the portal API)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from reconciler.api.retry import RetryPolicy
from reconciler.apply import (
    apply_plan,
    check_etags,
    check_files,
    refuse_disruptive,
    settings_patch,
    write_steps,
)
from reconciler.errors import (
    ApiRejected,
    ApiUnreachable,
    ConflictError,
    ExitCode,
    PartialApplyError,
    PreconditionFailed,
    StalePlanError,
    UsageError,
)
from reconciler.model import (
    SANDBOX_KEY,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    LiveState,
    Secret,
    Target,
)
from reconciler.plan import Plan, Stage, compute_plan
from reconciler.planfile import load_plan, save_plan
from tests.helpers import embedded_session as ApiSession

# The plan builders live in tests/unit/test_plan.py (tests/ is not a package).
from tests.helpers.plans import desired, full_plan, live_state, local

EXAMPLE_LOGO = Path(__file__).resolve().parents[2] / "examples" / "assets" / "logo.png"


def test_write_steps_one_per_resource_in_order(tmp_path: Path) -> None:
    steps = write_steps(full_plan(tmp_path))
    assert [(s.resource, s.stage, len(s.changes)) for s in steps] == [
        ("settings/logo", Stage.LOGO, 1),
        ("templates/payment_failed", Stage.TEMPLATES, 1),
        ("settings", Stage.SETTINGS, 2),
    ]
    assert steps[-1].titles == ["update settings branding.primary_color", "update settings enabled"]


def test_settings_patch_is_one_merge_patch(tmp_path: Path) -> None:
    steps = write_steps(full_plan(tmp_path))
    assert settings_patch(steps[-1].changes) == {
        "branding": {"primary_color": "#0a4fb8"},
        "enabled": False,
    }


def test_refuse_disruptive_names_every_change(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        refuse_disruptive(full_plan(tmp_path))
    assert err.value.exit_code == ExitCode.INVALID
    assert str(err.value) == (
        "refusing to apply 1 disruptive change: update settings enabled (disables the portal: "
        "every portal link already sent in emails stops working, and the portal URL may change "
        "when it is enabled again); review them, then run apply again with --allow-disruptive "
        "(alias --force)"
    )


def test_check_files_detects_edits_and_missing_files(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)
    check_files(plan)
    (tmp_path / "templates/pf.html").write_text("edited\n")
    with pytest.raises(StalePlanError) as err:
        check_files(plan)
    assert err.value.resource == "templates/pf.html"
    assert str(err.value).startswith("the plan is stale: templates/pf.html changed since the plan")
    # A missing file is not a stale plan (exit 4) but a usage error (exit 3).
    (tmp_path / "assets/logo.png").unlink()
    with pytest.raises(UsageError) as missing:
        check_files(plan)
    assert missing.value.exit_code == ExitCode.INVALID
    assert str(missing.value) == (
        f"{tmp_path / 'assets/logo.png'} (used by {tmp_path / 'portal.yaml'}) does not exist; "
        "restore it, or make the plan again with `portalctl plan --out`"
    )


def test_saved_plan_paths_are_relative_to_the_folder_where_plan_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan made in t1/ with `plan portal.yaml` names assets/logo.png: applied from t1/
    (another checkout, another CI job) it checks out; from anywhere else the file is not
    there, which is exit 3 saying where to run apply, never "the plan is stale"."""
    t1 = tmp_path / "t1"
    t1.mkdir()
    monkeypatch.chdir(t1)
    logo = local(t1, "assets/logo.png", b"png-bytes")
    body = local(t1, "templates/pf.html", b"Body {{customer_portal_link}}\n")
    want = desired(
        t1,
        spec_path=Path("portal.yaml"),  # as `portalctl plan portal.yaml` records it
        logo=DesiredLogo(logo, "image/png", 200, 50),
        templates={"payment_failed": DesiredTemplate("payment_failed", "S", "B\n", body)},
    )
    save_plan(compute_plan(want, live_state(), target="t"), tmp_path / "p1.json")
    saved = load_plan(tmp_path / "p1.json")
    assert saved.spec == "portal.yaml"
    check_files(saved)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError) as err:
        check_files(saved)
    assert err.value.exit_code == ExitCode.INVALID
    assert str(err.value) == (
        "assets/logo.png (used by portal.yaml) is not in this folder; run `portalctl apply` "
        "from the folder where the plan was made (paths in a plan file are relative to it)"
    )
    # A file that is there with other content is what makes a plan stale.
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets/logo.png").write_bytes(b"other-png")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/pf.html").write_bytes((t1 / "templates/pf.html").read_bytes())
    with pytest.raises(StalePlanError) as stale:
        check_files(saved)
    assert stale.value.exit_code == ExitCode.CONFLICT
    assert str(stale.value).startswith(
        "the plan is stale: assets/logo.png changed since the plan was made (sha256 "
    )


def test_check_etags_only_for_managed_resources(tmp_path: Path) -> None:
    plan = full_plan(tmp_path)  # manages settings, payment_failed, invoice_created
    live = live_state()
    moved_unmanaged = dict(live.templates)
    tpl = moved_unmanaged["payment_succeeded"]
    moved_unmanaged["payment_succeeded"] = type(tpl)(tpl.event, "x", "y", False, '"new"')
    check_etags(plan, LiveState(live.settings, live.settings_etag, moved_unmanaged))
    with pytest.raises(StalePlanError) as err:
        check_etags(plan, LiveState(live.settings, '"s2"', live.templates))
    assert str(err.value) == (
        'the plan is stale: settings changed on the portal since the plan was made (ETag "s1" -> '
        '"s2"); run `portalctl plan` again, review the new plan, then apply it'
    )


# --- against the in-process sandbox -------------------------------------------------------


def sandbox_target(tmp_path: Path) -> Target:
    return Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=tmp_path / "sandbox.db")


async def read(target: Target) -> LiveState:
    async with ApiSession() as session:
        return await session.client(target).read_state()


async def do_apply(plan: Plan, target: Target, **kw: object) -> object:
    async with ApiSession() as session:
        return await apply_plan(plan, session.client(target), **kw)  # type: ignore[arg-type]


def example_desired(tmp_path: Path) -> DesiredState:
    logo = local(tmp_path, "assets/logo.png", EXAMPLE_LOGO.read_bytes())
    return desired(
        tmp_path,
        settings={
            "enabled": True,
            "branding": {"company_name": "Acme", "primary_color": "#0A4FB8"},
        },
        logo=DesiredLogo(logo, "image/png", 200, 50),
        templates={
            "invoice_created": DesiredTemplate(
                "invoice_created", "Invoice {{invoice_number}}", "Pay: {{customer_portal_link}}\n"
            ),
        },
    )


@pytest.fixture
def info_logs() -> Iterator[None]:
    """Let info events through whatever level an earlier CLI run configured."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    yield
    structlog.configure(**saved)


def test_apply_writes_in_order_chains_etags_and_verifies(tmp_path: Path, info_logs: None) -> None:
    target = sandbox_target(tmp_path)
    live = asyncio.run(read(target))
    plan = compute_plan(example_desired(tmp_path), live, target="t")
    seen: list[str] = []
    with capture_logs() as logs:
        result = asyncio.run(do_apply(plan, target, on_write=lambda s: seen.append(s.resource)))
    assert seen == ["settings/logo", "templates/invoice_created", "settings"]
    assert result.summary_line() == (  # type: ignore[attr-defined]
        "Apply complete: 4 changed, 1 uploaded, 0 reset (3 writes)."
    )
    writes = [e for e in logs if e["event"] == "apply.write"]
    assert [(e["resource"], e["action"]) for e in writes] == [
        ("settings/logo", "upload"),
        ("templates/invoice_created", "update"),
        ("settings", "update"),
    ]
    after = asyncio.run(read(target))
    assert after.logo is not None
    assert after.logo["sha256"] == hashlib.sha256(EXAMPLE_LOGO.read_bytes()).hexdigest()
    assert compute_plan(plan.desired, after, target="t").changes == ()
    # The saved plan is now stale: the portal moved under it.
    with pytest.raises(StalePlanError, match="the plan is stale: settings changed"):
        asyncio.run(do_apply(plan, target))


def test_plan_spec_logs_plan_computed(tmp_path: Path, info_logs: None) -> None:
    from tests.helpers import plan_spec

    target = sandbox_target(tmp_path)
    with capture_logs() as logs:
        planned = asyncio.run(plan_spec(example_desired(tmp_path), target))
    events = [e for e in logs if e["event"] == "plan.computed"]
    assert len(events) == 1
    assert events[0]["changes"] == len(planned.plan.changes) == 5
    assert events[0]["target"] == f"embedded sandbox ({tmp_path / 'sandbox.db'})"


def test_apply_nothing_to_do_writes_nothing(tmp_path: Path) -> None:
    target = sandbox_target(tmp_path)
    live = asyncio.run(read(target))
    plan = compute_plan(desired(tmp_path, settings={"enabled": False}), live, target="t")
    result = asyncio.run(do_apply(plan, target))
    assert result.written == []
    assert result.summary_line() == "No changes. Nothing was written."  # type: ignore[attr-defined]
    assert asyncio.run(read(target)).etags() == live.etags()


def test_conflict_on_first_write_is_exit_4_later_is_partial(tmp_path: Path) -> None:
    target = sandbox_target(tmp_path)
    live = asyncio.run(read(target))
    plan = compute_plan(example_desired(tmp_path), live, target="t")
    # Someone else writes settings (the logo's resource) after we read: 412 at write 1.
    stale_live = live
    asyncio.run(
        do_apply(
            compute_plan(desired(tmp_path, settings={"enabled": True}), live, target="t"), target
        )
    )
    with pytest.raises(PreconditionFailed) as err:
        asyncio.run(do_apply(plan, target, live=stale_live))
    assert err.value.resource == "settings"
    assert err.value.exit_code == ExitCode.CONFLICT
    assert re.fullmatch(
        rf"settings changed on embedded sandbox \({re.escape(str(tmp_path))}/sandbox.db\) since "
        r"it was read \(HTTP 412\) \(request req_\w+\); nothing was written; someone else "
        r"changed it; run `portalctl plan` again, review, then apply",
        str(err.value),
    )

    # Now a plan whose first write (a template) succeeds and whose settings PATCH conflicts.
    live = asyncio.run(read(target))
    tpl_only = DesiredState(
        spec_path=tmp_path / "portal.yaml",
        settings={"branding": {"company_name": "Zed"}},
        templates={"payment_failed": DesiredTemplate("payment_failed", "S", "B")},
    )
    plan = compute_plan(tpl_only, live, target="t")
    moved = LiveState(live.settings, '"not-the-etag"', live.templates)
    with pytest.raises(PartialApplyError) as partial:
        asyncio.run(do_apply(plan, target, live=moved))
    assert partial.value.exit_code == ExitCode.CONFLICT
    assert partial.value.applied == ("update templates/payment_failed",)
    assert partial.value.not_applied == ("update settings branding.company_name",)
    assert str(partial.value).startswith("apply stopped after 1 of 2 changes: ")


def test_verification_failure_is_reported(tmp_path: Path) -> None:
    target = sandbox_target(tmp_path)
    live = asyncio.run(read(target))
    want = desired(tmp_path, settings={"branding": {"company_name": "Acme"}})
    plan = compute_plan(want, live, target="t")
    # A plan whose recorded desired state asks for more than its changes do.
    lying = Plan(
        plan.target,
        None,
        plan.spec,
        plan.changes,
        plan.etags,
        desired(tmp_path, settings={"branding": {"company_name": "Acme"}, "enabled": True}),
    )
    with pytest.raises(ConflictError) as err:
        asyncio.run(do_apply(lying, target))
    # What the verification read found is another writer's doing: a conflict (exit 4) that
    # names the resource, never a bare exit 1.
    assert err.value.exit_code == ExitCode.CONFLICT and err.value.resource == "settings"
    assert str(err.value) == (
        f"apply wrote every change but the portal no longer matches {tmp_path / 'portal.yaml'}: "
        "update settings enabled changed again; another writer may be changing settings at the "
        "same time; run `portalctl plan` to see the difference, then apply again"
    )


def test_rejected_first_write_is_exit_3_not_a_partial_apply(tmp_path: Path) -> None:
    """A 422 on the first write: the refusal itself (exit 3), saying nothing was written;
    "apply stopped after 0 of 2 changes" (exit 5) would hide the cause."""
    target = sandbox_target(tmp_path)
    live = asyncio.run(read(target))
    # The sandbox refuses a blank company name (the spec linter would have caught it).
    want = desired(tmp_path, settings={"enabled": True, "branding": {"company_name": "  "}})
    plan = compute_plan(want, live, target="t")
    assert len(plan.changes) == 2
    with pytest.raises(ApiRejected) as err:
        asyncio.run(do_apply(plan, target))
    assert not isinstance(err.value, PartialApplyError)
    assert err.value.exit_code == ExitCode.INVALID
    assert re.fullmatch(
        rf"embedded sandbox \({re.escape(str(tmp_path))}/sandbox.db\) rejected "
        r"branding.company_name: company_name must be 1..100 characters, not blank "
        r"\(request req_\w+\); nothing was written; fix the value in portal.yaml and run "
        r"`portalctl plan` again",
        str(err.value),
    )
    assert asyncio.run(read(target)).etags() == live.etags()


def test_lost_answer_at_the_first_write_does_not_claim_nothing_was_written(
    tmp_path: Path, sandbox_server: Any
) -> None:
    """When the first write's answer is lost and cannot be settled, that write may have been
    applied: the error says so (exit 6) and only that no OTHER change was written."""
    server = sandbox_server
    target = Target(url=server.url, api_key=Secret(server.new_key()))
    live = asyncio.run(read(target))
    plan = compute_plan(
        desired(tmp_path, settings={"branding": {"company_name": "Acme"}}), live, target="t"
    )
    server.set_faults(drop_rate=1.0)

    async def go() -> None:
        async with ApiSession(retry=RetryPolicy(max_attempts=1)) as session:
            await apply_plan(plan, session.client(target), live=live)

    with pytest.raises(ApiUnreachable) as err:
        asyncio.run(go())
    assert err.value.exit_code == ExitCode.UNREACHABLE
    assert err.value.message.endswith(
        "the write may or may not have been applied (PATCH settings); no other change was written"
    )
    assert "nothing was written" not in str(err.value)
