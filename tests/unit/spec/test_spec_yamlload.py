"""The strict YAML loader: positions, refusals, YAML 1.1 vs 1.2 typing."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import Origin
from reconciler.spec.yamlload import YMap, YScalar, YSeq, dotted, load_yaml, lookup, to_python


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
        ("|\n  1e3\n", "1e3\n"),
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
        ("a: [1\n", "p.yaml:2:1: error: invalid YAML: expected ',' or ']', but got '<stream end>'"),
        ("? [a]\n: 1\n", "p.yaml:1:3: error: a key must be a plain name, not a list or mapping"),
        ("a: \x07\n", "p.yaml:1:4: error: character U+0007 is not allowed in a YAML file"),
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


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_input_gives_a_tree_or_diagnostics_never_an_exception(raw: bytes) -> None:
    result = load_yaml(raw, "p.yaml")
    assert result.tree is not None or result.diagnostics
