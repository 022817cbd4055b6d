"""The ``{{variable}}`` syntax of subjects and bodies, checked before anything reaches a customer.

The portal substitutes ``{{name}}`` placeholders and sends everything else as written, so
``"Invoice {{invoice_number"`` would reach customers with raw braces in it. Each
placeholder must open with ``{{``, close with ``}}``, name something, and not hold another
brace. (A literal ``}}`` in CSS can be written ``} }``.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reconciler.textsafe import safe_line

OPEN, CLOSE = "{{", "}}"

#: What the placeholder scan stops at; at one position ``{{`` wins over ``}}``.
_TOKEN = re.compile(r"\{\{|\}\}|\n")
#: An unclosed placeholder as far as its variable name goes: ``{{invoice_number``.
_UNCLOSED = re.compile(r"\{\{[ \t]*[^\s{}]*")


# eq=False: problems are compared by identity only (nothing compares two by value), and
# Python 3.11 compiles each generated method at start-up (~0.07 ms for __eq__).
@dataclass(frozen=True, eq=False)
class SyntaxProblem:
    """A placeholder mistake: ``index`` of ``marker`` (``{{`` or ``}}``) in the text."""

    index: int
    marker: str
    message: str
    hint: str


def _snippet(text: str, start: int, end: int | None = None) -> str:
    """The placeholder as written, cut at the line end and shortened for a message."""
    stop = len(text) if end is None else end
    line_end = text.find("\n", start)
    if 0 <= line_end < stop:
        stop = line_end
    piece = safe_line(text[start:stop])
    return piece if len(piece) <= 40 else piece[:37] + "..."


def syntax_problems(text: str) -> list[SyntaxProblem]:
    """Every malformed placeholder in ``text``, in order.

    The scan jumps from one ``{{``, ``}}`` or line end to the next (``_TOKEN``), which at any
    position tries them in that order, as reading character by character would."""
    out: list[SyntaxProblem] = []
    opened: int | None = None
    i = 0
    while (token := _TOKEN.search(text, i)) is not None:
        i = token.start()
        if token.group() == OPEN:
            if opened is not None:
                end = _skip_to_close(text, i)
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
        if token.group() == CLOSE:
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
        if opened is not None:  # a line end
            out.append(_unclosed(text, opened))
            opened = None
        i += 1
    if opened is not None:
        out.append(_unclosed(text, opened))
    return out


def _skip_to_close(text: str, index: int) -> int:
    """After a nested ``{{``: continue past the end of the outer placeholder."""
    depth, i = 0, index
    while (token := _TOKEN.search(text, i)) is not None:
        i = token.start()
        if token.group() == OPEN:
            depth += 1
            i += 2
        elif token.group() == CLOSE:
            depth -= 1
            i += 2
            if depth < 0:
                return i
        else:
            return i
    return len(text)


def _unclosed(text: str, opened: int) -> SyntaxProblem:
    match = _UNCLOSED.match(text, opened)
    shown = match.group(0) if match else OPEN
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    name = shown[2:].strip()
    return SyntaxProblem(
        opened,
        OPEN,
        f'"{shown}" is never closed: "{{{{" has no matching "}}}}" on its line',
        f"close it: {{{{{name}}}}}" if name else 'add the closing "}}" after the variable name',
    )


def _placeholder(text: str, opened: int, closed: int) -> list[SyntaxProblem]:
    inner = text[opened + 2 : closed]
    shown = _snippet(text, opened, closed + 2)
    if not inner.strip():
        return [
            SyntaxProblem(
                opened,
                OPEN,
                f'empty placeholder "{shown}"',
                "name a variable inside, e.g. {{customer_portal_link}}, or remove it",
            )
        ]
    if "{" in inner or "}" in inner:
        return [
            SyntaxProblem(
                opened,
                OPEN,
                f'stray brace inside the placeholder "{shown}"',
                "write exactly two braces on each side, e.g. {{invoice_number}}",
            )
        ]
    return []
