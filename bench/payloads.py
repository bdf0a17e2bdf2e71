"""Benchmark: payload validation from bytes to verdict, against parsing alone and jsonschema.

    python bench/payloads.py [--rows N] [--wide-rows N] [--jsonschema-rows N] [--repeat N]

Builds dataframe_split and dataframe_records payloads over the docs example's three
columns and over a 50-column mixed-type schema, and measures on the same bytes:
orjson.loads alone; schemakit validate_json; orjson + jsonschema Draft202012Validator
(on --jsonschema-rows rows, scaled linearly: it is slow); orjson + jsonschema-rs.
Peak memory (tracemalloc, a separate pass) is what each step allocates on top of the bytes.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import orjson

import schemakit
from schemakit import compile_validator

try:
    from issue17 import issue_table  # run as a script: bench/ is on sys.path
except ImportError:  # imported as bench.payloads
    from bench.issue17 import issue_table

ROOT = Path(__file__).resolve().parent.parent
#: The payloads here are larger than a serving endpoint takes (16 MB): the benchmark measures validation.
LARGE = ("payload-too-large",)

WIDE_TYPES = [
    ("long", {"type": "integer", "format": "int64"}),
    ("integer", {"type": "integer", "format": "int32"}),
    ("double", {"type": "number", "format": "double"}),
    ("float", {"type": "number", "format": "float"}),
    ("string", {"type": "string"}),
    ("boolean", {"type": "boolean"}),
    ("datetime", {"type": "string", "format": "date-time"}),
    ("binary", {"type": "string", "format": "binary"}),
    ("nullable_double", {"type": "number", "format": "double", "nullable": True}),
    ("array", {"type": "array", "items": {"type": "number", "format": "double"}}),
]


def wide_document() -> dict[str, Any]:
    names = [f"c{i:02d}_{WIDE_TYPES[i % len(WIDE_TYPES)][0]}" for i in range(50)]
    types = [WIDE_TYPES[i % len(WIDE_TYPES)][1] for i in range(50)]
    split = {
        "type": "object",
        "properties": {
            "dataframe_split": {
                "type": "object",
                "properties": {
                    "columns": {
                        "type": "array",
                        "description": f"required fields: {', '.join(names)}",
                        "items": {"type": "string", "enum": names},
                    },
                    "data": {"type": "array", "items": {"type": "array", "prefixItems": types}},
                },
            }
        },
    }
    records = {
        "type": "object",
        "properties": {
            "dataframe_records": {
                "type": "array",
                "items": {"type": "object", "required": names, "properties": dict(zip(names, types, strict=True))},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "wide", "version": "1"},
        "servers": [{"url": "https://example.com/serving-endpoints/wide"}],
        "paths": {
            "/served-models/wide-1/invocations": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"oneOf": [split, records]}}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


def wide_value(kind: str, rng: random.Random) -> Any:
    if kind in ("long", "integer"):
        return rng.randint(-1000, 100000)
    if kind in ("double", "float"):
        return rng.random() * 1000
    if kind == "string":
        return f"item-{rng.randint(0, 99999)}"
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "datetime":
        # Naive: MLflow's server cannot hold a "Z" or an offset in a datetime column.
        return f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:30:00"
    if kind == "binary":
        return "aGVsbG8gd29ybGQ="
    if kind == "nullable_double":
        return None if rng.random() < 0.2 else rng.random()
    return [rng.random(), rng.random()]


def invalid_payloads(rows: int) -> tuple[bytes, bytes]:
    """The docs example's columns with a bad cell in every row: text in the double column."""
    columns = ["int_col", "float_col", "string_col"]
    data = [[i, "abc", f"row-{i % 1000}"] for i in range(rows)]
    split = orjson.dumps({"dataframe_split": {"columns": columns, "data": data}})
    records = orjson.dumps({"dataframe_records": [dict(zip(columns, row, strict=True)) for row in data]})
    return split, records


def payloads(kind: str, rows: int) -> tuple[bytes, bytes]:
    rng = random.Random(7)
    if kind == "docs":
        columns = ["int_col", "float_col", "string_col"]
        data = [[i, i * 0.25 + 0.1, f"row-{i % 1000}"] for i in range(rows)]
    else:
        columns = [f"c{i:02d}_{WIDE_TYPES[i % len(WIDE_TYPES)][0]}" for i in range(50)]
        kinds = [WIDE_TYPES[i % len(WIDE_TYPES)][0] for i in range(50)]
        template = [[wide_value(k, rng) for k in kinds] for _ in range(1000)]
        data = [template[i % 1000] for i in range(rows)]
    split = orjson.dumps({"dataframe_split": {"columns": columns, "data": data}})
    records = orjson.dumps({"dataframe_records": [dict(zip(columns, row, strict=True)) for row in data]})
    return split, records


def parse_then(check: Callable[[Any], bool], data: bytes) -> bool:
    return check(orjson.loads(data))


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak(func: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = func()
        _, top = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per payload (default 1,000,000)")
    parser.add_argument(
        "--wide-rows",
        type=int,
        default=200_000,
        help="rows for the 50-column payloads (default 200,000: at 1,000,000 orjson needs over 20 GB)",
    )
    parser.add_argument("--jsonschema-rows", type=int, default=200_000, help="rows for jsonschema, scaled up")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for the fast measurements")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc passes")
    parser.add_argument("--quick", action="store_true", help="small payloads, no memory passes: under two minutes")
    parser.add_argument("--only-issue", action="store_true", help="only the rows of issue 17's table")
    parser.add_argument(
        "--growth-cells", type=int, default=400_000, help="datetime cells per payload for the columns-growth rows"
    )
    args = parser.parse_args()
    if args.quick:
        args.rows, args.wide_rows, args.jsonschema_rows = 100_000, 20_000, 5_000
        args.repeat, args.no_memory, args.growth_cells = 1, True, 40_000
    kinds = [WIDE_TYPES[i % len(WIDE_TYPES)][0] for i in range(50)]
    docs_path = str(ROOT / "samples" / "docs-example-dataframe.json")
    if args.only_issue:
        issue_table(docs_path, wide_document(), kinds, wide_value, quick=args.quick)
        return

    import jsonschema_rs
    from jsonschema import Draft202012Validator

    docs = schemakit.load(str(ROOT / "samples" / "docs-example-dataframe.json")).models[0]
    wide = schemakit.resolve(wide_document(), source="wide").models[0]
    header = (
        f"{'payload':<22}{'MB':>7}{'orjson':>9}{'schemakit':>11}{'ratio':>7}{'js+parse':>10}"
        f"{'speedup':>9}{'rs+parse':>10}{'ratio':>7}{'mem orjson':>12}{'mem sk':>9}{'mem/size':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, model, rows in (
        ("docs", docs, args.rows),
        ("50 columns", wide, min(args.wide_rows, args.rows)),
    ):
        validator = compile_validator(model, disable=LARGE)
        reference = Draft202012Validator(model.request_schema)
        fast = jsonschema_rs.validator_for(dict(model.request_schema))
        split, records = payloads("docs" if label == "docs" else "wide", rows)
        small_rows = min(rows, args.jsonschema_rows)
        small_split, small_records = payloads("docs" if label == "docs" else "wide", small_rows)
        for shape, data, small in (("split", split, small_split), ("records", records, small_records)):
            t_parse, _ = timed(partial(orjson.loads, data), args.repeat)
            t_sk, report = timed(partial(validator.validate_json, data), args.repeat)
            assert report.ok, report.to_text()
            t_rs, ok_rs = timed(partial(parse_then, fast.is_valid, data), args.repeat)
            t_js_small, ok_js = timed(partial(parse_then, reference.is_valid, small))
            assert ok_js
            assert ok_rs
            t_js = t_js_small * rows / small_rows
            if args.no_memory:
                mem_parse = mem_sk = 0
            else:
                mem_parse = peak(partial(orjson.loads, data))
                mem_sk = peak(partial(validator.validate_json, data))
            size = len(data) / 1e6
            print(
                f"{label + ' ' + shape:<22}{size:>7.1f}{t_parse:>8.2f}s{t_sk:>10.2f}s{t_sk / t_parse:>6.2f}x"
                f"{t_js:>9.1f}s{t_js / t_sk:>8.0f}x{t_rs:>9.2f}s{t_rs / t_parse:>6.2f}x"
                f"{mem_parse / 1e6:>10.0f}MB{mem_sk / 1e6:>7.0f}MB{mem_sk / len(data):>8.1f}x"
            )
            del data
        del split, records
    invalid_rows(args.rows, args.no_memory)
    columns_growth(args.growth_cells)
    issue_table(docs_path, wide_document(), kinds, wide_value, quick=args.quick)
    print(
        "\norjson = orjson.loads alone; schemakit = validate_json, bytes to verdict; ratio = schemakit / orjson;\n"
        f"js+parse = orjson.loads + jsonschema Draft202012Validator, measured on {args.jsonschema_rows:,} rows and\n"
        "scaled; speedup = js+parse / schemakit; rs+parse = orjson.loads + jsonschema-rs; mem = tracemalloc peak\n"
        "of one call (on top of the payload bytes); mem/size = schemakit peak / payload size."
    )


def invalid_rows(rows: int, no_memory: bool) -> None:
    """Invalid payloads take the exact path: a report of the first problems and all counts, in bounded memory."""
    validator = compile_validator(
        schemakit.load(str(ROOT / "samples" / "docs-example-dataframe.json")).models[0], disable=LARGE
    )
    print(f"\n{'invalid (every row)':<22}{'MB':>7}{'orjson':>9}{'schemakit':>11}{'ratio':>7}{'errors':>11}"
          f"{'mem orjson':>12}{'mem sk':>9}{'mem/size':>9}")  # fmt: skip
    split, records = invalid_payloads(rows)
    for shape, data in (("split", split), ("records", records)):
        t_parse, _ = timed(partial(orjson.loads, data))
        t_sk, report = timed(partial(validator.validate_json, data))
        assert report.total_errors == rows, report.to_text()
        mem_parse = 0 if no_memory else peak(partial(orjson.loads, data))
        mem_sk = 0 if no_memory else peak(partial(validator.validate_json, data))
        print(
            f"{'docs ' + shape:<22}{len(data) / 1e6:>7.1f}{t_parse:>8.2f}s{t_sk:>10.2f}s{t_sk / t_parse:>6.2f}x"
            f"{report.total_errors:>11,}{mem_parse / 1e6:>10.0f}MB{mem_sk / 1e6:>7.0f}MB{mem_sk / len(data):>8.1f}x"
        )


def _datetime_plan(columns: int) -> dict[str, Any]:
    names = [f"t{i}" for i in range(columns)]
    row = {"type": "object", "properties": {n: {"type": "string", "format": "date-time"} for n in names}}
    schema = {"type": "object", "properties": {"dataframe_records": {"type": "array", "items": row}}}
    column_specs = [{"name": n, "position": None, "required": False, "type": "datetime"} for n in names]
    fmt = {"kind": "dataframe_records", "key": "dataframe_records", "schema": schema, "columns": column_specs}
    return {"model": f"dates-{columns}", "request_schema": schema, "formats": [{**fmt, "params": []}]}


def columns_growth(cells: int) -> None:
    """The exact path stays linear in the columns: the rows are parsed a fixed number of times, not once per column."""
    from schemakit.runtime import parse
    from schemakit.runtime.engine import Engine

    print(f"\n{'exact path, datetime':<22}{'MB':>7}{'orjson':>9}{'schemakit':>11}{'ratio':>7}{'parsed/size':>13}")
    real = parse.parse_json
    parsed: list[int] = []

    def counting(data: Any) -> Any:
        parsed.append(len(data))
        return real(data)

    parse.parse_json = counting  # type: ignore[assignment]
    try:
        for columns in (6, 50, 500):
            rows = [{f"t{i}": "2024-01-01T10:00:00" for i in range(columns)} for _ in range(max(1, cells // columns))]
            rows[-1]["t0"] = "2024-01-01 10:00"  # one row in another form: the exact path reports it
            data = orjson.dumps({"dataframe_records": rows})
            del rows
            engine = Engine(_datetime_plan(columns))
            t_parse, _ = timed(partial(orjson.loads, data))
            parsed.clear()
            t_sk, report = timed(partial(engine.validate_json, data))
            assert not report.ok, report.to_text()
            print(
                f"{f'{columns} columns':<22}{len(data) / 1e6:>7.1f}{t_parse:>8.2f}s{t_sk:>10.2f}s"
                f"{t_sk / t_parse:>6.2f}x{sum(parsed) / len(data):>12.1f}x"
            )
    finally:
        parse.parse_json = real  # type: ignore[assignment]
    print(
        "parsed/size = bytes the exact path parsed / payload bytes (before one walk for all datetime columns: 8x, 52x, 502x)"
    )


if __name__ == "__main__":
    main()
