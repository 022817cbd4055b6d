"""JSON renderer: exactly ``Plan.to_dict()`` (the same document a plan file holds)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reconciler.plan import Plan


def render(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
