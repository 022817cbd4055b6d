"""Desired + live -> ``Plan``: the ordered list of ``Change``s that would make the portal match.

Modelled on octoDNS's Plan/Change: every change holds both sides, the plan sorts, counts and
serialises itself, and knows which of its changes are disruptive. Its JSON form (plan files, the
JSON output) is ``reconciler.planfile.plan_to_dict``.

Ownership: only what ``DesiredState`` names is compared. Read-only live fields (portal_url,
updated_at, logo url/width/height/...) are never compared.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconciler import __version__
from reconciler.diff import MISSING, diff_tree, normalise_text, text_diff
from reconciler.model import (
    LOGO_RESOURCE,
    RESET,
    SETTINGS_RESOURCE,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    Diagnostic,
    LiveState,
    Origin,
    template_resource,
    translation_resource,
)
from reconciler.textsafe import safe_line

SETTINGS = SETTINGS_RESOURCE
LOGO = LOGO_RESOURCE


class Stage(enum.IntEnum):
    """Which write a change belongs to; the value is the execution order.

    The logo goes first (its write also moves the settings ETag, which the PATCH then
    chains), templates next, and the one settings PATCH last, so that a PATCH disabling
    the portal never runs before the content it would hide is in place.
    """

    LOGO = 1
    TEMPLATES = 2
    SETTINGS = 3


class Action(enum.Enum):
    """What a change does. ``symbol`` is the Terraform-like mark used by the renderers."""

    UPDATE = "update"
    UPLOAD = "upload"
    RESET = "reset"

    @property
    def symbol(self) -> str:
        return {"update": "~", "upload": "+", "reset": "-"}[self.value]


#: settings field -> why turning it off (to False) is disruptive.
DISRUPTIVE_WHEN_FALSE: dict[str, str] = {
    "enabled": "disables the portal: every portal link already sent in emails stops working, "
    "and the portal URL may change when it is enabled again",
    "permissions.update_payment_methods": "customers can no longer update their payment "
    "method, so a failed payment cannot be fixed from the portal",
    "permissions.download_invoices": "customers can no longer download their invoices",
    "permissions.view_payment_history": "customers can no longer see their payment history",
}


@dataclass(frozen=True)
class Change:
    """One difference between the spec and the portal, with both sides.

    ``resource`` is ``settings``, ``settings/logo`` or ``templates/<event>``; ``field`` is
    the dotted settings path (``branding.primary_color``) for settings changes, else None.
    ``before``/``after`` are JSON values: the live and desired value of a settings field;
    ``{"subject", "is_default"}`` / ``{"subject"}`` for templates (the body as
    ``body_diff``, a unified diff); logo metadata for the logo (``after`` None on reset).
    """

    resource: str
    action: Action
    stage: Stage
    field: str | None
    before: Any
    after: Any
    disruptive: bool = False
    reason: str | None = None
    origin: Origin | None = None
    body_diff: str | None = None

    @property
    def title(self) -> str:
        """Short human name, used in progress lines and PartialApplyError lists."""
        name = f"{self.resource} {self.field}" if self.field else self.resource
        return f"{self.action.value} {name}"

    def sort_key(self) -> tuple[int, str, int, str]:
        # Within the settings PATCH, show a portal disable last: it is the riskiest line.
        disabling = int(self.field == "enabled" and self.after is False)
        return (self.stage.value, self.resource, disabling, self.field or "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "action": self.action.value,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "disruptive": self.disruptive,
            "reason": self.reason,
            "origin": _origin_to_dict(self.origin),
            "body_diff": self.body_diff,
            "title": self.title,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        resource = str(data["resource"])
        if resource == SETTINGS:
            stage = Stage.SETTINGS
        elif resource == LOGO:
            stage = Stage.LOGO
        else:
            stage = Stage.TEMPLATES
        return cls(
            resource=resource,
            action=Action(data["action"]),
            stage=stage,
            field=data.get("field"),
            before=data.get("before"),
            after=data.get("after"),
            disruptive=bool(data.get("disruptive", False)),
            reason=data.get("reason"),
            origin=_origin_from_dict(data.get("origin")),
            body_diff=data.get("body_diff"),
        )


def _origin_to_dict(origin: Origin | None) -> dict[str, Any] | None:
    if origin is None:
        return None
    return {"file": origin.file, "line": origin.line, "col": origin.col}


def _origin_from_dict(data: Any) -> Origin | None:
    if not isinstance(data, Mapping):
        return None
    return Origin(str(data["file"]), int(data["line"]), int(data["col"]))


@dataclass(frozen=True)
class Plan:
    """Everything needed to show, check and apply one reconciliation, and nothing secret.

    ``desired`` is the spec as loaded (so apply needs no second read of portal.yaml);
    ``etags`` the ETag of every resource read; ``files`` the sha256 of every local file the
    spec uses. Serialise with ``planfile.plan_to_dict`` (never hand-build the JSON elsewhere).
    """

    target: str
    target_url: str | None
    spec: str
    changes: tuple[Change, ...]
    etags: Mapping[str, str]
    desired: DesiredState
    #: What validate said of the spec (warnings, notices): shown beside the plan, kept in
    #: plan files so ``show`` prints what ``plan`` printed.
    diagnostics: tuple[Diagnostic, ...] = ()
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat()
    )
    version: str = __version__

    @property
    def files(self) -> dict[str, str]:
        return self.desired.files

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def disruptive(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.disruptive)

    def counts(self) -> dict[str, int]:
        out = {action.value: 0 for action in Action}
        for change in self.changes:
            out[change.action.value] += 1
        return out

    def managed_resources(self) -> list[str]:
        """Resources whose state this plan depends on (their ETags must not move)."""
        out: list[str] = []
        if self.desired.settings or self.desired.logo is not None:
            out.append(SETTINGS)
        out.extend(template_resource(event) for event in sorted(self.desired.templates))
        for event, locales in sorted(self.desired.translations.items()):
            out.extend(translation_resource(event, tag) for tag in sorted(locales))
        return out

    def summary_line(self) -> str:
        if not self.changes:
            return f"No changes. The portal matches {safe_line(_basename(self.spec))}."
        return f"Plan: {self.counts_text()}."

    def counts_text(self) -> str:
        """``3 to change, 1 to upload, 0 to reset``: how every renderer counts a plan."""
        c = self.counts()
        return f"{c['update']} to change, {c['upload']} to upload, {c['reset']} to reset"


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


# --- planning --------------------------------------------------------------------------------


def compute_plan(
    desired: DesiredState,
    live: LiveState,
    *,
    target: str,
    target_url: str | None = None,
    created_at: str | None = None,
    diagnostics: tuple[Diagnostic, ...] = (),
) -> Plan:
    """Compare ``desired`` with ``live`` and return the plan (changes in execution order)."""
    changes: list[Change] = []
    changes.extend(_logo_changes(desired, live))
    changes.extend(_template_changes(desired, live))
    changes.extend(_translation_changes(desired, live))
    changes.extend(_settings_changes(desired, live))
    changes.sort(key=Change.sort_key)
    extra: dict[str, Any] = {"created_at": created_at} if created_at else {}
    return Plan(
        target=target,
        target_url=target_url,
        spec=str(desired.spec_path),
        changes=tuple(changes),
        etags=live.etags(),
        desired=desired,
        diagnostics=diagnostics,
        **extra,
    )


def _origin(desired: DesiredState, dotted: str) -> Origin | None:
    return desired.origins.get(dotted)


def _settings_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    out: list[Change] = []
    for diff in diff_tree(live.settings, desired.settings):
        before = None if diff.before is MISSING else diff.before
        reason = DISRUPTIVE_WHEN_FALSE.get(diff.dotted)
        disruptive = reason is not None and diff.after is False and before is not False
        out.append(
            Change(
                resource=SETTINGS,
                action=Action.UPDATE,
                stage=Stage.SETTINGS,
                field=diff.dotted,
                before=before,
                after=diff.after,
                disruptive=disruptive,
                reason=reason if disruptive else None,
                origin=_origin(desired, f"portal.{diff.dotted}"),
            )
        )
    return out


def _logo_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    want = desired.logo
    have = live.logo
    before = (
        {"sha256": have.get("sha256"), "content_type": have.get("content_type")}
        if have is not None
        else None
    )
    origin = _origin(desired, "portal.branding.logo")
    if want is RESET:
        if have is None:
            return []
        return [Change(LOGO, Action.RESET, Stage.LOGO, None, before, None, origin=origin)]
    if not isinstance(want, DesiredLogo):
        return []
    if have is not None and str(have.get("sha256", "")).lower() == want.file.sha256.lower():
        return []
    after = {
        "file": want.file.path,
        "sha256": want.file.sha256,
        "content_type": want.content_type,
        "size": want.file.size,
    }
    return [Change(LOGO, Action.UPLOAD, Stage.LOGO, None, before, after, origin=origin)]


def _template_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    out: list[Change] = []
    for event in sorted(desired.templates):
        want = desired.templates[event]
        # Every event is present: the API layer refuses a template list that lacks one
        # (api/shapes.py), so a plan never has to guess what a missing template means.
        have = live.templates[event]
        resource = template_resource(event)
        origin = _origin(desired, f"portal.notifications.{event}")
        before = {"subject": have.subject, "is_default": have.is_default}
        if want is RESET:
            if not have.is_default:
                out.append(
                    Change(
                        resource,
                        Action.RESET,
                        Stage.TEMPLATES,
                        None,
                        before,
                        {"is_default": True},
                        origin=origin,
                    )
                )
            continue
        if not isinstance(want, DesiredTemplate):
            continue
        new_body = normalise_text(want.body)
        old_body = normalise_text(have.body)
        if want.subject == have.subject and new_body == old_body:
            continue
        tofile = want.body_file.path if want.body_file is not None else f"{event} (inline body)"
        out.append(
            Change(
                resource,
                Action.UPDATE,
                Stage.TEMPLATES,
                None,
                before,
                {"subject": want.subject},
                origin=origin,
                body_diff=text_diff(old_body, new_body, fromfile=f"live {resource}", tofile=tofile)
                or None,
            )
        )
    return out


def _translation_changes(desired: DesiredState, live: LiveState) -> list[Change]:
    """One change per translation that differs: its own resource, diff and ETag.

    A translation the portal lacks is an ``update`` from nothing (``before`` None, the diff
    from an empty body); ``es: default`` on a translation the portal has is a ``reset``
    (removal: that language's customers get the event's template again).
    """
    out: list[Change] = []
    for event, locales in sorted(desired.translations.items()):
        # Every event is present (api/shapes.py refuses a list that lacks one).
        template = live.templates[event]
        for tag, want in sorted(locales.items()):
            have = template.locales.get(tag)
            resource = translation_resource(event, tag)
            origin = _origin(desired, f"portal.notifications.{event}.locales.{tag}")
            before = None if have is None else {"subject": have.subject}
            if want is RESET:
                if have is not None:
                    out.append(
                        Change(
                            resource,
                            Action.RESET,
                            Stage.TEMPLATES,
                            None,
                            before,
                            None,
                            origin=origin,
                        )
                    )
                continue
            if not isinstance(want, DesiredTranslation):
                continue
            new_body = normalise_text(want.body)
            old_body = "" if have is None else normalise_text(have.body)
            if have is not None and want.subject == have.subject and new_body == old_body:
                continue
            tofile = (
                want.body_file.path if want.body_file is not None else f"{resource} (inline body)"
            )
            fromfile = f"live {resource}" if have is not None else f"{resource} (none yet)"
            out.append(
                Change(
                    resource,
                    Action.UPDATE,
                    Stage.TEMPLATES,
                    None,
                    before,
                    {"subject": want.subject},
                    origin=origin,
                    body_diff=text_diff(old_body, new_body, fromfile=fromfile, tofile=tofile)
                    or None,
                )
            )
    return out
