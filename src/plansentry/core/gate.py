"""The gate: every model output passes these steps, in this order, or is refused with a typed reason.

1. arrival: was there output at all (``timeout``/``transport`` are judged by the decider, which knows
   the deadline);
2. size and extraction: byte cap before anything else, then the JSON is taken out of code fences or
   prose (``oversize``, ``empty``, ``malformed``);
3. depth cap, then strict parse and schema in one typed decode (``malformed``, ``schema``);
   an optional repair runs only if the parse failed, and its use is recorded;
4. freshness: the plan is for the request it answers (``stale``);
5. domain rules: validity, safety and the time the plan would take (``invalid``, ``unsafe``,
   ``slow``).

Freshness runs before the domain rules (DESIGN.md lists it last): the rules of a plan written for
another order only restate that it is for another order.

The gate is pure and thread-safe: it holds no state between calls beyond its immutable configuration.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Generic, Protocol, TypeVar, final

import msgspec
from mypy_extensions import mypyc_attr

from plansentry.core import strictjson
from plansentry.core.errors import ConfigError
from plansentry.core.failures import FailureMode, Violation

PlanT = TypeVar("PlanT")
CtxT = TypeVar("CtxT", contravariant=True)

#: Domain rule violations are reported under the most severe mode among them: a plan that is both
#: wrong and slow is wrong first.
_RULE_PRECEDENCE = (FailureMode.UNSAFE, FailureMode.STALE, FailureMode.INVALID, FailureMode.SLOW)


class Domain(Protocol[PlanT, CtxT]):
    """What the gate needs from a domain: the plan type and the rules.

    ``check_fresh`` says whether a plan answers this request at all (``stale`` violations);
    ``check_rules`` returns every validity (``invalid``), safety (``unsafe``) and cycle-time
    (``slow``: valid and safe, but far slower than the work needs) violation.
    Both must be pure and bounded in time by the plan size, which the schema bounds.
    """

    @property
    def plan_type(self) -> type[PlanT]: ...

    def check_fresh(self, plan: PlanT, ctx: CtxT, asked_version: str) -> Sequence[Violation]: ...

    def check_rules(self, plan: PlanT, ctx: CtxT) -> Sequence[Violation]: ...


@final
@mypyc_attr(native_class=False)  # a setting: checked in Python, whatever types it is given
@dataclass(frozen=True, slots=True)
class GateConfig:
    """Limits of the gate. ``max_bytes`` and ``max_depth`` are checked before any parsing."""

    max_bytes: int = 64 * 1024
    max_depth: int = 32
    repair: bool = False

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"gate.{name} must be a positive integer, got {value!r}")


@final
@mypyc_attr(native_class=False)  # generic (plansentry.core.decision._slot_setters)
@dataclass(frozen=True, slots=True, init=False)
class Verdict(Generic[PlanT]):
    """What the gate concluded about one output. ``plan`` is set exactly when ``mode`` is ``None``."""

    mode: FailureMode | None
    violations: tuple[Violation, ...] = ()
    plan: PlanT | None = None
    repairs: tuple[str, ...] = ()
    extraction: str = ""

    def __init__(
        self,
        mode: FailureMode | None,
        violations: tuple[Violation, ...] = (),
        plan: PlanT | None = None,
        repairs: tuple[str, ...] = (),
        extraction: str = "",
    ) -> None:
        # The generated __init__ of a frozen dataclass, with each store made through the slot's
        # own descriptor rather than object.__setattr__: every output's verdict is built here,
        # and this takes a third less time (docs/BENCHMARKS.md, the gate's parts).
        s = _VERDICT_SETTERS
        s[0](self, mode)
        s[1](self, violations)
        s[2](self, plan)
        s[3](self, repairs)
        s[4](self, extraction)

    @property
    def ok(self) -> bool:
        return self.mode is None


_VERDICT_SETTERS: tuple[Any, ...] = tuple(vars(Verdict)[f.name].__set__ for f in fields(Verdict))


def _fail(mode: FailureMode, rule: str, detail: str) -> Verdict[Any]:
    return Verdict(mode, (Violation(rule, mode, detail),))


@final
class _Checker:
    """What :class:`Gate` does, for any plan type: the gate's steps over what it keeps from its
    domain and configuration (a class of its own, not generic, so that compiled it is native)."""

    def __init__(self, domain: Domain[Any, Any], config: GateConfig) -> None:
        plan_type = domain.plan_type
        self.domain = domain
        self.max_bytes: int = config.max_bytes
        self.max_depth: int = config.max_depth
        self.repair: bool = config.repair
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(plan_type)
        self.encoder = msgspec.json.Encoder()
        depth = schema_depth(msgspec.json.schema(plan_type))
        self.schema_within_depth = depth is not None and depth <= self.max_depth
        self.min_keys = min_keys_counter(plan_type)
        self.reencode_keeps_keys = omits_defaults(msgspec.inspect.type_info(plan_type))

    def check(self, text: bytes, size_bytes: int, ctx: Any, asked_version: str) -> Verdict[Any]:
        cap = self.max_bytes
        if size_bytes > cap or len(text) > cap:
            size = max(size_bytes, len(text))
            return _fail(FailureMode.OVERSIZE, "max_bytes", f"{size} bytes > cap of {cap}")
        if text[:1] == b"{" and text[-1:] == b"}":
            # What strictjson.extract returns for a bare object, without building its result.
            body, how = text, "bare"
        else:
            found = strictjson.extract(text)
            if isinstance(found, strictjson.ExtractError):
                mode = FailureMode.EMPTY if found.empty else FailureMode.MALFORMED
                return _fail(mode, "extract", found.detail)
            body, how = found.text, found.how
        repairs: tuple[str, ...] = ()
        parsed = self.parse(body)
        if isinstance(parsed, Verdict) and parsed.mode is FailureMode.MALFORMED and self.repair:
            fixed, done = strictjson.repair(body)
            if done:
                reparsed = self.parse(fixed)
                if not (isinstance(reparsed, Verdict) and reparsed.mode is FailureMode.MALFORMED):
                    parsed, repairs = reparsed, done
        if isinstance(parsed, Verdict):
            return Verdict(parsed.mode, parsed.violations, None, repairs, how)
        plan = parsed
        domain = self.domain
        stale = domain.check_fresh(plan, ctx, asked_version)
        if stale:
            return Verdict(FailureMode.STALE, tuple(stale), None, repairs, how)
        found_rules = domain.check_rules(plan, ctx)
        if not found_rules:
            return Verdict(None, (), plan, repairs, how)
        modes = {v.mode for v in found_rules}
        mode = next((m for m in _RULE_PRECEDENCE if m in modes), found_rules[0].mode)
        return Verdict(mode, tuple(found_rules), None, repairs, how)

    def parse(self, text: bytes) -> Any:
        """The decoded plan, or a failing verdict (``malformed`` or ``schema``)."""
        # The typed decoder refuses a value at the first level the schema does not have, so when
        # the schema is shallower than the cap it cannot be driven deeper; the untyped parse that
        # classifies failures can, and always runs behind the depth check.
        if not self.schema_within_depth and self.too_deep(text):
            return self.deep()
        try:
            plan = self.decoder.decode(text)
        except msgspec.ValidationError as exc:
            # The typed decoder stops at the first shape mismatch without reading the rest, so the
            # syntax of the whole text decides between malformed and schema.
            return self.syntax_failure(text) or _fail(FailureMode.SCHEMA, "schema", str(exc))
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
            return _fail(FailureMode.MALFORMED, "strict_json", str(exc))
        if not self.keys_distinct(text, plan):
            failure = self.syntax_failure(text)
            if failure is not None:
                return failure
        return plan

    def syntax_failure(self, text: bytes) -> Verdict[Any] | None:
        """A ``malformed`` verdict unless all of ``text`` is strict JSON (depth checked first)."""
        if self.too_deep(text):
            return self.deep()
        syntax = strictjson.strict_error(text)
        return None if syntax is None else _fail(FailureMode.MALFORMED, "strict_json", syntax)

    def too_deep(self, text: bytes) -> bool:
        return strictjson.depth_exceeds(text, self.max_depth)

    def deep(self) -> Verdict[Any]:
        detail = f"nesting deeper than {self.max_depth}"
        return _fail(FailureMode.MALFORMED, "max_depth", detail)

    def keys_distinct(self, text: bytes, plan: Any) -> bool:
        """Cheap proof that no object in ``text`` repeats a key (``False``: could not prove it).

        The typed decoder keeps the last of duplicate keys. Every key of the input brings a colon,
        so ``colons >= keys >= distinct keys >= required keys of the decoded plan``; when the
        colons equal that lower bound, nothing is left over for a repeat. Otherwise (colons in
        strings, optional fields): re-encoding the plan keeps every key and string it kept, and
        without escapes decoded strings are byte-for-byte the input's, so equal colon counts prove
        that the input had no key the plan dropped.
        """
        colons = text.count(b":")
        if colons == self.min_keys(plan):
            return True
        if not self.reencode_keeps_keys:
            return False  # re-encoding adds defaulted keys the input may not have had
        return b"\\" not in text and colons == self.encoder.encode(plan).count(b":")


@final
@mypyc_attr(native_class=False)  # generic: its work is done by a native _Checker
@dataclass(frozen=True)
class Gate(Generic[PlanT, CtxT]):
    """Checks raw model output against the syntax, the schema and a domain's rules.

    ``check(text, size_bytes, ctx, asked_version)`` never raises for any input bytes; ``size_bytes``
    is the output's true size (a runtime may have stopped reading at ``max_bytes + 1``).
    """

    domain: Domain[PlanT, CtxT]
    config: GateConfig = GateConfig()
    _checker: _Checker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_checker", _Checker(self.domain, self.config))

    def check(self, text: bytes, size_bytes: int, ctx: CtxT, asked_version: str) -> Verdict[PlanT]:
        verdict: Verdict[PlanT] = self._checker.check(text, size_bytes, ctx, asked_version)
        return verdict

    @property
    def _decoder(self) -> msgspec.json.Decoder[PlanT]:
        decoder: msgspec.json.Decoder[PlanT] = self._checker.decoder
        return decoder

    def _keys_distinct(self, text: bytes, plan: PlanT) -> bool:
        return self._checker.keys_distinct(text, plan)


def omits_defaults(t: msgspec.inspect.Type) -> bool:
    """Whether re-encoding a decoded value of type ``t`` writes no key its input lacked: every
    struct in it either has no defaulted field or omits defaults (``omit_defaults=True``)."""
    seen: set[type] = set()

    def walk(node: msgspec.inspect.Type) -> bool:
        if isinstance(node, msgspec.inspect.StructType):
            if node.cls in seen:
                return True
            seen.add(node.cls)
            optional = any(not f.required for f in node.fields)
            if optional and not node.cls.__struct_config__.omit_defaults:
                return False
            return all(walk(f.type) for f in node.fields)
        inner = [
            getattr(node, name)
            for name in ("item_type", "key_type", "value_type")
            if hasattr(node, name)
        ]
        inner += list(getattr(node, "types", ()) or ())
        inner += list(getattr(node, "item_types", ()) or ())
        return all(walk(x) for x in inner)

    return walk(t)


def min_keys_counter(plan_type: type[Any]) -> Callable[[Any], int]:
    """A function giving, for a decoded value of ``plan_type``, how many object keys its JSON
    certainly had: every required field of every struct in it. Compiled once from the type."""
    bound = _key_bound(msgspec.inspect.type_info(plan_type))
    if bound is None or isinstance(bound, int):
        const = bound or 0

        def constant(_value: Any) -> int:
            return const

        return constant
    return bound


def _key_bound(t: msgspec.inspect.Type) -> int | Callable[[Any], int] | None:
    """Keys a value of type ``t`` certainly brings: a constant, a function of the value, or
    ``None`` for none (unions and free-form types count as none, which keeps the bound low)."""
    # The functions built here run once per checked output: constants are folded in when the
    # function is built, and the common shapes get a function of their own.
    if isinstance(t, msgspec.inspect.StructType):
        const = sum(1 for f in t.fields if f.required)
        nested: list[tuple[Callable[[Any], Any], Callable[[Any], int]]] = []
        for f in t.fields:
            sub = _key_bound(f.type)
            if sub is None or not f.required:
                continue  # an optional part may have been absent: count only what must be there
            if isinstance(sub, int):
                const += sub
            else:
                nested.append((operator.attrgetter(f.name), sub))
        if not nested:
            return const
        if len(nested) == 1:
            ((get, only),) = nested

            def count_one(value: Any) -> int:
                return const + only(get(value))

            return count_one

        def count(value: Any) -> int:
            n = const
            for get, sub in nested:
                n += sub(get(value))
            return n

        return count
    if isinstance(t, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType)):
        item = _key_bound(t.item_type)
        if item is None:
            return None
        if isinstance(item, int):
            per_item = item

            def each_alike(seq: Any) -> int:
                return per_item * len(seq)

            return each_alike
        each = item

        def over_items(seq: Any) -> int:
            return sum(map(each, seq))

        return over_items
    return None


def schema_depth(schema: object) -> int | None:
    """Deepest JSON nesting a value valid for ``schema`` can have; ``None`` if unbounded (recursive
    references, or a value of any type)."""
    if not isinstance(schema, dict):
        return None
    defs = schema.get("$defs", {})

    def depth(node: object, seen: frozenset[str]) -> int | None:
        if not isinstance(node, dict):
            return None
        if "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            if name in seen or name not in defs:
                return None
            return depth(defs[name], seen | {name})
        for key in ("anyOf", "oneOf", "allOf"):
            if key in node:
                parts = [depth(n, seen) for n in node[key]]
                return (
                    None
                    if any(p is None for p in parts)
                    else max(p for p in parts if p is not None)
                )
        kind = node.get("type")
        if kind == "object":
            if node.get("additionalProperties", True) is not False:
                return None
            inner = [depth(n, seen) for n in node.get("properties", {}).values()]
        elif kind == "array":
            items = node.get("prefixItems", [])
            inner = [depth(n, seen) for n in items]
            if "items" in node and node["items"] is not False:
                inner.append(depth(node["items"], seen))
        elif kind in ("string", "integer", "number", "boolean", "null"):
            return 0
        else:
            return None
        if any(i is None for i in inner):
            return None
        return 1 + max((i for i in inner if i is not None), default=0)

    return depth(schema, frozenset())
