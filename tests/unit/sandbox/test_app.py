"""The sandbox app in-process: auth, tenancy, settings, logo, templates, preconditions."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from reconciler.model import EVENTS
from reconciler.sandbox.content import DEFAULT_TEMPLATES
from tests.helpers.sandbox_api import Api
from tests.imagedata import png

SETTINGS = "/v1/portal/settings"
LOGO = "/v1/portal/settings/branding/logo"
TEMPLATES = "/v1/notifications/templates"


def problem(response: object) -> dict[str, object]:
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    return body


# --- auth and tenancy -----------------------------------------------------------------------


def test_missing_key_is_401_with_problem_and_headers(api: Api) -> None:
    response = api.get(SETTINGS, key="")
    assert response.status_code == 401
    body = problem(response)
    assert body["code"] == "unauthenticated"
    assert body["request_id"] == response.headers["Request-Id"]
    assert response.headers["WWW-Authenticate"] == 'Basic realm="portal"'
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[name].isdigit()


def test_unknown_key_is_401_and_never_echoed(api: Api) -> None:
    response = api.get(SETTINGS, key="sk_test_notthekey123")
    assert response.status_code == 401
    assert problem(response)["code"] == "invalid_api_key"
    assert "sk_test_notthekey123" not in response.text


def test_basic_auth_with_the_key_as_user(api: Api) -> None:
    token = base64.b64encode(b"sk_test_sandbox:").decode()
    response = api.get(SETTINGS, key="", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200


def test_explicit_keys_only(make_api: object) -> None:
    api = make_api(api_keys=["sk_live_alpha123"], key="sk_live_alpha123")  # type: ignore[operator]
    assert api.get(SETTINGS).status_code == 200
    assert api.get(SETTINGS, key="sk_test_sandbox").status_code == 401


def test_any_key_accepts_well_formed_keys_only(make_api: object) -> None:
    api = make_api(any_key=True, key="sk_test_whatever1")  # type: ignore[operator]
    assert api.get(SETTINGS).status_code == 200
    assert api.get(SETTINGS, key="pk_test_whatever1").status_code == 401
    assert api.get(SETTINGS, key="sk_test_abc").status_code == 401


def test_each_key_is_its_own_portal_and_only_its_hash_is_stored(make_api: object) -> None:
    api = make_api(any_key=True, key="sk_test_portalone")  # type: ignore[operator]
    etag = api.settings_etag()
    assert (
        api.patch_settings({"branding": {"company_name": "Test Co"}}, if_match=etag).status_code
        == 200
    )
    live = api.get(SETTINGS, key="sk_live_portalone").json()
    assert live["branding"]["company_name"] is None
    assert api.get(SETTINGS).json()["branding"]["company_name"] == "Test Co"
    db = api.state.store.path
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert b"portalone" not in raw
    assert api.state.requests[-2]["tenant"] == hashlib.sha256(b"sk_live_portalone").hexdigest()


def test_create_app_refuses_malformed_keys(tmp_path: object) -> None:
    from reconciler.sandbox import create_app

    with pytest.raises(ValueError, match="sk_test_"):
        create_app(tmp_path / "x.db", api_keys=["hunter2"])  # type: ignore[operator]


# --- settings -------------------------------------------------------------------------------


def test_new_portal_defaults(api: Api) -> None:
    response = api.get(SETTINGS)
    body = response.json()
    assert {k: v for k, v in body.items() if k != "updated_at"} == {
        "enabled": False,
        "branding": {"company_name": None, "primary_color": "#1662dd", "logo": None},
        "permissions": {
            "update_payment_methods": True,
            "view_payment_history": True,
            "download_invoices": True,
            "cancel_subscription": False,
        },
        "portal_url": None,
    }
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')


def test_patch_round_trip_and_etag(api: Api) -> None:
    etag = api.settings_etag()
    response = api.patch_settings(
        {"branding": {"primary_color": "#ABCDEF"}, "permissions": {"cancel_subscription": True}},
        if_match=etag,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["branding"]["primary_color"] == "#abcdef"
    assert body["permissions"]["cancel_subscription"] is True
    new_etag = response.headers["ETag"]
    assert new_etag != etag
    assert api.settings_etag() == new_etag


def test_noop_patch_keeps_the_etag(api: Api) -> None:
    etag = api.settings_etag()
    response = api.patch_settings({"enabled": False}, if_match=etag)
    assert response.headers["ETag"] == etag


def test_null_resets_to_default(api: Api) -> None:
    etag = api.settings_etag()
    etag = api.patch_settings({"branding": {"primary_color": "#000000"}}, if_match=etag).headers[
        "ETag"
    ]
    body = api.patch_settings({"branding": {"primary_color": None}}, if_match=etag).json()
    assert body["branding"]["primary_color"] == "#1662dd"


def test_portal_url_generated_once_and_kept(api: Api) -> None:
    etag = api.settings_etag()
    first = api.patch_settings({"enabled": True}, if_match=etag)
    url = first.json()["portal_url"]
    assert url.startswith("https://billing.4geeks.io/p/")
    off = api.patch_settings({"enabled": False}, if_match=first.headers["ETag"])
    assert off.json()["portal_url"] == url
    on = api.patch_settings({"enabled": True}, if_match=off.headers["ETag"])
    assert on.json()["portal_url"] == url


def test_portal_urls_are_unique(make_api: object) -> None:
    api = make_api(any_key=True, key="sk_test_first111")  # type: ignore[operator]
    urls = set()
    for key in ("sk_test_first111", "sk_test_second22", "sk_live_first111"):
        etag = api.settings_etag(key=key)
        urls.add(api.patch_settings({"enabled": True}, if_match=etag, key=key).json()["portal_url"])
    assert len(urls) == 3


def test_write_without_if_match_is_428(api: Api) -> None:
    response = api.patch_settings({"enabled": True}, if_match=None)
    assert response.status_code == 428
    body = problem(response)
    assert body["code"] == "precondition_required"
    assert body["param"] == "If-Match"
    assert api.get(SETTINGS).json()["enabled"] is False


def test_stale_if_match_is_412_and_star_matches(api: Api) -> None:
    stale = api.settings_etag()
    api.patch_settings({"enabled": True}, if_match=stale)
    response = api.patch_settings({"enabled": False}, if_match=stale)
    assert response.status_code == 412
    assert problem(response)["code"] == "precondition_failed"
    assert api.patch_settings({"enabled": False}, if_match="*").status_code == 200


def test_weak_etag_never_matches(api: Api) -> None:
    etag = api.settings_etag()
    assert api.patch_settings({"enabled": True}, if_match=f"W/{etag}").status_code == 412


@pytest.mark.parametrize(
    ("patch", "param", "code"),
    [
        ({"portal_url": "https://x"}, "portal_url", "read_only_field"),
        ({"updated_at": "2020-01-01T00:00:00Z"}, "updated_at", "read_only_field"),
        ({"branding": {"logo": None}}, "branding.logo", "read_only_field"),
        ({"colour": "#000000"}, "colour", "unknown_field"),
        ({"branding": {"primary_color": "#12345"}}, "branding.primary_color", "invalid_value"),
        ({"branding": {"company_name": ""}}, "branding.company_name", "invalid_value"),
        ({"branding": {"company_name": "x" * 101}}, "branding.company_name", "invalid_value"),
        ({"permissions": {"refund": True}}, "permissions.refund", "unknown_field"),
        (
            {"permissions": {"download_invoices": "yes"}},
            "permissions.download_invoices",
            "invalid_value",
        ),
        ({"enabled": "true"}, "enabled", "invalid_value"),
    ],
)
def test_invalid_patches_are_422_naming_the_field(
    api: Api, patch: dict[str, object], param: str, code: str
) -> None:
    response = api.patch_settings(patch, if_match="*")
    assert response.status_code == 422
    body = problem(response)
    assert (body["param"], body["code"]) == (param, code)


def test_patch_needs_merge_patch_media_type(api: Api) -> None:
    response = api.request(
        "PATCH",
        SETTINGS,
        content=b"{}",
        headers={"Content-Type": "application/json", "If-Match": "*"},
    )
    assert response.status_code == 415


def test_patch_with_broken_json_is_400(api: Api) -> None:
    response = api.request(
        "PATCH",
        SETTINGS,
        content=b"{",
        headers={"Content-Type": "application/merge-patch+json", "If-Match": "*"},
    )
    assert response.status_code == 400
    assert problem(response)["code"] == "invalid_json"


# --- logo -----------------------------------------------------------------------------------


def upload(api: Api, data: bytes, if_match: str | None = "*") -> object:
    headers = {"If-Match": if_match} if if_match else {}
    return api.request(
        "PUT", LOGO, files={"file": ("logo.png", data, "image/png")}, headers=headers
    )


def test_logo_upload_sniffs_and_serves(api: Api) -> None:
    data = png()
    etag = api.settings_etag()
    response = upload(api, data, etag)
    assert response.status_code == 200  # type: ignore[attr-defined]
    logo = response.json()["branding"]["logo"]  # type: ignore[attr-defined]
    sha = hashlib.sha256(data).hexdigest()
    assert logo == {
        "url": f"http://sandbox.test{LOGO}/{sha}",
        "sha256": sha,
        "content_type": "image/png",
        "width": 200,
        "height": 50,
        "size": len(data),
    }
    assert response.headers["ETag"] != etag  # type: ignore[attr-defined]
    served = api.get(f"{LOGO}/{sha}")
    assert served.content == data
    assert served.headers["content-type"] == "image/png"


def test_logo_upload_rules(api: Api) -> None:
    assert upload(api, png(), None).status_code == 428  # type: ignore[attr-defined]
    gif = upload(api, b"GIF89a" + b"\0" * 20)
    assert problem(gif)["code"] == "unsupported_image_type"
    big = upload(api, b"\x89PNG\r\n\x1a\n" + b"\0" * (512 * 1024))
    assert (problem(big)["code"], problem(big)["param"]) == ("file_too_large", "file")
    missing = api.request("PUT", LOGO, files={"other": ("a", b"x")}, headers={"If-Match": "*"})
    assert problem(missing)["code"] == "missing_file"


def test_logo_delete_resets(api: Api) -> None:
    etag = upload(api, png()).headers["ETag"]  # type: ignore[attr-defined]
    response = api.request("DELETE", LOGO, headers={"If-Match": etag})
    assert response.status_code == 200
    assert response.json()["branding"]["logo"] is None
    assert api.request("DELETE", LOGO, headers={"If-Match": etag}).status_code == 412


# --- templates ------------------------------------------------------------------------------


def test_every_event_has_a_default_template(api: Api) -> None:
    data = api.get(TEMPLATES).json()["data"]
    assert [t["event"] for t in data] == list(EVENTS)
    for item in data:
        assert item["is_default"] is True
        assert (item["subject"], item["body"]) == DEFAULT_TEMPLATES[item["event"]]
        single = api.get(f"{TEMPLATES}/{item['event']}")
        assert single.headers["ETag"] == item["etag"]
        assert "{{customer_portal_link}}" in item["body"]


def test_template_put_and_delete(api: Api) -> None:
    path = f"{TEMPLATES}/payment_failed"
    etag = api.get(path).headers["ETag"]
    put = api.request(
        "PUT",
        path,
        json={"subject": "Card declined", "body": "Fix it: {{ customer_portal_link }}"},
        headers={"If-Match": etag},
    )
    assert put.status_code == 200
    assert put.json()["is_default"] is False
    assert put.headers["ETag"] != etag
    reset = api.request("DELETE", path, headers={"If-Match": put.headers["ETag"]})
    assert reset.json()["is_default"] is True
    assert reset.json()["subject"] == DEFAULT_TEMPLATES["payment_failed"][0]


@pytest.mark.parametrize(
    ("payload", "param", "needle"),
    [
        ({"subject": "Hi", "body": "{{customer_portl_link}}"}, "body", "{{customer_portl_link}}"),
        ({"subject": "Hi {{nope}}", "body": ""}, "subject", "{{nope}}"),
        ({"subject": "", "body": "x"}, "subject", "1..128"),
        ({"subject": "x" * 129, "body": "x"}, "subject", "1..128"),
        ({"subject": "a\nb", "body": "x"}, "subject", "single line"),
        ({"subject": "x", "body": "x" * (64 * 1024 + 1)}, "body", "65536"),
        ({"subject": "x", "body": "x", "html": True}, "html", "unknown field"),
        ({"body": "x"}, "subject", "required"),
    ],
)
def test_template_validation(api: Api, payload: dict[str, object], param: str, needle: str) -> None:
    response = api.request(
        "PUT", f"{TEMPLATES}/invoice_created", json=payload, headers={"If-Match": "*"}
    )
    assert response.status_code == 422
    body = problem(response)
    assert body["param"] == param
    assert needle in str(body["detail"])


def test_unknown_event_is_404(api: Api) -> None:
    response = api.get(f"{TEMPLATES}/invoice_paid")
    assert response.status_code == 404
    assert problem(response)["code"] == "unknown_event"
    put = api.request(
        "PUT",
        f"{TEMPLATES}/invoice_paid",
        json={"subject": "a", "body": "b"},
        headers={"If-Match": "*"},
    )
    assert put.status_code == 404


def test_unknown_route_and_method_are_problems(api: Api) -> None:
    assert problem(api.get("/v1/nothing"))["code"] == "not_found"
    response = api.request("POST", SETTINGS)
    assert response.status_code == 405
    assert problem(response)["code"] == "method_not_allowed"


def test_state_survives_a_new_app_on_the_same_file(make_api: object) -> None:
    first = make_api()  # type: ignore[operator]
    first.patch_settings({"branding": {"company_name": "Kept"}}, if_match="*")
    second = make_api()  # type: ignore[operator]
    assert second.get(SETTINGS).json()["branding"]["company_name"] == "Kept"
    assert second.state.store.integrity_check() == "ok"


# --- request log and admin routes -----------------------------------------------------------


def test_request_log_in_process_and_over_http(api: Api) -> None:
    api.get(SETTINGS)
    api.get(SETTINGS, key="")
    log = api.get("/_sandbox/requests").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", SETTINGS, 200),
        ("GET", SETTINGS, 401),
    ]
    assert log[0]["tenant"] == hashlib.sha256(b"sk_test_sandbox").hexdigest()
    assert log[1]["tenant"] is None
    assert log == api.state.requests
    assert api.request("DELETE", "/_sandbox/requests").status_code == 204
    assert api.state.requests == []


def test_admin_faults_round_trip_and_validation(api: Api) -> None:
    response = api.request("PUT", "/_sandbox/faults", json={"error_rate": 0.5, "seed": 3})
    assert response.json()["error_rate"] == 0.5
    bad = api.request("PUT", "/_sandbox/faults", json={"error_rat": 1})
    assert bad.status_code == 400
    assert "unknown fault 'error_rat'" in bad.json()["error"]
    assert json.loads(api.get("/_sandbox/faults").text)["seed"] == 3
