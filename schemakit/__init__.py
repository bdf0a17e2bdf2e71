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

__version__ = "0.1.0"

from ._check import (
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
from ._codegen import MODEL_TYPES as CODEGEN_MODEL_TYPES
from ._codegen import CodegenResult, GeneratedFile, GeneratedPackage, generate_package, write_package
from ._diff import RULES as DIFF_RULES
from ._diff import (
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
from ._engine import PayloadReport, Problem
from ._exceptions import (
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
from ._inspect import describe
from ._load import LoadOptions, load_document
from ._middleware import PayloadValidationASGIMiddleware, PayloadValidationWSGIMiddleware
from ._mlflow import document_from_mlflow, document_from_mlflow_source, document_from_signature
from ._mock_server import MockServer
from ._model import (
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
from ._resolve import load, resolve
from ._validate import DocumentReport, validate_document
from ._workspace import EndpointStatus, Permissions, RetryPolicy, ServedEntity, TrafficRoute, Workspace

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
