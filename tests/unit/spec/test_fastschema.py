"""The generated fast validator (``reconciler/spec/fastschema.py``) agrees with jsonschema.

jsonschema stays the source of truth: the fast path may only say "certainly valid" when
jsonschema finds nothing, and it must say so for the valid specs people write (otherwise
``validate`` would pay for jsonschema every time). Checked on every spec in tests/specs/,
the examples, the ``portalctl init`` starter and hypothesis-generated documents; and the
committed module must be what ``tools/gen_fastschema.py`` generates from today's schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from reconciler.spec import fastschema
from reconciler.spec.schema import load_schema, schema_sha256
from reconciler.spec.yamlload import load_yaml, to_python
from tools.gen_fastschema import MODULE, SCHEMA, generate

REPO = Path(__file__).resolve().parents[3]
SPEC_FILES = sorted(
    [
        *REPO.glob("tests/specs/**/*.y*ml"),
        *REPO.glob("examples/*.yaml"),
        *REPO.glob("reconciler/scaffold/files/*.yaml"),
    ]
)
JSONSCHEMA = Draft202012Validator(load_schema(), format_checker=FormatChecker())


def documents() -> list[tuple[str, Any]]:
    out = []
    for path in SPEC_FILES:
        loaded = load_yaml(path.read_bytes(), path.name)
        if loaded.tree is not None:  # a file that does not load never reaches the schema
            out.append((str(path.relative_to(REPO)), to_python(loaded.tree)))
    return out


def uri_shaped(document: Any) -> bool:
    """False when target.api_url is text the fast ``format: uri`` check cannot vouch for
    (jsonschema checks ``uri`` only when rfc3987 is installed: the fast path must not
    guess, so there it may say "ask jsonschema" for a document jsonschema accepts)."""
    target = document.get("target") if isinstance(document, dict) else None
    url = target.get("api_url") if isinstance(target, dict) else None
    return not isinstance(url, str) or fastschema._uri_like(url)


def test_the_committed_module_is_generated_from_todays_schema() -> None:
    assert MODULE.read_text(encoding="utf-8") == generate(SCHEMA.read_text(encoding="utf-8")), (
        "reconciler/spec/fastschema.py is stale: run python tools/gen_fastschema.py"
    )
    assert schema_sha256() == fastschema.SCHEMA_SHA256  # the installed schema, too


@pytest.mark.parametrize(("name", "document"), documents(), ids=lambda v: str(v)[:40])
def test_agrees_with_jsonschema_on_every_spec_file(name: str, document: Any) -> None:
    assert fastschema.is_valid(document) == JSONSCHEMA.is_valid(document), name


def test_the_corpus_has_both_outcomes() -> None:
    outcomes = {fastschema.is_valid(doc) for _name, doc in documents()}
    assert outcomes == {True, False}
    assert fastschema.is_valid(dict(documents())["examples/portal.yaml"])


# --- generated documents: mostly schema-shaped, with wrong types, blanks and extra keys ---

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -2.0, 1e300]),
    st.text(max_size=6),
    st.lists(st.integers(0, 2), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(0, 1), max_size=2),
)
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Acme", "Acme Cloud", "Hi {{name}}", "default"] * 3),
    st.sampled_from(["", " ", "a\nb", "x" * 101, "x" * 129, "\t", "é"]),
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually ``strategy``, sometimes junk of any type."""
    return st.one_of(*[strategy] * 15, JUNK)


def mapping(
    fields: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ()
) -> st.SearchStrategy[Any]:
    """A mapping of some of ``fields`` (``required`` ones nearly always), sometimes with
    an unknown key, sometimes junk instead."""
    optional = {k: v for k, v in fields.items() if k not in required}
    extra = st.dictionaries(st.sampled_from(["extra", "Enabled", "subjet", "1"]), JUNK, max_size=1)
    base = st.fixed_dictionaries({k: fields[k] for k in required}, optional=optional)
    drop = st.sampled_from([None] * 20 + list(required)) if required else st.none()
    return maybe(
        st.tuples(base, extra, st.integers(0, 15), drop).map(
            lambda t: {
                k: v for k, v in {**t[0], **(t[1] if t[2] == 0 else {})}.items() if k != t[3]
            }
        )
    )


URL = st.one_of(
    st.sampled_from(
        [
            "https://api.4geeks.io",
            "https://api.example.com:8443/v1",
            "http://localhost:8080",
            "http://127.0.0.1",
            "https://[::1]/x",
            "http://api.example.com",
            "https://exa mple.com",
            "https://a/<b>",
            "https://a/%zz",
            "https://a/%41",
            "ftp://x",
        ]
    ),
    st.text(max_size=10).map(lambda s: "https://a.b/" + s),
)
TEMPLATE = mapping(
    {
        "subject": maybe(TEXT),
        "body": maybe(TEXT),
        "body_file": maybe(st.sampled_from(["templates/a.html", ""])),
        "locales": maybe(
            st.dictionaries(
                st.sampled_from(["es", "fr", "pt-BR", ""]),
                st.one_of(
                    st.sampled_from(["default", "custom"]),
                    mapping({"subject": maybe(TEXT), "body": maybe(TEXT)}, required=("subject",)),
                ),
                max_size=2,
            )
        ),
    },
    required=("subject",),
)
NOTIFICATION = st.one_of(st.sampled_from(["default", "custom"]), TEMPLATE)


def _document() -> st.SearchStrategy[Any]:
    return mapping(
        {
            "version": st.sampled_from([1] * 10 + [1.0, True, 2, "1", None]),
            "target": mapping(
                {
                    "api_url": maybe(URL),
                    "api_key_env": maybe(
                        st.sampled_from(["ACME_KEY", "acme", "_X1", "", "A" * 129])
                    ),
                }
            ),
            "portal": mapping(
                {
                    "enabled": maybe(st.booleans()),
                    "branding": mapping(
                        {
                            "company_name": maybe(TEXT),
                            "primary_color": maybe(
                                st.sampled_from(
                                    ["#1662DD", "#1662dd", "#12345", "1662DD", "#1662DD\n"]
                                )
                            ),
                            "logo": maybe(st.one_of(st.none(), TEXT)),
                        }
                    ),
                    "permissions": mapping(
                        {
                            name: maybe(st.booleans())
                            for name in (
                                "update_payment_methods",
                                "view_payment_history",
                                "download_invoices",
                                "cancel_subscription",
                            )
                        }
                    ),
                    "notifications": mapping(
                        {
                            event: NOTIFICATION
                            for event in (
                                "invoice_created",
                                "payment_failed",
                                "payment_succeeded",
                                "subscription_canceled",
                            )
                        }
                    ),
                }
            ),
        },
        required=("version", "portal"),
    )


@st.composite
def generated_documents(draw: st.DrawFn) -> Any:
    """A composite, so hypothesis names it instead of printing the nested strategy."""
    return draw(_document())


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_documents())
def test_agrees_with_jsonschema_on_generated_documents(document: Any) -> None:
    fast, truth = fastschema.is_valid(document), JSONSCHEMA.is_valid(document)
    if fast:
        assert truth, "the fast path passed a document jsonschema rejects"
    elif truth:
        assert not uri_shaped(document), "the fast path sent a valid document to jsonschema"


# --- one change at a time to a document using every key: each boundary, each type --------

FULL: dict[str, Any] = {
    "version": 1,
    "target": {"api_url": "https://api.example.com/v1", "api_key_env": "ACME_KEY"},
    "portal": {
        "enabled": True,
        "branding": {"company_name": "Acme", "primary_color": "#1662DD", "logo": "a.png"},
        "permissions": {
            "update_payment_methods": True,
            "view_payment_history": True,
            "download_invoices": False,
            "cancel_subscription": False,
        },
        "notifications": {
            "invoice_created": {
                "subject": "Invoice",
                "body_file": "t.html",
                "locales": {"es": {"subject": "Factura", "body": "<p>x</p>"}, "fr": "default"},
            },
            "payment_failed": {"subject": "Failed", "body": "<p>x</p>"},
            "payment_succeeded": "default",
        },
    },
}
VALUES = [
    None, True, False, 0, 1, 1.0, 2, -1, "", " ", "x", "a\nb", "x" * 100, "x" * 101,
    "x" * 128, "x" * 129, "default", "#1662dd", "#1662DD\n", "ACME_KEY", "acme",
    "http://localhost:8080", "http://api.example.com", "https://a/<b>", [], [1], {},
    {"subject": "S"}, {"subject": "S", "body": "b"},
    {"subject": "S", "body": "b", "body_file": "f"},
]  # fmt: skip


def mutations(node: Any, path: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """(description, FULL with one change) for every key: each value of VALUES in its
    place, the key removed, and an unknown key beside it."""
    out: list[tuple[str, Any]] = []
    if not isinstance(node, dict):
        return out

    def changed(edit: Any) -> Any:
        import copy

        doc = copy.deepcopy(FULL)
        target = doc
        for key in path:
            target = target[key]
        edit(target)
        return doc

    out.append((f"{'.'.join(path)}+extra", changed(lambda t: t.update(extra=1))))
    for key, value in node.items():
        where = ".".join((*path, key))
        out.append((f"{where}-removed", changed(lambda t, k=key: t.pop(k))))
        for i, v in enumerate(VALUES):
            out.append((f"{where}={i}", changed(lambda t, k=key, v=v: t.__setitem__(k, v))))
        out += mutations(value, (*path, key))
    return out


def test_agrees_with_jsonschema_on_every_single_change() -> None:
    cases = mutations(FULL)
    assert fastschema.is_valid(FULL) and JSONSCHEMA.is_valid(FULL)
    disagree = [
        name
        for name, doc in cases
        if fastschema.is_valid(doc) != JSONSCHEMA.is_valid(doc)
        and not (JSONSCHEMA.is_valid(doc) and not uri_shaped(doc))
    ]
    assert disagree == []
    assert len(cases) > 500
