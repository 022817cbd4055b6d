"""What --png takes: names and sizes per portal; several portals are told apart."""

from __future__ import annotations

from pathlib import Path

from reconciler.preview.output import prefixes, shots
from reconciler.preview.page import Preview, make_preview
from tests.unit.preview.builders import desired_state, live_state, plan_for


def preview_named(tmp_path: Path, name: str, events: tuple[str, ...] = ()) -> Preview:
    live = live_state()
    desired = desired_state(
        tmp_path, templates={e: ("S", "{{customer_portal_link}}") for e in events}
    )
    return make_preview(desired, live, plan_for(desired, live), name=name)


def test_one_portal_has_no_prefix_and_one_shot_per_side(tmp_path: Path) -> None:
    one = preview_named(tmp_path, "portal.yaml", ("payment_failed",))
    assert [(s.name, s.width, s.height) for s in shots([one])] == [
        ("portal-before.png", 600, 440),
        ("portal-after.png", 600, 440),
        ("email-payment_failed-before.png", 600, 720),
        ("email-payment_failed-after.png", 600, 720),
    ]


def test_several_portals_are_prefixed_and_never_collide(tmp_path: Path) -> None:
    names = ["a/portal.yaml", "b/portal.yaml", "acme prod.yaml"]
    previews = [preview_named(tmp_path, n) for n in names]
    assert prefixes(previews) == ["portal-", "portal-2-", "acme-prod-"]
    assert len({s.name for s in shots(previews)}) == 6
