"""SQLite persistence of the sandbox: one portal per accepted API key (by its hash).

Durability: WAL journal, one ``BEGIN IMMEDIATE`` transaction per write, committed before
the response is sent. ``synchronous=NORMAL`` is enough for the guarantee the sandbox
makes (a SIGKILL of the server loses no acknowledged write: committed WAL frames are in
the OS page cache); only a power cut could lose the last commits.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reconciler.model import EVENTS
from reconciler.sandbox.content import default_template, new_settings

PORTAL_URL_PREFIX = "https://billing.4geeks.io/p/"

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


class Store:
    """The sandbox database. Single-threaded use (one event loop); not thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 10000")
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
        out = []
        for event in EVENTS:
            row = rows.get(event)
            if row is None:
                subject, body = default_template(event)
                out.append(_template(event, subject, body, True, created))
            else:
                out.append(_template(event, row[1], row[2], bool(row[3]), row[4]))
        return out

    def template(self, tenant: str, mode: str, event: str) -> dict[str, Any]:
        return next(t for t in self.templates(tenant, mode) if t["event"] == event)

    def save_template(
        self, tenant: str, event: str, subject: str, body: str, *, is_default: bool, previous: str
    ) -> dict[str, Any]:
        updated = _later_than(previous)
        with self._tx() as db:
            db.execute(
                "INSERT INTO templates (tenant, event, subject, body, is_default, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, event) DO UPDATE SET "
                "subject = excluded.subject, body = excluded.body, "
                "is_default = excluded.is_default, updated_at = excluded.updated_at",
                (tenant, event, subject, body, int(is_default), updated),
            )
        return _template(event, subject, body, is_default, updated)

    def _created_at(self, tenant: str) -> str:
        row = self._db.execute(
            "SELECT created_at FROM portals WHERE tenant = ?", (tenant,)
        ).fetchone()
        return str(row[0])

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


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
