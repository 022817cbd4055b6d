"""`show` prints a saved plan exactly as `plan` printed it; `--shard K/N` splits a fleet so
that every portal is planned exactly once; several shards' plans merge into one rendering;
a base in a fleet folder is never planned as a portal; the JSON output has one shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import run
from reconciler.reconcile import Shard, shard_of
from tests.helpers.cli import copy_example

COLOUR = "version: 1\nportal:\n  branding:\n    primary_color: '{colour}'\n"


def portals(root: Path, count: int) -> list[str]:
    folder = root / "portals"
    folder.mkdir()
    names = []
    for index in range(count):
        spec = folder / f"p{index:02d}.yaml"
        key = f"  api_key_env: P{index:02d}_KEY\n"
        spec.write_text(
            COLOUR.format(colour=f"#{index:02d}5394").replace("portal:", f"target:\n{key}portal:")
        )
        names.append(f"portals/{spec.name}")
    return names


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_show_prints_byte_for_byte_what_plan_printed(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    spec = copy_example(embedded_env)
    assert run(["plan", spec, "--format", fmt, "--out", "plan.json"]) == 0
    printed = capsys.readouterr().out
    assert run(["show", "plan.json", "--format", fmt]) == 0
    shown = capsys.readouterr().out
    if fmt == "json":  # the target is not re-resolved by show: it is the plan's
        assert json.loads(shown)["portals"][0]["plan"] == json.loads(printed)["portals"][0]["plan"]
    else:
        assert shown == printed
    assert run(["show", "plan.json", "--detailed-exitcode"]) == 2


def test_show_refuses_what_is_not_a_plan(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = copy_example(embedded_env)
    assert run(["show", spec]) == 3
    assert capsys.readouterr().err == (
        "portalctl: error: examples/portal.yaml: not a plan file; show reads the files "
        "`portalctl plan --out` wrote\n"
    )


def test_shards_plan_each_portal_exactly_once_and_merge_into_one_comment(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = portals(embedded_env, 12)
    seen: list[str] = []
    for k in (1, 2, 3):
        code = run(["plan", "portals", "--shard", f"{k}/3", "--format", "json",
                    "--out", f"plans-{k}"])  # fmt: skip
        assert code == 0
        doc = json.loads(capsys.readouterr().out)
        seen += [p["spec"] for p in doc["portals"]]
    assert sorted(seen) == names  # every portal once, none twice
    # One rendering and one exit code for the whole fleet, from the shards' plan folders.
    assert run(["show", "plans-1", "plans-2", "plans-3", "--detailed-exitcode"]) == 2
    out, err = capsys.readouterr()
    assert out.count("=== portals/") == 12
    assert err.splitlines()[-1] == (
        "portalctl: fleet: 12 portals: 0 in sync, 12 with changes, 0 failed"
    )
    assert run(["show", "plans-1", "plans-2", "plans-3", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith(
        "### portalctl fleet: 12 portals: 0 in sync, 12 with changes, 0 failed\n"
    )


def test_a_spec_keeps_its_shard_when_others_come_and_go(tmp_path: Path) -> None:
    paths = [Path(f"portals/p{i:03d}.yaml") for i in range(200)]
    before = {p: shard_of(p, 4) for p in paths}
    assert set(before.values()) == {1, 2, 3, 4}
    assert max(list(before.values()).count(k) for k in (1, 2, 3, 4)) < 80  # roughly even
    # The same path spelt differently is the same spec.
    assert shard_of(Path("./portals/p001.yaml"), 4) == before[Path("portals/p001.yaml")]
    assert shard_of(Path.cwd() / "portals/p001.yaml", 4) == before[Path("portals/p001.yaml")]
    assert Shard(2, 4).takes(Path("portals/p001.yaml")) == (before[paths[1]] == 2)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0/3", "--shard 0/3: K must be between 1 and N (N at least 1); with N shards, run "
         "--shard 1/N, 2/N ... N/N once each"),
        ("4/3", "--shard 4/3: K must be between 1 and N (N at least 1); with N shards, run "
         "--shard 1/N, 2/N ... N/N once each"),
        ("1/0", "--shard 1/0: K must be between 1 and N (N at least 1); with N shards, run "
         "--shard 1/N, 2/N ... N/N once each"),
        ("two", "--shard 'two': expected K/N, e.g. --shard 1/4; K is this runner's shard "
         "(1..N), N the number of shards"),
        ("1/-2", "--shard '1/-2': expected K/N, e.g. --shard 1/4; K is this runner's shard "
         "(1..N), N the number of shards"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift"])
def test_a_shard_out_of_range_is_a_usage_error(
    embedded_env: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    value: str,
    message: str,
) -> None:
    portals(embedded_env, 2)
    assert run([command, "portals", "--shard", value]) == 3
    assert capsys.readouterr().err == f"portalctl: error: {message}\n"
    assert not (embedded_env / ".portal").exists()


def test_a_base_in_a_fleet_folder_is_refused_not_planned(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = embedded_env / "portals"
    folder.mkdir()
    (folder / "common.yaml").write_text(COLOUR.format(colour="#0b5394"))
    (folder / "acme.yaml").write_text(
        "version: 1\nextends: common.yaml\ntarget:\n  api_key_env: ACME_KEY\n"
        "portal:\n  branding:\n    company_name: Acme\n"
    )
    assert run(["plan", "portals"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[-2:] == [
        "portalctl: fleet: 2 portals: 0 in sync, 1 with changes, 1 failed",
        "  portals/common.yaml: portals/common.yaml is a base (portals/acme.yaml extends it), "
        "not a portal of this folder; keep bases outside the fleet folder or in a subfolder "
        "of it (e.g. portals/bases/), or name the portals one by one",
    ]
    # In a subfolder it is never found as a portal; named on its own it is one.
    (folder / "bases").mkdir()
    (folder / "common.yaml").rename(folder / "bases" / "common.yaml")
    (folder / "acme.yaml").write_text(
        (folder / "acme.yaml").read_text().replace("extends: common", "extends: bases/common")
    )
    assert run(["plan", "portals", "--detailed-exitcode"]) == 2
    assert run(["plan", "portals/bases/common.yaml", "--detailed-exitcode"]) == 2


def test_one_json_shape_for_a_spec_named_or_found_in_a_folder(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (embedded_env / "one").mkdir()
    (embedded_env / "one" / "portal.yaml").write_text(COLOUR.format(colour="#0b5394"))
    assert run(["plan", "one/portal.yaml", "--format", "json"]) == 0
    named = json.loads(capsys.readouterr().out)
    assert run(["plan", "one", "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert set(named) == set(found) == {"format_version", "summary", "portals"}
    assert named["format_version"] == 2
    assert named["portals"][0]["plan"]["changes"] == found["portals"][0]["plan"]["changes"]
    assert named["summary"] == found["summary"]
