"""The preview page: self-contained, escaped, sandboxed emails, exactly the allowed actions."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from reconciler.preview.page import build_preview
from reconciler.preview.samples import UNKNOWN_PORTAL_URL
from tests.unit.preview.builders import PORTAL_URL, desired_state, live_state, plan_for


class Elements(HTMLParser):
    """Every start tag of a document: (tag, attributes)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, **want: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if all(a.get(k) == v for k, v in want.items())]


def page(tmp_path: Path, settings: dict[str, object] | None = None, **kw: object) -> str:
    live = live_state(**kw)  # type: ignore[arg-type]
    desired = desired_state(tmp_path, settings)
    return build_preview(desired, live, plan_for(desired, live), logo_before=None)


def test_page_is_self_contained_and_says_so_to_the_browser(tmp_path: Path) -> None:
    text = page(tmp_path, {"branding": {"primary_color": "#aa3300"}})
    doc = Elements(text)
    csp = doc.find(**{"http-equiv": "Content-Security-Policy"})
    assert csp and "default-src 'none'" in csp[0]["content"]
    assert "<script" not in text.lower()
    outside = [
        (tag, value)
        for tag, attrs in doc.tags
        for name, value in attrs.items()
        if name in {"src", "href", "action"} and re.match(r"\s*(https?:)?//", value)
    ]
    assert outside == []


def test_an_action_whose_permission_is_off_is_absent_after_and_marked_before(
    tmp_path: Path,
) -> None:
    doc = Elements(page(tmp_path, {"permissions": {"update_payment_methods": False}}))
    after = [a for a in doc.find(**{"data-action": "update_payment_methods"})]
    # one button: the live panel's, marked as going away; none in the after panel
    assert len(after) == 1 and "gone" in after[0]["class"]
    primaries = doc.find(**{"data-role": "primary-button"})
    assert [p["data-action"] for p in primaries] == [
        "update_payment_methods",
        "view_payment_history",
    ]


def test_spec_and_server_text_is_escaped(tmp_path: Path) -> None:
    evil = '<img src=x onerror="alert(1)">'
    live = live_state(company_name=evil, templates={"invoice_created": (evil, "x")})
    desired = desired_state(tmp_path, {"branding": {"company_name": "A&B <Co>"}})
    text = build_preview(desired, live, plan_for(desired, live), logo_before=None)
    assert "<img src=x" not in text
    assert html.escape(evil) in text
    assert "A&amp;B &lt;Co&gt;" in text


def test_email_body_lives_only_in_a_sandboxed_srcdoc(tmp_path: Path) -> None:
    body = (
        '<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/">'
        '<link rel="prefetch" href="https://evil.example/x"></head><body>'
        "<script>document.title='pwned'</script>"
        '<img src="https://tracker.example/open.gif">'
        '<a href="{{customer_portal_link}}">Manage billing</a></body></html>'
    )
    live = live_state()
    desired = desired_state(tmp_path, templates={"invoice_created": ("Hi", body)})
    text = build_preview(desired, live, plan_for(desired, live), logo_before=None)
    doc = Elements(text)
    frames = [a for tag, a in doc.tags if tag == "iframe"]
    assert len(frames) == 2 and all(f["sandbox"] == "" for f in frames)
    after = frames[1]["srcdoc"]
    assert "Content-Security-Policy" in after and "default-src 'none'" in after
    assert f'<a href="{PORTAL_URL}">Manage billing</a>' in after
    assert 'http-equiv="refresh"' not in after and "<link" not in after
    # outside the srcdoc attribute the page has no script and no tracker
    outside = re.sub(r'srcdoc="[^"]*"', "", text)
    assert "script" not in outside.lower() and "tracker.example" not in outside


def test_email_without_portal_link_is_flagged(tmp_path: Path) -> None:
    live = live_state()
    desired = desired_state(tmp_path, templates={"payment_failed": ("Oops", "Call us.")})
    doc = Elements(build_preview(desired, live, plan_for(desired, live), logo_before=None))
    flags = doc.find(**{"data-role": "no-portal-link"})
    assert len(flags) == 1  # the live one links, the new one does not


def test_portal_link_before_the_portal_has_a_url(tmp_path: Path) -> None:
    live = live_state(enabled=False, portal_url=None)
    desired = desired_state(
        tmp_path, {"enabled": True}, templates={"payment_failed": ("S", "{{customer_portal_link}}")}
    )
    text = build_preview(desired, live, plan_for(desired, live), logo_before=None)
    assert html.escape(f'<a href="{UNKNOWN_PORTAL_URL}">', quote=True) in text


def test_bidi_and_control_characters_are_shown_not_obeyed(tmp_path: Path) -> None:
    live = live_state(company_name="Acme\u202eevil\x1b[2J")
    desired = desired_state(tmp_path)
    text = build_preview(desired, live, plan_for(desired, live), logo_before=None)
    assert "\u202e" not in text and "\x1b" not in text
    assert "Acme\\u202eevil\\x1b[2J" in text
