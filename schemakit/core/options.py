"""How to read a source: the limits and settings every reader takes, in one value.

Its own module so the table of source kinds (`core/sources.py`) and the loader (`core/load.py`)
both take it without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "DEFAULT_MAX_NODES", "LoadOptions"]

#: Documents are a few kilobytes; 64 MiB is far beyond any real one and still safe to hold.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Real documents nest about 20 levels; deeper input is hostile or broken.
DEFAULT_MAX_DEPTH = 128
#: YAML aliases can make a small file describe an enormous tree; cap the nodes we will walk.
DEFAULT_MAX_NODES = 2_000_000


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to read a source. The defaults are safe for untrusted input."""

    headers: Mapping[str, str] | None = None
    timeout: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_nodes: int = DEFAULT_MAX_NODES
    allow_remote_refs: bool = False
    #: The workspace that `endpoint:` sources read from; unset parts come from the environment or a profile.
    workspace_host: str | None = None
    workspace_profile: str | None = None
    workspace_token: str | None = field(default=None, repr=False)
