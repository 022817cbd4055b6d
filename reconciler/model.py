"""Plain frozen dataclasses shared by every layer. No I/O, no third-party imports.

The desired side (``DesiredState``) is built by ``reconciler.spec`` from portal.yaml; the
live side (``LiveState``) by ``reconciler.api`` from the portal API. Both use the API's
field names, so the spec -> API mapping stays trivial (DESIGN.md "What the spec manages").

Ownership rule: what the spec names is managed; what it leaves out is left alone. So the
desired side only ever holds the fields the spec names: ``DesiredState.settings`` is a
partial tree, ``logo is None`` means "not managed", and ``RESET`` means "managed, and it
must be the portal's default".
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from typing import Any

# --- the portal's vocabulary (one source for the schema tests, lint and the sandbox) ------

#: Notification events whose email templates the portal keeps.
EVENTS: tuple[str, ...] = (
    "invoice_created",
    "payment_failed",
    "payment_succeeded",
    "subscription_canceled",
)

#: Events whose emails must carry the portal link (seed, Step 4).
LINKED_EVENTS: tuple[str, ...] = ("invoice_created", "payment_failed")

#: Self-service actions (seed, Step 3).
PERMISSIONS: tuple[str, ...] = (
    "update_payment_methods",
    "view_payment_history",
    "download_invoices",
    "cancel_subscription",
)

PORTAL_LINK_VARIABLE = "customer_portal_link"

#: Variables a template may use as ``{{name}}``.
TEMPLATE_VARIABLES: frozenset[str] = frozenset(
    {
        PORTAL_LINK_VARIABLE,
        "company_name",
        "customer_name",
        "customer_email",
        "invoice_number",
        "invoice_amount",
        "invoice_currency",
        "invoice_due_date",
        "invoice_url",
        "payment_amount",
        "payment_date",
        "card_brand",
        "card_last4",
        "failure_reason",
        "next_retry_date",
        "subscription_name",
        "cancellation_date",
    }
)

#: ``#RRGGBB``: the one pattern of a hex colour (the schema says the same to editors).
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: The key the embedded sandbox (and ``sandbox serve`` without ``--api-key``) accepts.
#: Public by design: it only ever opens a local sandbox portal.
SANDBOX_KEY = "sk_test_sandbox"


def normalise_newlines(text: str) -> str:
    """LF line endings (CRLF and lone CR become LF): how bodies are stored and compared."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- resource names: how plans, saved ETags and progress lines name what is written ----------

#: The settings singleton (enabled, branding, permissions).
SETTINGS_RESOURCE = "settings"
#: The logo; it lives inside the settings resource (its writes move the settings ETag).
LOGO_RESOURCE = "settings/logo"


def template_resource(event: str) -> str:
    """``templates/<event>``: one notification template."""
    return f"templates/{event}"


#: Logo limits from the seed (Step 2) and the API contract.
LOGO_MAX_BYTES = 512 * 1024
SUBJECT_MAX_CHARS = 128
BODY_MAX_BYTES = 64 * 1024
COMPANY_NAME_MAX_CHARS = 100


# --- diagnostics ---------------------------------------------------------------------------


class Origin:
    """Where a value came from: 1-based line and column in a file.

    Immutable, equal and hashed by value, ordered as the tuple (file, line, col): what
    ``@dataclass(frozen=True, order=True)`` would make, written out because the decorator
    compiles its ten methods at every start-up (~0.6 ms on Python 3.11) and every command
    that reads a spec needs this class. tests/unit/test_model.py holds the two to the same
    behaviour.
    """

    __match_args__ = ("file", "line", "col")
    file: str
    line: int
    col: int

    def __init__(self, file: str, line: int, col: int) -> None:
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "col", col)

    def _key(self) -> tuple[str, int, int]:
        return (self.file, self.line, self.col)

    def __repr__(self) -> str:
        return f"Origin(file={self.file!r}, line={self.line!r}, col={self.col!r})"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: Origin) -> bool:
        if other.__class__ is self.__class__:
            return self._key() < other._key()
        return NotImplemented

    def __le__(self, other: Origin) -> bool:
        if other.__class__ is self.__class__:
            return self._key() <= other._key()
        return NotImplemented

    def __gt__(self, other: Origin) -> bool:
        if other.__class__ is self.__class__:
            return self._key() > other._key()
        return NotImplemented

    def __ge__(self, other: Origin) -> bool:
        if other.__class__ is self.__class__:
            return self._key() >= other._key()
        return NotImplemented

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Severity(enum.Enum):
    """Diagnostic severity. Only errors fail ``validate`` (warnings too with --strict)."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "notice": 2}[self.value]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec, rendered GCC-style so editors and CI annotate it::

    portal.yaml:14:5: error: portal.branding.primary_color: "#12345" is not a hex
    colour; write #RRGGBB, e.g. "#1662DD" [schema]
    """

    rule: str
    severity: Severity
    origin: Origin
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        text = f"{self.origin}: {self.severity.value}: {where}{self.message}"
        if self.hint:
            text += f"; {self.hint}"
        return f"{text} [{self.rule}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.origin.file,
            "line": self.origin.line,
            "col": self.origin.col,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


# --- secrets and targets -------------------------------------------------------------------


class Secret:
    """An API key. ``str``/``repr`` never show it; only ``reveal()`` does, at the wire."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class TargetSpec:
    """The optional ``target:`` block of a spec: where, and the NAME of the key variable."""

    api_url: str | None = None
    api_key_env: str | None = None


@dataclass(frozen=True)
class Target:
    """A resolved portal to talk to. ``url is None`` means the embedded sandbox."""

    url: str | None
    api_key: Secret = field(repr=False)
    sandbox_db: Path | None = None
    insecure: bool = False
    #: NAME of the environment variable the key came from (for messages), if any.
    api_key_env: str | None = None
    #: The embedded sandbox, reached because no URL was set anywhere (not chosen on purpose).
    implicit: bool = False

    @property
    def is_sandbox(self) -> bool:
        return self.url is None

    def describe(self) -> str:
        """What every command announces, e.g. ``https://api.4geeks.io``."""
        if self.url is None:
            return f"embedded sandbox ({self.sandbox_db})"
        return self.url


# --- the desired side ----------------------------------------------------------------------


class ResetToDefault:
    """Managed, and must be the portal's default (``logo: null``, ``payment_failed: default``).

    A marker without fields (use ``RESET``), behaving as the ``@dataclass(frozen=True)`` it
    was: every instance equal and hashed alike, no attribute settable. Written out because
    the decorator compiled six methods at every start-up for a class that holds nothing.
    """

    __match_args__ = ()

    def __repr__(self) -> str:
        return "RESET"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return True
        return NotImplemented

    def __hash__(self) -> int:
        return hash(())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


RESET = ResetToDefault()


@dataclass(frozen=True)
class LocalFile:
    """A file the spec points at; ``path`` is as written (POSIX, relative to the spec)."""

    path: str
    abs_path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class DesiredLogo:
    """The logo as the spec wants it: its file, content type and pixel size (``None`` when
    a saved plan does not record it)."""

    file: LocalFile
    content_type: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class DesiredTemplate:
    """A template as the spec wants it; ``body`` already read from ``body_file`` if any.

    ``body`` is normalised: LF line endings. ``body_file`` is None for an inline body.
    """

    event: str
    subject: str
    body: str
    body_file: LocalFile | None = None


@dataclass(frozen=True)
class DesiredTranslation:
    """A translation of an event's template as the spec wants it (``locales.<tag>``).

    ``locale`` is the canonical BCP 47 tag (``pt-BR``); ``body`` normalised like a template's.
    """

    event: str
    locale: str
    subject: str
    body: str
    body_file: LocalFile | None = None


def translation_resource(event: str, locale: str) -> str:
    """Resource name of a translation in plans, ETag maps and errors."""
    return f"templates/{event}/locales/{locale}"


@dataclass(frozen=True)
class DesiredState:
    """What portal.yaml asks for: only the fields it names (ownership rule).

    ``settings`` mirrors the API's settings body, partially: e.g.
    ``{"enabled": True, "branding": {"primary_color": "#1662dd"}}``. Colours are
    lowercase. ``origins`` maps dotted spec paths (``portal.branding.primary_color``) to
    where they were written, so plans and errors can point at the source line.
    """

    spec_path: Path
    settings: Mapping[str, Any]
    logo: DesiredLogo | ResetToDefault | None = None
    templates: Mapping[str, DesiredTemplate | ResetToDefault] = field(default_factory=dict)
    target: TargetSpec | None = None
    origins: Mapping[str, Origin] = field(default_factory=dict)
    #: The spec files this state was merged from: the spec first, then the base it
    #: ``extends``, then that base's base... (just ``(spec_path,)`` without ``extends``).
    sources: tuple[Path, ...] = ()
    #: event -> canonical tag -> translation, or RESET (``es: default``: remove it). A
    #: language absent is left alone (ownership rule).
    translations: Mapping[str, Mapping[str, DesiredTranslation | ResetToDefault]] = field(
        default_factory=dict
    )

    @property
    def files(self) -> dict[str, str]:
        """Every local file used, relative path -> sha256 (recorded in plan files)."""
        out: dict[str, str] = {}
        if isinstance(self.logo, DesiredLogo):
            out[self.logo.file.path] = self.logo.file.sha256
        for tpl in self.templates.values():
            if isinstance(tpl, DesiredTemplate) and tpl.body_file is not None:
                out[tpl.body_file.path] = tpl.body_file.sha256
        for locales in self.translations.values():
            for tr in locales.values():
                if isinstance(tr, DesiredTranslation) and tr.body_file is not None:
                    out[tr.body_file.path] = tr.body_file.sha256
        return out


# --- the live side -------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveTranslation:
    """A translation of an event's template as the portal has it, with its ETag."""

    event: str
    locale: str
    subject: str
    body: str
    etag: str


@dataclass(frozen=True)
class LiveTemplate:
    """A notification template as the portal has it; ``is_default``: the portal's own
    default content."""

    event: str
    subject: str
    body: str
    is_default: bool
    etag: str
    #: canonical tag -> translation, as listed with the template.
    locales: Mapping[str, LiveTranslation] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveState:
    """The portal as read in one round trip. ``settings`` is the API body, read-only
    fields included (``portal_url``, ``updated_at``, ``branding.logo`` metadata)."""

    settings: Mapping[str, Any]
    settings_etag: str
    templates: Mapping[str, LiveTemplate]

    @property
    def logo(self) -> Mapping[str, Any] | None:
        branding = self.settings.get("branding") or {}
        logo = branding.get("logo")
        return logo if isinstance(logo, Mapping) else None

    def etags(self) -> dict[str, str]:
        """resource name -> ETag, as recorded in a saved plan."""
        out = {SETTINGS_RESOURCE: self.settings_etag}
        for event, tpl in sorted(self.templates.items()):
            out[template_resource(event)] = tpl.etag
            for tag, tr in sorted(tpl.locales.items()):
                out[translation_resource(event, tag)] = tr.etag
        return out
