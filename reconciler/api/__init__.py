"""The portal API client: the only package that imports httpx.

Public surface: ``ApiSession`` (wires, retry policy, runtime), ``PortalClient`` (one portal)
and ``RetryPolicy``; ``runtime.ASYNCIO``/``runtime.INLINE`` run the coroutines. Paths and
field names live in ``routes`` only.

Importing the package is cheap: the names above load on first use, so that a module of the
package (``wire``, ``routes``, ``shapes``) can be imported without the client, and the client
without httpx (only ``httpwire`` and ``pool`` import it, when a portal is reached over HTTP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.api.client import PortalClient
    from reconciler.api.retry import RetryPolicy
    from reconciler.api.session import ApiSession

__all__ = ["ApiSession", "PortalClient", "RetryPolicy"]

_HOMES = {
    "ApiSession": "reconciler.api.session",
    "PortalClient": "reconciler.api.client",
    "RetryPolicy": "reconciler.api.retry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'reconciler.api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
