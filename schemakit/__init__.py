"""schemakit: the query schemas of model serving endpoints, made useful.

Load and check a document, resolve it into one typed model, and build on that
model: payload validation, code generation, diffing, a local emulator and the
MLflow bridge.

    >>> import schemakit
    >>> schema = schemakit.load("samples/docs-example-dataframe.json")
    >>> [c.name for c in schema.models[0].format("dataframe_split").columns]
    ['int_col', 'float_col', 'string_col']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from schemakit._version import __version__ as __version__

#: THE list of the public API: each name, and where it lives. `__all__` is derived from it, the
#: names are imported on first use (so `import schemakit` stays fast and a command loads only the
#: feature it runs), and tests/test_api.py checks the typing block below and the list in
#: docs/core.md against it. To add a public name, add it here (and to the typing block).
_LAZY: dict[str, tuple[str, str]] = {
    "AuthenticationError": ("schemakit._exceptions", "AuthenticationError"),
    "CODEGEN_MODEL_TYPES": ("schemakit.codegen.generate", "MODEL_TYPES"),
    "CodegenError": ("schemakit._exceptions", "CodegenError"),
    "CodegenResult": ("schemakit.codegen.generate", "CodegenResult"),
    "Column": ("schemakit.core.model", "Column"),
    "CredentialsError": ("schemakit._exceptions", "CredentialsError"),
    "DIFF_RULES": ("schemakit.diff", "RULES"),
    "DataType": ("schemakit.core.model", "DataType"),
    "Diagnostic": ("schemakit.core.model", "Diagnostic"),
    "DiffReport": ("schemakit.diff", "DiffReport"),
    "DocumentReport": ("schemakit.core.validate", "DocumentReport"),
    "EndpointNotFoundError": ("schemakit._exceptions", "EndpointNotFoundError"),
    "EndpointNotReadyError": ("schemakit._exceptions", "EndpointNotReadyError"),
    "EndpointReport": ("schemakit.check.validator", "EndpointReport"),
    "EndpointSchema": ("schemakit.core.model", "EndpointSchema"),
    "EndpointStatus": ("schemakit.workspace.client", "EndpointStatus"),
    "EndpointValidator": ("schemakit.check.validator", "EndpointValidator"),
    "Finding": ("schemakit.diff", "Finding"),
    "FindingLocation": ("schemakit.diff", "FindingLocation"),
    "FormatKind": ("schemakit.core.model", "FormatKind"),
    "GeneratedFile": ("schemakit.codegen.generate", "GeneratedFile"),
    "GeneratedPackage": ("schemakit.codegen.generate", "GeneratedPackage"),
    "IgnoreEntry": ("schemakit.diff", "IgnoreEntry"),
    "IgnoredFinding": ("schemakit.diff", "IgnoredFinding"),
    "InputFormat": ("schemakit.core.model", "InputFormat"),
    "InvalidDocumentError": ("schemakit._exceptions", "InvalidDocumentError"),
    "InvalidPayloadError": ("schemakit._exceptions", "InvalidPayloadError"),
    "Kind": ("schemakit.core.model", "Kind"),
    "LoadOptions": ("schemakit.core.load", "LoadOptions"),
    "MlflowError": ("schemakit._exceptions", "MlflowError"),
    "MockServer": ("schemakit.mock.server", "MockServer"),
    "NotOpenAPIError": ("schemakit._exceptions", "NotOpenAPIError"),
    "NotServingSchemaError": ("schemakit._exceptions", "NotServingSchemaError"),
    "OutputError": ("schemakit._exceptions", "OutputError"),
    "Param": ("schemakit.core.model", "Param"),
    "ParseError": ("schemakit._exceptions", "ParseError"),
    "PayloadReport": ("schemakit.runtime.engine", "PayloadReport"),
    "PayloadValidationASGIMiddleware": ("schemakit.check.middleware", "PayloadValidationASGIMiddleware"),
    "PayloadValidationWSGIMiddleware": ("schemakit.check.middleware", "PayloadValidationWSGIMiddleware"),
    "PayloadValidator": ("schemakit.check.validator", "PayloadValidator"),
    "PermissionDeniedError": ("schemakit._exceptions", "PermissionDeniedError"),
    "Permissions": ("schemakit.workspace.client", "Permissions"),
    "Problem": ("schemakit.runtime.engine", "Problem"),
    "RateLimitedError": ("schemakit._exceptions", "RateLimitedError"),
    "RefError": ("schemakit._exceptions", "RefError"),
    "RemoteFetchError": ("schemakit._exceptions", "RemoteFetchError"),
    "RemoteRefError": ("schemakit._exceptions", "RemoteRefError"),
    "ResponseSchema": ("schemakit.core.model", "ResponseSchema"),
    "RetryPolicy": ("schemakit.workspace.client", "RetryPolicy"),
    "SERVING_RULES": ("schemakit.check.validator", "SERVING_RULES"),
    "SchemaUnavailableError": ("schemakit._exceptions", "SchemaUnavailableError"),
    "SchemakitError": ("schemakit._exceptions", "SchemakitError"),
    "ServedEntity": ("schemakit.workspace.client", "ServedEntity"),
    "ServedModel": ("schemakit.core.model", "ServedModel"),
    "SourceError": ("schemakit._exceptions", "SourceError"),
    "SourceNotFound": ("schemakit._exceptions", "SourceNotFound"),
    "TooLargeError": ("schemakit._exceptions", "TooLargeError"),
    "TrafficRoute": ("schemakit.workspace.client", "TrafficRoute"),
    "TransportError": ("schemakit._exceptions", "TransportError"),
    "UnknownModelError": ("schemakit._exceptions", "UnknownModelError"),
    "UnsupportedVersionError": ("schemakit._exceptions", "UnsupportedVersionError"),
    "Workspace": ("schemakit.workspace.client", "Workspace"),
    "WorkspaceError": ("schemakit._exceptions", "WorkspaceError"),
    "apply_ignores": ("schemakit.diff", "apply_ignores"),
    "check_payload": ("schemakit.check.validator", "check_payload"),
    "compile_endpoint_validator": ("schemakit.check.validator", "compile_endpoint_validator"),
    "compile_validator": ("schemakit.check.validator", "compile_validator"),
    "describe": ("schemakit.core.inspect", "describe"),
    "diff_schemas": ("schemakit.diff", "diff_schemas"),
    "document_from_mlflow": ("schemakit.mlflow.document", "document_from_mlflow"),
    "document_from_mlflow_source": ("schemakit.mlflow.document", "document_from_mlflow_source"),
    "document_from_signature": ("schemakit.mlflow.document", "document_from_signature"),
    "generate_package": ("schemakit.codegen.generate", "generate_package"),
    "load": ("schemakit.core.resolve", "load"),
    "load_document": ("schemakit.core.load", "load_document"),
    "load_ignore_file": ("schemakit.diff", "load_ignore_file"),
    "render_diff": ("schemakit.diff", "render_diff"),
    "resolve": ("schemakit.core.resolve", "resolve"),
    "validate_document": ("schemakit.core.validate", "validate_document"),
    "validates_payload": ("schemakit.check.validator", "validates_payload"),
    "write_package": ("schemakit.codegen.generate", "write_package"),
}

__all__ = sorted([*_LAZY, "__version__"])

if TYPE_CHECKING:
    # For type checkers only: the same names, in the explicit re-export form (`import X as X`).
    from schemakit._exceptions import AuthenticationError as AuthenticationError
    from schemakit._exceptions import CodegenError as CodegenError
    from schemakit._exceptions import CredentialsError as CredentialsError
    from schemakit._exceptions import EndpointNotFoundError as EndpointNotFoundError
    from schemakit._exceptions import EndpointNotReadyError as EndpointNotReadyError
    from schemakit._exceptions import InvalidDocumentError as InvalidDocumentError
    from schemakit._exceptions import InvalidPayloadError as InvalidPayloadError
    from schemakit._exceptions import MlflowError as MlflowError
    from schemakit._exceptions import NotOpenAPIError as NotOpenAPIError
    from schemakit._exceptions import NotServingSchemaError as NotServingSchemaError
    from schemakit._exceptions import OutputError as OutputError
    from schemakit._exceptions import ParseError as ParseError
    from schemakit._exceptions import PermissionDeniedError as PermissionDeniedError
    from schemakit._exceptions import RateLimitedError as RateLimitedError
    from schemakit._exceptions import RefError as RefError
    from schemakit._exceptions import RemoteFetchError as RemoteFetchError
    from schemakit._exceptions import RemoteRefError as RemoteRefError
    from schemakit._exceptions import SchemakitError as SchemakitError
    from schemakit._exceptions import SchemaUnavailableError as SchemaUnavailableError
    from schemakit._exceptions import SourceError as SourceError
    from schemakit._exceptions import SourceNotFound as SourceNotFound
    from schemakit._exceptions import TooLargeError as TooLargeError
    from schemakit._exceptions import TransportError as TransportError
    from schemakit._exceptions import UnknownModelError as UnknownModelError
    from schemakit._exceptions import UnsupportedVersionError as UnsupportedVersionError
    from schemakit._exceptions import WorkspaceError as WorkspaceError
    from schemakit.check.middleware import PayloadValidationASGIMiddleware as PayloadValidationASGIMiddleware
    from schemakit.check.middleware import PayloadValidationWSGIMiddleware as PayloadValidationWSGIMiddleware
    from schemakit.check.validator import SERVING_RULES as SERVING_RULES
    from schemakit.check.validator import EndpointReport as EndpointReport
    from schemakit.check.validator import EndpointValidator as EndpointValidator
    from schemakit.check.validator import PayloadValidator as PayloadValidator
    from schemakit.check.validator import check_payload as check_payload
    from schemakit.check.validator import compile_endpoint_validator as compile_endpoint_validator
    from schemakit.check.validator import compile_validator as compile_validator
    from schemakit.check.validator import validates_payload as validates_payload
    from schemakit.codegen.generate import MODEL_TYPES as _CODEGEN_MODEL_TYPES
    from schemakit.codegen.generate import CodegenResult as CodegenResult
    from schemakit.codegen.generate import GeneratedFile as GeneratedFile
    from schemakit.codegen.generate import GeneratedPackage as GeneratedPackage
    from schemakit.codegen.generate import generate_package as generate_package
    from schemakit.codegen.generate import write_package as write_package
    from schemakit.core.inspect import describe as describe
    from schemakit.core.load import LoadOptions as LoadOptions
    from schemakit.core.load import load_document as load_document
    from schemakit.core.model import Column as Column
    from schemakit.core.model import DataType as DataType
    from schemakit.core.model import Diagnostic as Diagnostic
    from schemakit.core.model import EndpointSchema as EndpointSchema
    from schemakit.core.model import FormatKind as FormatKind
    from schemakit.core.model import InputFormat as InputFormat
    from schemakit.core.model import Kind as Kind
    from schemakit.core.model import Param as Param
    from schemakit.core.model import ResponseSchema as ResponseSchema
    from schemakit.core.model import ServedModel as ServedModel
    from schemakit.core.resolve import load as load
    from schemakit.core.resolve import resolve as resolve
    from schemakit.core.validate import DocumentReport as DocumentReport
    from schemakit.core.validate import validate_document as validate_document
    from schemakit.diff import RULES as _DIFF_RULES
    from schemakit.diff import DiffReport as DiffReport
    from schemakit.diff import Finding as Finding
    from schemakit.diff import FindingLocation as FindingLocation
    from schemakit.diff import IgnoredFinding as IgnoredFinding
    from schemakit.diff import IgnoreEntry as IgnoreEntry
    from schemakit.diff import apply_ignores as apply_ignores
    from schemakit.diff import diff_schemas as diff_schemas
    from schemakit.diff import load_ignore_file as load_ignore_file
    from schemakit.diff import render_diff as render_diff
    from schemakit.mlflow.document import document_from_mlflow as document_from_mlflow
    from schemakit.mlflow.document import document_from_mlflow_source as document_from_mlflow_source
    from schemakit.mlflow.document import document_from_signature as document_from_signature
    from schemakit.mock.server import MockServer as MockServer
    from schemakit.runtime.engine import PayloadReport as PayloadReport
    from schemakit.runtime.engine import Problem as Problem
    from schemakit.workspace.client import EndpointStatus as EndpointStatus
    from schemakit.workspace.client import Permissions as Permissions
    from schemakit.workspace.client import RetryPolicy as RetryPolicy
    from schemakit.workspace.client import ServedEntity as ServedEntity
    from schemakit.workspace.client import TrafficRoute as TrafficRoute
    from schemakit.workspace.client import Workspace as Workspace

    # Exported under another name than their module's: an assignment is an explicit export.
    CODEGEN_MODEL_TYPES = _CODEGEN_MODEL_TYPES
    DIFF_RULES = _DIFF_RULES


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'schemakit' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
