"""Compare the desired and live sides: the settings tree (deepdiff) and template text (difflib).

This is the only module that imports deepdiff, and deepdiff's types never leave it: callers
get ``FieldDiff`` records. deepdiff is configured so that nothing is silently ignored: no
``ignore_order``, no ``significant_digits``, and type changes (``1`` vs ``True``) are reported.

Normalisation is deliberately narrow. Colours (``#RRGGBB``) compare case-insensitively and
text compares with LF line endings; everything else, trailing whitespace included, must match
exactly, because the portal shows it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reconciler.model import HEX_COLOUR, normalise_newlines


class _Missing:
    """The live side has no value at this path (the key is absent)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


@dataclass(frozen=True)
class FieldDiff:
    """One leaf that differs: ``path`` of keys from the root, live ``before``, desired ``after``.

    ``before`` is ``MISSING`` when the live tree lacks the key altogether.
    """

    path: tuple[str, ...]
    before: Any
    after: Any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


normalise_text = normalise_newlines


def normalise_value(value: Any) -> Any:
    """Recursively lowercase hex colours; lists and mappings become plain list/dict."""
    if isinstance(value, str) and HEX_COLOUR.match(value):
        return value.lower()
    if isinstance(value, Mapping):
        return {str(k): normalise_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise_value(v) for v in value]
    return value


def project(live: Any, desired: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``live`` that ``desired`` names (ownership rule: the rest is not ours).

    Keys the live side lacks are left out, so deepdiff reports them as added.
    """
    out: dict[str, Any] = {}
    if not isinstance(live, Mapping):
        return out
    for key, want in desired.items():
        if key not in live:
            continue
        have = live[key]
        if isinstance(want, Mapping) and isinstance(have, Mapping):
            out[key] = project(have, want)
        else:
            out[key] = have
    return out


def _flatten(path: tuple[str, ...], before: Any, after: Any) -> list[FieldDiff]:
    """Expand a whole-subtree difference into leaves, so every change names one field."""
    if isinstance(after, Mapping) and after:
        out: list[FieldDiff] = []
        for key, value in after.items():
            old = before.get(key, MISSING) if isinstance(before, Mapping) else MISSING
            if old is not MISSING and old == value and type(old) is type(value):
                continue
            out.extend(_flatten((*path, str(key)), old, value))
        return out
    return [FieldDiff(path, before, after)]


def diff_tree(live: Mapping[str, Any], desired: Mapping[str, Any]) -> list[FieldDiff]:
    """Every leaf where ``desired`` (a partial tree) differs from ``live``, sorted by path.

    Only the keys ``desired`` names are compared; read-only and unmanaged live fields never
    appear. Colours are compared case-insensitively; a type change is a difference.
    """
    want = normalise_value(desired)
    have = normalise_value(project(live, want))
    if _identical(have, want):
        # The common case in CI (drift, an unchanged PR): no need to import deepdiff.
        return []
    from reconciler import logs

    logs.route_stdlib()  # deepdiff logs through stdlib logging: our stream, redacted
    from deepdiff import DeepDiff  # heavy import, kept off the start-up path

    result = DeepDiff(
        have,
        want,
        view="tree",
        verbose_level=2,
        ignore_order=False,
        ignore_string_type_changes=False,
        ignore_numeric_type_changes=False,
        ignore_type_in_groups=None,
    )
    found: dict[tuple[str, ...], FieldDiff] = {}
    for report, levels in result.items():
        if report in {"dictionary_item_removed", "attribute_removed"}:
            # project() only keeps keys the desired side names, so nothing can be removed.
            raise AssertionError(f"unexpected deepdiff report {report}")
        for level in levels:
            raw_path: Sequence[Any] = level.path(output_format="list")
            # Lists are compared whole: a change inside one is a change of the field.
            keys: list[str] = []
            for part in raw_path:
                if not isinstance(part, str):
                    break
                keys.append(part)
            path = tuple(keys)
            if path in found:
                continue
            before = _lookup(have, path)
            after = _lookup(want, path)
            for leaf in _flatten(path, before, after):
                found.setdefault(leaf.path, leaf)
    return [found[key] for key in sorted(found)]


def _identical(a: Any, b: Any) -> bool:
    """Equal, and of the same type at every level (so ``1`` and ``True`` differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_identical(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return MISSING
        node = node[key]
    return node


def text_diff(before: str, after: str, *, fromfile: str, tofile: str, context: int = 3) -> str:
    """A unified diff of two texts (LF-normalised), with git's no-newline marker.

    Returns ``""`` when the texts are equal after normalisation.
    """
    old = normalise_text(before)
    new = normalise_text(after)
    if old == new:
        return ""
    import difflib  # ~0.8 ms with heapq: an unchanged plan never needs it

    lines = difflib.unified_diff(
        _lines(old), _lines(new), fromfile=fromfile, tofile=tofile, n=context
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)
