"""Coverage-guided fuzzing of the document loader and the payload parser with atheris (`make fuzz` only).

    python tests/fuzz/atheris_harness.py loader -max_total_time=60
    python tests/fuzz/atheris_harness.py payload -runs=50000

Any exception other than a SchemakitError (and, for the loader, a one-line one) is a crash atheris reports with the
input that caused it. Not collected by pytest (no `test_` prefix); atheris is the optional `fuzz` extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

from schemakit._exceptions import SchemakitError
from schemakit.check.validator import compile_endpoint_validator
from schemakit.core.load import parse_text
from schemakit.core.resolve import load, resolve

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "docs-example-dataframe.json"
VALIDATOR = compile_endpoint_validator(load(str(SAMPLE)))


def fuzz_loader(data: bytes) -> None:
    try:
        document = parse_text(data, "fuzz")
        if isinstance(document, dict):
            resolve(document, source="fuzz")
    except SchemakitError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"multi-line error: {str(exc)[:300]!r}") from exc


def fuzz_payload(data: bytes) -> None:
    try:
        report = VALIDATOR.validate_json(data)
    except SchemakitError:
        return
    report.to_text()
    report.to_json()


TARGETS = {"loader": fuzz_loader, "payload": fuzz_payload}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    # Everything imported so far, lazily loaded submodules included, reports coverage to libFuzzer.
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
