"""The public API is a deliberate, pinned list; everything else is private."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import schemakit
from schemakit import _exceptions

PUBLIC = [
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


def test_public_names_are_pinned_and_sorted() -> None:
    assert schemakit.__all__ == PUBLIC
    assert sorted(PUBLIC) == PUBLIC


def test_every_public_name_is_importable() -> None:
    for name in PUBLIC:
        assert getattr(schemakit, name) is not None, name


#: The feature subpackages, named like the CLI verbs, the test folders and the guides.
FEATURES = {"check", "cli", "codegen", "core", "diff", "mlflow", "mock", "runtime", "workspace"}


def test_layout_top_level_modules_are_private_and_features_are_subpackages() -> None:
    public_modules = {"testing"}
    modules = [m for m in pkgutil.iter_modules(schemakit.__path__) if not m.ispkg]
    packages = {m.name for m in pkgutil.iter_modules(schemakit.__path__) if m.ispkg}
    for module in modules:
        assert module.name.startswith("_") or module.name in public_modules, module.name
    assert len(modules) + 1 <= 8, [m.name for m in modules]  # + __init__
    assert packages >= FEATURES, FEATURES - packages


def test_every_module_imports_and_is_documented() -> None:
    # Command modules import lazily; importing them here proves they load on their own.
    for module in pkgutil.walk_packages(schemakit.__path__, prefix="schemakit."):
        if module.name.endswith("__main__") or ".templates" in module.name:
            continue
        imported = importlib.import_module(module.name)
        assert imported.__doc__, f"{module.name} has no docstring"


def test_exception_hierarchy_is_drawn_and_each_has_an_exit_code() -> None:
    drawing = _exceptions.__doc__ or ""
    classes = [obj for _, obj in inspect.getmembers(_exceptions, inspect.isclass) if issubclass(obj, schemakit.SchemakitError)]
    assert len(classes) >= 20
    for cls in classes:
        assert cls.__name__ in drawing, f"{cls.__name__} is missing from the hierarchy in _exceptions' docstring"
        assert cls.exit_code in (1, 2), cls
        assert cls.__name__ in PUBLIC, f"{cls.__name__} is not exported"
    assert schemakit.InvalidPayloadError.exit_code == 1
    assert schemakit.SourceError("x: no such file").format_message() == "x: no such file"


def test_lazy_commands_all_load() -> None:
    from click.testing import CliRunner

    from schemakit.cli.main import LAZY_COMMANDS, cli

    runner = CliRunner()
    for name in LAZY_COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output
