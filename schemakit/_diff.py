"""What changed between two versions of an endpoint's schema, and whether it breaks clients.

The comparison reads the two *resolved* models (`schemakit._model`), never the raw
documents, so it speaks in served models, input formats, columns, params and
response fields, and it is blind to what does not matter: the order of `oneOf`
branches, JSON formatting, or schemas moved into `components` behind `$ref`.

Rules are direction-aware. A request must stay backward compatible (the new
schema accepts every payload the old one accepted), so widening a request
column is harmless; a response must stay forward compatible (old clients can
read every new response), so any change to a response type breaks them.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ._exceptions import SourceError, SourceNotFound, UnknownModelError
from ._load import parse_text
from ._model import Column, DataType, EndpointSchema, FormatKind, InputFormat, JSONValue, Kind, Param, ServedModel

__all__ = [
    "FAIL_ON_CHOICES",
    "OUTPUT_FORMATS",
    "RULES",
    "DiffReport",
    "DiffSeverity",
    "FailOn",
    "Finding",
    "IgnoreEntry",
    "IgnoredFinding",
    "FindingLocation",
    "Rule",
    "SchemaSummary",
    "apply_ignores",
    "diff_schemas",
    "load_ignore_file",
    "parse_ignore_entries",
    "render_diff",
    "render_github",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_text",
]

DiffSeverity = Literal["breaking", "warning", "info"]
FailOn = Literal["breaking", "warning", "never"]
FAIL_ON_CHOICES: tuple[str, ...] = ("breaking", "warning", "never")
OUTPUT_FORMATS: tuple[str, ...] = ("text", "json", "markdown", "github", "junit")
SEVERITIES: tuple[DiffSeverity, ...] = ("breaking", "warning", "info")
_RANK: dict[str, int] = {"breaking": 0, "warning": 1, "info": 2}

#: Version of the JSON output's shape; bumped only on an incompatible change.
JSON_SCHEMA_VERSION = 1


# -- rules ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of change, with its stable id and its severity."""

    id: str
    severity: DiffSeverity
    summary: str
    #: When the severity depends on the case (column-removed), the other one and why.
    note: str = ""


_RULE_LIST: tuple[Rule, ...] = (
    # the endpoint
    Rule("info-version-changed", "info", "info.version (the endpoint's config version) changed"),
    Rule("endpoint-renamed", "info", "info.title (the endpoint name) changed"),
    Rule("server-url-changed", "info", "the servers URL changed"),
    # served models
    Rule("served-model-removed", "breaking", "a served model is gone (including one renamed without a pairing)"),
    Rule("served-model-added", "info", "a new served model"),
    Rule("served-model-version-changed", "info", "my-model-2 became my-model-3: the same model, a new version"),
    Rule("served-model-renamed", "info", "a served model paired with another name by --model OLD=NEW"),
    # input formats
    Rule("format-removed", "breaking", "an input format is no longer accepted (e.g. dataframe_records)"),
    Rule("format-added", "info", "a new input format is accepted"),
    Rule("format-layout-changed", "breaking", "instances/inputs switched between a tensor and named columns"),
    # columns
    Rule("column-added-required", "breaking", "a new required column: old payloads lack it"),
    Rule("column-added-optional", "info", "a new optional column (in dataframe_split: appended last)"),
    Rule("column-inserted", "breaking", "a dataframe_split column inserted before existing ones: positions shift"),
    Rule(
        "column-removed",
        "breaking",
        "a column is gone",
        "breaking in dataframe_split (positions shift); warning in other formats (extra columns are ignored)",
    ),
    Rule("split-columns-reordered", "breaking", "dataframe_split columns in a new order: positions shift"),
    Rule("column-became-required", "breaking", "an optional column is now required"),
    Rule("column-became-optional", "info", "a required column is now optional"),
    # fields of object-typed request values
    Rule("field-added-required", "breaking", "a new required field inside a request object"),
    Rule("field-added-optional", "info", "a new optional field inside a request object"),
    Rule("field-removed", "warning", "a field of a request object is gone (payloads that send it may be rejected)"),
    Rule("field-became-required", "breaking", "a request object's field is now required"),
    Rule("field-became-optional", "info", "a request object's field is now optional"),
    # request types: columns, fields, params, tensors
    Rule("type-widened", "info", "a request type accepts more (int32 -> int64 -> double, float -> double, -> any)"),
    Rule(
        "type-widened-lossy",
        "warning",
        "a request type widened with a precision loss (long -> double above 2^53, integer -> float above 2^24)",
    ),
    Rule("type-narrowed", "breaking", "a request type accepts less (double -> long, any -> string, ...)"),
    Rule("type-changed", "breaking", "a request type changed to an unrelated one (anything -> string, ...)"),
    Rule("nullable-removed", "breaking", "a request value no longer accepts null"),
    Rule("nullable-added", "info", "a request value now accepts null"),
    Rule("enum-value-removed", "breaking", "a request value no longer accepts an enum value"),
    Rule("enum-value-added", "info", "a request value accepts a new enum value"),
    Rule("enum-added", "breaking", "a request value is now restricted to an enum"),
    Rule("enum-removed", "info", "a request value is no longer restricted to an enum"),
    Rule("string-format-changed", "warning", "a request string got a new or different format (uuid, date, ...)"),
    Rule("string-format-removed", "info", "a request string lost its format"),
    Rule("shape-changed", "breaking", "a request tensor or array shape is stricter or of another rank"),
    Rule("shape-relaxed", "info", "a fixed request dimension became variable (-1)"),
    # params
    Rule("param-added", "info", "a new param with a default"),
    Rule("param-added-without-default", "breaking", "a new param without a default"),
    Rule("param-added-required", "breaking", "a new required param"),
    Rule("param-removed", "warning", "a param is gone (the server drops unknown params)"),
    Rule("param-became-required", "breaking", "a param is now required"),
    Rule("param-became-optional", "info", "a param is no longer required"),
    Rule("param-default-changed", "warning", "a param default changed: payloads stay valid, behaviour changes"),
    Rule("param-default-added", "info", "a param got a default"),
    Rule("param-default-removed", "warning", "a param lost its default: behaviour of payloads without it changes"),
    # the response
    Rule("response-schema-removed", "warning", "the 200 response is no longer described"),
    Rule("response-schema-added", "info", "the 200 response is now described"),
    Rule("response-type-changed", "breaking", "a response type changed (widening counts: old clients cannot read it)"),
    Rule("response-field-removed", "breaking", "a response field is gone"),
    Rule("response-field-added", "info", "a new response field"),
    Rule("response-field-became-optional", "warning", "a response field may now be missing"),
    Rule("response-field-became-required", "info", "a response field is now always present"),
    Rule("response-nullable-added", "breaking", "a response value may now be null (old clients may not handle it)"),
    Rule("response-nullable-removed", "info", "a response value is no longer null"),
    Rule("response-enum-value-added", "warning", "a response value may take a new enum value"),
    Rule("response-enum-value-removed", "info", "a response value no longer takes an enum value"),
    Rule("response-enum-removed", "warning", "a response value is no longer restricted to an enum"),
    Rule("response-enum-added", "info", "a response value is now restricted to an enum"),
    Rule("response-shape-changed", "breaking", "a response tensor or array shape changed"),
    Rule("response-string-format-changed", "warning", "a response string's format changed"),
)

#: Every rule, by id, in documentation order.
RULES: Mapping[str, Rule] = {rule.id: rule for rule in _RULE_LIST}


# -- findings and reports -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindingLocation:
    """Where a change is: the endpoint, a served model, a request part or the response."""

    part: Literal["endpoint", "model", "request", "response"]
    #: The input format (`dataframe_split`, ..., `object`); None for params shared by every format.
    format: str | None = None
    #: A column (or an object request's field); nested values as `customer.address`, `tags[]`, `meta{}`.
    column: str | None = None
    param: str | None = None
    #: Anything else: `info.version`, `tensor`, a response path such as `predictions[]`.
    field: str | None = None

    @property
    def path(self) -> str:
        """A stable path: `request/dataframe_split/columns/int_col`, `response/predictions[]`."""
        if self.part == "endpoint":
            return self.field or "info"
        if self.part == "model":
            return ""
        if self.part == "response":
            return "response" + (f"/{self.field}" if self.field else "")
        parts = ["request"]
        if self.format:
            parts.append(self.format)
        if self.column is not None:
            parts += ["columns", self.column]
        elif self.param is not None:
            parts += ["params", self.param]
        elif self.field:
            parts.append(self.field)
        return "/".join(parts)

    def describe(self) -> str:
        """For people: `dataframe_split column int_col`, `param sentiment`, `response predictions[]`."""
        if self.part == "endpoint":
            return self.field or "endpoint"
        if self.part == "model":
            return "served model"
        if self.part == "response":
            return "response" + (f" {self.field}" if self.field else "")
        prefix = "request" if self.format == FormatKind.OBJECT.value else self.format or ""
        if self.column is not None:
            noun = "field" if self.format == FormatKind.OBJECT.value else "column"
            return f"{prefix} {noun} {self.column}".strip()
        if self.param is not None:
            return f"{prefix} param {self.param}".strip()
        if self.field:
            return f"{prefix} {self.field}".strip()
        return prefix or "request"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "part": self.part,
            "format": self.format,
            "column": self.column,
            "param": self.param,
            "field": self.field,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One change: a stable rule id, how bad it is, where, and a one-line explanation."""

    rule: str
    severity: DiffSeverity
    #: The served model (its new name when it has one, else the old name); "" for the endpoint.
    model: str
    location: FindingLocation
    message: str
    old: JSONValue = None
    new: JSONValue = None
    #: The served model's old name when it differs from `model` (a new version, or --model).
    old_model: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "model": self.model,
            "old_model": self.old_model,
            "location": self.location.to_json(),
            "where": self.location.describe(),
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }

    def headline(self) -> str:
        """`dataframe_split column int_col: type narrowed from double to long`."""
        return f"{self.location.describe()}: {self.message}"


@dataclass(frozen=True, slots=True)
class IgnoreEntry:
    """An acknowledged change: a rule id plus where it applies, with a reason and an optional expiry."""

    rule: str
    reason: str
    #: A served-model name or glob (`ads-model-*`), matched against the old and the new name.
    model: str | None = None
    format: str | None = None
    #: A column, param or response field; also matches what is nested inside it.
    column: str | None = None
    param: str | None = None
    field: str | None = None
    #: A full location path (`request/dataframe_split/columns/int_col`), matched exactly.
    location: str | None = None
    #: The last day the entry ignores; from the day after it stops ignoring.
    expires: dt.date | None = None
    #: Its 1-based position in the ignore file, for messages.
    index: int = 0

    def matches(self, finding: Finding) -> bool:
        if self.rule != finding.rule:
            return False
        where = finding.location
        if self.model is not None:
            names = [n for n in (finding.model, finding.old_model) if n]
            if not any(fnmatch.fnmatchcase(name, self.model) for name in names):
                return False
        if self.format is not None and where.format != self.format:
            return False
        if self.column is not None and not _path_covers(self.column, where.column):
            return False
        if self.param is not None and not _path_covers(self.param, where.param):
            return False
        if self.field is not None and not _path_covers(self.field, where.field):
            return False
        return self.location is None or where.path == self.location

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def describe(self) -> str:
        keys = [f"{name}={value}" for name, value in self._keys() if value is not None]
        return f"ignore entry #{self.index} ({', '.join(keys)})"

    def _keys(self) -> list[tuple[str, str | None]]:
        return [
            ("rule", self.rule),
            ("model", self.model),
            ("format", self.format),
            ("column", self.column),
            ("param", self.param),
            ("field", self.field),
            ("location", self.location),
        ]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: value for name, value in self._keys() if value is not None}
        out["reason"] = self.reason
        out["expires"] = self.expires.isoformat() if self.expires is not None else None
        return out


def _path_covers(wanted: str, actual: str | None) -> bool:
    if actual is None:
        return False
    return actual == wanted or actual.startswith((f"{wanted}.", f"{wanted}[", f"{wanted}{{"))


@dataclass(frozen=True, slots=True)
class IgnoredFinding:
    """A finding an ignore entry acknowledged."""

    finding: Finding
    entry: IgnoreEntry

    def to_json(self) -> dict[str, Any]:
        return {
            **self.finding.to_json(),
            "ignored_by": self.entry.index,
            "reason": self.entry.reason,
            "expires": self.entry.expires.isoformat() if self.entry.expires is not None else None,
        }


@dataclass(frozen=True, slots=True)
class SchemaSummary:
    """Which document a side of the comparison is."""

    source: str
    title: str
    version: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "title": self.title, "version": self.version}


@dataclass(frozen=True, slots=True)
class DiffReport:
    """Every change between two schemas; the findings still in force, and those an ignore file acknowledged."""

    old: SchemaSummary
    new: SchemaSummary
    #: In force, grouped by served model (endpoint first), most severe first within a model.
    findings: tuple[Finding, ...]
    ignored: tuple[IgnoredFinding, ...] = ()
    #: Remarks about the ignore file: expired entries, entries that matched nothing.
    notes: tuple[str, ...] = ()

    def count(self, severity: DiffSeverity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def worst(self) -> DiffSeverity | None:
        return min((f.severity for f in self.findings), key=_RANK.__getitem__, default=None)

    def fails(self, fail_on: FailOn | str = "breaking") -> bool:
        """Whether a finding at or above `fail_on` remains."""
        if fail_on == "never":
            return False
        threshold = _RANK[fail_on]
        return any(_RANK[f.severity] <= threshold for f in self.findings)

    def summary_line(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s}" for s in SEVERITIES)
        extra = f" ({len(self.ignored)} ignored)" if self.ignored else ""
        if not self.findings:
            return f"no changes{extra}" if not self.ignored else f"no changes in force{extra}"
        return f"{counts}{extra}"

    def to_json(self, fail_on: FailOn | str = "breaking") -> dict[str, Any]:
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "summary": {
                **{s: self.count(s) for s in SEVERITIES},
                "ignored": len(self.ignored),
            },
            "fail_on": fail_on,
            "failed": self.fails(fail_on),
            "findings": [f.to_json() for f in self.findings],
            "ignored": [i.to_json() for i in self.ignored],
            "notes": list(self.notes),
        }


# -- the comparison ----------------------------------------------------------------------

_VERSION_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<version>\d+)$")


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
        found = _VERSION_SUFFIX.match(name)
        return found.group("base") if found else None

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
                severity or RULES[rule].severity,
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
        _compare_named_columns(old, new, scope)


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

# (old kind, new kind) -> None when exact, else what precision is lost.
_WIDENINGS: dict[tuple[Kind, Kind], str | None] = {
    (Kind.INTEGER, Kind.LONG): None,
    (Kind.INTEGER, Kind.DOUBLE): None,
    (Kind.FLOAT, Kind.DOUBLE): None,
    (Kind.INTEGER, Kind.FLOAT): "integers above 2^24 lose precision",
    (Kind.LONG, Kind.DOUBLE): "integers above 2^53 lose precision",
    (Kind.LONG, Kind.FLOAT): "integers above 2^24 lose precision",
}

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
    if (old.kind, new.kind) in _WIDENINGS:
        loss = _WIDENINGS[(old.kind, new.kind)]
        if loss is None:
            scope.add("type-widened", where, f"type widened from {before} to {after}", before, after)
        else:
            scope.add("type-widened-lossy", where, f"type widened from {before} to {after}; {loss}", before, after)
        return
    if (new.kind, old.kind) in _WIDENINGS:
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
        scope.add("enum-added", where, f"values now restricted to {_show(after)}", None, after)
        return
    if after is None:
        scope.add("enum-removed", where, f"values no longer restricted to {_show(before)}", before, None)
        return
    removed = [v for v in before if not _contains(after, v)]
    added = [v for v in after if not _contains(before, v)]
    if removed:
        scope.add("enum-value-removed", where, f"enum value(s) {_show(removed)} no longer accepted", removed, after)
    if added:
        scope.add("enum-value-added", where, f"enum value(s) {_show(added)} now accepted", before, added)


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
                    f"default {_show(param.default)} -> {_show(other.default)}: payloads without it behave differently",
                    param.default,
                    other.default,
                )
        elif other.has_default:
            scope.add("param-default-added", where, f"default {_show(other.default)} added", None, other.default)
        elif param.has_default:
            scope.add(
                "param-default-removed",
                where,
                f"default {_show(param.default)} removed: payloads without it behave differently",
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
                "param-added", where, f"param {param.name} ({text}) added, default {_show(param.default)}", None, text
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

    before, after = _enum_values(old), _enum_values(new)
    if before is not None and after is None:
        scope.add("response-enum-removed", where, f"no longer restricted to {_show(before)}", before, None)
    elif before is None and after is not None:
        scope.add("response-enum-added", where, f"now restricted to {_show(after)}", None, after)
    elif before is not None and after is not None:
        added = [v for v in after if not _contains(before, v)]
        removed = [v for v in before if not _contains(after, v)]
        if added:
            scope.add(
                "response-enum-value-added",
                where,
                f"new enum value(s) {_show(added)}: old clients may not expect them",
                before,
                added,
            )
        if removed:
            scope.add(
                "response-enum-value-removed",
                where,
                f"enum value(s) {_show(removed)} no longer returned",
                removed,
                after,
            )
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


def _show(value: Any) -> str:
    import json

    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- the ignore file ----------------------------------------------------------------------

_ENTRY_KEYS = {"rule", "reason", "model", "format", "column", "param", "field", "location", "expires"}
_WHERE_KEYS = ("model", "format", "column", "param", "field", "location")


def load_ignore_file(path: str | Path) -> tuple[IgnoreEntry, ...]:
    """Read an ignore file (YAML or JSON): a list of entries, or a mapping with an `ignore:` list."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SourceNotFound(f"{where}: no such ignore file") from None
    except OSError as exc:
        raise SourceNotFound(f"{where}: cannot read the ignore file: {exc.strerror or exc}") from None
    if not data.strip():
        return ()
    return parse_ignore_entries(parse_text(data, where), where)


def parse_ignore_entries(value: Any, where: str = "<ignore file>") -> tuple[IgnoreEntry, ...]:
    """Check and read the parsed content of an ignore file; one clear line on the first problem."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"ignore"})
        if unknown:
            raise SourceError(f"{where}: unknown top-level key(s) {', '.join(unknown)}; expected 'ignore'")
        value = value.get("ignore") or []
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SourceError(f"{where}: expected a list of entries (or 'ignore:' with a list)")
    entries = []
    for index, raw in enumerate(value, start=1):
        at = f"{where}: entry #{index}"
        if not isinstance(raw, dict):
            raise SourceError(f"{at}: expected a mapping with rule, reason and where it applies")
        unknown = sorted(str(k) for k in set(raw) - _ENTRY_KEYS)
        if unknown:
            raise SourceError(f"{at}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
        rule = raw.get("rule")
        if not isinstance(rule, str) or not rule:
            raise SourceError(f"{at}: 'rule' is required (a rule id such as column-removed)")
        if rule not in RULES:
            raise SourceError(f"{at}: unknown rule {rule!r}; see `schemakit diff --help` for the rule ids")
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise SourceError(f"{at}: 'reason' is required: say why the change is accepted")
        keys: dict[str, str | None] = {}
        for key in _WHERE_KEYS:
            found = raw.get(key)
            if found is not None and not isinstance(found, (str, int)):
                raise SourceError(f"{at}: '{key}' must be a string")
            keys[key] = None if found is None else str(found)
        if all(v is None for v in keys.values()):
            raise SourceError(
                f"{at}: say where the change is: model, format, column, param, field or location "
                "(an entry for a rule everywhere would hide future changes)"
            )
        entries.append(
            IgnoreEntry(
                rule=rule,
                reason=reason.strip(),
                model=keys["model"],
                format=keys["format"],
                column=keys["column"],
                param=keys["param"],
                field=keys["field"],
                location=keys["location"],
                expires=_expiry(raw.get("expires"), at),
                index=index,
            )
        )
    return tuple(entries)


def _expiry(value: Any, at: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SourceError(f"{at}: 'expires' must be a date as YYYY-MM-DD, got {value!r:.40}")


def apply_ignores(report: DiffReport, entries: Sequence[IgnoreEntry], *, today: dt.date | None = None) -> DiffReport:
    """Move the findings that an unexpired entry matches to `ignored`; say which entries expired or went unused."""
    day = today or dt.date.today()
    live = [e for e in entries if not e.expired(day)]
    notes = [
        f"{e.describe()} expired on {e.expires.isoformat()}; its findings are reported again"
        for e in entries
        if e.expired(day) and e.expires is not None
    ]
    kept: list[Finding] = []
    ignored: list[IgnoredFinding] = [*report.ignored]
    used: set[int] = set()
    for finding in report.findings:
        entry = next((e for e in live if e.matches(finding)), None)
        if entry is None:
            kept.append(finding)
        else:
            ignored.append(IgnoredFinding(finding, entry))
            used.add(entry.index)
    notes += [
        f"{e.describe()} matched no finding; remove it if the change is gone" for e in live if e.index not in used
    ]
    return replace(report, findings=tuple(kept), ignored=tuple(ignored), notes=(*report.notes, *notes))


# -- renderers ---------------------------------------------------------------------------------


def render_json(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    import orjson

    return orjson.dumps(report.to_json(fail_on), option=orjson.OPT_INDENT_2).decode() + "\n"


def _model_title(finding: Finding) -> str:
    if not finding.model:
        return "endpoint"
    if finding.old_model:
        return f"served model {finding.model} (was {finding.old_model})"
    return f"served model {finding.model}"


def render_text(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    lines = [f"schemakit diff: {report.old.source or 'old'} -> {report.new.source or 'new'}"]
    current: str | None = None
    for finding in report.findings:
        title = _model_title(finding)
        if title != current:
            lines.append(title)
            current = title
        lines.append(f"  {finding.severity:<8}  {finding.headline()}  [{finding.rule}]")
    if report.ignored:
        lines.append("ignored")
        for item in report.ignored:
            f = item.finding
            name = f.model or "endpoint"
            lines.append(f"  {f.severity:<8}  {name}: {f.headline()}  [{f.rule}] (ignored: {item.entry.reason})")
    lines += [f"note: {note}" for note in report.notes]
    verdict = "FAIL" if report.fails(fail_on) else "ok"
    lines.append(f"{verdict}: {report.summary_line()} (fail on: {fail_on})")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("<", "&lt;")


def _md_code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`" if text else ""


_MD_SEVERITY = {"breaking": "🔴 breaking", "warning": "🟠 warning", "info": "🔵 info"}


def render_markdown(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    if report.count("breaking") and report.fails(fail_on):
        verdict = "❌ breaking changes"
    elif report.fails(fail_on):
        verdict = f"❌ changes at or above {fail_on}"
    elif report.findings or report.ignored:
        verdict = "✅ no blocking changes"
    else:
        verdict = "✅ no changes"
    title = report.new.title or report.old.title
    lines = [
        f"### Schema diff{f' for `{_md_cell(title)}`' if title else ''}: {verdict}",
        "",
        f"{_md_code(report.old.source)} → {_md_code(report.new.source)}: {_md_cell(report.summary_line())}",
        "",
    ]
    if report.findings:
        lines += ["| Severity | Model | Where | Change | Rule |", "| --- | --- | --- | --- | --- |"]
        for f in report.findings:
            model = f.model + (f" (was {f.old_model})" if f.old_model else "") if f.model else "endpoint"
            lines.append(
                f"| {_MD_SEVERITY[f.severity]} | {_md_cell(model)} | {_md_cell(f.location.describe())} "
                f"| {_md_cell(f.message)} | {_md_code(f.rule)} |"
            )
        lines.append("")
    if report.ignored:
        lines += [
            f"<details><summary>{len(report.ignored)} ignored</summary>",
            "",
            "| Severity | Model | Where | Change | Rule | Reason |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for item in report.ignored:
            f = item.finding
            lines.append(
                f"| {f.severity} | {_md_cell(f.model or 'endpoint')} | {_md_cell(f.location.describe())} "
                f"| {_md_cell(f.message)} | {_md_code(f.rule)} | {_md_cell(item.entry.reason)} |"
            )
        lines += ["", "</details>", ""]
    lines += [f"> {_md_cell(note)}" for note in report.notes]
    return "\n".join(lines).rstrip("\n") + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_COMMAND = {"breaking": "error", "warning": "warning", "info": "notice"}


def render_github(report: DiffReport, *, fail_on: FailOn | str = "breaking", file: str | None = None) -> str:
    """GitHub workflow commands: one annotation per finding, attached to `file` when given."""
    lines = []
    file_property = f"file={_gh_property(file)}," if file else ""
    for f in report.findings:
        model = f.model or "endpoint"
        title = f"{f.severity} {f.rule} in {model}"
        lines.append(
            f"::{_GH_COMMAND[f.severity]} {file_property}title={_gh_property(title)}::{_gh_data(f.headline())}"
        )
    for note in report.notes:
        lines.append(f"::warning title={_gh_property('schemakit diff ignore file')}::{_gh_data(note)}")
    summary = f"{report.summary_line()} (fail on: {fail_on})"
    command = "error" if report.fails(fail_on) else "notice"
    lines.append(f"::{command} title={_gh_property('schemakit diff')}::{_gh_data(summary)}")
    return "\n".join(lines) + "\n"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can carry: ElementTree escapes markup but not these characters."""
    return _XML_INVALID.sub("\ufffd", text)


def render_junit(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    """JUnit XML: one test case per finding; those at or above `fail_on` fail, ignored ones are skipped."""
    threshold = _RANK.get(str(fail_on), -1)
    suite_name = f"schemakit diff {report.old.source or 'old'} -> {report.new.source or 'new'}"
    root = ET.Element("testsuites", name="schemakit diff")
    suite = ET.SubElement(root, "testsuite", name=_xml(suite_name))
    failures = 0

    def case(f: Finding) -> ET.Element:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"schemakit.diff.{f.model or 'endpoint'}"),
            name=_xml(f"{f.rule} {f.location.path or 'served model'}"),
        )
        return element

    for f in report.findings:
        element = case(f)
        if _RANK[f.severity] <= threshold:
            failures += 1
            failure = ET.SubElement(element, "failure", message=_xml(f.headline()), type=f.rule)
            failure.text = _xml(f"{f.severity}: {f.headline()} (old: {_show(f.old)}, new: {_show(f.new)})")
        else:
            out = ET.SubElement(element, "system-out")
            out.text = _xml(f"{f.severity}: {f.headline()}")
    for item in report.ignored:
        element = case(item.finding)
        ET.SubElement(element, "skipped", message=_xml(f"ignored: {item.entry.reason}"))
    total = len(report.findings) + len(report.ignored)
    for node in (root, suite):
        node.set("tests", str(total))
        node.set("failures", str(failures))
        node.set("errors", "0")
        node.set("skipped", str(len(report.ignored)))
    if report.notes:
        err = ET.SubElement(suite, "system-err")
        err.text = _xml("\n".join(report.notes))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render_diff(
    report: DiffReport, output_format: str, *, fail_on: FailOn | str = "breaking", file: str | None = None
) -> str:
    """Render in one of OUTPUT_FORMATS."""
    if output_format == "json":
        return render_json(report, fail_on=fail_on)
    if output_format == "markdown":
        return render_markdown(report, fail_on=fail_on)
    if output_format == "github":
        return render_github(report, fail_on=fail_on, file=file)
    if output_format == "junit":
        return render_junit(report, fail_on=fail_on)
    if output_format == "text":
        return render_text(report, fail_on=fail_on)
    raise ValueError(f"unknown output format {output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
