"""Content rules of the sandbox: image sniffing."""

from __future__ import annotations

import struct

import pytest

from reconciler.sandbox.content import Problem, sniff_image


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def test_jpeg_dimensions() -> None:
    assert sniff_image(jpeg(320, 80)) == ("image/jpeg", 320, 80)


def test_png_without_ihdr_has_no_dimensions() -> None:
    assert sniff_image(b"\x89PNG\r\n\x1a\n") == ("image/png", None, None)


@pytest.mark.parametrize(
    ("data", "code"), [(b"", "invalid_image"), (b"<svg/>", "unsupported_image_type")]
)
def test_rejected_images(data: bytes, code: str) -> None:
    with pytest.raises(Problem) as info:
        sniff_image(data)
    assert (info.value.status, info.value.code, info.value.param) == (422, code, "file")
