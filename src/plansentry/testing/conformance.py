"""Conformance checks for a domain kit: run them in your kit's tests before the guard relies on it.

``check_domain(kit, contexts)`` performs a number of generic checks on a kit and returns what it
found; ``report.raise_for_problems()`` turns problems into one :class:`AssertionError` that lists
them all. What is checked, for every context given:

- the codec round-trips: the context and every plan survive JSON both ways, and the rebuilt
  context judges plans exactly as the original does;
- the rules are pure and never raise: the gate judges the fallbacks' plans, hostile outputs
  (:mod:`plansentry.testing.hostile`), mutations of a good plan and the caller's own outputs without
  an exception, twice with the same verdict, without changing the context;
- every violation names a rule the kit declares (``kit.rules``), with the mode its step allows
  (``stale`` from freshness; ``invalid`` or ``unsafe`` from the rules);
- freshness is enforced: a good plan asked for another version is ``stale``;
- the rules are bounded in time: the slowest judgement of any schema-valid output by the domain's
  freshness and rules (best of ``repeats``) fits in the reserve the guard keeps for the gate
  (``config.reserve_ms``); the whole gate's slowest time is reported (``gate_ms_max``), since the
  generic steps' worst case (a hostile output of thousands of keys) is plansentry's, not the kit's;
- every fallback returns, within its declared worst-case time (the slowest of ``repeats`` runs), an
  outcome whose plan (if any) passes the rules (the safety rules only when it abandons the task);
- the prompt builder (if any) gives a prompt with at least one message;
- the kit's world (``kit.world``, if it has one; or ``world=``), over ``world_tasks`` tasks of its
  stream: every context decodable by the codec and judged alike after the round trip; the oracle's
  plan passes the gate, is safe by the world's checker, serves its task whole, takes a finite,
  positive time and is what the pilot's controller reads and executes; a blocked task has no
  oracle plan and the plan a model unaware of the block writes is refused; every fault kind the
  world writes really fails the way it is labelled (a kind named after a failure mode gets that
  mode, a kind of ``fault_rules`` an ``invalid`` verdict naming its rule, ``slow`` that mode or
  an accepted plan slower than the best; a good answer passes); the built-in profiles parse and
  name only the world's faults.

Timing checks measure this machine: run them where the kit will run, or relax ``timing``.
"""

from __future__ import annotations

import copy
import functools
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, final

import msgspec

from plansentry.core.decision import FallbackOutcome
from plansentry.core.failures import FailureMode, Violation
from plansentry.core.gate import Gate, Verdict
from plansentry.runtime.config import GuardConfig
from plansentry.runtime.kit import DomainKit
from plansentry.runtime.world import WorldSettings
from plansentry.testing.hostile import hostile_outputs

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT")
T = TypeVar("T")

_RULE_MODES = frozenset({FailureMode.INVALID, FailureMode.UNSAFE, FailureMode.SLOW})


@final
@dataclass
class ConformanceReport:
    """What :func:`check_domain` found: problems (empty if the kit conforms) and what it measured."""

    kit: str
    contexts: int = 0
    judged: int = 0
    problems: list[str] = field(default_factory=list)
    gate_ms_max: float = 0.0
    rules_ms_max: float = 0.0
    fallback_ms_max: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        if self.problems:
            listed = "\n".join(f"- {p}" for p in self.problems)
            raise AssertionError(f"domain kit {self.kit!r} does not conform:\n{listed}")


def check_domain(
    kit: DomainKit[PlanT, CtxT],
    contexts: Iterable[CtxT],
    outputs: Iterable[bytes] = (),
    *,
    config: GuardConfig | None = None,
    repeats: int = 3,
    timing: bool = True,
    hostile: bool = True,
    world: Any = None,
    world_tasks: int = 40,
) -> ConformanceReport:
    """Check ``kit`` against every context in ``contexts`` (see the module docstring). ``world``:
    the world to check (default: ``kit.world`` built with default settings, if the kit has one;
    ``False``: none)."""
    cfg = config if config is not None else kit.config()
    report = ConformanceReport(kit.name)
    _check_identity(kit, report)
    gate: Gate[PlanT, CtxT] = Gate(kit.domain, cfg.gate)
    extra = list(outputs)
    if hostile:
        extra += [text for text, _mode in hostile_outputs(small=True).values()]
    for ctx in contexts:
        report.contexts += 1
        _check_context(kit, gate, cfg, ctx, extra, report, repeats=repeats, timing=timing)
    if report.contexts == 0:
        report.problems.append("no contexts given: nothing was checked")
    if world is None and kit.world is not None:
        world = _safely(lambda: kit.world(WorldSettings(blocked_p=0.1)), report.problems)  # type: ignore[misc]
    if world:
        _check_world(kit, world, gate, report, world_tasks)
    return report


def _expected(world: Any, fault: str) -> tuple[FailureMode, str | None] | None:
    """The verdict a world's answer of ``fault`` must get: the mode of that name, or ``invalid``
    with the rule ``fault_rules`` names (``None``: the world says nothing of it)."""
    rules = {kind: rule for rule, kind in world.fault_rules}
    if fault in rules:
        return FailureMode.INVALID, rules[fault]
    try:
        return FailureMode(fault), None
    except ValueError:
        return None


def _check_world(
    kit: DomainKit[Any, Any], world: Any, gate: Gate[Any, Any], report: ConformanceReport, n: int
) -> None:
    """The world's checks (see the module docstring)."""
    from plansentry.runtime.world import GENERIC_FAULTS
    from plansentry.sim.profiles import ProfileError, builtin_profiles, check_faults

    problems = report.problems
    faults = tuple(world.faults)
    if len(set(faults)) != len(faults):
        problems.append(f"world: its faults repeat: {faults}")
    try:
        for profile in builtin_profiles(world.profiles).values():
            check_faults(profile, faults, world=f"the {kit.name} world")
    except ProfileError as exc:
        problems.append(f"world: a built-in profile is not usable: {exc}")
    written = [f for f in faults if f not in GENERIC_FAULTS]
    for fault in written:
        if _expected(world, fault) is None:
            problems.append(
                f"world: fault {fault!r} is no failure mode and no kind of fault_rules: "
                "nothing says how the gate must judge it"
            )
    rng = random.Random(0)
    other = None
    tasks = world.tasks(random.Random(1), "CHECK")
    seen_blocked = 0
    for i in range(n):
        try:
            task = next(tasks)
            other = _check_task(kit, world, gate, task, i, rng, other, written, problems)
        except Exception as exc:
            problems.append(f"world: checking task {i} raised {exc!r}")
            return
        seen_blocked += task.blocked
    if n and not seen_blocked:
        problems.append(
            f"world: no blocked task among {n} at blocked_p 0.1: blocked tasks go unchecked"
        )
    report.judged += n


def _check_task(
    kit: DomainKit[Any, Any],
    world: Any,
    gate: Gate[Any, Any],
    task: Any,
    i: int,
    rng: random.Random,
    other: Any,
    written: list[str],
    problems: list[str],
) -> Any:
    """One task of the world's stream (see the module docstring); returns the plan a stale
    answer of the next may repeat."""
    from plansentry.runtime.world import Reaction

    version = kit.domain.version
    ctx = world.context(task, f"R{i % 3 + 1}", world.start(i % 3))
    try:
        ctx_json = kit.codec.context_to_json(ctx)
        again = kit.codec.context_from_json(msgspec.json.decode(msgspec.json.encode(ctx_json)))
    except Exception as exc:
        problems.append(f"world: a context of task {task.id} does not decode: {exc!r}")
        return other
    if task.blocked:
        if world.best(ctx) is not None:
            problems.append(f"world: task {task.id} is blocked but has an oracle plan")
        naive = world.encode(world.best_unaware(ctx))
        if gate.check(naive, len(naive), ctx, version(ctx)).mode is None:
            problems.append(f"world: the unaware plan of blocked task {task.id} passes")
        return other
    best = world.best(ctx)
    if best is None:
        problems.append(f"world: task {task.id} is not blocked but has no oracle plan")
        return other
    text = world.encode(best)
    verdict = gate.check(text, len(text), ctx, version(ctx))
    rebuilt = gate.check(text, len(text), again, version(again))
    if verdict.mode is not None:
        problems.append(f"world: the oracle's plan for {task.id} is refused: {verdict.mode}")
    if (rebuilt.mode, rebuilt.violations) != (verdict.mode, verdict.violations):
        problems.append(f"world: the decoded context of {task.id} judges the oracle otherwise")
    seconds = world.execute_s(best, ctx)
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        problems.append(f"world: the oracle's plan for {task.id} takes {seconds!r} s")
    if world.unsafe(best, ctx):
        problems.append(f"world: its checker calls the oracle's plan for {task.id} unsafe")
    if world.served(best, task, None) != task.items:
        problems.append(f"world: the oracle's plan does not serve task {task.id} whole")
    if world.read(text, ctx).reaction is not Reaction.EXECUTE:
        problems.append("world: the pilot's controller does not execute the oracle's plan")
    for fault in ["", *written]:
        _check_answer(world, gate, ctx, best, other, rng, fault, problems, version)
    return best


def _check_answer(
    world: Any,
    gate: Gate[Any, Any],
    ctx: Any,
    best: Any,
    other: Any,
    rng: random.Random,
    fault: str,
    problems: list[str],
    version: Callable[[Any], str],
) -> None:
    """One answer of ``fault`` is judged as its label says."""
    try:
        kind, text = world.answer(fault, ctx, best, other, rng, noise=1.0)
    except Exception as exc:
        problems.append(f"world: writing an answer of fault {fault!r} raised {exc!r}")
        return
    verdict = gate.check(text, len(text), ctx, version(ctx))
    label = f"world: an answer of fault {fault!r} ({kind})" if fault else "world: a good answer"
    if fault == "":
        if verdict.mode is not None:
            problems.append(f"{label} is refused: {verdict.mode}")
        elif world.unsafe(verdict.plan, ctx):
            problems.append(f"{label} is unsafe by the world's checker")
        return
    expected = _expected(world, fault)
    if expected is None:
        return
    mode, rule = expected
    if fault == "slow" and verdict.mode is None:
        if not world.execute_s(verdict.plan, ctx) > world.execute_s(best, ctx):
            problems.append(f"{label} is accepted and no slower than the best plan")
        return
    if verdict.mode is not mode:
        got = verdict.mode.value if verdict.mode is not None else "accepted"
        problems.append(f"{label} is judged {got}, not {mode.value}")
    elif rule is not None and rule not in {v.rule for v in verdict.violations}:
        problems.append(f"{label} is invalid without breaking {rule}")


def _check_identity(kit: DomainKit[Any, Any], report: ConformanceReport) -> None:
    if not kit.name or not kit.rules_version:
        report.problems.append("the kit needs a name and a rules_version")
    if not kit.safe_action.name:
        report.problems.append("the safe action needs a name")
    try:
        msgspec.json.encode(kit.identity())
    except (TypeError, msgspec.EncodeError) as exc:
        report.problems.append(f"identity is not JSON: {exc}")
    names = [fb.name for fb in kit.fallbacks]
    if len(set(names)) != len(names):
        report.problems.append(f"fallback names repeat: {names}")
    if kit.example_context:
        try:
            kit.codec.context_from_json(kit.example_context)
        except Exception as exc:
            report.problems.append(f"example_context does not decode: {exc!r}")


def _check_context(
    kit: DomainKit[PlanT, CtxT],
    gate: Gate[PlanT, CtxT],
    cfg: GuardConfig,
    ctx: CtxT,
    outputs: Sequence[bytes],
    report: ConformanceReport,
    *,
    repeats: int,
    timing: bool,
) -> None:
    codec, domain = kit.codec, kit.domain
    problems = report.problems
    try:
        ctx_json = codec.context_to_json(ctx)
        again = codec.context_from_json(msgspec.json.decode(msgspec.json.encode(ctx_json)))
        if codec.context_to_json(again) != ctx_json:
            problems.append(f"context does not round-trip: {ctx_json!r}")
    except Exception as exc:
        problems.append(f"context codec raised {exc!r}")
        return
    version = domain.version(ctx)
    texts = list(outputs)
    for fb in kit.fallbacks:
        outcome = _run_fallback(fb, ctx, ctx_json, repeats, timing, report)
        if outcome is None or outcome.plan is None:
            continue
        broken = [
            v
            for v in _rules(domain, outcome.plan, ctx, problems)
            if not outcome.abandons_task or v.mode is FailureMode.UNSAFE
        ]
        if broken:
            problems.append(
                f"fallback {fb.name}'s plan breaks {broken[0].rule}: {broken[0].detail}"
            )
        texts.extend(_plan_texts(codec, outcome.plan, problems))
        stale = domain.check_fresh(outcome.plan, ctx, version + "#other")
        if not stale or any(v.mode is not FailureMode.STALE for v in stale):
            problems.append("a plan asked for another version is not judged stale")
    before = codec.context_to_json(ctx)
    decode = msgspec.json.Decoder(domain.plan_type).decode
    for text in texts:
        report.judged += 1
        verdict = _judge(gate, text, ctx, version, problems, repeats if timing else 1, report)
        if verdict is None:
            continue
        rebuilt = _safely(functools.partial(gate.check, text, len(text), again, version), problems)
        if rebuilt is not None and (rebuilt.mode, rebuilt.violations) != (
            verdict.mode,
            verdict.violations,
        ):
            problems.append(f"the rebuilt context judges {text[:60]!r} otherwise")
        try:
            plan = decode(text)
        except ValueError:  # msgspec's errors, invalid UTF-8: refused before the rules
            continue
        _check_plan(kit, plan, ctx, version, problems)
        if timing:
            _time_rules(domain, plan, ctx, version, repeats, report)
    if codec.context_to_json(ctx) != before:
        problems.append("judging plans changed the context")
    if timing and report.rules_ms_max > cfg.reserve_ms:
        problems.append(
            f"the rules took {report.rules_ms_max:.2f} ms on one plan > the gate's reserve of "
            f"{cfg.reserve_ms:g} ms"
        )
    if kit.prompt is not None:
        try:
            prompt = kit.prompt(ctx)
            if not prompt.messages:
                problems.append("the prompt has no message")
        except Exception as exc:
            problems.append(f"the prompt builder raised {exc!r}")


def _run_fallback(
    fb: Any, ctx: Any, ctx_json: Any, repeats: int, timing: bool, report: ConformanceReport
) -> FallbackOutcome[Any] | None:
    """The fallback's outcome for ``ctx``, its slowest time of ``repeats`` checked against its
    declared worst case; ``None`` (and a problem) if it raised."""
    worst, outcome = 0.0, None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        try:
            outcome = fb.plan(ctx)
        except Exception as exc:
            report.problems.append(f"fallback {fb.name} raised {exc!r} for {ctx_json!r}")
            return None
        worst = max(worst, (time.perf_counter() - t0) * 1000)
    report.fallback_ms_max[fb.name] = max(report.fallback_ms_max.get(fb.name, 0.0), worst)
    if timing and worst > fb.wcet_ms:
        report.problems.append(
            f"fallback {fb.name} took {worst:.2f} ms > its declared {fb.wcet_ms:g} ms "
            f"for {ctx_json!r}"
        )
    return outcome


def _plan_texts(codec: Any, plan: Any, problems: list[str]) -> list[bytes]:
    """A good plan as the model would write it, and schema-shaped mutations of it; a problem if
    the plan does not survive the codec."""
    try:
        plan_json = codec.plan_to_json(plan)
        text = msgspec.json.encode(plan_json)
        if codec.plan_from_json(msgspec.json.decode(text)) != plan:
            problems.append(f"plan does not round-trip: {plan_json!r}")
    except Exception as exc:
        problems.append(f"plan codec raised {exc!r}")
        return []
    return [text, *_mutations(msgspec.json.decode(text))]  # tuples as lists: every value reached


def _check_plan(
    kit: DomainKit[Any, Any], plan: Any, ctx: Any, version: str, problems: list[str]
) -> None:
    """The domain's own verdicts on one decoded plan: pure (the same twice), declared rule names,
    freshness only ``stale``, rules only ``invalid``, ``unsafe`` or ``slow``."""
    domain = kit.domain
    fresh = _safely(lambda: list(domain.check_fresh(plan, ctx, version)), problems)
    rules = _rules(domain, plan, ctx, problems)
    if fresh is None:
        return
    if rules != _rules(domain, plan, ctx, problems):
        problems.append("the rules judged the same plan twice differently")
    for v in fresh:
        if v.mode is not FailureMode.STALE:
            problems.append(f"freshness reported a {v.mode.value} violation ({v.rule})")
    for v in rules:
        if v.mode not in _RULE_MODES:
            problems.append(f"a rule reported a {v.mode.value} violation ({v.rule})")
    for v in [*fresh, *rules]:
        if v.rule not in kit.rules:
            problems.append(f"rule {v.rule!r} is not in the kit's rules")


def _rules(domain: Any, plan: Any, ctx: Any, problems: list[str]) -> list[Violation]:
    found = _safely(lambda: list(domain.check_rules(plan, ctx)), problems)
    return found if found is not None else []


def _safely(call: Callable[[], T], problems: list[str]) -> T | None:
    """``call()``, or ``None`` and a problem naming what it raised (a rule must never raise)."""
    try:
        return call()
    except Exception as exc:
        problem = f"the rules raised {exc!r}"
        if problem not in problems:
            problems.append(problem)
        return None


def _time_rules(
    domain: Any, plan: Any, ctx: Any, version: str, repeats: int, report: ConformanceReport
) -> None:
    """The domain's freshness and rules on one decoded plan, best of ``repeats`` (ms)."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        try:
            if not domain.check_fresh(plan, ctx, version):
                domain.check_rules(plan, ctx)
        except Exception:
            return  # reported by _check_plan
        best = min(best, (time.perf_counter() - t0) * 1000)
    report.rules_ms_max = max(report.rules_ms_max, best)


def _judge(
    gate: Gate[PlanT, CtxT],
    text: bytes,
    ctx: CtxT,
    version: str,
    problems: list[str],
    repeats: int,
    report: ConformanceReport,
) -> Verdict[PlanT] | None:
    best = float("inf")
    verdict = None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        try:
            verdict = gate.check(text, len(text), ctx, version)
        except Exception as exc:
            problems.append(f"the gate raised {exc!r} on {text[:80]!r}")
            return None
        best = min(best, (time.perf_counter() - t0) * 1000)
    report.gate_ms_max = max(report.gate_ms_max, best)
    return verdict


def _mutations(plan_json: dict[str, Any]) -> list[bytes]:
    """Schema-shaped variants of a good plan: every leaf value replaced by a few odd ones, every
    list emptied, doubled and reversed. They reach the rules with values a model might write."""
    out: list[bytes] = []

    def leaves(node: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], Any]]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield from leaves(v, (*path, k))
        elif isinstance(node, list):
            yield path, node
            for i, v in enumerate(node):
                yield from leaves(v, (*path, i))
        else:
            yield path, node

    def with_value(path: tuple[Any, ...], value: Any) -> bytes:
        doc = copy.deepcopy(plan_json)
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return msgspec.json.encode(doc)

    odd: dict[type, Callable[[Any], list[Any]]] = {
        int: lambda v: [0, -1, v + 1, 2**31],
        float: lambda v: [0.0, -v, v * 100, 1e-9],
        str: lambda v: ["", v + "-X", "\u0000", "x" * 64],
        bool: lambda v: [not v],
    }
    for path, value in leaves(plan_json, ()):
        if not path:
            continue
        if isinstance(value, list):
            for variant in ([], value + value, value[::-1]):
                out.append(with_value(path, variant))
        elif type(value) in odd:
            for variant in odd[type(value)](value):
                out.append(with_value(path, variant))
    return out
