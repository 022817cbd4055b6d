"""BCP 47 language tags (RFC 5646): validation and canonical case. No I/O, no imports.

One source for the spec (``locales:`` keys), the plan (resource names) and the sandbox
(the ``{tag}`` path segment), so ``pt-br``, ``PT-BR`` and ``pt-BR`` are one language
everywhere. The check is syntactic (the RFC's ABNF for a language tag, plus its rule that a
variant or an extension singleton appears at most once); it does not consult the IANA
registry, so ``qq`` passes while ``english``, ``es_ES`` and ``e`` do not. One deliberate
narrowing: the primary language subtag must be 2 or 3 letters (ISO 639). The ABNF also allows
4 (reserved) and 5 to 8 letters (none registered), which in practice only ever catches
``spanish`` written for ``es``.

Canonical case (RFC 5646 section 2.1.1): language and everything else lowercase, script
title case (``Latn``), region uppercase (``BR``, ``419``).
"""

from __future__ import annotations

import re

#: Longest tag accepted (RFC 5646 section 4.4.1 asks implementations to support 35).
MAX_TAG_CHARS = 35

_ALPHA = re.compile(r"^[a-z]+$")
_DIGIT = re.compile(r"^[0-9]+$")
_ALNUM = re.compile(r"^[a-z0-9]+$")

#: What the hint of a refused tag says.
TAG_EXAMPLES = "es, en, pt-BR, zh-Hant-TW"


class InvalidTag(ValueError):
    """Not a well-formed BCP 47 tag; ``str()`` says why, in a few words."""


def canonical_tag(tag: str) -> str:
    """``tag`` in canonical case (``pt-br`` -> ``pt-BR``); raises ``InvalidTag``."""
    if not isinstance(tag, str) or not tag:
        raise InvalidTag("empty language tag")
    if len(tag) > MAX_TAG_CHARS:
        raise InvalidTag(f"longer than {MAX_TAG_CHARS} characters")
    if not tag.isascii() or "_" in tag:
        raise InvalidTag("only ASCII letters, digits and '-' separators are allowed")
    parts = tag.lower().split("-")
    if any(not p or not _ALNUM.match(p) for p in parts):
        raise InvalidTag("only ASCII letters, digits and '-' separators are allowed")
    if parts[0] == "x":
        return "-".join(_private_use(parts, 0))
    out = [_language(parts[0])]
    i = 1
    extlangs = 0
    while i < len(parts) and len(parts[i]) == 3 and _ALPHA.match(parts[i]) and len(out[0]) <= 3:
        extlangs += 1
        if extlangs > 3:
            raise InvalidTag(f"too many extended language subtags ({parts[i]!r})")
        out.append(parts[i])
        i += 1
    if i < len(parts) and len(parts[i]) == 4 and _ALPHA.match(parts[i]):
        out.append(parts[i].title())
        i += 1
    if i < len(parts) and (
        (len(parts[i]) == 2 and _ALPHA.match(parts[i]))
        or (len(parts[i]) == 3 and _DIGIT.match(parts[i]))
    ):
        out.append(parts[i].upper())
        i += 1
    variants: set[str] = set()
    while i < len(parts) and _is_variant(parts[i]):
        if parts[i] in variants:
            raise InvalidTag(f"variant {parts[i]!r} appears twice")
        variants.add(parts[i])
        out.append(parts[i])
        i += 1
    singletons: set[str] = set()
    while i < len(parts) and len(parts[i]) == 1 and parts[i] != "x":
        singleton = parts[i]
        if singleton in singletons:
            raise InvalidTag(f"extension {singleton!r} appears twice")
        singletons.add(singleton)
        start = i
        i += 1
        while i < len(parts) and 2 <= len(parts[i]) <= 8:
            i += 1
        if i == start + 1:
            raise InvalidTag(f"extension {singleton!r} has no subtag")
        out.extend(parts[start:i])
    if i < len(parts) and parts[i] == "x":
        out.extend(_private_use(parts, i))
        i = len(parts)
    if i < len(parts):
        raise InvalidTag(f"unexpected subtag {parts[i]!r}")
    return "-".join(out)


def is_valid_tag(tag: str) -> bool:
    try:
        canonical_tag(tag)
    except InvalidTag:
        return False
    return True


def _language(part: str) -> str:
    if not _ALPHA.match(part) or not (2 <= len(part) <= 3):
        raise InvalidTag(f"the language subtag {part!r} must be 2 or 3 letters (ISO 639)")
    return part


def _is_variant(part: str) -> bool:
    return (5 <= len(part) <= 8) or (len(part) == 4 and part[0].isdigit())


def _private_use(parts: list[str], start: int) -> list[str]:
    rest = parts[start + 1 :]
    if not rest or any(len(p) > 8 for p in rest):
        raise InvalidTag("a private-use part 'x-' needs subtags of 1 to 8 characters")
    return parts[start:]
