"""Hostile and mistaken specs (issue 10): control characters however written, template
syntax, missing closing quotes, YAML's comment and brace traps, absurd logo sizes, and
files swapped for FIFOs, devices or symlinks."""

from __future__ import annotations

import os
import struct
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

from reconciler.errors import ExitCode, SpecError, UsageError
from reconciler.spec import load_spec
from reconciler.spec.files import FileProblem, check_local_file, read_capped
from reconciler.spec.textcheck import char_name

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX file system")


def write(folder: Path, text: str, name: str = "portal.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    assert caught.value.exit_code == ExitCode.INVALID
    return [str(d) for d in caught.value.diagnostics if d.severity.value == "error"]


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof0 + b"\xff\xd9"


# --- control characters ----------------------------------------------------------------

#: (line of YAML under "portal:" or at the top, dotted path, 1-based line, column of the
#: character as written)
FIELDS = [
    ('  branding:\n    company_name: "Acme{c}"\n', "portal.branding.company_name", 4, 24),
    ('  branding:\n    primary_color: "#1662DD{c}"\n', "portal.branding.primary_color", 4, 28),
    ('  branding:\n    logo: "assets/logo{c}.png"\n', "portal.branding.logo", 4, 23),
    (
        '  notifications:\n    invoice_created:\n      subject: "Invoice{c}"\n      body: x\n',
        "portal.notifications.invoice_created.subject",
        5,
        24,
    ),
    (
        '  notifications:\n    invoice_created:\n      subject: Invoice\n      body: "a{c}"\n',
        "portal.notifications.invoice_created.body",
        6,
        15,
    ),
    (
        "  notifications:\n    invoice_created:\n      subject: Invoice\n"
        '      body_file: "t{c}.html"\n',
        "portal.notifications.invoice_created.body_file",
        6,
        20,
    ),
]

#: (escape as written in a double-quoted YAML string, the character, its kind)
ESCAPES = [
    ("\\e", "\x1b", "a control character"),
    ("\\x1b", "\x1b", "a control character"),
    ("\\0", "\0", "a control character"),
    ("\\x7f", "\x7f", "a control character"),
    ("\\x9b", "\x9b", "a control character"),
    ("\\N", "\x85", "a line break"),
    ("\\u202e", "\u202e", None),
    ("\\u2066", "\u2066", None),
    ("\\u200f", "\u200f", None),
    ("\\U0000202A", "\u202a", None),
]

BIDI = (
    "an invisible bidirectional-text control, which can make text display differently "
    "from what it is"
)


@pytest.mark.parametrize(("field", "path", "line", "col"), FIELDS, ids=[f[1] for f in FIELDS])
@pytest.mark.parametrize(("escape", "char", "kind"), ESCAPES, ids=[e[0] for e in ESCAPES])
def test_escaped_control_characters_are_refused_in_every_string(
    tmp_path: Path,
    field: str,
    path: str,
    line: int,
    col: int,
    escape: str,
    char: str,
    kind: str | None,
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text("version: 1\nportal:\n" + field.format(c=escape), encoding="utf-8")
    hint = (
        "write the value on one line"
        if char == "\x85" and not path.endswith(".body")
        else "remove it (retype the text if it was pasted)"
    )
    found = errors(spec)
    assert found[0] == (
        f"{spec}:{line}:{col}: error: {path}: the value contains {char_name(char)}, "
        f"{kind or BIDI}; {hint} [control-character]"
    )
    assert char not in "".join(found)


@pytest.mark.parametrize(
    ("text", "line", "col", "path"),
    [
        ('target:\n  api_url: "https://api.4geeks.io\\x1b"\nportal: {}\n', 2, 34, "target.api_url"),
        ('target:\n  api_key_env: "KEY\\u202e"\nportal: {}\n', 2, 20, "target.api_key_env"),
    ],
)
def test_target_strings_are_checked_too(
    tmp_path: Path, text: str, line: int, col: int, path: str
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text("version: 1\n" + text, encoding="utf-8")
    assert errors(spec)[0].startswith(
        f"{spec}:{line + 1}:{col}: error: {path}: the value contains U+"
    )


def test_char_names() -> None:
    assert [char_name(c) for c in "\0\t\x1b\x7f\x85\x9b\u202e\u2069\ufeff"] == [
        "U+0000 NUL",
        "U+0009 TAB",
        "U+001B ESC",
        "U+007F DEL",
        "U+0085 NEL",
        "U+009B CSI",
        "U+202E RIGHT-TO-LEFT OVERRIDE",
        "U+2069 POP DIRECTIONAL ISOLATE",
        "U+FEFF ZERO WIDTH NO-BREAK SPACE",
    ]


@pytest.mark.parametrize(
    ("raw", "name", "kind"),
    [
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE", BIDI),
        ("\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE", BIDI),
        ("\u200e", "U+200E LEFT-TO-RIGHT MARK", BIDI),
        ("\x85", "U+0085 NEL", "a line break"),
        ("\u2028", "U+2028 LINE SEPARATOR", "a line break"),
        ("\x1b", "U+001B ESC", "a control character"),
        ("\x00", "U+0000 NUL", "a control character"),
        ("\x9b", "U+009B CSI", "a control character"),
        ("\r", "U+000D CR", "a line break"),
    ],
)
def test_raw_characters_are_refused_anywhere_in_the_file(
    tmp_path: Path, raw: str, name: str, kind: str
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_bytes(f"version: 1\nportal:\n  branding:\n    company_name: Ac{raw}me\n".encode())
    [line] = errors(spec)
    assert line.startswith(f"{spec}:4:21: error: the file contains {name}, {kind}; ")
    assert raw not in line
    spec.write_bytes(f"version: 1\nportal: {{}}  # note {raw}x\n".encode())
    assert errors(spec)[0].startswith(f"{spec}:2:20: error: the file contains {name}, {kind}; ")


def test_single_line_values_refuse_tabs_and_line_breaks(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          branding:
            company_name: "Acme\\nCloud"
          notifications:
            invoice_created:
              subject: "Invoice\\tdue"
              body: x
        """,
    )
    assert errors(spec) == [
        f"{spec}:4:24: error: portal.branding.company_name: the value contains U+000A LF, a "
        "line break; write the value on one line [control-character]",
        f"{spec}:7:24: error: portal.notifications.invoice_created.subject: the value contains "
        "U+0009 TAB, a tab; use a space instead [control-character]",
    ]


def test_bodies_may_hold_tabs_and_line_breaks_but_not_a_lone_cr(tmp_path: Path) -> None:
    (tmp_path / "crlf.html").write_bytes(b"<p>\tHi</p>\r\n<p>{{customer_portal_link}}</p>\r\n")
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: Invoice
              body: "<p>\\tHi</p>\\r\\n<p>{{customer_portal_link}}</p>\\n"
            payment_failed:
              subject: Card declined
              body_file: crlf.html
        """,
    )
    state, diagnostics = load_spec(spec)
    assert diagnostics == []
    assert {t.body for t in state.templates.values()} == {  # type: ignore[union-attr]
        "<p>\tHi</p>\n<p>{{customer_portal_link}}</p>\n"
    }
    (tmp_path / "crlf.html").write_bytes(b"<p>Hi</p>\r<p>{{customer_portal_link}}\x1b[2J</p>\n")
    assert errors(spec) == [
        f"{tmp_path / 'crlf.html'}:1:10: error: portal.notifications.payment_failed.body_file: "
        '"crlf.html" contains U+000D CR, a line break; end lines with LF (a CRLF pair is fine): '
        "a lone CR can overwrite text on screen [control-character]"
    ]


def test_body_file_control_characters_point_into_the_file(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>{{customer_portal_link}}</p>\n<p>\u2066x</p>\n")
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: Invoice
              body_file: t.html
        """,
    )
    assert errors(spec) == [
        f"{tmp_path / 't.html'}:2:4: error: portal.notifications.invoice_created.body_file: "
        f'"t.html" contains U+2066 LEFT-TO-RIGHT ISOLATE, {BIDI}; remove it (retype the text '
        "if it was pasted) [control-character]"
    ]


def test_a_key_with_a_control_character_is_refused(tmp_path: Path) -> None:
    spec = write(tmp_path, 'version: 1\nportal:\n  "enabled\\e[8m": true\n')
    assert errors(spec) == [
        f"{spec}:3:3: error: portal: a key contains U+001B ESC, a control character; remove "
        "it: keys are plain names such as company_name [control-character]"
    ]


# --- template syntax -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "col", "message"),
    [
        (
            "Invoice {{invoice_number",
            25,
            '"{{invoice_number" is never closed: "{{" has no matching "}}" on its line; '
            "close it: {{invoice_number}}",
        ),
        (
            "Invoice }} {{invoice_number}}",
            25,
            '"}}" without an opening "{{"; write the placeholder as {{name}}; for a literal '
            '"}}" write "} }"',
        ),
        (
            "Invoice {{ {{invoice_number}} }}",
            28,
            'nested placeholders "{{ {{invoice_number}} }}"; write one variable per pair of '
            "braces, e.g. {{invoice_number}}",
        ),
        (
            "Invoice {{}}",
            25,
            'empty placeholder "{{}}"; name a variable inside, e.g. {{customer_portal_link}}, '
            "or remove it",
        ),
        (
            "Invoice {{{invoice_number}}}",
            25,
            'stray brace inside the placeholder "{{{invoice_number}}"; write exactly two '
            "braces on each side, e.g. {{invoice_number}}",
        ),
    ],
)
def test_template_syntax_in_subjects(tmp_path: Path, subject: str, col: int, message: str) -> None:
    spec = write(
        tmp_path,
        f"""\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: "{subject}"
              body: "{{{{customer_portal_link}}}}"
        """,
    )
    assert errors(spec) == [
        f"{spec}:5:{col}: error: portal.notifications.invoice_created.subject: {message} "
        "[template-syntax]"
    ]


def test_template_syntax_in_a_body_file_points_into_it(tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("<p>{{customer_portal_link}}</p>\n<p>{{ amount </p>\n")
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: Invoice
              body_file: t.html
        """,
    )
    assert errors(spec) == [
        f"{tmp_path / 't.html'}:2:4: error: portal.notifications.invoice_created.body_file: "
        '"{{ amount" is never closed: "{{" has no matching "}}" on its line; close it: '
        "{{amount}} [template-syntax]"
    ]


def test_well_formed_placeholders_and_single_braces_pass(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: "Invoice {{ invoice_number }} from {{company_name}}"
              body: |
                <style>p { color: #333 }</style>
                <p>{{customer_portal_link}}</p>
        """,
    )
    _state, diagnostics = load_spec(spec)
    assert diagnostics == []


# --- missing closing quotes, YAML traps --------------------------------------------------


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_missing_closing_quote_that_swallows_the_next_key(tmp_path: Path, quote: str) -> None:
    spec = write(
        tmp_path,
        f"""\
        version: 1
        portal:
          branding:
            company_name: {quote}Acme Cloud
            primary_color: {quote}#1662DD{quote}
        """,
    )
    assert errors(spec) == [
        f"{spec}:4:19: error: portal.branding.company_name: this quoted value runs from line 4 "
        f"to line 5; a closing quote ({quote}) is probably missing; end the value with {quote} "
        "on line 4 [yaml-unclosed-quote]"
    ]


def test_a_missing_closing_quote_that_breaks_the_yaml(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: "Invoice {{invoice_number}}
              body_file: "t.html"
        """,
    )
    assert errors(spec) == [
        f"{spec}:5:16: error: portal.notifications.invoice_created.subject: this quoted value "
        'runs from line 5 to line 6; a closing quote (") is probably missing; end the value '
        'with " on line 5 [yaml-unclosed-quote]'
    ]


@pytest.mark.parametrize(
    ("line", "path", "col", "message"),
    [
        (
            "    primary_color: #1662DD",
            "portal.branding.primary_color",
            20,
            'the value is empty: "#" starts a YAML comment, so #1662DD is not read; quote it: '
            '"#1662DD"',
        ),
        (
            "    company_name:   # Acme",
            "portal.branding.company_name",
            21,
            'the value is empty: "#" starts a YAML comment, so # Acme is not read; quote it: '
            '"# Acme"',
        ),
        (
            "    company_name: Acme #1 Cloud",
            "portal.branding.company_name",
            19,
            'the value stops before "#": YAML reads #1 Cloud as a comment; quote the whole '
            'value: "Acme #1 Cloud"',
        ),
        (
            "    company_name: {Acme}",
            "portal.branding.company_name",
            19,
            'an unquoted value starting with "{" is read as a YAML mapping, not as text; quote '
            'the whole value: "{Acme}"',
        ),
        (
            "    company_name: {{company}}",
            "portal.branding.company_name",
            19,
            'an unquoted value starting with "{" is read as a YAML mapping, not as text; quote '
            'the whole value: "{{company}}"',
        ),
        (
            "    company_name: [Acme] Cloud",
            "portal.branding.company_name",
            19,
            'an unquoted value starting with "[" is read as a YAML list, not as text; quote the '
            'whole value: "[Acme] Cloud"',
        ),
    ],
)
def test_yaml_traps_get_one_error_saying_to_quote(
    tmp_path: Path, line: str, path: str, col: int, message: str
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text(f"version: 1\nportal:\n  branding:\n{line}\n", encoding="utf-8")
    [found] = errors(spec)
    rule = "yaml-comment-value" if "comment" in message else "yaml-flow-value"
    assert found == f"{spec}:4:{col}: error: {path}: {message} [{rule}]"


def test_brace_trap_in_a_subject_followed_by_text(tmp_path: Path) -> None:
    spec = write(
        tmp_path,
        """\
        version: 1
        portal:
          notifications:
            invoice_created:
              subject: {{invoice_number}} from {{company_name}}
              body: x
        """,
    )
    assert errors(spec) == [
        f"{spec}:5:16: error: portal.notifications.invoice_created.subject: an unquoted value "
        'starting with "{" is read as a YAML mapping, not as text; quote the whole value: '
        '"{{invoice_number}} from {{company_name}}" [yaml-flow-value]'
    ]


# --- logo dimensions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("huge.png", png(100_000, 25_000), "100000x25000 px; a logo may be at most 4096 px a side"),
        ("wide.png", png(8192, 2048), "8192x2048 px; a logo may be at most 4096 px a side"),
        ("huge.jpg", jpeg(65_000, 16_250), "65000x16250 px; a logo may be at most 4096 px a side"),
        ("tiny.png", png(4, 1), "4x1 px; a logo must be at least 8 px a side"),
        ("thin.png", png(200, 5), "200x5 px; a logo must be at least 8 px a side"),
    ],
)
def test_absurd_logo_dimensions_are_refused(
    tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    (tmp_path / name).write_bytes(data)
    spec = write(tmp_path, f"version: 1\nportal:\n  branding:\n    logo: {name}\n")
    assert errors(spec) == [
        f'{spec}:4:11: error: portal.branding.logo: "{name}" declares {problem}; export it at '
        "the recommended 200x50 px (a transparent PNG) [logo-dimensions]"
    ]


def test_the_largest_sane_logo_is_only_a_warning_if_not_4_to_1(tmp_path: Path) -> None:
    (tmp_path / "big.png").write_bytes(png(4096, 1024))
    spec = write(tmp_path, "version: 1\nportal:\n  branding:\n    logo: big.png\n")
    _state, diagnostics = load_spec(spec)
    assert diagnostics == []


# --- files swapped after checking --------------------------------------------------------


@POSIX
def test_read_capped_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "body.html"
    os.mkfifo(fifo)
    with pytest.raises(FileProblem) as caught:
        read_capped(fifo, 100)
    assert caught.value.message == "it is a FIFO (named pipe), not a regular file"


@POSIX
def test_read_capped_refuses_a_device_and_a_swapped_in_symlink(tmp_path: Path) -> None:
    with pytest.raises(FileProblem) as caught:
        read_capped(Path("/dev/zero"), 100, follow=True)
    assert caught.value.message == "it is a device, not a regular file"
    (tmp_path / "real.html").write_text("x")
    (tmp_path / "body.html").symlink_to(tmp_path / "real.html")
    with pytest.raises(FileProblem) as caught:
        read_capped(tmp_path / "body.html", 100)
    assert caught.value.message == "it was replaced by a symlink"


def test_read_capped_reads_at_most_one_byte_past_the_limit(tmp_path: Path) -> None:
    (tmp_path / "big.html").write_bytes(b"x" * 10_000)
    assert read_capped(tmp_path / "big.html", 100) == b"x" * 101


@POSIX
def test_check_local_file_for_a_saved_plan(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ok.html").write_text("hello")
    assert check_local_file(tmp_path, "templates/ok.html", max_bytes=10) == b"hello"
    cases = {
        "zero.html": (lambda p: p.symlink_to("/dev/zero")),
        "fifo.html": (lambda p: os.mkfifo(p)),
        "big.html": (lambda p: p.write_bytes(b"x" * 11)),
    }
    found = []
    for name, make in cases.items():
        make(tmp_path / "templates" / name)
        with pytest.raises(UsageError) as caught:
            check_local_file(tmp_path, f"templates/{name}", max_bytes=10, what="template")
        assert caught.value.exit_code == ExitCode.INVALID
        found.append(str(caught.value))
    folder = os.path.normpath(tmp_path / "templates")
    assert found == [
        f"{folder}/zero.html: is a symlink to a file outside the spec's folder; copy the "
        "template next to the spec and point at it, e.g. templates/invoice_created.html",
        f"{folder}/fifo.html: is not a regular file; point at the template file itself, e.g. "
        "templates/invoice_created.html",
        f"{folder}/big.html: is larger than the limit of 10 bytes; make the plan again from a "
        "spec that passes `portalctl validate`",
    ]


@POSIX
def test_a_fifo_named_as_the_spec_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "portal.yaml"
    os.mkfifo(fifo)
    with pytest.raises(UsageError) as caught:
        load_spec(fifo)
    assert str(caught.value) == (
        f"{fifo}: it is a FIFO (named pipe), not a regular file; point at a regular file"
    )


@pytest.mark.parametrize(
    ("line", "col", "message"),
    [
        (
            "    company_name: {{company}",
            19,
            'an unquoted value starting with "{" is read as a YAML mapping, not as text; '
            'quote the whole value: "{{company}"',
        ),
        (
            "    company_name: [Acme",
            19,
            'an unquoted value starting with "[" is read as a YAML list, not as text; quote '
            'the whole value: "[Acme"',
        ),
    ],
)
def test_an_unclosed_brace_trap_is_explained_where_it_starts(
    tmp_path: Path, line: str, col: int, message: str
) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_text(
        f"version: 1\nportal:\n  branding:\n{line}\n    primary_color: '#1662DD'\n",
        encoding="utf-8",
    )
    assert errors(spec) == [
        f"{spec}:4:{col}: error: portal.branding.company_name: {message} [yaml-flow-value]"
    ]


def test_a_flow_mapping_value_inside_a_flow_mapping(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: 1\nportal:\n  branding: {company_name: {{x}}}\n")
    assert errors(spec) == [
        f"{spec}:3:28: error: portal.branding.company_name: an unquoted value starting with "
        '"{" is read as a YAML mapping, not as text; quote the whole value: "{{x}}" '
        "[yaml-flow-value]"
    ]


def test_a_logo_path_turned_into_a_comment_does_not_reset_the_logo(tmp_path: Path) -> None:
    spec = write(tmp_path, "version: 1\nportal:\n  branding:\n    logo: #assets/logo.png\n")
    assert errors(spec) == [
        f'{spec}:4:11: error: portal.branding.logo: the value is empty: "#" starts a YAML '
        'comment, so #assets/logo.png is not read; quote it: "#assets/logo.png", or write null '
        "to mean no value [yaml-comment-value]"
    ]
    # A real comment after an empty logo still means "reset to the default logo".
    spec = write(tmp_path, "version: 1\nportal:\n  branding:\n    logo: # the default one\n")
    state, _ = load_spec(spec)
    assert repr(state.logo) == "RESET"


def test_the_new_rules_are_documented() -> None:
    from reconciler.spec import lint_rules

    documented = {rule: severity for rule, severity, _text in lint_rules()}
    for rule in (
        "control-character",
        "template-syntax",
        "yaml-unclosed-quote",
        "yaml-comment-value",
        "yaml-flow-value",
        "logo-dimensions",
    ):
        assert documented[rule] == "error"


def test_a_non_character_is_named_not_echoed(tmp_path: Path) -> None:
    spec = tmp_path / "portal.yaml"
    spec.write_bytes(b"version: 1\nportal:\n  branding:\n    company_name: A\xef\xbf\xbe\n")
    assert errors(spec) == [
        f"{spec}:4:20: error: character U+FFFE is not allowed in a YAML file; remove it "
        "(retype the text if it was pasted) [yaml-encoding]"
    ]
