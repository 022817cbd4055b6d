"""The one exception tree of portalctl.

Every failure a user can cause or meet is a ``ReconcilerError``; anything else is a bug
and reaches the user as exit 1 with a traceback only under ``--debug``::

    ReconcilerError                      exit 1   root; ``hint`` says what to do next
    ├── UsageError                       exit 3   bad flags / arguments / combinations
    ├── SpecError                        exit 3   portal.yaml is invalid (carries diagnostics)
    ├── ConflictError                    exit 4   someone else changed what we read
    │   ├── StalePlanError               exit 4   a saved plan's ETag or file hash moved
    │   └── PreconditionFailed           exit 4   HTTP 412 (also an ApiError)
    ├── PartialApplyError                exit 5   apply stopped part way
    └── ApiError                         exit 1   the portal API answered with an error
        ├── ApiUnreachable               exit 6   DNS, connect, TLS, timeout, dropped connection,
        │   │                                     a 5xx that persisted, an answer over its deadline
        │   └── WriteOutcomeUnknown      exit 6   a write's answer lost: applied or not, unknown
        ├── MalformedAnswer              exit 6   an answer too big, too deep or off the contract
        ├── ApiAuthError                 exit 6   401 / 403
        ├── ApiRejected                  exit 3   422 / 400: the server refused a value
        ├── PreconditionFailed           exit 4   412 (see above)
        └── RateLimited                  exit 6   429 after the retry budget ran out

``InternalError`` (exit 1) is NOT a ``ReconcilerError``: it wraps a bug met on one portal of
a run, so the other portals finish while the bug is still reported as a bug.

Subclasses carry structured fields and build their message from them, so a message always
says what happened, where, and what to do. No message ever contains an API key: callers
pass ``Secret`` objects, never raw keys (see ``model.Secret``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.model import Diagnostic


class ExitCode:
    """Documented process exit codes (README "Exit codes")."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    INVALID = 3
    CONFLICT = 4
    PARTIAL = 5
    UNREACHABLE = 6


class ReconcilerError(Exception):
    """Root of every expected failure. ``str(err)`` is the one-line user message."""

    exit_code: int = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class UsageError(ReconcilerError):
    """The command line itself is wrong (unknown flag, missing file, bad combination)."""

    exit_code = ExitCode.INVALID


class SpecError(ReconcilerError):
    """portal.yaml failed loading, schema validation or an error-level lint rule.

    ``diagnostics`` holds every problem found (errors first, most useful first); the
    message is the first one, so a one-line report is still exact.
    """

    exit_code = ExitCode.INVALID

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        if not diagnostics:
            raise ValueError("SpecError needs at least one diagnostic")
        self.diagnostics = tuple(diagnostics)
        first = str(self.diagnostics[0])
        more = len(self.diagnostics) - 1
        super().__init__(first if not more else f"{first} (and {more} more)")

    def __str__(self) -> str:
        return self.message


class ConflictError(ReconcilerError):
    """What we read has changed under us; ``resource`` names it (e.g. ``settings``)."""

    exit_code = ExitCode.CONFLICT

    def __init__(self, message: str, *, resource: str, hint: str | None = None) -> None:
        self.resource = resource
        super().__init__(
            message,
            hint=hint or "run `portalctl plan` again, review the new plan, then apply it",
        )


class StalePlanError(ConflictError):
    """A saved plan no longer matches the portal or the files it was made from."""


class PartialApplyError(ReconcilerError):
    """Apply stopped part way. ``applied`` and ``not_applied`` are change titles."""

    exit_code = ExitCode.PARTIAL

    def __init__(
        self,
        cause: ReconcilerError,
        *,
        applied: Sequence[str],
        not_applied: Sequence[str],
    ) -> None:
        self.cause = cause
        self.applied = tuple(applied)
        self.not_applied = tuple(not_applied)
        super().__init__(
            f"apply stopped after {len(self.applied)} of "
            f"{len(self.applied) + len(self.not_applied)} changes: {cause}",
            hint="fix the cause and run `portalctl apply` again; the next plan shows exactly "
            "what is left",
        )


class InternalError(Exception):
    """A bug (an unexpected exception) met while working on one portal of a run.

    Not a ``ReconcilerError``: it is no user mistake. Wrapping it lets the other portals
    finish; the message still says it is a bug, and ``original`` keeps the exception for the
    debug log."""

    exit_code: int = ExitCode.ERROR

    def __init__(self, original: BaseException) -> None:
        self.original = original
        self.message = f"internal error: {type(original).__name__}: {original}"
        self.hint = "run with --log-level debug for a traceback, and please report it"
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}"


class ApiError(ReconcilerError):
    """The portal API answered with an error (problem+json fields kept when present)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        if request_id:
            message = f"{message} (request {request_id})"
        # Explicit base call: PreconditionFailed is also a ConflictError (diamond).
        ReconcilerError.__init__(self, message, hint=hint)


class ApiUnreachable(ApiError):
    """The API could not be reached or the connection failed before an answer."""

    exit_code = ExitCode.UNREACHABLE


class WriteOutcomeUnknown(ApiUnreachable):
    """The answer to a write was lost and a re-read could not tell whether it was applied.

    ``request`` names the write (``PATCH /v1/portal/settings``). Callers test the type, never
    the message, to say "no OTHER change was written" instead of "nothing was written"."""

    def __init__(self, message: str, *, request: str, hint: str | None = None) -> None:
        self.request = request
        super().__init__(message, hint=hint)


class MalformedAnswer(ApiError):
    """The API answered 2xx with something the client refuses to use: over the size cap, nested
    too deeply, not JSON, or not the contract's shape. ``request`` names the request
    (``GET /v1/portal/settings``), ``field`` the offending field when there is one."""

    exit_code = ExitCode.UNREACHABLE

    def __init__(
        self,
        message: str,
        *,
        request: str,
        field: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.request = request
        self.field = field
        super().__init__(message, status=status, request_id=request_id, hint=hint)


class ApiAuthError(ApiError):
    """401 or 403: the key is missing, wrong, or lacks access."""

    exit_code = ExitCode.UNREACHABLE


class ApiRejected(ApiError):
    """400 / 422: the server refused a value; ``param`` names the field."""

    exit_code = ExitCode.INVALID


class RateLimited(ApiError):
    """429 persisted beyond the retry budget."""

    exit_code = ExitCode.UNREACHABLE


class PreconditionFailed(ApiError, ConflictError):
    """412: the resource's ETag moved since we read it."""

    exit_code = ExitCode.CONFLICT

    def __init__(
        self,
        message: str,
        *,
        resource: str,
        status: int | None = 412,
        code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.resource = resource
        ApiError.__init__(
            self,
            message,
            status=status,
            code=code,
            param=param,
            request_id=request_id,
            hint=hint or "someone else changed it; run `portalctl plan` again, review, then apply",
        )
