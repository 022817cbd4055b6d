"""Re-check a desired state read back from a saved plan, with the rules ``validate`` uses.

A plan file is JSON that sits in a CI artifact or a folder between ``plan`` and ``apply``:
it, or the files it names, may have been edited or swapped since. So before ``apply
PLAN.json`` writes anything, the state it carries goes through the same schema, character,
template and lint rules as a spec, and every file it names through the same checks as
``validate`` (relative, inside the spec's folder or a base's, a regular file, size caps
known before reading, a real PNG/JPEG of sane size). Diagnostics point at the plan file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.errors import SpecError, UsageError
from reconciler.images import NotAnImage, dimension_problem, sniff_image
from reconciler.model import (
    BODY_MAX_BYTES,
    LOGO_MAX_BYTES,
    DesiredLogo,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    Diagnostic,
    Origin,
    Severity,
)
from reconciler.spec import files, textcheck
from reconciler.spec.ytree import YMap, YNode, YScalar, YSeq, dotted, walk

__all__ = ["check_saved_state"]


def check_saved_state(state: DesiredState, *, plan_file: str) -> list[Diagnostic]:
    """Check ``state`` (from the saved plan ``plan_file``) as ``validate`` checks a spec.

    Returns the warnings and notices. Raises ``SpecError`` (exit 3) carrying every error,
    or ``UsageError`` (exit 3) when a file it names is missing, outside the allowed
    folders, not a regular file (a FIFO, ``/dev/zero``) or over its size cap; files are
    never read past their cap. Whether a file's sha256 still matches the plan stays the
    caller's check (a stale plan, exit 4).
    """
    from reconciler.spec.build import Built, TextSource
    from reconciler.spec.lint import lint, template_syntax
    from reconciler.spec.schema import schema_diagnostics

    here = Origin(plan_file, 1, 1)
    tree = _tree(_as_spec(state), here)
    assert isinstance(tree, YMap)
    found, _bad = schema_diagnostics(tree, plan_file)
    for path, node in walk(tree):
        if isinstance(node, YScalar) and isinstance(node.value, str):
            hit = textcheck.first_forbidden(node.value, multiline=textcheck.is_multiline(path))
            if hit is not None:
                found.append(
                    Diagnostic(
                        "control-character",
                        Severity.ERROR,
                        here,
                        dotted(path),
                        f"the value contains {textcheck.char_name(hit[1])}, "
                        f"{textcheck.kind_of(hit[1])}",
                        "make the plan again from a spec that passes `portalctl validate`",
                    )
                )
    found += _check_files(state, here)
    built = Built(state)
    for event, template in sorted(state.templates.items()):
        if isinstance(template, DesiredTemplate):
            base = f"portal.notifications.{event}"
            built.sources[event] = (
                TextSource(template.subject, here, f"{base}.subject"),
                TextSource(template.body, here, f"{base}.body"),
            )
    for event, locales in sorted(state.translations.items()):
        for tag, translation in sorted(locales.items()):
            if isinstance(translation, DesiredTranslation):
                base = f"portal.notifications.{event}.locales.{tag}"
                built.sources[f"{event}.locales.{tag}"] = (
                    TextSource(translation.subject, here, f"{base}.subject"),
                    TextSource(translation.body, here, f"{base}.body"),
                )
    found += template_syntax(built, tree)
    if not any(d.severity is Severity.ERROR for d in found):
        # The other rules of meaning assume well-formed values (a hex colour...).
        found += [d for d in lint(built, tree) if d.rule != "template-syntax"]
    errors = [d for d in found if d.severity is Severity.ERROR]
    if errors:
        raise SpecError(errors)
    return found


def _as_spec(state: DesiredState) -> dict[str, Any]:
    """The state written back as the spec it came from (bodies inline)."""
    portal: dict[str, Any] = {key: _plain(value) for key, value in state.settings.items()}
    if state.logo is not None:
        branding = dict(portal.get("branding") or {})
        branding["logo"] = state.logo.file.path if isinstance(state.logo, DesiredLogo) else None
        portal["branding"] = branding
    if state.templates:
        portal["notifications"] = {
            event: {"subject": tpl.subject, "body": tpl.body}
            if isinstance(tpl, DesiredTemplate)
            else "default"
            for event, tpl in state.templates.items()
        }
    for event, locales in state.translations.items():
        notifications = portal.setdefault("notifications", {})
        entry = notifications.setdefault(event, {})
        if isinstance(entry, dict):  # "default" cannot carry locales: the schema says so
            entry["locales"] = {
                tag: {"subject": tr.subject, "body": tr.body}
                if isinstance(tr, DesiredTranslation)
                else "default"
                for tag, tr in locales.items()
            }
        else:
            notifications[event] = {"locales": {}}
    spec: dict[str, Any] = {"version": 1, "portal": portal}
    if state.target is not None:
        target = {"api_url": state.target.api_url, "api_key_env": state.target.api_key_env}
        spec["target"] = {key: value for key, value in target.items() if value is not None}
    return spec


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _tree(value: Any, origin: Origin) -> YNode:
    if isinstance(value, Mapping):
        entries: dict[str, YNode] = {}
        for key, child in value.items():
            node = _tree(child, origin)
            node.key_origin = origin
            entries[str(key)] = node
        return YMap(origin, 0, 0, entries=entries)
    if isinstance(value, list | tuple):
        return YSeq(origin, 0, 0, items=[_tree(item, origin) for item in value])
    return YScalar(origin, 0, 0, value=value, raw=str(value), plain=False)


def _allowed(state: DesiredState) -> Sequence[Path]:
    return [source.parent for source in state.sources]


def _check_files(state: DesiredState, here: Origin) -> list[Diagnostic]:
    spec_dir, allowed = state.spec_path.parent, _allowed(state)
    out: list[Diagnostic] = []
    if isinstance(state.logo, DesiredLogo):
        rel = state.logo.file.path
        data = files.check_local_file(
            spec_dir, rel, max_bytes=LOGO_MAX_BYTES, what="logo", allowed=allowed
        )
        problem: str | None
        try:
            info = sniff_image(data)
            problem = dimension_problem(info)
            if problem is not None:
                problem = f"declares {info.width}x{info.height} px; {problem}"
        except NotAnImage as exc:
            problem = str(exc)
        if problem is not None:
            out.append(
                Diagnostic(
                    "logo-not-image" if "declares" not in problem else "logo-dimensions",
                    Severity.ERROR,
                    here,
                    "portal.branding.logo",
                    f"{files.shown(rel)} {problem}",
                    "export it at the recommended 200x50 px (a transparent PNG)",
                )
            )
    bodies = [
        (f"portal.notifications.{event}.body_file", template.body_file)
        for event, template in sorted(state.templates.items())
        if isinstance(template, DesiredTemplate) and template.body_file is not None
    ] + [
        (f"portal.notifications.{event}.locales.{tag}.body_file", tr.body_file)
        for event, locales in sorted(state.translations.items())
        for tag, tr in sorted(locales.items())
        if isinstance(tr, DesiredTranslation) and tr.body_file is not None
    ]
    for where, body_file in bodies:
        if body_file is not None:
            rel = body_file.path
            data = files.check_local_file(
                spec_dir, rel, max_bytes=BODY_MAX_BYTES, what="template", allowed=allowed
            )
            try:
                text = data.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                raise UsageError(
                    f"{rel}: is not UTF-8 text",
                    hint="make the plan again from a spec that passes `portalctl validate`",
                ) from None
            hit = textcheck.first_forbidden(text, multiline=True)
            if hit is not None:
                out.append(
                    Diagnostic(
                        "control-character",
                        Severity.ERROR,
                        here,
                        where,
                        f"{files.shown(rel)} contains {textcheck.char_name(hit[1])}, "
                        f"{textcheck.kind_of(hit[1])}",
                        textcheck.hint_for(hit[1], multiline=True),
                    )
                )
    return out
