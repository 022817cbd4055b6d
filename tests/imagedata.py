"""Real, minimal images for tests: the sandbox and the spec read headers strictly, so a test
that uploads a logo needs a well-formed one."""

from __future__ import annotations

import struct
import zlib


def png(width: int = 200, height: int = 50) -> bytes:
    """A transparent RGBA PNG of ``width`` x ``height`` pixels (valid chunks and CRCs)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    raw = b"".join(b"\x00" + b"\x00" * (width * 4) for _ in range(height))
    idat = b"IDAT" + zlib.compress(raw)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", len(idat) - 4)
        + idat
        + struct.pack(">I", zlib.crc32(idat))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )


def jpeg(width: int, height: int) -> bytes:
    """A JPEG header with a JFIF segment and a baseline frame header (no scan data)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"
