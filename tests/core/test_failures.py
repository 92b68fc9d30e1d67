"""Failure modes and their risk buckets."""

from __future__ import annotations

import pytest

from plansentry.core.failures import DEFAULT_BUCKETS, BucketMap, FailureMode, RiskBucket


def test_failure_modes_are_the_closed_set() -> None:
    """Exactly the ten modes: the design's nine and ``slow`` (a plan valid and safe but far slower
    than the work needs)."""
    assert [m.value for m in FailureMode] == [
        "timeout",
        "transport",
        "oversize",
        "empty",
        "malformed",
        "schema",
        "invalid",
        "unsafe",
        "slow",
        "stale",
    ]


def test_every_mode_has_a_default_bucket() -> None:
    """No mode is left without a bucket."""
    assert set(DEFAULT_BUCKETS) == set(FailureMode)
    assert DEFAULT_BUCKETS[FailureMode.UNSAFE] is RiskBucket.B
    assert DEFAULT_BUCKETS[FailureMode.SLOW] is RiskBucket.A  # a latency failure of the cycle


def test_configuration_remaps_one_bucket_and_keeps_the_rest() -> None:
    """A remap changes the named mode only."""
    buckets = BucketMap.from_names({"timeout": "B"})
    assert buckets[FailureMode.TIMEOUT] is RiskBucket.B
    assert buckets[FailureMode.MALFORMED] is RiskBucket.A


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [({"sluggish": "A"}, "unknown failure mode 'sluggish'"), ({"timeout": "D"}, "buckets.timeout")],
)
def test_bad_remap_names_the_key(overrides: dict[str, str], needle: str) -> None:
    """Unknown modes and buckets fail at construction with the key named."""
    with pytest.raises(ValueError, match=needle):
        BucketMap.from_names(overrides)
