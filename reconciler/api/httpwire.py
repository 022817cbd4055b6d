"""The HTTP wire: requests through an ``httpx.AsyncClient``; its failures in the client's terms.

This is where httpx meets the client: nothing above it sees an httpx type. A failure before
any byte left (connect, pool timeout) is a ``TransportFailure`` with ``sent=False``; any other
transport failure may have reached the server (``sent=True``).
"""

from __future__ import annotations

import asyncio

import httpx

from reconciler import logs
from reconciler.api.errors import quote_server
from reconciler.api.wire import (
    DROPPED,
    AnswerTooLarge,
    Outgoing,
    RawAnswer,
    TransportFailure,
    UndecodableAnswer,
)

#: What an ``HttpxWire`` sends through: the network (``pool.PooledTransport``) or a test's.
Transport = httpx.AsyncBaseTransport

#: Failures that happen before any byte of the request left: always safe to retry.
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def describe_transport_error(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting timed out after {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        reason = quote_server(str(exc)) or "connection failed"
        return f"connection failed ({reason})"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return DROPPED
    name = type(exc).__name__
    return f"{name}: {quote_server(str(exc))}" if str(exc) else name


class HttpxWire:
    """One ``httpx.AsyncClient`` (one connection pool) for one base URL."""

    def __init__(self, base_url: str, transport: Transport | None, *, timeout: float) -> None:
        logs.route_stdlib()  # httpx and httpcore log through stdlib logging
        self.base_url = base_url
        self._timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, out: Outgoing) -> RawAnswer:
        """One request and its whole answer, within its size cap and deadline."""
        built = self._http.build_request(
            out.method, out.path, headers=out.headers, content=out.content, files=out.files
        )
        max_bytes = out.max_bytes
        try:
            async with asyncio.timeout(out.deadline):
                response = await self._http.send(built, stream=True)
                try:
                    declared = response.headers.get("Content-Length", "").strip()
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise AnswerTooLarge(int(declared))
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise AnswerTooLarge(None)
                        chunks.append(chunk)
                finally:
                    await response.aclose()
        except httpx.TransportError as exc:
            reason = describe_transport_error(exc, self._timeout)
            raise TransportFailure(reason, sent=not isinstance(exc, NOT_SENT)) from exc
        except httpx.DecodingError:
            raise UndecodableAnswer() from None
        headers_out = {name.lower(): value for name, value in response.headers.items()}
        return RawAnswer(
            response.status_code, response.reason_phrase, headers_out, b"".join(chunks)
        )
