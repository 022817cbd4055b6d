"""schemathesis holds the sandbox to schemas/portal-api.openapi.yaml, over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONTRACT = Path(__file__).parents[2] / "reconciler" / "schemas" / "portal-api.openapi.yaml"
schema = schemathesis.openapi.from_path(CONTRACT)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_sandbox_conforms_to_the_contract(case: schemathesis.Case, shared_sandbox: Any) -> None:
    headers = {"X-Api-Key": shared_sandbox.key}
    if any(p.name == "If-Match" for p in case.operation.iter_parameters()):
        headers["If-Match"] = "*"
    case.call_and_validate(base_url=shared_sandbox.url, headers=headers, checks=CHECKS)


def _contract() -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    return data


def test_contract_is_valid_openapi_3_1() -> None:
    import openapi_spec_validator as validator

    contract = _contract()
    assert contract["openapi"].startswith("3.1")
    validator.validate(contract)


def test_contract_vocabulary_matches_the_model() -> None:
    from reconciler.model import EVENTS, PERMISSIONS, TEMPLATE_VARIABLES

    schemas = _contract()["components"]["schemas"]
    assert tuple(schemas["Event"]["enum"]) == EVENTS
    assert tuple(schemas["Permissions"]["required"]) == PERMISSIONS
    listed = schemas["TemplateWrite"]["description"].split(":", 1)[1]
    assert {name.strip(" .\n") for name in listed.split(",")} == TEMPLATE_VARIABLES


def test_sandbox_routes_are_exactly_the_contract_plus_admin() -> None:
    from reconciler.sandbox.handlers import ROUTES

    contract = {
        (path, method.upper())
        for path, item in _contract()["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = {(path, m) for path, _, methods in ROUTES for m in methods}
    assert {r for r in served if not r[0].startswith("/_sandbox/")} == contract
    assert all(not path.startswith("/_sandbox") for path, _ in contract)
