"""The plan JSON format is documented by schemas/plan.schema.json (Draft 2020-12)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from reconciler.render import render_plan

# The plan builders live in tests/unit/test_plan.py (tests/ is not a package).
from tests.helpers.plans import full_plan


def schema() -> dict:
    text = resources.files("reconciler").joinpath("schemas/plan.schema.json").read_text()
    return json.loads(text)


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_json_output_validates(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    data = json.loads(render_plan(full_plan(tmp_path), "json"))
    validator.validate(data)
    broken = {**data, "api_key": "sk_test_123456"}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
    logo = {**data["desired"], "logo": {**data["desired"]["logo"], "bogus": 1}}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**data, "desired": logo})
