"""A strict YAML loader that keeps the file:line:col of every node.

PyYAML accepts much that a reviewed config file should not: duplicate keys (the last one
silently wins), anchors and aliases (a 200-byte "billion laughs" expands to gigabytes),
several documents, custom tags, and YAML 1.1 typing where ``no`` is ``False`` and
``0755`` is 493. This module composes the node graph with PyYAML's pure-Python composer,
refuses those constructs (and nesting deeper than ``MAX_DEPTH``, which would exhaust
Python's recursion limit) with a ``Diagnostic`` at the exact position, and returns a small
tree of ``YMap`` / ``YSeq`` / ``YScalar`` nodes that remember where they were written
(``ytree``).

Scalars are typed as YAML 1.1 does (what most tools reading the same file will do), and
additionally as numbers where YAML 1.2 reads a number (``1e3``), so that a value that is
text for one parser and not for another never reaches the schema as a string: the schema
step then reports it with a "quote it" hint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, SequenceNode

from reconciler.model import Diagnostic, Origin, Severity
from reconciler.spec import textcheck
from reconciler.spec.ytree import (
    MAX_NUMBER_CHARS,
    YAML12_BOOLEANS,
    TreeBuilder,
    YMap,
    YNode,
    YScalar,
    YSeq,
    dotted,
    line_col,
    lookup,
    to_python,
    walk,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_NUMBER_CHARS",
    "MAX_SPEC_BYTES",
    "YAML12_BOOLEANS",
    "LoadedYaml",
    "YMap",
    "YNode",
    "YScalar",
    "YSeq",
    "dotted",
    "line_col",
    "load_yaml",
    "lookup",
    "to_python",
    "walk",
]

#: Spec files larger than this are refused before parsing.
MAX_SPEC_BYTES = 1024 * 1024

#: Deepest nesting of mappings and lists accepted (a portal spec is about 5 levels deep);
#: deeper input is refused before it can exhaust Python's recursion limit.
MAX_DEPTH = 32


# eq=False: load results are compared by identity only (nothing compares two by value), and
# Python 3.11 compiles each generated method at start-up (~0.07 ms for __eq__).
@dataclass(eq=False)
class LoadedYaml:
    """The result of loading one file: the tree (None when loading failed), its source
    text, and every problem met on the way. ``bad`` holds the paths of values the loader
    already reported (later steps skip them, so each mistake is reported once);
    ``scalar_spans`` the character ranges of every key and scalar in the tree (what lies
    outside them is syntax, whitespace and comments)."""

    tree: YMap | None
    text: str
    diagnostics: list[Diagnostic]
    bad: set[tuple[str | int, ...]] = field(default_factory=set)
    scalar_spans: list[tuple[int, int]] = field(default_factory=list)


class _Refused(Exception):
    """Internal: stop composing at a construct we refuse."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def load_yaml(raw: bytes, file: str, *, size: int | None = None) -> LoadedYaml:
    """Decode and compose one spec file. Never raises for bad input: problems come back
    as diagnostics, and ``tree`` is None when nothing useful could be loaded. ``size`` is
    the file's real size when ``raw`` was read with a cap."""

    text = ""

    def fail(rule: str, line: int, col: int, message: str, hint: str | None) -> LoadedYaml:
        diag = Diagnostic(rule, Severity.ERROR, Origin(file, line, col), "", message, hint)
        return LoadedYaml(None, text, [diag])

    if len(raw) > MAX_SPEC_BYTES:
        return fail(
            "yaml-too-large",
            1,
            1,
            f"file is {size or len(raw)} bytes; the limit is {MAX_SPEC_BYTES} bytes (1 MiB)",
            "a portal spec is a few kilobytes: move template bodies to body_file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return fail(
            "yaml-encoding",
            line,
            col,
            f"not valid UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
            "save the file as UTF-8",
        )
    text = text.removeprefix("\ufeff")
    if not text.strip():
        return fail(
            "yaml-empty",
            1,
            1,
            "the file is empty",
            'start with "version: 1" and a "portal:" mapping',
        )

    raw_chars = list(textcheck.raw_forbidden(text))
    if raw_chars:
        return LoadedYaml(None, text, [_raw_char(file, text, i, c) for i, c in raw_chars[:20]])

    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text, file)
        root = loader.compose_single()
    except _Refused as refused:
        return LoadedYaml(None, text, [refused.diagnostic])
    except yaml.reader.ReaderError as exc:
        line, col = line_col(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return fail(
            "yaml-encoding",
            line,
            col,
            f"character {textcheck.char_name(chr(code))} is not allowed in a YAML file",
            "remove it (retype the text if it was pasted)",
        )
    except yaml.MarkedYAMLError as exc:
        from reconciler.spec import yamltraps  # only a file YAML cannot parse needs it

        trap = yamltraps.explain(text, exc)
        if trap is not None:
            origin = Origin(file, trap.line, trap.col)
            diag = Diagnostic(trap.rule, Severity.ERROR, origin, trap.path, trap.message, trap.hint)
            return LoadedYaml(None, text, [diag])
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem_mark:
            cm = exc.context_mark
            problem += f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        hint = "check the indentation and quoting on this line"
        if "'\\t'" in problem:
            hint = "indent with spaces, not tabs"
        return fail("yaml-syntax", line, col, f"invalid YAML: {problem}", hint)
    finally:
        if loader is not None:
            loader.dispose()

    if root is None:
        return fail(
            "yaml-empty",
            1,
            1,
            "the file holds no document (only comments)",
            'start with "version: 1" and a "portal:" mapping',
        )
    if not isinstance(root, MappingNode):
        kind = "a list" if isinstance(root, SequenceNode) else "a single value"
        line, col = root.start_mark.line + 1, root.start_mark.column + 1
        return fail(
            "yaml-not-mapping",
            line,
            col,
            f"the top level is {kind}, not a mapping",
            'write "key: value" pairs, starting with "version: 1"',
        )

    builder = TreeBuilder(file, text)
    tree = builder.build(root)
    assert isinstance(tree, YMap)
    return LoadedYaml(tree, text, builder.diagnostics, builder.bad, sorted(builder.spans))


def _raw_char(file: str, text: str, index: int, char: str) -> Diagnostic:
    line, col = line_col(text, index)
    return Diagnostic(
        "control-character",
        Severity.ERROR,
        Origin(file, line, col),
        "",
        f"the file contains {textcheck.char_name(char)}, {textcheck.kind_of(char)}",
        textcheck.hint_for(char, multiline=True),
    )


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]
    """SafeLoader's composer, refusing anchors, aliases, tags and extra documents."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self._file = file
        self._depth = 0

    def _refuse(self, rule: str, mark: Any, message: str, hint: str) -> _Refused:
        origin = Origin(self._file, mark.line + 1, mark.column + 1)
        return _Refused(Diagnostic(rule, Severity.ERROR, origin, "", message, hint))

    @property
    def _events(self) -> Any:
        # PyYAML's parser methods are untyped (with or without types-PyYAML).
        return self

    def compose_single(self) -> Node | None:
        self._events.get_event()  # StreamStart
        if self.check_event(StreamEndEvent):
            return None
        node: Node | None = self.compose_document()
        if not self.check_event(StreamEndEvent):
            event = self._events.peek_event()
            if isinstance(event, DocumentStartEvent):
                raise self._refuse(
                    "yaml-multi-document",
                    event.start_mark,
                    "more than one YAML document in the file",
                    'keep one document: remove the "---" separator and what follows, '
                    "or split it into separate files",
                )
            self._events.get_event()
        return node

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self._events.peek_event()
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None) is not None:
            sign = "*" if isinstance(event, AliasEvent) else "&"
            raise self._refuse(
                "yaml-anchor",
                event.start_mark,
                f"anchors and aliases are not allowed ({sign}{event.anchor})",
                "write the value out in full; anchors hide what a review should see",
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent) and tag not in (
            None,
            "!",
        ):
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise self._refuse(
                "yaml-tag",
                event.start_mark,
                f"YAML tags are not allowed ({shown})",
                "remove the tag; quote the value if it must be text",
            )
        if not isinstance(event, SequenceStartEvent | MappingStartEvent):
            scalar: Node | None = super().compose_node(parent, index)
            return scalar
        if self._depth >= MAX_DEPTH:
            raise self._refuse(
                "yaml-too-deep",
                event.start_mark,
                f"mappings and lists are nested more than {MAX_DEPTH} levels deep",
                "a portal spec is about 5 levels deep: check the brackets and indentation here",
            )
        self._depth += 1
        try:
            node: Node | None = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        return node
