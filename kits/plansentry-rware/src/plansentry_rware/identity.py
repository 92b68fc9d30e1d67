"""The rware kit's name and rules versions: what its entry point declares and its kit is built
under (every audit log's header names them). Imports nothing, so the entry point stays cheap."""

from __future__ import annotations

from typing import Final

NAME: Final = "rware"
#: Every rules version this kit can apply, newest first (see :mod:`plansentry_rware.kit`).
RULES_VERSIONS: Final = ("rware-rules/1",)
