"""Compiling a JSON Schema into nested closures: the exact path's checks.

Each check is `check(value, path, sink) -> bool`: it adds what it finds to the sink
and says whether the value is valid. The switched-on value rules (`payload_rules`)
run after a value's schema checks pass; inside a `oneOf`/`anyOf` branch their
problems wait in the branch's buffer until the branch is chosen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from .jsonsem import expected_name, has_non_finite, is_type, json_key, not_multiple
from .keywords import ANNOTATIONS
from .parse import RawRows, clean_chunk
from .patterns import Search, compile_pattern
from .payload_rules import value_hooks
from .report import Path, RuleBuffer, Sink, rule_sink

__all__ = ["Check", "Compiler", "type_check"]

Check = Callable[[Any, Path, Sink], bool]


def _accept(value: Any, path: Path, sink: Sink) -> bool:
    return True


def _reject(value: Any, path: Path, sink: Sink) -> bool:
    sink.add("false-schema", path, "nothing", value, "no value is allowed here")
    return False


class Compiler:
    """Turns a JSON Schema into nested closures.

    `rules` maps each switched-on serving rule to its severity (strict mode may raise
    a warning rule to an error).
    """

    def __init__(self, rules: Mapping[str, str]) -> None:
        self.rules = rules

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return self._any_value()
        if schema is False:
            return _reject
        if not isinstance(schema, dict):
            return self._any_value()
        checks: list[Check] = []
        typed = type_check(schema)
        for builder in (
            enum_checks,
            number_checks,
            string_checks,
            self._arrays,
            self._objects,
            self._combinators,
        ):
            checks.extend(builder(schema))
        hooks = value_hooks(schema, self.rules)
        if not checks and typed is None and not hooks:
            return self._any_value() if not (set(schema) - ANNOTATIONS) else _accept
        return _combine(typed, checks, hooks)

    def _any_value(self) -> Check:
        severity = self.rules.get("non-finite")
        if severity is None:
            return _accept

        def check(value: Any, path: Path, sink: Sink) -> bool:
            if has_non_finite(value):
                detail = "NaN and Infinity are not valid JSON"
                rule_sink(sink).add("non-finite", path, "finite numbers", value, detail, severity=severity)
            return True

        return check

    def _arrays(self, schema: Mapping[str, Any]) -> list[Check]:
        checks: list[Check] = []
        prefix_schemas = schema.get("prefixItems")
        prefix = [self.compile(s) for s in prefix_schemas] if isinstance(prefix_schemas, list) else []
        rest = self.compile(schema["items"]) if "items" in schema else None
        if prefix or rest is not None:
            checks.append(_items_check(prefix, rest, schema.get("items") is False))
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) or isinstance(high, int):

            def count(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, list):
                    return True
                if isinstance(low, int) and len(value) < low:
                    sink.add("min-items", path, f"at least {low} items", value)
                    return False
                if isinstance(high, int) and len(value) > high:
                    sink.add("max-items", path, f"at most {high} items", value)
                    return False
                return True

            checks.append(count)
        if schema.get("uniqueItems") is True:

            def unique(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, list):
                    return True
                seen: set[Any] = set()
                for item in value:
                    key = json_key(item)
                    if key in seen:
                        sink.add("unique-items", path, "unique items", item, "appears more than once")
                        return False
                    seen.add(key)
                return True

            checks.append(unique)
        if "contains" in schema:
            contains = self.compile(schema["contains"])
            min_contains = schema.get("minContains", 1)
            max_contains = schema.get("maxContains")

            def has(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, list):
                    return True
                matched = sum(1 for item in value if contains(item, None, Sink(0, True)))
                if matched < min_contains or (isinstance(max_contains, int) and matched > max_contains):
                    sink.add("contains", path, "items matching 'contains'", value, f"{matched} match")
                    return False
                return True

            checks.append(has)
        return checks

    def _objects(self, schema: Mapping[str, Any]) -> list[Check]:
        checks: list[Check] = []
        found_properties = schema.get("properties")
        properties: dict[str, Any] = found_properties if isinstance(found_properties, dict) else {}
        found_patterns = schema.get("patternProperties")
        patterns: dict[str, Any] = found_patterns if isinstance(found_patterns, dict) else {}
        compiled_props = {name: self.compile(sub) for name, sub in properties.items()}
        compiled_patterns: list[tuple[Search, Check]] = []
        unreadable_patterns: list[tuple[str, str]] = []
        for pattern_text, sub in patterns.items():
            compiled, failure = compile_pattern(pattern_text)
            if compiled is None:
                unreadable_patterns.append((pattern_text, failure))
            else:
                compiled_patterns.append((compiled, self.compile(sub)))
        if unreadable_patterns:

            def readable_patterns(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict) or not value:
                    return True
                for pattern_text, failure in unreadable_patterns:
                    sink.add(
                        "pattern",
                        path,
                        f"property names checked against {pattern_text}",
                        None,
                        f"patternProperties: {failure}",
                        show_value=False,
                    )
                return False

            checks.append(readable_patterns)
        additional = None
        if "additionalProperties" in schema:
            additional = self.compile(schema["additionalProperties"])
        additional_false = schema.get("additionalProperties") is False
        if compiled_props or compiled_patterns or additional is not None:
            checks.append(_properties_check(compiled_props, compiled_patterns, additional, additional_false))
        required = schema.get("required")
        if isinstance(required, list) and required:
            names = [str(r) for r in required]

            def has_required(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for name in names:
                    if name not in value:
                        sink.add("required", path, name, None, "missing", column=name, show_value=False)
                        ok = False
                return ok

            checks.append(has_required)
        if "propertyNames" in schema:
            names_check = self.compile(schema["propertyNames"])

            def property_names(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for key in value:
                    if not names_check(key, path, Sink(0, True)):
                        sink.add("property-names", path, "allowed property names", key)
                        ok = False
                return ok

            checks.append(property_names)
        low, high = schema.get("minProperties"), schema.get("maxProperties")
        if isinstance(low, int) or isinstance(high, int):

            def size(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                if isinstance(low, int) and len(value) < low:
                    sink.add("min-properties", path, f"at least {low} properties", value)
                    return False
                if isinstance(high, int) and len(value) > high:
                    sink.add("max-properties", path, f"at most {high} properties", value)
                    return False
                return True

            checks.append(size)
        dependent = schema.get("dependentRequired")
        if isinstance(dependent, dict) and dependent:

            def dependent_required(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for trigger, needed in dependent.items():
                    if trigger in value:
                        for name in needed:
                            if name not in value:
                                sink.add(
                                    "dependent-required",
                                    path,
                                    name,
                                    None,
                                    f"required when {trigger} is present",
                                    column=name,
                                    show_value=False,
                                )
                                ok = False
                return ok

            checks.append(dependent_required)
        dependent_schemas = schema.get("dependentSchemas")
        if isinstance(dependent_schemas, dict) and dependent_schemas:
            compiled_dependent = {k: self.compile(s) for k, s in dependent_schemas.items()}

            def dependent_schema(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, dict):
                    return True
                ok = True
                for trigger, check in compiled_dependent.items():
                    if trigger in value and not check(value, path, sink):
                        ok = False
                return ok

            checks.append(dependent_schema)
        return checks

    def _combinators(self, schema: Mapping[str, Any]) -> list[Check]:
        checks: list[Check] = []
        if isinstance(schema.get("allOf"), list):
            parts = [self.compile(s) for s in schema["allOf"]]

            def all_of(value: Any, path: Path, sink: Sink) -> bool:
                ok = True
                for part in parts:
                    if not part(value, path, sink):
                        ok = False
                        if sink.verdict_only:
                            return False
                return ok

            checks.append(all_of)
        for keyword in ("anyOf", "oneOf"):
            if isinstance(schema.get(keyword), list):
                branches = [self.compile(s) for s in schema[keyword]]
                checks.append(_choice_check(keyword, branches, schema[keyword]))
        if "not" in schema:
            negated = self.compile(schema["not"])

            def is_not(value: Any, path: Path, sink: Sink) -> bool:
                if negated(value, path, Sink(0, True)):
                    sink.add("not", path, "a value the 'not' schema rejects", value)
                    return False
                return True

            checks.append(is_not)
        if "if" in schema:
            condition = self.compile(schema["if"])
            then = self.compile(schema["then"]) if "then" in schema else None
            otherwise = self.compile(schema["else"]) if "else" in schema else None

            def if_then_else(value: Any, path: Path, sink: Sink) -> bool:
                chosen = then if condition(value, path, Sink(0, True)) else otherwise
                return chosen(value, path, sink) if chosen is not None else True

            checks.append(if_then_else)
        return checks


def type_check(schema: Mapping[str, Any]) -> Check | None:
    if "type" not in schema:
        return None
    kind = schema["type"]
    names = tuple(kind) if isinstance(kind, list) else (kind,)
    expected = expected_name(schema)
    if names == ("integer",):

        def is_integer(value: Any, path: Path, sink: Sink) -> bool:
            cls = type(value)
            if cls is int or (cls is float and value.is_integer()):
                return True
            if cls is not bool and isinstance(value, int):
                return True
            sink.add("type", path, expected, value)
            return False

        return is_integer
    if names == ("number",):

        def is_number(value: Any, path: Path, sink: Sink) -> bool:
            cls = type(value)
            if cls is float or cls is int or (cls is not bool and isinstance(value, (int, float))):
                return True
            sink.add("type", path, expected, value)
            return False

        return is_number
    if names == ("string",):

        def is_string(value: Any, path: Path, sink: Sink) -> bool:
            if isinstance(value, str):
                return True
            sink.add("type", path, expected, value)
            return False

        return is_string

    def is_any_of(value: Any, path: Path, sink: Sink) -> bool:
        for name in names:
            if is_type(value, name):
                return True
        sink.add("type", path, expected, value)
        return False

    return is_any_of


def enum_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if isinstance(schema.get("enum"), list):
        allowed = schema["enum"]
        keys = {json_key(v) for v in allowed}
        shown = ", ".join(json.dumps(v) for v in allowed[:8]) + (", ..." if len(allowed) > 8 else "")

        containers = any(isinstance(v, (list, dict)) for v in allowed)

        def in_enum(value: Any, path: Path, sink: Sink) -> bool:
            # Containers are keyed recursively; skip that when no allowed value is one.
            if (containers or not isinstance(value, (list, dict))) and json_key(value) in keys:
                return True
            sink.add("enum", path, f"one of {shown}", value)
            return False

        checks.append(in_enum)
    if "const" in schema:
        const_key = json_key(schema["const"])
        const_text = json.dumps(schema["const"])

        const_container = isinstance(schema["const"], (list, dict))

        def is_const(value: Any, path: Path, sink: Sink) -> bool:
            if (const_container or not isinstance(value, (list, dict))) and json_key(value) == const_key:
                return True
            sink.add("const", path, const_text, value)
            return False

        checks.append(is_const)
    return checks


def number_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    comparisons = (
        ("minimum", lambda v, b: v >= b, "at least"),
        ("maximum", lambda v, b: v <= b, "at most"),
        ("exclusiveMinimum", lambda v, b: v > b, "more than"),
        ("exclusiveMaximum", lambda v, b: v < b, "less than"),
    )
    for keyword, holds, words in comparisons:
        bound = schema.get(keyword)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool):
            checks.append(_bound_check(keyword, bound, holds, f"{words} {bound}"))
    divisor = schema.get("multipleOf")
    if isinstance(divisor, (int, float)) and not isinstance(divisor, bool):

        def multiple(value: Any, path: Path, sink: Sink) -> bool:
            if not is_type(value, "number"):
                return True
            if not_multiple(value, divisor):
                sink.add("multiple-of", path, f"a multiple of {divisor}", value)
                return False
            return True

        checks.append(multiple)
    return checks


def string_checks(schema: Mapping[str, Any]) -> list[Check]:
    checks: list[Check] = []
    low = schema.get("minLength")
    high = schema.get("maxLength")
    if isinstance(low, int) or isinstance(high, int):

        def length(value: Any, path: Path, sink: Sink) -> bool:
            if not isinstance(value, str):
                return True
            size = len(value)
            if isinstance(low, int) and size < low:
                sink.add("min-length", path, f"at least {low} characters", value)
                return False
            if isinstance(high, int) and size > high:
                sink.add("max-length", path, f"at most {high} characters", value)
                return False
            return True

        checks.append(length)
    if isinstance(schema.get("pattern"), str):
        pattern_text = schema["pattern"]
        compiled, failure = compile_pattern(pattern_text)
        if compiled is None:
            # A pattern Python cannot read decides nothing: say so for each text it should
            # have checked, rather than failing to validate at all.

            def unreadable(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, str):
                    return True
                sink.add("pattern", path, f"text matching {pattern_text}", value, failure)
                return False

            checks.append(unreadable)
        else:
            search = compiled

            def matches(value: Any, path: Path, sink: Sink) -> bool:
                if not isinstance(value, str) or search(value):
                    return True
                sink.add("pattern", path, f"text matching {pattern_text}", value)
                return False

            checks.append(matches)
    return checks


def _combine(type_check: Check | None, checks: list[Check], hooks: list[Check]) -> Check:
    if type_check is not None and not checks and len(hooks) == 1:
        hook = hooks[0]

        def typed_with_rule(value: Any, path: Path, sink: Sink) -> bool:
            if not type_check(value, path, sink):
                return False
            hook(value, path, rule_sink(sink))
            return True

        return typed_with_rule
    if type_check is not None and not checks and not hooks:
        return type_check

    def validate(value: Any, path: Path, sink: Sink) -> bool:
        # A value of the wrong type fails every other keyword too; one message says it best.
        if type_check is not None and not type_check(value, path, sink):
            return False
        ok = True
        for check in checks:
            if not check(value, path, sink):
                ok = False
                if sink.verdict_only:
                    return False
        if ok and hooks:
            target = rule_sink(sink)
            for hook in hooks:
                hook(value, path, target)
        return ok

    return validate


def _bound_check(keyword: str, bound: float, holds: Callable[[Any, Any], bool], expected: str) -> Check:
    code = re.sub(r"(?<!^)([A-Z])", r"-\1", keyword).lower()

    def check(value: Any, path: Path, sink: Sink) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        if holds(value, bound):
            return True
        sink.add(code, path, expected, value)
        return False

    return check


def _items_check(prefix: list[Check], rest: Check | None, rest_false: bool) -> Check:
    n_prefix = len(prefix)

    def items(value: Any, path: Path, sink: Sink) -> bool:
        if not isinstance(value, list):
            return True
        ok = True
        verdict_only = sink.verdict_only
        if type(value) is RawRows and rest is not None and not rest_false and not n_prefix:
            # Rows kept raw: only the chunks their screen does not find clean are parsed and checked.
            for first, rows in value.walk(clean_chunk):
                for index, item in enumerate(rows, first):
                    if not rest(item, (path, index), sink):
                        ok = False
                        if verdict_only:
                            return False
            return ok
        for index, check in enumerate(prefix[: len(value)]):
            if not check(value[index], (path, index), sink):
                ok = False
                if verdict_only:
                    return False
        if rest is not None and len(value) > n_prefix:
            if rest_false:
                sink.add(
                    "false-schema", (path, n_prefix), "no more items", value[n_prefix], f"at most {n_prefix} items"
                )
                return False
            index = n_prefix
            for item in value[n_prefix:] if n_prefix else value:
                if not rest(item, (path, index), sink):
                    ok = False
                    if verdict_only:
                        return False
                index += 1
        return ok

    return items


def _properties_check(
    props: dict[str, Check],
    patterns: list[tuple[Search, Check]],
    additional: Check | None,
    additional_false: bool,
) -> Check:
    def properties(value: Any, path: Path, sink: Sink) -> bool:
        if not isinstance(value, dict):
            return True
        ok = True
        for key, item in value.items():
            known = False
            check = props.get(key)
            if check is not None:
                known = True
                if not check(item, (path, key), sink):
                    ok = False
            for search, pattern_check in patterns:
                if search(key):
                    known = True
                    if not pattern_check(item, (path, key), sink):
                        ok = False
            if not known and additional is not None:
                if additional_false:
                    sink.add("additional-properties", (path, key), "no such property", item, "not allowed here")
                    ok = False
                elif not additional(item, (path, key), sink):
                    ok = False
            if not ok and sink.verdict_only:
                return False
        return ok

    return properties


def _choice_check(keyword: str, branches: list[Check], schemas: list[Any]) -> Check:
    code = "any-of" if keyword == "anyOf" else "one-of"

    def choose(value: Any, path: Path, sink: Sink) -> bool:
        if sink.verdict_only:
            valid = 0
            for branch in branches:
                if branch(value, path, Sink(0, True)):
                    valid += 1
                    if keyword == "anyOf" or valid > 1:
                        break
            ok = valid >= 1 if keyword == "anyOf" else valid == 1
            if not ok:
                sink.errors += 1
            return ok
        buffers: list[RuleBuffer] = []
        valid_indexes: list[int] = []
        for index, branch in enumerate(branches):
            buffer = RuleBuffer(sink.limit)
            if branch(value, path, buffer):
                valid_indexes.append(index)
                if keyword == "anyOf":
                    buffers.append(buffer)
                    break
            buffers.append(buffer)
        rule_target = rule_sink(sink)
        if (keyword == "anyOf" and valid_indexes) or (keyword == "oneOf" and len(valid_indexes) == 1):
            rule_target.merge(buffers[valid_indexes[0]].rules)
            return True
        if valid_indexes:
            listed = ", ".join(str(i) for i in valid_indexes)
            sink.add(code, path, "exactly one alternative", value, f"matches alternatives {listed} of oneOf")
            return False
        # No branch fits: explain the one the value was most likely meant for, the branch
        # whose failures are all below this value (right type, right keys, wrong details).
        deeper = [b for b in buffers if b.kept and all(entry[2] is not path for entry in b.kept)]
        if len(deeper) == 1:
            sink.merge(deeper[0])
            rule_target.merge(deeper[0].rules)
            return False
        wanted = " | ".join(_branch_name(s) for s in schemas)
        sink.add(code, path, wanted, value, f"matches none of the {len(branches)} alternatives")
        return False

    return choose


def _branch_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "anything" if schema is True else "nothing"
    name = expected_name(schema)
    required = schema.get("required")
    if isinstance(required, list) and required:
        name = f"{name} with {', '.join(map(str, required))}"
    return name
