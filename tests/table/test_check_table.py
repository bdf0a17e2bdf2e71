"""check-table on whole tables: the done-when table, every input format, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from schemakit.table import check_table

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

DONE_WHEN = {("small_int", "int-range", 10), ("score", "non-finite", 20), ("label", "type", 30)}


def _found(report: Any) -> set[tuple[str, str, int]]:
    return {(f.column, f.code, row) for f in report.findings if f.severity == "error" for row in f.rows}


def test_million_rows_with_three_defects_exit_1_naming_column_rule_and_row(run_cli, million, all_types) -> None:
    result = run_cli("check-table", all_types, str(million.defects))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert (
        "error [int-range] column small_int: expected integer (int32): outside the int32 range: 1 row; row 10 (integer 1099511627776)"
        in out
    )
    assert (
        "error [non-finite] column score: expected double: NaN and Infinity are not valid JSON: 1 row; row 20 (NaN)"
        in out
    )
    assert "error [type] column label: expected string, got null: 1 row; row 30 (null)" in out
    assert "1,000,000 rows checked (arrow), 3 errors" in out
    assert "rows per request stay under the 16 MB request limit" in out


def test_clean_million_rows_exit_0(run_cli, million, all_types) -> None:
    result = run_cli("check-table", all_types, str(million.clean))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok for all_types_model-1: 1,000,000 rows checked (arrow), 0 errors" in result.stdout


def test_json_report_parses(run_cli, grouped_defects, all_types) -> None:
    result = run_cli("check-table", all_types, str(grouped_defects), "--format", "json", "--max-rows-per-finding", "2")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["rows"] == 200_000
    assert report["ok"] is False
    assert {(f["column"], f["code"], f["rows"][0]) for f in report["findings"]} == DONE_WHEN
    assert report["batch_size"]["rows_per_request"] * report["batch_size"]["max_row_bytes"] <= 16 * 1024 * 1024


@pytest.mark.parametrize("kind", ["csv", "jsonl", "arrow", "delta", "folder", "parquet"])
def test_every_format_gives_the_same_findings(kind: str, small_defects, tmp_path: Path, all_types) -> None:
    flat = small_defects.select(
        ["flag", "small_int", "big_int", "ratio", "score", "label", "category", "created_at", "rating"]
    )
    if kind == "csv":
        path = tmp_path / "t.csv"
        pcsv.write_csv(flat, path)
    elif kind == "jsonl":
        path = tmp_path / "t.jsonl"
        rows = flat.to_pylist()
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif kind == "arrow":
        path = tmp_path / "t.arrow"
        feather.write_feather(small_defects, path)
    elif kind == "delta":
        from deltalake import write_deltalake

        path = tmp_path / "delta"
        write_deltalake(str(path), small_defects.drop_columns(["counts"]))
    elif kind == "folder":
        path = tmp_path / "folder"
        path.mkdir()
        pq.write_table(small_defects.slice(0, 25), path / "part-0.parquet")
        pq.write_table(small_defects.slice(25), path / "part-1.parquet")
    else:
        path = tmp_path / "t.parquet"
        pq.write_table(small_defects, path)
    report = check_table(path, all_types)
    found = _found(report)
    if kind == "jsonl":
        # JSON has no NaN: json.dumps wrote it as NaN, which Arrow's JSON reader reads as a null in a double column.
        assert {("small_int", "int-range", 10), ("label", "type", 30)} <= found
    else:
        assert found == DONE_WHEN, report.to_text()
    assert report.rows == 2_000


def _check(table: pa.Table, tmp_path: Path, spec: str | Path = SAMPLES / "all-types.json", **options: Any) -> Any:
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    return check_table(path, spec, **options)


def _base(n: int = 4) -> dict[str, Any]:
    return {
        "flag": [True] * n,
        "small_int": pa.array([1] * n, pa.int32()),
        "big_int": [2] * n,
        "ratio": pa.array([0.5] * n, pa.float32()),
        "score": [1.5] * n,
        "label": ["a"] * n,
        "created_at": ["2024-01-01T00:00:00"] * n,
        "rating": pa.array([3] * n, pa.int64()),
    }


class _Merged:
    def __init__(self) -> None:
        self.count = 0
        self.rows: tuple[int, ...] = ()
        self.severity = ""


def _findings(report: Any) -> dict[tuple[str, str], Any]:
    """Findings by column and rule, those with different messages merged."""
    out: dict[tuple[str, str], _Merged] = {}
    for f in report.findings:
        merged = out.setdefault((f.column, f.code), _Merged())
        merged.count += f.count
        merged.rows = tuple(sorted(merged.rows + f.rows))
        merged.severity = f.severity
    return out


def test_integer_column_that_became_float64(tmp_path: Path) -> None:
    columns = _base()
    columns["small_int"] = [1.0, None, 3.5, 2.0**40]
    found = _findings(_check(pa.table(columns), tmp_path))
    # As `check`: a whole-number float is float-for-integer in range or not (2^40 is also int-range).
    assert found[("small_int", "float-for-integer")].rows == (0, 3)
    assert found[("small_int", "float-for-integer")].severity == "warning"
    assert found[("small_int", "type")].count == 2  # the null and 3.5
    assert found[("small_int", "int-range")].rows == (3,)
    # small_int holds no null in its type: the null is a `type` finding (counted above), not `integer-null`.
    assert ("small_int", "integer-null") not in found


def test_datetime_text_under_checks_strict_rule(tmp_path: Path) -> None:
    columns = _base(6)
    columns["created_at"] = [
        "2024-01-01T00:00:00",
        "2024-02-30T00:00:00",  # pc.strptime would read March 1
        "2024-01-01T00:00:00Z",  # Spark and DuckDB casts take the Z; a datetime column cannot
        "2024-01-01T00:00",  # another form than row 0
        "2024-02-29T12:00:00",
        "3000-01-01T00:00:00",
    ]
    found = _findings(_check(pa.table(columns), tmp_path))
    rows = sorted(row for (column, code), f in found.items() if column == "created_at" for row in f.rows)
    assert rows == [1, 2, 3, 5]


def test_types_values_and_nesting(tmp_path: Path) -> None:
    columns = _base(3)
    columns["blob"] = ["aGVsbG8=", "not base64!", None]
    columns["category"] = ["news", "gossip", None]
    columns["tags"] = [["a"], [None], []]
    columns["location"] = pa.array([{"lat": 1.0, "lon": 2.0}, {"lat": float("inf"), "lon": 0.0}, None])
    columns["counts"] = pa.array([[("a", 1)], [("b", 2)], []], pa.map_(pa.string(), pa.int64()))
    columns["label"] = pa.array(["a", "b", "c"]).cast(pa.large_string())
    columns["extra"] = [1, 2, 3]
    columns["stray"] = [1, 2, 3]
    found = _findings(_check(pa.table(columns), tmp_path))
    assert found[("blob", "binary-base64")].rows == (1,)
    assert found[("category", "enum")].rows == (1,)
    assert found[("tags[]", "type")].rows == (1,)
    assert found[("location.lat", "non-finite")].rows == (1,)
    assert found[("stray", "unknown-column")].severity == "warning"
    # A null where the type has no null is `check`'s type error, in every column.
    assert found[("blob", "type")].rows == found[("category", "type")].rows == found[("location", "type")].rows == (2,)


def test_table_level_rules(tmp_path: Path) -> None:
    columns = _base()
    del columns["label"]
    columns["score"] = ["1.5"] * 4
    found = _findings(_check(pa.table(columns), tmp_path))
    assert found[("label", "required-column")].severity == "error"
    assert found[("score", "column-type")].count == 4
    empty = _findings(_check(pa.table(_base(0)), tmp_path))
    assert ("", "empty-input") in empty
    duplicated = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["big_int", "big_int"])
    assert ("big_int", "duplicate-column") in _findings(_check(duplicated, tmp_path))


def test_timezone_aware_timestamps_and_utf8(tmp_path: Path) -> None:
    columns = _base(2)
    columns["created_at"] = pa.array([0, 1], pa.timestamp("us", tz="UTC"))
    columns["label"] = pa.array([b"ok", b"\xff\xfe"], pa.binary())
    found = _findings(_check(pa.table(columns), tmp_path))
    assert found[("created_at", "datetime-iso8601")].count == 2
    assert found[("label", "utf8")].rows == (1,)


def test_agrees_with_check_on_each_row(tmp_path: Path) -> None:
    """Row by row, check-table flags what `check` flags in a dataframe_records request of that row."""
    import schemakit

    model = schemakit.load(str(SAMPLES / "all-types.json")).models[0]
    texts = [
        "2024-01-31T10:00:00",
        "2023-02-29T10:00:00",
        "2024-04-31T10:00:00",
        "1677-01-01T00:00:00",
        "2024-13-01T00:00:00",
        "2024-01-01 10:00:00",
        "2024-01-01T24:00:00",
    ]
    columns = _base(len(texts))
    columns["created_at"] = texts
    columns["big_int"] = pa.array([0, 2**63 - 1, -(2**63), 5, 6, 7, 8], pa.uint64() if False else pa.int64())
    report = _check(pa.table(columns), tmp_path)
    flagged = {row for f in report.findings if f.severity == "error" for row in f.rows}
    base = {k: (v.to_pylist() if isinstance(v, pa.Array) else v) for k, v in _base(1).items()}
    expected = set()
    for row, text in enumerate(texts):
        payload = {
            "dataframe_records": [
                {**{k: v[0] for k, v in base.items()}, "created_at": texts[0]},
                {**{k: v[0] for k, v in base.items()}, "created_at": text},
            ]
        }
        if not schemakit.check_payload(model, payload).ok:
            expected.add(row)
    assert flagged == expected


def test_batch_size_advice_fits_the_limit(tmp_path: Path) -> None:
    import orjson

    n = 20_000
    columns = _base(n)
    columns["label"] = ["x" * 2_000] * n
    report = _check(pa.table(columns), tmp_path)
    rows = report.advice.rows_per_request
    assert 0 < rows < n
    table = pq.read_table(tmp_path / "t.parquet").slice(0, rows)
    body = orjson.dumps(
        {"dataframe_split": {"columns": table.column_names, "data": [list(r.values()) for r in table.to_pylist()]}}
    )
    assert len(body) <= 16 * 1024 * 1024


def test_columns_option_limits_what_is_sent(tmp_path: Path) -> None:
    columns = _base()
    columns["stray"] = [1] * 4
    report = _check(
        pa.table(columns), tmp_path, columns=["flag", "small_int", "big_int", "ratio", "score", "created_at", "rating"]
    )
    found = _findings(report)
    assert ("label", "required-column") in found
    assert ("stray", "unknown-column") not in found


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["samples/all-types.json", "nope.parquet"], "no such file"),
        (["samples/all-types.json", "samples/README.md"], "not a table schemakit reads"),
        (["samples/foundation-model-chat.json", "TABLE"], "takes no columns"),
        (["samples/multi-model.json", "TABLE"], "pass --model NAME"),
        (["samples/all-types.json", "TABLE", "--columns", "nope"], "--columns names 'nope'"),
    ],
)
def test_cannot_run_is_one_line_exit_2(args: list[str], message: str, run_cli, tmp_path: Path) -> None:
    table = tmp_path / "t.parquet"
    pq.write_table(pa.table(_base()), table)
    root = SAMPLES.parent
    argv = [str(root / a) if a.startswith("samples/") else (str(table) if a == "TABLE" else a) for a in args]
    result = run_cli("check-table", *argv)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
