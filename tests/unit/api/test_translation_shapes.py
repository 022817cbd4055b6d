"""Translations in the template list are checked like every other answer, never coerced."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.api import routes
from reconciler.api.shapes import ShapeError
from reconciler.model import EVENTS

ETAG = '"0123456789abcdef"'


def listing(locales: Any) -> dict[str, Any]:
    data = []
    for event in EVENTS:
        item = {
            "event": event,
            "subject": "S",
            "body": "B",
            "is_default": True,
            "updated_at": "2026-01-01T00:00:00Z",
            "etag": ETAG,
        }
        if event == "invoice_created":
            item["locales"] = locales
        data.append(item)
    return {"data": data}


def es(**overrides: Any) -> dict[str, Any]:
    item = {"locale": "es", "subject": "Factura", "body": "Hola", "etag": '"e5"'}
    item.update(overrides)
    return item


def test_translations_are_read_with_canonical_tags_and_etags() -> None:
    live = routes.parse_template_list(listing([es(), es(locale="pt-br", etag='"p7"')]))
    locales = live["invoice_created"].locales
    assert sorted(locales) == ["es", "pt-BR"]
    assert (locales["pt-BR"].etag, locales["es"].subject) == ('"p7"', "Factura")
    assert live["payment_failed"].locales == {}  # no locales array: none


@pytest.mark.parametrize(
    ("locales", "message"),
    [
        ("es", 'data[0].locales must be an array, got the string "es"'),
        ([es(subject=None)], "data[0].locales[0].subject must be a non-empty string, got null"),
        ([es(body=7)], "data[0].locales[0].body must be a non-empty string, got the number 7"),
        (
            [es(locale="es_ES")],
            'data[0].locales[0].locale must be a BCP 47 language tag, got the string "es_ES"',
        ),
        ([es(etag="no quotes")], "data[0].locales[0].etag must be a quoted ASCII string"),
        ([es(), es(locale="ES")], "data[0].locales[1].locale lists es a second time"),
    ],
)
def test_malformed_translations_are_refused_naming_the_field(locales: Any, message: str) -> None:
    with pytest.raises(ShapeError) as caught:
        routes.parse_template_list(listing(locales))
    assert str(caught.value).startswith(message)
