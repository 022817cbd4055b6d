"""Text for people: the one escaping function for what a server or a spec supplies, and
the one ``plural``.

Everything portalctl prints that it did not write itself (a company name, a subject, a
template body, a problem+json ``detail``, a ``Request-Id``, an ETag) passes through here
before it reaches a terminal, a log line or a Markdown comment. A hostile value must not be
able to move the cursor, rewrite a line (lone CR), set a terminal title (OSC), reorder text
(bidi overrides, the "Trojan Source" trick) or break out of a Markdown table cell.

Escaped characters are shown visibly, the way Python writes them (``\\x1b``, ``\\u202e``), so a
reviewer sees that something odd is there instead of having it silently removed.
"""

from __future__ import annotations

import functools
import re

#: C0 controls but TAB and LF, DEL, C1 controls, bidi embeddings/overrides/isolates and marks,
#: line/paragraph separators, and the BOM / zero-width no-break space.
_UNSAFE_MULTILINE = (
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)
#: The same, plus TAB and LF: for text that must stay on one line.
_UNSAFE_LINE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"


@functools.cache
def _unsafe(pattern: str) -> re.Pattern[str]:
    """``_UNSAFE_MULTILINE`` or ``_UNSAFE_LINE`` compiled, on first use: ~0.2 ms each at
    start-up, and printable text (nearly all of it) never needs them."""
    return re.compile(pattern)


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` for multi-line display: LF and TAB kept, every other control shown escaped.

    CRLF is folded to LF first (a Windows line ending is not an attack); a lone CR, which
    would let a value overwrite the line it is printed on, is escaped.
    """
    if text.isprintable():
        return text
    return _unsafe(_UNSAFE_MULTILINE).sub(_visible, text.replace("\r\n", "\n"))


def safe_line(text: str) -> str:
    """``text`` for one-line display (an error line, a table cell): line breaks escaped too."""
    if text.isprintable():
        return text
    return _unsafe(_UNSAFE_LINE).sub(_visible, text)


def json_text(text: str) -> str:
    """A JSON document with every unsafe character inside its strings written as a ``\\uXXXX``
    escape: still the same JSON, but inert on a terminal (``json.dumps`` escapes C0 controls
    itself, not C1 controls or bidi overrides when ``ensure_ascii`` is off)."""
    return _unsafe(_UNSAFE_MULTILINE).sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


_MD_SPECIAL = re.compile(r"([\\`*_|<>\[\]~#!&])")


def md_text(text: str) -> str:
    """``text`` as inert one-line Markdown: escaped controls, Markdown and HTML made literal."""
    return _MD_SPECIAL.sub(r"\\\1", safe_line(text))


def plural(count: int, word: str) -> str:
    """``1 portal``, ``2 portals``, ``1,000 portals``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
