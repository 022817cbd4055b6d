"""The placeholder scan jumps between ``{{``, ``}}`` and line ends instead of reading every
character (issue 14: it was half of loading the example spec). It must find exactly what the
character-by-character reading found, for any text: the reading is kept here as the oracle."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconciler.spec.templates import (
    CLOSE,
    OPEN,
    SyntaxProblem,
    _placeholder,
    _snippet,
    _unclosed,
    syntax_problems,
)


def _read_every_character(text: str) -> list[SyntaxProblem]:
    """The scan as it was written before: one character at a time."""
    out: list[SyntaxProblem] = []
    opened: int | None = None
    i = 0
    while i < len(text):
        if text.startswith(OPEN, i):
            if opened is not None:
                end = _skip(text, i)
                out.append(
                    SyntaxProblem(
                        i,
                        OPEN,
                        f'nested placeholders "{_snippet(text, opened, end)}"',
                        "write one variable per pair of braces, e.g. {{invoice_number}}",
                    )
                )
                opened, i = None, end
                continue
            opened = i
            i += 2
            continue
        if text.startswith(CLOSE, i):
            if opened is None:
                out.append(
                    SyntaxProblem(
                        i,
                        CLOSE,
                        '"}}" without an opening "{{"',
                        'write the placeholder as {{name}}; for a literal "}}" write "} }"',
                    )
                )
            else:
                out += _placeholder(text, opened, i)
                opened = None
            i += 2
            continue
        if text[i] == "\n" and opened is not None:
            out.append(_unclosed(text, opened))
            opened = None
        i += 1
    if opened is not None:
        out.append(_unclosed(text, opened))
    return out


def _skip(text: str, index: int) -> int:
    depth, i = 0, index
    while i < len(text):
        if text.startswith(OPEN, i):
            depth += 1
            i += 2
        elif text.startswith(CLOSE, i):
            depth -= 1
            i += 2
            if depth < 0:
                return i
        elif text[i] == "\n":
            return i
        else:
            i += 1
    return i


def _fields(problems: list[SyntaxProblem]) -> list[tuple[int, str, str, str]]:
    return [(p.index, p.marker, p.message, p.hint) for p in problems]


@given(st.text(alphabet="{}\n a_x\t", max_size=60))
def test_the_jumping_scan_finds_what_reading_every_character_finds(text: str) -> None:
    assert _fields(syntax_problems(text)) == _fields(_read_every_character(text))


def test_the_cases_that_exercise_every_branch() -> None:
    cases = {
        "Hi {{name}}": [],
        "{{a {{b}} c}} x": ['nested placeholders "{{a {{b}} c}}"'],
        "x }} y": ['"}}" without an opening "{{"'],
        "{{ }}": ['empty placeholder "{{ }}"'],
        "{{invoice_number\nnext": [
            '"{{invoice_number" is never closed: "{{" has no matching "}}" on its line'
        ],
        "{{{a}}}": ['stray brace inside the placeholder "{{{a}}"'],
        "{{a {{b\n": ['nested placeholders "{{a {{b"'],
    }
    for text, messages in cases.items():
        assert [p.message for p in syntax_problems(text)] == messages, text
        assert _fields(syntax_problems(text)) == _fields(_read_every_character(text)), text
