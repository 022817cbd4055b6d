# ruff: noqa: E501
"""``portalctl validate`` end to end: every broken spec in tests/specs/ gives the exact
line a user sees, at the right line and column, with the right exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from reconciler.cli import run

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "specs"
EXAMPLE = "examples/portal.yaml"

#: (spec file, exit code, exit code with --strict, first line on stderr)
CASES = [
    (
        "alias-bomb.yaml",
        3,
        3,
        "tests/specs/alias-bomb.yaml:2:4: error: anchors and aliases are not allowed (&a); write the value out in full; anchors hide what a review should see [yaml-anchor]",
    ),
    (
        "anchor-merge-key.yaml",
        3,
        3,
        "tests/specs/anchor-merge-key.yaml:3:16: error: anchors and aliases are not allowed (&all_on); write the value out in full; anchors hide what a review should see [yaml-anchor]",
    ),
    (
        "api-key-env-lowercase.yaml",
        3,
        3,
        'tests/specs/api-key-env-lowercase.yaml:3:16: error: target.api_key_env: "acme-portal-key" is not an environment variable name; name the variable that holds the key (capitals, digits, _), e.g. ACME_PORTAL_KEY [schema]',
    ),
    (
        "api-key-in-comment.yaml",
        3,
        3,
        "tests/specs/api-key-in-comment.yaml:2:25: error: what looks like an API key (sk_test_/sk_live_…) is written here; keys must never be in the spec, not even in a comment; remove it, and revoke the key if it was committed [secret-in-spec]",
    ),
    (
        "api-key-in-spec.yaml",
        3,
        3,
        "tests/specs/api-key-in-spec.yaml:4:16: error: target.api_key_env: this looks like an API key (sk_test_/sk_live_…); keys must never be in the spec; remove it, revoke the key if it was committed, and name the environment variable that holds it in target.api_key_env [secret-in-spec]",
    ),
    (
        "api-url-plain-http.yaml",
        3,
        3,
        'tests/specs/api-url-plain-http.yaml:3:12: error: target.api_url: "http://api.4geeks.io" is not an https URL; use https://host[/path]; plain http is allowed only for localhost, 127.0.0.1 or [::1] [schema]',
    ),
    (
        "bad-hex-colour.yaml",
        3,
        3,
        'tests/specs/bad-hex-colour.yaml:4:20: error: portal.branding.primary_color: "#12345" is not a hex colour; write #RRGGBB, e.g. "#1662DD" [schema]',
    ),
    (
        "body-file-missing.yaml",
        3,
        3,
        'tests/specs/body-file-missing.yaml:6:18: error: portal.notifications.invoice_created.body_file: "templates/invoice.html" does not exist; the path is relative to the spec\'s folder; check its spelling [body-file-missing]',
    ),
    (
        "body-file-not-utf8.yaml",
        3,
        3,
        'tests/specs/templates/latin1.html:2:7: error: portal.notifications.invoice_created.body_file: "templates/latin1.html" is not UTF-8: byte 0xe9 at offset 35; save the template as UTF-8 [body-file-not-utf8]',
    ),
    (
        "body-file-path-escape.yaml",
        3,
        3,
        'tests/specs/body-file-path-escape.yaml:6:18: error: portal.notifications.invoice_created.body_file: "../../../etc/passwd" points outside the spec\'s folder; copy the template next to the spec and point at it, e.g. templates/invoice_created.html [body-file-outside-folder]',
    ),
    (
        "body-too-large.yaml",
        3,
        3,
        "tests/specs/body-too-large.yaml:6:13: error: portal.notifications.invoice_created.body: the body is 68904 bytes; the limit is 65536 bytes (64 KiB); shorten the email; link to long content instead [body-too-large]",
    ),
    (
        "branding-without-value.yaml",
        3,
        3,
        "tests/specs/branding-without-value.yaml:3:12: error: portal.branding: expected a mapping, got nothing (null); write a value, or remove the key [schema]",
    ),
    (
        "cancel-subscription-notice.yaml",
        0,
        0,
        "tests/specs/cancel-subscription-notice.yaml:4:26: notice: portal.permissions.cancel_subscription: customers can cancel their subscription themselves; the help article advises using this with care for retention; keep it if intended [cancel-subscription-enabled]",
    ),
    (
        "comments-only.yaml",
        3,
        3,
        'tests/specs/comments-only.yaml:1:1: error: the file holds no document (only comments); start with "version: 1" and a "portal:" mapping [yaml-empty]',
    ),
    (
        "company-name-blank.yaml",
        3,
        3,
        "tests/specs/company-name-blank.yaml:4:19: error: portal.branding.company_name: the company name is blank; write the name customers should see [schema]",
    ),
    (
        "company-name-too-long.yaml",
        3,
        3,
        "tests/specs/company-name-too-long.yaml:4:19: error: portal.branding.company_name: is too long: 109 characters, at most 100; shorten it [schema]",
    ),
    (
        "complex-key.yaml",
        3,
        3,
        "tests/specs/complex-key.yaml:4:5: error: portal.branding: a key must be a plain name, not a list or mapping; write keys as simple names, e.g. company_name [yaml-complex-key]",
    ),
    (
        "deep-nesting.yaml",
        3,
        3,
        "tests/specs/deep-nesting.yaml:3:48: error: mappings and lists are nested more than 32 levels deep; a portal spec is about 5 levels deep: check the brackets and indentation here [yaml-too-deep]",
    ),
    (
        "duplicate-key.yaml",
        3,
        3,
        'tests/specs/duplicate-key.yaml:6:5: error: portal.branding.company_name: duplicate key "company_name" (first defined on line 4); keep one of lines 4 and 6 [yaml-duplicate-key]',
    ),
    (
        "empty.yaml",
        3,
        3,
        'tests/specs/empty.yaml:1:1: error: the file is empty; start with "version: 1" and a "portal:" mapping [yaml-empty]',
    ),
    (
        "huge-integer.yaml",
        3,
        3,
        "tests/specs/huge-integer.yaml:1:10: error: version: the unquoted number 999999999999… is 5000 characters long; numbers longer than 100 characters are refused; write the intended value; quote it if it is meant as text [yaml-unreadable-value]",
    ),
    (
        "impossible-date-as-subject.yaml",
        3,
        3,
        'tests/specs/impossible-date-as-subject.yaml:5:16: error: portal.notifications.invoice_created.subject: unquoted 2024-13-01 is read as a date, but it is not a valid one (month must be in 1..12); quote it if it is text: "2024-13-01" [yaml-unreadable-value]',
    ),
    (
        "logo-absolute-path.yaml",
        3,
        3,
        'tests/specs/logo-absolute-path.yaml:4:11: error: portal.branding.logo: "/etc/passwd" is an absolute path; use a path relative to the spec\'s folder, e.g. assets/logo.png [logo-outside-folder]',
    ),
    (
        "logo-gif.yaml",
        3,
        3,
        'tests/specs/logo-gif.yaml:4:11: error: portal.branding.logo: "assets/logo.gif" is not a PNG or JPEG (it looks like GIF); export the logo as PNG (200x50 px, transparent background) or JPEG [logo-not-image]',
    ),
    (
        "logo-missing.yaml",
        3,
        3,
        'tests/specs/logo-missing.yaml:4:11: error: portal.branding.logo: "assets/logo-v2.png" does not exist; the path is relative to the spec\'s folder; check its spelling [logo-missing]',
    ),
    (
        "logo-not-an-image.yaml",
        3,
        3,
        'tests/specs/logo-not-an-image.yaml:4:11: error: portal.branding.logo: "assets/not-a-logo.png" is not a PNG or JPEG (it looks like text); export the logo as PNG (200x50 px, transparent background) or JPEG [logo-not-image]',
    ),
    (
        "logo-path-escape.yaml",
        3,
        3,
        'tests/specs/logo-path-escape.yaml:4:11: error: portal.branding.logo: "../../etc/passwd" points outside the spec\'s folder; copy the logo next to the spec and point at it, e.g. assets/logo.png [logo-outside-folder]',
    ),
    (
        "logo-without-alpha.yaml",
        0,
        3,
        'tests/specs/logo-without-alpha.yaml:4:11: warning: portal.branding.logo: "assets/opaque.png" is a PNG with no transparency; export a PNG with a transparent background (RGBA) [logo-no-alpha]',
    ),
    (
        "logo-wrong-aspect.yaml",
        0,
        3,
        'tests/specs/logo-wrong-aspect.yaml:4:11: warning: portal.branding.logo: "assets/square.png" is 100x100 px (about 1:1); the portal header shows a 4:1 logo; export it at 200x50 px (or another 4:1 size) [logo-aspect]',
    ),
    (
        "low-contrast-colour.yaml",
        0,
        3,
        'tests/specs/low-contrast-colour.yaml:4:20: warning: portal.branding.primary_color: "#7FB3FF" has a contrast of 2.14:1 with white button text; WCAG AA needs 4.5:1; use a darker shade, e.g. "#5578AB" [primary-color-contrast]',
    ),
    (
        "missing-portal-link.yaml",
        0,
        3,
        'tests/specs/missing-portal-link.yaml:4:5: warning: portal.notifications.invoice_created: the invoice_created email does not contain {{customer_portal_link}}; add a link such as <a href="{{customer_portal_link}}">Manage billing</a> so customers can pay and update their card themselves [template-missing-portal-link]',
    ),
    (
        "missing-portal.yaml",
        3,
        3,
        'tests/specs/missing-portal.yaml:1:1: error: portal: missing required key "portal"; add a "portal:" mapping with the settings to manage [schema]',
    ),
    (
        "missing-version.yaml",
        3,
        3,
        'tests/specs/missing-version.yaml:1:1: error: version: missing required key "version"; add "version: 1" as the first line [schema]',
    ),
    (
        "misspelt-portal.yaml",
        3,
        3,
        'tests/specs/misspelt-portal.yaml:2:1: error: portl: unknown key "portl"; did you mean "portal"? [schema]',
    ),
    (
        "misspelt-template-keys.yaml",
        3,
        3,
        'tests/specs/misspelt-template-keys.yaml:5:7: error: portal.notifications.invoice_created.subjet: unknown key "subjet"; did you mean "subject"? [schema]',
    ),
    (
        "multiple-documents.yaml",
        3,
        3,
        'tests/specs/multiple-documents.yaml:4:1: error: more than one YAML document in the file; keep one document: remove the "---" separator and what follows, or split it into separate files [yaml-multi-document]',
    ),
    (
        "not-utf8.yaml",
        3,
        3,
        "tests/specs/not-utf8.yaml:4:22: error: not valid UTF-8: byte 0xe9 at offset 52; save the file as UTF-8 [yaml-encoding]",
    ),
    (
        "nul-in-path.yaml",
        3,
        3,
        "tests/specs/nul-in-path.yaml:4:23: error: portal.branding.logo: the value contains U+0000 NUL, a control character; remove it (retype the text if it was pasted) [control-character]",
    ),
    (
        "payment-failed-cannot-update-card.yaml",
        0,
        3,
        'tests/specs/payment-failed-cannot-update-card.yaml:4:29: warning: portal.permissions.update_payment_methods: payment_failed emails send customers to the portal, but update_payment_methods is false: they cannot fix their card there; set update_payment_methods: true (help article, troubleshooting Problem 2: the "Update payment method" option is missing) [payment-failed-cannot-update-card]',
    ),
    (
        "portal-disabled-with-links.yaml",
        3,
        3,
        "tests/specs/portal-disabled-with-links.yaml:3:12: error: portal.enabled: the portal is disabled but the invoice_created email links to it with {{customer_portal_link}}: customers would get a dead link; set enabled: true, or remove {{customer_portal_link}} from those templates [portal-disabled-with-links]",
    ),
    (
        "python-tag.yaml",
        3,
        3,
        "tests/specs/python-tag.yaml:2:9: error: YAML tags are not allowed (!!python/object/apply:os.system); remove the tag; quote the value if it must be text [yaml-tag]",
    ),
    (
        "quoted-boolean.yaml",
        3,
        3,
        'tests/specs/quoted-boolean.yaml:4:24: error: portal.permissions.download_invoices: expected true or false, got the text "true"; write true or false without quotes [schema]',
    ),
    (
        "secret-in-body-file.yaml",
        3,
        3,
        "tests/specs/templates/with-key.html:2:13: error: portal.notifications.invoice_created.body_file: this template contains what looks like an API key (sk_test_/sk_live_…); remove it and revoke the key if it was committed [secret-in-spec]",
    ),
    (
        "subject-too-long.yaml",
        3,
        3,
        "tests/specs/subject-too-long.yaml:5:16: error: portal.notifications.invoice_created.subject: is too long: 150 characters, at most 128; shorten it [schema]",
    ),
    (
        "subject-with-line-break.yaml",
        3,
        3,
        "tests/specs/subject-with-line-break.yaml:5:43: error: portal.notifications.invoice_created.subject: the value contains U+000A LF, a line break; write the value on one line [control-character]",
    ),
    (
        "surrogate-in-key.yaml",
        3,
        3,
        'tests/specs/surrogate-in-key.yaml:4:5: error: portal.branding: this key contains \\udc00, a lone UTF-16 surrogate that is not a character; write the character itself, or escape its full code point (e.g. "\\U0001F600" rather than a surrogate pair) [yaml-encoding]',
    ),
    (
        "surrogate-in-name.yaml",
        3,
        3,
        'tests/specs/surrogate-in-name.yaml:4:19: error: portal.branding.company_name: this value contains \\ud83d, a lone UTF-16 surrogate that is not a character; write the character itself, or escape its full code point (e.g. "\\U0001F600" rather than a surrogate pair) [yaml-encoding]',
    ),
    (
        "tab-indentation.yaml",
        3,
        3,
        "tests/specs/tab-indentation.yaml:3:1: error: invalid YAML: found character '\\t' that cannot start any token; indent with spaces, not tabs [yaml-syntax]",
    ),
    (
        "template-body-and-body-file.yaml",
        3,
        3,
        'tests/specs/template-body-and-body-file.yaml:7:7: error: portal.notifications.invoice_created: set only one of "body" and "body_file"; keep body_file for a file, or body for inline text [schema]',
    ),
    (
        "template-default-typo.yaml",
        3,
        3,
        'tests/specs/template-default-typo.yaml:4:21: error: portal.notifications.payment_failed: "defualt" is not a template; did you mean "default"? write "default" to reset the portal\'s default content, or a mapping with subject and body_file [schema]',
    ),
    (
        "template-without-body.yaml",
        3,
        3,
        'tests/specs/template-without-body.yaml:4:5: error: portal.notifications.invoice_created: missing "body" or "body_file"; add body_file: templates/invoice_created.html, or an inline body [schema]',
    ),
    (
        "template-without-subject.yaml",
        3,
        3,
        'tests/specs/template-without-subject.yaml:4:5: error: portal.notifications.payment_failed.subject: missing required key "subject"; add a one-line subject [schema]',
    ),
    (
        "top-level-list.yaml",
        3,
        3,
        'tests/specs/top-level-list.yaml:1:1: error: the top level is a list, not a mapping; write "key: value" pairs, starting with "version: 1" [yaml-not-mapping]',
    ),
    (
        "unclosed-quote.yaml",
        3,
        3,
        'tests/specs/unclosed-quote.yaml:4:19: error: portal.branding.company_name: the quoted value that starts here is never closed; a closing quote (") is probably missing; end the value with " on line 4 [yaml-unclosed-quote]',
    ),
    (
        "unknown-event.yaml",
        3,
        3,
        'tests/specs/unknown-event.yaml:4:5: error: portal.notifications.invoice_creatd: unknown key "invoice_creatd"; did you mean "invoice_created"? [schema]',
    ),
    (
        "unknown-key-typo.yaml",
        3,
        3,
        'tests/specs/unknown-key-typo.yaml:5:5: error: portal.branding.primay_color: unknown key "primay_color"; did you mean "primary_color"? [schema]',
    ),
    (
        "unknown-permission.yaml",
        3,
        3,
        'tests/specs/unknown-permission.yaml:4:5: error: portal.permissions.update_payment_method: unknown key "update_payment_method"; did you mean "update_payment_methods"? [schema]',
    ),
    (
        "unknown-top-level-key.yaml",
        3,
        3,
        'tests/specs/unknown-top-level-key.yaml:4:1: error: owner: unknown key "owner"; allowed here: extends, portal, target, version [schema]',
    ),
    (
        "unknown-variable-in-body-file.yaml",
        3,
        3,
        "tests/specs/templates/typo.html:3:23: error: portal.notifications.invoice_created.body_file: unknown template variable {{ customer_portal_lnk }}; did you mean {{customer_portal_link}}? [template-unknown-variable]",
    ),
    (
        "unknown-variable.yaml",
        3,
        3,
        "tests/specs/unknown-variable.yaml:8:34: error: portal.notifications.payment_failed.body: unknown template variable {{customer_portl_link}}; did you mean {{customer_portal_link}}? [template-unknown-variable]",
    ),
    (
        "wrong-version.yaml",
        3,
        3,
        "tests/specs/wrong-version.yaml:1:10: error: version: unsupported version 2; this portalctl reads version: 1 [schema]",
    ),
    (
        "yaml11-date-as-subject.yaml",
        3,
        3,
        'tests/specs/yaml11-date-as-subject.yaml:5:16: error: portal.notifications.invoice_created.subject: unquoted 2024-01-01 is read as the date 2024-01-01, not as text; quote it: "2024-01-01" [yaml-unquoted]',
    ),
    (
        "yaml11-exponent-as-string.yaml",
        3,
        3,
        'tests/specs/yaml11-exponent-as-string.yaml:4:19: error: portal.branding.company_name: unquoted 1e3 is read as the number 1000, not as text; quote it: "1e3" [yaml-unquoted]',
    ),
    (
        "yaml11-no-as-string.yaml",
        3,
        3,
        'tests/specs/yaml11-no-as-string.yaml:4:19: error: portal.branding.company_name: unquoted no is read as the boolean false, not as text; quote it: "no" [yaml-unquoted]',
    ),
    (
        "yaml11-octal-as-string.yaml",
        3,
        3,
        'tests/specs/yaml11-octal-as-string.yaml:4:19: error: portal.branding.company_name: unquoted 0755 is read as the number 493, not as text; quote it: "0755" [yaml-unquoted]',
    ),
    (
        "yaml11-off-as-boolean.yaml",
        3,
        3,
        "tests/specs/yaml11-off-as-boolean.yaml:4:26: error: portal.permissions.cancel_subscription: off is not a boolean in YAML 1.2 (YAML 1.1 reads it as false); use true or false [yaml-boolean]",
    ),
    (
        "yaml11-yes-as-boolean.yaml",
        3,
        3,
        "tests/specs/yaml11-yes-as-boolean.yaml:3:12: error: portal.enabled: yes is not a boolean in YAML 1.2 (YAML 1.1 reads it as true); use true or false [yaml-boolean]",
    ),
    (
        "bidi-override-in-subject.yaml",
        3,
        3,
        "tests/specs/bidi-override-in-subject.yaml:5:25: error: portal.notifications.invoice_created.subject: the value contains U+202E RIGHT-TO-LEFT OVERRIDE, an invisible bidirectional-text control, which can make text display differently from what it is; remove it (retype the text if it was pasted) [control-character]",
    ),
    (
        "bidi-raw-in-comment.yaml",
        3,
        3,
        "tests/specs/bidi-raw-in-comment.yaml:3:19: error: the file contains U+202E RIGHT-TO-LEFT OVERRIDE, an invisible bidirectional-text control, which can make text display differently from what it is; remove it (retype the text if it was pasted) [control-character]",
    ),
    (
        "colour-as-comment.yaml",
        3,
        3,
        'tests/specs/colour-as-comment.yaml:4:20: error: portal.branding.primary_color: the value is empty: "#" starts a YAML comment, so #1662DD is not read; quote it: "#1662DD" [yaml-comment-value]',
    ),
    (
        "control-escape-in-name.yaml",
        3,
        3,
        "tests/specs/control-escape-in-name.yaml:4:24: error: portal.branding.company_name: the value contains U+001B ESC, a control character; remove it (retype the text if it was pasted) [control-character]",
    ),
    (
        "logo-absurd-dimensions.yaml",
        3,
        3,
        'tests/specs/logo-absurd-dimensions.yaml:4:11: error: portal.branding.logo: "assets/huge.png" declares 100000x25000 px; a logo may be at most 4096 px a side; export it at the recommended 200x50 px (a transparent PNG) [logo-dimensions]',
    ),
    (
        "quote-swallows-next-key.yaml",
        3,
        3,
        'tests/specs/quote-swallows-next-key.yaml:4:19: error: portal.branding.company_name: this quoted value runs from line 4 to line 5; a closing quote (") is probably missing; end the value with " on line 4 [yaml-unclosed-quote]',
    ),
    (
        "subject-flow-mapping.yaml",
        3,
        3,
        'tests/specs/subject-flow-mapping.yaml:5:16: error: portal.notifications.invoice_created.subject: an unquoted value starting with "{" is read as a YAML mapping, not as text; quote the whole value: "{{invoice_number}} is due" [yaml-flow-value]',
    ),
    (
        "template-nested-braces.yaml",
        3,
        3,
        'tests/specs/template-nested-braces.yaml:8:23: error: portal.notifications.payment_failed.body: nested placeholders "{{ {{invoice_number}} }}"; write one variable per pair of braces, e.g. {{invoice_number}} [template-syntax]',
    ),
    (
        "template-unclosed-placeholder.yaml",
        3,
        3,
        'tests/specs/template-unclosed-placeholder.yaml:5:25: error: portal.notifications.invoice_created.subject: "{{invoice_number" is never closed: "{{" has no matching "}}" on its line; close it: {{invoice_number}} [template-syntax]',
    ),
    (
        "extends-cycle.yaml",
        3,
        3,
        'tests/specs/bases/cycle-back.yaml:2:10: error: extends: "../extends-cycle.yaml" makes a cycle: tests/specs/extends-cycle.yaml -> tests/specs/bases/cycle-back.yaml -> tests/specs/extends-cycle.yaml; remove the extends that closes the loop [extends-cycle]',
    ),
    (
        "extends-missing-base.yaml",
        3,
        3,
        'tests/specs/extends-missing-base.yaml:2:10: error: extends: "no-such-base.yaml" does not exist; the path is relative to the folder of the spec that names it; check its spelling [extends-missing]',
    ),
    (
        "extends-outside-repository.yaml",
        3,
        3,
        'tests/specs/extends-outside-repository.yaml:2:10: error: extends: "../../../outside.yaml" is outside the repository that holds this spec; keep the base in the same repository (the folder holding .git), so one review sees both [extends-outside-repository]',
    ),
]

WARNING_ONLY = {name for name, code, strict, _ in CASES if code == 0}


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Paths in messages are exactly as given on the command line: run from the repo root.
    monkeypatch.chdir(ROOT)
    yield
    # run() configures structlog (level filter, stream); leave no trace for later tests.
    structlog.reset_defaults()


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_there_are_at_least_30_scenarios_and_each_is_covered() -> None:
    on_disk = sorted(p.name for p in SPECS.glob("*.yaml"))
    assert len(on_disk) >= 30
    assert on_disk == sorted(name for name, *_ in CASES)
    broken = [name for name, code, *_ in CASES if code == 3]
    assert len(broken) >= 30


@pytest.mark.parametrize(("name", "code", "strict_code", "first"), CASES, ids=[c[0] for c in CASES])
def test_broken_spec_gives_exact_first_line(
    capsys: pytest.CaptureFixture[str], name: str, code: int, strict_code: int, first: str
) -> None:
    rc, out, err = validate(capsys, f"tests/specs/{name}")
    assert rc == code
    assert err.splitlines()[0] == first
    assert "Traceback" not in err
    # one summary line on stdout naming the file
    assert out.count("\n") == 1 and out.startswith(f"tests/specs/{name}: ")


@pytest.mark.parametrize(("name", "code", "strict_code", "first"), CASES, ids=[c[0] for c in CASES])
def test_json_format_has_the_same_first_diagnostic(
    capsys: pytest.CaptureFixture[str], name: str, code: int, strict_code: int, first: str
) -> None:
    rc, out, _err = validate(capsys, "--format", "json", "--strict", f"tests/specs/{name}")
    assert rc == strict_code
    document = json.loads(out)
    assert document["version"] == 1
    [entry] = document["files"]
    assert entry["file"] == f"tests/specs/{name}"
    assert entry["valid"] is (strict_code == 0)
    d = entry["diagnostics"][0]
    where = f"{d['path']}: " if d["path"] else ""
    hint = f"; {d['hint']}" if d["hint"] else ""
    line = f"{d['file']}:{d['line']}:{d['col']}: {d['severity']}: {where}{d['message']}{hint} [{d['rule']}]"
    assert line == first


@pytest.mark.parametrize("name", sorted(WARNING_ONLY))
def test_warnings_pass_but_fail_with_strict(capsys: pytest.CaptureFixture[str], name: str) -> None:
    rc, out, _err = validate(capsys, f"tests/specs/{name}")
    assert rc == 0
    assert out.startswith(f"tests/specs/{name}: valid (")
    rc, out, _ = validate(capsys, "--strict", f"tests/specs/{name}")
    expected_strict = dict((n, s) for n, _c, s, _f in CASES)[name]
    assert rc == expected_strict
    if expected_strict == 3:
        assert out == f"tests/specs/{name}: 0 errors, 1 warning (warnings fail with --strict)\n"


def test_example_is_valid_without_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = validate(capsys, "--strict", EXAMPLE)
    assert (rc, out, err) == (0, "examples/portal.yaml: valid (0 warnings)\n", "")


def test_summary_counts_errors_and_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = validate(capsys, "tests/specs/unknown-variable.yaml")
    assert rc == 3
    assert out == "tests/specs/unknown-variable.yaml: 1 error, 1 warning\n"
    assert err.splitlines() == [
        "tests/specs/unknown-variable.yaml:8:34: error: portal.notifications.payment_failed.body: unknown template variable {{customer_portl_link}}; did you mean {{customer_portal_link}}? [template-unknown-variable]",
        'tests/specs/unknown-variable.yaml:4:5: warning: portal.notifications.payment_failed: the payment_failed email does not contain {{customer_portal_link}}; add a link such as <a href="{{customer_portal_link}}">Manage billing</a> so customers can pay and update their card themselves [template-missing-portal-link]',
    ]


def test_notice_is_shown_and_never_fails(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = validate(capsys, "--strict", "tests/specs/cancel-subscription-notice.yaml")
    assert rc == 0
    assert out == "tests/specs/cancel-subscription-notice.yaml: valid (0 warnings, 1 notice)\n"
    assert "[cancel-subscription-enabled]" in err


def test_every_file_is_checked_even_when_one_fails(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = validate(
        capsys,
        "tests/specs/duplicate-key.yaml",
        "examples/nope.yaml",
        EXAMPLE,
        "tests/specs/bad-hex-colour.yaml",
    )
    assert rc == 3
    assert out.splitlines() == [
        "tests/specs/duplicate-key.yaml: 1 error, 0 warnings",
        "examples/portal.yaml: valid (0 warnings)",
        "tests/specs/bad-hex-colour.yaml: 1 error, 0 warnings",
    ]
    assert "portalctl: error: examples/nope.yaml: no such file" in err.splitlines()


def test_missing_file_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = validate(capsys, "examples/nope.yaml")
    assert (rc, out, err) == (3, "", "portalctl: error: examples/nope.yaml: no such file\n")


def test_missing_file_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = validate(capsys, "--format", "json", "examples/nope.yaml", EXAMPLE)
    assert rc == 3
    files = json.loads(out)["files"]
    assert files[0] == {
        "file": "examples/nope.yaml",
        "valid": False,
        "errors": 0,
        "warnings": 0,
        "notices": 0,
        "diagnostics": [],
        "error": "examples/nope.yaml: no such file",
    }
    assert files[1]["valid"] is True and files[1]["diagnostics"] == []


def test_directory_validates_every_spec_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = tmp_path / "portals"
    shutil.copytree(ROOT / "examples" / "assets", fleet / "assets")
    shutil.copytree(ROOT / "examples" / "templates", fleet / "templates")
    example = (ROOT / "examples" / "portal.yaml").read_text(encoding="utf-8")
    (fleet / "acme.yaml").write_text(example, encoding="utf-8")
    (fleet / "globex.yml").write_text(example.replace("#1662DD", "#12345"), encoding="utf-8")
    (fleet / "README.txt").write_text("not a spec\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    rc, out, err = validate(capsys, "portals")
    assert rc == 3
    assert out.splitlines() == [
        "portals/acme.yaml: valid (0 warnings)",
        "portals/globex.yml: 1 error, 0 warnings",
    ]
    assert err == (
        "portals/globex.yml:18:20: error: portal.branding.primary_color: "
        '"#12345" is not a hex colour; write #RRGGBB, e.g. "#1662DD" [schema]\n'
    )


def test_empty_directory_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "portals").mkdir()
    monkeypatch.chdir(tmp_path)
    rc, _out, err = validate(capsys, "portals")
    assert rc == 3
    assert err == "portalctl: error: portals: no .yaml or .yml files in this directory\n"


def test_no_file_argument_checks_portal_yaml_here(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rc, _out, err = validate(capsys)
    assert rc == 3
    assert err == (
        "portalctl: error: portal.yaml: no such file; name your spec (`portalctl plan "
        "path/to/portal.yaml`), or create one with `portalctl init`\n"
    )
    (tmp_path / "portal.yaml").write_text("version: 1\nportal:\n  enabled: true\n")
    rc, out, _err = validate(capsys)
    assert (rc, out) == (0, "portal.yaml: valid (0 warnings)\n")


def test_api_key_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "json"):
        rc, out, err = validate(
            capsys,
            "--format",
            fmt,
            "tests/specs/api-key-in-spec.yaml",
            "tests/specs/secret-in-body-file.yaml",
        )
        assert rc == 3
        assert "exampleDoNotUse" not in out + err
        assert "secret-in-spec" in out + err


def test_alias_bomb_fails_without_expanding(capsys: pytest.CaptureFixture[str]) -> None:
    # 9**6 = 531441 leaves if expanded; refused at the first anchor instead.
    rc, out, _err = validate(capsys, "--format", "json", "tests/specs/alias-bomb.yaml")
    assert rc == 3
    [entry] = json.loads(out)["files"]
    assert [d["rule"] for d in entry["diagnostics"]] == ["yaml-anchor"]


def test_oversized_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text("version: 1\nportal:\n  enabled: true\n" + "# padding\n" * 110_000)
    size = spec.stat().st_size
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err.splitlines()[0] == (
        f"{spec}:1:1: error: file is {size} bytes; the limit is 1048576 bytes (1 MiB); "
        "a portal spec is a few kilobytes: move template bodies to body_file [yaml-too-large]"
    )


def test_oversized_logo_and_body_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "assets").mkdir()
    logo = (SPECS / "assets" / "square.png").read_bytes()
    (tmp_path / "assets" / "big.png").write_bytes(logo + b"\0" * (512 * 1024))
    (tmp_path / "long.html").write_text("{{customer_portal_link}}" + "x" * 70_000)
    spec = tmp_path / "portal.yaml"
    spec.write_text(
        textwrap.dedent("""\
        version: 1
        portal:
          branding:
            logo: assets/big.png
          notifications:
            invoice_created:
              subject: Invoice
              body_file: long.html
        """)
    )
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err.splitlines() == [
        f'{spec}:4:11: error: portal.branding.logo: "assets/big.png" is {len(logo) + 512 * 1024} bytes; the limit is 524288 bytes (512 KiB); compress it or reduce its size; 200x50 px is recommended [logo-too-large]',
        f'{spec}:8:18: error: portal.notifications.invoice_created.body_file: "long.html" is 70024 bytes; the limit is 65536 bytes (64 KiB); shorten the email; link to long content instead [body-file-too-large]',
    ]


@pytest.mark.skipif(
    not hasattr(os, "symlink") or sys.platform == "win32",
    reason="symlinks need a POSIX file system",
)
def test_symlink_escaping_the_spec_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SPECS / "assets" / "square.png", outside / "secret.png")
    (outside / "secret.html").write_text("{{customer_portal_link}}")
    repo = tmp_path / "repo"
    (repo / "assets").mkdir(parents=True)
    (repo / "assets" / "logo.png").symlink_to(outside / "secret.png")
    (repo / "body.html").symlink_to("../outside/secret.html")
    spec = repo / "portal.yaml"
    spec.write_text(
        textwrap.dedent("""\
        version: 1
        portal:
          branding:
            logo: assets/logo.png
          notifications:
            invoice_created:
              subject: Invoice
              body_file: body.html
        """)
    )
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err.splitlines() == [
        f'{spec}:4:11: error: portal.branding.logo: "assets/logo.png" is a symlink to a file outside the spec\'s folder; copy the logo next to the spec and point at it, e.g. assets/logo.png [logo-outside-folder]',
        f'{spec}:8:18: error: portal.notifications.invoice_created.body_file: "body.html" is a symlink to a file outside the spec\'s folder; copy the template next to the spec and point at it, e.g. templates/invoice_created.html [body-file-outside-folder]',
    ]


def _fresh_interpreter(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_validate_never_imports_network_or_diff_libraries() -> None:
    loaded = _fresh_interpreter(
        textwrap.dedent("""\
        import contextlib, io, json, sys
        from reconciler.cli import run
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert run(["validate", "examples/portal.yaml", "tests/specs/unknown-key-typo.yaml"]) == 3
        heavy = ("httpx", "deepdiff", "starlette", "uvicorn", "jsonschema")
        print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
        """)
    )
    assert loaded == ["jsonschema"]


def test_jsonschema_is_imported_only_when_validating() -> None:
    loaded = _fresh_interpreter(
        textwrap.dedent("""\
        import contextlib, io, json, sys
        from reconciler.cli import run
        with contextlib.redirect_stdout(io.StringIO()):
            assert run(["validate", "--help"]) == 0
        import reconciler.spec
        print(json.dumps(sorted(m for m in ("jsonschema", "httpx", "deepdiff") if m in sys.modules)))
        """)
    )
    assert loaded == []


def test_installed_console_script() -> None:
    portalctl = shutil.which("portalctl")
    assert portalctl, "the package is installed with its console script"
    result = subprocess.run(
        [portalctl, "validate", EXAMPLE, "tests/specs/yaml11-no-as-string.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3
    assert result.stdout.splitlines() == [
        "examples/portal.yaml: valid (0 warnings)",
        "tests/specs/yaml11-no-as-string.yaml: 1 error, 0 warnings",
    ]
    assert result.stderr == (
        "tests/specs/yaml11-no-as-string.yaml:4:19: error: portal.branding.company_name: "
        'unquoted no is read as the boolean false, not as text; quote it: "no" [yaml-unquoted]\n'
    )


def test_misspelt_keys_are_reported_once_each(capsys: pytest.CaptureFixture[str]) -> None:
    # The "did you mean" lines already say what is missing: no "missing subject" line too.
    rc, out, err = validate(capsys, "tests/specs/misspelt-template-keys.yaml")
    assert rc == 3
    assert out == "tests/specs/misspelt-template-keys.yaml: 2 errors, 0 warnings\n"
    assert err.splitlines() == [
        'tests/specs/misspelt-template-keys.yaml:5:7: error: portal.notifications.invoice_created.subjet: unknown key "subjet"; did you mean "subject"? [schema]',
        'tests/specs/misspelt-template-keys.yaml:6:7: error: portal.notifications.invoice_created.body_fil: unknown key "body_fil"; did you mean "body_file"? [schema]',
    ]
    rc, out, err = validate(capsys, "tests/specs/misspelt-portal.yaml")
    assert (rc, out) == (3, "tests/specs/misspelt-portal.yaml: 1 error, 0 warnings\n")


def test_a_missing_key_without_a_lookalike_is_still_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text("version: 1\nowner: platform\n", encoding="utf-8")
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err.splitlines() == [
        f'{spec}:1:1: error: portal: missing required key "portal"; add a "portal:" mapping with the settings to manage [schema]',
        f'{spec}:2:1: error: owner: unknown key "owner"; allowed here: extends, portal, target, version [schema]',
    ]


def test_oversized_inline_body_is_reported_once(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _err = validate(capsys, "--format", "json", "tests/specs/body-too-large.yaml")
    assert rc == 3
    [entry] = json.loads(out)["files"]
    assert [d["rule"] for d in entry["diagnostics"]] == ["body-too-large"]


def test_api_key_in_a_comment_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "json"):
        rc, out, err = validate(capsys, "--format", fmt, "tests/specs/api-key-in-comment.yaml")
        assert rc == 3
        assert "secret-in-spec" in out + err
        assert "exampleDoNotUse" not in out + err


def _logo_spec(folder: Path, logo: str) -> Path:
    spec = folder / "portal.yaml"
    spec.write_text(f"version: 1\nportal:\n  branding:\n    logo: {logo}\n", encoding="utf-8")
    return spec


@pytest.mark.skipif(
    not hasattr(os, "symlink") or sys.platform == "win32",
    reason="symlinks need a POSIX file system",
)
def test_symlink_loop_is_a_file_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "loop.png").symlink_to("loop.png")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "a.html").symlink_to("b.html")
    (tmp_path / "templates" / "b.html").symlink_to("a.html")
    spec = tmp_path / "portal.yaml"
    spec.write_text(
        textwrap.dedent("""\
        version: 1
        portal:
          branding:
            logo: assets/loop.png
          notifications:
            invoice_created:
              subject: Invoice
              body_file: templates/a.html
        """)
    )
    rc, out, err = validate(capsys, str(spec))
    assert rc == 3
    assert out == f"{spec}: 2 errors, 0 warnings\n"
    assert err.splitlines() == [
        f'{spec}:4:11: error: portal.branding.logo: "assets/loop.png" is a symlink loop (it leads back to itself); point the symlink at a real file, or replace it with the file itself [logo-missing]',
        f'{spec}:8:18: error: portal.notifications.invoice_created.body_file: "templates/a.html" is a symlink loop (it leads back to itself); point the symlink at a real file, or replace it with the file itself [body-file-missing]',
    ]


@pytest.mark.skipif(
    not hasattr(os, "symlink") or sys.platform == "win32",
    reason="symlinks need a POSIX file system",
)
def test_dangling_symlink_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "logo.png").symlink_to("logo-v2.png")
    spec = _logo_spec(tmp_path, "assets/logo.png")
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err == (
        f'{spec}:4:11: error: portal.branding.logo: "assets/logo.png" is a symlink to a file that does not exist; point the symlink at the logo file, or replace it with the file itself [logo-missing]\n'
    )


def test_over_long_file_name_is_a_file_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _logo_spec(tmp_path, "a" * 300 + ".png")
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err == (
        f'{spec}:4:11: error: portal.branding.logo: "{"a" * 40}…{"a" * 16}.png" has a file name of 304 bytes; shorten it: file systems allow at most 255 bytes per name [logo-missing]\n'
    )


def test_over_long_path_is_a_file_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _logo_spec(tmp_path, "/".join(["d" * 200] * 30) + "/logo.png")
    rc, _out, err = validate(capsys, str(spec))
    assert rc == 3
    assert err == (
        f'{spec}:4:11: error: portal.branding.logo: "{"d" * 40}…{"d" * 11}/logo.png" is too long a path; shorten it: file systems allow at most 255 bytes per name [logo-missing]\n'
    )


def test_a_bug_for_one_file_does_not_stop_the_others(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import reconciler.cli
    import reconciler.spec

    real_load_spec = reconciler.spec.load_spec

    def load_spec(path: str, *, strict: bool = False) -> object:
        if path == "tests/specs/duplicate-key.yaml":
            raise KeyError("boom sk_live_exampleDoNotUse99")
        return real_load_spec(path, strict=strict)

    monkeypatch.setattr(reconciler.spec, "load_spec", load_spec)
    monkeypatch.setitem(reconciler.cli._state, "debug", False)
    rc, out, err = validate(capsys, "tests/specs/duplicate-key.yaml", EXAMPLE)
    assert rc == 1  # a bug is not an invalid spec
    assert out == "examples/portal.yaml: valid (0 warnings)\n"
    assert err == (
        "portalctl: error: tests/specs/duplicate-key.yaml: internal error: KeyError: "
        "'boom sk_live_**********' (run with --debug for a traceback, and please report it)\n"
    )
    # --debug: the bug propagates, and run() prints its traceback.
    rc = run(["--debug", "validate", "tests/specs/duplicate-key.yaml", EXAMPLE])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback (most recent call last)" in err
    assert "KeyError" in err
