"""Payload validation engine: exact JSON Schema 2020-12 verdicts plus the serving rules.

Part of the runtime (standard library, plus msgspec and google-re2 when installed):
code generation copies the runtime into generated client packages, which then give
the same verdicts and messages as `schemakit check`. The engine is split by concern:

- `report`: `Problem`, `PayloadReport` and the sinks that collect problems;
- `payload_rules`: the serving rules as data (`PAYLOAD_RULES`, `SERVING_RULES`, `SCHEMA_CODES`);
- `keywords`: what is implemented, ignored, refused (`unsupported_keywords`);
- `compiler`: a schema compiled into checks (the exact path); `structure`: the rules on
  a request's structure; `present`: problems located by row and column;
- `fast`: the msgspec fast accept path; `typed`: its direct request decoders (one typed
  decode for the usual request) and the row screens that let the exact path pass over
  clean chunks of a large payload; `parse`: exact parsing, rows a chunk at a time;
- `jsonsem`, `values`, `patterns`: JSON semantics, ISO-8601/base64, linear-time patterns.

An `Engine` is built from a JSON-able *plan* (see `schemakit.check.validator.make_plan`)::

    {"plan_version": 1, "model": "my-model-2", "request_schema": {...},
     "max_request_bytes": 16777216,
     "formats": [{"kind": "dataframe_split", "key": "dataframe_split", "schema": {...},
                  "named_columns": true,
                  "columns": [{"name": "a", "position": 0, "required": true, "type": "long"}],
                  "params": [{"name": "temperature", "type": "double"}]}],
     "unsupported": []}

With every serving rule disabled, the verdict equals JSON Schema 2020-12 validation of
`request_schema` (as `jsonschema.Draft202012Validator` gives it, without format
assertion). A plan that needs a keyword the runtime does not evaluate, or that could
make it fetch a URI, is refused (`UnsupportedSchemaError`) unless the caller passes a
`fallback` (schemakit's library passes one built on jsonschema that never retrieves).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from .compiler import Check, Compiler
from .fast import SMALL_PAYLOAD_BYTES, FastPath, NoFastPath
from .keywords import (
    IMPLEMENTED_KEYWORDS,
    UnsupportedSchemaError,
    refusal,
    unsupported_keywords,
)
from .parse import (
    EXACT_CHUNK_BYTES,
    MAX_JSON_DEPTH,
    TOO_DEEP,
    PayloadDecodeError,
    json_too_deep,
    parse_json,
    rows_or_value,
    value_too_deep,
)
from .patterns import LINEAR_PATTERNS
from .payload_rules import (
    FORMAT_KEYS,
    PAYLOAD_RULES,
    SCHEMA_CODES,
    SERVING_RULES,
    severities,
)
from .present import problem
from .report import ROOT, Path, PayloadReport, Problem, Sink
from .structure import (
    datetime_columns,
    empty_input,
    format_value_schema,
    integer_keys,
    known_gaps,
    object_rules,
    split_rules,
    unknown_input_columns,
    unknown_params,
    unknown_row_columns,
    with_known_gaps,
)
from .values import is_base64, is_iso8601

try:  # the fast accept path; everything works without it, only slower
    import msgspec  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment, unused-ignore]

__all__ = [
    "ENGINE_VERSION",
    "FORMAT_KEYS",
    "IMPLEMENTED_KEYWORDS",
    "LINEAR_PATTERNS",
    "PAYLOAD_RULES",
    "SCHEMA_CODES",
    "SERVING_RULES",
    "Engine",
    "PayloadDecodeError",
    "PayloadReport",
    "Problem",
    "SchemaFallback",
    "UnsupportedSchemaError",
    "is_base64",
    "is_iso8601",
    "parse_json",
    "unsupported_keywords",
]

ENGINE_VERSION = 1

ROWS_KEYS = ("dataframe_records", "instances", "inputs")
_DECODE_ERRORS: tuple[type[Exception], ...] = () if msgspec is None else (msgspec.ValidationError, msgspec.DecodeError)

#: Validates an instance against a schema the runtime refuses: yields (code, path parts, value, message).
SchemaFallback = Callable[[Any, Any], Iterable[tuple[str, Sequence[Any], Any, str]]]


class Engine:
    """Validates payloads for one served model, compiled once from a plan.

    `strict` raises the rules that have a strict severity (`float-for-integer`) to
    errors; `max_request_bytes` overrides the plan's size limit (None: the plan's).
    """

    def __init__(
        self,
        plan: Mapping[str, Any],
        *,
        disable: Iterable[str] = (),
        max_errors: int = 100,
        strict: bool = False,
        max_request_bytes: int | None = None,
        fallback: SchemaFallback | None = None,
    ) -> None:
        rules = _serving_rules(disable, max_errors, strict)
        self.plan = plan
        self.model: str = str(plan.get("model", ""))
        #: The switched-on serving rules, each with its severity.
        self.rules: Mapping[str, str] = rules
        self.strict = strict
        self.max_errors = max_errors
        limit = max_request_bytes if max_request_bytes is not None else plan.get("max_request_bytes")
        self.max_request_bytes: int | None = int(limit) if isinstance(limit, int) else None
        # A body this long cannot be over the limit whatever its encoding (4 bytes a character at most).
        self._unchecked_bytes = (
            self.max_request_bytes // 4
            if self.max_request_bytes is not None and "payload-too-large" in self.rules
            else sys.maxsize
        )
        self.request_schema = plan["request_schema"]
        listed = plan.get("formats", ())
        self.formats: dict[str, Mapping[str, Any]] = {f["key"]: f for f in listed if f.get("key") in FORMAT_KEYS}
        #: An object request format (chat, completions, embeddings, agents), chosen when no format key is sent.
        self.object_format = next((f for f in listed if f.get("key") not in FORMAT_KEYS), None)
        self.unsupported = sorted({*(plan.get("unsupported") or ()), *unsupported_keywords(self.request_schema)})
        self._fallback = fallback if self.unsupported else None
        if self.unsupported and fallback is None:
            raise UnsupportedSchemaError(refusal(self.model, self.request_schema) or ", ".join(self.unsupported))
        object_schema = self.object_format["schema"] if self.object_format is not None else None
        self._gaps = known_gaps(object_schema) if "known-document-gap" in self.rules else []
        root_schema = self.request_schema
        if self._gaps:
            patched = with_known_gaps(object_schema, self._gaps)
            root_schema = patched if object_schema == root_schema else root_schema
            object_schema = patched
        compiler = Compiler(self.rules)
        self._compiler = compiler
        self._root = compiler.compile(root_schema)
        self._object_schema = object_schema
        self._object_check: Check | None = None
        if object_schema is not None:
            self._object_check = self._root if object_schema is root_schema else compiler.compile(object_schema)
        self._branches = {key: compiler.compile(fmt["schema"]) for key, fmt in self.formats.items()}
        self._reordered: dict[tuple[str, ...], Check] = {}
        self._fast = _fast_path(self.formats, self.rules) if not self.unsupported else None
        # A report is frozen and a clean one says only the format: built once, not per payload
        # (a frozen dataclass costs about a microsecond to build, as much as a one-row decode).
        self._accepted = {
            key: PayloadReport(True, self.model, key, (), 0, 0, MappingProxyType({}), False) for key in self.formats
        }
        #: Bodies no longer than this are first tried with the preferred direct decoder (-1: none).
        self._direct_bytes = -1
        if self._fast is not None and self._fast.preferred is not None:
            self._fast.set_accepted(self._accepted)
            self._direct_bytes = min(self._unchecked_bytes, SMALL_PAYLOAD_BYTES)

    @property
    def has_fast_path(self) -> bool:
        return self._fast is not None

    # entry points ----------------------------------------------------------------------

    def validate_json(self, data: bytes | str) -> PayloadReport:
        """Validate a payload straight from the wire; bytes that are not JSON give an `invalid-json` report."""
        if len(data) > MAX_JSON_DEPTH and json_too_deep(data):
            # Before any decoder sees the bytes: msgspec and the standard library recurse.
            return self._too_deep()
        if len(data) <= self._direct_bytes:
            # Inline, the usual request's verdict costs about one typed decode: that of the
            # format the endpoint's last accepted request took.
            preferred: Any = self._fast.preferred  # type: ignore[union-attr]
            try:
                request = preferred.decode(data)
            except _DECODE_ERRORS:
                pass
            else:
                if preferred.check is None or preferred.check(request):
                    return preferred.accepted  # type: ignore[no-any-return]
        return self._validate_json(data)

    def _too_deep(self) -> PayloadReport:
        return self._one_problem("invalid-json", "JSON", f"not valid JSON for this model: {TOO_DEEP}")

    def _one_problem(
        self, code: str, expected: str, message: str, line: int | None = None, col: int | None = None
    ) -> PayloadReport:
        found = Problem(code, "error", "$", None, None, expected, None, message, line, col)
        return PayloadReport(False, self.model, None, (found,), 1, 0, {code: 1}, False)

    def _too_large(self, data: bytes | str) -> PayloadReport | None:
        """The server refuses a body over its endpoint's limit (413) before reading it: so does the check."""
        limit = self.max_request_bytes
        if limit is None or "payload-too-large" not in self.rules or len(data) * 4 <= limit:
            return None
        size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
        if size <= limit:
            return None
        megabytes = f"{limit / 2**20:.3g} MB"
        message = (
            f"the request body is {size:,} bytes, over this endpoint's limit of {limit:,} bytes ({megabytes}); "
            "the server refuses it (413): split it into smaller requests"
        )
        return self._one_problem("payload-too-large", f"at most {limit:,} bytes", message)

    def _validate_json(self, data: bytes | str) -> PayloadReport:
        """The size limit, the fast path's other decoders, then the exact path."""
        too_large = self._too_large(data)
        if too_large is not None:
            return too_large
        fast = self._fast
        if fast is not None:
            key = fast.accepts(data)
            if key is not None:
                return self._accepted[key]
        try:
            return self._exact_json(data)
        except RecursionError:  # below the depth limit, on a stack already deep
            return self._too_deep()

    def _exact_json(self, data: bytes | str) -> PayloadReport:
        """The exact path (the fast one did not accept)."""
        if len(data) > EXACT_CHUNK_BYTES and msgspec is not None and self._fallback is None:
            report = self._validate_in_chunks(data)
            if report is not None:
                return report
        try:
            payload = parse_json(data)
        except PayloadDecodeError as exc:
            return self._one_problem("invalid-json", "JSON", str(exc), exc.line, exc.column)
        return self._validate(payload)

    def _validate_in_chunks(self, data: bytes | str) -> PayloadReport | None:
        """The exact path for a large payload, in bounded memory: its rows stay raw JSON, parsed a chunk at a time.

        None when the payload is not an object of JSON msgspec reads (NaN, a byte order
        mark, not JSON at all): the caller then parses it whole, which also says where.
        """
        raw_data = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        try:
            top = msgspec.json.decode(raw_data, type=dict[str, msgspec.Raw])
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        collect = gc.isenabled()
        if collect:
            gc.disable()  # millions of short-lived rows would trigger pointless collections
        try:
            payload = _chunked_payload(top, self.formats, self._fast)
            del top
            return self._validate(payload)
        except (PayloadDecodeError, msgspec.ValidationError, msgspec.DecodeError):
            return None
        finally:
            if collect:
                gc.enable()

    def validate(self, payload: object) -> PayloadReport:
        """Validate a parsed payload (dicts, lists, str, int, float, bool, None)."""
        if value_too_deep(payload):
            return self._too_deep()  # as `validate_json` says of the same payload as bytes
        return self._validate(payload)

    def _validate(self, payload: Any) -> PayloadReport:
        sink = Sink(self.max_errors)
        try:
            key = self._run(payload, sink)
        except RecursionError:
            return self._too_deep()
        problems = tuple(problem(entry, key, payload, self.formats) for entry in sink.kept)
        return PayloadReport(
            ok=sink.errors == 0,
            model=self.model,
            format=key,
            problems=problems,
            total_errors=sink.errors,
            total_warnings=sink.warnings,
            counts=sink.counts,
            truncated=sink.errors + sink.warnings > len(problems),
        )

    # the walk --------------------------------------------------------------------------

    def _run(self, payload: Any, sink: Sink) -> str | None:
        objects = self._object_check is not None and isinstance(payload, dict)
        if objects and (not self.formats or not any(k in payload for k in FORMAT_KEYS)):
            # MLflow's server reads a body without a format key as an object (LLM) request.
            assert self._object_check is not None
            self._check(self._object_schema, self._object_check, payload, sink)
            object_rules(self._object_schema, self._gaps, payload, sink, self.rules)
            return None
        if not self.formats or "one-format" not in self.rules:
            key = self._key_of(payload)
            self._check(self.request_schema, self._root, payload, sink)
            if key is not None and self.rules:
                self._structure(self.formats[key], payload, sink, check_schema=False)
            return key
        if not isinstance(payload, dict):
            sink.add("type", ROOT, "object", payload, "a request is a JSON object")
            return None
        present = [k for k in FORMAT_KEYS if k in payload]
        accepted = ", ".join(self.formats)
        if len(present) != 1:
            found = (
                f"found {', '.join(present)}" if present else f"found keys: {', '.join(map(str, payload)) or 'none'}"
            )
            detail = f"expected exactly one of {accepted}; {found}"
            sink.add("one-format", ROOT, f"exactly one of {accepted}", None, detail, show_value=False)
            return None
        key = present[0]
        if key not in self.formats:
            detail = f"this model does not accept {key}; it accepts {accepted}"
            sink.add("one-format", (ROOT, key), f"one of {accepted}", None, detail, show_value=False)
            return None
        self._structure(self.formats[key], payload, sink, check_schema=True)
        return key

    def _check(self, schema: Any, check: Check, payload: Any, sink: Sink) -> None:
        if self._fallback is not None:
            self._schema_fallback(schema, payload, sink)
        else:
            check(payload, ROOT, sink)

    def _key_of(self, payload: Any) -> str | None:
        if isinstance(payload, dict):
            present = [k for k in FORMAT_KEYS if k in payload and k in self.formats]
            if len(present) == 1:
                return present[0]
        return None

    def _structure(self, fmt: Mapping[str, Any], payload: dict[str, Any], sink: Sink, *, check_schema: bool) -> None:
        key = fmt["key"]
        value = payload.get(key)
        branch_check = self._branches[key]
        rules = self.rules
        if key == "dataframe_split" and isinstance(value, dict):
            names = split_rules(fmt, value, sink, rules)
            if names is not None:
                branch_check = self._reordered_check(fmt, names) or branch_check
        elif key in ("dataframe_records", "instances") and isinstance(value, list):
            if "unknown-column" in rules:
                unknown_row_columns(fmt, key, value, sink, rules["unknown-column"])
            if "integer-null" in rules:
                integer_keys(fmt, key, value, sink, rules["integer-null"])
        elif key == "inputs" and isinstance(value, dict) and "unknown-column" in rules and fmt.get("columns"):
            unknown_input_columns(fmt, value, sink, rules["unknown-column"])
        if "empty-input" in rules:
            empty_input(fmt, key, value, sink)
        params = payload.get("params")
        if "unknown-param" in rules and isinstance(params, dict):
            unknown_params(fmt, params, sink, rules["unknown-param"])
        if check_schema:
            self._check(fmt["schema"], branch_check, payload, sink)
        if "datetime-iso8601" in rules:
            datetime_columns(fmt, key, value, sink, rules["datetime-iso8601"])

    def _reordered_check(self, fmt: Mapping[str, Any], names: tuple[str, ...]) -> Check | None:
        cached = self._reordered.get(names)
        if cached is not None:
            return cached
        reordered = _reordered_schema(fmt, names)
        if reordered is None:
            return None
        check = self._compiler.compile(reordered)
        if len(self._reordered) > 64:
            self._reordered.clear()
        self._reordered[names] = check
        return check

    def _schema_fallback(self, schema: Any, payload: Any, sink: Sink) -> None:
        assert self._fallback is not None
        for code, parts, value, message in self._fallback(schema, payload):
            path: Path = ROOT
            for part in parts:
                path = (path, part)
            sink.add(code, path, None, value, message, show_value=False)


def _serving_rules(disable: Iterable[str], max_errors: int, strict: bool) -> Mapping[str, str]:
    """The switched-on serving rules with their severities; ValueError for an unknown rule or a bad max_errors."""
    disabled = frozenset(disable)
    unknown = disabled - set(SERVING_RULES)
    if unknown:
        raise ValueError(f"unknown serving rule(s): {', '.join(sorted(unknown))}; known: {', '.join(SERVING_RULES)}")
    if max_errors < 1:
        raise ValueError("max_errors must be at least 1")
    return severities((c for c in SERVING_RULES if c not in disabled), strict=strict)


def _fast_path(formats: Mapping[str, Mapping[str, Any]], rules: Mapping[str, str]) -> FastPath | None:
    if msgspec is None or not formats or "one-format" not in rules:
        return None
    try:
        return FastPath(list(formats.values()), frozenset(rules))
    except NoFastPath:
        return None


def _reordered_schema(fmt: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any] | None:
    """The format's schema with the `dataframe_split` row items in the order `names` gives (None: no row items)."""
    branch = fmt["schema"]
    try:
        data_schema = branch["properties"]["dataframe_split"]["properties"]["data"]
        prefix = data_schema["items"]["prefixItems"]
    except (KeyError, TypeError):
        return None
    by_name = {c["name"]: prefix[c["position"]] for c in fmt.get("columns") or () if c["position"] < len(prefix)}
    row = {**data_schema["items"], "prefixItems": [by_name.get(n, True) for n in names]}
    split_schema = branch["properties"]["dataframe_split"]
    reordered = {
        **branch,
        "properties": {
            **branch["properties"],
            "dataframe_split": {
                **split_schema,
                "properties": {**split_schema["properties"], "data": {**data_schema, "items": row}},
            },
        },
    }
    return reordered


def _chunked_payload(
    top: Mapping[str, Any], formats: Mapping[str, Mapping[str, Any]], fast_path: FastPath | None
) -> dict[str, Any]:
    """The payload with its rows left raw (parsed a chunk at a time as the walk reads them)."""
    payload: dict[str, Any] = {}
    for name, raw in top.items():
        fmt = formats.get(name)
        fast = fast_path.formats.get(name) if fast_path is not None else None
        if fmt is not None and name in ROWS_KEYS:
            screen = fast.row_screen() if fast is not None else None
            payload[name] = rows_or_value(raw, format_value_schema(fmt, name), screen)
        elif fmt is not None and name == "dataframe_split" and bytes(memoryview(raw)[:1]) == b"{":
            split = msgspec.json.decode(raw, type=dict[str, msgspec.Raw])
            data_schema = format_value_schema(fmt, name).get("properties", {}).get("data")
            parts = {part: parse_json(memoryview(value)) for part, value in split.items() if part != "data"}
            # The screen's rows are in the document's column order: so must the payload's be.
            in_order = fast is not None and parts.get("columns", fast.column_names) == fast.column_names
            screen = fast.row_screen() if fast is not None and in_order else None
            payload[name] = {
                part: rows_or_value(value, data_schema, screen) if part == "data" else parts[part]
                for part, value in split.items()
            }
        else:
            payload[name] = parse_json(memoryview(raw))
    return payload
