"""The framework-free core, called directly: ``SandboxPortal.handle`` with no event loop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sandbox import Faults, create_app
from reconciler.sandbox.portal import Dropped, SandboxPortal, Upload, open_portal
from tests.helpers.sandbox_api import Api, BlockingSleep, drive, portal_request
from tests.imagedata import png

SETTINGS = "/v1/portal/settings"
LOGO = "/v1/portal/settings/branding/logo"
MERGE = {"Content-Type": "application/merge-patch+json", "If-Match": "*"}


@pytest.fixture
def make_portal(tmp_path: Path) -> Iterator[Callable[..., SandboxPortal]]:
    portals: list[SandboxPortal] = []

    def make(*, sleep: Any = None, **options: Any) -> SandboxPortal:
        portal = open_portal(
            tmp_path / "portal.db", sleep=sleep if sleep is not None else BlockingSleep(), **options
        )
        portals.append(portal)
        return portal

    yield make
    for portal in portals:
        portal.close()


def problem(answer: Any) -> dict[str, Any]:
    assert answer.header("content-type") == "application/problem+json"
    body: dict[str, Any] = json.loads(answer.body)
    assert body["request_id"] == answer.header("Request-Id")
    return body


def test_handle_needs_no_event_loop_even_for_the_latency_fault(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    sleep = BlockingSleep()
    portal = make_portal(faults=Faults(latency_ms=20), sleep=sleep)
    started = time.monotonic()
    answer = drive(portal.handle(portal_request("GET", SETTINGS)))
    assert time.monotonic() - started >= 0.02
    assert sleep == [0.02]
    assert (answer.status, answer.reason) == (200, "OK")
    assert json.loads(answer.body)["branding"]["primary_color"] == "#1662dd"


def test_an_answer_carries_the_headers_an_http_client_got(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    answer = drive(make_portal().handle(portal_request("GET", SETTINGS)))
    assert [name for name, _ in answer.headers] == [
        "etag",
        "content-length",
        "content-type",
        "request-id",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ]
    assert answer.header("Content-Length") == str(len(answer.body))
    assert answer.header("content-type") == "application/json"
    assert answer.header("request-id").startswith("req_")
    assert (answer.header("x-ratelimit-limit"), answer.header("x-ratelimit-remaining")) == (
        "1000",
        "999",
    )


def test_the_drop_fault_raises_dropped_and_logs_no_status(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    portal = make_portal(faults=Faults(drop_rate=1.0))
    with pytest.raises(Dropped, match="connection dropped"):
        drive(portal.handle(portal_request("PATCH", SETTINGS, headers=MERGE, body=b"{}")))
    assert [(e["path"], e["status"]) for e in portal.state.requests] == [(SETTINGS, None)]
    assert (
        portal.state.store.settings(portal.state.requests[0]["tenant"], "test")["enabled"] is False
    )


def test_a_basic_auth_header_that_is_not_ascii_is_a_401_not_a_crash(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    request = portal_request(
        "GET", SETTINGS, key=None, headers={"Authorization": "Basic \xe9t\xe9"}
    )
    answer = drive(make_portal().handle(request))
    assert answer.status == 401
    assert problem(answer)["code"] == "unauthenticated"
    assert problem(answer)["detail"] == (
        "no API key: send it in the X-Api-Key header, or as the HTTP Basic user name"
    )


def test_json_nested_too_deep_is_a_400_not_a_crash(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    portal = make_portal()
    answer = drive(
        portal.handle(portal_request("PATCH", SETTINGS, headers=MERGE, body=b"[" * 10**5))
    )
    assert answer.status == 400
    assert problem(answer)["code"] == "invalid_json"
    assert problem(answer)["detail"].startswith("the body is not valid JSON: maximum recursion")
    faults = drive(portal.handle(portal_request("PUT", "/_sandbox/faults", body=b"[" * 10**5)))
    assert faults.status == 400
    assert "recursion" in json.loads(faults.body)["error"]


def test_404_and_405_name_method_and_path(make_portal: Callable[..., SandboxPortal]) -> None:
    portal = make_portal()
    missing = drive(portal.handle(portal_request("GET", "/v1/nothing")))
    assert (missing.status, problem(missing)["detail"]) == (404, "GET /v1/nothing: Not Found")
    wrong = drive(portal.handle(portal_request("POST", "/_sandbox/requests")))
    assert wrong.status == 405
    assert wrong.header("allow") == "GET, DELETE, HEAD"
    body = json.loads(wrong.body)
    assert (body["code"], body["detail"], body["request_id"]) == (
        "method_not_allowed",
        "POST /_sandbox/requests: Method Not Allowed",
        None,
    )


def test_a_trailing_slash_redirects_and_keeps_the_query(
    make_portal: Callable[..., SandboxPortal],
) -> None:
    request = portal_request("GET", SETTINGS + "/", query="a=1&b=%20")
    answer = drive(make_portal().handle(request))
    assert (answer.status, answer.reason, answer.body) == (307, "Temporary Redirect", b"")
    assert answer.headers[:2] == (
        ("content-length", "0"),
        ("location", "http://sandbox.test/v1/portal/settings?a=1&b=%20"),
    )


def test_a_logo_upload_and_download_in_process(make_portal: Callable[..., SandboxPortal]) -> None:
    portal = make_portal()
    data = png()
    headers = {"Content-Type": "multipart/form-data; boundary=x", "If-Match": "*"}
    upload = portal_request(
        "PUT", LOGO, headers=headers, files={"file": Upload("logo.png", "image/png", data)}
    )
    answer = drive(portal.handle(upload))
    assert answer.status == 200
    logo = json.loads(answer.body)["branding"]["logo"]
    assert logo["url"] == f"http://sandbox.test{LOGO}/{logo['sha256']}"
    served = drive(portal.handle(portal_request("GET", f"{LOGO}/{logo['sha256']}")))
    assert (served.body, served.header("content-type")) == (data, "image/png")
    assert served.header("cache-control") == "max-age=31536000"
    no_form = drive(portal.handle(portal_request("PUT", LOGO, headers=headers)))
    assert problem(no_form)["code"] == "missing_file"


def test_a_malformed_multipart_body_over_http_is_invalid_multipart(api: Api) -> None:
    response = api.request(
        "PUT",
        LOGO,
        content=b"garbage",
        headers={"Content-Type": "multipart/form-data; boundary=xx", "If-Match": "*"},
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["title"], body["param"]) == (
        "invalid_multipart",
        "Bad Request",
        "file",
    )
    assert body["detail"] == "Invalid multipart data."


def test_a_sandbox_bug_propagates_is_logged_and_is_a_plain_500_over_http(
    make_portal: Callable[..., SandboxPortal], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("bug")

    portal = make_portal()
    monkeypatch.setattr(portal.state.store, "settings", broken)
    with pytest.raises(RuntimeError, match="bug"):
        drive(portal.handle(portal_request("GET", SETTINGS)))
    assert [e["status"] for e in portal.state.requests] == [None]

    app = create_app(tmp_path / "app.db")
    monkeypatch.setattr(app.state.sandbox.store, "settings", broken)

    async def over_http() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
            return await c.get(SETTINGS, headers={"X-Api-Key": "sk_test_sandbox"})

    try:
        response = asyncio.run(over_http())
    finally:
        app.state.sandbox.store.close()
    assert (response.status_code, response.text) == (500, "Internal Server Error")


def test_open_portal_refuses_a_malformed_key_before_creating_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sk_test_"):
        open_portal(tmp_path / "never.db", api_keys=["nope"], sleep=BlockingSleep())
    assert not (tmp_path / "never.db").exists()


def test_the_package_exports_open_portal_lazily() -> None:
    from reconciler import sandbox
    from reconciler.sandbox import portal

    assert sandbox.open_portal is portal.open_portal
