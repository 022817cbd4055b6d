"""An email template -> the HTML document a reviewer reads, with sample values filled in.

The result goes only into an ``<iframe sandbox="" srcdoc="...">`` (see ``page.py``): the
sandbox stops any script the template carries, and the CSP below (plus the page's own,
which a srcdoc frame inherits) stops remote images, fonts and stylesheets from loading, so
reviewing an email never tells a third party that it was opened.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from reconciler.model import PORTAL_LINK_VARIABLE
from reconciler.preview.samples import SAMPLE_VALUES, UNKNOWN_PORTAL_URL, VARIABLE_RE

#: Policy of every email document: inline styles and data: images only; nothing runs,
#: nothing is fetched, no form is sent.
EMAIL_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "form-action 'none'; base-uri 'none'"
)

#: Markup that would fetch or navigate without a script, which a frame's sandbox does not
#: stop: ``<meta http-equiv=refresh>`` and ``<link>`` (prefetch, dns-prefetch, preload).
_FETCHING_RE = re.compile(r"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*>|<link\b[^>]*>", re.I)

_TAG_RE = re.compile(r"<\s*(?:!doctype|html|head|body|p|div|table|br|a|span|h[1-6])\b", re.I)


def looks_like_html(body: str) -> bool:
    """An HTML body (rendered as HTML) as opposed to plain text (shown as text)."""
    return _TAG_RE.search(body) is not None


def sample_values(*, portal_url: str | None, company_name: str | None) -> dict[str, str]:
    """The value of every template variable in a preview: the documented samples, the
    portal's own company name and URL when known."""
    values = dict(SAMPLE_VALUES)
    if company_name:
        values["company_name"] = company_name
    values[PORTAL_LINK_VARIABLE] = portal_url or UNKNOWN_PORTAL_URL
    return values


def fill(text: str, values: Mapping[str, str], *, as_html: bool) -> str:
    """``text`` with each ``{{variable}}`` replaced by its value (HTML-escaped when
    ``as_html``); an unknown variable stays as written, so the reviewer sees it."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        return html.escape(value, quote=True) if as_html else value

    return VARIABLE_RE.sub(one, text)


def fill_subject(subject: str, values: Mapping[str, str]) -> str:
    """The subject line with sample values (plain text: the caller escapes it)."""
    return fill(subject, values, as_html=False)


def email_document(body: str, values: Mapping[str, str]) -> str:
    """The complete HTML document of one email body, for a sandboxed frame's ``srcdoc``.

    An HTML body keeps its markup (it is the template's own; it cannot run or fetch
    anything in the frame); a plain-text body is escaped, wrapped, and its portal link
    made a real link.
    """
    csp = f'<meta http-equiv="Content-Security-Policy" content="{EMAIL_CSP}">'
    if looks_like_html(body):
        filled = _FETCHING_RE.sub("", fill(body, values, as_html=True))
        head_at = re.search(r"<head\b[^>]*>", filled, re.I)
        if head_at is not None:
            return filled[: head_at.end()] + csp + filled[head_at.end() :]
        return f"<!DOCTYPE html><html><head>{csp}</head><body>{filled}</body></html>"
    text = _plain_text_html(body, values)
    style = (
        "margin:0;padding:24px;font:14px/1.5 Arial,Helvetica,sans-serif;color:#1f2937;"
        "white-space:pre-wrap;word-wrap:break-word"
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{csp}</head>'
        f'<body style="{style}">{text}</body></html>'
    )


def _plain_text_html(body: str, values: Mapping[str, str]) -> str:
    """Escape a plain-text body; the portal link becomes an ``<a>``."""
    out: list[str] = []
    pos = 0
    for match in VARIABLE_RE.finditer(body):
        out.append(html.escape(body[pos : match.start()]))
        name = match.group(1)
        value = values.get(name)
        if value is None:
            out.append(html.escape(match.group(0)))
        elif name == PORTAL_LINK_VARIABLE:
            url = html.escape(value, quote=True)
            out.append(f'<a href="{url}">{url}</a>')
        else:
            out.append(html.escape(value))
        pos = match.end()
    out.append(html.escape(body[pos:]))
    return "".join(out)
