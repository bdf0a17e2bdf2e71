"""Regression tests for the wrong verdicts and unreadable tables of issues 22 and 23, one class each."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")
pq = pytest.importorskip("pyarrow.parquet")

from schemakit._exceptions import SchemakitError  # noqa: E402
from schemakit.table import check_table  # noqa: E402
from schemakit.table.engine import pick_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MODEL = pick_model(str(ROOT / "samples" / "all-types.json"), None)
RANGE = "datetime-iso8601"


def base(n: int = 3) -> dict[str, Any]:
    return {
        "flag": [True] * n,
        "small_int": pa.array([1] * n, pa.int32()),
        "big_int": pa.array([2] * n, pa.int64()),
        "ratio": pa.array([0.5] * n, pa.float32()),
        "score": [1.5] * n,
        "label": ["a"] * n,
        "created_at": ["2024-01-01T00:00:00"] * n,
        "rating": pa.array([3] * n, pa.int64()),
    }


def found(table: Any, **options: Any) -> set[tuple[str, str, int]]:
    report = check_table(table, MODEL, max_rows_per_finding=100, **options)
    return {(f.column, f.code, row) for f in report.findings if f.severity == "error" for row in f.rows}


def with_column(name: str, values: Any, n: int = 3) -> Any:
    columns = base(n)
    columns[name] = values
    return pa.table(columns)


# -- temporal: one conversion, the real range --------------------------------------------------


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_clean_timestamps_of_every_unit_pass(unit: str) -> None:
    values = pa.array([dt.datetime(2024, 1, 1), dt.datetime(1700, 1, 1), dt.datetime(2262, 4, 11)], pa.timestamp("us"))
    assert found(with_column("created_at", values.cast(pa.timestamp(unit)))) == set()


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_timestamps_outside_1677_2262_are_refused(unit: str) -> None:
    values = pa.array([dt.datetime(2024, 1, 1), dt.datetime(1500, 1, 1), dt.datetime(2300, 1, 1)], pa.timestamp(unit))
    assert found(with_column("created_at", values)) == {("created_at", RANGE, 1), ("created_at", RANGE, 2)}


def test_range_edges_are_exactly_checks() -> None:
    first = -(2**63) // 10**9  # 1677-09-21T00:12:43.145224192 is in range at ns, its second is not
    values = pa.array([first, first + 1, (2**63 - 1) // 10**9, (2**63 - 1) // 10**9 + 1], pa.timestamp("s"))
    assert found(with_column("created_at", values, 4)) == {("created_at", RANGE, 0), ("created_at", RANGE, 3)}


def test_dates_and_date64_with_a_fraction_of_a_day() -> None:
    dates = pa.array([dt.date(2024, 1, 1), dt.date(1677, 9, 21), dt.date(1677, 9, 22)])
    assert found(with_column("created_at", dates)) == {("created_at", RANGE, 1)}
    day = 86_400_000
    fraction = pa.array([day * 3 + 5, -day * 106_752 + 5, day * 106_751 + 86_399_999], pa.int64()).cast(pa.date64())
    assert found(with_column("created_at", fraction)) == {("created_at", RANGE, 1)}
    extreme = pa.array([2**62, -(2**62), 0], pa.int64()).cast(pa.date64())
    assert found(with_column("created_at", extreme)) == {("created_at", RANGE, 0), ("created_at", RANGE, 1)}


def test_int96_timestamps_outside_the_range_do_not_wrap(tmp_path: Path) -> None:
    path = tmp_path / "int96.parquet"
    table = with_column(
        "created_at", pa.array([dt.datetime(2024, 1, 1), dt.datetime(1500, 1, 1), None], pa.timestamp("us"))
    )
    pq.write_table(table, path, use_deprecated_int96_timestamps=True)
    assert ("created_at", RANGE, 1) in found(path)


def test_time_duration_and_interval_are_refused_with_what_to_cast_to() -> None:
    report = check_table(with_column("created_at", pa.array([1, 2, 3], pa.time32("s"))), MODEL)
    (finding,) = [f for f in report.findings if f.code == "column-type"]
    assert "time32[s]" in finding.message
    assert "combine it with a date into timestamp[ns]" in finding.message
    report = check_table(with_column("big_int", pa.array([1, 2, 3], pa.duration("s"))), MODEL)
    assert any("cast it to int64" in f.message for f in report.findings if f.code == "column-type")


# -- numbers: exact ranges ----------------------------------------------------------------------


def test_int64_overflow_in_double_and_decimal_columns() -> None:
    doubles = pa.array([2.0**63, -(2.0**63), 9.2e18])
    assert ("big_int", "int-range", 0) in found(with_column("big_int", doubles))
    assert ("big_int", "int-range", 1) not in found(with_column("big_int", doubles))
    decimals = pa.array(
        [decimal.Decimal(2**63), decimal.Decimal(2**63 - 1), decimal.Decimal(-(2**63) - 1)], pa.decimal128(38, 0)
    )
    assert {r for c, code, r in found(with_column("big_int", decimals)) if code == "int-range"} == {0, 2}


@pytest.mark.parametrize("factory", ["decimal32", "decimal64", "decimal128", "decimal256"])
def test_decimals_of_every_width(factory: str) -> None:
    values = pa.array([decimal.Decimal("1.5"), decimal.Decimal("2.0"), None], getattr(pa, factory)(9, 1))
    result = found(with_column("big_int", values))
    assert ("big_int", "type", 0) in result  # a fraction
    assert ("big_int", "type", 2) in result  # a null where the type has none, as `check` reports it
    assert ("big_int", "integer-null", 2) not in result


def test_uint64_and_float16() -> None:
    assert ("big_int", "int-range", 0) in found(with_column("big_int", pa.array([2**64 - 1, 0, 1], pa.uint64())))
    import numpy as np

    halves = pa.array(np.array([1.5, np.inf, 2.0], dtype=np.float16))
    assert found(with_column("score", halves)) == {("score", "non-finite", 1)}


def test_nulls_in_integer_columns_are_integer_null() -> None:
    result = found(with_column("rating", pa.array([1, None, 3], pa.int64())))
    assert result == {("rating", "integer-null", 1)}


# -- encodings ----------------------------------------------------------------------------------


def test_encodings_are_read_as_their_values() -> None:
    for values in (
        pa.array(["news", "bad", "news"]).dictionary_encode(),
        pc.run_end_encode(pa.array(["news", "bad", "news"])),
        pa.array(["news", "bad", "news"], pa.string_view()),
    ):
        assert found(with_column("category", values)) == {("category", "enum", 1)}


def test_uuid_and_json_extension_columns_are_text() -> None:
    ids = pa.array([uuid.uuid4().bytes for _ in range(3)], pa.uuid())
    assert found(with_column("label", ids)) == set()
    assert found(with_column("label", pa.array(["{}", "[]", "1"], pa.json_()))) == set()


def test_list_views_and_nested_encodings() -> None:
    columns = base()
    columns["tags"] = pa.array([["a"], ["b", "c"], None], pa.list_view(pa.string()))
    assert all(code != "column-type" for _, code, _ in found(pa.table(columns)))


def test_invalid_utf8_in_a_string_array_is_the_utf8_rule() -> None:
    bad = pa.array([b"ok", b"\xff\xfe", b"fine"]).view(pa.string())
    assert found(with_column("label", bad)) == {("label", "utf8", 1)}
    assert found(with_column("created_at", bad)) >= {("created_at", "utf8", 1)}


# -- every table a user has ---------------------------------------------------------------------


def test_parquet_folder_with_mixed_schemas_is_unified_or_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    table = pa.table(base())
    pq.write_table(table, folder / "a.parquet")
    pq.write_table(table.set_column(1, "small_int", table.column("small_int").cast(pa.int64())), folder / "b.parquet")
    pq.write_table(table.drop_columns(["rating"]), folder / "c.parquet")
    report = check_table(folder, MODEL)
    assert report.rows == 9
    assert {f.code for f in report.errors} == {"integer-null"}  # rating is missing from c.parquet: nulls
    pq.write_table(table.set_column(1, "small_int", pa.array(["x"] * 3)), folder / "d.parquet")
    with pytest.raises(SchemakitError, match=r"column 'small_int' is .* in .* but string in"):
        check_table(folder, MODEL)


def test_hive_partition_columns_are_columns(tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    table = pa.table(base(4)).set_column(7, "rating", pa.array([1, 1, 2, 2], pa.int64()))
    ds.write_dataset(table, tmp_path / "hive", format="parquet", partitioning=["rating"], partitioning_flavor="hive")
    report = check_table(tmp_path / "hive", MODEL)
    assert report.rows == 4
    assert not report.errors, report.to_text()


def test_csv_na_is_text_and_quoted_newlines_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    header = "flag,small_int,big_int,ratio,score,label,created_at,rating\n"
    # Over pyarrow's 4 MB block, with newlines inside quoted values throughout.
    filler = ['true,1,2,0.5,1.5,"line one\nline two",2024-01-01T00:00:00,3'] * 120_000
    rows = ['true,1,2,0.5,1.5,NA,2024-01-01T00:00:00,3', 'true,1,2,0.5,1.5,"a\nb",2024-01-01T00:00:00,3',
            'true,1,2,0.5,1.5,null,2024-01-01T00:00:00,3', 'true,1,2,0.5,1.5,,2024-01-01T00:00:00,3', *filler]  # fmt: skip
    path.write_text(header + "\n".join(rows) + "\n")
    assert path.stat().st_size > 5_000_000
    assert found(path) == {("label", "type", 3)}
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert found(gz) == {("label", "type", 3)}


def test_folders_and_globs_of_csv_and_json(tmp_path: Path) -> None:
    rows = pa.table(base()).to_pylist()
    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    import pyarrow.csv as pcsv

    (tmp_path / "csv").mkdir()
    pcsv.write_csv(pa.table(base()), tmp_path / "csv" / "a.csv")
    pcsv.write_csv(pa.table(base()), tmp_path / "csv" / "b.csv")
    assert check_table(tmp_path / "csv", MODEL).rows == 6
    assert check_table(str(tmp_path / "*.jsonl"), MODEL).rows == 6
    with pytest.raises(SchemakitError, match="no file matches"):
        check_table(str(tmp_path / "*.nothing"), MODEL)


def test_pandas_default_json_lines_epoch_dates_are_refused(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pa.table(base()).to_pandas()
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    path = tmp_path / "pandas.jsonl"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns its default will become ISO
        frame.to_json(path, orient="records", lines=True)
    report = check_table(path, MODEL)
    (finding,) = report.errors
    assert (finding.column, finding.code) == ("created_at", "column-type")


def test_json_lines_maps_whose_keys_differ_per_row(tmp_path: Path) -> None:
    row = {k: (v[0] if isinstance(v, list) else v.to_pylist()[0]) for k, v in base(1).items()}
    path = tmp_path / "maps.jsonl"
    path.write_text(
        json.dumps({**row, "counts": {"a": 1}}) + "\n" + json.dumps({**row, "counts": {"b": 2, "c": 3}}) + "\n"
    )
    assert found(path) == set()


def test_feather_v1_and_polars_ipc(tmp_path: Path) -> None:
    import warnings

    import pyarrow.feather as feather

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        feather.write_feather(pa.table(base()), tmp_path / "v1.feather", version=1)
    assert check_table(tmp_path / "v1.feather", MODEL).ok
    pl = pytest.importorskip("polars")
    pl.from_arrow(pa.table(base())).write_ipc(tmp_path / "polars.arrow")
    assert check_table(tmp_path / "polars.arrow", MODEL).ok


def test_unreadable_tables_are_one_line(tmp_path: Path) -> None:
    for name, data in (
        ("t.parquet", b"PAR1garbage"),
        ("t.arrow", b"\x00" * 40),
        ("t.csv", b"\xff\xfe\x00"),
        ("t.jsonl", b"{bad"),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            check_table(path, MODEL)
        except SchemakitError as exc:
            message = str(exc)
        else:
            message = ""
        assert "\n" not in message


def test_parquet_is_read_without_pre_buffering(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[Any] = []
    original = pq.ParquetFile

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("pre_buffer"))
        return original(*args, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", spy)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(base()), path)
    check_table(path, MODEL)
    assert seen
    assert set(seen) == {False}


def test_rows_longer_than_a_reader_block(tmp_path: Path) -> None:
    big = "x" * 5_000_000
    path = tmp_path / "big.csv"
    path.write_text("label,small_int\n" + "a,1\n" * 3 + f'"{big}\n{big}",2\n' + ",3\n")
    assert found(path, columns=["label", "small_int"]) == {("label", "type", 4)}
    lines = tmp_path / "big.jsonl"
    lines.write_text(json.dumps({"label": "a"}) + "\n" + json.dumps({"label": big * 2}) + "\n" + '{"label": null}\n')
    assert found(lines, columns=["label"]) == {("label", "type", 2)}


def test_a_csv_header_without_rows_is_an_empty_table(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("flag,small_int,big_int,ratio,score,label,created_at,rating\n")
    report = check_table(path, MODEL)
    assert report.rows == 0
    assert "empty-input" in {f.code for f in report.findings}


def test_a_file_uri_is_a_local_path(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table(base()), path)
    assert check_table(path.as_uri(), MODEL).ok


def test_hive_partitioned_csv_folder(tmp_path: Path) -> None:
    import pyarrow.csv as pcsv

    table = pa.table(base(2)).drop_columns(["flag"])
    for flag in ("true", "false"):
        folder = tmp_path / "csv" / f"flag={flag}" / "extra=x"
        folder.mkdir(parents=True)
        pcsv.write_csv(table, folder / "part.csv")
    report = check_table(tmp_path / "csv", MODEL)
    assert report.rows == 4
    assert not report.errors, report.to_text()


def test_delta_table_with_deletion_vectors_enabled(tmp_path: Path) -> None:
    deltalake = pytest.importorskip("deltalake")
    path = str(tmp_path / "dv")
    table = pa.table(base(4)).set_column(1, "small_int", pa.array([1, 2**40, 3, 4], pa.int64()))
    deltalake.write_deltalake(path, table, configuration={"delta.enableDeletionVectors": "true"})
    deltalake.write_deltalake(path, pa.table(base(2)), mode="append")
    deltalake.DeltaTable(path).delete("small_int = 3")
    report = check_table(path, MODEL)
    assert report.rows == 5
    assert {f.code for f in report.errors} == {"int-range"}


@pytest.mark.parametrize("block", [3, 7, 64, 1 << 24])
def test_json_lines_screen_across_blocks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, block: int) -> None:
    from schemakit.table import sources

    monkeypatch.setattr(sources, "_SCAN_BLOCK", block)
    cases = {
        b'{"a": 1}\n{"b": [1, 2]}\n\n  {"c": "x"}\n': None,
        b"null": "line 1: not a JSON object",
        b'\xef\xbb\xbf{"a": 1}\n': None,
        b'{"a": 1}\n   \n  [1]\n': "line 3: not a JSON object",
        b'{"a": "[[[[[[[[[[[["}\n{"b": ' + b"[" * 20 + b"]" * 20 + b"}\n": "line 2: a JSON value nested more than 8",
        b'{"a": "\\"[[[[[[[[[[[[[["}\n': None,
    }
    for number, (data, refused) in enumerate(cases.items()):
        path = tmp_path / f"{number}.jsonl"
        path.write_bytes(data)
        if refused is None:
            sources.check_json_depth(path, limit=8)
        else:
            with pytest.raises(SchemakitError, match=refused):
                sources.check_json_depth(path, limit=8)


def test_int96_timestamps_in_a_folder_do_not_wrap(tmp_path: Path) -> None:
    folder = tmp_path / "int96"
    folder.mkdir()
    for name, year in (("a", 2024), ("b", 1500)):
        table = with_column("created_at", pa.array([dt.datetime(year, 1, 1)] * 3, pa.timestamp("us")))
        pq.write_table(table, folder / f"{name}.parquet", use_deprecated_int96_timestamps=True)
    result = found(folder)
    assert {row for column, code, row in result if code == RANGE} == {3, 4, 5}


def test_column_names_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_bytes(b"\xff,label\n1,a\n")
    with pytest.raises(SchemakitError, match="column names are not UTF-8"):
        check_table(path, MODEL)


def test_extreme_durations_and_times_in_any_column() -> None:
    columns = base()
    columns["extra"] = pa.array([-86399999913600001, 2**63 - 1, None], pa.int64()).cast(pa.duration("ms"))
    report = check_table(pa.table(columns), MODEL)
    assert report.advice is not None
    columns["label"] = pa.array([-86399999913600001, 2**63 - 1, 0], pa.int64()).cast(pa.duration("ms"))
    assert any(f.code == "column-type" for f in check_table(pa.table(columns), MODEL).errors)
