"""What a document must be before a feature builds on it: one policy, for the CLI and the library alike.

A document with errors (what `schemakit validate` exits 1 for) is refused where a result
would rest on the broken parts (payload verdicts, generated code, an emulator answering
for it, a table's verdicts), and only named where a feature describes it (inspect, diff).
Every such feature calls `require_usable` and nothing else: `compile_validator`, the
emulator (`MockServer`), `check_table`/`replay` (`pick_served`) and `generate`. With
`force=True` (the CLI's `--force`) the feature proceeds and the returned line says so.
A document without served models cannot be used by any feature that works per served model.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, TypeVar

from schemakit._exceptions import InvalidDocumentError, NotServingSchemaError
from schemakit.core.model import Diagnostic, EndpointSchema, ServedModel
from schemakit.core.sources import display_name

__all__ = ["OnErrors", "acknowledge_errors", "document_problem", "require_usable"]

OnErrors = Literal["refuse", "warn"]


def _errors_and_name(subject: EndpointSchema | ServedModel, source: str | None) -> tuple[tuple[Diagnostic, ...], str]:
    if isinstance(subject, ServedModel):
        return subject.document_errors, display_name(source or subject.document_source or subject.name)
    return subject.errors, display_name(source or subject.source or subject.title or "<document>")


def document_problem(subject: EndpointSchema | ServedModel, source: str | None = None) -> str | None:
    """One line naming the document's errors, or None when it has none."""
    errors, name = _errors_and_name(subject, source)
    if not errors:
        return None
    first = errors[0]
    return (
        f"{name} has {len(errors)} error(s), first [{first.code}] "
        f"{first.pointer or '/'}: {first.message} (run `schemakit validate {name}`)"
    )


def require_usable(
    subject: EndpointSchema | ServedModel,
    source: str | None = None,
    *,
    need_models: bool = True,
    on_errors: OnErrors = "refuse",
    force: bool = False,
) -> str | None:
    """Raise when the document cannot be used; return the warning line when it is used despite its errors.

    NotServingSchemaError: no served models (with the reasons the resolver gave);
    InvalidDocumentError: the document has errors, `on_errors` is "refuse" and `force` is not set.
    With `force=True` the line returned says the feature proceeds anyway.
    """
    if need_models and isinstance(subject, EndpointSchema) and not subject.models:
        name = display_name(source or subject.source or subject.title or "<document>")
        reasons = "; ".join(d.message for d in subject.errors) or "no served models"
        raise NotServingSchemaError(f"{name}: not a serving endpoint schema: {reasons}")
    problem = document_problem(subject, source)
    if problem is None:
        return None
    if force:
        return f"{problem}; proceeding anyway (force)"
    if on_errors == "refuse":
        raise InvalidDocumentError(problem)
    return problem


Subject = TypeVar("Subject", EndpointSchema, ServedModel)


def acknowledge_errors(subject: Subject) -> Subject:
    """The schema (or model) a forced feature hands on: its models no longer carry the document's errors.

    A feature that was told `force=True` has said so once; the validators it builds from the models must
    not refuse them again (an emulator answering a request, a table check compiling its validator).
    """
    if isinstance(subject, ServedModel):
        return replace(subject, document_errors=())
    return replace(subject, models=tuple(replace(m, document_errors=()) for m in subject.models))
