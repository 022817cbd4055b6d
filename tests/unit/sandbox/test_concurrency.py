"""Two sandbox apps on one SQLite file (two ``portalctl apply`` runs): If-Match has one winner.

Each round, two apps (two connections, as two processes have) read the same ETag, then
both write with it at once while a third connection holds the database's write lock (as
a third writer would), so both requests are in flight before either can commit. Exactly
one write may win (200); the other must see that the resource changed (412): never a
lost update, never "database is locked".

The short hold only makes the lost update of a check-outside-the-transaction server
near certain; a correct server answers one 200 and one 412 whatever the timing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers.sandbox_api import Api
from tests.imagedata import png

ROUNDS = 10
HOLD_SECONDS = 0.02
SETTINGS = "/v1/portal/settings"
LOGO = "/v1/portal/settings/branding/logo"
TEMPLATE = "/v1/notifications/templates/invoice_created"

Write = Callable[[Api, int, str], httpx.Response]


@pytest.fixture
def apis(make_api: Callable[..., Api]) -> tuple[Api, Api]:
    """Two apps, each with its own connection, on the one database file."""
    first = make_api()
    second = make_api()
    assert first.state.store is not second.state.store
    assert first.state.store.path == second.state.store.path
    return first, second


@pytest.fixture
def third_writer(apis: tuple[Api, Api]) -> Iterator[sqlite3.Connection]:
    """A third connection to the same file, to hold the write lock during a round."""
    path: Path = apis[0].state.store.path
    db = sqlite3.connect(str(path), isolation_level=None)
    yield db
    db.close()


def _race(
    apis: tuple[Api, Api],
    third_writer: sqlite3.Connection,
    read: Callable[[Api], str],
    write: Write,
    prepare: Callable[[Api, int], object] | None = None,
) -> list[list[int]]:
    """Every round's two statuses, sorted. ``prepare`` runs alone before each round."""
    statuses: list[list[int]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for number in range(ROUNDS):
            if prepare is not None:
                prepare(apis[0], number)
            etags = [read(api) for api in apis]
            assert etags[0] == etags[1]
            third_writer.execute("BEGIN IMMEDIATE")
            try:
                futures = [
                    pool.submit(write, api, number * 2 + index, etags[index])
                    for index, api in enumerate(apis)
                ]
                time.sleep(HOLD_SECONDS)
            finally:
                third_writer.execute("ROLLBACK")
            statuses.append(sorted(future.result().status_code for future in futures))
    return statuses


def _settings_etag(api: Api) -> str:
    return api.settings_etag()


def _template_etag(api: Api) -> str:
    return api.get(TEMPLATE).headers["ETag"]


def _upload(api: Api, image: bytes, etag: str) -> httpx.Response:
    files = {"file": ("logo.png", image)}
    return api.request("PUT", LOGO, files=files, headers={"If-Match": etag})


def _customise(api: Api, n: int, etag: str) -> httpx.Response:
    payload = {"subject": f"Invoice {n}", "body": "Hello {{customer_name}}"}
    return api.request("PUT", TEMPLATE, json=payload, headers={"If-Match": etag})


def test_concurrent_settings_patches_with_one_etag_have_one_winner(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    def write(api: Api, n: int, etag: str) -> httpx.Response:
        return api.patch_settings({"branding": {"company_name": f"Writer {n}"}}, if_match=etag)

    assert _race(apis, third_writer, _settings_etag, write) == [[200, 412]] * ROUNDS
    last = {f"Writer {2 * ROUNDS - 2}", f"Writer {2 * ROUNDS - 1}"}
    assert apis[1].get(SETTINGS).json()["branding"]["company_name"] in last
    assert apis[0].state.store.integrity_check() == "ok"


def test_the_loser_of_a_settings_race_gets_the_412_problem(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    etag = apis[0].settings_etag()
    third_writer.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(api.patch_settings, {"branding": {"company_name": name}}, if_match=etag)
            for api, name in zip(apis, ("First Co", "Second Co"), strict=True)
        ]
        time.sleep(HOLD_SECONDS)
        third_writer.execute("ROLLBACK")
        responses = sorted((f.result() for f in futures), key=lambda r: r.status_code)
    won, lost = responses
    assert (won.status_code, lost.status_code) == (200, 412)
    body = lost.json()
    assert lost.headers["content-type"] == "application/problem+json"
    assert body["code"] == "precondition_failed"
    assert body["param"] == "If-Match"
    assert body["detail"] == (
        f"settings has changed since it was read (its ETag is no longer {etag}); read it again"
    )
    current = apis[0].get(SETTINGS)
    assert current.headers["ETag"] == won.headers["ETag"]
    assert current.json()["branding"]["company_name"] == won.json()["branding"]["company_name"]


def test_concurrent_logo_uploads_with_one_etag_have_one_winner(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    def write(api: Api, n: int, etag: str) -> httpx.Response:
        return _upload(api, png(width=n + 1, height=1), etag)

    assert _race(apis, third_writer, _settings_etag, write) == [[200, 412]] * ROUNDS


def test_concurrent_logo_deletes_with_one_etag_have_one_winner(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    def prepare(api: Api, number: int) -> None:
        assert _upload(api, png(width=number + 1, height=1), "*").status_code == 200

    def write(api: Api, n: int, etag: str) -> httpx.Response:
        return api.request("DELETE", LOGO, headers={"If-Match": etag})

    assert _race(apis, third_writer, _settings_etag, write, prepare) == [[200, 412]] * ROUNDS


def test_concurrent_template_puts_with_one_etag_have_one_winner(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    assert _race(apis, third_writer, _template_etag, _customise) == [[200, 412]] * ROUNDS


def test_concurrent_template_resets_with_one_etag_have_one_winner(
    apis: tuple[Api, Api], third_writer: sqlite3.Connection
) -> None:
    def prepare(api: Api, number: int) -> None:
        assert _customise(api, number, "*").status_code == 200

    def write(api: Api, n: int, etag: str) -> httpx.Response:
        return api.request("DELETE", TEMPLATE, headers={"If-Match": etag})

    assert _race(apis, third_writer, _template_etag, write, prepare) == [[200, 412]] * ROUNDS
