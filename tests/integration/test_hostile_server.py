"""A buggy, overloaded or hostile server cannot hang, exhaust or spoof portalctl.

The CLI (``plan``/``export``, in process) against ``tests/helpers/hostile_server.py`` on
loopback: every bad answer ends as ONE line naming the request, exit 6, and whatever the
server says reaches the terminal escaped, without the key.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import run
from tests.helpers.hostile_server import (
    Answer,
    Endless,
    HostileServer,
    Raw,
    Silent,
    Trickle,
    gzip_bomb,
    head,
    problem,
    settings,
    templates,
    watchdog,
)

REPO = Path(__file__).resolve().parents[2]
SECRET = "h0st1leS3cretPart9"
KEY = f"sk_live_{SECRET}"
SETTINGS = "/v1/portal/settings"
TEMPLATES = "/v1/notifications/templates"
CONTRACT_HINT = (
    "the server does not answer like the portal API; check PORTAL_API_URL, and if it is "
    "right, report it with the request id"
)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostileServer]:
    disarm = watchdog()
    monkeypatch.chdir(tmp_path)
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    hostile = HostileServer()
    monkeypatch.setenv("PORTAL_API_URL", hostile.url)
    monkeypatch.setenv("PORTAL_API_KEY", KEY)
    monkeypatch.setenv("PORTAL_API_DEADLINE", "1.5")
    for name in ("CI", "GITHUB_ACTIONS", "PORTAL_SANDBOX_DB"):
        monkeypatch.delenv(name, raising=False)
    yield hostile
    hostile.close()
    disarm()


def plan(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr of ``plan``; the key is in neither output."""
    code = run(["plan", "examples/portal.yaml"])
    out, err = capsys.readouterr()
    assert KEY not in out + err and SECRET not in out + err
    assert "\x1b" not in out + err and "\u202e" not in out + err
    return code, err


def last_line(err: str) -> str:
    lines = err.splitlines()
    assert lines, "nothing on stderr"
    return lines[-1]


def malformed(request: str, problem: str, request_id: str = "req_hostile") -> str:
    return (
        f"portalctl: error: the portal's answer to {request} is malformed: {problem} "
        f"(request {request_id}); {CONTRACT_HINT}"
    )


# --- size, time and depth ---------------------------------------------------------------


def test_a_16_gb_content_length_is_refused_before_reading(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script(
        "GET",
        SETTINGS,
        Raw(head(200, {"Content-Type": "application/json", "Content-Length": str(16 * 2**30)})),
    )
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        "portalctl: error: the portal's answer to GET /v1/portal/settings is too large: it "
        f"declares 17179869184 bytes (Content-Length); the limit is 2 MiB; {CONTRACT_HINT}"
    )


def test_an_endless_body_is_abandoned_at_the_cap(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", TEMPLATES, Endless())
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        "portalctl: error: the portal's answer to GET /v1/notifications/templates is too "
        f"large: its body ran past 2 MiB; stopped reading; the limit is 2 MiB; {CONTRACT_HINT}"
    )


def test_a_gzip_bomb_is_abandoned_at_the_cap(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", SETTINGS, gzip_bomb())
    code, err = plan(capsys)
    assert code == 6
    assert "GET /v1/portal/settings is too large: its body ran past 2 MiB" in last_line(err)


@pytest.mark.parametrize("behaviour", [Trickle(0.5), Silent()], ids=["trickle", "silent"])
def test_a_slow_server_is_abandoned_at_the_deadline(
    server: HostileServer,
    capsys: pytest.CaptureFixture[str],
    behaviour: Trickle | Silent,
) -> None:
    server.script("GET", SETTINGS, behaviour)
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        f"portalctl: error: cannot reach {server.url}: no complete answer to GET "
        "/v1/portal/settings within 1.5 s (the server was too slow or kept the connection "
        "open); check PORTAL_API_URL and your network"
    )
    assert [r.path for r in server.requests].count(SETTINGS) == 1  # not retried


def test_a_nesting_bomb_is_refused_before_parsing(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", SETTINGS, Answer(b"[" * 100_000 + b"]" * 100_000))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == malformed(
        "GET /v1/portal/settings", "its JSON nests 100000 levels deep (the limit is 32)"
    )


def test_a_body_that_is_not_json(server: HostileServer, capsys: pytest.CaptureFixture[str]) -> None:
    server.script("GET", SETTINGS, Answer(b"<html>maintenance</html>", content_type="text/html"))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == malformed(
        "GET /v1/portal/settings", "the body is not valid JSON (Expecting value)"
    )


# --- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (settings(enabled="false"), 'enabled must be true or false, got the string "false"'),
        (settings(enabled=1), "enabled must be true or false, got the number 1"),
        (
            settings(branding={"company_name": 7, "primary_color": "#1662dd", "logo": None}),
            "branding.company_name must be a string or null, got the number 7",
        ),
        (
            settings(branding={"company_name": "A", "primary_color": "red", "logo": None}),
            'branding.primary_color must be a #rrggbb colour, got the string "red"',
        ),
        (
            settings(permissions={"update_payment_methods": True}),
            "permissions.view_payment_history is missing",
        ),
        ([1, 2], "the body must be an object, got an array"),
        (
            settings(portal_url="javascript:alert(1)"),
            'portal_url must be an http(s) URL, got the string "javascript:alert(1)"',
        ),
    ],
    ids=["string-bool", "number-bool", "number-name", "colour", "missing", "array", "url"],
)
def test_settings_off_the_contract_are_refused_never_coerced(
    server: HostileServer, capsys: pytest.CaptureFixture[str], body: object, problem: str
) -> None:
    server.script("GET", SETTINGS, Answer(body))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == malformed("GET /v1/portal/settings", problem)


def test_a_null_subject_in_the_template_list(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = templates()
    body["data"][1]["subject"] = None
    server.script("GET", TEMPLATES, Answer(body))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == malformed(
        "GET /v1/notifications/templates",
        "data[1].subject must be a non-empty string, got null",
    )


def test_a_template_missing_from_the_list(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    body = templates()
    del body["data"][1]
    server.script("GET", TEMPLATES, Answer(body))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == malformed(
        "GET /v1/notifications/templates", "data has no template for payment_failed"
    )


@pytest.mark.parametrize(
    ("etag", "shown"),
    [
        ('"caf\u00e9"'.encode(), '"\\"caf\u00e9\\""'),
        (b'W/"weak"', '"W/\\"weak\\""'),
        (b'"a\x1b[2Jb"', None),
    ],
    ids=["non-ascii", "weak", "escape"],
)
def test_an_etag_that_could_not_be_sent_back_is_refused(
    server: HostileServer, capsys: pytest.CaptureFixture[str], etag: bytes, shown: str | None
) -> None:
    server.script("GET", SETTINGS, Answer(settings(), etag=etag))
    code, err = plan(capsys)
    assert code == 6
    line = last_line(err)
    assert line.startswith(
        "portalctl: error: the portal's answer to GET /v1/portal/settings is malformed: the "
        'ETag header must be a quoted ASCII string like "5d41402a", got the string '
    ), line
    if shown is not None:
        assert f"got the string {shown} (request req_hostile)" in line
    assert "\x1b" not in err


def test_export_refuses_a_string_boolean_instead_of_writing_enabled_true(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", SETTINGS, Answer(settings(enabled="false")))
    assert run(["export", "--out", "live"]) == 6
    err = capsys.readouterr().err
    assert last_line(err) == malformed(
        "GET /v1/portal/settings", 'enabled must be true or false, got the string "false"'
    )
    assert not (Path("live") / "portal.yaml").exists()


# --- faults and server text -------------------------------------------------------------


def test_a_500_on_a_read_is_retried_like_a_dropped_connection(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", SETTINGS, problem(500, "boom"), problem(503, "busy"), Answer(settings()))
    code, err = plan(capsys)
    assert code == 0, err
    assert [r.path for r in server.requests].count(SETTINGS) == 3


def test_problem_text_is_escaped_and_the_key_never_echoed(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    detail = (
        f"\x1b]0;owned\x07unknown key {SECRET} / sk%5Flive%5F{SECRET} / "
        f"sk-live-{SECRET}\r\u202eevil"
    )
    server.script("GET", SETTINGS, problem(401, detail, request_id="req_\x1b[31mred\n"))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        f"portalctl: error: the API key was rejected by {server.url} (HTTP 401: "
        "\\x1b]0;owned\\x07unknown key ********** / sk%5Flive%5F********** / "
        "sk-live-**********\\r\\u202eevil) (request req_\\x1b[31mred\\n); check PORTAL_API_KEY"
    )


def test_a_404_on_the_settings_path_says_how_to_fix_the_url(
    server: HostileServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A URL copied with its /v1 suffix is refused before any request is sent (exit 3) ...
    monkeypatch.setenv("PORTAL_API_URL", f"{server.url}/v1/")
    code, err = plan(capsys)
    assert code == 3
    assert last_line(err) == (
        f"portalctl: error: the API URL '{server.url}/v1/' ends with /v1, but portalctl adds "
        f"/v1/... itself; use the base URL without the version: {server.url}"
    )
    assert server.requests == []
    # ... and any other base URL that answers 404 on the contract's paths says how to fix it.
    monkeypatch.setenv("PORTAL_API_URL", f"{server.url}/billing")
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        f"portalctl: error: {server.url}/billing answered HTTP 404 to GET "
        "/billing/v1/portal/settings: this is not the portal API's base URL (request "
        f"req_hostile); remove /billing from the API URL (use {server.url}); the client adds "
        "the /v1/... paths itself"
    )


def test_garbage_instead_of_http_is_a_dropped_connection(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("GET", SETTINGS, Raw(b"\x00\xff garbage\r\n\r\n"))
    code, err = plan(capsys)
    assert code == 6
    assert last_line(err) == (
        f"portalctl: error: cannot reach {server.url}: the connection was dropped before a "
        "complete response; check PORTAL_API_URL and your network"
    )


def test_the_fixture_server_is_bounded(server: HostileServer) -> None:
    """Closing the server ends a connection stuck in a trickle at once."""
    server.script("GET", SETTINGS, Trickle(0.1))
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"GET /v1/portal/settings HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(15) == b"HTTP/1.1 200 OK"
        server.close()
        sock.settimeout(5)
        rest = b""
        while chunk := sock.recv(4096):
            rest += chunk
    _, _, body = rest.partition(b"\r\n\r\n")
    assert body.strip(b" ") == b""  # only the trickled spaces, then the server hung up


def test_a_malformed_answer_to_an_accepted_write_is_not_nothing_written(
    server: HostileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.script("PATCH", SETTINGS, Answer(settings(enabled="false")))
    server.script("PUT", "/v1/portal/settings/branding/logo", Answer(settings(enabled="false")))
    assert run(["apply", "examples/portal.yaml", "--auto-approve"]) == 6
    out, err = capsys.readouterr()
    assert KEY not in out + err and SECRET not in out + err
    assert last_line(err) == (
        "portalctl: error: the portal's answer to PUT /v1/portal/settings/branding/logo is "
        'malformed: enabled must be true or false, got the string "false" (request '
        "req_hostile); the write was accepted (HTTP 200), so it may or may not have been "
        "applied; no other change was written; run `portalctl plan` to see the portal's "
        f"current state; {CONTRACT_HINT}"
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_values_of_the_contracts_shape_reach_every_output_escaped(
    server: HostileServer, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """A company name and a subject that fit the contract's types but carry an OSC title
    sequence, a bidi override and a lone CR: the plan shows them escaped, never raw, in the
    terminal text and in the Markdown comment (where a CR must not break the table)."""
    hostile_name = "Evil\x1b]0;pwned\x07 Corp\u202e"
    body = templates()
    body["data"][0]["subject"] = "Invoice\r| x | y |"
    server.script("GET", SETTINGS, Answer(settings(branding={
        "company_name": hostile_name, "primary_color": "#1662dd", "logo": None})))  # fmt: skip
    server.script("GET", TEMPLATES, Answer(body))
    code = run(["plan", "examples/portal.yaml", "--format", fmt])
    out, err = capsys.readouterr()
    for raw in ("\x1b", "\x07", "\u202e", "\r"):
        assert raw not in out + err
    if code != 0:  # the answer may also be refused as off the contract: then one line, exit 6
        assert code == 6 and len(err.strip().splitlines()) == 1
        return
    assert "Evil\\u001b]0;pwned\\u0007 Corp\\u202e" in out
    if fmt == "json":  # still the same JSON: the escapes decode to the server's value
        import json

        live = json.loads(out)["portals"][0]["plan"]["changes"]
        assert hostile_name in [c["before"] for c in live]
    if fmt == "markdown":
        rows = [line for line in out.splitlines() if line.startswith("| ")]
        assert all(line.count(" | ") == rows[0].count(" | ") for line in rows[2:])
