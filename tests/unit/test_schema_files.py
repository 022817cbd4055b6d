"""The spec's JSON Schema: valid Draft 2020-12, documented for editors, shipped as package
data, in step with the model's vocabulary, and accepted by check-jsonschema."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler import model

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schemas" / "portal.schema.json"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (location, subschema) declared under any ``properties`` in the schema."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{where}/properties/{name}", sub
        for key, value in node.items():
            yield from properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from properties(value, f"{where}/{index}")


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://portalctl.dev/schemas/portal.schema.json"
    assert schema["title"]


def test_every_property_has_description_and_examples(schema: dict[str, Any]) -> None:
    found = list(properties(schema))
    assert len(found) >= 20  # the walk really reaches every level
    for where, sub in found:
        assert isinstance(sub.get("description"), str) and sub["description"], where
        assert isinstance(sub.get("examples"), list) and sub["examples"], where
    for name, sub in schema["$defs"].items():
        assert sub.get("description") and sub.get("examples"), name


def test_every_example_is_valid_for_its_own_property(schema: dict[str, Any]) -> None:
    root = Draft202012Validator(schema)
    for where, sub in [
        ("", schema),
        *properties(schema),
        *((f"/$defs/{n}", s) for n, s in schema["$defs"].items()),
    ]:
        validator = root.evolve(schema=sub)
        for example in sub["examples"]:
            errors = [e.message for e in validator.iter_errors(example)]
            assert not errors, (where, example, errors)


def test_every_object_refuses_unknown_keys(schema: dict[str, Any]) -> None:
    objects = [schema, *(s for _, s in properties(schema)), *schema["$defs"].values()]
    for sub in objects:
        if sub.get("type") == "object":
            assert sub.get("additionalProperties") is False, sub["description"]


def test_schema_matches_the_model_vocabulary(schema: dict[str, Any]) -> None:
    portal = schema["properties"]["portal"]["properties"]
    assert tuple(portal["notifications"]["properties"]) == model.EVENTS
    assert tuple(portal["permissions"]["properties"]) == model.PERMISSIONS
    template = schema["$defs"]["template"]["properties"]
    assert template["subject"]["maxLength"] == model.SUBJECT_MAX_CHARS
    assert template["body"]["maxLength"] == model.BODY_MAX_BYTES
    company = portal["branding"]["properties"]["company_name"]
    assert company["maxLength"] == model.COMPANY_NAME_MAX_CHARS


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://api.4geeks.io", True),
        ("https://api.4geeks.io/v1", True),
        ("https://portal.example.com:8443", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost", True),
        ("http://[::1]:9000/", True),
        ("http://api.4geeks.io", False),
        ("http://127.0.0.2", False),
        ("ftp://api.4geeks.io", False),
        ("https://", False),
        ("https://api.4geeks.io/?key=x", False),
        ("api.4geeks.io", False),
    ],
)
def test_api_url_rule(schema: dict[str, Any], url: str, ok: bool) -> None:
    spec = {"version": 1, "target": {"api_url": url}, "portal": {}}
    assert Draft202012Validator(schema).is_valid(spec) is ok


def test_installed_package_ships_the_schema() -> None:
    shipped = resources.files("reconciler").joinpath("schemas/portal.schema.json")
    assert shipped.is_file()
    assert shipped.read_text(encoding="utf-8") == SCHEMA_PATH.read_text(encoding="utf-8")
    # schemas/ at the repo root is the package data, not a copy that could drift
    assert (ROOT / "schemas").resolve() == (ROOT / "reconciler" / "schemas").resolve()


def _check_jsonschema(instance: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            "schemas/portal.schema.json",
            instance,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_check_jsonschema_accepts_the_example() -> None:
    result = _check_jsonschema("examples/portal.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def test_check_jsonschema_rejects_a_broken_spec() -> None:
    result = _check_jsonschema("tests/specs/unknown-key-typo.yaml")
    assert result.returncode == 1
    assert "primay_color" in result.stdout + result.stderr


def test_schema_ships_in_the_wheel_and_an_installed_copy_uses_it(
    tmp_path: Path, built_wheel: Path
) -> None:
    wheel = built_wheel
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("reconciler/schemas/portal.schema.json") == SCHEMA_PATH.read_bytes()
    target = tmp_path / "installed"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    code = (
        f"import sys; sys.path.insert(0, {str(target)!r})\n"
        "import reconciler, reconciler.spec.schema as s\n"
        "from reconciler.spec import load_spec\n"
        f"load_spec({str(ROOT / 'examples' / 'portal.yaml')!r}, strict=True)\n"
        "print(reconciler.__file__); print(s.load_schema()['$id'])\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    where, schema_id = ran.stdout.splitlines()
    assert Path(where).is_relative_to(target)
    assert schema_id == "https://portalctl.dev/schemas/portal.schema.json"
