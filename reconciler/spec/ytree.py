"""The tree the strict YAML loader returns: nodes that remember where they were written.

``YMap`` / ``YSeq`` / ``YScalar`` nodes keep the file:line:col of their value and of the
key naming them, so every later step (schema, build, lint) points at the exact spot.
``TreeBuilder`` makes them from PyYAML's composed nodes, typing scalars and refusing the
ones that cannot be used (duplicate keys, complex keys, lone surrogates, numbers too
long to read, dates that do not exist) with a ``Diagnostic`` each.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.model import Diagnostic, Origin, Severity
from reconciler.spec import textcheck
from reconciler.textsafe import safe_line

#: Longest unquoted number accepted, in characters. Python refuses to convert integers of
#: more than 4300 digits, and no setting takes a number anywhere near this long.
MAX_NUMBER_CHARS = 100

#: Booleans as YAML 1.2 (core schema) spells them; anything else read as a bool is refused.
YAML12_BOOLEANS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})

_YAML12_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_YAML12_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")

#: UTF-16 surrogates: a "\ud800" escape yields one, but it is not a character and cannot
#: be encoded (printing, saving or sending it fails).
_SURROGATE = re.compile(r"[\ud800-\udfff]")


# eq=False (all four node classes): nodes are compared by identity only (nothing compares
# two by value), and Python 3.11 compiles each generated method at start-up (~0.07 ms each).
@dataclass(eq=False)
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


@dataclass(eq=False)
class YScalar(YNode):
    """A scalar: ``value`` typed (str, bool, int, float, date, None); ``raw`` as written."""

    value: Any = None
    raw: str = ""
    plain: bool = True
    #: The quoting style: None (plain), '"', "'", "|" or ">".
    style: str | None = None
    #: A comment written on the same line right after the value (``# ...``), if any.
    comment: str | None = None


@dataclass(eq=False)
class YSeq(YNode):
    """A sequence of nodes."""

    items: list[YNode] = field(default_factory=list)
    #: For a flow list (``[a, b]``): the rest of its first line, as written.
    flow_source: str | None = None


@dataclass(eq=False)
class YMap(YNode):
    """A mapping from string keys to nodes, in file order (first occurrence wins)."""

    entries: dict[str, YNode] = field(default_factory=dict)
    #: For a flow mapping (``{a: b}``): the rest of its first line, as written.
    flow_source: str | None = None


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


_SURROGATE_HINT = (
    'write the character itself, or escape its full code point (e.g. "\\U0001F600" '
    "rather than a surrogate pair)"
)


def _surrogate_text(char: str) -> str:
    return f"\\u{ord(char):04x}, a lone UTF-16 surrogate that is not a character"


def flow_trap_text(text: str, index: int = 0) -> tuple[str, str]:
    """Message and hint for an unquoted value starting with ``{`` or ``[`` at ``index``."""
    line_end = text.find("\n", index)
    value = safe_line(text[index : len(text) if line_end < 0 else line_end].rstrip())
    shown = value if len(value) <= 60 else value[:57] + "..."
    kind = "mapping" if value.startswith("{") else "list"
    return (
        f'an unquoted value starting with "{value[:1]}" is read as a YAML {kind}, not as text',
        f"quote the whole value: {textcheck.quoted(shown)}",
    )


class _Unreadable(Exception):
    """Internal: a scalar the builder refuses (reported, then skipped by later steps)."""

    def __init__(self, rule: str, message: str, hint: str, *, at: Origin | None = None) -> None:
        self.rule = rule
        self.message = message
        self.hint = hint
        self.at = at
        super().__init__(message)


class TreeBuilder:
    """Turns composed PyYAML nodes into positioned ``YNode``s, noting duplicates."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.diagnostics: list[Diagnostic] = []
        self.bad: set[tuple[str | int, ...]] = set()
        self.spans: list[tuple[int, int]] = []
        self._constructor = yaml.SafeLoader("")

    def _origin(self, mark: Any) -> Origin:
        return Origin(self.file, mark.line + 1, mark.column + 1)

    def build(self, node: Node, path: tuple[str | int, ...] = ()) -> YNode:
        origin = self._origin(node.start_mark)
        start, end = node.start_mark.index, node.end_mark.index
        if isinstance(node, MappingNode):
            if (
                node.flow_style
                and path
                and any(not isinstance(key, ScalarNode) for key, _value in node.value)
            ):
                return self._flow_trap(node, path, origin)
            out = YMap(origin, start, end, flow_source=self._flow_source(node))
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
                flow_source=self._flow_source(node),
            )
        assert isinstance(node, ScalarNode)
        self.spans.append((start, end))
        try:
            value = self._scalar_value(node)
            self._check_text(node, path, value)
        except _Unreadable as problem:
            self._refuse(problem.rule, problem.at or origin, path, problem.message, problem.hint)
            value = None
        comment = self._comment_after(end)
        if comment is not None and node.style is None and node.value == "":
            # An empty value followed by a comment: point at the "#" that emptied it.
            origin = Origin(self.file, *line_col(self.text, self.text.index("#", end)))
        return YScalar(
            origin,
            start,
            end,
            value=value,
            raw=node.value,
            plain=node.style is None,
            style=node.style,
            comment=comment,
        )

    def _comment_after(self, index: int) -> str | None:
        """The comment that follows a value on its line (``key: value  # comment``)."""
        line_end = self.text.find("\n", index)
        rest = self.text[index : len(self.text) if line_end < 0 else line_end]
        stripped = rest.lstrip(" \t")
        if stripped.startswith("#") and (not rest or rest[0] in " \t"):
            return safe_line(stripped.rstrip())
        return None

    def _check_text(self, node: ScalarNode, path: tuple[str | int, ...], value: Any) -> None:
        """Refuse a quoted one-line value that runs over lines, and forbidden characters."""
        multiline = textcheck.is_multiline(path)
        start, end = node.start_mark.line, node.end_mark.line
        if node.style in ('"', "'") and end > start and not multiline:
            raise _Unreadable(
                "yaml-unclosed-quote",
                f"this quoted value runs from line {start + 1} to line {end + 1}; a closing "
                f"quote ({node.style}) is probably missing",
                f"end the value with {node.style} on line {start + 1}",
            )
        if not isinstance(value, str):
            return
        found = textcheck.first_forbidden(value, multiline=multiline)
        if found is None:
            return
        _index, char = found
        source = self.text[node.start_mark.index : node.end_mark.index]
        offset = textcheck.source_index(source, char, double_quoted=node.style == '"')
        at = None
        if offset >= 0:
            at = Origin(self.file, *line_col(self.text, node.start_mark.index + offset))
        raise _Unreadable(
            "control-character",
            f"the value contains {textcheck.char_name(char)}, {textcheck.kind_of(char)}",
            textcheck.hint_for(char, multiline=multiline),
            at=at,
        )

    def _flow_trap(self, node: MappingNode, path: tuple[str | int, ...], origin: Origin) -> YNode:
        """``subject: {{invoice_number}}``: braces YAML read as a mapping of mappings."""
        source = self._flow_source(node) or ""
        self._refuse("yaml-flow-value", origin, path, *flow_trap_text(source))
        return YMap(origin, node.start_mark.index, node.end_mark.index)

    def _flow_source(self, node: Node) -> str | None:
        """A flow node as written: its own text if on one line, else its first line."""
        if not getattr(node, "flow_style", False):
            return None
        index, end = node.start_mark.index, node.end_mark.index
        if "\n" not in self.text[index:end]:
            return self.text[index:end]
        return self.text[index : self.text.find("\n", index)].rstrip()

    def _refuse(
        self, rule: str, origin: Origin, path: tuple[str | int, ...], message: str, hint: str
    ) -> None:
        """Report the value at ``path`` and mark it, so later steps skip it."""
        self.diagnostics.append(
            Diagnostic(rule, Severity.ERROR, origin, dotted(path), message, hint)
        )
        self.bad.add(path)

    def _key(self, node: Node, path: tuple[str | int, ...]) -> str | None:
        if isinstance(node, ScalarNode):
            self.spans.append((node.start_mark.index, node.end_mark.index))
            key = str(node.value)
            surrogate = _SURROGATE.search(key)
            found = textcheck.first_forbidden(key, multiline=False)
            if surrogate is None and found is not None:
                self.diagnostics.append(
                    Diagnostic(
                        "control-character",
                        Severity.ERROR,
                        self._origin(node.start_mark),
                        dotted(path),
                        f"a key contains {textcheck.char_name(found[1])}, "
                        f"{textcheck.kind_of(found[1])}",
                        "remove it: keys are plain names such as company_name",
                    )
                )
                return None
            if surrogate is None:
                return key
            # Reported, and the entry left out (its parent stays valid).
            self.diagnostics.append(
                Diagnostic(
                    "yaml-encoding",
                    Severity.ERROR,
                    self._origin(node.start_mark),
                    dotted(path),
                    f"this key contains {_surrogate_text(surrogate.group())}",
                    _SURROGATE_HINT,
                )
            )
            return None
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
        surrogate = _SURROGATE.search(node.value)
        if surrogate is not None:
            raise _Unreadable(
                "yaml-encoding",
                f"this value contains {_surrogate_text(surrogate.group())}",
                _SURROGATE_HINT,
            )
        if node.style is not None:
            return node.value  # quoted or block scalar: always text
        number = node.tag in _NUMBER_TAGS or bool(
            _YAML12_INT.fullmatch(node.value) or _YAML12_FLOAT.fullmatch(node.value)
        )
        if number and len(node.value) > MAX_NUMBER_CHARS:
            raise _Unreadable(
                "yaml-unreadable-value",
                f"the unquoted number {node.value[:12]}… is {len(node.value)} characters "
                f"long; numbers longer than {MAX_NUMBER_CHARS} characters are refused",
                "write the intended value; quote it if it is meant as text",
            )
        try:
            value = self._constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            # PyYAML resolved the text as a date (or number) it cannot build: 2024-13-45.
            kind = "date" if node.tag == "tag:yaml.org,2002:timestamp" else "value"
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise _Unreadable(
                "yaml-unreadable-value",
                f"unquoted {shown} is read as a {kind}, but it is not a valid one ({exc})",
                f'quote it if it is text: "{shown}"',
            ) from exc
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
