"""YAML syntax errors that newcomers make, explained in their own words.

PyYAML says ``expected <block end>, but found '<scalar>'`` both for
``subject: {{invoice_number}} is due`` (``{`` starts a mapping) and for a quoted value
whose closing quote is missing (it runs on and swallows the next key). Both have one fix,
"quote it" / "close the quote", so they get one error saying so, at the spot to edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.spec.ytree import dotted, flow_trap_text

#: ``key: {...`` or ``key: [...`` (optionally as a list item) on one line.
_FLOW_VALUE = re.compile(r"^(?P<indent>[ ]*)(?:-[ ]+)?(?P<key>[A-Za-z_][\w-]*)[ \t]*:[ \t]+[\[{]")
_KEY_LINE = re.compile(r"^(?P<indent>[ ]*)(?:-[ ]+)?(?P<key>[A-Za-z_][\w-]*)[ \t]*:")


@dataclass(frozen=True)
class Trap:
    """An explained syntax error: rule, 1-based position, dotted path, message, hint."""

    rule: str
    line: int
    col: int
    path: str
    message: str
    hint: str


def explain(text: str, exc: yaml.MarkedYAMLError) -> Trap | None:
    """A clearer account of ``exc`` when it is one of the known traps, else None."""
    return _unclosed_quote(text, exc) or _flow_value(text, exc)


def _unclosed_quote(text: str, exc: yaml.MarkedYAMLError) -> Trap | None:
    context, problem = exc.context_mark, exc.problem_mark
    if exc.context == "while scanning a quoted scalar" and context is not None:
        quote = text[context.index] if context.index < len(text) else '"'
        return Trap(
            "yaml-unclosed-quote",
            context.line + 1,
            context.column + 1,
            _path_at(text, context.line),
            f"the quoted value that starts here is never closed; a closing quote ({quote}) "
            "is probably missing",
            f"end the value with {quote} on line {context.line + 1}",
        )
    if problem is None:
        return None
    token = _last_multiline_quoted(text, problem.index)
    if token is None or token.end_mark.line != problem.line:
        return None
    start = token.start_mark
    return Trap(
        "yaml-unclosed-quote",
        start.line + 1,
        start.column + 1,
        _path_at(text, start.line),
        f"this quoted value runs from line {start.line + 1} to line {token.end_mark.line + 1}; "
        f"a closing quote ({token.style}) is probably missing",
        f"end the value with {token.style} on line {start.line + 1}",
    )


def _last_multiline_quoted(text: str, before: int) -> Any:
    """The last quoted scalar token spanning lines that ends before index ``before``."""
    found = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= before:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ('"', "'")
                and token.end_mark.line > token.start_mark.line
            ):
                found = token
    except yaml.YAMLError:
        pass
    return found


def _flow_value(text: str, exc: yaml.MarkedYAMLError) -> Trap | None:
    """``key: {{x}} more`` (an error after the flow node on its line), or ``key: {{x}``
    (a flow node never closed: the error comes later, the context names where it began)."""
    lines = text.split("\n")
    for mark, flow_start in ((exc.problem_mark, False), (exc.context_mark, True)):
        if mark is None or mark.line >= len(lines):
            continue
        if flow_start and not (exc.context or "").startswith("while parsing a flow"):
            continue
        match = _FLOW_VALUE.match(lines[mark.line])
        if match is None:
            continue
        col = match.end() - 1
        if (flow_start and col != mark.column) or (not flow_start and col > mark.column):
            continue
        message, hint = flow_trap_text(text, mark.index - mark.column + col)
        path = _path_at(text, mark.line)
        return Trap("yaml-flow-value", mark.line + 1, col + 1, path, message, hint)
    return None


def _path_at(text: str, line_no: int) -> str:
    """The dotted path of the key written on line ``line_no`` (0-based), found from the
    indentation of the lines above it; "" when the line holds no key."""
    lines = text.split("\n")
    match = _KEY_LINE.match(lines[line_no]) if line_no < len(lines) else None
    if match is None:
        return ""
    path: list[str | int] = [match.group("key")]
    indent = len(match.group("indent"))
    for above in reversed(lines[:line_no]):
        parent = _KEY_LINE.match(above)
        if parent is not None and len(parent.group("indent")) < indent:
            path.insert(0, parent.group("key"))
            indent = len(parent.group("indent"))
            if indent == 0:
                break
    return dotted(tuple(path))
