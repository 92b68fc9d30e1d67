"""The warehouse kit's name and rules versions: what its entry point declares and its kit is built
under (every audit log's header names them). Imports nothing, so the entry point stays cheap."""

from __future__ import annotations

from typing import Final

NAME: Final = "warehouse"
#: Every rules version the kit can apply, newest first (see :mod:`.kit`).
RULES_VERSIONS: Final = ("warehouse-rules/2", "warehouse-rules/1")
