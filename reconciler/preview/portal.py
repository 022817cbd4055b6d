"""One portal panel: the customer's view of the portal (seed, Steps 2-3) as HTML.

Every string from a spec or a server goes through ``escape.esc``; the logo is inlined as a
data: URI (PNG or JPEG only); nothing in a panel loads from anywhere or runs.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

from reconciler.preview.escape import esc
from reconciler.preview.samples import SAMPLE_VALUES
from reconciler.preview.state import LogoView, PortalView
from reconciler.preview.style import BUTTON_BOX, BUTTON_STEP

#: Self-service action -> the button a customer sees (seed, Step 3), in display order.
ACTION_LABELS: dict[str, str] = {
    "update_payment_methods": "Update payment method",
    "view_payment_history": "View payment history",
    "download_invoices": "Download invoices",
    "cancel_subscription": "Cancel subscription",
}

#: Image types a panel inlines (what the API accepts for a logo); anything else is drawn
#: as a placeholder, so an SVG with a script can never reach the page.
_INLINE_TYPES = frozenset({"image/png", "image/jpeg"})

BEFORE, AFTER = "before", "after"


def tab_title(view: PortalView) -> str:
    """The browser tab's title: the company name (seed, Step 2)."""
    return view.company_name or "Billing portal"


def _mark(key: str, marks: frozenset[str], side: str) -> str:
    return " chg" if side == AFTER and key in marks else ""


def _badge(kind: str) -> str:
    text = {"chg": "changed", "new": "added", "gone": "removed"}[kind]
    return f'<span class="badge {kind}-b">{text}</span>'


def logo_html(logo: LogoView | None, *, mark: str) -> str:
    """The logo box: the image, or a placeholder naming the logo by its sha256 prefix."""
    if logo is None:
        inner = '<div class="placeholder">no logo</div>'
    elif logo.data is not None and logo.content_type in _INLINE_TYPES:
        data = base64.b64encode(logo.data).decode("ascii")
        inner = f'<img alt="logo" src="data:{logo.content_type};base64,{data}">'
    else:
        inner = (
            '<div class="placeholder">logo sha256 '
            f"{esc(logo.sha256[:12])}&hellip;<br>(not downloaded for the preview)</div>"
        )
    return f'<div class="logo{mark}" id="logo-box" data-role="logo">{inner}</div>'


def panel_html(
    view: PortalView, *, side: str, marks: frozenset[str], other: PortalView | None = None
) -> str:
    """One portal panel. ``side`` is ``before`` (live) or ``after`` (once applied);
    ``marks`` (``state.changed_marks``) outlines what the plan changes on the after side;
    ``other`` is the opposite side, so an action that appears or disappears is marked."""
    color = view.primary_color
    url = view.portal_url or "(no portal URL yet: the portal assigns one when it is enabled)"
    name = esc(view.company_name or "")
    parts = [
        f'<div class="panel" data-side="{side}" style="--primary:{color}">',
        f'<div class="tab{_mark("branding.company_name", marks, side)}" data-role="tab">'
        f"<span>{esc(tab_title(view))}</span></div>",
        f'<div class="url{_mark("enabled", marks, side)}" data-role="url">{esc(url)}</div>',
        logo_html(view.logo, mark=_mark("logo", marks, side)),
        f'<div class="company{_mark("branding.company_name", marks, side)}" '
        f'data-role="company">{name}</div>',
        '<div class="hr"></div>',
        f'<div class="summary">{esc(SAMPLE_VALUES["customer_name"])}: '
        f'your plan <a href="#plan" style="color:{color}">'
        f"{esc(SAMPLE_VALUES['subscription_name'])}</a> renews on "
        f"{esc(SAMPLE_VALUES['invoice_due_date'])}.</div>",
        *_buttons(view, side=side, marks=marks, other=other),
        _history(view),
    ]
    if not view.enabled:
        mark = _mark("enabled", marks, side)
        parts.append(
            f'<div class="disabled{mark}" data-role="disabled">Portal disabled: a customer '
            "following a portal link sees an error page.</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def _buttons(
    view: PortalView, *, side: str, marks: frozenset[str], other: PortalView | None
) -> Iterator[str]:
    y = BUTTON_BOX[1]
    slot = 0
    for action, label in ACTION_LABELS.items():
        if not view.permissions.get(action):
            continue
        kind = ""
        if other is not None and not other.permissions.get(action):
            kind = "new" if side == AFTER else "gone"
        elif slot == 0 and _mark("branding.primary_color", marks, side):
            kind = "chg"
        color = view.primary_color
        style = (
            f"top:{y + slot * BUTTON_STEP}px;background:#ffffff;color:{color};"
            f"border:2px solid {color}"
            if action == "cancel_subscription"
            else f"top:{y + slot * BUTTON_STEP}px;background:{color}"
        )
        role = ' data-role="primary-button"' if slot == 0 else ""
        badge = _badge(kind) if kind else ""
        yield (
            f'<div class="btn{" " + kind if kind else ""}" data-action="{action}"{role} '
            f'style="{style}">{esc(label)}{badge}</div>'
        )
        slot += 1


def _history(view: PortalView) -> str:
    if not (
        view.permissions.get("view_payment_history") or view.permissions.get("download_invoices")
    ):
        return ""
    color = view.primary_color
    number = esc(SAMPLE_VALUES["invoice_number"])
    amount = esc(f"{SAMPLE_VALUES['invoice_amount']} {SAMPLE_VALUES['invoice_currency']}")
    rows = ['<div class="history" data-role="history"><b>Recent invoices</b>']
    if view.permissions.get("download_invoices"):
        rows.append(
            f'<a href="#invoice" style="color:{color}">{number} &middot; {amount} (PDF)</a>'
        )
    else:
        rows.append(f"<div>{number} &middot; {amount}</div>")
    rows.append("</div>")
    return "".join(rows)
