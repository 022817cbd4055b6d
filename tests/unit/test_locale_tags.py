"""BCP 47 tags: validation and canonical case, one function for spec, plan and sandbox."""

from __future__ import annotations

import pytest

from reconciler.locales import InvalidTag, canonical_tag, is_valid_tag


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("es", "es"),
        ("ES", "es"),
        ("pt-br", "pt-BR"),
        ("PT-BR", "pt-BR"),
        ("es-419", "es-419"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("sr-LATN", "sr-Latn"),
        ("zh-yue-HK", "zh-yue-HK"),
        ("de-CH-1901", "de-CH-1901"),
        ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
        ("x-klingon", "x-klingon"),
        ("en-x-Pirate", "en-x-pirate"),
    ],
)
def test_canonical_case(tag: str, canonical: str) -> None:
    assert canonical_tag(tag) == canonical
    assert is_valid_tag(tag)


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("", "empty language tag"),
        ("es_ES", "only ASCII letters, digits and '-' separators are allowed"),
        ("es-", "only ASCII letters, digits and '-' separators are allowed"),
        ("español", "only ASCII letters, digits and '-' separators are allowed"),
        ("e", "the language subtag 'e' must be 2 or 3 letters (ISO 639)"),
        ("spanish", "the language subtag 'spanish' must be 2 or 3 letters (ISO 639)"),
        ("en-US-US", "unexpected subtag 'us'"),
        ("de-1901-1901", "variant '1901' appears twice"),
        ("en-u", "extension 'u' has no subtag"),
        ("en-u-ca-u-nu", "extension 'u' appears twice"),
        ("x", "a private-use part 'x-' needs subtags of 1 to 8 characters"),
        ("a" * 36, "longer than 35 characters"),
    ],
)
def test_malformed_tags_say_why(tag: str, why: str) -> None:
    with pytest.raises(InvalidTag) as caught:
        canonical_tag(tag)
    assert str(caught.value) == why
    assert not is_valid_tag(tag)
