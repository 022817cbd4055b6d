"""PNG/JPEG sniffing by magic bytes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from reconciler.images import ImageInfo, NotAnImage, sniff_image

ROOT = Path(__file__).resolve().parents[2]


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, color_type: int, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + extra
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xda\x00\x02" + b"\xff\xd9"


def test_example_logo_is_a_200x50_transparent_png() -> None:
    data = (ROOT / "examples" / "assets" / "logo.png").read_bytes()
    assert sniff_image(data) == ImageInfo("image/png", 200, 50, has_alpha=True)


@pytest.mark.parametrize(
    ("data", "info"),
    [
        (png(200, 50, 6), ImageInfo("image/png", 200, 50, True)),
        (png(10, 20, 4), ImageInfo("image/png", 10, 20, True)),
        (png(200, 50, 2), ImageInfo("image/png", 200, 50, False)),
        (
            png(8, 2, 3, chunk(b"PLTE", b"\0" * 3) + chunk(b"tRNS", b"\0")),
            ImageInfo("image/png", 8, 2, True),
        ),
        (jpeg(400, 100), ImageInfo("image/jpeg", 400, 100, False)),
    ],
)
def test_recognised(data: bytes, info: ImageInfo) -> None:
    assert sniff_image(data) == info


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is not a PNG or JPEG (the file is empty)"),
        (b"GIF89a\x01\x00", "is not a PNG or JPEG (it looks like GIF)"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "is not a PNG or JPEG (it looks like WebP)"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "is not a PNG or JPEG (it looks like SVG)",
        ),
        (b"root:x:0:0:root:/root:/bin/bash\n", "is not a PNG or JPEG (it looks like text)"),
        (b"\x89PNG\r\n\x1a\n\0\0", "is not a valid PNG (missing or damaged IHDR header)"),
        (png(0, 50, 6), "is not a valid PNG (bad IHDR values)"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "is not a valid JPEG (no frame header found)"),
        (b"\xff\xd8\xff\xd9", "is not a valid JPEG (no frame header found)"),
    ],
)
def test_refused(data: bytes, message: str) -> None:
    with pytest.raises(NotAnImage) as caught:
        sniff_image(data)
    assert str(caught.value) == message
