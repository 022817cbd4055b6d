"""Translations of templates in the sandbox: one resource per language, with its own ETag."""

from __future__ import annotations

import json

import pytest

from reconciler.model import EVENTS
from reconciler.sandbox.content import MAX_LOCALES_PER_EVENT
from tests.helpers.sandbox_api import Api

TEMPLATES = "/v1/notifications/templates"
ES = f"{TEMPLATES}/invoice_created/locales/es"
SPANISH = {
    "subject": "Factura {{invoice_number}} de {{company_name}}",
    "body": "Estimado/a {{customer_name}}:\n\nSu portal: {{customer_portal_link}}\n",
}


def put(api: Api, path: str, payload: object, **headers: str) -> object:
    return api.request(
        "PUT",
        path,
        content=json.dumps(payload),
        headers={"Content-Type": "application/json", **headers},
    )


def listed(api: Api, event: str = "invoice_created") -> list[dict[str, object]]:
    data = api.get(TEMPLATES).json()["data"]
    item = next(t for t in data if t["event"] == event)
    locales: list[dict[str, object]] = item["locales"]
    return locales


def test_no_translations_at_first(api: Api) -> None:
    data = api.get(TEMPLATES).json()["data"]
    assert [t["locales"] for t in data] == [[] for _ in EVENTS]
    missing = api.get(ES)
    assert missing.status_code == 404
    assert missing.json()["code"] == "locale_not_found"
    assert missing.json()["detail"] == (
        "templates/invoice_created/locales/es: the template of invoice_created has no es "
        "translation"
    )


def test_create_needs_a_precondition_and_if_none_match_creates(api: Api) -> None:
    refused = put(api, ES, SPANISH)
    assert refused.status_code == 428  # type: ignore[attr-defined]
    assert refused.json()["param"] == "If-Match"  # type: ignore[attr-defined]
    absent = put(api, ES, SPANISH, **{"If-Match": "*"})
    assert absent.status_code == 412  # type: ignore[attr-defined]
    assert absent.json()["detail"] == (  # type: ignore[attr-defined]
        "templates/invoice_created/locales/es does not exist; read it again"
    )
    created = put(api, ES, SPANISH, **{"If-None-Match": "*"})
    assert created.status_code == 201  # type: ignore[attr-defined]
    body = created.json()  # type: ignore[attr-defined]
    assert body["locale"] == "es" and body["subject"] == SPANISH["subject"]
    etag = created.headers["ETag"]  # type: ignore[attr-defined]
    assert api.get(ES).headers["ETag"] == etag
    assert [(i["locale"], i["etag"]) for i in listed(api)] == [("es", etag)]
    again = put(api, ES, SPANISH, **{"If-None-Match": "*"})
    assert again.status_code == 412  # type: ignore[attr-defined]
    assert again.json()["param"] == "If-None-Match"  # type: ignore[attr-defined]


def test_replace_with_if_match_moves_only_that_etag(api: Api) -> None:
    template_etag = api.get(f"{TEMPLATES}/invoice_created").headers["ETag"]
    etag = put(api, ES, SPANISH, **{"If-None-Match": "*"}).headers["ETag"]  # type: ignore[attr-defined]
    same = put(api, ES, SPANISH, **{"If-Match": etag})
    assert same.status_code == 200 and same.headers["ETag"] == etag  # type: ignore[attr-defined]
    changed = put(api, ES, {**SPANISH, "subject": "Nueva factura"}, **{"If-Match": etag})
    assert changed.status_code == 200  # type: ignore[attr-defined]
    assert changed.headers["ETag"] != etag  # type: ignore[attr-defined]
    stale = put(api, ES, SPANISH, **{"If-Match": etag})
    assert stale.status_code == 412  # type: ignore[attr-defined]
    assert api.get(f"{TEMPLATES}/invoice_created").headers["ETag"] == template_etag


def test_tags_are_canonical_and_compared_case_insensitively(api: Api) -> None:
    created = put(
        api, f"{TEMPLATES}/payment_failed/locales/pt-br", SPANISH, **{"If-None-Match": "*"}
    )
    assert created.json()["locale"] == "pt-BR"  # type: ignore[attr-defined]
    assert api.get(f"{TEMPLATES}/payment_failed/locales/PT-BR").json()["locale"] == "pt-BR"
    dup = put(api, f"{TEMPLATES}/payment_failed/locales/Pt-Br", SPANISH, **{"If-None-Match": "*"})
    assert dup.status_code == 412  # type: ignore[attr-defined]
    put(api, f"{TEMPLATES}/payment_failed/locales/ES", SPANISH, **{"If-None-Match": "*"})
    assert [i["locale"] for i in listed(api, "payment_failed")] == ["es", "pt-BR"]


@pytest.mark.parametrize("tag", ["es_ES", "english", "e", "es--ES", "x", "es-ES-ES-ES-ES", "ñ"])
def test_malformed_tag_is_422_naming_the_param(api: Api, tag: str) -> None:
    response = put(api, f"{TEMPLATES}/invoice_created/locales/{tag}", SPANISH, **{"If-Match": "*"})
    assert response.status_code == 422, tag  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert (body["code"], body["param"]) == ("invalid_locale", "tag")
    assert body["detail"].startswith(f"{tag!r} is not a BCP 47 language tag (")
    assert body["detail"].endswith("); e.g. es, en, pt-BR, zh-Hant-TW")


def test_unknown_event_is_404_before_the_tag(api: Api) -> None:
    response = api.get(f"{TEMPLATES}/invoice_paid/locales/es")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_event"


def test_translation_follows_the_template_rules(api: Api) -> None:
    bad = put(api, ES, {**SPANISH, "body": "{{enlace_portal}}"}, **{"If-None-Match": "*"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert (bad.json()["code"], bad.json()["param"]) == ("unknown_variable", "body")  # type: ignore[attr-defined]
    assert api.get(ES).status_code == 404


def test_delete_removes_the_translation(api: Api) -> None:
    etag = put(api, ES, SPANISH, **{"If-None-Match": "*"}).headers["ETag"]  # type: ignore[attr-defined]
    assert api.request("DELETE", ES).status_code == 428
    assert api.request("DELETE", ES, headers={"If-Match": '"stale"'}).status_code == 412
    gone = api.request("DELETE", ES, headers={"If-Match": etag})
    assert gone.status_code == 204 and gone.content == b""
    assert api.get(ES).status_code == 404
    assert listed(api) == []
    assert api.request("DELETE", ES, headers={"If-Match": "*"}).status_code == 412


def test_resetting_the_template_keeps_its_translations(api: Api) -> None:
    put(api, ES, SPANISH, **{"If-None-Match": "*"})
    api.request("DELETE", f"{TEMPLATES}/invoice_created", headers={"If-Match": "*"})
    assert [i["locale"] for i in listed(api)] == ["es"]


def test_translations_are_per_portal(make_api: object) -> None:
    one = make_api(any_key=True, key="sk_test_portal_one")  # type: ignore[operator]
    put(one, ES, SPANISH, **{"If-None-Match": "*"})
    two = make_api(any_key=True, key="sk_test_portal_two")  # type: ignore[operator]
    assert listed(two) == []
    assert two.get(ES).status_code == 404


def test_translations_per_event_are_bounded(api: Api) -> None:
    for n in range(MAX_LOCALES_PER_EVENT):
        tag = f"x-t{n}"
        path = f"{TEMPLATES}/invoice_created/locales/{tag}"
        assert put(api, path, SPANISH, **{"If-None-Match": "*"}).status_code == 201  # type: ignore[attr-defined]
    over = put(api, ES, SPANISH, **{"If-None-Match": "*"})
    assert over.status_code == 422  # type: ignore[attr-defined]
    assert over.json()["code"] == "too_many_locales"  # type: ignore[attr-defined]
