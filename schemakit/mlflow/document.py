"""The MLflow bridge: the query schema document an endpoint would serve, built from an MLflow model's signature.

An `MLmodel` file is YAML whose `signature` holds `inputs`, `outputs` and `params` as JSON *strings*.
Reading a model directory or an `MLmodel` file needs only PyYAML; `models:/` and `runs:/` URIs (and
other artifact URIs) are downloaded through MLflow when it is installed (`schemakit[mlflow]`).

The document is shaped like the ones Databricks Model Serving publishes, with differences that make it
say exactly what MLflow's scoring server accepts (listed in `docs/mlflow.md`): each `oneOf` branch requires
its own format key and has a `title`, so plain JSON Schema picks exactly one branch; `default`s have their
parameter's JSON type; float32 values carry float32's range. A signature with a `messages`, `prompt` or
`input` column (ChatAgent, ResponsesAgent, ChatModel, other LLMs) also gets the object request the server reads
as LLM input, and an unwrapped answer (`schemakit.mlflow.llm`). `tests/mlflow/test_agreement.py` and
`test_agent_agreement.py` check the result against the real scoring server.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from urllib.request import url2pathname

import yaml

from schemakit._exceptions import MlflowError, SchemakitError, TooLargeError
from schemakit.core.load import DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES, check_shape
from schemakit.mlflow.llm import AGENT_TASKS, llm_branch, llm_key, llm_response, wrapped_or_unwrapped

__all__ = [
    "PLACEHOLDER_HOST",
    "document_from_mlflow",
    "document_from_mlflow_source",
    "document_from_signature",
]

#: The `.invalid` top-level domain never resolves (RFC 2606): an obvious placeholder that no request can reach.
PLACEHOLDER_HOST = "workspace.invalid"

#: Endpoint and served-model names as Databricks allows them; they become a URL path segment.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: MLflow's `MLmodel` files are small; a multi-megabyte one is not an MLmodel file.
_MAX_MLMODEL_BYTES = 16 * 1024 * 1024
#: Input examples are a few rows; a large one would bloat every document built from the model.
_MAX_EXAMPLE_BYTES = 256 * 1024

#: The titles of the keyed (non-LLM) request branches.
_DATAFRAME_TITLES = frozenset({"dataframe_split", "dataframe_records", "instances", "inputs"})
#: Integers in a document must fit 64 bits: JSON tools (and orjson) refuse larger ones.
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1
#: numpy's largest array dimension (intp on 64-bit platforms).
_MAX_DIMENSION = 2**63 - 1
#: The range of MLflow's integer types, which a param default must fit.
_PARAM_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

#: The largest finite float32 and float16 values.
_FLOAT32_MAX = 3.4028234663852886e38
_FLOAT16_MAX = 65504.0

#: MLflow column and parameter types (`mlflow.types.DataType`) as JSON Schema.
_SCALARS: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    # float32: larger numbers reach the model as infinity, so the range is part of the type.
    "float": {"type": "number", "format": "float", "minimum": -_FLOAT32_MAX, "maximum": _FLOAT32_MAX},
    "double": {"type": "number", "format": "double"},
    "string": {"type": "string"},
    # JSON carries bytes as base64 text; the scoring server decodes it.
    "binary": {"type": "string", "format": "byte", "contentEncoding": "base64"},
    "datetime": {"type": "string", "format": "date-time"},
}

#: Tensor dtypes (numpy names) as JSON Schema. Narrow integers keep their range as bounds.
_INT_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_DTYPES: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "float16": {"type": "number", "format": "float", "minimum": -_FLOAT16_MAX, "maximum": _FLOAT16_MAX},
    "float32": {"type": "number", "format": "float", "minimum": -_FLOAT32_MAX, "maximum": _FLOAT32_MAX},
    "float64": {"type": "number", "format": "double"},
    "str": {"type": "string"},
    "bytes": {"type": "string", "format": "byte", "contentEncoding": "base64"},
    "object": {},
}


def document_from_mlflow(
    model: str | Path,
    *,
    endpoint: str | None = None,
    served_model: str | None = None,
    host: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 query schema for an MLflow model.

    `model` is a model directory, its `MLmodel` file, or (with MLflow installed) a `models:/NAME/VERSION`,
    `models:/NAME@ALIAS`, `runs:/RUN_ID/PATH` or other artifact URI. `endpoint` becomes `info.title` and
    `served_model` the path's served-model name; both default to names taken from the model. `host` is the
    workspace host in the `servers` URL (default: the placeholder `workspace.invalid`).
    Raises `MlflowError` (exit 2) when the model or its signature cannot be read.
    """
    text = str(model)
    if isinstance(model, str) and text.startswith("file:"):
        # A local file URI (as MLflow prints artifact locations) is a path: no MLflow needed.
        model = Path(url2pathname(urlsplit(text).path))
    if isinstance(model, str) and _is_uri(text):
        mlmodel, names, example = _download_mlmodel(text)
        where = f"{text} (MLmodel)"
    else:
        path = Path(model)
        mlmodel = _read_mlmodel_file(path)
        names = _names_from_path(path)
        example = _read_serving_example(mlmodel, path if path.is_dir() else path.parent)
        where = str(path / "MLmodel" if path.is_dir() else path)
    default_endpoint, default_served, version = names
    document = document_from_signature(
        _parse_mlmodel(mlmodel, where),
        where=where,
        endpoint=endpoint or default_endpoint,
        served_model=served_model or default_served,
        version=version,
        host=host,
        from_type_hints=_is_type_hint_signature(mlmodel),
        task=_task(mlmodel),
    )
    if example is not None:
        _attach_example(document, example)
    return document


def document_from_mlflow_source(spec: str) -> dict[str, Any]:
    """The document for an `mlflow:` source (the text after `mlflow:`).

    Options follow a `#`, as in a URL fragment: `./model#endpoint=ads&served-model=ads-3&host=HOST`, so a
    candidate model can be compared with the live endpoint under the same names.
    """
    target, options = _split_source_options(spec)
    if not target:
        raise MlflowError("mlflow: expected a model directory, MLmodel file or MLflow URI after 'mlflow:'")
    return document_from_mlflow(
        target,
        endpoint=options.get("endpoint"),
        served_model=options.get("served-model"),
        host=options.get("host"),
    )


def document_from_signature(
    signature: Mapping[str, Any],
    *,
    endpoint: str,
    served_model: str,
    version: str = "1",
    host: str | None = None,
    where: str = "signature",
    from_type_hints: bool = False,
    task: str | None = None,
) -> dict[str, Any]:
    """The document for a signature given as MLflow stores it: `{"inputs": "<json>", "outputs": ..., "params": ...}`.

    Values may be JSON strings (as in `MLmodel`) or already-parsed lists. `task` is the model's
    `metadata.task` (`agent/v2/chat` for a ChatAgent, `agent/v1/responses` for a ResponsesAgent, ...): with it,
    the object request says what the agent class refuses beyond the signature.
    """
    _check_name(endpoint, "endpoint")
    _check_name(served_model, "served model")
    server_host = _check_host(host or PLACEHOLDER_HOST)
    inputs = _signature_part(signature, "inputs", where)
    if inputs is None:
        raise MlflowError(f"{where}: the signature has no inputs, so there is no request to describe")
    outputs = _signature_part(signature, "outputs", where)
    params = _signature_part(signature, "params", where)
    params_schema = _params_schema(params, f"{where}: signature.params") if params else None
    branches = _request_branches(inputs, params_schema, f"{where}: signature.inputs", from_type_hints, task)
    if branches[0].get("title") in _DATAFRAME_TITLES:
        predictions = _predictions_schema(outputs, f"{where}: signature.outputs")
        answer: dict[str, Any] = {"type": "object", "properties": {"predictions": predictions}}
    else:
        unwrapped = llm_response(_output_columns(outputs, f"{where}: signature.outputs"))
        answer = wrapped_or_unwrapped(unwrapped) if len(branches) > 1 else unwrapped
    _check_integers(branches, f"{where}: the request schema")
    document = {
        "openapi": "3.1.0",
        "info": {"title": endpoint, "version": version},
        "servers": [{"url": f"https://{server_host}/serving-endpoints/{endpoint}"}],
        "paths": {
            f"/served-models/{served_model}/invocations": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"oneOf": branches}}}},
                    "responses": {
                        "200": {
                            "description": "Successful operation",
                            "content": {"application/json": {"schema": answer}},
                        }
                    },
                }
            }
        },
    }
    _check_document(document, where)
    return document


def _check_document(document: dict[str, Any], where: str) -> None:
    """Refuse, in one line, a signature no document schemakit reads back can describe; never write one.

    Deep types (a 150-level array, a 1,000-dimension tensor) pass the signature's own limit but not the
    document's: each level of the signature is one or two levels of JSON Schema inside the document's own.
    A property named `$ref` is a reference to every JSON Schema reader, schemakit's included.
    """
    try:
        check_shape(document, where, DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES)
    except TooLargeError:
        raise MlflowError(
            f"{where}: the signature's types (nested types or tensor dimensions) nest too deeply for a query schema"
            f" document, which holds at most {DEFAULT_MAX_DEPTH} levels in all"
        ) from None
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict) and "$ref" in properties:
                raise MlflowError(
                    f"{where}: a column or field is named '$ref', which every JSON Schema reader takes for a"
                    " reference; no query schema document can describe it (rename it in the model's signature)"
                )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# -- reading the model ------------------------------------------------------------------


def _is_uri(text: str) -> bool:
    # A drive letter (`C:\models`) is a path, not a scheme; MLflow's schemes are longer than one letter.
    match = _URI_SCHEME.match(text)
    return match is not None and len(match.group(0)) > 2 and not Path(text).exists()


def _read_mlmodel_file(path: Path) -> Any:
    target = path / "MLmodel" if path.is_dir() else path
    if not path.exists():
        raise MlflowError(f"{path}: no such model directory or MLmodel file")
    if path.is_dir() and not target.is_file():
        raise MlflowError(f"{path}: not an MLflow model directory (it has no MLmodel file)")
    if path.is_dir() and not _inside(path, target):
        # The user named the folder, not what a link in it points to.
        raise MlflowError(f"{target}: a link to a file outside the model folder; refusing to follow it")
    try:
        size = target.stat().st_size
        if size > _MAX_MLMODEL_BYTES:
            raise MlflowError(f"{target}: {size:,} bytes is too large for an MLmodel file")
        raw = target.read_bytes()
    except OSError as exc:
        raise MlflowError(f"{target}: cannot read ({exc.strerror or exc})") from None
    return _load_yaml(raw, str(target))


def _load_yaml(raw: bytes, where: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)  # noqa: S506 - a safe loader, chosen above
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise MlflowError(f"{where}{position}: not a valid MLmodel file: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise MlflowError(f"{where}: not a valid MLmodel file: {str(exc).splitlines()[0]}") from None
    except ValueError:
        # PyYAML builds ints with int(), which refuses more than 4,300 digits.
        raise MlflowError(f"{where}: not a valid MLmodel file: it holds an integer of more than 4,300 digits") from None


def _parse_mlmodel(mlmodel: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(mlmodel, dict):
        raise MlflowError(f"{where}: not an MLmodel file (expected a YAML mapping with flavors and a signature)")
    signature = mlmodel.get("signature")
    if signature is None:
        raise MlflowError(
            f"{where}: the model has no signature; log it with one (signature=... or input_example=...) "
            "so its query schema can be known"
        )
    if not isinstance(signature, dict):
        raise MlflowError(f"{where}: signature must be a mapping with inputs, outputs and params")
    return signature


def _is_type_hint_signature(mlmodel: Any) -> bool:
    return isinstance(mlmodel, dict) and mlmodel.get("is_signature_from_type_hint") is True


def _names_from_path(path: Path) -> tuple[str, str, str]:
    folder = path if path.is_dir() else path.parent
    name = _safe_name(folder.resolve().name)
    return name, name, "1"


def _serving_example_name(mlmodel: Any) -> str | None:
    info = mlmodel.get("saved_input_example_info") if isinstance(mlmodel, dict) else None
    name = info.get("serving_input_path") if isinstance(info, dict) else None
    # A bare file name: the MLmodel file must not point schemakit anywhere else on the disk.
    return name if isinstance(name, str) and name and Path(name).name == name else None


def _read_serving_example(mlmodel: Any, folder: Path) -> Any:
    """The payload MLflow saved beside the model when it was logged with an input example, if any."""
    name = _serving_example_name(mlmodel)
    if name is None:
        return None
    target = folder / name
    try:
        if not target.is_file() or not _inside(folder, target) or target.stat().st_size > _MAX_EXAMPLE_BYTES:
            return None
        # MLflow writes missing values as NaN, which strict JSON parsers refuse; Python's reads it.
        example = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None  # the example is a courtesy: a bad one must not stop the document
    if not isinstance(example, dict):
        return None
    try:
        _check_integers(example, str(target))
    except MlflowError:
        return None
    return _without_nan(example)


def _inside(folder: Path, target: Path) -> bool:
    """Whether `target`, links followed, is in `folder`: a model folder's files must not lead elsewhere."""
    try:
        return target.resolve(strict=True).is_relative_to(folder.resolve(strict=True))
    except (OSError, RuntimeError):  # a dangling or looping link
        return False


def _without_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    return value


def _attach_example(document: dict[str, Any], example: dict[str, Any]) -> None:
    for item in document["paths"].values():
        branches = item["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
        for branch in branches:
            if branch["required"][0] in example:
                branch["examples"] = [example]


def _download_mlmodel(uri: str) -> tuple[Any, tuple[str, str, str], Any]:
    try:
        import mlflow.artifacts
    except ImportError:
        raise MlflowError(
            f"{uri}: reading MLflow URIs needs MLflow; install it with: pip install 'schemakit[mlflow]' "
            "(a model directory or MLmodel file needs no MLflow)"
        ) from None
    base = uri.rstrip("/")
    guard = _LocalArtifactGuard(uri) if _remote_store(mlflow) else contextlib.nullcontext()
    with tempfile.TemporaryDirectory(prefix="schemakit-mlflow-") as tmp, guard:
        try:
            # Only the MLmodel file: the model's weights can be gigabytes and are not needed here.
            local = mlflow.artifacts.download_artifacts(artifact_uri=f"{base}/MLmodel", dst_path=tmp)
        except Exception as exc:  # MLflow raises many types (MlflowException, OSError, requests errors)
            first_error = exc
            try:
                # Some URIs (logged models, `models:/m-<id>`) take no sub-path: fetch the whole model.
                local = mlflow.artifacts.download_artifacts(artifact_uri=base, dst_path=tmp)
            except Exception:
                if isinstance(guard, _LocalArtifactGuard) and guard.refused is not None:
                    raise MlflowError(guard.message()) from None
                raise MlflowError(f"{uri}: cannot resolve through MLflow: {_first_line(first_error)}") from None
        mlmodel = _read_mlmodel_file(Path(local))
        folder = Path(local) if Path(local).is_dir() else Path(local).parent
        example_name = _serving_example_name(mlmodel)
        if example_name is not None and not (folder / example_name).exists():
            with contextlib.suppress(Exception):  # the example is optional; MLflow's errors vary
                mlflow.artifacts.download_artifacts(artifact_uri=f"{base}/{example_name}", dst_path=str(folder))
        example = _read_serving_example(mlmodel, folder)
    return mlmodel, _names_from_uri(base), example


#: Tracking and registry URIs that are the user's own files: artifacts they place on this machine are the user's.
_LOCAL_STORE_SCHEMES = frozenset({"", "file", "sqlite"})


def _remote_store(mlflow: Any) -> bool:
    """Whether the tracking or model registry store is a server (or a database) rather than local files."""
    uris = [mlflow.get_tracking_uri()]
    with contextlib.suppress(Exception):  # older MLflow versions have no separate registry URI
        uris.append(mlflow.get_registry_uri())
    for found in uris:
        scheme = _URI_SCHEME.match(str(found or ""))
        name = scheme.group(0)[:-1].lower() if scheme is not None and len(scheme.group(0)) > 2 else ""
        if name not in _LOCAL_STORE_SCHEMES:
            return True
    return False


class _LocalArtifactGuard:
    """While MLflow resolves a URI through a remote store, refuse every local artifact location it is given.

    A tracking server answers where a model's artifacts live; one that answers `file:///home/...` (or a
    DBFS or volume path MLflow maps onto the local disk) would make schemakit copy local folders the user
    never named. Every such location goes through MLflow's `LocalArtifactRepository`, so its constructor
    is where the refusal sits. One guard at a time (a lock): the class is shared by the process.
    """

    _lock = threading.Lock()

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.refused: str | None = None
        self._original: Any = None

    def message(self) -> str:
        return (
            f"{self.uri}: the tracking server names a local artifact location ({text_preview(self.refused or '')});"
            " refusing to read local files a remote server points at (download the model and pass its folder)"
        )

    def __enter__(self) -> _LocalArtifactGuard:
        from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

        self._lock.acquire()
        self._original = LocalArtifactRepository.__init__
        guard = self

        def refuse(repo: Any, artifact_uri: str, *args: Any, **kwargs: Any) -> None:
            guard.refused = str(artifact_uri)
            raise MlflowError(guard.message())

        LocalArtifactRepository.__init__ = refuse  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

        LocalArtifactRepository.__init__ = self._original  # type: ignore[method-assign]
        self._lock.release()


def text_preview(value: str) -> str:
    # A location named by a server: shown short and repr-quoted, so no control character reaches a terminal.
    return repr(value[:120])


def _names_from_uri(uri: str) -> tuple[str, str, str]:
    scheme, _, rest = uri.partition(":")
    parts = [p for p in rest.split("/") if p]
    if scheme == "models" and parts:
        name, _, alias = parts[0].partition("@")
        if alias:
            return _safe_name(name), _safe_name(f"{name}-{alias}"), "1"
        if len(parts) == 1:  # a logged model id (`models:/m-<id>`)
            return _safe_name(name), _safe_name(name), "1"
        version = parts[1]
        return _safe_name(name), _safe_name(f"{name}-{version}"), version if version.isdigit() else "1"
    last = _safe_name(parts[-1]) if parts else "model"
    return last, last, "1"


def _safe_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-._")[:63]
    return cleaned or "model"


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise SchemakitError(
            f"invalid {what} name {name!r}: use letters, digits, '-', '_' and '.', starting with a letter or "
            "digit, at most 63 characters"
        )


def _check_host(host: str) -> str:
    bare = host.removeprefix("https://").rstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", bare):
        raise SchemakitError(
            f"invalid workspace host {host!r}: expected a host name such as adb-123.azuredatabricks.net"
        )
    return bare


def _split_source_options(spec: str) -> tuple[str, dict[str, str]]:
    target, sep, fragment = spec.partition("#")
    if not sep or Path(spec).exists():
        return spec, {}
    options: dict[str, str] = {}
    for key, value in parse_qsl(fragment, keep_blank_values=True):
        if key not in ("endpoint", "served-model", "host"):
            raise MlflowError(f"mlflow:{spec}: unknown option {key!r} (known: endpoint, served-model, host)")
        options[key] = value
    return target, options


def _signature_part(signature: Mapping[str, Any], key: str, where: str) -> list[Any] | None:
    value = signature.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise MlflowError(
                f"{where}: signature.{key} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        except ValueError:  # int() refuses more than 4,300 digits
            raise MlflowError(f"{where}: signature.{key} holds an integer of more than 4,300 digits") from None
        except RecursionError:
            raise MlflowError(f"{where}: signature.{key} is nested too deeply") from None
        if value is None:
            return None
    if not isinstance(value, list):
        raise MlflowError(f"{where}: signature.{key} must be a JSON list of column or tensor specs")
    try:
        # Before any walk that recurses: a signature deeper than a document may be cannot make one anyway.
        check_shape(value, f"{where}: signature.{key}", DEFAULT_MAX_DEPTH, DEFAULT_MAX_NODES)
    except TooLargeError as exc:
        raise MlflowError(f"{exc.message}; a query schema document holds at most {DEFAULT_MAX_DEPTH} levels") from None
    return value


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__


# -- types ------------------------------------------------------------------------------


def _type_schema(spec: Any, where: str, *, nullable_optional: bool = True) -> dict[str, Any]:
    """JSON Schema for an MLflow type spec: `{"type": "long"}`, `{"type": "array", "items": ...}`, ...

    `nullable_optional`: whether an optional object property admits `null` (the dataframe path lets it
    through; the agent classes build pydantic objects and may refuse it).
    """
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict):
        raise MlflowError(f"{where}: expected a type spec object, got {json.dumps(spec)[:60]}")
    kind = spec.get("type")
    if isinstance(kind, str) and kind in _SCALARS:
        return dict(_SCALARS[kind])
    if kind == "array":
        if "items" not in spec:
            raise MlflowError(f"{where}: an array type needs 'items'")
        items = _type_schema(spec["items"], f"{where}.items", nullable_optional=nullable_optional)
        return {"type": "array", "items": items}
    if kind == "object":
        properties = spec.get("properties")
        if not isinstance(properties, dict) or not properties:
            raise MlflowError(f"{where}: an object type needs 'properties'")
        return _object_schema(properties, f"{where}.properties", nullable_optional=nullable_optional)
    if kind == "map":
        if "values" not in spec:
            raise MlflowError(f"{where}: a map type needs 'values'")
        values = _type_schema(spec["values"], f"{where}.values", nullable_optional=nullable_optional)
        return {"type": "object", "additionalProperties": values}
    if kind == "any":
        return {"description": "any value (MLflow AnyType)"}
    if kind == "tensor":
        raise MlflowError(f"{where}: a tensor spec cannot be mixed with column specs")
    raise MlflowError(f"{where}: unknown MLflow type {json.dumps(kind)[:60]}")


def _object_schema(properties: Mapping[str, Any], where: str, *, nullable_optional: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": {}}
    required: list[str] = []
    for name, spec in properties.items():
        prop_where = f"{where}.{name}"
        schema = _type_schema(spec, prop_where, nullable_optional=nullable_optional)
        if _is_required(spec, prop_where):
            required.append(str(name))
        elif nullable_optional:
            schema = _nullable(schema)
        out["properties"][str(name)] = schema
    if required:
        out["required"] = required
    # The server's Object type refuses properties the signature does not define.
    out["additionalProperties"] = False
    return out


def _is_required(spec: Any, where: str) -> bool:
    if not isinstance(spec, dict):
        return True
    if "required" in spec:
        value = spec["required"]
    elif "optional" in spec:  # MLflow 2.x wrote `optional` before it became `required`
        value = not spec["optional"] if isinstance(spec["optional"], bool) else spec["optional"]
    else:
        return True
    if not isinstance(value, bool):
        raise MlflowError(f"{where}.required: expected true or false, got {json.dumps(value)[:60]}")
    return value


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind is None:
        return schema  # any value already admits null
    out = dict(schema)
    out["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
    return out


def _dtype_schema(dtype: Any, where: str) -> dict[str, Any]:
    if not isinstance(dtype, str):
        raise MlflowError(f"{where}: tensor dtype must be a numpy type name such as float32")
    name = dtype.strip().lower()
    name = {"bool_": "bool", "str_": "str", "bytes_": "bytes", "object_": "object", "double": "float64"}.get(name, name)
    if name in _DTYPES:
        return dict(_DTYPES[name])
    if name in _INT_RANGES:
        low, high = _INT_RANGES[name]
        return {"type": "integer", "format": "int64" if high > 2**31 else "int32", "minimum": low, "maximum": high}
    raise MlflowError(f"{where}: unsupported tensor dtype {dtype!r}")


def _tensor_schema(element: dict[str, Any], shape: Sequence[int]) -> dict[str, Any]:
    """Nested arrays for a shape; a fixed dimension gets minItems = maxItems, -1 any size."""
    schema = element
    for dim in reversed(shape):
        level: dict[str, Any] = {"type": "array", "items": schema}
        if dim >= 0:
            level["minItems"] = dim
            level["maxItems"] = dim
        schema = level
    return schema


def _tensor_spec(spec: Mapping[str, Any], where: str) -> tuple[dict[str, Any], list[int]]:
    tensor = spec.get("tensor-spec")
    if not isinstance(tensor, dict):
        raise MlflowError(f"{where}: a tensor spec needs 'tensor-spec' with dtype and shape")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        raise MlflowError(f"{where}.tensor-spec.shape: expected a list of integers (-1 for any size)")
    if not shape:
        raise MlflowError(f"{where}.tensor-spec.shape: a tensor input needs at least one dimension")
    for index, dim in enumerate(shape):
        if not -1 <= dim <= _MAX_DIMENSION:
            raise MlflowError(
                f"{where}.tensor-spec.shape[{index}]: {_short_int(dim)} is not a dimension (-1 for any size, "
                f"else 0 to {_MAX_DIMENSION})"
            )
    return _dtype_schema(tensor.get("dtype"), f"{where}.tensor-spec.dtype"), shape


# -- the request ------------------------------------------------------------------------


def _request_branches(
    inputs: list[Any], params: dict[str, Any] | None, where: str, from_type_hints: bool, task: str | None = None
) -> list[dict[str, Any]]:
    if not inputs:
        raise MlflowError(f"{where}: the signature lists no inputs")
    for index, spec in enumerate(inputs):
        if not isinstance(spec, dict):
            raise MlflowError(f"{where}[{index}]: expected a column or tensor spec object")
    tensors = [spec.get("type") == "tensor" for spec in inputs]
    if any(tensors) and not all(tensors):
        raise MlflowError(f"{where}: mixes tensor specs and column specs, which MLflow does not allow")
    if all(tensors):
        return _tensor_branches(inputs, params, where)
    if from_type_hints:
        # A signature inferred from type hints: the server passes `inputs` to the model as it came.
        return [_branch("inputs", _type_hint_inputs(inputs, where), params, "inputs")]
    branches = _column_branches(inputs, params, where)
    key = llm_key([spec["name"] for spec in inputs if isinstance(spec.get("name"), str)])
    if key is None:
        return branches
    columns = [
        (
            spec["name"],
            _type_schema(spec, f"{where}[{index}]", nullable_optional=False),
            _is_required(spec, f"{where}[{index}]"),
        )
        for index, spec in enumerate(inputs)
    ]
    for branch in branches:
        if task in AGENT_TASKS:
            # MLflow's agent wrappers read the first row only (an agent answers one request): later rows are
            # dropped unseen.
            value = branch["properties"][branch["title"]]
            rows = value["properties"]["data"] if branch["title"] == "dataframe_split" else value
            rows["maxItems"] = 1
        # A body that also has an LLM key is read as LLM input and this format's key dropped: refuse the mix.
        branch["additionalProperties"] = False
    return [llm_branch(key, columns, params, task), *branches]


def _column_branches(inputs: list[Any], params: dict[str, Any] | None, where: str) -> list[dict[str, Any]]:
    names: list[str] = []
    types: list[dict[str, Any]] = []
    required: list[str] = []
    for index, spec in enumerate(inputs):
        column_where = f"{where}[{index}]"
        name = spec.get("name")
        schema = _type_schema(spec, column_where)
        is_required = _is_required(spec, column_where)
        if name is None:
            names.append(str(index))
        elif isinstance(name, str) and name:
            if name in names:
                raise MlflowError(f"{column_where}.name: column {name!r} is listed twice")
            names.append(name)
        else:
            raise MlflowError(f"{column_where}.name: expected a column name, got {json.dumps(name)[:60]}")
        if is_required:
            required.append(names[-1])
        else:
            schema = _nullable(schema)
        types.append(schema)
    unnamed = all(spec.get("name") is None for spec in inputs)
    columns_schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "enum": names}}
    if required:
        columns_schema = {"description": f"required fields: {', '.join(required)}", **columns_schema}
    split_properties: dict[str, Any] = {
        "columns": columns_schema,
        "data": {"type": "array", "items": {"type": "array", "prefixItems": types}},
        # Row labels: the server accepts them and the model never sees them.
        "index": {"type": "array"},
    }
    split_required = ["columns", "data"]
    split_description: dict[str, str] = {}
    if unnamed:
        # Unnamed columns are positional: the payload sends rows only.
        del split_properties["columns"]
        split_required = ["data"]
        if required:
            split_description = {"description": f"required fields: {', '.join(required)}"}
    split = {
        **split_description,
        "type": "object",
        "properties": split_properties,
        "required": split_required,
        "additionalProperties": False,
    }
    branches = [_branch("dataframe_split", split, params, "dataframe_split")]
    if not unnamed:
        record: dict[str, Any] = {"type": "object", "properties": dict(zip(names, types, strict=True))}
        rows: dict[str, Any] = {"type": "array", "items": record}
        if required:
            record = {"required": required, **record}
            # No rows means no columns at all, and the server answers "Model is missing inputs".
            rows = {"type": "array", "items": record, "minItems": 1}
        branches.append(_branch("dataframe_records", rows, params, "dataframe_records"))
    return branches


def _tensor_branches(inputs: list[Any], params: dict[str, Any] | None, where: str) -> list[dict[str, Any]]:
    specs = [(spec.get("name"), *_tensor_spec(spec, f"{where}[{i}]")) for i, spec in enumerate(inputs)]
    if len(specs) == 1 and specs[0][0] is None:
        _, element, shape = specs[0]
        full = {**_tensor_schema(element, shape), "x-shape": shape}
        return [
            _branch("instances", full, params, "instances"),
            _branch("inputs", dict(full), params, "inputs"),
        ]
    names: list[str] = []
    for index, (name, _, _) in enumerate(specs):
        if not isinstance(name, str) or not name:
            raise MlflowError(f"{where}[{index}].name: with several tensors, every tensor needs a name")
        if name in names:
            raise MlflowError(f"{where}[{index}].name: tensor {name!r} is listed twice")
        names.append(name)
    # `instances` is row-wise (one object per example, without the batch dimension); `inputs` is columnar.
    row_properties = {
        name: {**_tensor_schema(element, shape[1:]), "x-shape": shape[1:]} if len(shape) > 1 else dict(element)
        for name, element, shape in specs
    }
    column_properties = {name: {**_tensor_schema(element, shape), "x-shape": shape} for name, element, shape in specs}
    instances = {
        "type": "array",
        "items": {"type": "object", "properties": row_properties, "required": names},
    }
    columnar = {"type": "object", "properties": column_properties, "required": names}
    return [_branch("instances", instances, params, "instances"), _branch("inputs", columnar, params, "inputs")]


def _type_hint_inputs(inputs: list[Any], where: str) -> dict[str, Any]:
    return _rows_of_columns(inputs, where)


def _rows_of_columns(specs: list[Any], where: str) -> dict[str, Any]:
    """An array of rows from column specs: one unnamed column is the row itself, else an object per row."""
    if len(specs) == 1 and specs[0].get("name") is None:
        return {"type": "array", "items": _type_schema(specs[0], f"{where}[0]")}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, spec in enumerate(specs):
        name = str(spec.get("name", index))
        schema = _type_schema(spec, f"{where}[{index}]")
        if _is_required(spec, f"{where}[{index}]"):
            required.append(name)
        else:
            schema = _nullable(schema)
        properties[name] = schema
    row: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        row["required"] = required
    return {"type": "array", "items": row}


def _branch(key: str, value: dict[str, Any], params: dict[str, Any] | None, title: str) -> dict[str, Any]:
    properties: dict[str, Any] = {key: value}
    if params is not None:
        properties["params"] = params
    return {"title": title, "type": "object", "required": [key], "properties": properties}


def _params_schema(params: list[Any], where: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for index, spec in enumerate(params):
        param_where = f"{where}[{index}]"
        if not isinstance(spec, dict):
            raise MlflowError(f"{param_where}: expected a param spec object with name, type and default")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise MlflowError(f"{param_where}.name: expected a parameter name")
        if name in properties:
            raise MlflowError(f"{param_where}.name: parameter {name!r} is listed twice")
        schema = _type_schema(spec, f"{where}.{name}")
        shape = spec.get("shape")
        if shape is not None:
            if shape != [-1] and shape != (-1,):
                raise MlflowError(f"{where}.{name}.shape: MLflow params are scalars or lists (shape [-1]), got {shape}")
            schema = {"type": "array", "items": schema}
        default = spec.get("default")
        if default is not None:
            schema["default"] = _param_default(default, schema, f"{where}.{name}.default")
            _check_integers(
                schema["default"], f"{where}.{name}.default", _PARAM_INT_RANGES.get(str(schema.get("format")))
            )
        properties[name] = schema
    return {"type": "object", "properties": properties}


def _param_default(default: Any, schema: Mapping[str, Any], where: str) -> Any:
    """The default with its parameter's JSON type (MLflow writes them that way; older files may hold text)."""
    kind = schema.get("type")
    if kind == "array":
        if not isinstance(default, list):
            raise MlflowError(f"{where}: a list parameter needs a list default, got {json.dumps(default)[:60]}")
        return [_param_default(item, schema["items"], f"{where}[{i}]") for i, item in enumerate(default)]
    if kind == "integer" and isinstance(default, float) and default.is_integer():
        return int(default)
    if isinstance(default, float) and not math.isfinite(default):
        raise MlflowError(f"{where}: {default} is not a finite number, which JSON cannot carry")
    if kind == "number" and isinstance(default, int) and not isinstance(default, bool) and abs(default) > 2**53:
        if default.bit_length() > 1023:
            raise MlflowError(f"{where}: the integer {_short_int(default)} is beyond any double")
        return float(default)  # as MLflow reads it; an integer this large fits no JSON tool's int
    if kind == "number" and isinstance(default, str):
        try:
            number = float(default)
        except ValueError:
            raise MlflowError(f"{where}: {default[:60]!r} is not a number") from None
        if not math.isfinite(number):
            raise MlflowError(f"{where}: {default[:60]!r} is not a finite number, which JSON cannot carry")
        return number
    if kind == "integer" and isinstance(default, str) and re.fullmatch(r"[+-]?\d{1,4300}", default.strip()):
        return int(default)
    if kind == "boolean" and isinstance(default, str) and default.lower() in ("true", "false"):
        return default.lower() == "true"
    expected: dict[str, type | tuple[type, ...]] = {
        "boolean": bool,
        "integer": int,
        "number": (int, float),
        "string": str,
        "object": dict,
    }
    wanted = expected.get(str(kind))
    if wanted is not None and (not isinstance(default, wanted) or (kind != "boolean" and isinstance(default, bool))):
        raise MlflowError(f"{where}: default {json.dumps(default)[:60]} does not fit type {kind}")
    return default


# -- the response -----------------------------------------------------------------------


def _predictions_schema(outputs: list[Any] | None, where: str) -> dict[str, Any]:
    if not outputs:
        return {"description": "the signature has no outputs; any value"}
    for index, spec in enumerate(outputs):
        if not isinstance(spec, dict):
            raise MlflowError(f"{where}[{index}]: expected a column or tensor spec object")
    if all(spec.get("type") == "tensor" for spec in outputs):
        specs = [(spec.get("name"), *_tensor_spec(spec, f"{where}[{i}]")) for i, spec in enumerate(outputs)]
        if len(specs) == 1 and specs[0][0] is None:
            return _tensor_schema(specs[0][1], specs[0][2])
        return {
            "type": "object",
            "properties": {str(name): _tensor_schema(element, shape) for name, element, shape in specs},
        }
    if any(spec.get("type") == "tensor" for spec in outputs):
        raise MlflowError(f"{where}: mixes tensor specs and column specs, which MLflow does not allow")
    return _rows_of_columns(outputs, where)


def _output_columns(outputs: list[Any] | None, where: str) -> list[tuple[str | None, dict[str, Any], bool]] | None:
    if not outputs:
        return None
    columns: list[tuple[str | None, dict[str, Any], bool]] = []
    for index, spec in enumerate(outputs):
        if not isinstance(spec, dict) or spec.get("type") == "tensor":
            raise MlflowError(f"{where}[{index}]: an agent or LLM signature's outputs are column specs")
        name = spec.get("name")
        columns.append(
            (
                name if isinstance(name, str) else None,
                _type_schema(spec, f"{where}[{index}]"),
                _is_required(spec, f"{where}[{index}]"),
            )
        )
    return columns


def _task(mlmodel: Any) -> str | None:
    metadata = mlmodel.get("metadata") if isinstance(mlmodel, dict) else None
    task = metadata.get("task") if isinstance(metadata, dict) else None
    return task if isinstance(task, str) else None


def _check_integers(value: Any, where: str, bounds: tuple[int, int] | None = None) -> None:
    """Refuse integers no JSON tool can carry (beyond 64 bits, or `bounds`), naming where, before they are written."""
    low, high = bounds or (_INT_MIN, _INT_MAX)
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool) and not low <= item <= high:
            fits = "64 bits" if bounds is None else f"{low} to {high}"
            raise MlflowError(f"{path}: the integer {_short_int(item)} does not fit {fits}")
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))


def _short_int(value: int) -> str:
    if value.bit_length() <= 96:
        return str(value)
    if value.bit_length() <= 14_000:  # str() refuses integers of more than 4,300 digits
        return f"of {len(str(abs(value))):,} digits"
    return f"of about {value.bit_length() * 0.30103:,.0f} digits"


def read_mlflow_source(source: str, options: Any = None) -> dict[str, Any]:
    """The `mlflow:` entry of the core's source table (`schemakit.core.sources`)."""
    return document_from_mlflow_source(source.removeprefix("mlflow:"))
