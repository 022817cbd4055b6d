"""Rules of meaning: a spec can match the schema and still hurt customers.

Each rule comes from the product's help article (the seed): the portal link belongs in
invoice and dunning emails (Step 4); a dunning email should land where the card can be
updated (troubleshooting, Problem 2); self-cancellation affects retention (Step 3); the
primary colour is the background of white button text (Step 2). Rule ids, severities and
descriptions live in ``rules.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from reconciler.model import (
    LINKED_EVENTS,
    PORTAL_LINK_VARIABLE,
    TEMPLATE_VARIABLES,
    DesiredState,
    DesiredTemplate,
    DesiredTranslation,
    Diagnostic,
    Origin,
)
from reconciler.spec.build import Built, TextSource
from reconciler.spec.rules import severity
from reconciler.spec.templates import syntax_problems
from reconciler.spec.textcheck import close_matches
from reconciler.spec.yamlload import YMap, YScalar, lookup

#: ``{{ name }}`` placeholders (whitespace inside the braces allowed).
VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

WCAG_AA = 4.5
_WHITE = "#ffffff"

Rule = Callable[[Built, YMap], Iterator[Diagnostic]]


def lint(built: Built, tree: YMap) -> list[Diagnostic]:
    """Run every rule of meaning over a built state."""
    out: list[Diagnostic] = []
    for rule in RULE_FUNCTIONS:
        out.extend(rule(built, tree))
    return out


def _diag(rule: str, origin: Origin, path: str, message: str, hint: str | None) -> Diagnostic:
    return Diagnostic(rule, severity(rule), origin, path, message, hint)


def variables(text: str) -> list[str]:
    """The ``{{variable}}`` names used in ``text``, in order."""
    return [m.group(1) for m in VARIABLE.finditer(text)]


def links_to_portal(template: DesiredTemplate | DesiredTranslation) -> bool:
    return PORTAL_LINK_VARIABLE in variables(template.subject) + variables(template.body)


def _translations(state: DesiredState, event: str) -> list[DesiredTranslation]:
    locales = state.translations.get(event, {})
    return [tr for _, tr in sorted(locales.items()) if isinstance(tr, DesiredTranslation)]


def _event_links(state: DesiredState, event: str) -> bool:
    """Does the spec's template of ``event``, or any of its translations, link to the portal?"""
    tpl = state.templates.get(event)
    if isinstance(tpl, DesiredTemplate) and links_to_portal(tpl):
        return True
    return any(links_to_portal(tr) for tr in _translations(state, event))


def _linking_events(state: DesiredState) -> list[str]:
    return [
        event
        for event in sorted({*state.templates, *state.translations})
        if _event_links(state, event)
    ]


def template_syntax(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    for _event, (subject, body) in sorted(built.sources.items()):
        for source in (subject, body):
            for problem in syntax_problems(source.text):
                nth = _overlapping_count(source.text, problem.marker, problem.index)
                yield _diag(
                    "template-syntax",
                    source.locate(problem.marker, nth),
                    source.path,
                    problem.message,
                    problem.hint,
                )


def _overlapping_count(text: str, token: str, before: int) -> int:
    """How many (possibly overlapping) ``token``s start before index ``before``."""
    return sum(1 for i in range(before) if text.startswith(token, i))


def unknown_variables(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    known = sorted(TEMPLATE_VARIABLES)
    for _event, (subject, body) in sorted(built.sources.items()):
        for source in (subject, body):
            if not syntax_problems(source.text):  # else template-syntax says it better
                yield from _unknown_in(source, known)


def _unknown_in(source: TextSource, known: list[str]) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for match in VARIABLE.finditer(source.text):
        token, name = match.group(0), match.group(1)
        nth = seen.get(token, 0)
        seen[token] = nth + 1
        if name in TEMPLATE_VARIABLES:
            continue
        close = close_matches(name, known, n=1, cutoff=0.6)
        hint = (
            f"did you mean {{{{{close[0]}}}}}?" if close else "known variables: " + ", ".join(known)
        )
        yield _diag(
            "template-unknown-variable",
            source.locate(token, nth),
            source.path,
            f"unknown template variable {token}",
            hint,
        )


def missing_portal_link(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    for event in LINKED_EVENTS:
        template = built.state.templates.get(event)
        if not isinstance(template, DesiredTemplate) or links_to_portal(template):
            continue
        path = f"portal.notifications.{event}"
        where = built.state.origins.get(path)
        if where is None:
            continue
        yield _diag(
            "template-missing-portal-link",
            where,
            path,
            f"the {event} email does not contain {{{{{PORTAL_LINK_VARIABLE}}}}}",
            f'add a link such as <a href="{{{{{PORTAL_LINK_VARIABLE}}}}}">Manage billing</a> so '
            "customers can pay and update their card themselves",
        )
    for event in LINKED_EVENTS:
        for tr in _translations(built.state, event):
            if links_to_portal(tr):
                continue
            path = f"portal.notifications.{event}.locales.{tr.locale}"
            where = built.state.origins.get(path)
            if where is None:
                continue
            yield _diag(
                "template-missing-portal-link",
                where,
                path,
                f"the {tr.locale} translation of the {event} email does not contain "
                f"{{{{{PORTAL_LINK_VARIABLE}}}}}",
                f'add a link such as <a href="{{{{{PORTAL_LINK_VARIABLE}}}}}">Gestionar '
                "facturación</a>, in that language, so those customers can pay and update "
                "their card themselves",
            )


def disabled_with_links(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    if built.state.settings.get("enabled") is not False:
        return
    events = _linking_events(built.state)
    node = lookup(tree, ("portal", "enabled"))
    if not events or node is None:
        return
    yield _diag(
        "portal-disabled-with-links",
        node.origin,
        "portal.enabled",
        f"the portal is disabled but the {' and '.join(events)} "
        f"{'emails link' if len(events) > 1 else 'email links'} to it with "
        f"{{{{{PORTAL_LINK_VARIABLE}}}}}: customers would get a dead link",
        f"set enabled: true, or remove {{{{{PORTAL_LINK_VARIABLE}}}}} from those templates",
    )


def payment_failed_cannot_update_card(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    permissions = built.state.settings.get("permissions", {})
    node = lookup(tree, ("portal", "permissions", "update_payment_methods"))
    if (
        not _event_links(built.state, "payment_failed")
        or permissions.get("update_payment_methods") is not False
        or node is None
    ):
        return
    yield _diag(
        "payment-failed-cannot-update-card",
        node.origin,
        "portal.permissions.update_payment_methods",
        "payment_failed emails send customers to the portal, but update_payment_methods is "
        "false: they cannot fix their card there",
        "set update_payment_methods: true (help article, troubleshooting Problem 2: the "
        '"Update payment method" option is missing)',
    )


def locale_coverage(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    """A customer should read every email in one language: an event whose template the spec
    manages but which lacks a language another event is translated into gets a warning."""
    state = built.state
    wanted: dict[str, list[str]] = {}
    for event in sorted(state.translations):
        for tr in _translations(state, event):
            wanted.setdefault(tr.locale, []).append(event)
    if not wanted:
        return
    for event in sorted(state.templates):
        if not isinstance(state.templates[event], DesiredTemplate):
            continue
        have = {tr.locale for tr in _translations(state, event)}
        missing = [tag for tag in sorted(wanted) if tag not in have]
        if not missing:
            continue
        base = f"portal.notifications.{event}"
        where = state.origins.get(f"{base}.locales") or state.origins.get(base)
        if where is None:
            continue
        others = sorted({e for tag in missing for e in wanted[tag]})
        tags = ", ".join(missing)
        yield _diag(
            "locale-coverage",
            where,
            base,
            f"no {tags} translation, while {' and '.join(others)} "
            f"{'have' if len(others) > 1 else 'has'} one: those customers would get some "
            "emails in their language and this one in the default",
            f"add {' and '.join(f'locales.{t}' for t in missing)} to {event}",
        )


def cancel_subscription(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    permissions = built.state.settings.get("permissions", {})
    node = lookup(tree, ("portal", "permissions", "cancel_subscription"))
    if permissions.get("cancel_subscription") is True and node is not None:
        yield _diag(
            "cancel-subscription-enabled",
            node.origin,
            "portal.permissions.cancel_subscription",
            "customers can cancel their subscription themselves",
            "the help article advises using this with care for retention; keep it if intended",
        )


def color_contrast(built: Built, tree: YMap) -> Iterator[Diagnostic]:
    color = built.state.settings.get("branding", {}).get("primary_color")
    node = lookup(tree, ("portal", "branding", "primary_color"))
    if not isinstance(color, str) or not isinstance(node, YScalar):
        return
    ratio = contrast_ratio(color, _WHITE)
    if ratio >= WCAG_AA:
        return
    yield _diag(
        "primary-color-contrast",
        node.origin,
        "portal.branding.primary_color",
        f'"{node.value}" has a contrast of {floor2(ratio):.2f}:1 with white button text; '
        f"WCAG AA needs {WCAG_AA}:1",
        f'use a darker shade, e.g. "{darken_to_contrast(color)}"',
    )


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two ``#rrggbb`` colours (1.0 to 21.0)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def darken_to_contrast(color: str, target: float = WCAG_AA) -> str:
    """The lightest darker shade of ``color`` (same hue) that reaches ``target`` on white."""
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    for step in range(100, -1, -1):
        candidate = "#" + "".join(f"{round(c * step / 100):02x}" for c in rgb)
        if contrast_ratio(candidate, _WHITE) >= target:
            return candidate.upper()
    return "#000000"


def floor2(value: float) -> float:
    """Round down to 2 decimals, so a failing ratio never displays as 4.50."""
    return int(value * 100) / 100


RULE_FUNCTIONS: tuple[Rule, ...] = (
    template_syntax,
    unknown_variables,
    missing_portal_link,
    disabled_with_links,
    payment_failed_cannot_update_card,
    locale_coverage,
    cancel_subscription,
    color_contrast,
)
