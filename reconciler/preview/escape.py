"""The one way spec or server text reaches the preview page: made visible-safe by
``textsafe.safe_line`` (controls, bidi overrides shown escaped, so a company name cannot
reorder what a reviewer reads), then HTML-escaped (attribute-safe)."""

from __future__ import annotations

import html

from reconciler.textsafe import safe_line


def esc(text: str) -> str:
    """``text`` as HTML text or attribute value, on one line."""
    return html.escape(safe_line(text), quote=True)
