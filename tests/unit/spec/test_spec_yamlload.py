"""The strict YAML loader: positions, refusals, YAML 1.1 vs 1.2 typing."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.errors import SpecError, UsageError
from reconciler.model import DesiredTemplate, Diagnostic, Origin
from reconciler.spec import load_spec
from reconciler.spec.yamlload import (
    MAX_DEPTH,
    YMap,
    YScalar,
    YSeq,
    dotted,
    load_yaml,
    lookup,
    to_python,
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "portal.yaml"


def load(text: str | bytes) -> YMap:
    raw = text.encode() if isinstance(text, str) else text
    result = load_yaml(raw, "p.yaml")
    assert result.diagnostics == [], [str(d) for d in result.diagnostics]
    assert result.tree is not None
    return result.tree


def problems(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    return [str(d) for d in load_yaml(raw, "p.yaml").diagnostics]


def test_every_node_keeps_key_and_value_positions() -> None:
    tree = load("version: 1\nportal:\n  branding:\n    company_name:   Acme\n")
    node = lookup(tree, ("portal", "branding", "company_name"))
    assert isinstance(node, YScalar)
    assert node.key_origin == Origin("p.yaml", 4, 5)
    assert node.origin == Origin("p.yaml", 4, 21)
    assert node.where == node.key_origin
    assert lookup(tree, ("portal",)).where == Origin("p.yaml", 2, 1)  # type: ignore[union-attr]
    assert lookup(tree, ("nope",)) is None


def test_to_python_and_sequences() -> None:
    tree = load("a: [1, two, {b: c}]\n")
    assert to_python(tree) == {"a": [1, "two", {"b": "c"}]}
    seq = lookup(tree, ("a",))
    assert isinstance(seq, YSeq) and lookup(tree, ("a", 2, "b")) is not None
    assert dotted(("a", 2, "b")) == "a[2].b"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("no", False),
        ("yes", True),
        ("On", True),
        ("true", True),
        ("FALSE", False),
        ("0755", 493),
        ("1e3", 1000.0),
        ("0o17", 15),
        ("1_000", 1000),
        ("12", 12),
        ("2024-01-01", dt.date(2024, 1, 1)),
        ("~", None),
        ("", None),
        ("Acme", "Acme"),
        ('"no"', "no"),
        ("'0755'", "0755"),
        ("|-\n  1e3\n", "1e3"),
    ],
)
def test_scalars_are_typed_so_ambiguous_values_are_not_text(raw: str, value: object) -> None:
    assert to_python(load(f"k: {raw}\n"))["k"] == value


def test_duplicate_key_names_both_lines() -> None:
    assert problems("a: 1\nb:\n  c: 1\n  c: 2\n") == [
        'p.yaml:4:3: error: b.c: duplicate key "c" (first defined on line 3); '
        "keep one of lines 3 and 4 [yaml-duplicate-key]"
    ]


def test_first_of_duplicate_keys_is_kept_and_loading_goes_on() -> None:
    result = load_yaml(b"a: 1\na: 2\nb: 3\n", "p.yaml")
    assert result.tree is not None and to_python(result.tree) == {"a": 1, "b": 3}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: *x\n", "p.yaml:1:4: error: anchors and aliases are not allowed (&x)"),
        ("a: *x\n", "p.yaml:1:4: error: anchors and aliases are not allowed (*x)"),
        ("a: !foo 1\n", "p.yaml:1:4: error: YAML tags are not allowed (!foo)"),
        ("a: !!str 1\n", "p.yaml:1:4: error: YAML tags are not allowed (!!str)"),
        ("a: 1\n---\nb: 2\n", "p.yaml:2:1: error: more than one YAML document in the file"),
        ("", "p.yaml:1:1: error: the file is empty"),
        ("   \n\n", "p.yaml:1:1: error: the file is empty"),
        ("# c\n", "p.yaml:1:1: error: the file holds no document (only comments)"),
        ("just text\n", "p.yaml:1:1: error: the top level is a single value, not a mapping"),
        ("[a: 1]\n", "p.yaml:1:1: error: the top level is a list, not a mapping"),
        (
            "a:\n\tb: 1\n",
            "p.yaml:2:1: error: invalid YAML: found character '\\t' that "
            "cannot start any token; indent with spaces, not tabs",
        ),
        (
            "a: [1\n",
            'p.yaml:1:4: error: a: an unquoted value starting with "[" is read as a YAML list',
        ),
        (
            "a:\n  - [1\n",
            "p.yaml:3:1: error: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        ("? [a]\n: 1\n", "p.yaml:1:3: error: a key must be a plain name, not a list or mapping"),
        ("a: \x07\n", "p.yaml:1:4: error: the file contains U+0007 BEL, a control character"),
    ],
)
def test_refusals(text: str, expected: str) -> None:
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(expected), found[0]


def test_non_utf8_names_the_byte_offset_and_line() -> None:
    assert problems(b"a: 1\nb: caf\xe9\n") == [
        "p.yaml:2:7: error: not valid UTF-8: byte 0xe9 at offset 11; save the file as UTF-8 "
        "[yaml-encoding]"
    ]


def test_bom_is_accepted() -> None:
    assert to_python(load("\ufeffa: 1\n".encode())) == {"a": 1}


def test_size_cap() -> None:
    raw = b"a: 1\n" + b"#" * (1024 * 1024)
    [found] = problems(raw)
    assert found.startswith(
        f"p.yaml:1:1: error: file is {len(raw)} bytes; the limit is 1048576 bytes (1 MiB)"
    )


def test_billion_laughs_is_refused_at_the_first_anchor() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    [found] = problems("\n".join(levels) + "\n")
    assert found.startswith("p.yaml:1:4: error: anchors and aliases are not allowed (&a)")


def test_nesting_deeper_than_the_cap_is_refused_at_the_node_too_deep() -> None:
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_yaml(ok.encode(), "p.yaml").diagnostics == []
    deep = "a: " + "[" * 330 + "]" * 330 + "\n"
    assert problems(deep) == [
        f"p.yaml:1:{4 + MAX_DEPTH - 1}: error: mappings and lists are nested more than "
        f"{MAX_DEPTH} levels deep; a portal spec is about 5 levels deep: check the brackets "
        "and indentation here [yaml-too-deep]"
    ]
    block = "".join(f"{'  ' * i}k{i}:\n" for i in range(400)) + "  " * 400 + "v: 1\n"
    [found] = problems(block)
    # the root is level 1: the mapping under k31 (line 33) is level 33
    assert found.startswith(
        f"p.yaml:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: error: mappings and lists are nested"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "9" * 5000,
            "p.yaml:1:4: error: k: the unquoted number 999999999999… is 5000 characters long; "
            "numbers longer than 100 characters are refused; write the intended value; quote it "
            "if it is meant as text [yaml-unreadable-value]",
        ),
        (
            "0x" + "f" * 5000,
            "p.yaml:1:4: error: k: the unquoted number 0xffffffffff… is 5002 characters long; "
            "numbers longer than 100 characters are refused; write the intended value; quote it "
            "if it is meant as text [yaml-unreadable-value]",
        ),
        (
            "2024-02-30",
            "p.yaml:1:4: error: k: unquoted 2024-02-30 is read as a date, but it is not a valid "
            'one (day is out of range for month); quote it if it is text: "2024-02-30" '
            "[yaml-unreadable-value]",
        ),
        (
            '"Acme \\ud800"',
            "p.yaml:1:4: error: k: this value contains \\ud800, a lone UTF-16 surrogate that is "
            'not a character; write the character itself, or escape its full code point (e.g. "'
            '\\U0001F600" rather than a surrogate pair) [yaml-encoding]',
        ),
    ],
)
def test_unreadable_scalars_are_reported_and_marked_bad(raw: str, expected: str) -> None:
    result = load_yaml(f"k: {raw}\nother: 1\n".encode(), "p.yaml")
    assert [str(d) for d in result.diagnostics] == [expected]
    assert result.tree is not None and to_python(result.tree) == {"k": None, "other": 1}
    assert result.bad == {("k",)}


def test_a_key_with_a_lone_surrogate_is_left_out() -> None:
    result = load_yaml(b'a:\n  "b\\udfff": 1\n  c: 2\n', "p.yaml")
    assert [str(d) for d in result.diagnostics] == [
        "p.yaml:2:3: error: a: this key contains \\udfff, a lone UTF-16 surrogate that is not "
        'a character; write the character itself, or escape its full code point (e.g. "'
        '\\U0001F600" rather than a surrogate pair) [yaml-encoding]'
    ]
    assert result.tree is not None and to_python(result.tree) == {"a": {"c": 2}}
    assert result.bad == set()


def test_scalar_spans_cover_keys_and_values_not_comments() -> None:
    text = "a: 1 # note\nb: 'x'\n"
    result = load_yaml(text.encode(), "p.yaml")
    assert [text[start:end] for start, end in result.scalar_spans] == ["a", "1", "b", "'x'"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_input_gives_a_tree_or_diagnostics_never_an_exception(raw: bytes) -> None:
    result = load_yaml(raw, "p.yaml")
    assert result.tree is not None or result.diagnostics


#: Values that broke the loader or a later step once: escapes that decode to lone
#: surrogates or NUL, deep nesting, numbers too long to convert, impossible dates,
#: over-long, looping and escaping paths, keys in comments, anchors, tags.
_NASTY = [
    '"\\ud800"',
    '"Acme \\udc00 Cloud"',
    '"assets/x\\0.png"',
    '"templates/x\\0.html"',
    # (deep enough to exhaust the recursion limit even as raised while Hypothesis runs)
    "[" * 3000 + "]" * 3000,
    "{a: " * 3000 + "}" * 3000,
    "[" * 3000,
    "9" * 5000,
    "0x" + "f" * 4000,
    "1" + ":00" * 2000,
    "2024-13-45",
    "2001-12-14t21:59:43.10-99:00",
    "a" * 300 + ".png",
    "/".join(["d" * 200] * 30),
    "assets/loop.png",
    "templates/../../../etc/passwd",
    "1 # sk_live_exampleDoNotUse00",
    "sk_live_exampleDoNotUse00",
    "&a 1",
    "*a",
    "!!python/object:os.system x",
    "? [a]",
    "\t",
    "",
]

_EXAMPLE_LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def spec_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mangled")
    shutil.copytree(EXAMPLE.parent / "assets", folder / "assets")
    shutil.copytree(EXAMPLE.parent / "templates", folder / "templates")
    (folder / "assets" / "loop.png").symlink_to("loop.png")
    (folder / "templates" / "loop.html").symlink_to("loop.html")
    return folder


def _mangled(index: int, fragment: str, as_key: bool) -> str:
    """The example with line ``index``'s value (or key) replaced by ``fragment``."""
    lines = list(_EXAMPLE_LINES)
    line = lines[index]
    indent = line[: len(line) - len(line.lstrip())]
    key, sep, _value = line.strip().partition(": ")
    if as_key:
        lines[index] = f"{indent}{fragment}: {_value}" if sep else f"{indent}{fragment}"
    else:
        lines[index] = f"{indent}{key}: {fragment}" if sep else f"{line}{fragment}"
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(_EXAMPLE_LINES) - 1),
    fragment=st.sampled_from(_NASTY) | st.text(max_size=20),
    as_key=st.booleans(),
)
def test_load_spec_on_a_mangled_example_returns_or_raises_a_spec_error(
    spec_folder: Path, index: int, fragment: str, as_key: bool
) -> None:
    spec = spec_folder / "portal.yaml"
    spec.write_bytes(_mangled(index, fragment, as_key).encode("utf-8", "surrogatepass"))
    diagnostics: list[Diagnostic]
    try:
        state, diagnostics = load_spec(spec)
        # What plan sends must encode: no lone surrogate gets through as valid.
        json.dumps(state.settings, ensure_ascii=False).encode("utf-8")
        for template in state.templates.values():
            if isinstance(template, DesiredTemplate):
                (template.subject + template.body).encode("utf-8")
    except SpecError as err:
        diagnostics = list(err.diagnostics)
        assert diagnostics
    except UsageError:
        return
    for diag in diagnostics:
        # Every diagnostic can be printed and serialised (no lone surrogate, no key).
        line = str(diag)
        line.encode("utf-8")
        json.dumps(diag.to_dict(), ensure_ascii=False).encode("utf-8")
        assert "exampleDoNotUse" not in line
        assert diag.origin.line >= 1 and diag.origin.col >= 1
