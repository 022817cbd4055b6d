"""JSON renderer of one plan: exactly ``planfile.plan_to_dict`` (what a plan file holds)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import Plan


def render(plan: Plan) -> str:
    from reconciler.planfile import plan_to_dict
    from reconciler.textsafe import json_text

    return json_text(json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False)) + "\n"
