"""Characters a spec value must not hold, named so a message never echoes them.

A company name, a subject or a template body reaches customers' inboxes, terminals, CI
logs and pull-request comments. A control character (``ESC [31m``, a lone CR, NUL) or an
invisible bidirectional control (U+202E, the "Trojan Source" trick) in one of them either
breaks what displays it or makes a reviewed value read differently from what it is. So
they are refused wherever they come from: written raw in the file, spelt as a YAML escape
(``"\\x1b"``, ``"\\u202e"``), or inside a ``body_file``. Line breaks and tabs are allowed
only in a multi-line value (a template body); a CRLF line ending counts as one LF.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator

#: Short names of the C0 and C1 control characters (Unicode gives them no ``name``).
_C0 = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "TAB",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]
_C1 = [
    "PAD",
    "HOP",
    "BPH",
    "NBH",
    "IND",
    "NEL",
    "SSA",
    "ESA",
    "HTS",
    "HTJ",
    "VTS",
    "PLD",
    "PLU",
    "RI",
    "SS2",
    "SS3",
    "DCS",
    "PU1",
    "PU2",
    "STS",
    "CCH",
    "MW",
    "SPA",
    "EPA",
    "SOS",
    "SGCI",
    "SCI",
    "CSI",
    "ST",
    "OSC",
    "PM",
    "APC",
]

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_BREAKS = "\x85\u2028\u2029"

#: Refused anywhere in the file as written (comments included): they are invisible or
#: change where YAML sees a line end. PyYAML refuses most C0/C1 itself, but not these all.
_RAW_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_BREAKS}]|\r(?!\n)")
#: Refused in a one-line value (after YAML decoded its escapes).
_LINE_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}{_BREAKS}\ufeff]")
#: Refused in a multi-line value: the same, but TAB, LF and CRLF are fine.
_MULTILINE_FORBIDDEN = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}{_BREAKS}\ufeff]|\r(?!\n)"
)


@functools.cache
def _escape() -> re.Pattern[str]:
    """A YAML double-quoted escape sequence (so a position can point at ``\\x1b`` itself).
    Compiled on first use (~0.2 ms): only a value holding a forbidden character needs it."""
    return re.compile(
        r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0abtnvfre NLP_\\\"/\t]|\n)"
    )


_SIMPLE_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    "N": "\x85",
    "L": "\u2028",
    "P": "\u2029",
}


#: Keys whose value may run over several lines (a template body).
MULTILINE_KEYS = frozenset({"body"})


def is_multiline(path: tuple[str | int, ...]) -> bool:
    """Whether the value at ``path`` may hold line breaks and tabs."""
    return bool(path) and path[-1] in MULTILINE_KEYS


def quoted(value: str) -> str:
    """``value`` as a YAML quoted scalar a user can paste (double quotes when possible)."""
    if '"' not in value and "\\" not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


def char_name(char: str) -> str:
    """``U+001B ESC``, ``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named, never shown."""
    code = ord(char)
    if code < 0x20:
        name = _C0[code]
    elif code == 0x7F:
        name = "DEL"
    elif 0x80 <= code <= 0x9F:
        name = _C1[code - 0x80]
    else:
        name = unicodedata.name(char, "")
    return f"U+{code:04X} {name}".rstrip()


def kind_of(char: str) -> str:
    """What sort of character ``char`` is, for the message."""
    if char in "\n\r" or char in _BREAKS:
        return "a line break"
    if char == "\t":
        return "a tab"
    if char == "\ufeff":
        return "an invisible zero-width character"
    if re.fullmatch(f"[{_BIDI}]", char):
        return (
            "an invisible bidirectional-text control, which can make text display "
            "differently from what it is"
        )
    return "a control character"


def hint_for(char: str, *, multiline: bool) -> str:
    if char in "\n\r\x85\u2028\u2029" and not multiline:
        return "write the value on one line"
    if char == "\t" and not multiline:
        return "use a space instead"
    if char == "\r":
        return "end lines with LF (a CRLF pair is fine): a lone CR can overwrite text on screen"
    return "remove it (retype the text if it was pasted)"


def first_forbidden(text: str, *, multiline: bool) -> tuple[int, str] | None:
    """The index and character of the first character ``text`` must not hold, if any."""
    if text.isprintable() and "\ufeff" not in text:
        return None
    pattern = _MULTILINE_FORBIDDEN if multiline else _LINE_FORBIDDEN
    match = pattern.search(text)
    return None if match is None else (match.start(), match.group()[0])


def raw_forbidden(text: str) -> Iterator[tuple[int, str]]:
    """Every character refused in the file as written: (index, character)."""
    for match in _RAW_FORBIDDEN.finditer(text):
        yield match.start(), match.group()[0]


def source_index(source: str, char: str, *, double_quoted: bool) -> int:
    """Where in ``source`` (a scalar as written) ``char`` was written: the character
    itself, or the escape sequence that spells it; -1 if neither is found."""
    found = [source.find(char)]
    if double_quoted:
        found += [m.start() for m in _escape().finditer(source) if _decode(m.group(1)) == char][:1]
    return min((i for i in found if i >= 0), default=-1)


def _decode(escape: str) -> str:
    if escape[0] in "xuU":
        try:
            return chr(int(escape[1:], 16))
        except (ValueError, OverflowError):
            return ""
    return _SIMPLE_ESCAPES.get(escape, "")


def close_matches(word: str, choices: Iterable[str], *, n: int, cutoff: float) -> list[str]:
    """difflib's did-you-mean, imported only when a spec has a mistake to explain."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=cutoff)
