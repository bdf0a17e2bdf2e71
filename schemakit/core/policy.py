"""What a document must be before a feature builds on it: one policy, for the CLI and the library alike.

A document with errors (what `schemakit validate` exits 1 for) is refused where a result
would rest on the broken parts (payload verdicts, generated code, an emulator answering
for it), and only named where a feature describes it (inspect, diff). A document without
served models cannot be used by any feature that works per served model.
"""

from __future__ import annotations

from typing import Literal

from schemakit._exceptions import InvalidDocumentError, NotServingSchemaError
from schemakit.core.load import display_name
from schemakit.core.model import EndpointSchema

__all__ = ["OnErrors", "document_problem", "require_usable"]

OnErrors = Literal["refuse", "warn"]


def document_problem(schema: EndpointSchema, source: str | None = None) -> str | None:
    """One line naming the document's errors, or None when it has none."""
    if not schema.errors:
        return None
    name = display_name(source or schema.source or schema.title or "<document>")
    first = schema.errors[0]
    return (
        f"{name} has {len(schema.errors)} error(s), first [{first.code}] "
        f"{first.pointer or '/'}: {first.message} (run `schemakit validate {name}`)"
    )


def require_usable(
    schema: EndpointSchema,
    source: str | None = None,
    *,
    need_models: bool = True,
    on_errors: OnErrors = "refuse",
) -> str | None:
    """Raise when the document cannot be used; return the warning line when `on_errors="warn"`.

    NotServingSchemaError: no served models (with the reasons the resolver gave);
    InvalidDocumentError: the document has errors and `on_errors` is "refuse".
    """
    if need_models and not schema.models:
        name = display_name(source or schema.source or schema.title or "<document>")
        reasons = "; ".join(d.message for d in schema.errors) or "no served models"
        raise NotServingSchemaError(f"{name}: not a serving endpoint schema: {reasons}")
    problem = document_problem(schema, source)
    if problem is not None and on_errors == "refuse":
        raise InvalidDocumentError(problem)
    return problem
