"""The runtime generated packages run on: the payload validation engine and the HTTP helpers.

Standard library plus optional msgspec (and google-re2 for document patterns, when
installed), nothing else: `schemakit codegen` copies this directory into every
generated package as `_runtime/`, and schemakit itself imports the same modules, so
a generated validator gives `schemakit check`'s verdicts and a generated client
speaks HTTP exactly as the workspace client does.

Generated modules call `require(MAJOR, package)` when they are imported: code
generated for another major version of the runtime fails at once, with both
versions named, instead of misbehaving later (as protobuf's generated code does).
"""

from __future__ import annotations

__all__ = ["RUNTIME_VERSION", "RuntimeVersionError", "require"]

#: The runtime's version. The major number changes whenever generated code written
#: for the previous one could misbehave (a plan field renamed, a helper's contract changed).
RUNTIME_VERSION = "1.0.0"


class RuntimeVersionError(ImportError):
    """Generated code was written for another major version of the runtime."""


def require(major: int, package: str) -> None:
    """Refuse to run code generated for another major version of this runtime."""
    have = int(RUNTIME_VERSION.split(".", 1)[0])
    if major != have:
        raise RuntimeVersionError(
            f"{package} was generated for schemakit runtime {major}.x, but its _runtime is "
            f"{RUNTIME_VERSION}: regenerate the package with `schemakit codegen` (or copy the "
            f"runtime of the schemakit that generated it)"
        )
