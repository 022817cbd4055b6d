"""The starter files `portalctl init` writes ship in the wheel, not only in the checkout.

The wheel is built as pip builds it for users (isolated build, setuptools from PyPI).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from reconciler.scaffold import STARTER_FILES, starter_file

REPO = Path(__file__).resolve().parents[2]


def test_wheel_carries_every_starter_file(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as archive:
        for _, resource in STARTER_FILES:
            name = f"reconciler/scaffold/files/{resource}"
            assert archive.read(name) == starter_file(resource), name
        assert "reconciler/cli/init.py" in archive.namelist()
