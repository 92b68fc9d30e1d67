"""The plansentry command with the warehouse (the default domain of check, and its own commands),
as a user runs it."""

from __future__ import annotations

import json

import pytest

from helpers import FMLI_ROW_KEYS
from helpers import run_cli as run


@pytest.fixture
def records(good_bytes) -> str:
    good = good_bytes.decode()
    lines = [
        {"id": "ok", "output": good, "latency_ms": 30},
        {"id": "fence", "output": f"Here:\n```json\n{good}\n```"},
        {"id": "late", "output": good, "latency_ms": 500},
        {"id": "cut", "output": good[:-3]},
        {"id": "b64", "output_b64": "/w=="},
    ]
    return "\n".join(json.dumps(x) for x in lines) + "\n"


def test_check_writes_one_line_per_record(records, tmp_path) -> None:
    """Each record gets a line with the documented fields; the audit log replays with 0 differences."""
    log = tmp_path / "audit.jsonl"
    code, out, err = run(["check", "--audit-log", str(log)], records)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["ok", "fence", "late", "cut", "b64"]
    assert [r["accepted"] for r in rows] == [True, True, False, False, False]
    assert [r["failure_mode"] for r in rows] == [None, None, "timeout", "malformed", "malformed"]
    for r in rows:
        assert {"id", "accepted", "source", "failure_mode", "violations", "gate_us", "plan"} <= set(
            r
        )
        assert r["plan"]["order_id"] == "EX-1"
    code, out, _ = run(["replay", str(log)])
    assert code == 0 and out.strip().endswith("5 decisions replayed, 0 differences")


def test_check_reports_bad_records_and_goes_on(good_bytes) -> None:
    """Bad records get an error line, never a traceback; the run continues; exit code 1."""
    stdin = (
        "\n".join(
            [
                "not json",
                '{"output": "x"}',
                '{"id": 1}',
                '{"id": 2, "output": "x", "output_b64": "eA=="}',
                '{"id": 3, "output_b64": "***"}',
                '{"id": 4, "output": "x", "latency_ms": -1}',
                json.dumps(
                    {
                        "id": 5,
                        "output": "x",
                        "order": {
                            "order_id": "O",
                            "lines": [{"sku": "s", "bin": "nope", "qty": 1}],
                        },
                    }
                ),
                json.dumps({"id": 6, "output": good_bytes.decode()}),
            ]
        )
        + "\n"
    )
    code, out, err = run(["check"], stdin)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and "Traceback" not in err
    assert [("error" in r) for r in rows] == [True] * 7 + [False]
    assert rows[-1]["accepted"] is True
    assert "order.lines[0].bin" in rows[6]["error"]


def test_check_with_an_order_in_the_record(good_bytes) -> None:
    """A record may carry its own order; the default order's plan is then stale."""
    order = {"order_id": "O-7", "lines": [{"sku": "S", "bin": "A-05-L", "qty": 1}]}
    code, out, _ = run(
        ["check"], json.dumps({"id": 1, "output": good_bytes.decode(), "order": order})
    )
    row = json.loads(out)
    assert code == 0 and row["failure_mode"] == "stale" and row["plan"]["order_id"] == "O-7"


def test_example_order_is_the_default_order() -> None:
    """example-order prints the order check uses when a record has none."""
    code, out, _ = run(["example-order"])
    doc = json.loads(out)
    assert code == 0 and doc["order"]["order_id"] == "EX-1" and doc["robot_id"] == "R1"


def test_bad_map_is_a_clear_error(tmp_path) -> None:
    """A broken map exits 2 with the field named, not a traceback."""
    bad = tmp_path / "m.yaml"
    bad.write_text("name: x\nversion: 1\nmax_speed_mps: -1\n")
    code, _, err = run(["check", "--map", str(bad)], "")
    assert code == 2 and "map.max_speed_mps" in err and "Traceback" not in err


def test_bad_budget_is_a_clear_error() -> None:
    """A budget that leaves no time exits 2 naming budget_ms."""
    code, _, err = run(["check", "--budget-ms", "10"], "")
    assert code == 2 and "budget_ms" in err


def test_simulate_json_has_the_documented_shape_and_is_reproducible() -> None:
    args = ["simulate", "--profile", "chaos", "--cycles", "1500", "--seed", "3", "--json"]
    code, out, err = run(args)
    assert code == 0, err
    code2, out2, _ = run(args)
    assert code2 == 0 and out2 == out  # same seed, same bytes
    doc = json.loads(out)
    for name in ("unguarded", "guarded", "oracle"):
        for key in (
            "cycles",
            "items_per_hour",
            "downtime_fraction",
            "halt_rate",
            "unsafe_executed",
            "lost_orders",
        ):
            assert key in doc[name], (name, key)
    assert doc["risk_reduction"] == "inf" or isinstance(doc["risk_reduction"], float)
    assert doc["fmli"] and all(set(row) >= FMLI_ROW_KEYS for row in doc["fmli"])


def test_simulate_prints_tables_and_the_sweep() -> None:
    code, out, err = run(["simulate", "--cycles", "800", "--sweep-budget", "50,300"])
    assert code == 0, err
    for title in ("Controllers", "FMLI matrix", "Budget trade-off", "risk reduction"):
        assert title in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "nope"], "no profile 'nope'"),
        (["--budget-ms", "-1"], "budget_ms"),
        (["--budget-ms", "nan"], "budget_ms"),
        (["--robots", "0"], "robots"),
        (["--sweep-budget", "50,abc"], "--sweep-budget"),
        (["--workers", "0"], "--workers"),
        (["--map", "/nonexistent/map.yaml"], "map"),
    ],
)
def test_simulate_refuses_bad_settings_with_a_clear_message(args, message) -> None:
    code, out, err = run(["simulate", "--cycles", "10", *args])
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err
