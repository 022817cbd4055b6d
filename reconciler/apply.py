"""Plan + client -> ``ApplyResult``: ordered, conditional writes, then verification.

Safety rules (DESIGN.md, issue 4):

- one write per changed resource: the logo, each template, and ONE settings merge-patch;
- order: logo first, templates next, the settings PATCH last (``plan.Stage``);
- every write carries ``If-Match``. The logo lives inside the settings resource, so its write
  returns the new settings ETag, which the settings PATCH then uses (we chain our own ETag,
  never a re-read one, so a concurrent writer still gets caught by 412);
- before writing, local files are re-hashed and (for saved plans) the portal re-read: any
  moved hash/ETag -> ``StalePlanError`` with zero writes; a file that is not there at all is
  a ``UsageError`` (a plan's paths are relative to the folder where it was made);
- a failure after at least one write succeeded -> ``PartialApplyError`` listing what was and
  was not applied: exit 5, or exit 4 when the cause is a conflict (412: someone else changed
  that resource, so the answer is to plan again). A failure at the very first write is
  raised as itself (its own exit code: 1, 3, 4 or 6), its message saying nothing was written;
- after the writes the portal is read again and compared with the desired state.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import (
    ConflictError,
    ExitCode,
    PartialApplyError,
    ReconcilerError,
    StalePlanError,
    UsageError,
    WriteOutcomeUnknown,
)
from reconciler.logs import get_logger
from reconciler.model import (
    BODY_MAX_BYTES,
    LOGO_MAX_BYTES,
    DesiredLogo,
    DesiredTemplate,
    DesiredTranslation,
    LiveState,
)
from reconciler.plan import LOGO, SETTINGS, Action, Change, Plan, Stage, compute_plan
from reconciler.textsafe import plural, safe_line

if TYPE_CHECKING:
    from reconciler.api import PortalClient

log = get_logger(__name__)


@dataclass(frozen=True)
class WriteStep:
    """One API write: every change of one resource, in execution order."""

    resource: str
    stage: Stage
    changes: tuple[Change, ...]

    @property
    def action(self) -> Action:
        return self.changes[0].action

    @property
    def titles(self) -> list[str]:
        return [c.title for c in self.changes]


@dataclass
class ApplyResult:
    """What apply did: the steps written, in order. Returned only once the portal was read
    back and matches the plan (a mismatch raises), so there is no "unverified" result."""

    plan: Plan
    written: list[WriteStep] = field(default_factory=list)
    #: The portal's unique URL as read back after the writes (seed, Step 1), if enabled.
    portal_url: str | None = None

    @property
    def applied(self) -> list[Change]:
        return [c for step in self.written for c in step.changes]

    def summary_line(self) -> str:
        if not self.plan.changes:
            return "No changes. Nothing was written."
        counts = {a: 0 for a in Action}
        for change in self.applied:
            counts[change.action] += 1
        return (
            f"Apply complete: {counts[Action.UPDATE]} changed, {counts[Action.UPLOAD]} "
            f"uploaded, {counts[Action.RESET]} reset ({plural(len(self.written), 'write')})."
        )


def write_steps(plan: Plan) -> list[WriteStep]:
    """Group the plan's changes into writes, one per resource, in execution order."""
    steps: list[WriteStep] = []
    for change in sorted(plan.changes, key=Change.sort_key):
        if steps and steps[-1].resource == change.resource:
            last = steps[-1]
            steps[-1] = WriteStep(last.resource, last.stage, (*last.changes, change))
        else:
            steps.append(WriteStep(change.resource, change.stage, (change,)))
    return steps


def refuse_disruptive(plan: Plan) -> None:
    """UsageError (exit 3) naming every disruptive change; call unless --allow-disruptive."""
    risky = plan.disruptive
    if not risky:
        return
    names = "; ".join(f"{c.title} ({c.reason})" for c in risky)
    raise UsageError(
        f"refusing to apply {plural(len(risky), 'disruptive change')}: {names}",
        hint="review them, then run apply again with --allow-disruptive (alias --force)",
    )


def check_files(plan: Plan) -> None:
    """Check every local file the plan uses, before anything is written.

    A file that exists with another sha256 makes the plan stale (``StalePlanError``, exit
    4). A file that is not there (or cannot be read) is a ``UsageError`` (exit 3): a plan's
    paths are relative to the folder where ``plan`` ran, so this is almost always apply
    running from another folder, not a change to the repository.
    """
    check_present(plan)
    for path, sha in sorted(plan.files.items()):
        data = read_local(plan, path)
        now = hashlib.sha256(data).hexdigest()
        if now != sha:
            raise StalePlanError(
                f"the plan is stale: {path} changed since the plan was made "
                f"(sha256 {sha[:12]} -> {now[:12]})",
                resource=path,
            )


def check_present(plan: Plan) -> None:
    """UsageError (exit 3) naming the first file the plan uses that is not there: a plan's
    paths are relative to the folder where ``plan`` ran, so this is almost always apply
    running from another folder, not a change to the repository."""
    for path in sorted(plan.files):
        local = _local_file(plan, path)
        if os.path.lexists(local):
            continue
        if local.is_absolute():
            raise UsageError(
                f"{local} (used by {plan.spec}) does not exist",
                hint="restore it, or make the plan again with `portalctl plan --out`",
            )
        raise UsageError(
            f"{local.as_posix()} (used by {plan.spec}) is not in this folder",
            hint="run `portalctl apply` from the folder where the plan was made (paths in "
            "a plan file are relative to it)",
        )


def read_local(plan: Plan, path: str) -> bytes:
    """A file the plan uses, read as ``validate`` reads it: inside the spec's folder (or a
    base's), a regular file, never past its size cap, so a body file swapped for a FIFO or
    a link to /dev/zero since the plan was made is refused at once (UsageError, exit 3)."""
    from reconciler.spec.files import check_local_file

    return check_local_file(
        plan.desired.spec_path.parent,
        path,
        max_bytes=max(LOGO_MAX_BYTES, BODY_MAX_BYTES),
        allowed=[source.parent for source in plan.desired.sources],
    )


def _local_file(plan: Plan, path: str) -> Path:
    desired = plan.desired
    if isinstance(desired.logo, DesiredLogo) and desired.logo.file.path == path:
        return desired.logo.file.abs_path
    for tpl in desired.templates.values():
        if isinstance(tpl, DesiredTemplate) and tpl.body_file and tpl.body_file.path == path:
            return tpl.body_file.abs_path
    for locales in desired.translations.values():
        for tr in locales.values():
            if isinstance(tr, DesiredTranslation) and tr.body_file and tr.body_file.path == path:
                return tr.body_file.abs_path
    return desired.spec_path.parent / path


def check_etags(plan: Plan, live: LiveState) -> None:
    """StalePlanError when a resource the plan depends on changed since it was read."""
    now = live.etags()
    for resource in plan.managed_resources():
        then = plan.etags.get(resource)
        if then is None and "/locales/" in resource and resource in now:
            raise StalePlanError(
                f"the plan is stale: {resource} was created on the portal since the plan was "
                f"made (ETag {now[resource]})",
                resource=resource,
            )
        if then is None:
            continue
        if now.get(resource) != then:
            raise StalePlanError(
                f"the plan is stale: {resource} changed on the portal since the plan was made "
                f"(ETag {safe_line(then)} -> {safe_line(str(now.get(resource)))})",
                resource=resource,
            )


def settings_patch(changes: tuple[Change, ...]) -> dict[str, Any]:
    """One JSON merge-patch (RFC 7396) holding every changed settings field."""
    patch: dict[str, Any] = {}
    for change in changes:
        assert change.field is not None
        *parents, leaf = change.field.split(".")
        node = patch
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = change.after
    return patch


async def apply_plan(
    plan: Plan,
    client: PortalClient,
    *,
    allow_disruptive: bool = False,
    live: LiveState | None = None,
    on_write: Callable[[WriteStep], None] | None = None,
) -> ApplyResult:
    """Apply ``plan`` through ``client`` and verify the result.

    ``live``: the state the plan was just computed from (apply SPEC); when None (a saved
    plan) the portal is re-read and every ETag the plan depends on must be unchanged.
    """
    result = ApplyResult(plan)
    if not allow_disruptive:
        refuse_disruptive(plan)
    check_files(plan)
    if live is None:
        live = await client.read_state()
        check_etags(plan, live)
    steps = write_steps(plan)
    if not steps:
        log.info("apply.nothing", spec=plan.spec)
        return result
    etags = dict(live.etags())
    for index, step in enumerate(steps):
        try:
            await _write(step, plan, client, etags)
        except ReconcilerError as exc:
            log.info("apply.failed", resource=step.resource, error=str(exc))
            if not result.written:
                # Nothing was written: "stopped after 0 of N" (exit 5) would hide the cause,
                # so the cause itself goes out, with its own exit code (a 412 is 4, a 422 3,
                # a 403 6, a 500 1).
                _say_nothing_written(exc)
                raise
            partial = PartialApplyError(
                exc,
                applied=[t for s in result.written for t in s.titles],
                not_applied=[t for s in steps[index:] for t in s.titles],
            )
            if isinstance(exc, ConflictError):
                # Someone else changed a resource: exit 4 ("plan again"), lists still printed.
                partial.exit_code = ExitCode.CONFLICT
            raise partial from exc
        result.written.append(step)
        if on_write is not None:
            on_write(step)
    after = await client.read_state()
    left = compute_plan(plan.desired, after, target=plan.target, target_url=plan.target_url)
    if left.changes:
        # Our writes were accepted, yet the portal reads back otherwise: someone else wrote
        # in between (or the API rewrote a value). A conflict, like a 412: plan again.
        names = ", ".join(c.title for c in left.changes)
        raise ConflictError(
            f"apply wrote every change but the portal no longer matches {plan.spec}: "
            f"{names} changed again; another writer may be changing "
            f"{left.changes[0].resource} at the same time",
            resource=left.changes[0].resource,
            hint="run `portalctl plan` to see the difference, then apply again",
        )
    url = after.settings.get("portal_url")
    result.portal_url = url if isinstance(url, str) and url else None
    log.info("apply.verified", writes=len(result.written))
    return result


def _say_nothing_written(exc: ReconcilerError) -> None:
    """Add "nothing was written" to the message of a failure at the first write, unless the
    failure itself says that write may have been applied (a lost answer)."""
    if isinstance(exc, WriteOutcomeUnknown):
        exc.message = f"{exc.message}; no other change was written"
    else:
        exc.message = f"{exc.message}; nothing was written"


async def _write(step: WriteStep, plan: Plan, client: PortalClient, etags: dict[str, str]) -> None:
    desired = plan.desired
    if step.resource == LOGO:
        if step.action is Action.RESET:
            _, etag = await client.delete_logo(if_match=etags[SETTINGS])
        else:
            logo = desired.logo
            assert isinstance(logo, DesiredLogo)
            data = _read_checked(logo, plan)
            _, etag = await client.put_logo(
                data,
                content_type=logo.content_type,
                filename=logo.file.abs_path.name,
                if_match=etags[SETTINGS],
            )
        etags[SETTINGS] = etag
    elif step.resource == SETTINGS:
        patch = settings_patch(step.changes)
        _, etag = await client.patch_settings(patch, if_match=etags[SETTINGS])
        etags[SETTINGS] = etag
    elif "/locales/" in step.resource:
        await _write_translation(step, plan, client, etags)
    else:
        event = step.resource.split("/", 1)[1]
        if step.action is Action.RESET:
            tpl = await client.delete_template(event, if_match=etags[step.resource])
        else:
            want = desired.templates[event]
            assert isinstance(want, DesiredTemplate)
            tpl = await client.put_template(
                event, subject=want.subject, body=want.body, if_match=etags[step.resource]
            )
        etags[step.resource] = tpl.etag
    log.info(
        "apply.write",
        resource=step.resource,
        action=step.action.value,
        fields=[c.field for c in step.changes if c.field] or None,
    )


async def _write_translation(
    step: WriteStep, plan: Plan, client: PortalClient, etags: dict[str, str]
) -> None:
    """PUT (If-Match, or If-None-Match: * when the plan saw none) or DELETE one translation."""
    event, locale = step.resource.removeprefix("templates/").split("/locales/", 1)
    if step.action is Action.RESET:
        await client.delete_translation(event, locale, if_match=etags[step.resource])
        etags.pop(step.resource, None)
        return
    want = plan.desired.translations[event][locale]
    assert isinstance(want, DesiredTranslation)
    # The plan saw no such translation: create it only if it still does not exist.
    creating = step.changes[0].before is None
    written = await client.put_translation(
        event,
        locale,
        subject=want.subject,
        body=want.body,
        if_match=None if creating else etags[step.resource],
    )
    etags[step.resource] = written.etag


def _read_checked(logo: DesiredLogo, plan: Plan) -> bytes:
    data = read_local(plan, logo.file.path)
    if hashlib.sha256(data).hexdigest() != logo.file.sha256:
        raise StalePlanError(
            f"the plan is stale: {logo.file.path} changed while applying {plan.spec}",
            resource=logo.file.path,
        )
    return data
