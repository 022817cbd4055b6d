"""The sandbox portal: a reference server implementing ``schemas/portal-api.openapi.yaml``.

It is the one fake of the portal API: the embedded target, ``portalctl sandbox serve``
(uvicorn) and every test use it, and schemathesis holds it to the contract. There is one
implementation, ``portal.SandboxPortal`` (framework-free), served two ways: over HTTP by the
Starlette app of ``create_app`` (a thin adapter), and in-process by the embedded target,
which calls ``SandboxPortal.handle`` directly (no HTTP client, no event loop machinery).
Core modules never import this package; only the CLI (the composition root, which wires
the embedded target in) and the ``sandbox`` command do, lazily.

This package's ``__init__`` stays light (no starlette import) so ``SANDBOX_KEY`` can be
read cheaply; ``create_app`` imports starlette on first use, ``open_portal`` never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.model import SANDBOX_KEY
from reconciler.sandbox.faults import Faults

if TYPE_CHECKING:
    from reconciler.sandbox.app import create_app
    from reconciler.sandbox.portal import open_portal

__all__ = ["SANDBOX_KEY", "Faults", "create_app", "open_portal"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from reconciler.sandbox.app import create_app

        return create_app
    if name == "open_portal":
        from reconciler.sandbox.portal import open_portal

        return open_portal
    raise AttributeError(f"module 'reconciler.sandbox' has no attribute {name!r}")
