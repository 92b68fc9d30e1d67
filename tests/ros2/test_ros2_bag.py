"""``plansentry export-bag``: an audit log as a ROS 2 bag (MCAP), read back by two readers no one
here wrote (``rosbags``, and ``mcap`` with ``mcap-ros2-support``): one topic per kind of record,
each message the record's JSON in a ``std_msgs/msg/String``, every complete record and nothing
torn."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import IN_CI, run_cli
from plansentry.ros2.bag import export, stamped, topic
from plansentry.runtime.virtual import VirtualRuntime
from plansentry.telemetry.audit import AuditLog, read_log


@pytest.fixture(autouse=True)
def _bag_libraries() -> None:
    """Skip on a developer's clone without the ``ros2`` extra; fail in CI, which installs it."""
    try:
        import mcap_ros2  # noqa: F401
        import rosbags  # noqa: F401
    except ImportError as exc:
        (pytest.fail if IN_CI else pytest.skip)(f"needs the ros2 extra: {exc}")


@pytest.fixture
def audit(tmp_path, kit, ctx, good_bytes) -> Path:
    """An audit log of eight decisions (good, malformed, late) and a reset, with a torn tail."""
    path = tmp_path / "audit.jsonl"
    cfg = kit.config()
    with AuditLog(path, kit=kit, config=cfg) as log:
        guard = kit.guard(config=cfg, hooks=[log])
        rt = VirtualRuntime(guard)
        for i in range(8):
            out = good_bytes if i % 3 else b"{not json"
            rt.decide(
                ctx, now_ns=1_000_000_000 * (i + 1), output=out, latency_ms=5 + 100 * (i == 7)
            )
        log.on_reset(8, "operator reset")
    with path.open("ab") as f:
        f.write(b'{"type": "decision", "torn')
    return path


def _expected(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for rec in read_log(path).records:
        out.setdefault(topic(rec["type"]), []).append(rec)
    return out


def test_rosbags_reads_every_record_on_its_kinds_topic(tmp_path, audit) -> None:
    """rosbags' reader: std_msgs/msg/String on /plansentry/header, decision and reset, the
    records in the log's order, equal to what the log holds; the torn tail is not exported."""
    from rosbags.rosbag2 import Reader
    from rosbags.typesys import Stores, get_typestore

    bag = tmp_path / "run.mcap"
    counts, skipped = export(audit, bag)
    assert skipped == 1
    store = get_typestore(Stores.ROS2_KILTED)
    got: dict[str, list[dict]] = {}
    with Reader(bag) as reader:
        types = {c.topic: c.msgtype for c in reader.connections}
        assert types == dict.fromkeys(counts, "std_msgs/msg/String")
        for conn, _, raw in reader.messages():
            msg = store.deserialize_cdr(raw, conn.msgtype)
            got.setdefault(conn.topic, []).append(json.loads(msg.data))
    assert got == _expected(audit)
    assert counts == {"/plansentry/header": 1, "/plansentry/decision": 8, "/plansentry/reset": 1}


def test_the_mcap_reader_reads_the_same_messages(tmp_path, audit) -> None:
    """mcap + mcap-ros2-support decode the same records, with the ros2 profile and a summary
    (a complete, indexed file)."""
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    bag = tmp_path / "run.mcap"
    export(audit, bag)
    with bag.open("rb") as f:
        reader = make_reader(f)
        assert reader.get_header().profile == "ros2"
        summary = reader.get_summary()
        assert summary is not None and summary.statistics.message_count == 10
    got: dict[str, list[dict]] = {}
    with bag.open("rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        for schema, channel, _, msg in reader.iter_decoded_messages(log_time_order=False):
            assert schema.name == "std_msgs/msg/String" and channel.message_encoding == "cdr"
            got.setdefault(channel.topic, []).append(json.loads(msg.data))
    assert got == _expected(audit)


def test_decisions_are_stamped_with_their_decided_time(tmp_path, audit) -> None:
    """A decision's log time is its ``decided_ns``; the header takes the first decision's."""
    records = read_log(audit).records
    times = [t for t, _ in stamped(records)]
    decisions = [r["decision"]["decided_ns"] for r in records if r["type"] == "decision"]
    assert times[0] == decisions[0] and times[1:9] == decisions
    assert times[-1] == decisions[-1]  # the reset: the record before it


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("decision", "/plansentry/decision"),
        ("Late-Answer", "/plansentry/late_answer"),
        ("2x", "/plansentry/k_2x"),
        ("", "/plansentry/unknown"),
    ],
)
def test_any_kind_becomes_a_valid_topic_name(kind, expected) -> None:
    """A kind a later format adds is still a valid ROS 2 topic name."""
    assert topic(kind) == expected


def test_the_command_writes_the_bag_and_says_what_is_in_it(tmp_path, audit) -> None:
    """``plansentry export-bag LOG -o BAG``: exit 0, a line per bag, the skipped line on stderr."""
    bag = tmp_path / "out.mcap"
    code, out, err = run_cli(["export-bag", str(audit), "-o", str(bag)])
    assert code == 0, err
    assert out.startswith(f"{bag}: 10 messages") and "/plansentry/decision 8" in out
    assert "1 line(s)" in err and bag.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_missing_log_is_one_line_and_exit_2(tmp_path) -> None:
    """No such file: one line, exit 2, no bag written."""
    code, _, err = run_cli(["export-bag", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "b")])
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "b").exists()
