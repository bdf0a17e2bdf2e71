"""The `schemakit` command line: one module per command group, each a thin layer over the library."""

from __future__ import annotations

from schemakit.cli.main import cli, main

__all__ = ["cli", "main"]
