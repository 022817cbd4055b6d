"""Every diagnostic rule id, its severity and a one-line description (the docs table).

Rule ids are stable: CI annotations, docs and users' notes refer to them. Structural
rules (YAML and schema) sort before rules of meaning when diagnostics are reported.
"""

from __future__ import annotations

from reconciler.model import Severity

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTICE

#: id -> (severity, structural?, description)
RULES: dict[str, tuple[Severity, bool, str]] = {
    # loading
    "yaml-too-large": (E, True, "the spec file is larger than 1 MiB"),
    "yaml-encoding": (
        E,
        True,
        "the spec file is not UTF-8 text, or holds a lone surrogate (\\ud800) or a "
        "non-character (U+FFFE)",
    ),
    "yaml-empty": (E, True, "the spec file is empty or holds only comments"),
    "yaml-syntax": (E, True, "the file is not valid YAML (tabs, bad indentation, quoting)"),
    "yaml-multi-document": (E, True, "more than one YAML document (---) in the file"),
    "yaml-anchor": (
        E,
        True,
        "anchors (&) and aliases (*) are refused (alias bombs, hidden values)",
    ),
    "yaml-tag": (E, True, "explicit YAML tags (!!python/..., !foo) are refused"),
    "yaml-not-mapping": (E, True, "the top level is not a mapping"),
    "yaml-too-deep": (E, True, "mappings and lists are nested more than 32 levels deep"),
    "yaml-duplicate-key": (E, True, "a key appears twice in the same mapping"),
    "yaml-complex-key": (E, True, "a key is a list or mapping instead of a name"),
    "yaml-unquoted": (
        E,
        True,
        "an unquoted value YAML reads as a non-string (no, 0755, 1e3, "
        "2024-01-01) where text is expected",
    ),
    "yaml-unreadable-value": (
        E,
        True,
        "an unquoted value YAML cannot read: a number longer than 100 characters, or a "
        "date that does not exist (2024-13-45)",
    ),
    "yaml-boolean": (E, True, "a boolean written yes/no/on/off instead of true/false"),
    "yaml-unclosed-quote": (
        E,
        True,
        "a quoted one-line value runs over several lines: a closing quote is probably missing",
    ),
    "yaml-comment-value": (
        E,
        True,
        'an unquoted value starting with "#" is read as a comment (primary_color: #1662DD)',
    ),
    "yaml-flow-value": (
        E,
        True,
        'an unquoted value starting with "{" or "[" is read as a mapping or list '
        "(subject: {{invoice_number}} ...)",
    ),
    "control-character": (
        E,
        True,
        "a control character (C0, C1, DEL, NUL), bidi control (U+202E) or line break where "
        "it does not belong, written raw or as an escape",
    ),
    "secret-in-spec": (
        E,
        True,
        "an API key (sk_test_/sk_live_) is written in the spec or a template",
    ),
    "schema": (E, True, "the spec does not match schemas/portal.schema.json"),
    # extends
    "extends-missing": (E, True, "the base named by extends does not exist or cannot be read"),
    "extends-invalid": (
        E,
        True,
        "extends is not a relative path to a spec file (absolute, a directory, not text)",
    ),
    "extends-outside-repository": (
        E,
        True,
        "the base named by extends is outside the repository holding the spec",
    ),
    "extends-cycle": (E, True, "bases extend each other in a loop"),
    "extends-too-deep": (E, True, "more than 5 bases are stacked with extends"),
    # files
    "logo-missing": (E, False, "the logo file does not exist or cannot be read"),
    "logo-outside-folder": (E, False, "the logo path is absolute or leaves the spec's folder"),
    "logo-not-image": (E, False, "the logo is not a PNG or JPEG (by its magic bytes)"),
    "logo-too-large": (E, False, "the logo is larger than 512 KiB"),
    "logo-dimensions": (
        E,
        False,
        "the logo declares absurd dimensions (over 4096 px or under 8 px a side)",
    ),
    "logo-aspect": (W, False, "the logo is not about 4:1 (200x50 px recommended)"),
    "logo-no-alpha": (W, False, "the logo has no transparency (a transparent PNG is recommended)"),
    "body-file-missing": (E, False, "a template's body_file does not exist or cannot be read"),
    "body-file-outside-folder": (
        E,
        False,
        "a body_file path is absolute or leaves the spec's folder",
    ),
    "body-file-not-utf8": (E, False, "a body_file is not UTF-8 text"),
    "body-file-too-large": (E, False, "a body_file is larger than 64 KiB"),
    "body-too-large": (E, False, "an inline body is larger than 64 KiB"),
    # meaning
    "template-syntax": (
        E,
        False,
        "a malformed {{placeholder}}: unclosed {{, stray }}, nested or empty braces",
    ),
    "template-unknown-variable": (
        E,
        False,
        "a template uses a {{variable}} the portal does not know",
    ),
    "template-missing-portal-link": (
        W,
        False,
        "invoice_created / payment_failed lack {{customer_portal_link}}",
    ),
    "portal-disabled-with-links": (E, False, "the portal is disabled while templates link to it"),
    "payment-failed-cannot-update-card": (
        W,
        False,
        "payment_failed links to the portal but update_payment_methods is false",
    ),
    "cancel-subscription-enabled": (
        N,
        False,
        "customers may cancel subscriptions themselves (retention)",
    ),
    "primary-color-contrast": (
        W,
        False,
        "the primary colour has less than 4.5:1 contrast with white text (WCAG AA)",
    ),
    # translations of templates (locales:)
    "locale-tag-invalid": (E, False, "a locales: key is not a BCP 47 language tag (es, pt-BR)"),
    "locale-duplicate": (
        E,
        False,
        "the same language twice under one event's locales: (es and ES, pt-br and pt-BR)",
    ),
    "locale-coverage": (
        W,
        False,
        "an event's translations do not cover the languages the other events' translations do",
    ),
}


def is_structural(rule: str) -> bool:
    """Whether ``rule`` is a YAML/schema rule (reported before rules of meaning)."""
    entry = RULES.get(rule)
    return entry[1] if entry else False


def severity(rule: str) -> Severity:
    return RULES[rule][0]
