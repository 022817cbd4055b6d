"""Content rules of the sandbox: image sniffing."""

from __future__ import annotations

import pytest

from reconciler.sandbox.content import Problem, sniff_image
from tests.imagedata import jpeg, png


def test_jpeg_dimensions() -> None:
    assert sniff_image(jpeg(320, 80)) == ("image/jpeg", 320, 80)


def test_png_dimensions() -> None:
    assert sniff_image(png(200, 50)) == ("image/png", 200, 50)


def test_png_without_its_header_is_refused() -> None:
    """The server reads logos with the same strict header reader as the spec's lint."""
    with pytest.raises(Problem) as info:
        sniff_image(b"\x89PNG\r\n\x1a\n")
    assert info.value.code == "invalid_image"
    assert str(info.value) == (
        "the logo must be a PNG or JPEG image: it is not a valid PNG (missing or damaged IHDR "
        "header)"
    )


@pytest.mark.parametrize(
    ("data", "code"), [(b"", "invalid_image"), (b"<svg/>", "unsupported_image_type")]
)
def test_rejected_images(data: bytes, code: str) -> None:
    with pytest.raises(Problem) as info:
        sniff_image(data)
    assert (info.value.status, info.value.code, info.value.param) == (422, code, "file")
