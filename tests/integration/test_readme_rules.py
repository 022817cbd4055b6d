"""The README's table of validation rules is the one `lint_rules()` describes: a rule added,
renamed or re-graded without its row fails here."""

from __future__ import annotations

from pathlib import Path

from reconciler.spec import lint_rules

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_rule_with_its_severity_and_text() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| rule | severity | what it catches |") :].split("\n\n", 1)[0]
    rows = table.splitlines()[2:]
    expected = [
        f"| `{rule}` | {severity} | {what.replace('|', chr(92) + '|')} |"
        for rule, severity, what in lint_rules()
    ]
    assert rows == expected
