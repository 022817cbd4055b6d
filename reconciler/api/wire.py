"""What the client sends a request over: a *wire*, and how a wire fails.

``PortalClient`` speaks in requests and ``Answer`` objects; a wire carries one request and
brings back the whole answer. Two wires exist:

* ``httpwire.HttpxWire``: HTTP through httpx (a real portal, ``portalctl sandbox serve``, and
  the tests' ASGI transport); it imports httpx and needs an asyncio event loop.
* the embedded sandbox's in-process wire (``reconciler.sandbox.wire``, wired in by the CLI):
  it calls the sandbox's handlers directly, with no HTTP, no httpx and no event loop, so
  ``portalctl plan`` on the default target starts without importing either.

This module imports neither httpx nor asyncio: it is what both sides agree on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

#: Why an exchange failed when the connection went away mid-answer (both wires say it so).
DROPPED = "the connection was dropped before a complete response"

#: A multipart file: (file name, bytes, content type), keyed by form field.
Files = Mapping[str, tuple[str, bytes, str]]


class TransportFailure(Exception):
    """No complete answer came back. ``sent``: the request may have reached the server
    (a write must then not be resent blindly); False when it certainly did not leave."""

    def __init__(self, reason: str, *, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class AnswerTooLarge(Exception):
    """The answer is over ``Bounds.max_bytes``: declared so (``declared``) or found so."""

    def __init__(self, declared: int | None) -> None:
        super().__init__(declared)
        self.declared = declared


class UndecodableAnswer(Exception):
    """The answer's body could not be decoded (its Content-Encoding)."""


class RawAnswer:
    """A whole answer as a wire returns it; header names lower-case."""

    __slots__ = ("content", "headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: Mapping[str, str], content: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.content = content


class Outgoing:
    """One request to send: ``path`` relative to the wire's base URL, or absolute; at most
    ``max_bytes`` of answer, all of it within ``deadline`` seconds."""

    __slots__ = ("content", "deadline", "files", "headers", "max_bytes", "method", "path")

    def __init__(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        *,
        content: bytes | None = None,
        files: Files | None = None,
        max_bytes: int,
        deadline: float,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.content = content
        self.files = files
        self.max_bytes = max_bytes
        self.deadline = deadline


class Wire(Protocol):
    """Carries requests to one base URL.

    ``send`` raises ``TransportFailure``, ``AnswerTooLarge``, ``UndecodableAnswer`` or
    ``TimeoutError`` (no complete answer within the deadline), nothing else for a failure
    of the exchange itself."""

    base_url: str

    async def send(self, out: Outgoing) -> RawAnswer: ...

    async def aclose(self) -> None: ...
