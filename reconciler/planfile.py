"""Saved plans: the plan file format, save, load, recognise, names, stale clean-up.

A plan file is the JSON of ``plan_to_dict(plan)``: the changes a reviewer saw, the ETag of
every resource read, the sha256 of every local file used and the desired state itself (so
apply needs no second read of portal.yaml), sealed with a checksum. It never holds a key.

The logo is NOT embedded: the plan records its path (relative to the spec) and sha256, and
apply re-reads the file and refuses the plan if the hash moved. Template bodies ARE embedded
(they are small and are what the reviewer saw in the diff); their files' hashes are checked
too, so a plan never applies content that differs from the repository it was made from.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import __version__
from reconciler.errors import UsageError
from reconciler.model import (
    RESET,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    Diagnostic,
    LocalFile,
    Origin,
    ResetToDefault,
    Severity,
    TargetSpec,
)
from reconciler.plan import Change, Plan

if TYPE_CHECKING:
    from reconciler.reconcile import PortalRun

#: Version of the plan document written by ``plan_to_dict`` (plan files and their checksum).
PLAN_FORMAT_VERSION = 1

#: Suffix of the plan files ``plan SPEC... --out DIR`` writes (``<spec stem>.plan.json``).
PLAN_SUFFIX = ".plan.json"


# --- the document ------------------------------------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan as JSON data: the one source for plan files, their checksum and the JSON
    output's per-portal ``plan``."""
    body: dict[str, Any] = {
        "format_version": PLAN_FORMAT_VERSION,
        "portalctl_version": plan.version,
        "created_at": plan.created_at,
        "target": {"description": plan.target, "url": plan.target_url},
        "spec": plan.spec,
        "has_changes": plan.has_changes,
        "summary": {**plan.counts(), "disruptive": len(plan.disruptive)},
        "changes": [c.to_dict() for c in plan.changes],
        "etags": dict(sorted(plan.etags.items())),
        "files": dict(sorted(plan.files.items())),
        "desired": desired_to_dict(plan.desired),
    }
    if plan.diagnostics:
        body["diagnostics"] = [d.to_dict() for d in plan.diagnostics]
    body["checksum"] = _checksum(body)
    return body


def plan_from_dict(data: Mapping[str, Any], *, source: str = "plan") -> Plan:
    """Rebuild a plan; UsageError on a wrong format version, checksum or shape."""
    if not isinstance(data, Mapping) or "format_version" not in data:
        raise UsageError(f"{source}: not a portalctl plan file (no format_version)")
    version = data["format_version"]
    if version != PLAN_FORMAT_VERSION:
        raise UsageError(
            f"{source}: plan format_version {version!r} is not supported by portalctl "
            f"{__version__} (it reads version {PLAN_FORMAT_VERSION})",
            hint="make the plan again with this portalctl version",
        )
    if data.get("checksum") != _checksum(data):
        raise UsageError(
            f"{source}: the plan file was modified or is corrupt (checksum mismatch)",
            hint="plan files must not be edited; make the plan again with `portalctl plan --out`",
        )
    try:
        spec = str(data["spec"])
        target = data["target"]
        return Plan(
            target=str(target["description"]),
            target_url=target.get("url"),
            spec=spec,
            changes=tuple(Change.from_dict(c) for c in data["changes"]),
            etags=_etags(data["etags"], source),
            desired=desired_from_dict(data["desired"], spec),
            diagnostics=tuple(_diagnostic(d) for d in data.get("diagnostics") or ()),
            created_at=str(data["created_at"]),
            version=str(data["portalctl_version"]),
        )
    except KeyError as exc:
        raise UsageError(f"{source}: not a valid portalctl plan file (no {exc} field)") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise UsageError(f"{source}: not a valid portalctl plan file ({exc})") from exc


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    return Diagnostic(
        rule=str(data["rule"]),
        severity=Severity(data["severity"]),
        origin=Origin(str(data["file"]), int(data["line"]), int(data["col"])),
        path=str(data["path"]),
        message=str(data["message"]),
        hint=None if data.get("hint") is None else str(data["hint"]),
    )


def _etags(data: Mapping[str, Any], source: str) -> dict[str, str]:
    """The recorded ETags, each as the API layer checks them (they are quoted back in
    If-Match headers and stale-plan messages: a crafted file cannot smuggle controls)."""
    from reconciler.api.shapes import ShapeError, check_etag

    out: dict[str, str] = {}
    for resource, etag in dict(data).items():
        try:
            out[str(resource)] = check_etag(etag, f"etags.{resource}")
        except ShapeError as exc:
            raise UsageError(f"{source}: not a valid portalctl plan file ({exc})") from exc
    return out


def _checksum(body: Mapping[str, Any]) -> str:
    data = {k: v for k, v in body.items() if k != "checksum"}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _file_to_dict(local: LocalFile) -> dict[str, Any]:
    return {"path": local.path, "sha256": local.sha256, "size": local.size}


def _file_from_dict(data: Mapping[str, Any], spec_dir: Path) -> LocalFile:
    path = str(data["path"])
    return LocalFile(path, spec_dir / path, str(data["sha256"]), int(data["size"]))


def desired_to_dict(desired: DesiredState) -> dict[str, Any]:
    """The desired state as JSON data (logo/template: absent = unmanaged, "default" = reset)."""
    out: dict[str, Any] = {
        "target": None
        if desired.target is None
        else {"api_url": desired.target.api_url, "api_key_env": desired.target.api_key_env},
        "settings": _plain(desired.settings),
        "templates": {},
    }
    if len(desired.sources) > 1:
        out["sources"] = [str(path) for path in desired.sources]
    if isinstance(desired.logo, ResetToDefault):
        out["logo"] = "default"
    elif isinstance(desired.logo, DesiredLogo):
        out["logo"] = {
            **_file_to_dict(desired.logo.file),
            "content_type": desired.logo.content_type,
            "width": desired.logo.width,
            "height": desired.logo.height,
        }
    for event in sorted(desired.templates):
        tpl = desired.templates[event]
        if isinstance(tpl, DesiredTemplate):
            out["templates"][event] = {
                "subject": tpl.subject,
                "body": tpl.body,
                "body_file": None if tpl.body_file is None else _file_to_dict(tpl.body_file),
            }
        else:
            out["templates"][event] = "default"
    if desired.translations:
        out["translations"] = _translations_to_dict(desired)
    return out


def _translations_to_dict(desired: DesiredState) -> dict[str, Any]:
    """event -> tag -> translation (or "default": remove it); absent languages unmanaged."""
    out: dict[str, Any] = {}
    for event, locales in sorted(desired.translations.items()):
        out[event] = {}
        for tag, tr in sorted(locales.items()):
            if not isinstance(tr, DesiredTranslation):
                out[event][tag] = "default"
                continue
            out[event][tag] = {
                "subject": tr.subject,
                "body": tr.body,
                "body_file": None if tr.body_file is None else _file_to_dict(tr.body_file),
            }
    return out


def _translations_from_dict(
    data: Any, spec_dir: Path
) -> dict[str, dict[str, DesiredTranslation | ResetToDefault]]:
    out: dict[str, dict[str, DesiredTranslation | ResetToDefault]] = {}
    for event, locales in dict(data or {}).items():
        for tag, tr in dict(locales).items():
            if tr == "default":
                out.setdefault(event, {})[tag] = RESET
                continue
            body_file = tr.get("body_file")
            out.setdefault(event, {})[tag] = DesiredTranslation(
                event,
                str(tag),
                str(tr["subject"]),
                str(tr["body"]),
                None if body_file is None else _file_from_dict(body_file, spec_dir),
            )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def desired_from_dict(data: Mapping[str, Any], spec: str) -> DesiredState:
    spec_path = Path(spec)
    spec_dir = spec_path.parent
    target = data.get("target")
    logo_data = data.get("logo")
    logo: DesiredLogo | ResetToDefault | None = None
    if logo_data == "default":
        logo = RESET
    elif isinstance(logo_data, Mapping):
        logo = DesiredLogo(
            _file_from_dict(logo_data, spec_dir),
            str(logo_data["content_type"]),
            logo_data.get("width"),
            logo_data.get("height"),
        )
    templates: dict[str, DesiredTemplate | ResetToDefault] = {}
    for event, tpl in dict(data.get("templates") or {}).items():
        if tpl == "default":
            templates[event] = RESET
            continue
        body_file = tpl.get("body_file")
        templates[event] = DesiredTemplate(
            event,
            str(tpl["subject"]),
            str(tpl["body"]),
            None if body_file is None else _file_from_dict(body_file, spec_dir),
        )
    return DesiredState(
        spec_path=spec_path,
        settings=dict(data.get("settings") or {}),
        logo=logo,
        templates=templates,
        target=None if not target else TargetSpec(target.get("api_url"), target.get("api_key_env")),
        sources=tuple(Path(str(p)) for p in data.get("sources") or (spec,)),
        translations=_translations_from_dict(data.get("translations"), spec_dir),
    )


# --- files -------------------------------------------------------------------------------------


def save_plan(plan: Plan, path: Path) -> None:
    """Write the plan file, atomically (a crash never leaves half a plan to apply)."""
    text = json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the plan file: {exc.strerror}") from exc


#: A plan file larger than this is not one portalctl wrote (bodies are capped at 64 KiB).
MAX_PLAN_BYTES = 8 * 1024 * 1024


def load_plan(path: Path) -> Plan:
    """Read and check a plan file written by ``save_plan``."""
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            raise UsageError(
                f"{path}: not a portalctl plan file (larger than {MAX_PLAN_BYTES:,} bytes)"
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UsageError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the plan file: {exc}") from exc
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise UsageError(f"{path}: not a portalctl plan file (invalid JSON)") from exc
    return plan_from_dict(data, source=str(path))


def looks_like_plan_file(path: Path) -> bool:
    """True when ``path`` holds a JSON plan (as opposed to a portal.yaml spec)."""
    if path.name.endswith(PLAN_SUFFIX):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.lstrip().startswith(b"{") and b'"format_version"' in head


def plan_file_names(specs: Sequence[Path]) -> dict[Path, str]:
    """``<spec stem>.plan.json`` per spec; stems shared by several specs (``a/portal.yaml``,
    ``b/portal.yaml``, or ``x/A.yaml`` and ``y/a.yaml`` on a case-insensitive file system)
    are told apart by their folders (``a-portal.plan.json``).

    Every name is unique (compared case-insensitively, as some file systems do): when two
    specs would still share one (``a.yaml`` and ``a.yml``), UsageError (exit 3) names both,
    so no plan file silently overwrites another and no portal is left out of ``apply DIR``.
    """
    stems: dict[str, list[Path]] = {}
    for spec in specs:
        stems.setdefault(spec.stem.casefold(), []).append(spec)
    names: dict[Path, str] = {}
    for group in stems.values():
        if len(group) == 1:
            names[group[0]] = group[0].stem + PLAN_SUFFIX
            continue
        resolved = [p.resolve() for p in group]
        common = Path(os.path.commonpath([str(p.parent) for p in resolved]))
        for spec, full in zip(group, resolved, strict=True):
            rel = full.relative_to(common).with_suffix("")
            names[spec] = "-".join(rel.parts) + PLAN_SUFFIX
    owners: dict[str, Path] = {}
    for spec in specs:
        name = names[spec]
        first = owners.setdefault(name.casefold(), spec)
        if first != spec:
            raise UsageError(
                f"{first} and {spec} would both be saved as the plan file {name}, and one "
                "would overwrite the other",
                hint="rename one of the specs, or plan them with separate --out folders",
            )
    return names


def prepare_out_dir(out: Path) -> None:
    """Create the folder ``plan --out DIR`` writes into (UsageError when it is a file)."""
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out}: is a file, but several specs need a folder for their plan files",
            hint="name a folder (it is created if missing), e.g. --out plans/",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the folder: {exc.strerror}") from exc


def remove_stale_plans(out: Path, written: Iterable[Path]) -> list[Path]:
    """Delete every plan file in ``out`` this run did not write (the plan of a portal that
    failed, or of a spec since removed): `apply DIR` applies every plan file it finds, so an
    old one left there would be applied as if it were current. Returns what was removed."""
    keep = set(written)
    removed: list[Path] = []
    for path in sorted(out.glob(f"*{PLAN_SUFFIX}")):
        if path in keep or not path.is_file():
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(
                f"{path}: cannot remove this stale plan file: {exc.strerror}",
                hint="delete it by hand before running `portalctl apply` on the folder",
            ) from exc
        removed.append(path)
    return removed


def save_runs(runs: Sequence[PortalRun], out: Path, *, one_file: bool) -> list[str]:
    """Save each planned run's plan; return what to tell the user (stderr lines).

    ``one_file``: ``out`` is the plan file of the one portal (``plan portal.yaml --out
    plan.json``). Otherwise ``out`` is a folder receiving ``<spec stem>.plan.json`` per
    portal, and every other plan file there is removed (``remove_stale_plans``)."""
    if one_file:
        plan = runs[0].plan if runs else None
        if plan is None:
            return []
        save_plan(plan, out)
        return [f"portalctl: plan saved to {out}"]
    names = plan_file_names([r.source for r in runs])
    prepare_out_dir(out)
    written = []
    for run in runs:
        if run.plan is not None and run.error is None:
            save_plan(run.plan, out / names[run.source])
            written.append(out / names[run.source])
    lines = [f"portalctl: removed stale plan file {p}" for p in remove_stale_plans(out, written)]
    files = "plan file" if len(written) == 1 else "plan files"
    return [*lines, f"portalctl: {len(written):,} {files} saved to {out}"]
