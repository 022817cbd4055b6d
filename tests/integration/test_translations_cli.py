"""Translations of notification templates end to end (issue 13): validate, plan, apply,
drift, export and saved plans, against the embedded sandbox, asserting what users see."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.cli import run

REPO = Path(__file__).resolve().parents[2]
SPEC = "examples/portal.yaml"
ES_INVOICE = "templates/invoice_created/locales/es"
ES_DUNNING = "templates/payment_failed/locales/es"


def clean_clone(dest: Path) -> Path:
    """examples/ as a fresh clone has it, in ``dest`` (the embedded sandbox lands there)."""
    shutil.copytree(REPO / "examples", dest / "examples", ignore=shutil.ignore_patterns("github"))
    return dest / SPEC


def edit(spec: Path, old: str, new: str) -> None:
    text = spec.read_text(encoding="utf-8")
    assert old in text, old
    spec.write_text(text.replace(old, new), encoding="utf-8")


def change_lines(out: str) -> list[str]:
    """The header line of every change in a text plan (``  ~ update ...  # file:line:col``)."""
    return [line for line in out.splitlines() if line[:4] in ("  ~ ", "  + ", "  - ")]


def test_example_with_spanish_validates_plans_applies_converges_and_round_trips(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    assert run(["validate", "--strict", SPEC]) == 0
    assert capsys.readouterr().out == "examples/portal.yaml: valid (0 warnings)\n"

    assert run(["plan", SPEC, "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert change_lines(out) == [
        "  + upload settings/logo  # examples/portal.yaml:19:5",
        "  ~ update templates/invoice_created  # examples/portal.yaml:28:5",
        f"  ~ update {ES_INVOICE}  # examples/portal.yaml:32:9",
        "  ~ update templates/payment_failed  # examples/portal.yaml:35:5",
        f"  ~ update {ES_DUNNING}  # examples/portal.yaml:39:9",
        "  ~ update settings",
    ]
    assert f"      --- {ES_INVOICE} (none yet)\n" in out
    assert "      +++ templates/invoice_created.es.html\n" in out
    assert '      subject: (none yet) -> "Factura {{invoice_number}} de {{company_name}}"\n' in out
    assert '+        <p style="margin:0 0 16px;">Hola, {{customer_name}}:</p>\n' in out

    assert run(["apply", SPEC, "--auto-approve"]) == 0
    out = capsys.readouterr().out
    assert f"{ES_INVOICE}: update done\n{'templates/payment_failed'}: update done\n" in out
    assert f"{ES_DUNNING}: update done\n" in out
    assert out.endswith("Apply complete: 6 changed, 1 uploaded, 0 reset (6 writes).\n")

    assert run(["plan", SPEC, "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out == "No changes. The portal matches portal.yaml.\n"
    assert run(["drift", SPEC]) == 0
    capsys.readouterr()

    assert run(["export", "--out", "exported"]) == 0
    out = capsys.readouterr().out
    assert "wrote exported/templates/invoice_created.es.html\n" in out
    assert "wrote exported/templates/payment_failed.es.html\n" in out
    exported = (embedded_env / "exported/portal.yaml").read_text(encoding="utf-8")
    assert (
        "    invoice_created:\n"
        '      subject: "Invoice {{invoice_number}} from {{company_name}}"\n'
        "      body_file: templates/invoice_created.html\n"
        "      locales:\n"
        "        es:\n"
        '          subject: "Factura {{invoice_number}} de {{company_name}}"\n'
        "          body_file: templates/invoice_created.es.html\n"
    ) in exported
    assert (embedded_env / "exported/templates/payment_failed.es.html").read_bytes() == (
        spec.parent / "templates/payment_failed.es.html"
    ).read_bytes()
    assert run(["validate", "--strict", "exported/portal.yaml"]) == 0
    assert run(["plan", "exported/portal.yaml", "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out.endswith("No changes. The portal matches portal.yaml.\n")


def test_translation_without_the_portal_link_is_flagged_with_its_language(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    edit(
        spec,
        "          body_file: templates/payment_failed.es.html",
        '          body: "Hola, {{customer_name}}: no pudimos cobrar su tarjeta."',
    )
    assert run(["validate", SPEC]) == 0
    out, err = capsys.readouterr()
    assert out == "examples/portal.yaml: valid (1 warning)\n"
    assert err == (
        "examples/portal.yaml:39:9: warning: portal.notifications.payment_failed.locales.es: "
        "the es translation of the payment_failed email does not contain "
        '{{customer_portal_link}}; add a link such as <a href="{{customer_portal_link}}">'
        "Gestionar facturación</a>, in that language, so those customers can pay and update "
        "their card themselves [template-missing-portal-link]\n"
    )
    assert run(["validate", "--strict", SPEC]) == 3
    capsys.readouterr()


def test_every_template_rule_applies_to_a_translation(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    edit(
        spec,
        '          subject: "Factura {{invoice_number}} de {{company_name}}"',
        '          subject: "Factura {{invoice_numbr}} de {{company_name}}"',
    )
    assert run(["validate", SPEC]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        "examples/portal.yaml:33:29: error: "
        "portal.notifications.invoice_created.locales.es.subject: unknown template variable "
        "{{invoice_numbr}}; did you mean {{invoice_number}}? [template-unknown-variable]"
    )


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            "es_MX",
            "\"es_MX\" is not a BCP 47 language tag (only ASCII letters, digits and '-' "
            "separators are allowed); write es-MX (BCP 47 uses '-')",
        ),
        (
            "spanish",
            "\"spanish\" is not a BCP 47 language tag (the language subtag 'spanish' must be 2 "
            "or 3 letters (ISO 639)); write a language tag such as es, en, pt-BR, zh-Hant-TW",
        ),
        (
            "es-ES-ES",
            "\"es-ES-ES\" is not a BCP 47 language tag (unexpected subtag 'es'); write a "
            "language tag such as es, en, pt-BR, zh-Hant-TW",
        ),
    ],
)
def test_malformed_tag_is_refused_at_its_line(
    embedded_env: Path, capsys: pytest.CaptureFixture[str], tag: str, message: str
) -> None:
    spec = clean_clone(embedded_env)
    edit(
        spec,
        '      locales:\n        es:\n          subject: "Acc',
        f'      locales:\n        {tag}:\n          subject: "Acc',
    )
    assert run(["validate", SPEC]) == 3
    err = capsys.readouterr().err
    assert err.splitlines()[0] == (
        f"examples/portal.yaml:39:9: error: portal.notifications.payment_failed.locales.{tag}: "
        f"{message} [locale-tag-invalid]"
    )
    assert run(["plan", SPEC]) == 3
    assert run(["apply", SPEC, "--auto-approve"]) == 3
    capsys.readouterr()


def test_the_same_language_twice_is_an_error_at_the_second(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    edit(
        spec,
        "          body_file: templates/invoice_created.es.html\n",
        "          body_file: templates/invoice_created.es.html\n        ES: default\n",
    )
    assert run(["validate", SPEC]) == 3
    assert capsys.readouterr().err.splitlines()[0] == (
        "examples/portal.yaml:35:9: error: portal.notifications.invoice_created.locales.ES: "
        '"ES" is the same language as "es" (both are es); keep one es translation and remove '
        "the other [locale-duplicate]"
    )


def test_languages_are_compared_in_canonical_form(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    edit(spec, "      locales: # customers", "      locales: # (ES) customers")
    text = spec.read_text(encoding="utf-8").replace("        es:\n", "        ES:\n")
    spec.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert run(["plan", SPEC, "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out == "No changes. The portal matches portal.yaml.\n"


def test_default_removes_a_translation_and_an_absent_language_is_left_alone(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    original = spec.read_text(encoding="utf-8")

    # Ownership: a spec that names no language leaves the Spanish emails as they are.
    without = original.replace(
        "      locales:\n"
        "        es:\n"
        '          subject: "Acción necesaria: no pudimos cobrar el pago con su tarjeta"\n'
        "          body_file: templates/payment_failed.es.html\n",
        "",
    )
    assert without != original
    spec.write_text(without, encoding="utf-8")
    capsys.readouterr()
    assert run(["plan", SPEC, "--detailed-exitcode"]) == 0
    assert capsys.readouterr().out == "No changes. The portal matches portal.yaml.\n"

    # es: default removes it: its customers get the English email again.
    removed = original.replace(
        "        es:\n"
        '          subject: "Acción necesaria: no pudimos cobrar el pago con su tarjeta"\n'
        "          body_file: templates/payment_failed.es.html\n",
        "        es: default\n",
    )
    spec.write_text(removed, encoding="utf-8")
    assert run(["plan", SPEC, "--detailed-exitcode"]) == 2
    out = capsys.readouterr().out
    assert change_lines(out) == [f"  - reset {ES_DUNNING}  # examples/portal.yaml:39:9"]
    assert out.endswith("Plan: 0 to change, 0 to upload, 1 to reset.\n")
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    assert capsys.readouterr().out.endswith(
        f"{ES_DUNNING}: reset done\nApply complete: 0 changed, 0 uploaded, 1 reset (1 write).\n"
    )
    assert run(["plan", SPEC, "--detailed-exitcode"]) == 0
    capsys.readouterr()
    # And export no longer writes it.
    assert run(["export", "--out", "after"]) == 0
    assert not (embedded_env / "after/templates/payment_failed.es.html").exists()
    assert (embedded_env / "after/templates/invoice_created.es.html").exists()
    capsys.readouterr()


def test_coverage_warning_when_one_email_is_not_translated(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    edit(
        spec,
        "      locales:\n"
        "        es:\n"
        '          subject: "Acción necesaria: no pudimos cobrar el pago con su tarjeta"\n'
        "          body_file: templates/payment_failed.es.html\n",
        "",
    )
    assert run(["validate", SPEC]) == 0
    assert capsys.readouterr().err == (
        "examples/portal.yaml:35:5: warning: portal.notifications.payment_failed: no es "
        "translation, while invoice_created has one: those customers would get some emails in "
        "their language and this one in the default; add locales.es to payment_failed "
        "[locale-coverage]\n"
    )


def test_saved_plan_records_each_translation_and_refuses_when_one_appeared(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    original = spec.read_text(encoding="utf-8")
    spec.write_text(
        original.replace(
            "      locales: # customers whose language is Spanish get this; everyone else the "
            "email above\n"
            "        es:\n"
            '          subject: "Factura {{invoice_number}} de {{company_name}}"\n'
            "          body_file: templates/invoice_created.es.html\n",
            "",
        ).replace(
            "      locales:\n"
            "        es:\n"
            '          subject: "Acción necesaria: no pudimos cobrar el pago con su tarjeta"\n'
            "          body_file: templates/payment_failed.es.html\n",
            "",
        ),
        encoding="utf-8",
    )
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    spec.write_text(original, encoding="utf-8")
    capsys.readouterr()
    assert run(["plan", SPEC, "--out", "plan.json"]) == 0
    assert change_lines(capsys.readouterr().out) == [
        f"  ~ update {ES_INVOICE}  # examples/portal.yaml:32:9",
        f"  ~ update {ES_DUNNING}  # examples/portal.yaml:39:9",
    ]
    saved = json.loads((embedded_env / "plan.json").read_text(encoding="utf-8"))
    assert [c["resource"] for c in saved["changes"]] == [ES_INVOICE, ES_DUNNING]
    assert ES_INVOICE not in saved["etags"]  # none yet: apply creates it only if still absent
    assert saved["desired"]["translations"]["invoice_created"]["es"]["body_file"]["path"] == (
        "templates/invoice_created.es.html"
    )
    assert "templates/invoice_created.es.html" in saved["files"]

    # Someone else creates the Spanish emails between plan and apply.
    edit(spec, '"Factura {{invoice_number}} de', '"Otra factura {{invoice_number}} de')
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    spec.write_text(original, encoding="utf-8")
    capsys.readouterr()
    assert run(["apply", "plan.json"]) == 4
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(
        f"portalctl: error: the plan is stale: {ES_INVOICE} was created on the portal since "
        'the plan was made (ETag "'
    )
    # Nothing of the plan was written: the other writer's subject is still there.
    assert run(["export", "--out", "live"]) == 0
    assert '"Otra factura {{invoice_number}} de {{company_name}}"' in (
        embedded_env / "live/portal.yaml"
    ).read_text(encoding="utf-8")
    capsys.readouterr()


def test_a_translation_changed_after_the_plan_makes_it_stale(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    capsys.readouterr()
    edit(spec, "Factura {{invoice_number}} de", "Su factura {{invoice_number}} de")
    assert run(["plan", SPEC, "--out", "plan.json"]) == 0
    out = capsys.readouterr().out
    assert change_lines(out) == [f"  ~ update {ES_INVOICE}  # examples/portal.yaml:32:9"]
    assert (
        '      subject: "Factura {{invoice_number}} de {{company_name}}" -> '
        '"Su factura {{invoice_number}} de {{company_name}}"\n'
    ) in out
    edit(spec, "Su factura {{invoice_number}} de", "Factura nueva {{invoice_number}} de")
    assert run(["apply", SPEC, "--auto-approve"]) == 0
    capsys.readouterr()
    assert run(["apply", "plan.json"]) == 4
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(
        f"portalctl: error: the plan is stale: {ES_INVOICE} changed on the portal since the "
        "plan was made (ETag "
    )


def test_init_starter_carries_spanish_emails_and_validates_strict(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["init", "starter"]) == 0
    capsys.readouterr()
    starter = embedded_env / "starter"
    for event in ("invoice_created", "payment_failed"):
        body = (starter / f"templates/{event}.es.html").read_text(encoding="utf-8")
        assert '<html lang="es">' in body and "{{customer_portal_link}}" in body
    assert run(["validate", "--strict", "starter/portal.yaml"]) == 0
    assert capsys.readouterr().out == "starter/portal.yaml: valid (0 warnings)\n"
    assert run(["plan", "starter/portal.yaml"]) == 0
    lines = change_lines(capsys.readouterr().out)
    assert f"  ~ update {ES_INVOICE}  # starter/portal.yaml:42:9" in lines


def test_preview_shows_each_translation_next_to_its_email(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_clone(embedded_env)
    assert run(["preview", SPEC, "--out", "out"]) == 0
    page = (embedded_env / "out/index.html").read_text(encoding="utf-8")
    headings = re.findall(r'<h3 id="email-([^"]+)">', page)
    assert headings == [
        "invoice_created",
        "invoice_created.es",
        "payment_failed",
        "payment_failed.es",
    ]
    assert (
        '<h3 id="email-invoice_created.es">invoice_created.es '
        '<span class="badge chg-b">changed</span></h3>'
    ) in page
    assert "Acción necesaria: no pudimos cobrar el pago con su tarjeta" in page
    capsys.readouterr()


def test_export_of_a_translated_default_template_round_trips(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox_server: Any,
) -> None:
    """A portal whose receipt email is the default but has a Spanish translation (set by
    another tool): `default` cannot carry locales:, so export writes the default out."""
    monkeypatch.chdir(tmp_path)
    for name in ("PORTAL_API_URL", "PORTAL_SANDBOX_DB", "CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_API_KEY", sandbox_server.key)
    enabled = httpx.patch(
        f"{sandbox_server.url}/v1/portal/settings",
        content=b'{"enabled": true}',
        headers={
            "X-Api-Key": sandbox_server.key,
            "If-Match": "*",
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert enabled.status_code == 200
    created = httpx.put(
        f"{sandbox_server.url}/v1/notifications/templates/payment_succeeded/locales/es",
        json={"subject": "Pago recibido: gracias", "body": "Gracias, {{customer_name}}."},
        headers={"X-Api-Key": sandbox_server.key, "If-None-Match": "*"},
    )
    assert created.status_code == 201
    url = ["--api-url", sandbox_server.url]
    assert run(["export", "--out", "live", *url]) == 0
    exported = (tmp_path / "live/portal.yaml").read_text(encoding="utf-8")
    assert (
        "    payment_succeeded:\n"
        '      subject: "Payment received: thank you"\n'
        "      body_file: templates/payment_succeeded.html\n"
        "      locales:\n"
        "        es:\n"
        '          subject: "Pago recibido: gracias"\n'
        "          body_file: templates/payment_succeeded.es.html\n"
    ) in exported
    assert (tmp_path / "live/templates/payment_succeeded.es.html").read_text(
        encoding="utf-8"
    ) == "Gracias, {{customer_name}}."
    capsys.readouterr()
    assert run(["plan", "live/portal.yaml", "--detailed-exitcode", *url]) == 0
    assert capsys.readouterr().out.endswith("No changes. The portal matches portal.yaml.\n")


def test_apply_of_a_saved_plan_checks_translation_files_as_validate_does(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = clean_clone(embedded_env)
    assert run(["plan", SPEC, "--out", "plan.json"]) == 0
    body = spec.parent / "templates/payment_failed.es.html"
    body.unlink()
    os.mkfifo(body)
    capsys.readouterr()
    assert run(["apply", "plan.json"]) == 3
    assert capsys.readouterr().err.splitlines()[-1] == (
        "portalctl: error: examples/templates/payment_failed.es.html: is not a regular file; "
        "point at the template file itself, e.g. templates/invoice_created.html"
    )


def test_apply_of_a_saved_plan_relints_its_translations(
    embedded_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_clone(embedded_env)
    assert run(["plan", SPEC, "--out", "plan.json"]) == 0
    path = embedded_env / "plan.json"
    saved = json.loads(path.read_text(encoding="utf-8"))
    saved["desired"]["translations"]["invoice_created"]["es"]["subject"] = "Factura {{nope}}"
    saved.pop("checksum")
    from reconciler.planfile import _checksum

    saved["checksum"] = _checksum(saved)
    path.write_text(json.dumps(saved), encoding="utf-8")
    capsys.readouterr()
    assert run(["apply", "plan.json"]) == 3
    err = capsys.readouterr().err
    assert (
        "plan.json:1:1: error: portal.notifications.invoice_created.locales.es.subject: "
        "unknown template variable {{nope}}"
    ) in err
