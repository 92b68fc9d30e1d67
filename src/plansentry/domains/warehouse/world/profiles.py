"""The warehouse world's built-in fault profiles, as data (``simulate --profile NAME``).

- ``pilot``: the pilot that motivates plansentry. 0.7 % of outputs are malformed JSON, stalls are
  rare (1 in 10,000), latency has a median of 0.9 s (the profile's defaults);
- ``chaos``: every fault at 1 % or more, to exercise every row of the FMLI matrix.

Every world also has ``outage`` and ``clean`` (:data:`plansentry.sim.profiles.GENERIC_PROFILES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

#: The faults a warehouse answer can show, in the order the synthetic model draws them
#: (``slow`` last, so adding it to a profile leaves the draws of every other fault unchanged).
FAULTS: Final = (
    "malformed",  # truncated, trailing comma, unbalanced brackets, prose around it, code fence
    "schema",  # valid JSON of the wrong shape: a field missing, mistyped, out of range
    "hallucinated_bin",  # a bin that does not exist on the map
    "incomplete",  # an order line left out
    "unsafe",  # over the speed limit, or a via-point in a staff-only or closed zone
    "stale",  # the plan of another order
    "stall",  # no answer in time
    "transport",  # the call fails (connection refused, 5xx)
    "slow",  # valid and safe but slow: a crawling speed, or a detour through far via-points
)

PROFILES: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "pilot": {
            "description": "the pilot: 0.7 % malformed JSON, rare stalls, median latency 0.9 s",
            "faults": {"malformed": 0.007, "stall": 0.0001},
            "stall_s": None,
        },
        "chaos": {
            "description": "every fault at 1 % or more: exercises every row of the FMLI matrix",
            "faults": {
                "malformed": 0.02,
                "schema": 0.01,
                "hallucinated_bin": 0.01,
                "incomplete": 0.01,
                "unsafe": 0.02,
                "stale": 0.01,
                "stall": 0.01,
                "transport": 0.01,
                "slow": 0.01,
            },
            "tail_p": 0.02,
            "stall_s": 45.0,
        },
    }
)
