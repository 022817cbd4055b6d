"""Live portal -> ``portal.yaml`` (+ ``templates/<event>.html``, ``templates/<event>.<tag>.html``,
``assets/logo.<ext>``).

The export names every managed area, so that ``export`` then ``plan`` shows no changes:
``enabled``, the branding (the logo as a file, or ``null`` when the portal has none), all four
permissions, and every notification event (a body file, or ``default`` when the template was
never customised) with its translations under ``locales:`` (one body file per language; an
event with translations but a never-customised template gets its default content written
out, since ``default`` cannot carry ``locales:``). ``company_name`` is left out (commented)
while the portal has none, since the spec cannot say "no name". The read-only ``portal_url``
is written as a comment.

Nothing is overwritten unless ``force`` is set; files are only written once every check has
passed, so a refused export leaves the folder untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler import SCHEMA_URL, __version__
from reconciler.errors import ReconcilerError, UsageError
from reconciler.logs import get_logger
from reconciler.model import (
    EVENTS,
    PERMISSIONS,
    PORTAL_LINK_VARIABLE,
    DesiredTemplate,
    DesiredTranslation,
    LiveTemplate,
)
from reconciler.spec.lint import links_to_portal

if TYPE_CHECKING:
    from reconciler.api import PortalClient
    from reconciler.model import LiveState

log = get_logger(__name__)

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML 1.2 double-quoted scalars)."""
    return json.dumps(value, ensure_ascii=False)


def _b(value: Any) -> str:
    return "true" if value else "false"


def render_spec(
    live: LiveState, *, logo_path: str | None, source: str
) -> tuple[str, dict[str, str]]:
    """The portal.yaml text for ``live``, and the template files it refers to (path -> body)."""
    settings = live.settings
    branding = settings.get("branding") or {}
    permissions = settings.get("permissions") or {}
    lines = [
        f"# yaml-language-server: $schema={SCHEMA_URL}",
        f"# Exported by portalctl {__version__} from {source}.",
    ]
    portal_url = settings.get("portal_url")
    lines.append(
        f"# portal_url (read-only, set by the portal when enabled): {portal_url}"
        if portal_url
        else "# portal_url (read-only): none yet; the portal makes one when it is enabled"
    )
    lines += ["version: 1", "portal:", f"  enabled: {_b(settings.get('enabled'))}", "  branding:"]
    if branding.get("company_name"):
        lines.append(f"    company_name: {_q(str(branding['company_name']))}")
    else:
        lines.append("    # company_name: not set on the portal")
    if branding.get("primary_color"):
        lines.append(f"    primary_color: {_q(str(branding['primary_color']))}")
    lines.append(f"    logo: {_q(logo_path) if logo_path else 'null'}")
    lines.append("  permissions:")
    for name in PERMISSIONS:
        if name in permissions:
            lines.append(f"    {name}: {_b(permissions[name])}")
    files: dict[str, str] = {}
    entries: list[str] = []
    disabled = settings.get("enabled") is False
    for event in EVENTS:
        tpl = live.templates.get(event)
        if tpl is None:
            continue
        if tpl.is_default and not tpl.locales:
            entries.append(f"    {event}: default")
            continue
        if disabled and links_to_portal(DesiredTemplate(event, tpl.subject, tpl.body)):
            # portal-disabled-with-links would refuse this spec; leaving the email unmanaged
            # keeps "export, then plan: no changes" true and says why.
            entries += [
                f"    # {event}: left out (unmanaged): the portal is disabled but this email",
                f"    #   links to it with {{{{{PORTAL_LINK_VARIABLE}}}}}; enable the portal or",
                "    #   remove the link, then export again",
            ]
            continue
        path = f"templates/{event}.html"
        files[path] = tpl.body
        entries += [
            f"    {event}:",
            f"      subject: {_q(tpl.subject)}",
            f"      body_file: {path}",
        ]
        entries += _locales(tpl, files, disabled=disabled)
    managed = any(not line.lstrip().startswith("#") for line in entries)
    lines.append("  notifications:" if managed else "  # notifications:")
    lines += entries
    return "\n".join(lines) + "\n", files


#: Tags YAML 1.1 readers would take for a boolean or null if written plain (``no``: Norwegian).
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _locales(tpl: LiveTemplate, files: dict[str, str], *, disabled: bool) -> list[str]:
    """The ``locales:`` lines of one event, adding each translation's body file to ``files``."""
    lines: list[str] = []
    for tag, tr in sorted(tpl.locales.items()):
        key = _q(tag) if tag.lower() in _YAML_WORDS else tag
        if disabled and links_to_portal(DesiredTranslation(tpl.event, tag, tr.subject, tr.body)):
            lines += [
                f"        # {key}: left out (unmanaged): the portal is disabled but this",
                f"        #   translation links to it with {{{{{PORTAL_LINK_VARIABLE}}}}}",
            ]
            continue
        path = f"templates/{tpl.event}.{tag}.html"
        files[path] = tr.body
        lines += [
            f"        {key}:",
            f"          subject: {_q(tr.subject)}",
            f"          body_file: {path}",
        ]
    if not any(not line.lstrip().startswith("#") for line in lines):
        return [line.replace("        #", "      #", 1) for line in lines]
    return ["      locales:", *lines]


async def export_portal(client: PortalClient, out_dir: Path, *, force: bool = False) -> list[Path]:
    """Read the portal through ``client``, write it under ``out_dir``, return the files."""
    live = await client.read_state()
    logo = live.logo
    logo_path: str | None = None
    logo_data: bytes | None = None
    if logo is not None:
        content_type = str(logo.get("content_type") or "")
        ext = _EXTENSIONS.get(content_type)
        if ext is None:
            raise ReconcilerError(
                f"the portal's logo has an unexpected content type {content_type!r}",
                hint="expected image/png or image/jpeg",
            )
        logo_data = await client.get_logo_file(logo)
        logo_path = f"assets/logo.{ext}"
    text, files = render_spec(live, logo_path=logo_path, source=client.target.describe())
    outputs: dict[Path, bytes] = {out_dir / "portal.yaml": text.encode("utf-8")}
    for rel, body in files.items():
        outputs[out_dir / rel] = body.encode("utf-8")
    if logo_path is not None and logo_data is not None:
        outputs[out_dir / logo_path] = logo_data
    existing = [p for p in outputs if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise UsageError(
            f"refusing to overwrite {names}",
            hint="export to an empty folder with --out DIR, or pass --force to overwrite",
        )
    written: list[Path] = []
    for path, data in outputs.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            raise UsageError(f"{path}: cannot write: {exc.strerror}") from exc
        written.append(path)
    log.info("export.written", files=len(written), out=str(out_dir))
    return written
