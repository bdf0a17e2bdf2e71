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

from schemakit._version import __version__

if TYPE_CHECKING:
    from schemakit._exceptions import (
        AuthenticationError,
        CodegenError,
        CredentialsError,
        EndpointNotFoundError,
        EndpointNotReadyError,
        InvalidDocumentError,
        InvalidPayloadError,
        MlflowError,
        NotOpenAPIError,
        NotServingSchemaError,
        OutputError,
        ParseError,
        PermissionDeniedError,
        RateLimitedError,
        RefError,
        RemoteFetchError,
        RemoteRefError,
        SchemakitError,
        SchemaUnavailableError,
        SourceError,
        SourceNotFound,
        TooLargeError,
        TransportError,
        UnknownModelError,
        UnsupportedVersionError,
        WorkspaceError,
    )
    from schemakit.check.middleware import PayloadValidationASGIMiddleware, PayloadValidationWSGIMiddleware
    from schemakit.check.validator import (
        SERVING_RULES,
        EndpointReport,
        EndpointValidator,
        PayloadValidator,
        check_payload,
        compile_endpoint_validator,
        compile_validator,
        make_plan,
        validates_payload,
    )
    from schemakit.codegen.generate import MODEL_TYPES as CODEGEN_MODEL_TYPES
    from schemakit.codegen.generate import (
        CodegenResult,
        GeneratedFile,
        GeneratedPackage,
        generate_package,
        write_package,
    )
    from schemakit.core.inspect import describe
    from schemakit.core.load import LoadOptions, load_document
    from schemakit.core.model import (
        Column,
        DataType,
        Diagnostic,
        EndpointSchema,
        FormatKind,
        InputFormat,
        Kind,
        Param,
        ResponseSchema,
        ServedModel,
    )
    from schemakit.core.resolve import load, resolve
    from schemakit.core.validate import DocumentReport, validate_document
    from schemakit.diff import RULES as DIFF_RULES
    from schemakit.diff import (
        DiffReport,
        Finding,
        FindingLocation,
        IgnoredFinding,
        IgnoreEntry,
        apply_ignores,
        diff_schemas,
        load_ignore_file,
        render_diff,
    )
    from schemakit.mlflow.document import document_from_mlflow, document_from_mlflow_source, document_from_signature
    from schemakit.mock.server import MockServer
    from schemakit.runtime.engine import PayloadReport, Problem
    from schemakit.workspace.client import (
        EndpointStatus,
        Permissions,
        RetryPolicy,
        ServedEntity,
        TrafficRoute,
        Workspace,
    )

#: Where each public name lives; imported on first use, so `import schemakit` stays fast
#: and a command loads only the feature it runs.
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
    "make_plan": ("schemakit.check.validator", "make_plan"),
    "render_diff": ("schemakit.diff", "render_diff"),
    "resolve": ("schemakit.core.resolve", "resolve"),
    "validate_document": ("schemakit.core.validate", "validate_document"),
    "validates_payload": ("schemakit.check.validator", "validates_payload"),
    "write_package": ("schemakit.codegen.generate", "write_package"),
}

__all__ = [
    "AuthenticationError",
    "CODEGEN_MODEL_TYPES",
    "CodegenError",
    "CodegenResult",
    "Column",
    "CredentialsError",
    "DIFF_RULES",
    "DataType",
    "Diagnostic",
    "DiffReport",
    "DocumentReport",
    "EndpointNotFoundError",
    "EndpointNotReadyError",
    "EndpointReport",
    "EndpointSchema",
    "EndpointStatus",
    "EndpointValidator",
    "Finding",
    "FindingLocation",
    "FormatKind",
    "GeneratedFile",
    "GeneratedPackage",
    "IgnoreEntry",
    "IgnoredFinding",
    "InputFormat",
    "InvalidDocumentError",
    "InvalidPayloadError",
    "Kind",
    "LoadOptions",
    "MlflowError",
    "MockServer",
    "NotOpenAPIError",
    "NotServingSchemaError",
    "OutputError",
    "Param",
    "ParseError",
    "PayloadReport",
    "PayloadValidationASGIMiddleware",
    "PayloadValidationWSGIMiddleware",
    "PayloadValidator",
    "PermissionDeniedError",
    "Permissions",
    "Problem",
    "RateLimitedError",
    "RefError",
    "RemoteFetchError",
    "RemoteRefError",
    "ResponseSchema",
    "RetryPolicy",
    "SERVING_RULES",
    "SchemaUnavailableError",
    "SchemakitError",
    "ServedEntity",
    "ServedModel",
    "SourceError",
    "SourceNotFound",
    "TooLargeError",
    "TrafficRoute",
    "TransportError",
    "UnknownModelError",
    "UnsupportedVersionError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "apply_ignores",
    "check_payload",
    "compile_endpoint_validator",
    "compile_validator",
    "describe",
    "diff_schemas",
    "document_from_mlflow",
    "document_from_mlflow_source",
    "document_from_signature",
    "generate_package",
    "load",
    "load_document",
    "load_ignore_file",
    "make_plan",
    "render_diff",
    "resolve",
    "validate_document",
    "validates_payload",
    "write_package",
]


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
