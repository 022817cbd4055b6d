"""Request economy, counted from the sandbox's request log (issue 6; not timing).

- plan reads each resource once: GET settings + GET the template list, nothing else;
- a no-op apply makes ZERO writes;
- apply with k changed resources makes exactly k writes plus the verification read;
- a fleet plan reads each portal exactly once.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import run
from reconciler.sandbox.app import key_hash

REPO = Path(__file__).resolve().parents[2]
SETTINGS = ("GET", "/v1/portal/settings")
TEMPLATES = ("GET", "/v1/notifications/templates")
READ = sorted([SETTINGS, TEMPLATES])
#: The writes of the example portal, in the order apply makes them.
WRITES = [
    ("PUT", "/v1/portal/settings/branding/logo"),
    ("PUT", "/v1/notifications/templates/invoice_created"),
    ("PUT", "/v1/notifications/templates/payment_failed"),
    ("PATCH", "/v1/portal/settings"),
]
SETTINGS_PART = """\
version: 1
portal:
  enabled: true
  branding:
    company_name: Acme Cloud
"""
LOGO_PART = "    logo: assets/logo.png\n"
NOTIFICATIONS = "  notifications:\n"
TEMPLATE_PART = {
    "invoice_created": """\
    invoice_created:
      subject: "Invoice {{invoice_number}} from {{company_name}}"
      body_file: templates/invoice_created.html
""",
    "payment_failed": """\
    payment_failed:
      subject: "Action needed: we could not charge your card"
      body_file: templates/payment_failed.html
""",
}


def write_spec(folder: Path, *, logo: bool = False, templates: tuple[str, ...] = ()) -> str:
    """A spec managing the settings plus the given logo / templates (files copied along)."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("assets", "templates"):
        shutil.copytree(REPO / "examples" / sub, folder / sub, dirs_exist_ok=True)
    text = SETTINGS_PART + (LOGO_PART if logo else "")
    if templates:
        text += NOTIFICATIONS + "".join(TEMPLATE_PART[t] for t in templates)
    path = folder / "portal.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path.relative_to(Path.cwd()))


def log_of(server: Any, key: str) -> list[tuple[str, str]]:
    """(method, path) of every API request this portal's key made, in arrival order."""
    tenant = key_hash(key)
    return [
        (r["method"], r["path"])
        for r in server.requests()
        if r["path"].startswith("/v1/") and r["tenant"] == tenant
    ]


@pytest.fixture
def http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_server: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_API_KEY", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    return sandbox_server


def test_plan_reads_each_resource_once(http: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "acme", logo=True, templates=("invoice_created", "payment_failed"))
    assert run(["plan", spec, "--api-url", http.url, "--detailed-exitcode"]) == 2
    assert sorted(log_of(http, http.key)) == READ


@pytest.mark.parametrize(
    ("k", "logo", "templates", "expected_writes"),
    [
        (1, False, (), [WRITES[3]]),
        (2, False, ("invoice_created",), [WRITES[1], WRITES[3]]),
        (3, False, ("invoice_created", "payment_failed"), WRITES[1:]),
        (4, True, ("invoice_created", "payment_failed"), WRITES),
    ],
)
def test_apply_makes_k_writes_plus_the_verification_read(
    http: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    k: int,
    logo: bool,
    templates: tuple[str, ...],
    expected_writes: list[tuple[str, str]],
) -> None:
    key = http.new_key()  # a fresh portal: every managed resource differs from the spec
    monkeypatch.setenv("PORTAL_API_KEY", key)
    spec = write_spec(tmp_path / "acme", logo=logo, templates=templates)
    assert run(["apply", spec, "--auto-approve", "--api-url", http.url]) == 0
    log = log_of(http, key)
    assert len(expected_writes) == k
    # one round trip of reads (the plan), the k writes in order, one round trip (verify)
    assert sorted(log[:2]) == READ
    assert log[2:-2] == expected_writes
    assert sorted(log[-2:]) == READ
    assert len(log) == k + 4

    # The same spec again: a no-op apply reads once and writes nothing.
    http.clear_requests()
    assert run(["apply", spec, "--auto-approve", "--api-url", http.url]) == 0
    assert sorted(log_of(http, key)) == READ


def test_saved_plan_apply_rereads_once_then_writes_k(http: Any, tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "acme", templates=("payment_failed",))
    assert run(["plan", spec, "--out", "plan.json", "--api-url", http.url]) == 0
    http.clear_requests()
    assert run(["apply", "plan.json", "--api-url", http.url]) == 0
    log = log_of(http, http.key)
    assert sorted(log[:2]) == READ  # the ETag check
    assert log[2:-2] == [WRITES[2], WRITES[3]]
    assert sorted(log[-2:]) == READ  # the verification
    # a saved plan with nothing to change: the ETag check, and no write
    assert run(["plan", spec, "--out", "noop.json", "--api-url", http.url]) == 0
    http.clear_requests()
    assert run(["apply", "noop.json", "--api-url", http.url]) == 0
    assert sorted(log_of(http, http.key)) == READ


def test_fleet_plan_reads_each_portal_once(
    http: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = []
    for i in range(6):
        key = http.new_key()
        keys.append(key)
        monkeypatch.setenv(f"ACME_P{i}_KEY", key)
        (tmp_path / "portals").mkdir(exist_ok=True)
        (tmp_path / "portals" / f"p{i}.yaml").write_text(
            f"version: 1\ntarget:\n  api_url: {http.url}\n  api_key_env: ACME_P{i}_KEY\n"
            f"portal:\n  branding:\n    company_name: Portal {i}\n",
            encoding="utf-8",
        )
    assert run(["plan", "portals", "--parallelism", "3"]) == 0
    per_tenant = Counter(
        (r["tenant"], r["method"], r["path"])
        for r in http.requests()
        if r["path"].startswith("/v1/")
    )
    assert per_tenant == Counter(
        {(key_hash(k), method, path): 1 for k in keys for method, path in READ}
    )
