"""Property: for any valid spec, apply then plan shows no changes (hypothesis, in-process,
against one embedded sandbox whose state carries over from example to example)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.model import EVENTS, PERMISSIONS, SANDBOX_KEY, Secret, Target
from tests.helpers import apply, load, plan_spec

LOGO = Path(__file__).resolve().parents[2] / "examples" / "assets" / "logo.png"
WORDS = ["Invoice", "Your", "payment", "is", "ready", "Hola", "¡Gracias!", "and", "—", "€10"]
VARS = ["{{company_name}}", "{{customer_name}}", "{{invoice_number}}", "{{invoice_amount}}"]
LINK = "{{customer_portal_link}}"

hexcolour = st.text("0123456789abcdefABCDEF", min_size=6, max_size=6).map(lambda h: "#" + h)
name = st.text(
    st.characters(codec="utf-8", categories=["L", "N"], include_characters=" &.-'"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() == s and s.strip() != "")


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    enabled = draw(st.sampled_from([None, True, False]))
    if enabled is not None:
        spec["enabled"] = enabled
    branding: dict[str, Any] = {}
    if draw(st.booleans()):
        branding["company_name"] = draw(name)
    if draw(st.booleans()):
        branding["primary_color"] = draw(hexcolour)
    logo = draw(st.sampled_from(["unmanaged", "reset", "file"]))
    if logo != "unmanaged":
        branding["logo"] = None if logo == "reset" else "assets/logo.png"
    if branding:
        spec["branding"] = branding
    perms = draw(st.dictionaries(st.sampled_from(PERMISSIONS), st.booleans()))
    if perms:
        spec["permissions"] = perms
    words = WORDS + VARS + ([] if enabled is False else [LINK])
    notifications: dict[str, Any] = {}
    for event in draw(st.lists(st.sampled_from(EVENTS), unique=True)):
        if draw(st.booleans()):
            notifications[event] = "default"
            continue
        subject = " ".join(draw(st.lists(st.sampled_from(words), min_size=1, max_size=6)))
        lines = draw(
            st.lists(
                st.lists(st.sampled_from(words), max_size=6).map(" ".join), min_size=1, max_size=8
            )
        )
        crlf = draw(st.booleans())
        notifications[event] = {"subject": subject, "body": lines, "crlf": crlf}
    if notifications:
        spec["notifications"] = notifications
    return spec


def write_spec(folder: Path, spec: dict[str, Any]) -> Path:
    """portal.yaml (+ body files, logo) for ``spec``; strings as JSON = YAML double quotes."""
    out = ["version: 1", "portal:"]
    if "enabled" in spec:
        out.append(f"  enabled: {json.dumps(spec['enabled'])}")
    if "branding" in spec:
        out.append("  branding:")
        for key, value in spec["branding"].items():
            out.append(f"    {key}: {json.dumps(value, ensure_ascii=False)}")
        if spec["branding"].get("logo"):
            (folder / "assets").mkdir(exist_ok=True)
            shutil.copy(LOGO, folder / "assets" / "logo.png")
    if "permissions" in spec:
        out.append("  permissions:")
        out += [f"    {k}: {json.dumps(v)}" for k, v in spec["permissions"].items()]
    if "notifications" in spec:
        out.append("  notifications:")
        for event, tpl in spec["notifications"].items():
            if tpl == "default":
                out.append(f"    {event}: default")
                continue
            (folder / "templates").mkdir(exist_ok=True)
            body = ("\r\n" if tpl["crlf"] else "\n").join(tpl["body"]) + "\n"
            (folder / "templates" / f"{event}.html").write_bytes(body.encode("utf-8"))
            out += [
                f"    {event}:",
                f"      subject: {json.dumps(tpl['subject'], ensure_ascii=False)}",
                f"      body_file: templates/{event}.html",
            ]
    if len(out) == 2:
        out.append("  {}")  # an empty portal mapping: manages nothing
        out[1] = "portal:"
    path = folder / "portal.yaml"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def test_apply_then_plan_is_empty(tmp_path: Path) -> None:
    target = Target(url=None, api_key=Secret(SANDBOX_KEY), sandbox_db=tmp_path / "sandbox.db")
    written: list[int] = []

    @settings(
        max_examples=25,
        deadline=None,
        database=None,  # no .hypothesis/ folder outside tmp
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(specs())
    def check(spec: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
            path = write_spec(Path(folder), spec)
            desired, _ = load(path)
            planned = asyncio.run(plan_spec(desired, target))
            result = asyncio.run(
                apply(planned.plan, target, allow_disruptive=True, live=planned.live)
            )
            written.append(len(result.written))
            again = asyncio.run(plan_spec(desired, target))
            assert again.plan.changes == (), again.plan.changes

    check()
    # The property is not vacuous: the examples really changed the portal, many times.
    assert sum(written) >= 10, written
