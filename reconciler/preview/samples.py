"""Documented sample values for every template variable, used to render email previews.

A reviewer reads an email the way a customer would: with a name, an amount and a date in
place of each ``{{variable}}``. These values are fixed (no randomness, no clock), so two
previews of the same spec are byte-identical and a screenshot diff shows only real changes.

``customer_portal_link`` is not here: it is the portal's own URL (see
``reconciler.preview.emails``), so the preview's link points where the real email will.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reconciler.model import PORTAL_LINK_VARIABLE

#: variable -> the value shown in previews. Every name in ``model.TEMPLATE_VARIABLES`` except
#: ``customer_portal_link`` has one (a unit test holds the two sets equal).
SAMPLE_VALUES: Mapping[str, str] = {
    "company_name": "Acme Cloud",
    "customer_name": "Ana García",
    "customer_email": "ana.garcia@example.com",
    "invoice_number": "INV-2026-0042",
    "invoice_amount": "49.00",
    "invoice_currency": "USD",
    "invoice_due_date": "2026-03-15",
    "invoice_url": "#sample-invoice-INV-2026-0042",
    "payment_amount": "49.00 USD",
    "payment_date": "2026-03-01",
    "card_brand": "Visa",
    "card_last4": "4242",
    "failure_reason": "the card has expired",
    "next_retry_date": "2026-03-04",
    "subscription_name": "Pro (monthly)",
    "cancellation_date": "2026-03-31",
}

#: Where ``{{customer_portal_link}}`` points when the portal has no URL yet (it is disabled,
#: or enabled by this very apply: the portal assigns the URL then). ``.invalid`` is reserved
#: (RFC 2606), so the link can never reach a real host.
UNKNOWN_PORTAL_URL = "https://portal-url-assigned-when-enabled.invalid/"

VARIABLE_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def uses_portal_link(text: str) -> bool:
    """True when ``text`` contains ``{{customer_portal_link}}`` (spaces allowed inside)."""
    return any(m.group(1) == PORTAL_LINK_VARIABLE for m in VARIABLE_RE.finditer(text))
