"""A strict YAML loader that keeps the file:line:col of every node.

PyYAML accepts much that a reviewed config file should not: duplicate keys (the last one
silently wins), anchors and aliases (a 200-byte "billion laughs" expands to gigabytes),
several documents, custom tags, and YAML 1.1 typing where ``no`` is ``False`` and
``0755`` is 493. This module composes the node graph with PyYAML's pure-Python composer,
refuses those constructs with a ``Diagnostic`` at the exact position, and returns a small
tree of ``YMap`` / ``YSeq`` / ``YScalar`` nodes that remember where they were written.

Scalars are typed as YAML 1.1 does (what most tools reading the same file will do), and
additionally as numbers where YAML 1.2 reads a number (``1e3``), so that a value that is
text for one parser and not for another never reaches the schema as a string: the schema
step then reports it with a "quote it" hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.model import Diagnostic, Origin, Severity

#: Spec files larger than this are refused before parsing.
MAX_SPEC_BYTES = 1024 * 1024

#: Booleans as YAML 1.2 (core schema) spells them; anything else read as a bool is refused.
YAML12_BOOLEANS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})

_YAML12_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_YAML12_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)


@dataclass
class YNode:
    """A node of the loaded tree: ``origin`` is where its value starts, ``key_origin``
    where the key naming it was written (None for the root)."""

    origin: Origin
    start_index: int
    end_index: int
    key_origin: Origin | None = field(default=None, kw_only=True)

    @property
    def where(self) -> Origin:
        """The best place to point at for the whole entry: its key, else its value."""
        return self.key_origin or self.origin


@dataclass
class YScalar(YNode):
    """A scalar: ``value`` typed (str, bool, int, float, date, None); ``raw`` as written."""

    value: Any = None
    raw: str = ""
    plain: bool = True


@dataclass
class YSeq(YNode):
    """A sequence of nodes."""

    items: list[YNode] = field(default_factory=list)


@dataclass
class YMap(YNode):
    """A mapping from string keys to nodes, in file order (first occurrence wins)."""

    entries: dict[str, YNode] = field(default_factory=dict)


@dataclass
class LoadedYaml:
    """The result of loading one file: the tree (None when loading failed), its source
    text, and every problem met on the way."""

    tree: YMap | None
    text: str
    diagnostics: list[Diagnostic]


class _Refused(Exception):
    """Internal: stop composing at a construct we refuse."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


def to_python(node: YNode) -> Any:
    """The plain Python value of a node (what the schema validates)."""
    if isinstance(node, YMap):
        return {key: to_python(child) for key, child in node.entries.items()}
    if isinstance(node, YSeq):
        return [to_python(child) for child in node.items]
    assert isinstance(node, YScalar)
    return node.value


def lookup(tree: YNode, path: tuple[str | int, ...]) -> YNode | None:
    """The node at ``path`` (keys and list indexes), or None if absent."""
    node: YNode | None = tree
    for part in path:
        if isinstance(node, YMap) and isinstance(part, str):
            node = node.entries.get(part)
        elif isinstance(node, YSeq) and isinstance(part, int) and 0 <= part < len(node.items):
            node = node.items[part]
        else:
            return None
    return node


def walk(
    node: YNode, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], YNode]]:
    """Every (path, node) pair of the tree, parents before children."""
    yield path, node
    if isinstance(node, YMap):
        for key, child in node.entries.items():
            yield from walk(child, (*path, key))
    elif isinstance(node, YSeq):
        for index, child in enumerate(node.items):
            yield from walk(child, (*path, index))


def dotted(path: tuple[str | int, ...]) -> str:
    """``("portal", "branding", "logo")`` -> ``portal.branding.logo``; indexes as ``[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of character ``index`` in ``text``."""
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col


def load_yaml(raw: bytes, file: str, *, size: int | None = None) -> LoadedYaml:
    """Decode and compose one spec file. Never raises for bad input: problems come back
    as diagnostics, and ``tree`` is None when nothing useful could be loaded. ``size`` is
    the file's real size when ``raw`` was read with a cap."""

    def fail(rule: str, line: int, col: int, message: str, hint: str | None) -> LoadedYaml:
        diag = Diagnostic(rule, Severity.ERROR, Origin(file, line, col), "", message, hint)
        return LoadedYaml(None, "", [diag])

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
            f"character U+{code:04X} is not allowed in a YAML file",
            "remove the control character",
        )
    except yaml.MarkedYAMLError as exc:
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

    builder = _TreeBuilder(file, text)
    tree = builder.build(root)
    assert isinstance(tree, YMap)
    return LoadedYaml(tree, text, builder.diagnostics)


class _StrictLoader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]
    """SafeLoader's composer, refusing anchors, aliases, tags and extra documents."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self._file = file

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
        node: Node | None = super().compose_node(parent, index)
        return node


class _TreeBuilder:
    """Turns composed PyYAML nodes into positioned ``YNode``s, noting duplicates."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader("")

    def _origin(self, mark: Any) -> Origin:
        return Origin(self.file, mark.line + 1, mark.column + 1)

    def build(self, node: Node, path: tuple[str | int, ...] = ()) -> YNode:
        origin = self._origin(node.start_mark)
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, MappingNode):
            out = YMap(origin, start, end)
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                if key is None:
                    continue
                key_origin = self._origin(key_node.start_mark)
                child_path = (*path, key)
                if key in out.entries:
                    first = out.entries[key].where
                    self.diagnostics.append(
                        Diagnostic(
                            "yaml-duplicate-key",
                            Severity.ERROR,
                            key_origin,
                            dotted(child_path),
                            f'duplicate key "{key}" (first defined on line {first.line})',
                            f"keep one of lines {first.line} and {key_origin.line}",
                        )
                    )
                    continue
                child = self.build(value_node, child_path)
                child.key_origin = key_origin
                out.entries[key] = child
            return out
        if isinstance(node, SequenceNode):
            return YSeq(
                origin,
                start,
                end,
                items=[self.build(item, (*path, i)) for i, item in enumerate(node.value)],
            )
        assert isinstance(node, ScalarNode)
        return YScalar(
            origin,
            start,
            end,
            value=self._scalar_value(node),
            raw=node.value,
            plain=node.style is None,
        )

    def _key(self, node: Node, path: tuple[str | int, ...]) -> str | None:
        if isinstance(node, ScalarNode):
            return str(node.value)
        self.diagnostics.append(
            Diagnostic(
                "yaml-complex-key",
                Severity.ERROR,
                self._origin(node.start_mark),
                dotted(path),
                "a key must be a plain name, not a list or mapping",
                "write keys as simple names, e.g. company_name",
            )
        )
        return None

    def _scalar_value(self, node: ScalarNode) -> Any:
        if node.style is not None:
            return node.value  # quoted or block scalar: always text
        value = self._constructor.construct_object(node)
        if isinstance(value, str) and (
            _YAML12_INT.fullmatch(node.value) or _YAML12_FLOAT.fullmatch(node.value)
        ):
            # Text for YAML 1.1 but a number for YAML 1.2 (e.g. 1e3, 0o17): not text.
            text = node.value
            if text.startswith(("0o", "0x")):
                return int(text, 0)
            try:
                return float(text) if not _YAML12_INT.fullmatch(text) else int(text)
            except ValueError:
                return float(text.lower().replace(".inf", "inf").replace(".nan", "nan"))
        return value
