"""The portal API client: the only package that imports httpx.

Public surface: ``ApiSession`` (pools, retry policy), ``PortalClient`` (one portal),
``RetryPolicy`` and ``run_sync``. Paths and field names live in ``routes`` only.
"""

from __future__ import annotations

from reconciler.api.client import PortalClient
from reconciler.api.retry import RetryPolicy
from reconciler.api.session import ApiSession, run_sync

__all__ = ["ApiSession", "PortalClient", "RetryPolicy", "run_sync"]
