"""Checking a document: OpenAPI structure, then the serving rules.

`validate_document` never stops at the first problem: it returns every finding
as a `Diagnostic` with a stable code, a severity, a JSON pointer and a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemakit.core.lint import without_uri_keywords
from schemakit.core.load import LoadOptions, check_openapi, display_name
from schemakit.core.model import Diagnostic, EndpointSchema
from schemakit.core.resolve import load, resolve

__all__ = ["DocumentReport", "check_structure", "validate_document"]

_MAX_STRUCTURE_FINDINGS = 50


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """Everything known about one document."""

    schema: EndpointSchema
    diagnostics: tuple[Diagnostic, ...]
    strict: bool = False

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        if self.strict:
            return self.diagnostics
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "source": display_name(self.schema.source) if self.schema.source else "<document>",
            "title": self.schema.title,
            "version": self.schema.version,
            "ok": self.ok,
            "strict": self.strict,
            "errors": sum(1 for d in self.diagnostics if d.severity == "error"),
            "warnings": len(self.warnings),
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def validate_document(
    source: str | Mapping[str, Any], *, strict: bool = False, options: LoadOptions | None = None
) -> DocumentReport:
    """Check a document (a source string or a parsed document) and resolve it."""
    if isinstance(source, str):
        # Through `load`, so that --allow-remote-refs can fetch what the document references.
        schema = load(source, options)
        document = dict(schema.source_document)
    else:
        document = dict(source)
        schema = resolve(document, source="<document>", allow_remote_refs=bool(options and options.allow_remote_refs))
    # The structure validator follows references itself and fails with the whole document in its
    # message on a broken one; the resolver has already reported those in one line each.
    broken_refs = any(d.code in ("ref-cycle", "ref-unresolved") for d in schema.diagnostics)
    # The structure validator never sees a keyword that names a URI: the resolver has reported each one.
    structure = check_structure(without_uri_keywords(document)) if not broken_refs else []
    ordered = sorted((*structure, *schema.diagnostics), key=lambda d: (d.severity != "error", d.pointer, d.code))
    return DocumentReport(schema, tuple(ordered), strict)


def check_structure(document: Mapping[str, Any]) -> list[Diagnostic]:
    """OpenAPI structure findings from openapi-spec-validator (3.0 or 3.1 by the document's version)."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    version = str(check_openapi(document, "<document>")["openapi"])
    validator_class = OpenAPIV31SpecValidator if version.startswith("3.1") else OpenAPIV30SpecValidator
    findings: list[Diagnostic] = []
    try:
        for error in validator_class(dict(document)).iter_errors():
            path = list(getattr(error, "absolute_path", []) or [])
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
            message = _without_instance(str(getattr(error, "message", error)).strip().splitlines()[0], version)
            findings.append(Diagnostic("openapi-structure", "error", pointer, _shorten(message)))
            if len(findings) >= _MAX_STRUCTURE_FINDINGS:
                break
    except RecursionError:
        findings.append(Diagnostic("openapi-structure", "error", "", "the document is too deeply self-referencing"))
    except Exception as exc:  # the validator's own failures must not hide our findings
        # openapi-spec-validator walks on past a broken node and then trips over it; once it has
        # reported that node, its crash adds nothing a person can act on.
        if not findings:
            message = f"openapi-spec-validator could not check the structure ({type(exc).__name__}: {exc})"
            findings.append(Diagnostic("openapi-structure", "error", "", _shorten(message)))
    return findings


def _without_instance(message: str, version: str) -> str:
    # jsonschema starts some messages with the offending value, which can be the whole request body.
    if not message.startswith(("{", "[")):
        return message
    for tail in (" is not valid under any of the given schemas", " is not valid under any of the schemas listed"):
        at = message.rfind(tail)
        if at > 0:
            return "this value" + message[at:]
    return f"this value does not fit the OpenAPI {version} schema for this location"


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
