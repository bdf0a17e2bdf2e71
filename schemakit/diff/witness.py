"""Witnesses: concrete proof for each breaking verdict of `diff`.

A request-side witness is a payload the old schema accepts and the new one rejects; a
response-side witness is a 200 body the new schema allows that old clients could not read.
Both are found by search over payloads generated from the models (`schemakit.probe.generate`)
and kept only when the engine confirms them: the old validator accepts and the new one refuses
(for a request), or the new response schema accepts and the old *reader* refuses (for a
response). The old reader is the old response schema with every property it names required:
a client generated from it reads each of them, so a missing field, a null or a value of
another type is one it cannot read. Non-breaking findings never get a witness.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemakit._io import atomic_write_bytes, dump_json
from schemakit.check.validator import PayloadValidator, compile_validator, jsonschema_fallback
from schemakit.core.model import DataType, EndpointSchema, JSONValue, Kind, ServedModel
from schemakit.diff.report import DiffReport, Finding
from schemakit.probe.generate import Case, edge_values, encode, generate_cases, sample_value

__all__ = [
    "Witness",
    "find_witnesses",
    "markdown_witnesses",
    "old_reader_schema",
    "response_accepts",
    "with_witnesses",
    "write_witnesses",
]

_MAX_RESPONSE_CANDIDATES = 400


@dataclass(frozen=True)
class Witness:
    """A payload (or a response body) that proves one breaking finding, with both verdicts."""

    side: str  # "request" or "response"
    #: A request payload, or a response body.
    value: JSONValue
    #: What the old side says (`the old schema accepts it`; for a response, what the new schema says).
    old_verdict: str
    #: What the new side says (`the new schema rejects it (type)`; for a response, why old clients cannot read it).
    new_verdict: str
    #: What the witness is, from the generator: `int_col: fractional double`.
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "label": self.label,
            "value": self.value,
            "old": self.old_verdict,
            "new": self.new_verdict,
        }


def _models(schema: EndpointSchema) -> dict[str, ServedModel]:
    return {m.name: m for m in schema.models}


def find_witnesses(
    old: EndpointSchema, new: EndpointSchema, report: DiffReport, *, seed: int = 0
) -> dict[int, Witness]:
    """A witness for each breaking finding that has one, by the finding's index in `report.findings`."""
    olds, news = _models(old), _models(new)
    validators: dict[tuple[str, str], PayloadValidator] = {}
    cases: dict[tuple[str, str], list[Case]] = {}

    def validator(side: str, model: ServedModel) -> PayloadValidator:
        key = (side, model.name)
        if key not in validators:
            # Diff names a broken document's errors and proceeds (schemakit.core.policy); its warning was said
            # once, so the validators behind its witnesses must not refuse the same document again.
            validators[key] = compile_validator(model, force=True)
        return validators[key]

    def generated(side: str, model: ServedModel) -> list[Case]:
        key = (side, model.name)
        if key not in cases:
            cases[key] = generate_cases(model, seed=seed, validator=validator(side, model), stream=True)
        return cases[key]

    out: dict[int, Witness] = {}
    for index, finding in enumerate(report.findings):
        if finding.severity != "breaking" or not finding.model:
            continue
        old_model = olds.get(finding.old_model or finding.model)
        if old_model is None:
            continue
        try:
            witness = _witness_for(finding, old_model, news.get(finding.model), news, generated, validator)
        except (RecursionError, OverflowError, ValueError, MemoryError):
            # A document no generator can walk (nesting past the recursion limit, bounds past a double)
            # gets no witness, never a crash of `diff`.
            witness = None
        if witness is not None:
            out[index] = witness
    return out


def _witness_for(
    finding: Finding,
    old_model: ServedModel,
    new_model: ServedModel | None,
    news: Mapping[str, ServedModel],
    generated: Callable[[str, ServedModel], list[Case]],
    validator: Callable[[str, ServedModel], PayloadValidator],
) -> Witness | None:
    if finding.location.part == "response":
        return _response_witness(old_model, new_model, finding) if new_model is not None else None
    if new_model is None:
        return _removed_model_witness(old_model, generated("old", old_model), news)
    return _request_witness(
        finding,
        generated("old", old_model),
        generated("new", new_model),
        validator("old", old_model),
        validator("new", new_model),
    )


def _removed_model_witness(
    model: ServedModel, cases: Sequence[Case], news: Mapping[str, ServedModel]
) -> Witness | None:
    if model.name in news:
        return None
    for case in cases:
        if case.valid:
            return Witness(
                "request",
                case.payload,
                "the old schema accepts it",
                f"the new schema has no served model named {model.name!r}",
                case.label,
            )
    return None


def _relevance(finding: Finding, case: Case) -> int:
    """Lower first: cases that touch the finding's column or param, in its format."""
    where = finding.location
    score = 0 if where.format is None or case.format == where.format else 2
    names = [n.split(".")[0].split("[")[0].split("{")[0] for n in (where.column, where.param) if n]
    if names and not any(
        case.label.startswith(
            (f"{n}:", f"param {n}:", f"mutation: {n}:", f"mutation: param {n}:", f"mutation: required {n}")
        )
        for n in names
    ):
        score += 1
    return score


def _request_witness(
    finding: Finding,
    old_cases: Sequence[Case],
    new_cases: Sequence[Case],
    old_check: PayloadValidator,
    new_check: PayloadValidator,
) -> Witness | None:
    candidates: list[Case] = _nested_candidates(finding, old_check.model, old_cases)
    candidates += [c for c in old_cases if c.valid]
    # The new model's mutations are payloads the new schema refuses by construction: some the old one took.
    candidates += [c for c in new_cases if not c.valid and c.payload is not None]
    candidates.sort(key=lambda c: _relevance(finding, c))
    for case in candidates:
        if case.payload is None:
            continue
        before = old_check.validate_json(case.body)
        if not before.ok:
            continue
        after = new_check.validate_json(case.body)
        if after.ok:
            continue
        codes = ", ".join(sorted({p.code for p in after.errors}))
        return Witness(
            "request", case.payload, "the old schema accepts it", f"the new schema rejects it ({codes})", case.label
        )
    return None


def _nested_candidates(finding: Finding, model: ServedModel, cases: Sequence[Case]) -> list[Case]:
    """The finding's column varied deep inside (an enum member of a list's objects, ...) in a valid payload."""
    where = finding.location
    if where.column is None:
        return []
    name = re.split(r"[.\[{]", where.column, maxsplit=1)[0]
    out: list[Case] = []
    for fmt in model.formats:
        if where.format is not None and fmt.kind.value != where.format:
            continue
        column = fmt.column(name)
        if column is None:
            continue
        base = next((c for c in cases if c.format == fmt.kind.value and c.valid and c.intent == "valid"), None)
        if base is None:
            continue
        for label, value in _variants(column.type):
            payload = _with_column(base.payload, fmt.kind.value, name, value)
            if payload is not None:
                out.append(
                    Case(
                        model.name, fmt.kind.value, f"{name}: {label}", "valid", payload, True, (), (), encode(payload)
                    )
                )
    return out


def _with_column(payload: JSONValue, fmt: str, name: str, value: JSONValue) -> JSONValue:
    """`payload` (one row) with column `name` set to `value`, in the format's layout; None when it has no such slot."""
    if not isinstance(payload, dict):
        return None
    if fmt == "object":
        return {**payload, name: value}
    inner = payload.get(fmt)
    if fmt == "dataframe_split" and isinstance(inner, dict):
        columns, data = inner.get("columns"), inner.get("data")
        if (
            isinstance(columns, list)
            and name in columns
            and isinstance(data, list)
            and data
            and isinstance(data[0], list)
        ):
            row = list(data[0])
            row[columns.index(name)] = value
            return {**payload, fmt: {**inner, "data": [row]}}
        return None
    if fmt == "inputs" and isinstance(inner, dict):
        return {**payload, fmt: {**inner, name: [value]}}
    if isinstance(inner, list) and inner and isinstance(inner[0], dict):
        return {**payload, fmt: [{**inner[0], name: value}]}
    return None


# -- responses ------------------------------------------------------------------------------------------------


def old_reader_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The response schema as an old client reads it: every property it names is required."""
    out = copy.deepcopy(dict(schema))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and properties:
                node["required"] = sorted(set(node.get("required", [])) | set(properties))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(out)
    return out


def response_accepts(schema: Mapping[str, Any], body: Any) -> str | None:
    """None when `body` fits `schema`, else the first problem (`$.path: [code] message`)."""
    for code, parts, _value, message in jsonschema_fallback(schema, body):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
        return f"{where}: [{code}] {message}"
    return None


def _variants(t: DataType, depth: int = 0) -> Iterator[tuple[str, JSONValue]]:
    """Values of a type: its edges, and for objects and arrays each part varied on its own."""
    for label, value in edge_values(t):
        yield label, value
    if depth > 4:
        return
    if t.kind is Kind.OBJECT and t.fields:
        base = {f.name: sample_value(f.type) for f in t.fields}
        for f in t.fields:
            if not f.required:
                yield f"without {f.name}", {k: v for k, v in base.items() if k != f.name}
            for label, value in _variants(f.type, depth + 1):
                yield f"{f.name}: {label}", {**base, f.name: value}
    elif t.kind in (Kind.ARRAY, Kind.MAP) and t.items is not None:
        for label, value in _variants(t.items, depth + 1):
            yield (f"[]: {label}", [value]) if t.kind is Kind.ARRAY else (f"{{}}: {label}", {"k": value})
    elif t.kind is Kind.UNION:
        for variant in t.variants:
            yield from _variants(variant, depth + 1)


def _response_witness(old: ServedModel, new: ServedModel, finding: Finding) -> Witness | None:
    if old.response is None or new.response is None:
        return None
    reader = old_reader_schema(old.response.schema)
    field = (finding.location.field or "").split(".")[0].split("[")[0]
    seen: set[str] = set()
    ranked: list[tuple[int, str, JSONValue]] = []
    for label, body in _variants(new.response.body):
        key = repr(body)
        if key in seen:
            continue
        seen.add(key)
        ranked.append((0 if field and field in label else 1, label, body))
        if len(ranked) >= _MAX_RESPONSE_CANDIDATES:
            break
    ranked.sort(key=lambda item: item[0])
    for _, label, body in ranked:
        if response_accepts(new.response.schema, body) is not None:
            continue
        problem = response_accepts(reader, body)
        if problem is not None:
            return Witness(
                "response", body, "the new response schema allows it", f"old clients cannot read it: {problem}", label
            )
    return None


# -- writing --------------------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def write_witnesses(directory: str | Path, report: DiffReport, witnesses: Mapping[int, Witness]) -> list[Path]:
    """One JSON file per witness under `directory` (names made only of safe characters), written atomically."""
    folder = Path(directory)
    written: list[Path] = []
    for index, witness in sorted(witnesses.items()):
        finding = report.findings[index]
        stem = _UNSAFE_NAME.sub("_", f"{index + 1:03d}-{finding.model}-{finding.rule}")[:120].strip("._") or "witness"
        path = folder / f"{stem}.json"
        record = {
            "schema_version": 1,
            "finding": finding.to_json(),
            "witness": witness.to_json(),
        }
        atomic_write_bytes(path, dump_json(record) + b"\n")
        written.append(path)
    return written


def with_witnesses(report: DiffReport, old: EndpointSchema, new: EndpointSchema, *, seed: int = 0) -> DiffReport:
    """`report` with a witness searched for every breaking finding (JSON and Markdown then show them)."""
    return dataclasses.replace(report, witnesses=find_witnesses(old, new, report, seed=seed), witnessed=True)


def _json_code(value: JSONValue, limit: int = 2000) -> str:
    """The value as an inline code span of ASCII-only JSON.

    ASCII-only: no control, bidi or line-breaking character of the document's reaches the page; the
    span's fence is longer than any backtick run inside, so it cannot be closed from within.
    """
    text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    if len(text) > limit:
        text = text[:limit] + " ...(cut)"
    text = text.replace("|", "\\u007c")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_witnesses(report: DiffReport) -> list[str]:
    """The Markdown section listing each breaking finding's witness (or saying none was found)."""
    from schemakit.runtime.text import markdown

    breaking = [(i, f) for i, f in enumerate(report.findings) if f.severity == "breaking"]
    if not breaking:
        return []
    found = sum(1 for i, _ in breaking if i in report.witnesses)
    lines = [f"<details><summary>Witnesses: {found} of {len(breaking)} breaking change(s) proved</summary>", ""]
    for index, finding in breaking:
        head = (
            f"- **{markdown(finding.model or 'endpoint')}**: {markdown(finding.headline())} ({markdown(finding.rule)})"
        )
        witness = report.witnesses.get(index)
        if witness is None:
            lines += [f"{head}: no witness found (the old schema accepts nothing generated that the new one refuses)"]
            continue
        what = "payload" if witness.side == "request" else "response"
        lines += [
            f"{head}: this {what} ({markdown(witness.label)}): {markdown(witness.old_verdict)}; "
            f"{markdown(witness.new_verdict)}: {_json_code(witness.value)}",
        ]
    lines += ["", "</details>", ""]
    return lines
