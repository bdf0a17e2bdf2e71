"""Every exception schemakit raises, in one place.

Findings about a document or a payload (an invalid payload, a breaking change, a
rule the document breaks) are *values*: reports and diagnostics that a run
collects in full. Exceptions are for when schemakit cannot do what it was asked.
Each one carries the exit code the command line uses and renders itself as one
line for a person, as click's exceptions do::

    SchemakitError                      exit 2: cannot run
    ├── InvalidPayloadError             exit 1: a payload the served model rejects (carries the report)
    ├── SourceError                     a document or payload cannot be read
    │   ├── SourceNotFound              no such file, or `-` with nothing on stdin
    │   ├── ParseError                  not JSON or YAML (with line and column)
    │   ├── TooLargeError               over the size cap, or nested too deeply
    │   ├── NotOpenAPIError             parsed, but not an OpenAPI document
    │   ├── UnsupportedVersionError     an OpenAPI version schemakit does not read
    │   └── RemoteFetchError            an http(s) source failed (status, timeout)
    ├── RefError                        a `$ref` that cannot be followed
    │   └── RemoteRefError              a remote `$ref`, refused by default
    ├── NotServingSchemaError           an OpenAPI document with no served models
    ├── InvalidDocumentError            a document with errors, where a result would rest on them
    ├── UnknownModelError               `--model NAME` names no served model
    ├── WorkspaceError                  talking to a workspace failed
    │   ├── CredentialsError            no host or token could be found
    │   ├── AuthenticationError         401: the token is bad or expired
    │   ├── PermissionDeniedError       403: the caller lacks a permission level
    │   ├── EndpointNotFoundError       404: no such endpoint
    │   ├── SchemaUnavailableError      the endpoint serves no query schema
    │   ├── EndpointNotReadyError       not READY, or an update is in progress
    │   ├── RateLimitedError            429/503 retried until the budget ran out
    │   └── TransportError              timeout, connection refused, TLS
    ├── CodegenError                    code generation cannot proceed
    ├── OutputError                     an output file cannot be written
    └── MlflowError                     an MLflow model or signature cannot be read

Messages never contain a credential: workspace errors are built from the
response status and the server's message, never from request headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runtime imports nothing from here; only the annotation needs it
    from schemakit.runtime.report import PayloadReport

__all__ = [
    "AuthenticationError",
    "CodegenError",
    "CredentialsError",
    "EndpointNotFoundError",
    "EndpointNotReadyError",
    "InvalidDocumentError",
    "InvalidPayloadError",
    "MlflowError",
    "NotOpenAPIError",
    "NotServingSchemaError",
    "OutputError",
    "ParseError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RefError",
    "RemoteFetchError",
    "RemoteRefError",
    "SchemaUnavailableError",
    "SchemakitError",
    "SourceError",
    "SourceNotFound",
    "TooLargeError",
    "TransportError",
    "UnknownModelError",
    "UnsupportedVersionError",
    "WorkspaceError",
]


class SchemakitError(Exception):
    """Base class: schemakit could not do what it was asked."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def format_message(self) -> str:
        """The one line shown to a person, without a traceback."""
        first_line = self.message.strip().splitlines()[0] if self.message.strip() else type(self).__name__
        return first_line

    def __str__(self) -> str:
        return self.message


class InvalidPayloadError(SchemakitError):
    """A payload that the served model rejects; `report` holds every problem found."""

    exit_code = 1

    def __init__(self, message: str, report: PayloadReport | None = None) -> None:
        super().__init__(message)
        self.report: PayloadReport | None = report


class SourceError(SchemakitError):
    """A document or payload cannot be read."""


class SourceNotFound(SourceError):
    """The named file does not exist or cannot be opened."""


class ParseError(SourceError):
    """The text is not valid JSON or YAML."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class TooLargeError(SourceError):
    """The input exceeds the size cap or the nesting limit."""


class NotOpenAPIError(SourceError):
    """The input parsed, but it is not an OpenAPI document."""


class UnsupportedVersionError(SourceError):
    """The OpenAPI version is not one schemakit reads (3.0.x and 3.1.x are)."""


class RemoteFetchError(SourceError):
    """Fetching an http(s) source failed."""


class RefError(SchemakitError):
    """A `$ref` cannot be followed."""


class RemoteRefError(RefError):
    """A `$ref` points outside the document; refused unless explicitly allowed."""


class NotServingSchemaError(SchemakitError):
    """An OpenAPI document that describes no served-model invocations."""


class InvalidDocumentError(SchemakitError):
    """A document with errors, used where a verdict or generated code would rest on the broken parts."""


class UnknownModelError(SchemakitError):
    """A served-model name that the document does not have."""


class WorkspaceError(SchemakitError):
    """Talking to a serving workspace failed."""

    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class CredentialsError(WorkspaceError):
    """No workspace host or token could be found."""


class AuthenticationError(WorkspaceError):
    """The workspace answered 401."""


class PermissionDeniedError(WorkspaceError):
    """The workspace answered 403."""


class EndpointNotFoundError(WorkspaceError):
    """The workspace has no endpoint by that name."""


class SchemaUnavailableError(WorkspaceError):
    """The endpoint serves no query schema (no logged signature, or not ready)."""


class EndpointNotReadyError(WorkspaceError):
    """The endpoint is not READY, or a configuration update is in progress."""


class RateLimitedError(WorkspaceError):
    """Still throttled (429) or unavailable (503) after every retry."""


class TransportError(WorkspaceError):
    """The request did not complete: timeout, refused connection, TLS failure."""


class CodegenError(SchemakitError):
    """Code generation cannot proceed."""


class OutputError(SchemakitError):
    """An output file cannot be written (no such folder, permission denied, a folder in the way)."""


class MlflowError(SchemakitError):
    """An MLflow model, MLmodel file or signature cannot be read."""
