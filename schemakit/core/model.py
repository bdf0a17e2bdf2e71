"""The resolved endpoint schema: the one data model every feature reads.

`resolve()` builds it once from a document; payload validation, code generation,
diffing, the emulator and the MLflow bridge all read these frozen dataclasses
and never parse the raw document again.

The `schema` attributes hold *normalized* JSON Schema 2020-12 (references
inlined, OpenAPI 3.0 `nullable` turned into a `null` type, defaults coerced,
each input format's branch requiring its own key). Treat them as read-only.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Union

__all__ = [
    "VERSION_SUFFIX",
    "AGENT_FIELDS",
    "BOUND_KEYWORDS",
    "Column",
    "DataType",
    "Diagnostic",
    "EndpointSchema",
    "FormatKind",
    "InputFormat",
    "JSONValue",
    "KEYED_FORMATS",
    "Kind",
    "Param",
    "RequestKind",
    "ResponseSchema",
    "ServedModel",
    "Severity",
    "split_version",
]

JSONValue = Union[None, bool, int, float, str, list["JSONValue"], dict[str, "JSONValue"]]  # noqa: UP007

Severity = Literal["error", "warning"]


class Kind(str, enum.Enum):
    """Logical column types, named as MLflow names them."""

    BOOLEAN = "boolean"
    INTEGER = "integer"  # int32
    LONG = "long"  # int64
    FLOAT = "float"  # float32
    DOUBLE = "double"  # float64
    STRING = "string"
    BINARY = "binary"  # base64 text in JSON
    DATETIME = "datetime"  # ISO-8601 text
    ARRAY = "array"
    OBJECT = "object"
    MAP = "map"
    ANY = "any"
    UNION = "union"  # oneOf/anyOf of several non-null types (e.g. chat `stop`)
    NULL = "null"  # a schema that only admits null

    def __str__(self) -> str:
        return self.value


class FormatKind(str, enum.Enum):
    """How a served model accepts its input, keyed as the server keys it."""

    DATAFRAME_SPLIT = "dataframe_split"
    DATAFRAME_RECORDS = "dataframe_records"
    INSTANCES = "instances"
    INPUTS = "inputs"
    OBJECT = "object"  # a plain request object: chat, completions, embeddings

    def __str__(self) -> str:
        return self.value


class RequestKind(str, enum.Enum):
    """Which object request a FormatKind.OBJECT format is, as the server reads it."""

    CHAT = "chat"  # OpenAI chat completions: `messages`
    COMPLETIONS = "completions"  # `prompt`
    EMBEDDINGS = "embeddings"  # `input`: a text or a list of texts
    RESPONSES = "responses"  # the OpenAI Responses API (ResponsesAgent): `input` as a list of items
    CHAT_AGENT = "chat_agent"  # MLflow ChatAgent: `messages`, with `context` and `custom_inputs`
    OTHER = "other"  # an object request of another shape

    def __str__(self) -> str:
        return self.value

    @property
    def required_field(self) -> str | None:
        """The field the server cannot go without, even where the document has no `required` list."""
        return _REQUIRED_FIELD.get(self)

    @property
    def task(self) -> str | None:
        """The serving task name the endpoint reports for this request (`llm/v1/chat`, ...)."""
        return _TASKS.get(self)


_REQUIRED_FIELD: Mapping[RequestKind, str] = MappingProxyType(
    {
        RequestKind.CHAT: "messages",
        RequestKind.CHAT_AGENT: "messages",
        RequestKind.COMPLETIONS: "prompt",
        RequestKind.EMBEDDINGS: "input",
        RequestKind.RESPONSES: "input",
    }
)
_TASKS: Mapping[RequestKind, str] = MappingProxyType(
    {
        RequestKind.CHAT: "llm/v1/chat",
        RequestKind.COMPLETIONS: "llm/v1/completions",
        RequestKind.EMBEDDINGS: "llm/v1/embeddings",
        RequestKind.RESPONSES: "agent/v1/responses",
        RequestKind.CHAT_AGENT: "agent/v2/chat",
    }
)

#: Object-request fields MLflow's scoring server treats specially: agent inputs it passes on
#: (`context`, `custom_inputs`) and Databricks' own options it drops before the model sees them.
AGENT_FIELDS: tuple[str, ...] = ("context", "custom_inputs", "databricks_options")


#: Input formats chosen by a top-level key, in the order the server looks for them.
KEYED_FORMATS: tuple[FormatKind, ...] = (
    FormatKind.DATAFRAME_SPLIT,
    FormatKind.DATAFRAME_RECORDS,
    FormatKind.INSTANCES,
    FormatKind.INPUTS,
)

#: DataType attribute -> the JSON Schema keyword it is read from.
BOUND_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "minimum": "minimum",
        "maximum": "maximum",
        "exclusive_minimum": "exclusiveMinimum",
        "exclusive_maximum": "exclusiveMaximum",
        "multiple_of": "multipleOf",
        "min_length": "minLength",
        "max_length": "maxLength",
        "pattern": "pattern",
        "min_items": "minItems",
        "max_items": "maxItems",
    }
)

#: A served model's version suffix: `ads-2` is version 2 of `ads` (how diff pairs `ads-2` with `ads-3`,
#: and how generated clients keep their names across versions).
VERSION_SUFFIX = re.compile(r"^(?P<base>.+)-(?P<version>\d+)$")


def split_version(name: str) -> tuple[str, str | None]:
    """(base name, version) of a served-model name: `vanilla_simple_model-2` -> (`vanilla_simple_model`, `2`)."""
    found = VERSION_SUFFIX.match(name)
    if found is None:
        return name, None
    return found.group("base"), found.group("version")


_INTEGER_KINDS = frozenset({Kind.INTEGER, Kind.LONG})
_NUMBER_KINDS = frozenset({Kind.INTEGER, Kind.LONG, Kind.FLOAT, Kind.DOUBLE})


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding about a document: a stable rule code, where, and why."""

    code: str
    severity: Severity
    pointer: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "pointer": self.pointer,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.severity} {self.code} at {self.pointer or '/'}: {self.message}"


@dataclass(frozen=True, slots=True)
class DataType:
    """A logical type with everything a client needs to know about its values."""

    kind: Kind
    nullable: bool = False
    #: Element type of an array, value type of a map.
    items: DataType | None = None
    #: Named fields of an object, in document order.
    fields: tuple[Column, ...] = ()
    #: Alternatives of a union.
    variants: tuple[DataType, ...] = ()
    #: Allowed values, when the schema has an `enum` (or a `const`).
    enum: tuple[JSONValue, ...] | None = None
    #: The schema's `format`, kept verbatim (`int64`, `double`, `binary`, ...).
    format: str | None = None
    #: Tensor shape, -1 for any size, where the document gives one.
    shape: tuple[int, ...] | None = None
    description: str | None = None
    #: Per-position types of a `prefixItems` array (split rows, tuples), in order; `items` is their union.
    prefix_items: tuple[DataType, ...] | None = None
    #: Whether an array takes nothing beyond its `prefix_items` (`items: false`, or `maxItems` = their count).
    closed: bool = False
    # Bounds, as the document gives them (after OpenAPI 3.0 boolean exclusive bounds are read as numbers).
    minimum: int | float | None = None
    maximum: int | float | None = None
    exclusive_minimum: int | float | None = None
    exclusive_maximum: int | float | None = None
    multiple_of: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min_items: int | None = None
    max_items: int | None = None
    #: The normalized JSON Schema this type was read from.
    schema: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def bounds(self) -> dict[str, int | float | str]:
        """The bounds the document sets, keyed by their JSON Schema keyword (`maxLength`, ...)."""
        values = {keyword: getattr(self, attr) for attr, keyword in BOUND_KEYWORDS.items()}
        return {k: v for k, v in values.items() if v is not None}

    @property
    def is_integer(self) -> bool:
        return self.kind in _INTEGER_KINDS

    @property
    def is_number(self) -> bool:
        return self.kind in _NUMBER_KINDS

    def field(self, name: str) -> Column | None:
        for column in self.fields:
            if column.name == name:
                return column
        return None

    def display(self) -> str:
        """A compact name: `long`, `array<double>`, `map<string>`, `object<a: long>`."""
        text = self._display_core()
        return f"{text}?" if self.nullable and self.kind is not Kind.NULL else text

    def _display_core(self) -> str:
        if self.kind is Kind.ARRAY:
            inner = self.items.display() if self.items is not None else "any"
            return f"array<{inner}>"
        if self.kind is Kind.MAP:
            inner = self.items.display() if self.items is not None else "any"
            return f"map<{inner}>"
        if self.kind is Kind.OBJECT and self.fields:
            inner = ", ".join(f"{f.name}: {f.type.display()}" for f in self.fields)
            return f"object<{inner}>"
        if self.kind is Kind.UNION:
            return " | ".join(v.display() for v in self.variants)
        return str(self.kind.value)

    def to_json(self) -> dict[str, Any]:
        """A structured description, stable for tools: `{"type": "array", "items": "double"}`."""
        out: dict[str, Any] = {"type": self.kind.value}
        if self.kind in (Kind.ARRAY, Kind.MAP):
            out["items"] = self.items.display() if self.items is not None else "any"
        if self.kind is Kind.OBJECT and self.fields:
            out["fields"] = [
                {
                    "name": f.name,
                    "type": f.type.display(),
                    "required": f.required,
                    "nullable": f.type.nullable,
                }
                for f in self.fields
            ]
        if self.kind is Kind.UNION:
            out["variants"] = [v.display() for v in self.variants]
        if self.nullable:
            out["nullable"] = True
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.shape is not None:
            out["shape"] = list(self.shape)
        return out


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a dataframe format, or a field of an object request or type."""

    name: str
    type: DataType
    required: bool = False
    #: Position in a `dataframe_split` row, counting from 0; None elsewhere.
    position: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """A named inference parameter sent beside the input (`params`)."""

    name: str
    type: DataType
    #: The default, coerced to the parameter's type when the document gave another JSON type.
    default: JSONValue = None
    has_default: bool = False
    required: bool = False
    #: Parameter shape as MLflow gives it: None for a scalar, (-1,) for a list.
    shape: tuple[int, ...] | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type.display()}
        if self.has_default:
            out["default"] = self.default
        if self.shape is not None:
            out["shape"] = list(self.shape)
        if self.required:
            out["required"] = True
        return out


@dataclass(frozen=True, slots=True)
class InputFormat:
    """One accepted input format of a served model."""

    kind: FormatKind
    #: Columns (dataframes, row-wise `instances`, columnar `inputs`) or fields (object requests).
    #: In `dataframe_split`, in row order.
    columns: tuple[Column, ...]
    params: tuple[Param, ...]
    #: For tensor `instances`/`inputs`: the element type, with `shape` set.
    tensor: DataType | None
    #: The normalized branch: a JSON Schema that requires this format's key.
    schema: Mapping[str, Any] = field(compare=False, hash=False, repr=False)
    #: JSON pointer to this branch in the original document.
    pointer: str = ""
    title: str | None = None
    #: Whether the split `columns` list is typed with an `enum` of names (False: positional only).
    named_columns: bool = True
    #: For object requests: which request it is (chat, completions, embeddings, responses, ChatAgent).
    request: RequestKind | None = None
    #: For object requests: whether the document declares a `stream` field (server-sent events).
    streaming: bool = False

    @property
    def key(self) -> str | None:
        """The top-level payload key that selects this format, or None for object requests."""
        return None if self.kind is FormatKind.OBJECT else self.kind.value

    @property
    def agent_fields(self) -> tuple[str, ...]:
        """Which of `context`, `custom_inputs` and `databricks_options` an object request declares."""
        return tuple(name for name in AGENT_FIELDS if self.column(name) is not None)

    @property
    def required_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


@dataclass(frozen=True, slots=True)
class ResponseSchema:
    """What the 200 response returns."""

    #: The whole response body.
    body: DataType
    #: `predictions` when the body has it (custom models), else None.
    predictions: DataType | None
    schema: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def result(self) -> DataType:
        """What a client reads: the predictions when there are any, else the body."""
        return self.predictions if self.predictions is not None else self.body


@dataclass(frozen=True, slots=True)
class ServedModel:
    """One served model: a `/served-models/<name>/invocations` path."""

    name: str
    path: str
    formats: tuple[InputFormat, ...]
    response: ResponseSchema | None
    #: The normalized request schema: a `oneOf` of the formats' branches (or the object schema).
    request_schema: Mapping[str, Any] = field(compare=False, hash=False, repr=False)
    pointer: str = ""
    description: str | None = None
    #: The errors of the document this model came from, and where it came from: a feature given only the
    #: model still refuses a broken document (`schemakit.core.policy`).
    document_errors: tuple[Diagnostic, ...] = field(default=(), compare=False, hash=False, repr=False)
    document_source: str = field(default="", compare=False, hash=False, repr=False)

    def format(self, kind: FormatKind | str) -> InputFormat | None:
        wanted = FormatKind(kind)
        for fmt in self.formats:
            if fmt.kind is wanted:
                return fmt
        return None

    @property
    def format_names(self) -> tuple[str, ...]:
        return tuple(f.kind.value for f in self.formats)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The union of every format's columns, first seen first; required when any format requires it."""
        merged: dict[str, Column] = {}
        for fmt in self.formats:
            for column in fmt.columns:
                seen = merged.get(column.name)
                if seen is None:
                    merged[column.name] = Column(column.name, column.type, column.required, None, column.description)
                elif column.required and not seen.required:
                    merged[column.name] = Column(seen.name, seen.type, True, None, seen.description)
        return tuple(merged.values())

    @property
    def params(self) -> tuple[Param, ...]:
        """The union of every format's params, first seen first."""
        merged: dict[str, Param] = {}
        for fmt in self.formats:
            for param in fmt.params:
                merged.setdefault(param.name, param)
        return tuple(merged.values())


@dataclass(frozen=True, slots=True)
class EndpointSchema:
    """A serving endpoint's query schema, resolved."""

    title: str
    version: str
    server: str | None
    models: tuple[ServedModel, ...]
    #: Everything resolving noticed about the document, errors and warnings.
    diagnostics: tuple[Diagnostic, ...]
    openapi: str
    #: The normalized document (references inlined); what `mock` serves back is the original.
    document: Mapping[str, Any] = field(compare=False, hash=False, repr=False)
    #: The document exactly as loaded.
    source_document: Mapping[str, Any] = field(compare=False, hash=False, repr=False)
    #: Where it came from: a path, `-`, a URL, `endpoint:NAME`, ...
    source: str = ""

    def model(self, name: str) -> ServedModel:
        """The served model by name; raises UnknownModelError naming the ones there are."""
        for served in self.models:
            if served.name == name:
                return served
        from schemakit._exceptions import UnknownModelError

        names = ", ".join(m.name for m in self.models) or "none"
        raise UnknownModelError(f"no served model named {name!r} in {self.title!r} (served models: {names})")

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")
