"""Schema validation of a loaded spec: the only module that imports jsonschema.

jsonschema's own messages (``'primay_color' was unexpected``, ``False is not of type
'string'``) are written for schema authors. Each validator kind is translated here into a
message for the person editing portal.yaml, pointing at the offending node (the key, for
unknown keys), with a hint saying what to write instead.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from reconciler.logs import API_KEY_PATTERN
from reconciler.model import Diagnostic, Origin, Severity
from reconciler.spec.textcheck import close_matches, quoted
from reconciler.spec.yamlload import (
    YAML12_BOOLEANS,
    YMap,
    YNode,
    YScalar,
    dotted,
    line_col,
    lookup,
    to_python,
    walk,
)
from reconciler.spec.ytree import YSeq, flow_trap_text

Path_ = tuple[str | int, ...]

SCHEMA_RESOURCE = "schemas/portal.schema.json"

#: An API key written into the spec: the project's one key pattern (``logs``).
SECRET_PATTERN = API_KEY_PATTERN

#: Text fields where `` #...`` right after the value is more likely part of it than a comment.
_TRUNCATED_BY_COMMENT = frozenset({"company_name", "subject"})

_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "null": "null",
}

_REQUIRED_HINTS = {
    "version": 'add "version: 1" as the first line',
    "portal": 'add a "portal:" mapping with the settings to manage',
    "subject": "add a one-line subject",
}

#: pattern failures, by the name of the key: (message template, hint).
_PATTERN_MESSAGES = {
    "primary_color": ("{v} is not a hex colour", 'write #RRGGBB, e.g. "#1662DD"'),
    "api_url": (
        "{v} is not an https URL",
        "use https://host[/path]; plain http is allowed only for localhost, 127.0.0.1 or [::1]",
    ),
    "api_key_env": (
        "{v} is not an environment variable name",
        "name the variable that holds the key (capitals, digits, _), e.g. ACME_PORTAL_KEY",
    ),
    "company_name": ("the company name is blank", "write the name customers should see"),
    "subject": ("the subject must be a single line", "remove the line break"),
}


@functools.cache
def schema_text() -> str:
    """The JSON text of ``portal.schema.json``, read from the installed package data."""
    from importlib import resources  # ~4 ms (tempfile, shutil...): a valid spec never needs it

    return resources.files("reconciler").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@functools.cache
def schema_sha256() -> str:
    """Identifies the schema text the generated ``fastschema`` module must match."""
    import hashlib
    from pathlib import Path

    beside = Path(__file__).resolve().parent.parent / SCHEMA_RESOURCE  # a normal install
    text = beside.read_text(encoding="utf-8") if beside.is_file() else schema_text()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_schema() -> dict[str, Any]:
    """The spec's JSON Schema (Draft 2020-12) as a fresh dict."""
    import json  # like every json use below: only when a spec has errors to explain

    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def redact(text: str) -> str:
    """Replace anything that looks like an API key, keeping only its prefix."""
    return SECRET_PATTERN.sub(lambda m: m.group("prefix") + "…", text)


def schema_diagnostics(tree: YMap, file: str) -> tuple[list[Diagnostic], set[Path_]]:
    """Validate ``tree`` against the schema. Returns the diagnostics and the set of paths
    whose values are invalid (later steps skip them and everything below them)."""
    from reconciler.spec import fastschema

    document = to_python(tree)
    if schema_sha256() == fastschema.SCHEMA_SHA256 and fastschema.is_valid(document):
        return [], set()  # certainly valid: jsonschema (~40 ms to import) has nothing to say
    from jsonschema import Draft202012Validator, FormatChecker

    validator = Draft202012Validator(load_schema(), format_checker=FormatChecker())
    found: dict[tuple[str, str, Origin], Diagnostic] = {}
    bad: set[Path_] = set()
    for error in validator.iter_errors(document):
        for diag, path in _explain(error, tree, file):
            if diag is not None:
                found.setdefault((diag.path, diag.message, diag.origin), diag)
            bad.add(path)
    return list(found.values()), bad


def tree_checks(tree: YMap, file: str, bad: set[Path_]) -> list[Diagnostic]:
    """Checks on the raw tree: API keys anywhere, and YAML 1.1 booleans (``yes``/``on``)."""
    out: list[Diagnostic] = []
    for path, node in walk(tree):
        name = path[-1] if path else ""
        if isinstance(name, str) and SECRET_PATTERN.search(name) and node.key_origin:
            out.append(_secret(node.key_origin, dotted(path[:-1])))
            continue
        if not isinstance(node, YScalar):
            continue
        if isinstance(node.value, str) and SECRET_PATTERN.search(node.value):
            out.append(_secret(node.origin, dotted(path)))
        elif (
            node.value is None
            and node.plain
            and node.comment
            and len(node.comment) > 1
            and not node.comment[1].isspace()
            and not is_under(path, bad)
        ):
            # logo: #assets/logo.png is null (reset the logo!), not the path it looks like.
            out.append(
                Diagnostic(
                    "yaml-comment-value",
                    Severity.ERROR,
                    node.origin,
                    dotted(path),
                    f'the value is empty: "#" starts a YAML comment, so {node.comment[:40]} is '
                    "not read",
                    f"quote it: {quoted(node.comment)}, or write null to mean no value",
                )
            )
        elif (
            name in _TRUNCATED_BY_COMMENT
            and isinstance(node.value, str)
            and node.plain
            and node.comment
            and len(node.comment) > 1
            and not node.comment[1].isspace()
            and not is_under(path, bad)
        ):
            whole = f"{node.raw} {node.comment}"
            out.append(
                Diagnostic(
                    "yaml-comment-value",
                    Severity.ERROR,
                    node.origin,
                    dotted(path),
                    f'the value stops before "#": YAML reads {node.comment[:40]} as a comment',
                    f"quote the whole value: {quoted(whole)}",
                )
            )
        elif (
            isinstance(node.value, bool)
            and node.plain
            and node.raw not in YAML12_BOOLEANS
            and not is_under(path, bad)
        ):
            out.append(
                Diagnostic(
                    "yaml-boolean",
                    Severity.ERROR,
                    node.origin,
                    dotted(path),
                    f"{node.raw} is not a boolean in YAML 1.2 (YAML 1.1 reads it as "
                    f"{str(node.value).lower()})",
                    "use true or false",
                )
            )
    return out


def text_secrets(text: str, spans: list[tuple[int, int]], file: str) -> list[Diagnostic]:
    """API keys written in ``text`` outside the scalar ranges ``spans`` (sorted): in
    comments, or anywhere when the file could not be loaded. Never echoes the key."""
    starts = [start for start, _end in spans]
    out: list[Diagnostic] = []
    for match in SECRET_PATTERN.finditer(text):
        index = bisect.bisect_right(starts, match.start()) - 1
        if index >= 0 and match.start() < spans[index][1]:
            continue  # inside a key or value: tree_checks reports it at the node
        line, col = line_col(text, match.start())
        out.append(
            Diagnostic(
                "secret-in-spec",
                Severity.ERROR,
                Origin(file, line, col),
                "",
                "what looks like an API key (sk_test_/sk_live_…) is written here; keys must "
                "never be in the spec, not even in a comment",
                "remove it, and revoke the key if it was committed",
            )
        )
    return out


def is_under(path: Path_, bad: Iterable[Path_]) -> bool:
    """Whether ``path`` is one of ``bad`` or lies below one of them."""
    return any(path[: len(b)] == b for b in bad)


def secret_paths(tree: YMap) -> set[Path_]:
    """Paths whose key or value looks like an API key (never echoed in messages)."""
    out: set[Path_] = set()
    for path, node in walk(tree):
        name = path[-1] if path else ""
        if (isinstance(name, str) and SECRET_PATTERN.search(name)) or (
            isinstance(node, YScalar)
            and isinstance(node.value, str)
            and SECRET_PATTERN.search(node.value)
        ):
            out.add(path)
    return out


def _secret(origin: Origin, path: str) -> Diagnostic:
    return Diagnostic(
        "secret-in-spec",
        Severity.ERROR,
        origin,
        path,
        "this looks like an API key (sk_test_/sk_live_…); keys must never be in the spec",
        "remove it, revoke the key if it was committed, and name the environment variable "
        "that holds it in target.api_key_env",
    )


# --- translating jsonschema errors ---------------------------------------------------------


def _explain(error: Any, tree: YMap, file: str) -> list[tuple[Diagnostic | None, Path_]]:
    """The diagnostics for one jsonschema error, each with the path it makes invalid. A
    ``None`` diagnostic marks the path invalid without a message (another one says it)."""
    import json

    path: Path_ = tuple(error.absolute_path)
    node = lookup(tree, path)
    kind = error.validator
    value = error.instance

    def diag(
        message: str,
        hint: str | None = None,
        *,
        at: Origin | None = None,
        where: Path_ = path,
        rule: str = "schema",
    ) -> tuple[Diagnostic, Path_]:
        origin = at or (node.origin if node else Origin(file, 1, 1))
        return (
            Diagnostic(
                rule,
                Severity.ERROR,
                origin,
                dotted(where),
                redact(message),
                redact(hint) if hint else None,
            ),
            path,
        )

    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        out: list[tuple[Diagnostic | None, Path_]] = []
        for key in value:
            if key in allowed:
                continue
            child = lookup(tree, (*path, key))
            match = _close_match(key, allowed)
            hint = f'did you mean "{match}"?' if match else "allowed here: " + ", ".join(allowed)
            at = child.where if child else None
            message, where = f'unknown key "{key}"', (*path, key)
            out.append((diag(message, hint, at=at, where=where)[0], where))
        return out
    # A missing key that a misspelt sibling stands for is said by that sibling's "did you
    # mean" line: reporting it missing too would say the same mistake twice.
    misspelt = _misspelt(error.schema, value)
    if kind == "required":
        parent = _entry_origin(node, file)
        return [
            (
                None
                if key in misspelt
                else diag(
                    f'missing required key "{key}"',
                    _REQUIRED_HINTS.get(key),
                    at=parent,
                    where=(*path, key),
                )[0],
                path,
            )
            for key in error.validator_value
            if isinstance(value, dict) and key not in value
        ]
    if kind == "oneOf" and all(set(b) == {"required"} for b in error.validator_value):
        if not isinstance(value, dict):
            return []  # the type error says it better
        names = [b["required"][0] for b in error.validator_value]
        present = [n for n in names if isinstance(value, dict) and n in value]
        if len(present) > 1:
            second = lookup(tree, (*path, present[-1]))
            return [
                diag(
                    f'set only one of "{present[0]}" and "{present[1]}"',
                    f"keep {present[1]} for a file, or {present[0]} for inline text",
                    at=second.where if second else None,
                )
            ]
        if misspelt & set(names):
            return [(None, path)]
        event = path[-1] if path else "event"
        return [
            diag(
                f'missing "{names[0]}" or "{names[1]}"',
                f"add body_file: templates/{event}.html, or an inline body",
                at=_entry_origin(node, file),
            )
        ]
    if kind == "type":
        return [_type_error(error, node, diag)]
    if kind == "const":
        return [_const_error(error, path, diag)]
    if kind == "enum":
        options = ", ".join(json.dumps(v) for v in error.validator_value)
        return [diag(f"{describe(value)} is not allowed", f"use one of {options}")]
    if kind == "pattern":
        key = next((p for p in reversed(path) if isinstance(p, str)), "")
        template, hint = _PATTERN_MESSAGES.get(
            key, ("{v} has the wrong form", f"it must match {error.validator_value}")
        )
        return [diag(template.format(v=json.dumps(value)), hint)]
    if kind == "minLength":
        return [diag("must not be empty", "write a value, or remove the key")]
    if kind == "maxLength":
        if len(path) == 4 and path[-1] == "body":
            return []  # build reports body-too-large, in bytes as the API counts
        return [
            diag(
                f"is too long: {len(value)} characters, at most {error.validator_value}",
                "shorten it",
            )
        ]
    if kind == "format":
        return [diag(f"{json.dumps(value)} is not a valid {error.validator_value}")]
    return [diag(error.message)]


def _close_match(key: str, allowed: list[str]) -> str | None:
    """The allowed key ``key`` is probably a misspelling of (the "did you mean")."""
    match = close_matches(key, allowed, n=1, cutoff=0.6)
    return match[0] if match else None


def _misspelt(schema: Any, value: Any) -> set[str]:
    """Allowed keys of ``schema`` that an unknown key of ``value`` is a misspelling of."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(value, dict) or not isinstance(properties, dict):
        return set()
    allowed = sorted(properties)
    return {
        match
        for key in value
        if key not in properties and (match := _close_match(key, allowed)) is not None
    }


def _entry_origin(node: YNode | None, file: str) -> Origin:
    if node is None or node.key_origin is None:
        return Origin(file, 1, 1)
    return node.key_origin


def _type_error(error: Any, node: YNode | None, diag: Any) -> tuple[Diagnostic, Path_]:
    expected = error.validator_value
    expected = [expected] if isinstance(expected, str) else list(expected)
    value = error.instance
    if value is None and isinstance(node, YScalar) and node.plain and node.comment:
        comment = node.comment if len(node.comment) <= 40 else node.comment[:37] + "..."
        return diag(  # type: ignore[no-any-return]
            f'the value is empty: "#" starts a YAML comment, so {comment} is not read',
            f"quote it: {quoted(comment)}"
            if "string" in expected
            else "write the value before the comment",
            rule="yaml-comment-value",
        )
    flow = node.flow_source if isinstance(node, YMap | YSeq) else None
    if "string" in expected and flow:
        trap_message, trap_hint = flow_trap_text(flow)
        return diag(trap_message, trap_hint, rule="yaml-flow-value")  # type: ignore[no-any-return]
    if (
        "string" in expected
        and isinstance(node, YScalar)
        and node.plain
        and node.raw.strip() not in ("", "~", "null", "Null", "NULL")
    ):
        return diag(  # type: ignore[no-any-return]
            f"unquoted {node.raw} is read as {describe(value)}, not as text",
            f'quote it: "{node.raw}"',
            rule="yaml-unquoted",
        )
    want = " or ".join(_TYPE_NAMES.get(t, t) for t in expected)
    hint: str | None = None
    if expected == ["boolean"] and isinstance(value, str):
        hint = "write true or false without quotes"
    elif value is None:
        hint = "write a value, or remove the key"
    return diag(f"expected {want}, got {describe(value)}", hint)  # type: ignore[no-any-return]


def _const_error(error: Any, path: Path_, diag: Any) -> tuple[Diagnostic, Path_]:
    import json

    const, value = error.validator_value, error.instance
    if path == ("version",):
        return diag(  # type: ignore[no-any-return]
            f"unsupported version {json.dumps(value)}",
            "write version: 1 (a number, without quotes)"
            if isinstance(value, str)
            else "this portalctl reads version: 1",
        )
    if const == "default" and isinstance(value, str):
        close = close_matches(value, ["default"], n=1, cutoff=0.6)
        prefix = 'did you mean "default"? ' if close else ""
        return diag(  # type: ignore[no-any-return]
            f"{json.dumps(value)} is not a template",
            f'{prefix}write "default" to reset the portal\'s default content, or a mapping '
            "with subject and body_file",
        )
    return diag(  # type: ignore[no-any-return]
        f"must be {json.dumps(const)}, got {describe(value)}"
    )


def describe(value: Any) -> str:
    """A value as a reader would name it: ``the boolean false``, ``the text "x"``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value:g}" if isinstance(value, float) else f"the number {value}"
    if isinstance(value, dt.datetime | dt.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, str):
        import json

        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {json.dumps(shown)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
