"""The ``plansentry`` command: one parser, generic commands, and the commands installed kits add.

Generic commands serve any installed domain kit:

- ``check [FILE] --domain NAME``: judge model outputs (JSON lines) as the guard would;
- ``replay LOG``: re-run an audit log through the core, with the kit its header names;
- ``fsm [--mermaid]``: the state machine's transition table;
- ``report DOC``: one self-contained HTML report of any document a command wrote;
- ``fmli LOG...``: the FMLI matrix of real decisions (audit logs, ``check`` output, ``demo --json``);
- ``kits``: the installed domain kits and their rules versions;
- ``simulate``, ``sweep``: the fleet simulator, for any kit with a world (``--domain NAME``);
- ``fit LOG... -o PROFILE``: a simulator profile fitted from real decisions;
- ``serve``: the guard as a local HTTP service (a native API and an OpenAI-compatible one);
- ``ros2``: the guard as a ROS 2 node (``--ros-args``; the ``ros2`` extra);
- ``export-bag LOG -o BAG``: an audit log as a ROS 2 bag (MCAP), one topic per kind of record.

A kit's plugin may add its own commands (``DomainPlugin.add_commands``): the warehouse adds
``demo`` and ``example-order``.

Every error a user can cause (a :class:`~plansentry.core.errors.PlansentryError`, a file that cannot
be read) prints one line, ``plansentry: error: ...``, and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO

from plansentry.core.errors import PlansentryError
from plansentry.core.fsm import TRANSITIONS, mermaid
from plansentry.runtime import kit as kits
from plansentry.telemetry.replay import replay


def cmd_fsm(args: argparse.Namespace, out: IO[str]) -> int:
    if args.mermaid:
        out.write(mermaid())
        return 0
    width = max(len(s.value) for s, _ in TRANSITIONS)
    for (state, event), target in TRANSITIONS.items():
        out.write(f"{state.value:<{width}}  --{event.value}-->  {target.value}\n")
    return 0


def cmd_replay(args: argparse.Namespace, out: IO[str]) -> int:
    result = replay(args.log)
    for diff in result.differences[: args.show]:
        out.write(
            f"seq {diff.seq}: {diff.field}: logged {diff.logged!r}, replayed {diff.replayed!r}\n"
        )
    for refused in result.bad_lines:
        out.write(f"{refused.line}\n")
    for rid in result.unmatched_late_answers[: args.show]:
        out.write(f"late answer for request {rid!r}: no decision logged before it\n")
    for number in result.torn_lines:
        out.write(f"line {number}: torn by a crash before the log was reopened; not replayed\n")
    if result.torn_tail:
        out.write("last line is incomplete (a write cut short by a crash); not replayed\n")
    out.write(f"{result.decisions} decisions replayed, {len(result.differences)} differences\n")
    return 0 if result.ok else 1


def cmd_kits(args: argparse.Namespace, out: IO[str]) -> int:
    for name in kits.installed_kits():
        try:
            found = kits.plugin(name)
        except PlansentryError as exc:
            out.write(f"{name}: {exc}\n")
            continue
        out.write(f"{name}: {found.summary} (rules {', '.join(found.rules_versions)})\n")
    return 0


def cmd_check(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import check

    return check.run(args, out)


def cmd_fmli(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import fmli

    return fmli.run(args, out)


def cmd_simulate(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import simulate

    return simulate.run(args, out)


def cmd_sweep(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import sweep

    return sweep.run(args, out)


def cmd_fit(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import fit

    return fit.run(args, out)


def cmd_report(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.cli import report

    return report.run(args, out)


def cmd_export_bag(args: argparse.Namespace, out: IO[str]) -> int:
    from plansentry.ros2 import bag

    return bag.run(args, out)


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """The whole parser: generic commands, then each installed kit's (``plugins``)."""
    from plansentry.cli import check, report

    p = argparse.ArgumentParser(prog="plansentry", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="judge model outputs (JSON lines) as the guard would")
    check.add_arguments(c)
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("replay", help="re-run an audit log through the core; exit 1 on differences")
    r.add_argument("log")
    r.add_argument("--show", type=int, default=20, help="differences to print (default 20)")
    r.set_defaults(func=cmd_replay)

    f = sub.add_parser("fsm", help="print the state machine's transition table")
    f.add_argument("--mermaid", action="store_true", help="as a Mermaid state diagram")
    f.set_defaults(func=cmd_fsm)

    h = sub.add_parser("report", help="one self-contained HTML report from a JSON document")
    report.add_arguments(h)
    h.set_defaults(func=cmd_report)

    k = sub.add_parser("kits", help="list the installed domain kits")
    k.set_defaults(func=cmd_kits)

    from plansentry.cli import fmli

    m = sub.add_parser("fmli", help="the FMLI matrix of audit logs, check output or demo --json")
    fmli.add_arguments(m)
    m.set_defaults(func=cmd_fmli)

    from plansentry.cli import fit, simulate, sweep

    sim = sub.add_parser(
        "simulate",
        help="fleet simulation of a kit's world: unguarded, guarded, the pilot's guard and the "
        "oracle, and the FMLI matrix",
    )
    simulate.add_arguments(sim)
    sim.set_defaults(func=cmd_simulate)

    w = sub.add_parser(
        "sweep", help="a grid of budgets x profiles x fleet sizes, locally or on Ray"
    )
    sweep.add_arguments(w)
    w.set_defaults(func=cmd_sweep)

    t = sub.add_parser(
        "fit", help="a simulator profile fitted from audit logs or demo --json (needs scipy)"
    )
    fit.add_arguments(t)
    t.set_defaults(func=cmd_fit)

    from plansentry.serve import command as serve_command

    s = sub.add_parser("serve", help="the guard as a local HTTP service (docs/SERVE.md)")
    serve_command.add_arguments(s)
    s.set_defaults(func=serve_command.run)

    from plansentry.ros2 import command as ros2_command

    o = sub.add_parser(
        "ros2",
        help="the guard as a ROS 2 node; parameters after --ros-args (docs/ROS2.md)",
    )
    ros2_command.add_arguments(o)
    o.set_defaults(func=ros2_command.run)

    b = sub.add_parser("export-bag", help="an audit log as a ROS 2 bag (MCAP), a topic per record")
    b.add_argument("log", help="the audit log (JSON lines)")
    b.add_argument("-o", "--output", required=True, help="the bag to write (.mcap)")
    b.set_defaults(func=cmd_export_bag)

    if plugins:
        _add_kit_commands(sub)
    return p


def _add_kit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Each installed kit's own commands. A kit that fails to load is named on stderr and skipped:
    the generic commands still work."""
    for name in kits.installed_kits():
        try:
            found = kits.plugin(name)
            if found.add_commands is not None:
                found.add_commands(sub)
        except (PlansentryError, argparse.ArgumentError) as exc:
            print(f"plansentry: warning: domain kit {name!r}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # ROS's own arguments (``plansentry ros2 --ros-args -p kit:=toy``) are rclpy's to parse.
    ros_args: list[str] = []
    if "--ros-args" in argv:
        at = argv.index("--ros-args")
        argv, ros_args = argv[:at], argv[at:]
    args = build_parser().parse_args(argv)
    if ros_args:
        if not hasattr(args, "ros_args"):
            print("plansentry: error: --ros-args is for plansentry ros2", file=sys.stderr)
            return 2
        args.ros_args = ros_args
    try:
        code: int = args.func(args, sys.stdout)
    except PlansentryError as exc:
        print(f"plansentry: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"plansentry: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
