"""What changed between two versions of an endpoint's schema, and whether it breaks clients.

The comparison reads the two *resolved* models (`schemakit.core.model`), never the raw
documents, so it speaks in served models, input formats, columns, params and
response fields, and it is blind to what does not matter: the order of `oneOf`
branches, JSON formatting, or schemas moved into `components` behind `$ref`.

Rules are direction-aware. A request must stay backward compatible (the new
schema accepts every payload the old one accepted), so widening a request
column is harmless; a response must stay forward compatible (old clients can
read every new response), so any change to a response type breaks them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from schemakit._exceptions import UnknownModelError
from schemakit.core.model import (
    Column,
    DataType,
    EndpointSchema,
    FormatKind,
    InputFormat,
    JSONValue,
    Kind,
    Param,
    ServedModel,
    split_version,
)
from schemakit.core.types import DIFF_WIDENINGS
from schemakit.diff.report import (
    _RANK,
    DiffReport,
    DiffSeverity,
    Finding,
    FindingLocation,
    SchemaSummary,
    default_severity,
    show_value,
)

# -- the comparison ----------------------------------------------------------------------


def diff_schemas(
    old: EndpointSchema,
    new: EndpointSchema,
    *,
    model_pairs: Mapping[str, str] | None = None,
) -> DiffReport:
    """Compare two resolved schemas. `model_pairs` maps old served-model names to new ones."""
    pairs, removed, added = _pair_models(old, new, model_pairs or {})
    out = _Collector()
    endpoint = FindingLocation("endpoint", field="info.version")
    if old.version != new.version:
        out.add(
            "info-version-changed",
            "",
            endpoint,
            f"config version {old.version or '(none)'} -> {new.version or '(none)'}",
            old.version,
            new.version,
        )
    if old.title != new.title:
        out.add(
            "endpoint-renamed",
            "",
            FindingLocation("endpoint", field="info.title"),
            f"endpoint name {old.title!r} -> {new.title!r}",
            old.title,
            new.title,
        )
    if old.server != new.server:
        out.add(
            "server-url-changed",
            "",
            FindingLocation("endpoint", field="servers"),
            f"server URL {old.server or '(none)'} -> {new.server or '(none)'}",
            old.server,
            new.server,
        )

    for old_model, new_model, how in pairs:
        scope = _ModelScope(out, new_model.name, old_model.name if old_model.name != new_model.name else None)
        if how == "version":
            scope.add(
                "served-model-version-changed",
                FindingLocation("model"),
                f"version changed: {old_model.name} -> {new_model.name}",
                old_model.name,
                new_model.name,
            )
        elif how == "explicit" and old_model.name != new_model.name:
            scope.add(
                "served-model-renamed",
                FindingLocation("model"),
                f"compared with {old_model.name} (--model {old_model.name}={new_model.name})",
                old_model.name,
                new_model.name,
            )
        _compare_models(old_model, new_model, scope)
    for model in removed:
        _ModelScope(out, model.name, None).add(
            "served-model-removed",
            FindingLocation("model"),
            f"removed: calls to {model.path} fail",
            model.name,
            None,
        )
    for model in added:
        _ModelScope(out, model.name, None).add(
            "served-model-added", FindingLocation("model"), f"added: {model.path}", None, model.name
        )

    order = {"": 0}
    for _, new_model, _ in pairs:
        order.setdefault(new_model.name, len(order))
    for model in (*removed, *added):
        order.setdefault(model.name, len(order))
    findings = sorted(out.findings, key=lambda f: (order[f.model], _RANK[f.severity]))
    return DiffReport(_summary(old), _summary(new), tuple(findings))


def _summary(schema: EndpointSchema) -> SchemaSummary:
    return SchemaSummary(schema.source, schema.title, schema.version)


def _pair_models(
    old: EndpointSchema, new: EndpointSchema, explicit: Mapping[str, str]
) -> tuple[list[tuple[ServedModel, ServedModel, str]], list[ServedModel], list[ServedModel]]:
    old_by_name = {m.name: m for m in old.models}
    new_by_name = {m.name: m for m in new.models}
    for old_name, new_name in explicit.items():
        if old_name not in old_by_name:
            raise UnknownModelError(
                f"--model {old_name}={new_name}: the old schema has no served model {old_name!r} "
                f"(it has: {', '.join(old_by_name) or 'none'})"
            )
        if new_name not in new_by_name:
            raise UnknownModelError(
                f"--model {old_name}={new_name}: the new schema has no served model {new_name!r} "
                f"(it has: {', '.join(new_by_name) or 'none'})"
            )
    if len(set(explicit.values())) != len(explicit):
        raise UnknownModelError("--model: a new served model is paired with more than one old one")

    matched: dict[str, tuple[str, str]] = {}  # new name -> (old name, how)
    for old_name, new_name in explicit.items():
        matched[new_name] = (old_name, "explicit")
    used_old = set(explicit)
    for name in new_by_name:
        if name not in matched and name in old_by_name and name not in used_old:
            matched[name] = (name, "exact")
            used_old.add(name)

    def base(name: str) -> str | None:
        stem, version = split_version(name)
        return stem if version is not None else None

    spare_old: dict[str, list[str]] = {}
    for name in old_by_name:
        if name not in used_old and base(name) is not None:
            spare_old.setdefault(str(base(name)), []).append(name)
    spare_new: dict[str, list[str]] = {}
    for name in new_by_name:
        if name not in matched and base(name) is not None:
            spare_new.setdefault(str(base(name)), []).append(name)
    for stem, new_names in spare_new.items():
        old_names = spare_old.get(stem, [])
        # Only an unambiguous upgrade is paired; two candidates either side would be a guess.
        if len(new_names) == 1 and len(old_names) == 1:
            matched[new_names[0]] = (old_names[0], "version")
            used_old.add(old_names[0])

    pairs = [(old_by_name[matched[n][0]], new_by_name[n], matched[n][1]) for n in new_by_name if n in matched]
    removed = [m for m in old.models if m.name not in used_old]
    added = [m for m in new.models if m.name not in matched]
    return pairs, removed, added


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(
        self,
        rule: str,
        model: str,
        location: FindingLocation,
        message: str,
        old: Any = None,
        new: Any = None,
        *,
        old_model: str | None = None,
        severity: DiffSeverity | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                rule,
                severity or default_severity(rule),
                model,
                location,
                message,
                _jsonable(old),
                _jsonable(new),
                old_model,
            )
        )


class _ModelScope:
    """Adds findings for one served-model pair."""

    def __init__(self, out: _Collector, model: str, old_model: str | None) -> None:
        self.out = out
        self.model = model
        self.old_model = old_model

    def add(
        self,
        rule: str,
        location: FindingLocation,
        message: str,
        old: Any = None,
        new: Any = None,
        *,
        severity: DiffSeverity | None = None,
    ) -> None:
        self.out.add(rule, self.model, location, message, old, new, old_model=self.old_model, severity=severity)


def _jsonable(value: Any) -> JSONValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, DataType):
        return value.display()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def _compare_models(old: ServedModel, new: ServedModel, scope: _ModelScope) -> None:
    old_formats = {f.kind: f for f in old.formats}
    new_formats = {f.kind: f for f in new.formats}
    for kind in old_formats:
        if kind not in new_formats:
            accepted = ", ".join(new.format_names) or "nothing"
            scope.add(
                "format-removed",
                FindingLocation("request", format=kind.value),
                f"input format {kind.value} no longer accepted (now: {accepted})",
                kind.value,
                None,
            )
    for kind in new_formats:
        if kind not in old_formats:
            scope.add(
                "format-added",
                FindingLocation("request", format=kind.value),
                f"input format {kind.value} added",
                None,
                kind.value,
            )

    # Params normally repeat in every format; compare them once unless the formats disagree.
    shared_params = _uniform_params(old) and _uniform_params(new)
    for kind, old_fmt in old_formats.items():
        new_fmt = new_formats.get(kind)
        if new_fmt is None:
            continue
        _compare_format(old_fmt, new_fmt, scope)
        if not shared_params:
            _compare_params(old_fmt.params, new_fmt.params, kind.value, scope)
    if shared_params and any(k in new_formats for k in old_formats):
        _compare_params(old.params, new.params, None, scope)

    _compare_responses(old, new, scope)


def _uniform_params(model: ServedModel) -> bool:
    return all(f.params == model.formats[0].params for f in model.formats)


# -- formats and columns -----------------------------------------------------------------


def _compare_format(old: InputFormat, new: InputFormat, scope: _ModelScope) -> None:
    name = old.kind.value
    if (old.tensor is None) != (new.tensor is None):
        layout = {True: "a tensor", False: "named columns"}
        scope.add(
            "format-layout-changed",
            FindingLocation("request", format=name),
            f"{name} changed from {layout[old.tensor is not None]} to {layout[new.tensor is not None]}",
            "tensor" if old.tensor is not None else "columns",
            "tensor" if new.tensor is not None else "columns",
        )
        return
    if old.tensor is not None and new.tensor is not None:
        _request_type(old.tensor, new.tensor, scope, partial(_field_location, name), "tensor")
        return
    if old.kind is FormatKind.DATAFRAME_SPLIT:
        _compare_split_columns(old, new, scope)
    else:
        if old.kind is FormatKind.OBJECT:
            _compare_object_request(old, new, scope)
        _compare_named_columns(old, new, scope)


def _compare_object_request(old: InputFormat, new: InputFormat, scope: _ModelScope) -> None:
    """What an object request (chat, completions, embeddings, agents) is, beyond its fields."""
    where = FindingLocation("request", format=old.kind.value)
    if old.request is not None and new.request is not None and old.request is not new.request:
        scope.add(
            "request-kind-changed",
            where,
            f"the request changed from {old.request.value} to {new.request.value}: old payloads no longer fit",
            old.request.value,
            new.request.value,
        )
    if old.streaming and not new.streaming:
        scope.add(
            "streaming-removed",
            FindingLocation("request", format=old.kind.value, column="stream"),
            "streaming (stream: true) is no longer declared: clients that stream may be refused",
            True,
            False,
        )
    elif new.streaming and not old.streaming:
        scope.add(
            "streaming-added",
            FindingLocation("request", format=old.kind.value, column="stream"),
            "streaming (stream: true) is now declared",
            False,
            True,
        )


def _field_location(fmt: str, field: str) -> FindingLocation:
    return FindingLocation("request", format=fmt, field=field)


def _column_location(fmt: str, column: str) -> FindingLocation:
    return FindingLocation("request", format=fmt, column=column)


def _compare_split_columns(old: InputFormat, new: InputFormat, scope: _ModelScope) -> None:
    fmt = old.kind.value
    old_names = [c.name for c in old.columns]
    new_names = [c.name for c in new.columns]
    old_set, new_set = set(old_names), set(new_names)
    for column in old.columns:
        if column.name not in new_set:
            scope.add(
                "column-removed",
                _column_location(fmt, column.name),
                f"column {column.name} ({column.type.display()}) removed; "
                + (
                    "positions of the columns after it shift"
                    if column.name != old_names[-1]
                    else "old rows carry a value the new rows do not expect"
                ),
                column.type.display(),
                None,
            )
    kept_old = [n for n in old_names if n in new_set]
    kept_new = [n for n in new_names if n in old_set]
    if kept_old != kept_new:
        scope.add(
            "split-columns-reordered",
            FindingLocation("request", format=fmt, field="columns"),
            f"columns reordered: [{', '.join(kept_old)}] -> [{', '.join(kept_new)}]; positional rows no longer line up",
            kept_old,
            kept_new,
        )
    last_kept = max((new_names.index(n) for n in kept_new), default=-1)
    for position, column in enumerate(new.columns):
        if column.name in old_set:
            continue
        where = _column_location(fmt, column.name)
        if column.required:
            scope.add(
                "column-added-required",
                where,
                f"required column {column.name} ({column.type.display()}) added: old payloads lack it",
                None,
                column.type.display(),
            )
        elif position < last_kept:
            scope.add(
                "column-inserted",
                where,
                f"optional column {column.name} ({column.type.display()}) inserted at position {position}, "
                "before existing columns: their positions shift",
                None,
                column.type.display(),
            )
        else:
            scope.add(
                "column-added-optional",
                where,
                f"optional column {column.name} ({column.type.display()}) added at the end",
                None,
                column.type.display(),
            )
    _compare_common_columns(old, new, scope)


def _compare_named_columns(old: InputFormat, new: InputFormat, scope: _ModelScope) -> None:
    fmt = old.kind.value
    new_names = {c.name for c in new.columns}
    old_names = {c.name for c in old.columns}
    for column in old.columns:
        if column.name not in new_names:
            scope.add(
                "column-removed",
                _column_location(fmt, column.name),
                f"column {column.name} ({column.type.display()}) removed; payloads that still send it may be "
                "ignored or rejected",
                column.type.display(),
                None,
                severity="warning",
            )
    for column in new.columns:
        if column.name in old_names:
            continue
        rule = "column-added-required" if column.required else "column-added-optional"
        text = "required" if column.required else "optional"
        consequence = ": old payloads lack it" if column.required else ""
        scope.add(
            rule,
            _column_location(fmt, column.name),
            f"{text} column {column.name} ({column.type.display()}) added{consequence}",
            None,
            column.type.display(),
        )
    _compare_common_columns(old, new, scope)


def _compare_common_columns(old: InputFormat, new: InputFormat, scope: _ModelScope) -> None:
    fmt = old.kind.value
    for column in old.columns:
        other = new.column(column.name)
        if other is None:
            continue
        where = _column_location(fmt, column.name)
        if other.required and not column.required:
            scope.add("column-became-required", where, f"column {column.name} is now required", "optional", "required")
        elif column.required and not other.required:
            scope.add("column-became-optional", where, f"column {column.name} is now optional", "required", "optional")
        _request_type(column.type, other.type, scope, partial(_column_location, fmt), column.name)


# -- request types -------------------------------------------------------------------------

LocationFor = Callable[[str], FindingLocation]


def _request_type(old: DataType, new: DataType, scope: _ModelScope, at: LocationFor, sub: str = "") -> None:
    """Backward compatibility: does `new` accept every value `old` accepted?"""
    where = at(sub)
    untyped = Kind.ANY in (old.kind, new.kind)
    if not untyped:
        if old.nullable and not new.nullable:
            scope.add(
                "nullable-removed", where, f"null no longer accepted ({old.display()} -> {new.display()})", True, False
            )
        elif new.nullable and not old.nullable:
            scope.add("nullable-added", where, f"null now accepted ({old.display()} -> {new.display()})", False, True)

    # A tensor's shape sits on its element type, so it is compared even when the dtype changed.
    if old.shape != new.shape:
        _request_shape(old.shape, new.shape, scope, where)
    if old.kind is not new.kind:
        _request_kind_change(old, new, scope, where)
        return

    _request_enum(old, new, scope, where)
    _request_bounds(old, new, scope, where)
    if old.kind is Kind.STRING and old.format != new.format:
        if new.format is None:
            scope.add(
                "string-format-removed", where, f"string format {old.format} no longer required", old.format, None
            )
        else:
            scope.add(
                "string-format-changed",
                where,
                f"string format {old.format or '(none)'} -> {new.format}",
                old.format,
                new.format,
            )
    if old.kind in (Kind.ARRAY, Kind.MAP):
        marker = "[]" if old.kind is Kind.ARRAY else "{}"
        _request_type(old.items or _ANY, new.items or _ANY, scope, at, f"{sub}{marker}")
    elif old.kind is Kind.OBJECT:
        _request_object(old, new, scope, at, sub)
    elif old.kind is Kind.UNION:
        _request_union(old, new, scope, where)


_ANY = DataType(Kind.ANY)


def _request_kind_change(old: DataType, new: DataType, scope: _ModelScope, where: FindingLocation) -> None:
    before, after = _core(old), _core(new)
    if new.kind is Kind.ANY:
        scope.add("type-widened", where, f"type widened from {before} to any", before, after)
        return
    if old.kind is Kind.ANY:
        scope.add("type-narrowed", where, f"type narrowed from any to {after}", before, after)
        return
    widening = DIFF_WIDENINGS.get((old.kind, new.kind))
    if widening is not None:
        loss = widening.loss
        if loss is None:
            scope.add("type-widened", where, f"type widened from {before} to {after}", before, after)
        else:
            scope.add("type-widened-lossy", where, f"type widened from {before} to {after}; {loss}", before, after)
        return
    if (new.kind, old.kind) in DIFF_WIDENINGS:
        scope.add(
            "type-narrowed", where, f"type narrowed from {before} to {after}: old values may not fit", before, after
        )
        return
    old_variants = _variant_names(old)
    new_variants = _variant_names(new)
    if old_variants < new_variants:
        scope.add("type-widened", where, f"type widened from {before} to {after}", before, after)
    elif new_variants < old_variants:
        scope.add("type-narrowed", where, f"type narrowed from {before} to {after}", before, after)
    else:
        scope.add("type-changed", where, f"type changed from {before} to {after}: old payloads fail", before, after)


def _core(t: DataType) -> str:
    """The display name without the nullable mark (nullability has its own rules)."""
    return replace(t, nullable=False).display()


def _variant_names(t: DataType) -> frozenset[str]:
    variants = t.variants if t.kind is Kind.UNION else (t,)
    return frozenset(_core(v) for v in variants)


def _request_union(old: DataType, new: DataType, scope: _ModelScope, where: FindingLocation) -> None:
    before, after = _variant_names(old), _variant_names(new)
    if before == after:
        return
    old_text, new_text = _core(old), _core(new)
    if before < after:
        scope.add("type-widened", where, f"type widened from {old_text} to {new_text}", old_text, new_text)
    elif after < before:
        scope.add("type-narrowed", where, f"type narrowed from {old_text} to {new_text}", old_text, new_text)
    else:
        scope.add(
            "type-changed", where, f"type changed from {old_text} to {new_text}: old payloads fail", old_text, new_text
        )


def _enum_values(t: DataType) -> list[JSONValue] | None:
    # Null in an enum only says "nullable", which has its own rules.
    return None if t.enum is None else [v for v in t.enum if v is not None]


def _request_enum(old: DataType, new: DataType, scope: _ModelScope, where: FindingLocation) -> None:
    before, after = _enum_values(old), _enum_values(new)
    if before is None and after is None:
        return
    if before is None:
        scope.add("enum-added", where, f"values now restricted to {show_value(after)}", None, after)
        return
    if after is None:
        scope.add("enum-removed", where, f"values no longer restricted to {show_value(before)}", before, None)
        return
    removed = [v for v in before if not _contains(after, v)]
    added = [v for v in after if not _contains(before, v)]
    if removed:
        scope.add(
            "enum-value-removed", where, f"enum value(s) {show_value(removed)} no longer accepted", removed, after
        )
    if added:
        scope.add("enum-value-added", where, f"enum value(s) {show_value(added)} now accepted", before, added)


#: Bounds keyword -> which way it narrows: +1 when a higher value accepts less (a minimum), -1 when lower does.
_BOUND_DIRECTIONS: Mapping[str, int] = {
    "minimum": +1,
    "exclusiveMinimum": +1,
    "minLength": +1,
    "minItems": +1,
    "maximum": -1,
    "exclusiveMaximum": -1,
    "maxLength": -1,
    "maxItems": -1,
}


def _request_bounds(old: DataType, new: DataType, scope: _ModelScope, where: FindingLocation) -> None:
    """A request bound that accepts less breaks old payloads; one that accepts more is information."""
    before, after = old.bounds, new.bounds
    for keyword, direction in _BOUND_DIRECTIONS.items():
        was, now = _number_bound(before, keyword), _number_bound(after, keyword)
        if was == now:
            continue
        if now is None:
            scope.add("bound-widened", where, f"{keyword} {was} removed", was, None)
        elif was is None:
            scope.add("bound-narrowed", where, f"new {keyword} {now}: old payloads may fall outside it", None, now)
        elif (now > was) if direction > 0 else (now < was):  # int/float comparisons are exact, even past 2^64
            scope.add("bound-narrowed", where, f"{keyword} {was} -> {now}: old payloads may fall outside it", was, now)
        else:
            scope.add("bound-widened", where, f"{keyword} {was} -> {now}", was, now)
    was, now = _number_bound(before, "multipleOf"), _number_bound(after, "multipleOf")
    if was != now:
        if now is None:
            scope.add("bound-widened", where, f"multipleOf {was} removed", was, None)
        elif was is not None and _divides(now, was):
            scope.add("bound-widened", where, f"multipleOf {was} -> {now}", was, now)
        else:
            shown = f"multipleOf {was} -> {now}" if was is not None else f"new multipleOf {now}"
            scope.add("bound-narrowed", where, f"{shown}: old payloads may not be multiples", was, now)
    old_pattern, new_pattern = old.pattern, new.pattern
    if old_pattern != new_pattern:
        if new_pattern is None:
            scope.add("pattern-removed", where, f"pattern {show_value(old_pattern)} removed", old_pattern, None)
        elif old_pattern is None:
            message = f"new pattern {show_value(new_pattern)}: old payloads may not match"
            scope.add("pattern-added", where, message, None, new_pattern)
        else:
            message = f"pattern {show_value(old_pattern)} -> {show_value(new_pattern)}: old payloads may not match"
            scope.add("pattern-changed", where, message, old_pattern, new_pattern)


def _number_bound(bounds: Mapping[str, int | float | str], keyword: str) -> int | float | None:
    value = bounds.get(keyword)
    return None if isinstance(value, str) else value


def _divides(divisor: Any, value: Any) -> bool:
    """Whether every multiple of `value` is a multiple of `divisor` (exactly, for integers)."""
    if isinstance(divisor, int) and isinstance(value, int):
        return divisor != 0 and value % divisor == 0
    try:
        ratio = float(value) / float(divisor)
    except (OverflowError, ZeroDivisionError):
        return False
    return math.isfinite(ratio) and ratio.is_integer()


def _request_shape(
    old: tuple[int, ...] | None, new: tuple[int, ...] | None, scope: _ModelScope, where: FindingLocation
) -> None:
    before, after = _shape_text(old), _shape_text(new)
    if old is None or new is None:
        if new is None:
            scope.add("shape-relaxed", where, f"shape {before} no longer fixed", before, after)
        else:
            scope.add("shape-changed", where, f"shape now fixed to {after}", before, after)
        return
    stricter = len(old) != len(new) or any(n != -1 and o != n for o, n in zip(old, new, strict=True))
    if stricter:
        scope.add("shape-changed", where, f"shape changed from {before} to {after}", before, after)
    else:
        scope.add("shape-relaxed", where, f"shape relaxed from {before} to {after}", before, after)


def _shape_text(shape: tuple[int, ...] | None) -> str | None:
    return None if shape is None else "(" + ", ".join(str(d) for d in shape) + ")"


def _request_object(old: DataType, new: DataType, scope: _ModelScope, at: LocationFor, sub: str) -> None:
    where = at(sub)
    if old.fields and not new.fields:
        scope.add("type-widened", where, f"type widened from {_core(old)} to any object", _core(old), _core(new))
        return
    if new.fields and not old.fields:
        scope.add("type-narrowed", where, f"type narrowed from any object to {_core(new)}", _core(old), _core(new))
        return
    old_names = {f.name for f in old.fields}
    for field in old.fields:
        other = new.field(field.name)
        path = f"{sub}.{field.name}"
        if other is None:
            scope.add(
                "field-removed",
                at(path),
                f"field {field.name} ({field.type.display()}) removed; payloads that send it may be rejected",
                field.type.display(),
                None,
            )
            continue
        if other.required and not field.required:
            scope.add("field-became-required", at(path), f"field {field.name} is now required", "optional", "required")
        elif field.required and not other.required:
            scope.add("field-became-optional", at(path), f"field {field.name} is now optional", "required", "optional")
        _request_type(field.type, other.type, scope, at, path)
    for field in new.fields:
        if field.name in old_names:
            continue
        path = f"{sub}.{field.name}"
        if field.required:
            scope.add(
                "field-added-required",
                at(path),
                f"required field {field.name} ({field.type.display()}) added: old payloads lack it",
                None,
                field.type.display(),
            )
        else:
            scope.add(
                "field-added-optional",
                at(path),
                f"optional field {field.name} ({field.type.display()}) added",
                None,
                field.type.display(),
            )


# -- params ------------------------------------------------------------------------------


def _compare_params(old: Sequence[Param], new: Sequence[Param], fmt: str | None, scope: _ModelScope) -> None:
    def at(name: str) -> FindingLocation:
        return FindingLocation("request", format=fmt, param=name)

    new_by_name = {p.name: p for p in new}
    old_by_name = {p.name: p for p in old}
    for param in old:
        other = new_by_name.get(param.name)
        where = at(param.name)
        if other is None:
            scope.add(
                "param-removed",
                where,
                f"param {param.name} ({param.type.display()}) removed; the server drops it when sent",
                param.type.display(),
                None,
            )
            continue
        if other.required and not param.required:
            scope.add("param-became-required", where, f"param {param.name} is now required", "optional", "required")
        elif param.required and not other.required:
            scope.add("param-became-optional", where, f"param {param.name} is now optional", "required", "optional")
        _request_type(param.type, other.type, scope, at, param.name)
        if param.shape != other.shape and param.type.shape == other.type.shape and param.type.kind is other.type.kind:
            _request_shape(param.shape, other.shape, scope, where)
        if param.has_default and other.has_default:
            if not _same_json(param.default, other.default):
                scope.add(
                    "param-default-changed",
                    where,
                    f"default {show_value(param.default)} -> {show_value(other.default)}: payloads without it behave differently",
                    param.default,
                    other.default,
                )
        elif other.has_default:
            scope.add("param-default-added", where, f"default {show_value(other.default)} added", None, other.default)
        elif param.has_default:
            scope.add(
                "param-default-removed",
                where,
                f"default {show_value(param.default)} removed: payloads without it behave differently",
                param.default,
                None,
            )
    for param in new:
        if param.name in old_by_name:
            continue
        where = at(param.name)
        text = param.type.display()
        if param.required:
            scope.add("param-added-required", where, f"required param {param.name} ({text}) added", None, text)
        elif not param.has_default:
            scope.add(
                "param-added-without-default",
                where,
                f"param {param.name} ({text}) added without a default: old payloads do not send it",
                None,
                text,
            )
        else:
            scope.add(
                "param-added",
                where,
                f"param {param.name} ({text}) added, default {show_value(param.default)}",
                None,
                text,
            )


# -- responses ---------------------------------------------------------------------------


def _compare_responses(old: ServedModel, new: ServedModel, scope: _ModelScope) -> None:
    if old.response is None and new.response is None:
        return
    if new.response is None:
        assert old.response is not None
        scope.add(
            "response-schema-removed",
            FindingLocation("response"),
            "the 200 response is no longer described",
            old.response.body.display(),
            None,
        )
        return
    if old.response is None:
        scope.add(
            "response-schema-added",
            FindingLocation("response"),
            "the 200 response is now described",
            None,
            new.response.body.display(),
        )
        return
    _response_type(old.response.body, new.response.body, scope, "")


def _response_location(path: str) -> FindingLocation:
    return FindingLocation("response", field=path or None)


def _response_type(old: DataType, new: DataType, scope: _ModelScope, path: str) -> None:
    """Forward compatibility: can a client written for `old` read every `new` value?"""
    where = _response_location(path)
    if old.kind is not new.kind or (
        old.kind is Kind.UNION
        and (_variant_names(old) != _variant_names(new) or len(old.variants) != len(new.variants))
    ):
        scope.add(
            "response-type-changed",
            where,
            f"type changed from {_core(old)} to {_core(new)}: old clients may fail to read it",
            _core(old),
            _core(new),
        )
        return
    if new.nullable and not old.nullable and old.kind is not Kind.ANY:
        scope.add(
            "response-nullable-added",
            where,
            f"may now be null ({old.display()} -> {new.display()}): old clients may not handle it",
            False,
            True,
        )
    elif old.nullable and not new.nullable:
        scope.add("response-nullable-removed", where, "is no longer null", True, False)

    _response_enum(old, new, scope, where)
    if old.kind is Kind.STRING and old.format != new.format:
        scope.add(
            "response-string-format-changed",
            where,
            f"string format {old.format or '(none)'} -> {new.format or '(none)'}",
            old.format,
            new.format,
        )
    if old.shape != new.shape:
        scope.add(
            "response-shape-changed",
            where,
            f"shape changed from {_shape_text(old.shape)} to {_shape_text(new.shape)}",
            _shape_text(old.shape),
            _shape_text(new.shape),
        )
    if old.kind in (Kind.ARRAY, Kind.MAP):
        marker = "[]" if old.kind is Kind.ARRAY else "{}"
        _response_type(old.items or _ANY, new.items or _ANY, scope, f"{path}{marker}")
    elif old.kind is Kind.OBJECT:
        _response_object(old.fields, new.fields, scope, path)
    elif old.kind is Kind.UNION:
        for old_variant, new_variant in zip(
            sorted(old.variants, key=_core), sorted(new.variants, key=_core), strict=True
        ):
            _response_type(old_variant, new_variant, scope, path)


def _response_enum(old: DataType, new: DataType, scope: _ModelScope, where: FindingLocation) -> None:
    before, after = _enum_values(old), _enum_values(new)
    if before is not None and after is None:
        scope.add("response-enum-removed", where, f"no longer restricted to {show_value(before)}", before, None)
    elif before is None and after is not None:
        scope.add("response-enum-added", where, f"now restricted to {show_value(after)}", None, after)
    elif before is not None and after is not None:
        added = [v for v in after if not _contains(before, v)]
        removed = [v for v in before if not _contains(after, v)]
        if added:
            scope.add(
                "response-enum-value-added",
                where,
                f"new enum value(s) {show_value(added)}: old clients may not expect them",
                before,
                added,
            )
        if removed:
            scope.add(
                "response-enum-value-removed",
                where,
                f"enum value(s) {show_value(removed)} no longer returned",
                removed,
                after,
            )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _response_object(old: Sequence[Column], new: Sequence[Column], scope: _ModelScope, path: str) -> None:
    new_by_name = {f.name: f for f in new}
    old_names = {f.name for f in old}
    for field in old:
        other = new_by_name.get(field.name)
        sub = _join(path, field.name)
        if other is None:
            scope.add(
                "response-field-removed",
                _response_location(sub),
                f"field {field.name} ({field.type.display()}) removed: clients that read it fail",
                field.type.display(),
                None,
            )
            continue
        if field.required and not other.required:
            scope.add(
                "response-field-became-optional",
                _response_location(sub),
                f"field {field.name} may now be missing",
                "required",
                "optional",
            )
        elif other.required and not field.required:
            scope.add(
                "response-field-became-required",
                _response_location(sub),
                f"field {field.name} is now always present",
                "optional",
                "required",
            )
        _response_type(field.type, other.type, scope, sub)
    for field in new:
        if field.name not in old_names:
            scope.add(
                "response-field-added",
                _response_location(_join(path, field.name)),
                f"field {field.name} ({field.type.display()}) added",
                None,
                field.type.display(),
            )


# -- value helpers -------------------------------------------------------------------------


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _contains(values: Iterable[Any], value: Any) -> bool:
    return any(_same_json(v, value) for v in values)
