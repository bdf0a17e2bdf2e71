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

from ._exceptions import (
    AuthenticationError,
    CodegenError,
    CredentialsError,
    EndpointNotFoundError,
    EndpointNotReadyError,
    InvalidPayloadError,
    MlflowError,
    NotOpenAPIError,
    NotServingSchemaError,
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

# Each feature adds its public names below, in its own block, and to __all__.
# -- payload validation (issue 3) --
# -- emulator (issue 6) --
# -- workspace client (issue 7) --
# -- code generation (issue 4) --
# -- schema diff (issue 5) --
# -- MLflow bridge (issue 8) --

__all__ = [
    "AuthenticationError",
    "CodegenError",
    "Column",
    "CredentialsError",
    "DataType",
    "Diagnostic",
    "DocumentReport",
    "EndpointNotFoundError",
    "EndpointNotReadyError",
    "EndpointSchema",
    "InvalidPayloadError",
    "FormatKind",
    "InputFormat",
    "Kind",
    "LoadOptions",
    "MlflowError",
    "NotOpenAPIError",
    "NotServingSchemaError",
    "Param",
    "ParseError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RefError",
    "RemoteFetchError",
    "RemoteRefError",
    "ResponseSchema",
    "SchemaUnavailableError",
    "SchemakitError",
    "ServedModel",
    "SourceError",
    "SourceNotFound",
    "TooLargeError",
    "TransportError",
    "UnknownModelError",
    "UnsupportedVersionError",
    "WorkspaceError",
    "__version__",
    "describe",
    "load",
    "load_document",
    "resolve",
    "validate_document",
]
