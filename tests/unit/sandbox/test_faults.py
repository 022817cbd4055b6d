"""Fault injection: configuration, and what each fault does to requests in-process."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from reconciler.sandbox import Faults
from reconciler.sandbox.faults import FaultState
from tests.helpers.sandbox_api import Api

SETTINGS = "/v1/portal/settings"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"error_rate": 2}, "error_rate must be between 0 and 1"),
        ({"drop_rate": "x"}, "drop_rate must be a number"),
        ({"rate_limit": 0}, "rate_limit must be > 0"),
        ({"race_412": 1}, "race_412 must be true or false"),
        ({"fail_write_numbers": [0]}, "1-based"),
        ({"fail_write_numbers": "1"}, "list of integers"),
        ({"latency": 5}, "unknown fault 'latency'"),
        ([], "JSON object"),
    ],
)
def test_faults_from_json_rejects(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Faults.from_json(data)


def test_faults_json_round_trip() -> None:
    faults = Faults(latency_ms=5, error_rate=0.1, rate_limit=2, fail_write_numbers=(2, 3), seed=7)
    assert Faults.from_json(faults.to_json()) == faults


def test_token_bucket_allows_burst_then_asks_to_wait() -> None:
    state = FaultState(Faults(rate_limit=2))
    first, second, third = (state.rate("k", 100.0) for _ in range(3))
    assert (first.allowed, second.allowed, third.allowed) == (True, True, False)
    assert (third.limit, third.remaining, third.retry_after) == (2, 0, 1)
    assert state.rate("other", 100.0).allowed  # per key
    assert state.rate("k", 100.6).allowed  # refilled 1.2 tokens


def test_rate_limit_answers_429_with_retry_after(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(rate_limit=1))
    assert api.get(SETTINGS).status_code == 200
    limited = api.get(SETTINGS)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["X-RateLimit-Limit"] == "1"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.json()["code"] == "rate_limited"


def test_error_rate_one_fails_everything_without_applying(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(error_rate=1.0))
    response = api.patch_settings({"enabled": True}, if_match="*")
    assert response.status_code == 500
    api.state.faults.replace(Faults())
    assert api.get(SETTINGS).json()["enabled"] is False


def test_drop_in_process_raises_connection_reset(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(drop_rate=1.0))
    with pytest.raises(ConnectionResetError):
        api.get(SETTINGS)
    assert api.state.requests[-1]["status"] is None


def test_fail_write_numbers_count_writes_per_tenant(make_api: Callable[..., Api]) -> None:
    api = make_api(any_key=True, key="sk_test_tenantaa", faults=Faults(fail_write_numbers=(2,)))
    assert api.patch_settings({"enabled": True}, if_match="*").status_code == 200
    api.get(SETTINGS)  # reads do not count
    second = api.patch_settings({"enabled": False}, if_match="*")
    assert second.status_code == 500
    assert "write #2" in second.json()["detail"]
    assert api.get(SETTINGS).json()["enabled"] is True  # not applied
    assert api.patch_settings({"enabled": False}, if_match="*").status_code == 200
    other = "sk_test_tenantbb"
    assert api.patch_settings({"enabled": True}, if_match="*", key=other).status_code == 200
    assert api.patch_settings({"enabled": True}, if_match="*", key=other).status_code == 500


def test_race_412_moves_the_resource_once(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(race_412=True))
    etag = api.settings_etag()
    raced = api.patch_settings({"enabled": True}, if_match=etag)
    assert raced.status_code == 412
    moved = api.settings_etag()
    assert moved != etag
    assert api.patch_settings({"enabled": True}, if_match=moved).status_code == 200


def test_race_412_on_a_template(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(race_412=True))
    path = "/v1/notifications/templates/invoice_created"
    etag = api.get(path).headers["ETag"]
    response = api.request(
        "PUT", path, json={"subject": "s", "body": "b"}, headers={"If-Match": etag}
    )
    assert response.status_code == 412
    assert api.get(path).headers["ETag"] != etag


def test_latency_is_applied(make_api: Callable[..., Api]) -> None:
    api = make_api(faults=Faults(latency_ms=1))
    response = api.get(SETTINGS)
    assert response.status_code == 200
    assert isinstance(response, httpx.Response)
