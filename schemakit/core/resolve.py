"""Resolving a serving-endpoint OpenAPI document into the typed model of `_model`.

Problems are collected as `Diagnostic` values, so one run reports all of them;
only a document that cannot be read at all raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from schemakit._exceptions import RemoteRefError
from schemakit.core.infer import (
    datatype,
    object_columns,
    read_params,
    request_kind,
    required_list,
    split_columns,
    tensor_or_columns,
)
from schemakit.core.lint import Reporter, check_chat_roles, check_examples, cross_check, report_uri_keyword
from schemakit.core.load import (
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_NODES,
    LoadOptions,
    check_openapi,
    check_shape,
    display_name,
    load_document,
    parse_text,
    read_source_bytes,
)
from schemakit.core.model import (
    KEYED_FORMATS,
    EndpointSchema,
    FormatKind,
    InputFormat,
    Kind,
    RequestKind,
    ResponseSchema,
    ServedModel,
)
from schemakit.core.normalize import normalize
from schemakit.core.refs import escape_token, inline_refs
from schemakit.core.sources import kind_of
from schemakit.runtime.http import same_origin

__all__ = ["INVOCATIONS_PATH", "load", "resolve"]

INVOCATIONS_PATH = re.compile(r"^/served-models/(?P<name>[^/]+)/invocations$")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


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
    reporter = Reporter(str(original["openapi"]))
    reporter.diagnostics.extend(ref_diagnostics)
    return build_schema(reporter, original, inlined, source)


# -- the document ---------------------------------------------------------------


def build_schema(r: Reporter, original: Mapping[str, Any], document: dict[str, Any], source: str) -> EndpointSchema:
    """Walk the document: the endpoint, its served models, their formats and responses."""
    info = document.get("info")
    title, version = "", ""
    if isinstance(info, dict):
        title = str(info.get("title", "") or "")
        raw_version = info.get("version")
        version = "" if raw_version is None else str(raw_version)
        if not title:
            r.report("info-title-missing", "warning", "/info", "info.title (the endpoint name) is missing")
    else:
        r.report("info-missing", "error", "/info", "the document has no info object (endpoint name, version)")

    if "jsonSchemaDialect" in document:
        report_uri_keyword(r, "jsonSchemaDialect", document["jsonSchemaDialect"], "/jsonSchemaDialect")
    server = _server(r, document.get("servers"))
    models = _models(r, document.get("paths"))
    normalized = dict(document)
    normalized.pop("jsonSchemaDialect", None)  # reported above; validators must not see it
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
    errors = tuple(d for d in r.diagnostics if d.severity == "error")
    models = [replace(m, document_errors=errors, document_source=source or title) for m in models]
    return EndpointSchema(
        title=title,
        version=version,
        server=server,
        models=tuple(models),
        diagnostics=tuple(r.diagnostics),
        openapi=r.openapi,
        document=normalized,
        source_document=original,
        source=source,
    )


def _server(r: Reporter, servers: Any) -> str | None:
    if not isinstance(servers, list) or not servers:
        r.report(
            "servers-not-one",
            "warning",
            "/servers",
            "no servers entry: clients cannot know the endpoint's base URL",
        )
        return None
    first = servers[0]
    url = first.get("url") if isinstance(first, dict) else None
    if len(servers) != 1:
        r.report(
            "servers-not-one",
            "warning",
            "/servers",
            f"{len(servers)} servers entries; a serving endpoint has exactly one (using the first)",
        )
    if not isinstance(url, str) or not url:
        r.report("servers-not-one", "warning", "/servers/0", "the servers entry has no url")
        return None
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]").lower()
    if scheme.lower() != "https" and host not in _LOOPBACK_HOSTS:
        # Generated clients send the bearer token to this URL by default.
        r.report(
            "server-not-https",
            "warning",
            "/servers/0/url",
            f"the server URL {url!r:.80} is not https on this machine: a client would send its token unencrypted",
        )
    return url


def _models(r: Reporter, paths: Any) -> list[ServedModel]:
    if not isinstance(paths, dict) or not paths:
        r.report(
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
            r.report(
                "unknown-path",
                "warning",
                pointer,
                f"path {path!r} is not /served-models/<name>/invocations; ignored",
            )
            continue
        model = _model(r, match.group("name"), path, item, pointer)
        if model is not None:
            models.append(model)
    if not models and not any(d.code == "no-invocations" for d in r.diagnostics):
        r.report(
            "no-invocations",
            "error",
            "/paths",
            "no usable /served-models/<name>/invocations paths: this is not a serving endpoint's query schema",
        )
    return models


def _model(r: Reporter, name: str, path: str, item: Any, pointer: str) -> ServedModel | None:
    post = item.get("post") if isinstance(item, dict) else None
    if not isinstance(post, dict):
        r.report("no-post", "error", pointer, f"served model {name!r} has no POST operation")
        return None
    body = post.get("requestBody")
    body_pointer = f"{pointer}/post/requestBody"
    if not isinstance(body, dict):
        r.report("no-request-body", "error", body_pointer, f"served model {name!r} has no request body")
        return None
    content = body.get("content")
    if not isinstance(content, dict) or not content:
        r.report("no-request-body", "error", f"{body_pointer}/content", "the request body has no content")
        return None
    json_media = next((k for k in content if k.split(";")[0].strip().lower() == "application/json"), None)
    if json_media is None:
        types = ", ".join(sorted(content))
        r.report(
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
        r.report("no-request-schema", "error", schema_pointer, "the JSON request body has no schema")
        return None
    schema = normalize(r, raw_schema, schema_pointer)
    formats, request_schema = _formats(r, schema, schema_pointer)
    if not formats:
        r.report(
            "no-input-format",
            "error",
            schema_pointer,
            f"served model {name!r} accepts no input format schemakit recognizes",
        )
    cross_check(r, formats, pointer)
    response = _response(r, post.get("responses"), f"{pointer}/post/responses")
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


def _formats(r: Reporter, schema: Any, pointer: str) -> tuple[list[InputFormat], dict[str, Any]]:
    if not isinstance(schema, dict):
        return [], {}
    combinator = "oneOf" if isinstance(schema.get("oneOf"), list) else None
    if combinator is None and isinstance(schema.get("anyOf"), list):
        combinator = "anyOf"
    if combinator is None:
        keyed = _keyed_formats(r, schema, pointer)
        if keyed:
            return keyed, {"oneOf": [f.schema for f in keyed]}
        fmt = _object_format(r, schema, pointer)
        return [fmt], dict(fmt.schema)

    formats: list[InputFormat] = []
    unkeyed_ambiguous: list[str] = []
    for index, branch in enumerate(schema[combinator]):
        branch_pointer = f"{pointer}/{combinator}/{index}"
        found = _keyed_formats(r, branch, branch_pointer) if isinstance(branch, dict) else []
        if not found and isinstance(branch, dict) and _is_object_request(branch):
            # MLflow's server reads a body with a top-level messages/prompt/input as LLM input, beside
            # the dataframe formats it also takes (ChatAgent, ResponsesAgent, ChatModel).
            found = [_object_format(r, branch, branch_pointer)]
        if not found:
            r.report(
                "unknown-input-format",
                "error",
                branch_pointer,
                "this branch matches no known input format (dataframe_split, dataframe_records, instances, inputs)",
            )
            continue
        for fmt in found:
            if fmt.key is not None and fmt.key not in required_list(branch):
                unkeyed_ambiguous.append(fmt.key)
            if any(existing.kind is fmt.kind for existing in formats):
                r.report(
                    "duplicate-input-format",
                    "warning",
                    branch_pointer,
                    f"{fmt.kind.value} is described by more than one branch; the first is used",
                )
                continue
            formats.append(fmt)
    if combinator == "oneOf" and len(formats) > 1 and unkeyed_ambiguous:
        r.report(
            "oneof-ambiguous",
            "warning",
            f"{pointer}/oneOf",
            "no oneOf branch requires its own format key, so under plain JSON Schema a valid "
            f"payload matches several branches ({', '.join(unkeyed_ambiguous)}): the server picks the format "
            "by the payload's top-level key, and schemakit does the same",
        )
    return formats, {"oneOf": [f.schema for f in formats]}


def _keyed_formats(r: Reporter, branch: dict[str, Any], pointer: str) -> list[InputFormat]:
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
            "required": sorted({*(r for r in required_list(branch) if r not in others), kind.value}),
        }
        params = read_params(r, properties.get("params"), f"{pointer}/properties/params")
        value_schema = properties[kind.value]
        value_pointer = f"{pointer}/properties/{kind.value}"
        title = branch.get("title") if isinstance(branch.get("title"), str) else None
        if kind is FormatKind.DATAFRAME_SPLIT:
            columns, named = split_columns(r, value_schema, value_pointer)
            formats.append(InputFormat(kind, columns, params, None, normalized, pointer, title, named))
        elif kind is FormatKind.DATAFRAME_RECORDS:
            item = value_schema.get("items") if isinstance(value_schema, dict) else None
            columns = object_columns(r, item, f"{value_pointer}/items")
            formats.append(InputFormat(kind, columns, params, None, normalized, pointer, title))
        else:
            columns, tensor = tensor_or_columns(r, kind, value_schema, value_pointer)
            formats.append(InputFormat(kind, columns, params, tensor, normalized, pointer, title))
        check_examples(r, branch, kind, pointer)
    return formats


def _object_format(r: Reporter, schema: dict[str, Any], pointer: str) -> InputFormat:
    columns = object_columns(r, schema, pointer)
    title = schema.get("title") if isinstance(schema.get("title"), str) else None
    request = request_kind(columns)
    stream = next((c for c in columns if c.name == "stream"), None)
    streaming = stream is not None and stream.type.kind in (Kind.BOOLEAN, Kind.ANY)
    fmt = InputFormat(FormatKind.OBJECT, columns, (), None, schema, pointer, title, True, request, streaming)
    check_chat_roles(r, fmt, pointer)
    return fmt


# -- the response ---------------------------------------------------------------


def _response(r: Reporter, responses: Any, pointer: str) -> ResponseSchema | None:
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
        r.report(
            "no-response-schema",
            "warning",
            f"{pointer}/200",
            "no JSON schema for the 200 response: clients cannot know what predictions look like",
        )
        return None
    schema_pointer = f"{pointer}/200/content/application~1json/schema"
    normalized = normalize(r, schema, schema_pointer)
    body = datatype(r, normalized, schema_pointer)
    predictions = body.field("predictions")
    return ResponseSchema(body, predictions.type if predictions is not None else None, normalized)


#: The fields that make a body an object request (chat, completions, embeddings, agents).
_OBJECT_REQUEST_KEYS = frozenset(k.required_field for k in RequestKind if k.required_field is not None)


def _is_object_request(branch: Mapping[str, Any]) -> bool:
    properties = branch.get("properties")
    return isinstance(properties, dict) and bool(_OBJECT_REQUEST_KEYS & set(properties))


def fetch_reference(uri: str, referrer: str, options: LoadOptions) -> Any:
    """The JSON value behind a remote `$ref` (only with --allow-remote-refs).

    A document from the network may reference its own origin only; the caller's
    headers (a token) go only to the referrer's origin. A fragment is parsed, never
    checked to be an OpenAPI document, and cannot itself allow further remote refs.
    """
    target = kind_of(uri)
    if target.produces != "bytes":
        raise RemoteRefError(f"{display_name(uri)}: a $ref cannot name a {target.name} source")
    if not kind_of(referrer).local:
        if target.local or not same_origin(uri, referrer):
            raise RemoteRefError(
                f"{display_name(uri)}: a document fetched from {display_name(referrer)} may reference only "
                "its own origin, never a local file, a git revision or another host"
            )
    elif target.name == "stdin":
        raise RemoteRefError("a $ref cannot name standard input")
    headers = options.headers if target.name == "url" and same_origin(uri, referrer) else None
    fetch_options = LoadOptions(
        headers=headers,
        timeout=options.timeout,
        max_bytes=options.max_bytes,
        max_depth=options.max_depth,
        max_nodes=options.max_nodes,
        allow_remote_refs=False,
    )
    return parse_text(read_source_bytes(uri, fetch_options), display_name(uri), fetch_options)
