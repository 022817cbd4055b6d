"""portalctl: a GitOps reconciler for a payments Customer Portal."""

from __future__ import annotations

__version__ = "0.1.0"

#: Where an editor fetches the spec schema for a portal.yaml outside this repository: the
#: file in the project's home, pinned to this release (the schema's ``$id`` stays its
#: stable name). ``portalctl init`` and ``export`` write it into the modeline.
SCHEMA_URL = (
    "https://raw.githubusercontent.com/portalctl/portalctl/"
    f"v{__version__}/reconciler/schemas/portal.schema.json"
)
