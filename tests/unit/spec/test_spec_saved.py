"""check_saved_state: what ``apply PLAN.json`` runs on the state and files a saved plan
names, with the same rules as ``validate`` (issue 10)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import struct
import sys
import zlib
from pathlib import Path

import pytest

from reconciler.errors import ExitCode, SpecError, UsageError
from reconciler.model import DesiredTemplate
from reconciler.planfile import desired_from_dict, desired_to_dict
from reconciler.spec import load_spec
from reconciler.spec.saved import check_saved_state

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(ROOT / "examples" / "portal.yaml", tmp_path / "portal.yaml")
    shutil.copytree(ROOT / "examples" / "assets", tmp_path / "assets")
    shutil.copytree(ROOT / "examples" / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def saved() -> object:
    state, _ = load_spec("portal.yaml")
    return desired_from_dict(desired_to_dict(state), "portal.yaml")


def test_a_saved_example_passes(folder: Path) -> None:
    assert check_saved_state(saved(), plan_file="plan.json") == []  # type: ignore[arg-type]


def test_a_tampered_subject_is_refused_like_in_a_spec(folder: Path) -> None:
    state = saved()
    templates = dict(state.templates)  # type: ignore[attr-defined]
    invoice = templates["invoice_created"]
    assert isinstance(invoice, DesiredTemplate)
    templates["invoice_created"] = dataclasses.replace(invoice, subject="Invoice {{invoice_number")
    templates["payment_failed"] = dataclasses.replace(
        templates["payment_failed"], subject="Card declined\x1b]0;x\x07"
    )
    state = dataclasses.replace(state, templates=templates)  # type: ignore[type-var]
    with pytest.raises(SpecError) as caught:
        check_saved_state(state, plan_file="plan.json")
    assert caught.value.exit_code == ExitCode.INVALID
    assert [str(d) for d in caught.value.diagnostics] == [
        "plan.json:1:1: error: portal.notifications.payment_failed.subject: the value contains "
        "U+001B ESC, a control character; make the plan again from a spec that passes "
        "`portalctl validate` [control-character]",
        'plan.json:1:1: error: portal.notifications.invoice_created.subject: "{{invoice_number" '
        'is never closed: "{{" has no matching "}}" on its line; close it: {{invoice_number}} '
        "[template-syntax]",
    ]


def test_a_tampered_setting_fails_the_schema(folder: Path) -> None:
    state = saved()
    settings = {**state.settings, "branding": {"primary_color": "red", "favicon": "x"}}  # type: ignore[attr-defined]
    with pytest.raises(SpecError) as caught:
        check_saved_state(
            dataclasses.replace(state, settings=settings),  # type: ignore[type-var]
            plan_file="plan.json",
        )
    assert sorted(d.message for d in caught.value.diagnostics) == [
        '"red" is not a hex colour',
        'unknown key "favicon"',
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX file system")
def test_a_body_file_swapped_for_a_fifo_or_dev_zero_is_refused_at_once(folder: Path) -> None:
    state = saved()
    body = folder / "templates" / "payment_failed.html"
    body.unlink()
    os.mkfifo(body)
    with pytest.raises(UsageError) as caught:
        check_saved_state(state, plan_file="plan.json")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "templates/payment_failed.html: is not a regular file; point at the template file "
        "itself, e.g. templates/invoice_created.html"
    )
    body.unlink()
    body.symlink_to("/dev/zero")
    with pytest.raises(UsageError) as caught:
        check_saved_state(state, plan_file="plan.json")  # type: ignore[arg-type]
    assert str(caught.value).startswith(
        "templates/payment_failed.html: is a symlink to a file outside the spec's folder"
    )


def test_a_logo_swapped_for_an_absurd_one_is_refused(folder: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 100_000, 25_000, 8, 6, 0, 0, 0)
    state = saved()
    (folder / "assets" / "logo.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    )
    with pytest.raises(SpecError) as caught:
        check_saved_state(state, plan_file="plan.json")  # type: ignore[arg-type]
    assert [str(d) for d in caught.value.diagnostics] == [
        'plan.json:1:1: error: portal.branding.logo: "assets/logo.png" declares 100000x25000 '
        "px; a logo may be at most 4096 px a side; export it at the recommended 200x50 px (a "
        "transparent PNG) [logo-dimensions]"
    ]


def test_files_of_a_base_are_allowed_through_the_state_sources(folder: Path) -> None:
    (folder / "envs").mkdir()
    (folder / "envs" / "test.yaml").write_text("version: 1\nextends: ../portal.yaml\n")
    state, _ = load_spec("envs/test.yaml")
    assert "../assets/logo.png" in state.files
    assert check_saved_state(state, plan_file="plan.json") == []
    without_sources = dataclasses.replace(state, sources=())
    with pytest.raises(UsageError) as caught:
        check_saved_state(without_sources, plan_file="plan.json")
    assert str(caught.value).startswith("assets/logo.png: points outside the spec's folder")
