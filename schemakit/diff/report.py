"""Diff findings and reports: what `schemakit diff` found, where, and how bad it is."""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from schemakit.core.model import FormatKind, JSONValue
from schemakit.runtime.rules import Rule, rule_index

DiffSeverity = Literal["breaking", "warning", "info"]
FailOn = Literal["breaking", "warning", "never"]
FAIL_ON_CHOICES: tuple[str, ...] = ("breaking", "warning", "never")
OUTPUT_FORMATS: tuple[str, ...] = ("text", "json", "markdown", "github", "junit")
SEVERITIES: tuple[DiffSeverity, ...] = ("breaking", "warning", "info")
_RANK: dict[str, int] = {"breaking": 0, "warning": 1, "info": 2}

#: Version of the JSON output's shape; bumped only on an incompatible change.
JSON_SCHEMA_VERSION = 1


# -- rules ----------------------------------------------------------------------------


def _rule(code: str, severity: DiffSeverity, summary: str, note: str = "") -> Rule:
    return Rule(code, "diff", severity, summary, note)


#: The diff rules, in documentation order (`--list-rules` and docs/diff.md are rendered from it).
RULE_LIST: tuple[Rule, ...] = (
    # the endpoint
    _rule("info-version-changed", "info", "info.version (the endpoint's config version) changed"),
    _rule("endpoint-renamed", "info", "info.title (the endpoint name) changed"),
    _rule("server-url-changed", "info", "the servers URL changed"),
    # served models
    _rule("served-model-removed", "breaking", "a served model is gone (including one renamed without a pairing)"),
    _rule("served-model-added", "info", "a new served model"),
    _rule("served-model-version-changed", "info", "my-model-2 became my-model-3: the same model, a new version"),
    _rule("served-model-renamed", "info", "a served model paired with another name by --model OLD=NEW"),
    # input formats
    _rule("format-removed", "breaking", "an input format is no longer accepted (e.g. dataframe_records)"),
    _rule("format-added", "info", "a new input format is accepted"),
    _rule("format-layout-changed", "breaking", "instances/inputs switched between a tensor and named columns"),
    # columns
    _rule("column-added-required", "breaking", "a new required column: old payloads lack it"),
    _rule("column-added-optional", "info", "a new optional column (in dataframe_split: appended last)"),
    _rule("column-inserted", "breaking", "a dataframe_split column inserted before existing ones: positions shift"),
    _rule(
        "column-removed",
        "breaking",
        "a column is gone",
        "breaking in dataframe_split, where positions shift; a warning in other formats, which ignore extra columns",
    ),
    _rule("split-columns-reordered", "breaking", "dataframe_split columns in a new order: positions shift"),
    _rule("column-became-required", "breaking", "an optional column is now required"),
    _rule("column-became-optional", "info", "a required column is now optional"),
    # fields of object-typed request values
    _rule("field-added-required", "breaking", "a new required field inside a request object"),
    _rule("field-added-optional", "info", "a new optional field inside a request object"),
    _rule("field-removed", "warning", "a field of a request object is gone (payloads that send it may be rejected)"),
    _rule("field-became-required", "breaking", "a request object's field is now required"),
    _rule("field-became-optional", "info", "a request object's field is now optional"),
    # object requests (chat, completions, embeddings, agents): their fields are the format's columns
    _rule(
        "request-kind-changed",
        "breaking",
        "an object request became another kind (chat -> completions, embeddings -> responses, ...)",
    ),
    _rule("streaming-removed", "breaking", "an object request no longer declares streaming (the `stream` field)"),
    _rule("streaming-added", "info", "an object request now declares streaming (the `stream` field)"),
    # request types: columns, fields, params, tensors
    _rule("type-widened", "info", "a request type accepts more (int32 -> int64 -> double, float -> double, -> any)"),
    _rule(
        "type-widened-lossy",
        "warning",
        "a request type widened with a precision loss (long -> double above 2^53, integer -> float above 2^24)",
    ),
    _rule("type-narrowed", "breaking", "a request type accepts less (double -> long, any -> string, ...)"),
    _rule("type-changed", "breaking", "a request type changed to an unrelated one (anything -> string, ...)"),
    _rule("nullable-removed", "breaking", "a request value no longer accepts null"),
    _rule("nullable-added", "info", "a request value now accepts null"),
    _rule("enum-value-removed", "breaking", "a request value no longer accepts an enum value"),
    _rule("enum-value-added", "info", "a request value accepts a new enum value"),
    _rule("enum-added", "breaking", "a request value is now restricted to an enum"),
    _rule("enum-removed", "info", "a request value is no longer restricted to an enum"),
    _rule("string-format-changed", "warning", "a request string got a new or different format (uuid, date, ...)"),
    _rule("string-format-removed", "info", "a request string lost its format"),
    _rule(
        "bound-narrowed",
        "breaking",
        "a request bound accepts less: a new or lower maximum, a higher minimum, a shorter maxLength, a new multipleOf",
    ),
    _rule("bound-widened", "info", "a request bound accepts more (a bound removed, a higher maximum, ...)"),
    _rule("pattern-added", "breaking", "a request string must now match a pattern"),
    _rule("pattern-changed", "breaking", "a request string must match another pattern"),
    _rule("pattern-removed", "info", "a request string no longer has to match a pattern"),
    _rule("shape-changed", "breaking", "a request tensor or array shape is stricter or of another rank"),
    _rule("shape-relaxed", "info", "a fixed request dimension became variable (-1)"),
    # params
    _rule("param-added", "info", "a new param with a default"),
    _rule("param-added-without-default", "breaking", "a new param without a default"),
    _rule("param-added-required", "breaking", "a new required param"),
    _rule("param-removed", "warning", "a param is gone (the server drops unknown params)"),
    _rule("param-became-required", "breaking", "a param is now required"),
    _rule("param-became-optional", "info", "a param is no longer required"),
    _rule("param-default-changed", "warning", "a param default changed: payloads stay valid, behaviour changes"),
    _rule("param-default-added", "info", "a param got a default"),
    _rule("param-default-removed", "warning", "a param lost its default: behaviour of payloads without it changes"),
    # the response
    _rule("response-schema-removed", "warning", "the 200 response is no longer described"),
    _rule("response-schema-added", "info", "the 200 response is now described"),
    _rule("response-type-changed", "breaking", "a response type changed (widening counts: old clients cannot read it)"),
    _rule("response-field-removed", "breaking", "a response field is gone"),
    _rule("response-field-added", "info", "a new response field"),
    _rule("response-field-became-optional", "warning", "a response field may now be missing"),
    _rule("response-field-became-required", "info", "a response field is now always present"),
    _rule("response-nullable-added", "breaking", "a response value may now be null (old clients may not handle it)"),
    _rule("response-nullable-removed", "info", "a response value is no longer null"),
    _rule("response-enum-value-added", "warning", "a response value may take a new enum value"),
    _rule("response-enum-value-removed", "info", "a response value no longer takes an enum value"),
    _rule("response-enum-removed", "warning", "a response value is no longer restricted to an enum"),
    _rule("response-enum-added", "info", "a response value is now restricted to an enum"),
    _rule("response-shape-changed", "breaking", "a response tensor or array shape changed"),
    _rule("response-string-format-changed", "warning", "a response string's format changed"),
)

#: Every rule, by id, in documentation order.
RULES: Mapping[str, Rule] = rule_index(RULE_LIST)


def default_severity(rule: str) -> DiffSeverity:
    """A diff rule's severity, as findings carry it."""
    severity = RULES[rule].severity
    if severity not in SEVERITIES:
        raise ValueError(f"diff rule {rule!r} has severity {severity!r}, not one of {', '.join(SEVERITIES)}")
    return severity


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
    #: Witnesses (`schemakit.diff.witness`) by finding index, once searched for (`witnessed`).
    witnesses: Mapping[int, Any] = field(default_factory=lambda: MappingProxyType({}))
    witnessed: bool = False

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
            "findings": [self._finding_json(i, f) for i, f in enumerate(self.findings)],
            "ignored": [i.to_json() for i in self.ignored],
            "notes": list(self.notes),
        }

    def _finding_json(self, index: int, finding: Finding) -> dict[str, Any]:
        out = finding.to_json()
        if self.witnessed and finding.severity == "breaking":
            witness = self.witnesses.get(index)
            out["witness"] = witness.to_json() if witness is not None else None
        return out


def show_value(value: Any) -> str:
    import json

    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
