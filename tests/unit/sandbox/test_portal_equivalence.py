"""One sandbox, two front ends: ``SandboxPortal.handle`` called directly (no event loop) and
the Starlette app over httpx's ASGI transport answer the same requests the same way.

Each side gets its own database. The sandbox's clock, its random draws and its rate-limit
clock are made a pure function of call order (``frozen``), so the two sides must agree byte
for byte: status, every header in order (``Request-Id`` and ETags included) and body, and
at the end the request logs.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from reconciler.sandbox import SANDBOX_KEY, Faults, create_app
from reconciler.sandbox import portal as portal_module
from reconciler.sandbox import store as store_module
from reconciler.sandbox.portal import Upload, open_portal
from tests.helpers.sandbox_api import BlockingSleep, drive, portal_request
from tests.imagedata import png

SETTINGS = "/v1/portal/settings"
LOGO = "/v1/portal/settings/branding/logo"
TEMPLATES = "/v1/notifications/templates"
EVENT = f"{TEMPLATES}/invoice_created"
LOCALE = f"{EVENT}/locales/pt-br"
PNG = png()
ADMIN_KEY = "sk_live_admin123"
MERGE = "application/merge-patch+json"
JSON = "application/json"

Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


@dataclass(frozen=True)
class Step:
    """One request. A header value ``@name`` is the ETag that ``save="name"`` kept earlier
    on the same side."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    files: dict[str, tuple[str, bytes, str]] | None = None
    key: str | None = SANDBOX_KEY
    save: str | None = None
    query: str = ""


def patch(etag: str, body: Any, content_type: str = MERGE) -> dict[str, Any]:
    return {
        "headers": {"Content-Type": content_type, "If-Match": etag},
        "body": json.dumps(body).encode(),
    }


def logo(etag: str, name: str = "file", data: bytes = PNG) -> dict[str, Any]:
    return {"headers": {"If-Match": etag}, "files": {name: ("logo.png", data, "image/png")}}


CONTRACT = [
    Step("GET", SETTINGS, save="s"),
    Step("GET", SETTINGS, key=None),
    Step("GET", SETTINGS, key="sk_test_notthekey123"),
    Step("GET", SETTINGS, key="not-a-key"),
    Step("GET", SETTINGS, key=None, headers={"Authorization": "Basic c2tfdGVzdF9zYW5kYm94Og=="}),
    Step("GET", SETTINGS, key=None, headers={"Authorization": "Bearer sk_test_sandbox"}),
    Step("PATCH", SETTINGS, headers={"If-Match": "*"}, body=b"{}"),
    Step("PATCH", SETTINGS, headers={"Content-Type": MERGE}, body=b"{}"),
    Step("PATCH", SETTINGS, **patch('"not-the-etag"', {"enabled": True})),
    Step("PATCH", SETTINGS, headers={"Content-Type": MERGE, "If-Match": "*"}, body=b"{oops"),
    Step("PATCH", SETTINGS, **patch("*", [1])),
    Step("PATCH", SETTINGS, **patch("*", {"branding": {"primary_color": "#12345"}})),
    Step("PATCH", SETTINGS, **patch("@s", {"branding": {"company_name": "Café ☕"}}), save="s"),
    Step("PATCH", SETTINGS, **patch("@s", {"branding": {"company_name": "Café ☕"}})),
    Step("POST", SETTINGS),
    Step("HEAD", SETTINGS),
    Step("GET", "/v1/nothing"),
    Step("DELETE", "/"),
    Step("GET", SETTINGS + "/", query="a=1"),
    Step("GET", TEMPLATES),
    Step("POST", TEMPLATES),
    Step("GET", EVENT, save="t"),
    Step("GET", f"{TEMPLATES}/invoice_paid"),
    Step("PUT", EVENT, **patch("*", {"subject": "Hi", "body": "{{nope}}"}, JSON)),
    Step("PUT", EVENT, **patch("@t", {"subject": "Hi {{company_name}}", "body": "b"}, JSON)),
    Step("PUT", EVENT, **patch("@t", {"subject": "again", "body": "b"}, JSON)),
    Step("DELETE", EVENT),
    Step("DELETE", EVENT, headers={"If-Match": "*"}),
    Step("GET", LOCALE),
    Step("GET", f"{EVENT}/locales/not_a_tag!"),
    Step("PUT", LOCALE, **patch("*", {"subject": "Olá", "body": "b"}, JSON)),
    Step(
        "PUT",
        LOCALE,
        headers={"Content-Type": JSON, "If-None-Match": "*"},
        body=json.dumps({"subject": "Olá", "body": "b"}).encode(),
        save="l",
    ),
    Step("GET", LOCALE),
    Step("PUT", LOCALE, **patch("@l", {"subject": "Olá 2", "body": "b"}, JSON), save="l"),
    Step("GET", TEMPLATES),
    Step("DELETE", LOCALE),
    Step("DELETE", LOCALE, headers={"If-Match": '"stale"'}),
    Step("DELETE", LOCALE, headers={"If-Match": "@l"}),
    Step("GET", LOCALE),
    Step("GET", SETTINGS, save="s"),
    Step("PUT", LOGO, headers={"If-Match": "*", "Content-Type": "image/png"}, body=PNG),
    Step("PUT", LOGO, files={"file": ("logo.png", PNG, "image/png")}),
    Step("PUT", LOGO, **logo("*", name="other")),
    Step("PUT", LOGO, **logo("*", data=b"GIF89a" + bytes(20))),
    Step("PUT", LOGO, **logo("@s"), save="s"),
    Step("PUT", LOGO, **logo("@s")),
    Step("GET", f"{LOGO}/{hashlib.sha256(PNG).hexdigest()}"),
    Step("GET", f"{LOGO}/{'0' * 64}"),
    Step("DELETE", LOGO, headers={"If-Match": "@s"}),
    Step("GET", "/_sandbox/health"),
    Step("POST", "/_sandbox/health"),
    Step("GET", "/_sandbox/nothing"),
    Step("PUT", "/_sandbox/faults", body=b'{"error_rat": 1}'),
    Step("PUT", "/_sandbox/faults", body=b'{"seed": 3}'),
    Step("GET", "/_sandbox/faults"),
    Step("GET", "/_sandbox/requests"),
    Step("DELETE", "/_sandbox/requests"),
    Step("GET", "/_sandbox/requests"),
]

PUBLIC = [
    Step("GET", "/_sandbox/health", key=None),
    Step("GET", "/_sandbox/health", key=SANDBOX_KEY),
    Step("GET", "/_sandbox/health", key=ADMIN_KEY),
    Step("GET", "/_sandbox/requests", key=None, headers={"Authorization": "Basic !!"}),
    Step("GET", SETTINGS, key=ADMIN_KEY),
    Step("GET", SETTINGS, key=SANDBOX_KEY),
    Step("GET", "/_sandbox/requests", key=ADMIN_KEY),
]

FAULTS = [
    Step("PATCH", SETTINGS, **patch("*", {"enabled": True})),
    Step("PUT", EVENT, **patch("*", {"subject": "s", "body": "b"}, JSON)),
    Step("GET", TEMPLATES),
    Step("GET", SETTINGS),
    Step("GET", SETTINGS),
]

SCRIPTS: dict[str, tuple[dict[str, Any], Sequence[Step]]] = {
    "contract": ({}, CONTRACT),
    "public": ({"api_keys": [ADMIN_KEY], "admin_needs_key": True}, PUBLIC),
    "faults": ({"faults": Faults(rate_limit=4, fail_write_numbers=(1,), race_412=True)}, FAULTS),
}


class Frozen:
    """The sandbox's clock, random draws and rate-limit clock as a function of call order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reset()
        epoch = datetime(2030, 1, 1, tzinfo=UTC)
        monkeypatch.setattr(
            store_module, "_now", lambda: epoch + timedelta(seconds=next(self.ticks))
        )
        monkeypatch.setattr(
            store_module,
            "secrets",
            SimpleNamespace(choice=lambda seq: seq[next(self.draws) % len(seq)]),
        )
        monkeypatch.setattr(
            portal_module,
            "secrets",
            SimpleNamespace(token_hex=lambda n: f"{next(self.draws):0{2 * n}x}"),
        )
        monkeypatch.setattr(
            portal_module,
            "datetime",
            SimpleNamespace(now=lambda tz: epoch + timedelta(seconds=next(self.ticks))),
        )
        monkeypatch.setattr(portal_module, "time", SimpleNamespace(monotonic=lambda: 1000.0))

    def reset(self) -> None:
        self.ticks = itertools.count()
        self.draws = itertools.count()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Frozen]:
    yield Frozen(monkeypatch)


def _headers(step: Step, etags: dict[str, str]) -> dict[str, str]:
    return {k: etags[v[1:]] if v.startswith("@") else v for k, v in step.headers.items()}


def direct(db: Path, options: dict[str, Any], steps: Sequence[Step]) -> tuple[list[Answer], Any]:
    """Every step through ``SandboxPortal.handle``, each coroutine run with one send(None)."""
    answers: list[Answer] = []
    etags: dict[str, str] = {}
    with open_portal(db, sleep=BlockingSleep(), **options) as portal:
        for step in steps:
            headers = _headers(step, etags)
            files = None
            if step.files is not None:
                headers["Content-Type"] = "multipart/form-data; boundary=portal"
                files = {
                    name: Upload(filename, content_type, data)
                    for name, (filename, data, content_type) in step.files.items()
                }
            request = portal_request(
                step.method,
                step.path,
                key=step.key,
                headers=headers,
                body=step.body,
                files=files,
                query=step.query,
            )
            answer = drive(portal.handle(request))
            if step.save:
                etags[step.save] = answer.header("etag") or ""
            # An HTTP client reads no body after HEAD; the portal gives GET's (see PortalResponse).
            body = b"" if step.method == "HEAD" else answer.body
            answers.append((answer.status, answer.headers, body))
        return answers, list(portal.state.requests)


def over_http(db: Path, options: dict[str, Any], steps: Sequence[Step]) -> tuple[list[Answer], Any]:
    """Every step through the Starlette app, over httpx's ASGI transport."""
    app = create_app(db, **options)

    async def run() -> list[Answer]:
        answers: list[Answer] = []
        etags: dict[str, str] = {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
            for step in steps:
                headers = _headers(step, etags)
                if step.key:
                    headers["X-Api-Key"] = step.key
                files = None
                if step.files is not None:
                    files = {name: part for name, part in step.files.items()}
                url = step.path + (f"?{step.query}" if step.query else "")
                response = await c.request(
                    step.method, url, headers=headers, content=step.body or None, files=files
                )
                if step.save:
                    etags[step.save] = response.headers.get("etag", "")
                raw = tuple(
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw
                )
                answers.append((response.status_code, raw, response.content))
        return answers

    try:
        return asyncio.run(run()), list(app.state.sandbox.requests)
    finally:
        app.state.sandbox.store.close()


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_both_front_ends_give_the_same_answers(script: str, tmp_path: Path, frozen: Frozen) -> None:
    options, steps = SCRIPTS[script]
    frozen.reset()
    got_direct, log_direct = direct(tmp_path / "direct.db", options, steps)
    frozen.reset()
    got_http, log_http = over_http(tmp_path / "http.db", options, steps)
    assert len(got_direct) == len(got_http) == len(steps)
    for step, one, other in zip(steps, got_direct, got_http, strict=True):
        assert one == other, f"{step.method} {step.path}"
    assert log_direct == log_http


def test_the_scripts_cover_every_route_and_every_kind_of_answer() -> None:
    """Guards the test above: a script that lost its routes or its errors would pass too."""
    from reconciler.sandbox.handlers import ROUTES

    patterns = [(path, methods) for path, _, methods in ROUTES]
    covered = set()
    for step in CONTRACT:
        for path, methods in patterns:
            shape = "^" + path.replace("{sha256}", "[^/]+").replace("{event}", "[^/]+")
            shape = shape.replace("{tag}", "[^/]+") + "$"
            if re.match(shape, step.path) and step.method in methods:
                covered.add((path, step.method))
    assert covered == {(path, m) for path, methods in patterns for m in methods}


def test_the_contract_script_sees_each_status_it_means_to(tmp_path: Path, frozen: Frozen) -> None:
    answers, _ = direct(tmp_path / "direct.db", {}, CONTRACT)
    statuses = {status for status, _, _ in answers}
    assert statuses == {200, 201, 204, 307, 400, 401, 404, 405, 412, 415, 422, 428}
