"""Value formatting shared by the renderers (colours bare, strings quoted, JSON literals)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.model import HEX_COLOUR
from reconciler.textsafe import safe_line


def fmt_value(value: Any) -> str:
    """``#1662dd`` bare, strings JSON-quoted, ``true``/``false``/``null`` as in the spec."""
    if isinstance(value, str) and HEX_COLOUR.match(value):
        return value.lower()
    # JSON escapes C0 controls; safe_line also catches C1, bidi overrides and separators.
    return safe_line(json.dumps(value, ensure_ascii=False))


def logo_text(value: Any) -> str:
    """One side of a logo change: ``assets/logo.png (image/png, 2,345 bytes, sha256 3f2a…)``."""
    if not value:
        return "no logo (portal default)"
    return safe_line(_logo_text(value))


def _logo_text(value: Any) -> str:
    sha = str(value.get("sha256") or "")[:12]
    if value.get("file"):
        return (
            f"{value['file']} ({value.get('content_type')}, {value.get('size', 0):,} bytes, "
            f"sha256 {sha})"
        )
    return f"current logo ({value.get('content_type')}, sha256 {sha})"


def diff_stat(diff: str | None) -> tuple[int, int]:
    """(added, removed) line counts of a unified diff."""
    if not diff:
        return (0, 0)
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return (added, removed)
