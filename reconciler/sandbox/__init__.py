"""The sandbox portal: a reference server implementing ``schemas/portal-api.openapi.yaml``.

It is the one fake of the portal API: the embedded target (served in-process through
httpx's ASGI transport), ``portalctl sandbox serve`` (uvicorn) and every test use it, and
schemathesis holds it to the contract. Core modules never import it; only the API client
(for the embedded target) and the ``sandbox`` command do, lazily.

This package's ``__init__`` stays light (no starlette import) so ``SANDBOX_KEY`` can be
read cheaply; ``create_app`` imports starlette on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.model import SANDBOX_KEY
from reconciler.sandbox.faults import Faults

if TYPE_CHECKING:
    from reconciler.sandbox.app import create_app

__all__ = ["SANDBOX_KEY", "Faults", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from reconciler.sandbox.app import create_app

        return create_app
    raise AttributeError(f"module 'reconciler.sandbox' has no attribute {name!r}")
