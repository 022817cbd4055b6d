"""The preview page: the portal and its emails, live and after apply, side by side.

``build_preview`` is pure (apart from reading the spec's logo file, see
``state.after_view``): it returns one self-contained HTML document: no script, no request
to any host (a CSP meta tag says so to the browser), images inlined as data: URIs. Each
email is shown in its own ``<iframe sandbox="" srcdoc=...>``, so a template's script never
runs and its remote images never load.

``portal_page`` and ``email_page`` are the standalone documents screenshotted by
``--png`` (fixed sizes, see ``style.py``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reconciler.model import DesiredState, Diagnostic, LiveState
from reconciler.plan import Plan
from reconciler.preview.emails import email_document, fill_subject, sample_values
from reconciler.preview.escape import esc
from reconciler.preview.portal import AFTER, BEFORE, panel_html, tab_title
from reconciler.preview.samples import uses_portal_link
from reconciler.preview.state import (
    EmailView,
    PortalView,
    after_view,
    changed_marks,
    live_view,
    translation_key,
)
from reconciler.preview.style import CSS, PAGE_CSP


@dataclass(frozen=True)
class Preview:
    """Both sides of one portal, ready to render."""

    name: str
    plan: Plan
    before: PortalView
    after: PortalView
    marks: frozenset[str]
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def events(self) -> tuple[str, ...]:
        """The managed emails (the spec names them), in a stable order: each event, then
        its translations (``invoice_created.es``)."""
        desired = self.plan.desired
        keys = set(desired.templates)
        for event, locales in desired.translations.items():
            keys.update(translation_key(event, tag) for tag in locales)
        return tuple(sorted(keys))


def make_preview(
    desired: DesiredState,
    live: LiveState,
    plan: Plan,
    *,
    logo_before: bytes | None = None,
    name: str | None = None,
    diagnostics: Sequence[Diagnostic] = (),
) -> Preview:
    """Both views of one portal and the marks of what the plan changes."""
    return Preview(
        name=name or desired.spec_path.name,
        plan=plan,
        before=live_view(live, logo_bytes=logo_before),
        after=after_view(desired, live, logo_before=logo_before),
        marks=changed_marks(plan),
        diagnostics=tuple(diagnostics),
    )


def build_preview(
    desired: DesiredState, live: LiveState, plan: Plan, *, logo_before: bytes | None
) -> str:
    """The preview page of one portal (see the module docstring)."""
    return render_page([make_preview(desired, live, plan, logo_before=logo_before)])


def _document(title: str, body: str, *, body_class: str = "") -> str:
    cls = f' class="{body_class}"' if body_class else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body{cls}>{body}</body></html>\n"
    )


def render_page(previews: Sequence[Preview]) -> str:
    """The preview page of one or more portals (a fleet: one section each)."""
    title = (
        f"Portal preview: {previews[0].name}"
        if len(previews) == 1
        else f"Portal preview: {len(previews)} portals"
    )
    body = "".join(_section(p) for p in previews)
    return _document(title, f"<main>{body}</main>")


def _section(p: Preview) -> str:
    plan = p.plan
    out = [
        f'<section class="portal-preview" data-spec="{esc(p.name)}">',
        f"<h1>{esc(p.name)}</h1>",
        f'<p class="meta">Target: {esc(plan.target)} &middot; {esc(plan.summary_line())}</p>',
        *(_diagnostic(d) for d in p.diagnostics),
        '<div class="pair">',
        _side("Live now", panel_html(p.before, side=BEFORE, marks=p.marks, other=p.after)),
        _side(
            "After apply" + _what_changed(p.marks),
            panel_html(p.after, side=AFTER, marks=p.marks, other=p.before),
        ),
        "</div>",
        _changes(plan),
        "<h2>Emails</h2>",
        *_emails(p),
        "</section>",
    ]
    return "".join(out)


#: mark -> how the caption of the after side names it.
_MARK_NAMES: dict[str, str] = {
    "enabled": "portal on/off",
    "branding.company_name": "company name and tab title",
    "branding.primary_color": "primary colour",
    "logo": "logo",
}


def _what_changed(marks: frozenset[str]) -> str:
    names = [name for mark, name in _MARK_NAMES.items() if mark in marks]
    if any(m.startswith("permissions.") for m in marks):
        names.append("self-service actions")
    if not names:
        return ""
    return f' <span class="badge chg-b">changed: {esc(", ".join(names))}</span>'


def _diagnostic(diag: Diagnostic) -> str:
    return f'<p class="note">{esc(str(diag))}</p>'


def _side(caption: str, inner: str) -> str:
    return f'<div class="side"><p class="caption">{caption}</p>{inner}</div>'


def _changes(plan: Plan) -> str:
    if not plan.changes:
        return '<p class="meta">No changes: the portal already matches the spec.</p>'
    items = []
    for change in plan.changes:
        text = esc(change.title)
        if change.field:
            text += (
                f": <code>{esc(_short(change.before))}</code> &rarr; "
                f"<code>{esc(_short(change.after))}</code>"
            )
        if change.disruptive:
            text += ' <span class="badge gone-b">disruptive</span>'
        items.append(f"<li>{text}</li>")
    return f'<h2>Changes</h2><ul class="changes">{"".join(items)}</ul>'


def _short(value: object) -> str:
    text = (
        "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    )
    return text if len(text) <= 80 else text[:77] + "..."


def _emails(p: Preview) -> Iterator[str]:
    unmanaged = sorted(set(p.before.emails) - set(p.events))
    if unmanaged:
        yield (
            '<p class="meta">Not managed by this spec, left as they are: '
            f"{esc(', '.join(unmanaged))}.</p>"
        )
    if not p.events:
        yield '<p class="meta">The spec manages no email templates.</p>'
        return
    for event in p.events:
        changed = f"email:{event}" in p.marks
        badge = ' <span class="badge chg-b">changed</span>' if changed else ""
        yield f'<h3 id="email-{esc(event)}">{esc(event)}{badge}</h3>'
        yield '<div class="pair">'
        for caption, view, side in (
            ("Live now", p.before, BEFORE),
            ("After apply", p.after, AFTER),
        ):
            email = view.emails.get(event)
            inner = email_html(email, view, mark=changed and side == AFTER)
            yield _side(caption, inner)
        yield "</div>"


def email_html(email: EmailView | None, view: PortalView, *, mark: bool = False) -> str:
    """One email: its subject with sample values and its body in a sandboxed frame,
    flagged when it has no portal link."""
    cls = "email chg" if mark else "email"
    if email is None:
        return (
            f'<div class="{cls}"><div class="pending">The portal has no such template.</div></div>'
        )
    if email.pending_default:
        return (
            f'<div class="{cls}" data-event="{esc(email.event)}">'
            '<div class="subject">Reset to the portal\'s default template</div>'
            '<div class="pending">Apply resets this email to the content the portal ships '
            "with; that text is the portal's, so it can be read after apply.</div></div>"
        )
    values = sample_values(portal_url=view.portal_url, company_name=view.company_name)
    subject = fill_subject(email.subject, values)
    sender = esc(view.company_name or tab_title(view))
    flags = ""
    if not uses_portal_link(email.body) and not uses_portal_link(email.subject):
        flags = (
            '<div class="flag" data-role="no-portal-link">No {{customer_portal_link}}: '
            "customers cannot reach the portal from this email.</div>"
        )
    doc = email_document(email.body, values)
    return (
        f'<div class="{cls}" data-event="{esc(email.event)}">'
        f'<div class="subject">From: {sender}<b title="subject">{esc(subject)}</b>'
        f"</div>{flags}"
        f'<iframe sandbox="" referrerpolicy="no-referrer" title="{esc(email.event)}"'
        f' srcdoc="{html.escape(doc, quote=True)}"></iframe></div>'
    )


def portal_page(view: PortalView, *, side: str, marks: frozenset[str], other: PortalView) -> str:
    """A standalone page holding one portal panel at (0, 0): for screenshots. Its title is
    the portal's tab title, as a customer's browser would show it."""
    return _document(
        tab_title(view),
        panel_html(view, side=side, marks=marks, other=other),
        body_class="standalone",
    )


def email_page(email: EmailView | None, view: PortalView) -> str:
    """A standalone page holding one email at (0, 0): for screenshots."""
    title = email.event if email is not None else "email"
    return _document(title, email_html(email, view), body_class="standalone")
