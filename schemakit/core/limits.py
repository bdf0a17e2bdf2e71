"""The serving platform's request size limits, read from the resolved model.

Databricks Model Serving takes at most 16 MB per request, and 4 MB for
foundation-model, external-model and agent endpoints. A served model that takes
object requests (chat, completions, embeddings, agents) is one of the latter.
"""

from __future__ import annotations

from schemakit.core.model import FormatKind, ServedModel

__all__ = ["DEFAULT_REQUEST_LIMIT", "LLM_REQUEST_LIMIT", "request_limit"]

DEFAULT_REQUEST_LIMIT = 16 * 1024 * 1024
LLM_REQUEST_LIMIT = 4 * 1024 * 1024


def request_limit(model: ServedModel) -> int:
    """The largest request body, in bytes, the served model's endpoint accepts."""
    if model.format(FormatKind.OBJECT) is not None:
        return LLM_REQUEST_LIMIT
    return DEFAULT_REQUEST_LIMIT
