"""Hypothesis strategies for payloads of a served model (`schemakit.testing.payloads`).

Built from the same model and edges as the probe's generator, and filtered by the same engine:
a `valid=True` example is one `check` accepts, a `valid=False` example one it refuses.
Hypothesis is imported only here (it is a test dependency, not a runtime one).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from typing import Any

from hypothesis import strategies as st

from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.model import DataType, EndpointSchema, FormatKind, InputFormat, JSONValue, Kind, ServedModel
from schemakit.probe.generate import (
    DATETIME_FORMS,
    bad_values,
    build_payload,
    edge_values,
    generate_cases,
    sample_value,
    tensor_row,
)
from schemakit.runtime.jsonsem import INT32, INT64
from schemakit.runtime.values import is_iso8601

__all__ = ["payload_strategy", "served_model_of"]


def served_model_of(model: EndpointSchema | ServedModel | str | os.PathLike[str]) -> ServedModel:
    """The one served model a strategy is for: a ServedModel, or a schema (or source) serving exactly one."""
    if isinstance(model, ServedModel):
        return model
    if not isinstance(model, EndpointSchema):
        from schemakit.core.resolve import load

        model = load(os.fspath(model))
    if len(model.models) != 1:
        names = ", ".join(m.name for m in model.models) or "none"
        raise ValueError(f"{model.title!r} serves {len(model.models)} models ({names}): pass schema.model(NAME)")
    return model.models[0]


def _native(t: DataType) -> st.SearchStrategy[Any] | None:
    """A strategy over the type's whole domain, where Hypothesis has one that fits its bounds."""
    if t.enum is not None or t.pattern is not None:
        return None
    if t.is_integer:
        low, high = INT32 if t.kind is Kind.INTEGER else INT64
        if isinstance(t.minimum, (int, float)):
            low = max(low, int(t.minimum))
        if isinstance(t.maximum, (int, float)):
            high = min(high, int(t.maximum))
        return st.integers(low, high) if low <= high else None
    if t.is_number:
        for bound in (t.minimum, t.maximum):
            if isinstance(bound, int) and abs(bound) > 2**1000:
                return None  # past what a double holds: the edges cover it
        return st.floats(
            min_value=float(t.minimum) if isinstance(t.minimum, (int, float)) else None,
            max_value=float(t.maximum) if isinstance(t.maximum, (int, float)) else None,
            allow_nan=False,
            allow_infinity=False,
            width=32 if t.kind is Kind.FLOAT else 64,
        )
    if t.kind is Kind.STRING:
        if (t.min_length or 0) > 1000:
            return None
        return st.text(min_size=t.min_length or 0, max_size=min(t.max_length, 1000) if t.max_length is not None else 40)
    if t.kind is Kind.BINARY:
        return st.binary(max_size=32).map(lambda b: base64.b64encode(b).decode("ascii"))
    if t.kind is Kind.BOOLEAN:
        return st.booleans()
    return None


def value_strategy(t: DataType) -> st.SearchStrategy[Any]:
    """Values of a type: its edges, and where it has one, Hypothesis's own strategy for its domain."""
    edges = [value for _, value in edge_values(t)]
    options: list[st.SearchStrategy[Any]] = []
    if edges:
        options.append(st.sampled_from(edges))
    native = _native(t)
    if native is not None:
        options.append(native)
        if t.nullable:
            options.append(st.none())
    return st.one_of(*options) if options else st.none()


def _datetime_strategy(t: DataType) -> st.SearchStrategy[Any]:
    # Columns take no zone (params do): a "Z" or an offset would only be filtered out again.
    forms = [f for f in DATETIME_FORMS if is_iso8601(f) and not f.endswith("Z") and "+" not in f and f.count("-") == 2]
    stamps = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)).map(
        lambda d: d.isoformat(timespec="seconds")
    )
    inner = st.one_of(st.sampled_from(forms), stamps)
    return st.one_of(inner, st.none()) if t.nullable else inner


def _rows(fmt: InputFormat, stream_ok: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    needed = fmt.request.required_field if fmt.request is not None else None
    for column in fmt.columns:
        if column.name == "stream" and fmt.kind is FormatKind.OBJECT and not stream_ok:
            continue
        if column.type.kind is Kind.DATETIME:
            # pandas reads a datetime column in the form of its first value: one value per example and column.
            strategy: st.SearchStrategy[Any] = st.shared(_datetime_strategy(column.type), key=f"dt:{column.name}")
        else:
            strategy = value_strategy(column.type)
        if column.required or column.name == needed or fmt.kind is FormatKind.DATAFRAME_SPLIT:
            required[column.name] = strategy
        else:
            optional[column.name] = strategy
    row = st.fixed_dictionaries(required, optional=optional)
    most = 1 if fmt.kind is FormatKind.OBJECT else 4
    return st.lists(row, min_size=1, max_size=most)


def _format_payloads(fmt: InputFormat) -> st.SearchStrategy[dict[str, JSONValue]]:
    params = st.fixed_dictionaries({}, optional={p.name: value_strategy(p.type) for p in fmt.params})
    if fmt.tensor is not None:
        tensor = fmt.tensor
        shape = tuple(tensor.shape or (-1,))[1:]

        def fill(value: Any) -> Any:
            row = value
            for size in reversed(shape):
                row = [row] * (size if size > 0 else 2)
            return row

        rows_t = st.lists(value_strategy(tensor).map(fill), min_size=1, max_size=3)
        return st.builds(lambda rows, p: build_payload(fmt, params=p or None, tensor_rows=rows), rows_t, params)
    return st.builds(lambda rows, p: build_payload(fmt, rows, p or None), _rows(fmt, False), params)


def _verdict(validator: PayloadValidator, payload: Any) -> bool:
    return validator.validate(payload).ok


def payload_strategy(
    model: EndpointSchema | ServedModel | str | os.PathLike[str],
    valid: bool = True,
    *,
    input_format: str | None = None,
    seed: int = 0,
) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads the engine accepts (`valid=True`) or refuses (`valid=False`) for one served model."""
    served = served_model_of(model)
    validator = compile_validator(served)
    formats = [f for f in served.formats if input_format is None or f.kind.value == input_format]
    if not formats:
        raise ValueError(
            f"{served.name!r} has no input format {input_format!r} (it has {', '.join(served.format_names)})"
        )
    cases = [
        c
        for c in generate_cases(served, seed=seed, validator=validator)
        if c.format in {f.kind.value for f in formats} and isinstance(c.payload, dict) and c.valid == valid
    ]
    composed = st.one_of(*(_format_payloads(f) for f in formats))
    if valid:
        generated: list[st.SearchStrategy[Any]] = [st.sampled_from([c.payload for c in cases])] if cases else []
        return st.one_of(*generated, composed.filter(lambda p: _verdict(validator, p)))
    broken = st.one_of(*(_broken(f, composed) for f in formats))
    generated = [st.sampled_from([c.payload for c in cases])] if cases else []
    return st.one_of(*generated, broken.filter(lambda p: not _verdict(validator, p)))


def _broken(fmt: InputFormat, composed: st.SearchStrategy[dict[str, JSONValue]]) -> st.SearchStrategy[Any]:
    """A valid-looking payload of the format with one column's value replaced by one that breaks a rule."""
    if fmt.tensor is not None:
        tensor = fmt.tensor
        spoilt = [build_payload(fmt, tensor_rows=[tensor_row(tensor, v)]) for _, v in bad_values(tensor)]
        good = tensor_row(tensor, sample_value(tensor))
        if isinstance(good, list) and good:
            spoilt.append(build_payload(fmt, tensor_rows=[good[:-1]]))
        return st.sampled_from(spoilt) if spoilt else composed
    bad: list[tuple[str, JSONValue]] = []
    for column in fmt.columns:
        bad += [(column.name, value) for _, value in bad_values(column.type)]
    if not bad:
        return composed

    def spoil(payload: dict[str, JSONValue], choice: tuple[str, JSONValue]) -> dict[str, JSONValue]:
        name, value = choice
        if fmt.kind is FormatKind.OBJECT:
            return {**payload, name: value}
        key = fmt.kind.value
        inner = payload.get(key)
        if fmt.kind is FormatKind.DATAFRAME_SPLIT and isinstance(inner, dict):
            columns, data = inner.get("columns"), inner.get("data")
            if isinstance(columns, list) and name in columns and isinstance(data, list) and data:
                first = data[0]
                if isinstance(first, list):
                    row = list(first)
                    row[columns.index(name)] = value
                    return {**payload, key: {**inner, "data": [row, *data[1:]]}}
            return payload
        if fmt.kind is FormatKind.INPUTS and isinstance(inner, dict):
            values = inner.get(name)
            if isinstance(values, list) and values:
                return {**payload, key: {**inner, name: [value, *values[1:]]}}
            return payload
        if isinstance(inner, list) and inner and isinstance(inner[0], dict):
            return {**payload, key: [{**inner[0], name: value}, *inner[1:]]}
        return payload

    return st.builds(spoil, composed, st.sampled_from(bad))
