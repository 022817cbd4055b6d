"""Response bounds (``api/bounds.py``) and the contract's shapes (``api/shapes.py``)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.api.bounds import Bounds, NotJson, TooDeep, load_json, nesting_depth
from reconciler.api.shapes import (
    ShapeError,
    check_etag,
    check_settings,
    check_template,
    check_template_list,
)
from reconciler.errors import ExitCode, UsageError
from tests.helpers.hostile_server import SETTINGS, TEMPLATES

# --- bounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("{}", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "]]", "\\"[[["]', 1),  # brackets inside strings do not count
        ("[" * 100_000 + "]" * 100_000, 100_000),
    ],
)
def test_nesting_depth_ignores_strings_and_never_recurses(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_load_json_refuses_depth_before_parsing() -> None:
    with pytest.raises(TooDeep, match=r"^its JSON nests 33 levels deep \(the limit is 32\)$"):
        load_json(b"[" * 33 + b"]" * 33, max_depth=32)
    assert load_json(b"[" * 32 + b"]" * 32, max_depth=32) is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe{}", "the body is not UTF-8 text (byte 0)"),
        (b'{"a": NaN}', "the body is not valid JSON (NaN is not a JSON value)"),
        (b"{", "the body is not valid JSON (Expecting property name enclosed in double quotes)"),
        (b"1" * 5000, None),  # Python refuses ints over 4300 digits: still one clear error
    ],
)
def test_load_json_errors_are_one_phrase(data: bytes, message: str | None) -> None:
    with pytest.raises(NotJson) as info:
        load_json(data, max_depth=32)
    if message is not None:
        assert str(info.value) == message
    else:
        assert str(info.value).startswith("the body is not valid JSON (")


def test_deadline_from_the_environment() -> None:
    assert Bounds.from_env({}).deadline == 30.0
    assert Bounds.from_env({"PORTAL_API_DEADLINE": "1.5"}).deadline == 1.5
    with pytest.raises(UsageError) as info:
        Bounds.from_env({"PORTAL_API_DEADLINE": "soon"})
    assert str(info.value) == (
        "PORTAL_API_DEADLINE must be a number of seconds between 0 and 3600, got 'soon'; "
        "unset PORTAL_API_DEADLINE to use the default of 30 s"
    )
    assert info.value.exit_code == ExitCode.INVALID


# --- shapes -------------------------------------------------------------------------------


def refusal(check: Callable[[], object]) -> str:
    """The message of the ``ShapeError`` that ``check`` raises."""
    with pytest.raises(ShapeError) as info:
        check()
    return str(info.value)


def settings_with(path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(SETTINGS)
    *parents, last = path.split(".")
    node = body
    for name in parents:
        node = node[name]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return body


def test_the_contract_example_passes_and_unknown_fields_are_kept() -> None:
    body = settings_with("future_field", {"x": 1})
    assert check_settings(body) == body
    logo = {
        "url": "/v1/portal/settings/branding/logo/" + "a" * 64,
        "sha256": "a" * 64,
        "content_type": "image/png",
        "width": 200,
        "height": None,
        "size": 1234,
    }
    check_settings(settings_with("branding.logo", logo))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("enabled", "false", 'enabled must be true or false, got the string "false"'),
        ("enabled", None, "enabled must be true or false, got null"),
        ("enabled", KeyError, "enabled is missing"),
        ("branding", [], "branding must be an object, got an array"),
        ("branding.company_name", False,
         "branding.company_name must be a string or null, got false"),
        ("branding.primary_color", "#12345",
         'branding.primary_color must be a #rrggbb colour, got the string "#12345"'),
        ("permissions.cancel_subscription", 0,
         "permissions.cancel_subscription must be true or false, got the number 0"),
        ("portal_url", "https://x/\x1b[2J",
         'portal_url must be an http(s) URL, got the string "https://x/\\x1b[2J"'),
        ("updated_at", 5, "updated_at must be a string, got the number 5"),
        ("branding.logo", {"url": "/l"}, "branding.logo.sha256 is missing"),
        ("branding.company_name", "x" * 60, None),
    ],
)  # fmt: skip
def test_settings_off_the_contract(path: str, value: Any, message: str | None) -> None:
    body = settings_with(path, value)
    if message is None:
        check_settings(body)
        return
    with pytest.raises(ShapeError) as info:
        check_settings(body)
    assert str(info.value) == message
    assert info.value.field.startswith(path)


def test_logo_fields_are_checked() -> None:
    logo = {
        "url": "/l",
        "sha256": "A" * 64,
        "content_type": "image/png",
        "width": True,
        "height": 1,
        "size": 1,
    }
    assert (
        refusal(lambda: check_settings(settings_with("branding.logo", logo)))
        == f'branding.logo.sha256 must be 64 lowercase hex digits, got the string "{"A" * 40}..."'
    )
    logo["sha256"] = "a" * 64
    assert (
        refusal(lambda: check_settings(settings_with("branding.logo", logo)))
        == "branding.logo.width must be a whole number or null, got true"
    )
    logo["width"] = 1
    logo["size"] = 10**9
    assert (
        refusal(lambda: check_settings(settings_with("branding.logo", logo)))
        == "branding.logo.size must be between 1 and 524288, got 1000000000"
    )


def test_a_long_string_is_cut_short_in_the_message() -> None:
    with pytest.raises(ShapeError) as info:
        check_settings(settings_with("enabled", "y" * 10_000))
    assert str(info.value) == f'enabled must be true or false, got the string "{"y" * 40}..."'


def test_template_list_needs_every_event_once_with_an_etag() -> None:
    listing = copy.deepcopy(TEMPLATES)
    assert [t["event"] for t in check_template_list(listing)] == [
        t["event"] for t in TEMPLATES["data"]
    ]
    twice = copy.deepcopy(TEMPLATES)
    twice["data"].append(copy.deepcopy(twice["data"][0]))
    assert (
        refusal(lambda: check_template_list(twice))
        == "data[4].event lists invoice_created a second time"
    )
    no_etag = copy.deepcopy(TEMPLATES)
    del no_etag["data"][2]["etag"]
    assert refusal(lambda: check_template_list(no_etag)) == "data[2].etag is missing"
    unknown = copy.deepcopy(TEMPLATES)
    unknown["data"][0]["event"] = "invoice_paid"
    with pytest.raises(ShapeError) as info:
        check_template_list(unknown)
    assert str(info.value) == (
        "data[0].event must be one of invoice_created, payment_failed, payment_succeeded, "
        'subscription_canceled, got the string "invoice_paid"'
    )


def test_a_single_template_must_be_the_event_asked_for() -> None:
    item = copy.deepcopy(TEMPLATES["data"][0])
    with pytest.raises(ShapeError) as info:
        check_template(item, event="payment_failed")
    assert str(info.value) == (
        "event must be payment_failed (the event asked for), got invoice_created"
    )
    item["is_default"] = "true"
    assert (
        refusal(lambda: check_template(item))
        == 'is_default must be true or false, got the string "true"'
    )


@pytest.mark.parametrize("etag", ['"abc"', '"5d41402abc4b2a76b9719d911017c592"', '"a-b_c.d:e"'])
def test_strong_ascii_etags_pass(etag: str) -> None:
    assert check_etag(etag) == etag


@pytest.mark.parametrize(
    ("etag", "got"),
    [
        (None, None),
        ("abc", '"abc"'),
        ('W/"abc"', '"W/\\"abc\\""'),
        ('"caf\u00e9"', '"\\"caf\u00e9\\""'),
        ('"a b"', '"\\"a b\\""'),
        ('"' + "a" * 300 + '"', None),
    ],
)
def test_etags_that_cannot_be_sent_back_are_refused(etag: str | None, got: str | None) -> None:
    with pytest.raises(ShapeError) as info:
        check_etag(etag)
    if etag is None:
        assert str(info.value) == "the ETag header is missing"
    elif got is not None:
        assert str(info.value) == (
            f'the ETag header must be a quoted ASCII string like "5d41402a", got the string {got}'
        )


def test_strings_are_held_to_the_contract_lengths() -> None:
    assert refusal(lambda: check_settings(settings_with("branding.company_name", "n" * 101))) == (
        "branding.company_name must be at most 100 characters, got 101"
    )
    item = copy.deepcopy(TEMPLATES["data"][0])
    item["subject"] = "s" * 129
    assert (
        refusal(lambda: check_template(item)) == "subject must be at most 128 characters, got 129"
    )
    item["subject"] = "ok"
    item["body"] = "\u00e9" * 40_000  # 40,000 characters, 80,000 bytes
    assert refusal(lambda: check_template(item)) == "body must be at most 65536 bytes in UTF-8"
    assert refusal(lambda: check_settings(settings_with("updated_at", "9" * 5000))) == (
        "updated_at must be at most 2048 characters, got 5000"
    )
