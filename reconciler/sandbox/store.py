"""SQLite persistence of the sandbox: one portal per accepted API key (by its hash).

Durability: WAL journal, one ``BEGIN IMMEDIATE`` transaction per write, committed before
the response is sent. ``synchronous=NORMAL`` is enough for the guarantee the sandbox
makes (a SIGKILL of the server loses no acknowledged write: committed WAL frames are in
the OS page cache); only a power cut could lose the last commits.

Conditional writes (If-Match) are compare-and-swap: ``update_settings``, ``update_template``
and ``update_locale`` (a translation) read the current row, let the caller check it and
decide, and write, all inside that one transaction. Several apps (processes) may share the
file: the write lock serialises them and ``busy_timeout`` makes a second writer wait for it,
not fail.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.model import EVENTS
from reconciler.sandbox.content import default_template, new_settings

PORTAL_URL_PREFIX = "https://billing.4geeks.io/p/"
#: How long a writer waits for another connection's write transaction before giving up.
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS portals (
    tenant      TEXT PRIMARY KEY,   -- sha256 of the API key (never the key)
    mode        TEXT NOT NULL,      -- test | live
    created_at  TEXT NOT NULL,
    portal_url  TEXT UNIQUE,
    settings    TEXT NOT NULL       -- JSON, the stored settings representation
);
CREATE TABLE IF NOT EXISTS templates (
    tenant      TEXT NOT NULL REFERENCES portals(tenant),
    event       TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    is_default  INTEGER NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, event)
);
CREATE TABLE IF NOT EXISTS template_locales (
    tenant      TEXT NOT NULL REFERENCES portals(tenant),
    event       TEXT NOT NULL,
    locale      TEXT NOT NULL,      -- canonical BCP 47 tag (pt-BR)
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, event, locale)
);
CREATE TABLE IF NOT EXISTS logos (
    tenant       TEXT NOT NULL REFERENCES portals(tenant),
    sha256       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    PRIMARY KEY (tenant, sha256)
);
"""


def _now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _later_than(previous: str | None) -> str:
    """Now, but strictly after ``previous`` (so every change moves the ETag)."""
    moment = _now()
    if previous:
        before = datetime.fromisoformat(previous.replace("Z", "+00:00"))
        if moment <= before:
            moment = before + timedelta(microseconds=1)
    return rfc3339(moment)


@dataclass(frozen=True)
class SettingsWrite:
    """What an ``update_settings`` decision stores: new settings, and a logo blob if any."""

    settings: dict[str, Any]
    logo_blob: tuple[str, str, bytes] | None = None


@dataclass(frozen=True)
class TemplateWrite:
    """What an ``update_template`` decision stores for the event."""

    subject: str
    body: str
    is_default: bool


@dataclass(frozen=True)
class LocaleWrite:
    """What an ``update_locale`` decision stores: the translation's new content."""

    subject: str
    body: str


@dataclass(frozen=True)
class LocaleDelete:
    """An ``update_locale`` decision to remove the translation."""


class Store:
    """The sandbox database. One caller at a time (an event loop, or one in-process caller);
    not thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path),
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        with self._tx():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- portals / settings ---------------------------------------------------------------

    def settings(self, tenant: str, mode: str) -> dict[str, Any]:
        """The stored settings of ``tenant``'s portal, created with defaults if new."""
        row = self._db.execute(
            "SELECT settings FROM portals WHERE tenant = ?", (tenant,)
        ).fetchone()
        if row is not None:
            return dict(json.loads(row[0]))
        with self._tx() as db:
            return self._settings_in(db, tenant, mode)

    @staticmethod
    def _settings_in(db: sqlite3.Connection, tenant: str, mode: str) -> dict[str, Any]:
        """``settings`` inside the caller's write transaction."""
        row = db.execute("SELECT settings FROM portals WHERE tenant = ?", (tenant,)).fetchone()
        if row is not None:
            return dict(json.loads(row[0]))
        created = rfc3339(_now())
        stored = new_settings()
        stored["updated_at"] = created
        db.execute(
            "INSERT INTO portals (tenant, mode, created_at, settings) VALUES (?, ?, ?, ?)",
            (tenant, mode, created, json.dumps(stored)),
        )
        return stored

    def update_settings(
        self,
        tenant: str,
        mode: str,
        decide: Callable[[dict[str, Any]], SettingsWrite | None],
    ) -> dict[str, Any]:
        """Compare-and-swap of ``tenant``'s settings in one write transaction.

        ``decide`` gets (a copy of) the current stored settings, the portal created with
        defaults if new; it checks them (e.g. against If-Match) and returns what to store,
        or ``None`` to store nothing. Whatever it raises rolls everything back. No other
        writer, in this process or another, can commit between the read and the write.
        Returns the stored settings (the current ones when nothing was written).
        """
        self.settings(tenant, mode)  # a new portal is kept even when this write fails
        with self._tx() as db:
            current = self._settings_in(db, tenant, mode)
            decision = decide(json.loads(json.dumps(current)))
            if decision is None:
                return current
            return self._write_settings(db, tenant, decision.settings, decision.logo_blob)

    def save_settings(
        self,
        tenant: str,
        settings: dict[str, Any],
        *,
        logo_blob: tuple[str, str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Store new settings (one transaction, with the logo blob if given).

        Sets ``updated_at``; generates the portal URL the first time the portal is enabled
        and keeps it afterwards. Returns the stored settings.
        """
        with self._tx() as db:
            return self._write_settings(db, tenant, settings, logo_blob)

    def _write_settings(
        self,
        db: sqlite3.Connection,
        tenant: str,
        settings: dict[str, Any],
        logo_blob: tuple[str, str, bytes] | None,
    ) -> dict[str, Any]:
        """``save_settings`` inside the caller's write transaction."""
        row = db.execute(
            "SELECT settings, portal_url FROM portals WHERE tenant = ?", (tenant,)
        ).fetchone()
        if row is None:
            raise KeyError(tenant)
        previous = json.loads(row[0])
        stored = dict(settings)
        portal_url = row[1]
        if stored.get("enabled") and portal_url is None:
            portal_url = self._new_portal_url(db)
        stored["portal_url"] = portal_url
        stored["updated_at"] = _later_than(previous.get("updated_at"))
        if logo_blob is not None:
            sha, content_type, data = logo_blob
            db.execute(
                "INSERT OR IGNORE INTO logos (tenant, sha256, content_type, data) "
                "VALUES (?, ?, ?, ?)",
                (tenant, sha, content_type, data),
            )
        db.execute(
            "UPDATE portals SET settings = ?, portal_url = ? WHERE tenant = ?",
            (json.dumps(stored), portal_url, tenant),
        )
        return stored

    @staticmethod
    def _new_portal_url(db: sqlite3.Connection) -> str:
        alphabet = string.ascii_lowercase + string.digits
        while True:
            url = PORTAL_URL_PREFIX + "".join(secrets.choice(alphabet) for _ in range(16))
            taken = db.execute("SELECT 1 FROM portals WHERE portal_url = ?", (url,)).fetchone()
            if not taken:
                return url

    def logo_blob(self, tenant: str, sha: str) -> tuple[str, bytes] | None:
        row = self._db.execute(
            "SELECT content_type, data FROM logos WHERE tenant = ? AND sha256 = ?", (tenant, sha)
        ).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    # --- templates ------------------------------------------------------------------------

    def templates(self, tenant: str, mode: str) -> list[dict[str, Any]]:
        """Every event's template, in ``model.EVENTS`` order (defaults synthesised)."""
        self.settings(tenant, mode)
        created = self._created_at(tenant)
        rows = {
            r[0]: r
            for r in self._db.execute(
                "SELECT event, subject, body, is_default, updated_at FROM templates "
                "WHERE tenant = ?",
                (tenant,),
            )
        }
        return [_stored_template(event, rows.get(event), created) for event in EVENTS]

    def template(self, tenant: str, mode: str, event: str) -> dict[str, Any]:
        return next(t for t in self.templates(tenant, mode) if t["event"] == event)

    def update_template(
        self,
        tenant: str,
        mode: str,
        event: str,
        decide: Callable[[dict[str, Any]], TemplateWrite | None],
    ) -> dict[str, Any]:
        """Compare-and-swap of ``event``'s template in one write transaction.

        Like ``update_settings``: ``decide`` gets the current template (the default if
        never customised) and returns what to store, or ``None``; what it raises rolls
        back. Returns the stored template (the current one when nothing was written).
        """
        self.settings(tenant, mode)  # a new portal is kept even when this write fails
        with self._tx() as db:
            created = self._created_at(tenant)
            row = db.execute(
                "SELECT event, subject, body, is_default, updated_at FROM templates "
                "WHERE tenant = ? AND event = ?",
                (tenant, event),
            ).fetchone()
            current = _stored_template(event, row, created)
            decision = decide(dict(current))
            if decision is None:
                return current
            return self._write_template(db, tenant, event, decision, previous=current["updated_at"])

    def save_template(
        self, tenant: str, event: str, subject: str, body: str, *, is_default: bool, previous: str
    ) -> dict[str, Any]:
        with self._tx() as db:
            return self._write_template(
                db, tenant, event, TemplateWrite(subject, body, is_default), previous=previous
            )

    @staticmethod
    def _write_template(
        db: sqlite3.Connection, tenant: str, event: str, write: TemplateWrite, *, previous: str
    ) -> dict[str, Any]:
        updated = _later_than(previous)
        db.execute(
            "INSERT INTO templates (tenant, event, subject, body, is_default, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, event) DO UPDATE SET "
            "subject = excluded.subject, body = excluded.body, "
            "is_default = excluded.is_default, updated_at = excluded.updated_at",
            (tenant, event, write.subject, write.body, int(write.is_default), updated),
        )
        return _template(event, write.subject, write.body, write.is_default, updated)

    # --- translations of templates ------------------------------------------------------

    def locales(self, tenant: str, mode: str, event: str | None = None) -> list[dict[str, Any]]:
        """Stored translations (of ``event``, or of every event), by event then tag."""
        self.settings(tenant, mode)
        query = "SELECT event, locale, subject, body, updated_at FROM template_locales "
        query += "WHERE tenant = ?" + (" AND event = ?" if event is not None else "")
        args: tuple[str, ...] = (tenant,) if event is None else (tenant, event)
        rows = sorted(self._db.execute(query, args).fetchall(), key=lambda r: (r[0], r[1]))
        return [_locale(*row) for row in rows]

    def update_locale(
        self,
        tenant: str,
        mode: str,
        event: str,
        locale: str,
        decide: Callable[[dict[str, Any] | None], LocaleWrite | LocaleDelete | None],
    ) -> dict[str, Any] | None:
        """Compare-and-swap of one translation in one write transaction.

        ``decide`` gets the current translation (``None`` when there is none) and returns
        what to store, ``LocaleDelete()`` to remove it, or ``None`` to leave it; what it
        raises rolls back. Returns the translation as stored afterwards (``None``: absent).
        """
        self.settings(tenant, mode)
        with self._tx() as db:
            row = db.execute(
                "SELECT event, locale, subject, body, updated_at FROM template_locales "
                "WHERE tenant = ? AND event = ? AND locale = ?",
                (tenant, event, locale),
            ).fetchone()
            current = None if row is None else _locale(*row)
            decision = decide(None if current is None else dict(current))
            if decision is None:
                return current
            if isinstance(decision, LocaleDelete):
                db.execute(
                    "DELETE FROM template_locales WHERE tenant = ? AND event = ? AND locale = ?",
                    (tenant, event, locale),
                )
                return None
            updated = _later_than(None if current is None else current["updated_at"])
            db.execute(
                "INSERT INTO template_locales (tenant, event, locale, subject, body, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, event, locale) DO UPDATE SET "
                "subject = excluded.subject, body = excluded.body, "
                "updated_at = excluded.updated_at",
                (tenant, event, locale, decision.subject, decision.body, updated),
            )
            return _locale(event, locale, decision.subject, decision.body, updated)

    def count_locales(self, tenant: str, event: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM template_locales WHERE tenant = ? AND event = ?",
            (tenant, event),
        ).fetchone()
        return int(row[0])

    def _created_at(self, tenant: str) -> str:
        row = self._db.execute(
            "SELECT created_at FROM portals WHERE tenant = ?", (tenant,)
        ).fetchone()
        return str(row[0])

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _stored_template(event: str, row: tuple[Any, ...] | None, created: str) -> dict[str, Any]:
    """The template of ``event`` from its row (or the default when there is none)."""
    if row is None:
        subject, body = default_template(event)
        return _template(event, subject, body, True, created)
    return _template(event, row[1], row[2], bool(row[3]), row[4])


def _template(
    event: str, subject: str, body: str, is_default: bool, updated: str
) -> dict[str, Any]:
    return {
        "event": event,
        "subject": subject,
        "body": body,
        "is_default": is_default,
        "updated_at": updated,
    }


def _locale(event: str, locale: str, subject: str, body: str, updated: str) -> dict[str, Any]:
    return {
        "event": event,
        "locale": locale,
        "subject": subject,
        "body": body,
        "updated_at": updated,
    }
