"""Recognise PNG and JPEG files by their bytes: type, width, height and transparency.

Only the headers are read (PNG: signature, IHDR and the chunks before IDAT; JPEG: markers
up to the first start-of-frame), so this is cheap and needs no imaging library. The file
name's extension is never trusted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"

#: PNG colour types that carry an alpha channel (greyscale+alpha, RGBA).
_PNG_ALPHA_COLOR_TYPES = frozenset({4, 6})
_PNG_COLOR_TYPES = frozenset({0, 2, 3, 4, 6})

#: JPEG start-of-frame markers (SOF0..SOF15 minus DHT, JPG and DAC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Markers without a length field.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})

#: Other formats people upload as a logo, named in the error message.
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x01\x00", "ICO"),
)


#: Sides a logo may declare, in pixels: the header shows it at about 200x50, so anything
#: past this is a mistake or a decompression bomb, and anything under it is invisible.
LOGO_MAX_SIDE = 4096
LOGO_MIN_SIDE = 8

#: The size the help article recommends (Step 2).
RECOMMENDED_LOGO = "200x50 px"


@dataclass(frozen=True)
class ImageInfo:
    """What the header says: ``content_type`` is ``image/png`` or ``image/jpeg``."""

    content_type: str
    width: int
    height: int
    has_alpha: bool


def dimension_problem(info: ImageInfo) -> str | None:
    """Why the declared size is not a usable logo (whatever its aspect ratio), or None."""
    largest, smallest = max(info.width, info.height), min(info.width, info.height)
    if largest > LOGO_MAX_SIDE:
        return f"a logo may be at most {LOGO_MAX_SIDE} px a side"
    if smallest < LOGO_MIN_SIDE:
        return f"a logo must be at least {LOGO_MIN_SIDE} px a side"
    return None


class NotAnImage(ValueError):
    """The bytes are not a PNG or JPEG we can read; ``str()`` says what they look like."""


def sniff_image(data: bytes) -> ImageInfo:
    """Identify ``data`` as PNG or JPEG and read its size; raise ``NotAnImage`` otherwise."""
    if data.startswith(PNG_SIGNATURE):
        return _png(data)
    if data.startswith(JPEG_SOI):
        return _jpeg(data)
    raise NotAnImage(f"is not a PNG or JPEG ({describe_format(data)})")


def describe_format(data: bytes) -> str:
    """A short guess of what ``data`` is, for error messages."""
    if not data:
        return "the file is empty"
    for magic, name in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"it looks like {name}"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "it looks like WebP"
    head = data[:512].lstrip()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096]:
        return "it looks like SVG"
    try:
        data[:512].decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "it looks like text"


def _png(data: bytes) -> ImageInfo:
    pos = len(PNG_SIGNATURE)
    header = data[pos : pos + 8 + 13]
    if len(header) < 21 or header[4:8] != b"IHDR" or struct.unpack(">I", header[:4])[0] != 13:
        raise NotAnImage("is not a valid PNG (missing or damaged IHDR header)")
    width, height, _depth, color_type = struct.unpack(">IIBB", header[8:18])
    if width == 0 or height == 0 or color_type not in _PNG_COLOR_TYPES:
        raise NotAnImage("is not a valid PNG (bad IHDR values)")
    has_alpha = color_type in _PNG_ALPHA_COLOR_TYPES
    pos += 8 + 13 + 4  # length + type + IHDR data + CRC
    # Transparency may also come from a tRNS chunk, which precedes the image data.
    while not has_alpha and pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        kind = data[pos + 4 : pos + 8]
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"tRNS":
            has_alpha = True
        pos += 12 + length
    return ImageInfo("image/png", width, height, has_alpha)


def _jpeg(data: bytes) -> ImageInfo:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise NotAnImage("is not a valid JPEG (damaged marker sequence)")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_STANDALONE:
            pos += 2
            continue
        if marker == 0xD9 or marker == 0xDA:  # EOI, or SOS before any frame header
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2:
            raise NotAnImage("is not a valid JPEG (bad segment length)")
        if marker in _JPEG_SOF:
            segment = data[pos + 4 : pos + 2 + length]
            if len(segment) < 5:
                break
            height, width = struct.unpack(">HH", segment[1:5])
            if width == 0 or height == 0:
                raise NotAnImage("is not a valid JPEG (zero width or height)")
            return ImageInfo("image/jpeg", width, height, has_alpha=False)
        pos += 2 + length
    raise NotAnImage("is not a valid JPEG (no frame header found)")
