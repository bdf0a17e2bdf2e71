"""`schemakit probe`: test a live endpoint (or the emulator, or MLflow's scoring server) against its own schema.

- `generate`: payloads from the model, valid edges and one-rule mutations, labelled by the engine;
- `runner`: targets, sending within a budget, a rate, a concurrency and a deadline; recording and replay;
- `report`: what the server did against what the schema says, as text, JSON, Markdown and JUnit.
"""

from __future__ import annotations

from schemakit.probe.generate import Case, bad_values, build_payload, edge_values, encode, generate_cases, sample_value

__all__ = ["Case", "bad_values", "build_payload", "edge_values", "encode", "generate_cases", "sample_value"]
