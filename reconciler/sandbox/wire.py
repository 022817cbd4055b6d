"""The embedded sandbox's wire: the client's requests handed to ``SandboxPortal.handle``
in-process, with no HTTP, no httpx and no event loop (``reconciler.api.wire``).

The answers are the sandbox's own, byte for byte what it sends over HTTP (the same handlers
build them; ``tests/unit/sandbox`` holds the two front ends to that), and its failures are the
client's usual ones: a dropped connection (the ``drop`` fault) is a ``TransportFailure`` that
may have been applied, an answer over the size cap is ``AnswerTooLarge``, one that took longer
than the deadline (the ``latency`` fault) is a ``TimeoutError``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from reconciler.api.routes import same_origin
from reconciler.api.session import SANDBOX_BASE_URL
from reconciler.api.wire import DROPPED, AnswerTooLarge, Outgoing, RawAnswer, TransportFailure
from reconciler.sandbox.portal import Dropped, PortalRequest, SandboxPortal, Upload


class InProcessWire:
    """Requests to one embedded portal, answered by calling it."""

    def __init__(self, portal: SandboxPortal, base_url: str = SANDBOX_BASE_URL) -> None:
        self.portal = portal
        self.base_url = base_url

    async def aclose(self) -> None:
        """Nothing to close: the portal's store is closed by its owner."""

    async def send(self, out: Outgoing) -> RawAnswer:
        parts = urlsplit(out.path)
        if (parts.scheme or parts.netloc) and not same_origin(out.path, self.base_url):
            where = f"{parts.scheme}://{parts.netloc}"
            raise TransportFailure(f"{where} is not the embedded sandbox", sent=False)
        sent = {name.lower(): value for name, value in out.headers.items()}
        form = None
        if out.files is not None:
            uploads = {
                field: Upload(filename=name, content_type=kind, data=data)
                for field, (name, data, kind) in out.files.items()
            }
            sent["content-type"] = "multipart/form-data"

            async def form() -> Mapping[str, Upload]:
                return uploads

        request = PortalRequest(
            method=out.method,
            path=parts.path or "/",
            headers=sent,
            body=out.content or b"",
            form=form,
            base_url=self.base_url,
        )
        started = time.monotonic()
        try:
            response = await self.portal.handle(request)
        except Dropped:
            raise TransportFailure(DROPPED, sent=True) from None
        if time.monotonic() - started > out.deadline:
            raise TimeoutError
        answer_headers: dict[str, str] = {}
        for name, value in response.headers:
            key = name.lower()
            seen = answer_headers.get(key)
            answer_headers[key] = value if seen is None else f"{seen}, {value}"
        declared = answer_headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > out.max_bytes:
            raise AnswerTooLarge(int(declared))
        if len(response.body) > out.max_bytes:
            raise AnswerTooLarge(None)
        return RawAnswer(response.status, response.reason, answer_headers, response.body)
