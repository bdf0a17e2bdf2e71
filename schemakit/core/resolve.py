"""Resolving a serving-endpoint OpenAPI document into the typed model of `_model`.

Problems are collected as `Diagnostic` values, so one run reports all of them;
only a document that cannot be read at all raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from schemakit.core.load import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_NODES,
    LoadOptions,
    check_openapi,
    check_shape,
    display_name,
    load_document,
)
from schemakit.core.model import (
    BOUND_KEYWORDS,
    KEYED_FORMATS,
    Column,
    DataType,
    Diagnostic,
    EndpointSchema,
    FormatKind,
    InputFormat,
    JSONValue,
    Kind,
    Param,
    ResponseSchema,
    ServedModel,
    Severity,
)
from schemakit.core.refs import escape_token, inline_refs
from schemakit.core.sources import fetch_reference
from schemakit.core.types import BINARY_FORMATS, DATETIME_FORMATS, SCALAR_KINDS, kind_of

__all__ = ["INVOCATIONS_PATH", "load", "resolve"]

INVOCATIONS_PATH = re.compile(r"^/served-models/(?P<name>[^/]+)/invocations$")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_REQUIRED_FIELDS = re.compile(r"required fields:\s*(?P<names>.*)", re.IGNORECASE | re.DOTALL)

#: `format` values that real documents and OpenAPI use; others are reported.
KNOWN_FORMATS = BINARY_FORMATS | DATETIME_FORMATS | frozenset(
    {
        "int32",
        "int64",
        "float",
        "double",
        "date",
        "time",
        "duration",
        "password",
        "email",
        "uri",
        "uri-reference",
        "uuid",
        "hostname",
        "ipv4",
        "ipv6",
        "regex",
        "json-pointer",
        "iri",
        "idn-email",
        "unknown",
    }
)

_SUBSCHEMA_DICT_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SUBSCHEMA_LIST_KEYS = ("prefixItems", "oneOf", "anyOf", "allOf")
_SUBSCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
)


def load(source: str, options: LoadOptions | None = None) -> EndpointSchema:
    """Read a document from any source and resolve it."""
    opts = options or LoadOptions()
    document = load_document(source, opts)
    fetch: Callable[[str], Any] | None = None
    if opts.allow_remote_refs:

        def fetch(uri: str) -> Any:
            return fetch_reference(uri, source, opts)

    base: str | None = None
    if source.startswith(("http://", "https://")):
        base = source
    elif source != "-" and ":" not in source.split("/")[0]:
        # A file: relative references are relative to the file, as a browser resolves them.
        base = str(Path(source).resolve())
    return resolve(document, source=source, allow_remote_refs=opts.allow_remote_refs, fetch=fetch, base_uri=base)


def resolve(
    document: Mapping[str, Any],
    *,
    source: str = "",
    allow_remote_refs: bool = False,
    fetch: Callable[[str], Any] | None = None,
    base_uri: str | None = None,
) -> EndpointSchema:
    """Resolve a parsed OpenAPI document into an `EndpointSchema`."""
    where = display_name(source) if source else "<document>"
    original = check_openapi(document, where)
    # A document handed in as a Python value was never read through the loader's limits;
    # resolving walks it recursively, so hold it to the same depth limit here.
    check_shape(original, where, DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES)
    inlined, ref_diagnostics = inline_refs(
        original, where=where, allow_remote=allow_remote_refs, fetch=fetch, base_uri=base_uri
    )
    resolver = _Resolver(str(original["openapi"]))
    resolver.diagnostics.extend(ref_diagnostics)
    return resolver.run(original, inlined, source)


class _Resolver:
    def __init__(self, openapi: str) -> None:
        self.openapi = openapi
        self.is_31 = openapi.startswith("3.1")
        self.diagnostics: list[Diagnostic] = []

    def report(self, code: str, severity: Severity, pointer: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(code, severity, pointer, message))

    # -- the document ---------------------------------------------------------------

    def run(self, original: Mapping[str, Any], document: dict[str, Any], source: str) -> EndpointSchema:
        info = document.get("info")
        title, version = "", ""
        if isinstance(info, dict):
            title = str(info.get("title", "") or "")
            raw_version = info.get("version")
            version = "" if raw_version is None else str(raw_version)
            if not title:
                self.report("info-title-missing", "warning", "/info", "info.title (the endpoint name) is missing")
        else:
            self.report("info-missing", "error", "/info", "the document has no info object (endpoint name, version)")

        server = self._server(document.get("servers"))
        models = self._models(document.get("paths"))
        normalized = dict(document)
        normalized_paths = dict(document.get("paths") or {}) if isinstance(document.get("paths"), dict) else {}
        for model in models:
            operation = dict(normalized_paths.get(model.path, {}).get("post", {}))
            operation["requestBody"] = {"content": {"application/json": {"schema": model.request_schema}}}
            if model.response is not None:
                operation["responses"] = {
                    **operation.get("responses", {}),
                    "200": {
                        "description": "Successful operation",
                        "content": {"application/json": {"schema": model.response.schema}},
                    },
                }
            normalized_paths[model.path] = {**normalized_paths[model.path], "post": operation}
        normalized["paths"] = normalized_paths
        return EndpointSchema(
            title=title,
            version=version,
            server=server,
            models=tuple(models),
            diagnostics=tuple(self.diagnostics),
            openapi=self.openapi,
            document=normalized,
            source_document=original,
            source=source,
        )

    def _server(self, servers: Any) -> str | None:
        if not isinstance(servers, list) or not servers:
            self.report(
                "servers-not-one",
                "warning",
                "/servers",
                "no servers entry: clients cannot know the endpoint's base URL",
            )
            return None
        first = servers[0]
        url = first.get("url") if isinstance(first, dict) else None
        if len(servers) != 1:
            self.report(
                "servers-not-one",
                "warning",
                "/servers",
                f"{len(servers)} servers entries; a serving endpoint has exactly one (using the first)",
            )
        if not isinstance(url, str) or not url:
            self.report("servers-not-one", "warning", "/servers/0", "the servers entry has no url")
            return None
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]").lower()
        if scheme.lower() != "https" and host not in _LOOPBACK_HOSTS:
            # Generated clients send the bearer token to this URL by default.
            self.report(
                "server-not-https",
                "warning",
                "/servers/0/url",
                f"the server URL {url!r:.80} is not https on this machine: a client would send its token unencrypted",
            )
        return url

    def _models(self, paths: Any) -> list[ServedModel]:
        if not isinstance(paths, dict) or not paths:
            self.report(
                "no-invocations",
                "error",
                "/paths",
                "no /served-models/<name>/invocations paths: this is not a serving endpoint's query schema",
            )
            return []
        models: list[ServedModel] = []
        for path, item in paths.items():
            pointer = f"/paths/{escape_token(path)}"
            match = INVOCATIONS_PATH.match(path)
            if match is None:
                self.report(
                    "unknown-path",
                    "warning",
                    pointer,
                    f"path {path!r} is not /served-models/<name>/invocations; ignored",
                )
                continue
            model = self._model(match.group("name"), path, item, pointer)
            if model is not None:
                models.append(model)
        if not models and not any(d.code == "no-invocations" for d in self.diagnostics):
            self.report(
                "no-invocations",
                "error",
                "/paths",
                "no usable /served-models/<name>/invocations paths: this is not a serving endpoint's query schema",
            )
        return models

    def _model(self, name: str, path: str, item: Any, pointer: str) -> ServedModel | None:
        post = item.get("post") if isinstance(item, dict) else None
        if not isinstance(post, dict):
            self.report("no-post", "error", pointer, f"served model {name!r} has no POST operation")
            return None
        body = post.get("requestBody")
        body_pointer = f"{pointer}/post/requestBody"
        if not isinstance(body, dict):
            self.report("no-request-body", "error", body_pointer, f"served model {name!r} has no request body")
            return None
        content = body.get("content")
        if not isinstance(content, dict) or not content:
            self.report("no-request-body", "error", f"{body_pointer}/content", "the request body has no content")
            return None
        json_media = next((k for k in content if k.split(";")[0].strip().lower() == "application/json"), None)
        if json_media is None:
            types = ", ".join(sorted(content))
            self.report(
                "request-not-json",
                "error",
                f"{body_pointer}/content",
                f"the request body is not application/json (it offers {types})",
            )
            return None
        media = content[json_media]
        schema_pointer = f"{body_pointer}/content/{escape_token(json_media)}/schema"
        raw_schema = media.get("schema") if isinstance(media, dict) else None
        if raw_schema is None:
            self.report("no-request-schema", "error", schema_pointer, "the JSON request body has no schema")
            return None
        schema = self.normalize(raw_schema, schema_pointer)
        formats, request_schema = self._formats(schema, schema_pointer)
        if not formats:
            self.report(
                "no-input-format",
                "error",
                schema_pointer,
                f"served model {name!r} accepts no input format schemakit recognizes",
            )
        self._cross_check(formats, pointer)
        response = self._response(post.get("responses"), f"{pointer}/post/responses")
        description = post.get("description") or post.get("summary")
        return ServedModel(
            name=name,
            path=path,
            formats=tuple(formats),
            response=response,
            request_schema=request_schema,
            pointer=pointer,
            description=description if isinstance(description, str) else None,
        )

    # -- input formats --------------------------------------------------------------

    def _formats(self, schema: Any, pointer: str) -> tuple[list[InputFormat], dict[str, Any]]:
        if not isinstance(schema, dict):
            return [], {}
        combinator = "oneOf" if isinstance(schema.get("oneOf"), list) else None
        if combinator is None and isinstance(schema.get("anyOf"), list):
            combinator = "anyOf"
        if combinator is None:
            keyed = self._keyed_formats(schema, pointer)
            if keyed:
                return keyed, {"oneOf": [f.schema for f in keyed]}
            fmt = self._object_format(schema, pointer)
            return [fmt], dict(fmt.schema)

        formats: list[InputFormat] = []
        unkeyed_ambiguous: list[str] = []
        for index, branch in enumerate(schema[combinator]):
            branch_pointer = f"{pointer}/{combinator}/{index}"
            found = self._keyed_formats(branch, branch_pointer) if isinstance(branch, dict) else []
            if not found:
                self.report(
                    "unknown-input-format",
                    "error",
                    branch_pointer,
                    "this branch matches no known input format (dataframe_split, dataframe_records, instances, inputs)",
                )
                continue
            for fmt in found:
                if fmt.key is not None and fmt.key not in _required_list(branch):
                    unkeyed_ambiguous.append(fmt.key)
                if any(existing.kind is fmt.kind for existing in formats):
                    self.report(
                        "duplicate-input-format",
                        "warning",
                        branch_pointer,
                        f"{fmt.kind.value} is described by more than one branch; the first is used",
                    )
                    continue
                formats.append(fmt)
        if combinator == "oneOf" and len(formats) > 1 and unkeyed_ambiguous:
            self.report(
                "oneof-ambiguous",
                "warning",
                f"{pointer}/oneOf",
                "no oneOf branch requires its own format key, so under plain JSON Schema a valid "
                f"payload matches several branches ({', '.join(unkeyed_ambiguous)}): the server picks the format "
                "by the payload's top-level key, and schemakit does the same",
            )
        return formats, {"oneOf": [f.schema for f in formats]}

    def _keyed_formats(self, branch: dict[str, Any], pointer: str) -> list[InputFormat]:
        properties = branch.get("properties")
        if not isinstance(properties, dict):
            return []
        keys = [kind for kind in KEYED_FORMATS if kind.value in properties]
        formats: list[InputFormat] = []
        for kind in keys:
            others = {k.value for k in keys if k is not kind}
            normalized = {
                **branch,
                "properties": {k: v for k, v in properties.items() if k not in others},
                "required": sorted({*(r for r in _required_list(branch) if r not in others), kind.value}),
            }
            params = self._params(properties.get("params"), f"{pointer}/properties/params")
            value_schema = properties[kind.value]
            value_pointer = f"{pointer}/properties/{kind.value}"
            title = branch.get("title") if isinstance(branch.get("title"), str) else None
            if kind is FormatKind.DATAFRAME_SPLIT:
                columns, named = self._split_columns(value_schema, value_pointer)
                formats.append(InputFormat(kind, columns, params, None, normalized, pointer, title, named))
            elif kind is FormatKind.DATAFRAME_RECORDS:
                item = value_schema.get("items") if isinstance(value_schema, dict) else None
                columns = self._object_columns(item, f"{value_pointer}/items")
                formats.append(InputFormat(kind, columns, params, None, normalized, pointer, title))
            else:
                columns, tensor = self._tensor_or_columns(kind, value_schema, value_pointer)
                formats.append(InputFormat(kind, columns, params, tensor, normalized, pointer, title))
            self._check_examples(branch, kind, pointer)
        return formats

    def _object_format(self, schema: dict[str, Any], pointer: str) -> InputFormat:
        columns = self._object_columns(schema, pointer)
        title = schema.get("title") if isinstance(schema.get("title"), str) else None
        return InputFormat(FormatKind.OBJECT, columns, (), None, schema, pointer, title)

    def _split_columns(self, split: Any, pointer: str) -> tuple[tuple[Column, ...], bool]:
        if not isinstance(split, dict):
            return (), False
        found = split.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        columns_schema = properties.get("columns")
        data_schema = properties.get("data")
        names: list[str] = []
        named = False
        if isinstance(columns_schema, dict):
            items = columns_schema.get("items")
            enum = items.get("enum") if isinstance(items, dict) else None
            if isinstance(enum, list):
                not_names = [n for n in enum if not isinstance(n, str)]
                if not_names:
                    self.report(
                        "split-columns-not-names",
                        "error",
                        f"{pointer}/properties/columns/items/enum",
                        f"split column names must be strings, got {not_names[0]!r:.40}: no payload can name that column",
                    )
                names = [str(n) for n in enum]
                named = True
        row = data_schema.get("items") if isinstance(data_schema, dict) else None
        types: list[DataType] = []
        rest: DataType | None = None
        if isinstance(row, dict):
            prefix = row.get("prefixItems")
            if isinstance(prefix, list):
                types = [
                    self.datatype(p, f"{pointer}/properties/data/items/prefixItems/{i}") for i, p in enumerate(prefix)
                ]
            elif isinstance(row.get("items"), (dict, bool)):
                rest = self.datatype(row["items"], f"{pointer}/properties/data/items/items")
        if not named:
            names = [str(i) for i in range(len(types))]
        elif types and len(types) != len(names):
            self.report(
                "split-columns-mismatch",
                "error",
                f"{pointer}/properties/data/items/prefixItems",
                f"columns lists {len(names)} names but rows are typed for {len(types)} positions",
            )
        required_names = self._split_required(columns_schema, split, pointer, names)
        columns = []
        untyped = rest if rest is not None else DataType(Kind.ANY)
        for position, column_name in enumerate(names):
            column_type = types[position] if position < len(types) else untyped
            columns.append(Column(column_name, column_type, column_name in required_names, position))
        return tuple(columns), named

    def _split_required(self, columns_schema: Any, split: dict[str, Any], pointer: str, names: list[str]) -> set[str]:
        for holder, where in ((columns_schema, f"{pointer}/properties/columns"), (split, pointer)):
            description = holder.get("description") if isinstance(holder, dict) else None
            if not isinstance(description, str):
                continue
            match = _REQUIRED_FIELDS.search(description)
            if match is None:
                continue
            required = {n.strip() for n in match.group("names").split(",") if n.strip()}
            unknown = sorted(required - set(names))
            if unknown:
                self.report(
                    "split-required-unknown",
                    "warning",
                    f"{where}/description",
                    f"'required fields' names {', '.join(unknown)}, which the split columns do not list",
                )
            return required
        return set()

    def _object_columns(self, schema: Any, pointer: str) -> tuple[Column, ...]:
        if not isinstance(schema, dict):
            return ()
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return ()
        required = set(_required_list(schema))
        unknown = sorted(required - set(properties))
        if unknown:
            self.report(
                "required-unknown",
                "warning",
                f"{pointer}/required",
                f"required lists {', '.join(unknown)}, which properties does not define",
            )
        return tuple(
            Column(
                str(name),
                self.datatype(sub, f"{pointer}/properties/{escape_token(str(name))}"),
                name in required,
                None,
                sub.get("description") if isinstance(sub, dict) and isinstance(sub.get("description"), str) else None,
            )
            for name, sub in properties.items()
        )

    def _tensor_or_columns(
        self, kind: FormatKind, schema: Any, pointer: str
    ) -> tuple[tuple[Column, ...], DataType | None]:
        if not isinstance(schema, dict):
            return (), DataType(Kind.ANY)
        if kind is FormatKind.INSTANCES:
            item = schema.get("items")
            if isinstance(item, dict) and isinstance(item.get("properties"), dict):
                return self._object_columns(item, f"{pointer}/items"), None
            return (), self._tensor(schema, pointer)
        # `inputs`: columnar ({"col": [values]}) or a tensor.
        if isinstance(schema.get("properties"), dict):
            columns = []
            for column in self._object_columns(schema, pointer):
                inner = column.type.items if column.type.kind is Kind.ARRAY and column.type.items else column.type
                columns.append(Column(column.name, inner, column.required, None, column.description))
            return tuple(columns), None
        return (), self._tensor(schema, pointer)

    def _tensor(self, schema: dict[str, Any], pointer: str) -> DataType:
        dims: list[int] = []
        node: Any = schema
        while isinstance(node, dict) and (node.get("type") == "array" or "items" in node):
            fixed = node.get("minItems") == node.get("maxItems") and isinstance(node.get("maxItems"), int)
            dims.append(int(node["maxItems"]) if fixed else -1)
            node = node.get("items", {})
        element = self.datatype(node, pointer)
        declared = schema.get("x-shape", schema.get("shape"))
        if isinstance(declared, list) and all(isinstance(d, int) for d in declared):
            dims = [int(d) for d in declared]
        return _replace_type(element, shape=tuple(dims))

    def _params(self, schema: Any, pointer: str) -> tuple[Param, ...]:
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            return ()
        required = set(_required_list(schema))
        params = []
        for name, sub in schema["properties"].items():
            sub_pointer = f"{pointer}/properties/{escape_token(str(name))}"
            param_type = self.datatype(sub, sub_pointer)
            has_default = isinstance(sub, dict) and "default" in sub
            default: JSONValue = sub.get("default") if has_default and isinstance(sub, dict) else None
            shape: tuple[int, ...] | None = None
            declared = sub.get("x-shape", sub.get("shape")) if isinstance(sub, dict) else None
            if isinstance(declared, list) and all(isinstance(d, int) for d in declared):
                shape = tuple(int(d) for d in declared)
            elif param_type.kind is Kind.ARRAY:
                shape = (-1,)
            description = sub.get("description") if isinstance(sub, dict) else None
            params.append(
                Param(
                    str(name),
                    param_type,
                    default,
                    has_default,
                    name in required,
                    shape,
                    description if isinstance(description, str) else None,
                )
            )
        return tuple(params)

    def _check_examples(self, branch: dict[str, Any], kind: FormatKind, pointer: str) -> None:
        examples = branch.get("examples")
        if not isinstance(examples, list):
            return
        for index, example in enumerate(examples):
            if isinstance(example, dict) and kind.value not in example and {"columns", "data"} & set(example):
                self.report(
                    "example-not-wrapped",
                    "warning",
                    f"{pointer}/examples/{index}",
                    f'the example is a bare split object; a payload wraps it as {{"{kind.value}": ...}}',
                )

    def _cross_check(self, formats: list[InputFormat], pointer: str) -> None:
        tabular = [f for f in formats if f.columns and f.kind is not FormatKind.OBJECT and f.named_columns]
        for i, first in enumerate(tabular):
            for second in tabular[i + 1 :]:
                a, b = first.kind.value, second.kind.value
                names_a = {c.name for c in first.columns}
                names_b = {c.name for c in second.columns}
                for only, there, missing in ((names_b - names_a, b, a), (names_a - names_b, a, b)):
                    if only:
                        self.report(
                            "formats-disagree-columns",
                            "warning",
                            pointer,
                            f"{there} accepts column(s) {', '.join(sorted(only))} that {missing} does not list",
                        )
                if first.required_columns != second.required_columns:
                    self.report(
                        "formats-disagree-required",
                        "warning",
                        pointer,
                        f"{a} requires {_names(first.required_columns)} but {b} requires "
                        f"{_names(second.required_columns)}",
                    )
                for column in first.columns:
                    other = second.column(column.name)
                    if other is not None and other.type.display() != column.type.display():
                        self.report(
                            "formats-disagree-types",
                            "warning",
                            pointer,
                            f"column {column.name} is {column.type.display()} in {a} but {other.type.display()} in {b}",
                        )

    # -- the response ---------------------------------------------------------------

    def _response(self, responses: Any, pointer: str) -> ResponseSchema | None:
        ok = responses.get("200") if isinstance(responses, dict) else None
        if ok is None and isinstance(responses, dict):
            ok = responses.get(200)
        content = ok.get("content") if isinstance(ok, dict) else None
        media = None
        if isinstance(content, dict):
            media_key = next((k for k in content if k.split(";")[0].strip().lower() == "application/json"), None)
            media = content.get(media_key) if media_key is not None else None
        schema = media.get("schema") if isinstance(media, dict) else None
        if schema is None:
            self.report(
                "no-response-schema",
                "warning",
                f"{pointer}/200",
                "no JSON schema for the 200 response: clients cannot know what predictions look like",
            )
            return None
        schema_pointer = f"{pointer}/200/content/application~1json/schema"
        normalized = self.normalize(schema, schema_pointer)
        body = self.datatype(normalized, schema_pointer)
        predictions = body.field("predictions")
        return ResponseSchema(body, predictions.type if predictions is not None else None, normalized)

    # -- schemas --------------------------------------------------------------------

    def normalize(self, schema: Any, pointer: str) -> Any:
        """JSON Schema 2020-12 for an OpenAPI schema object; reports what it had to repair."""
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            self.report("schema-invalid", "error", pointer, f"a schema must be an object, got {schema!r:.60}")
            return {}
        out: dict[str, Any] = {}
        for key, value in schema.items():
            problem = _keyword_problem(key, value, self.is_31)
            if problem is not None:
                # Downstream validators would crash on, or silently ignore, a malformed keyword.
                code = "invalid-type" if key == "type" else "schema-invalid"
                self.report(code, "error", f"{pointer}/{escape_token(key)}", f"{problem}; ignored")
                continue
            if key in _SUBSCHEMA_DICT_KEYS and isinstance(value, dict):
                out[key] = {
                    name: self.normalize(sub, f"{pointer}/{key}/{escape_token(str(name))}")
                    for name, sub in value.items()
                }
            elif key in _SUBSCHEMA_LIST_KEYS and isinstance(value, list):
                out[key] = [self.normalize(sub, f"{pointer}/{key}/{i}") for i, sub in enumerate(value)]
            elif key == "items" and isinstance(value, list):
                # OpenAPI 3.0 / draft 4 tuple form: items as a list means prefixItems.
                out["prefixItems"] = [self.normalize(sub, f"{pointer}/items/{i}") for i, sub in enumerate(value)]
            elif key in _SUBSCHEMA_KEYS and isinstance(value, (dict, bool)):
                out[key] = self.normalize(value, f"{pointer}/{key}")
            else:
                out[key] = value

        if not self.is_31:
            for bound, limit in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
                if out.get(bound) is True and limit in out:
                    out[bound] = out.pop(limit)
                elif out.get(bound) is False:
                    out.pop(bound)

        fmt = out.get("format")
        if isinstance(fmt, str):
            if fmt == "unknown":
                self.report(
                    "unknown-type",
                    "warning",
                    f"{pointer}/format",
                    "type unknown to the server's signature (format: unknown); any value is accepted",
                )
                out.pop("type", None)
            elif fmt not in KNOWN_FORMATS:
                self.report("unknown-format", "warning", f"{pointer}/format", f"unknown format {fmt!r}")

        if "nullable" in out:
            nullable = out.pop("nullable")
            if self.is_31:
                self.report(
                    "nullable-in-3.1",
                    "warning",
                    f"{pointer}/nullable",
                    "'nullable' is an OpenAPI 3.0 keyword, not part of 3.1; honoured as \"null allowed\"",
                )
            if nullable is True:
                out = _allow_null(out)

        if "default" in out:
            out["default"] = self._coerce_default(out, out["default"], f"{pointer}/default")
        return out

    def _coerce_default(self, schema: dict[str, Any], default: Any, pointer: str) -> Any:
        types = _types_of(schema)
        if not types or _fits(default, types):
            return default
        coerced = _coerce(default, types)
        if coerced is _FAILED:
            self.report(
                "default-invalid",
                "error",
                pointer,
                f"default {default!r:.60} is not a {'/'.join(sorted(types))} and cannot be read as one",
            )
            return default
        self.report(
            "default-type-mismatch",
            "warning",
            pointer,
            f"default {json.dumps(default)} is a {_json_name(default)} but the schema says "
            f"{'/'.join(sorted(types))}; read as {json.dumps(coerced)}",
        )
        return coerced

    def datatype(self, schema: Any, pointer: str) -> DataType:
        """The logical type of a normalized schema."""
        return _datatype(schema, self, pointer)


# -- helpers ------------------------------------------------------------------------

_JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
_SCHEMA_LIST_KEYWORDS = frozenset({"oneOf", "anyOf", "allOf"})
_SCHEMA_MAP_KEYWORDS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_KEYWORDS = frozenset(
    {"additionalProperties", "not", "contains", "propertyNames", "if", "then", "else", "unevaluatedItems",
     "unevaluatedProperties", "additionalItems"}
)  # fmt: skip
_COUNT_KEYWORDS = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"}
)
_NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _keyword_problem(key: str, value: Any, is_31: bool) -> str | None:
    """Why a keyword's value cannot be a JSON Schema keyword's value, or None when it can."""
    if key in _SCHEMA_LIST_KEYWORDS:
        # Each element is checked where it stands, as a schema.
        if not isinstance(value, list) or not value:
            return f"'{key}' must be a non-empty list of schemas, got {_json_name(value)}"
    elif key == "prefixItems":
        if not isinstance(value, list):
            return f"'prefixItems' must be a list of schemas, got {_json_name(value)}"
    elif key == "items":
        if not isinstance(value, (dict, bool, list)):
            return f"'items' must be a schema, got {_json_name(value)}"
    elif key in _SCHEMA_MAP_KEYWORDS:
        if not isinstance(value, dict):
            return f"'{key}' must map names to schemas, got {_json_name(value)}"
        if key == "patternProperties":
            for pattern in value:
                reason = _pattern_problem(pattern)
                if reason is not None:
                    return f"patternProperties key {pattern!r} is not a regular expression ({reason})"
    elif key in _SCHEMA_KEYWORDS:
        if not isinstance(value, (dict, bool)):
            return f"'{key}' must be a schema, got {_json_name(value)}"
    elif key == "required":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"'required' must be a list of names, got {_json_name(value)}"
    elif key == "enum":
        if not isinstance(value, list):
            return f"'enum' must be a list of values, got {_json_name(value)}"
    elif key == "type":
        names = [value] if isinstance(value, str) else value if isinstance(value, list) else None
        unknown = [n for n in names or [] if not (isinstance(n, str) and n in _JSON_TYPES)]
        if names is None or not names or unknown:
            shown = unknown[0] if unknown else value
            return f"unknown JSON Schema type {shown!r:.60} (expected {', '.join(sorted(_JSON_TYPES))})"
    elif key in _COUNT_KEYWORDS:
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return f"'{key}' must be a non-negative integer, got {value!r:.60}"
    elif key in _NUMBER_KEYWORDS:
        boolean_bound = not is_31 and key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool)
        if not (_is_number(value) or boolean_bound):
            return f"'{key}' must be a number, got {value!r:.60}"
        if key == "multipleOf" and _is_number(value) and value <= 0:
            return f"'multipleOf' must be greater than 0, got {value!r}"
    elif key == "pattern":
        if not isinstance(value, str):
            return f"'pattern' must be a regular expression string, got {_json_name(value)}"
        reason = _pattern_problem(value)
        if reason is not None:
            return f"pattern {value!r:.60} is not a regular expression ({reason})"
    elif key == "uniqueItems" and not isinstance(value, bool):
        return f"'uniqueItems' must be true or false, got {value!r:.60}"
    return None


def _pattern_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None


def _required_list(schema: Mapping[str, Any]) -> list[str]:
    required = schema.get("required")
    return [str(r) for r in required] if isinstance(required, list) else []


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    return "{" + ", ".join(listed) + "}" if listed else "nothing"


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"] if kind != "null" else "null"
    elif isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    else:
        annotations: dict[str, Any] = {
            k: out.pop(k) for k in ("description", "title", "default", "examples", "example") if k in out
        }
        if not out:
            return {**annotations}
        return {**annotations, "anyOf": [out, {"type": "null"}]}
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _types_of(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return set()


def _json_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _fits(value: Any, types: set[str]) -> bool:
    name = _json_name(value)
    if name in types:
        return True
    if name == "integer" and "number" in types:
        return True
    return name == "number" and "integer" in types and float(value).is_integer()


_FAILED = object()


def _coerce(value: Any, types: set[str]) -> Any:
    for kind in ("integer", "number", "boolean", "array", "object", "string", "null"):
        if kind not in types:
            continue
        candidate = _coerce_one(value, kind)
        if candidate is not _FAILED:
            return candidate
    return _FAILED


def _coerce_one(value: Any, kind: str) -> Any:
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return json.dumps(value)
        return _FAILED
    if not isinstance(value, str):
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return int(value)
        return _FAILED
    text = value.strip()
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return _FAILED
            return int(number) if number.is_integer() else _FAILED
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return _FAILED
        if not math.isfinite(number):
            return _FAILED
        return int(number) if re.fullmatch(r"[+-]?\d+", text) else number
    if kind == "boolean":
        lowered = text.lower()
        return True if lowered == "true" else False if lowered == "false" else _FAILED
    if kind == "null":
        return None if text.lower() in ("null", "none", "") else _FAILED
    try:
        parsed = json.loads(text)
    except ValueError:
        return _FAILED
    if kind == "array" and isinstance(parsed, list):
        return parsed
    if kind == "object" and isinstance(parsed, dict):
        return parsed
    return _FAILED


def _replace_type(t: DataType, **changes: Any) -> DataType:
    values = {name: getattr(t, name) for name in DataType.__dataclass_fields__}
    values.update(changes)
    return DataType(**values)


def _bounds(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The bounds keywords of a normalized schema, as DataType fields (malformed ones were dropped)."""
    out: dict[str, Any] = {}
    for attr, keyword in BOUND_KEYWORDS.items():
        value = schema.get(keyword)
        if keyword == "pattern":
            if isinstance(value, str):
                out[attr] = value
        elif _is_number(value):
            out[attr] = value
    return out


def _datatype(schema: Any, resolver: _Resolver, pointer: str) -> DataType:
    if schema is True or schema == {}:
        return DataType(Kind.ANY, schema={})
    if not isinstance(schema, dict):
        return DataType(Kind.ANY, schema={})
    description = schema.get("description") if isinstance(schema.get("description"), str) else None
    enum: tuple[JSONValue, ...] | None = None
    if isinstance(schema.get("enum"), list):
        enum = tuple(schema["enum"])
    elif "const" in schema:
        enum = (schema["const"],)

    types = schema.get("type")
    type_list = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
    nullable = "null" in type_list
    non_null = [t for t in type_list if t != "null"]

    for combinator in ("oneOf", "anyOf"):
        branches = schema.get(combinator)
        if isinstance(branches, list) and not non_null:
            variants: list[DataType] = []
            for i, branch in enumerate(branches):
                if isinstance(branch, dict) and branch.get("type") == "null":
                    nullable = True
                    continue
                variants.append(_datatype(branch, resolver, f"{pointer}/{combinator}/{i}"))
            if len(variants) == 1:
                only = variants[0]
                return _replace_type(
                    only,
                    nullable=only.nullable or nullable,
                    description=description or only.description,
                    schema=schema,
                )
            if variants:
                return DataType(
                    Kind.UNION,
                    nullable,
                    variants=tuple(variants),
                    enum=enum,
                    description=description,
                    schema=schema,
                )
    if not non_null:
        if "properties" in schema:
            non_null = ["object"]
        elif "items" in schema or "prefixItems" in schema:
            non_null = ["array"]
        elif types == "null" or type_list == ["null"]:
            return DataType(Kind.NULL, True, enum=enum, description=description, schema=schema)
        else:
            return DataType(
                Kind.ANY, nullable, enum=enum, format=schema.get("format"), description=description, schema=schema
            )
    if len(non_null) > 1:
        alternatives = tuple(_datatype({**schema, "type": t}, resolver, pointer) for t in non_null)
        return DataType(Kind.UNION, nullable, variants=alternatives, enum=enum, description=description, schema=schema)

    kind_name = non_null[0]
    fmt = schema.get("format") if isinstance(schema.get("format"), str) else None
    common: dict[str, Any] = {
        "nullable": nullable,
        "enum": enum,
        "format": fmt,
        "description": description,
        "schema": schema,
        **_bounds(schema),
    }
    kind = kind_of(kind_name, fmt)
    if kind in SCALAR_KINDS or kind is Kind.NULL:
        return DataType(kind, **common)
    if kind_name == "array":
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        item_type: DataType | None = None
        positions: tuple[DataType, ...] | None = None
        if isinstance(prefix, list) and prefix:
            positions = tuple(_datatype(p, resolver, f"{pointer}/prefixItems/{i}") for i, p in enumerate(prefix))
        if isinstance(items, (dict, bool)) and items is not False:
            item_type = _datatype(items, resolver, f"{pointer}/items")
        elif positions:
            distinct = {v.display() for v in positions}
            item_type = positions[0] if len(distinct) == 1 else DataType(Kind.UNION, variants=positions)
        closed = positions is not None and (items is False or schema.get("maxItems") == len(positions))
        declared = schema.get("x-shape", schema.get("shape"))
        shape = tuple(int(d) for d in declared) if isinstance(declared, list) else None
        return DataType(Kind.ARRAY, items=item_type, shape=shape, prefix_items=positions, closed=closed, **common)
    if kind_name == "object":
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            fields = resolver._object_columns(schema, pointer)
            return DataType(Kind.OBJECT, fields=fields, **common)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            value_type = _datatype(additional, resolver, f"{pointer}/additionalProperties")
            return DataType(Kind.MAP, items=value_type, **common)
        return DataType(Kind.OBJECT, **common)
    # normalize() has already reported and dropped any type name JSON Schema does not have.
    return DataType(Kind.ANY, nullable, description=description, schema=schema)
