"""replay on hostile tables: each input class ends in a verdict or a one-line error, never a traceback."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemakit.table import replay

GOOD = {
    "flag": True,
    "small_int": 1,
    "big_int": 2,
    "ratio": 0.5,
    "score": 1.5,
    "label": "a",
    "created_at": "2024-01-01T00:00:00",
    "rating": 4,  # a null is `integer-null` (MLflow cannot hold it in an integer column)
}
GOOD_BODY = json.dumps({"dataframe_records": [GOOD]})


def no_traceback(result: Any) -> None:
    assert result.returncode in (0, 1, 2), result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_bom_before_the_first_line(tmp_path: Path, run_cli, all_types: str) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"request": GOOD_BODY, "status_code": 200}).encode() + b"\n")
    report = replay(path, all_types)
    assert (report.total, report.rejected, report.status_column) == (1, 0, "status_code")
    no_traceback(run_cli("replay", all_types, str(path)))


def test_an_unreadable_first_line_is_counted_not_fatal(tmp_path: Path, run_cli, all_types: str) -> None:
    path = tmp_path / "bad-first.jsonl"
    lines = [b"garbage {", b"\xff\xfe not utf-8", json.dumps({"request": GOOD_BODY, "status_code": 200}).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = replay(path, all_types)
    assert (report.total, report.rejected, report.unreadable) == (1, 0, 2)
    result = run_cli("replay", all_types, str(path))
    no_traceback(result)
    assert result.returncode == 0
    assert "2 rows unreadable (row 0 at line 1, row 1 at line 2)" in result.stdout


def test_no_json_object_at_all_is_a_one_line_error(tmp_path: Path, run_cli, all_types: str) -> None:
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b"\xff\xfe\x00\x01\n[1, 2]\n")
    result = run_cli("replay", all_types, str(path))
    no_traceback(result)
    assert result.returncode == 2
    assert "no JSON object" in result.stderr


@pytest.mark.parametrize("status", ["1e999", "-1e999", "Infinity", "NaN", "9" * 5000, '"200"', "200.5", "true"])
def test_a_status_that_is_not_a_number_json_lines(tmp_path: Path, all_types: str, status: str) -> None:
    bad = json.dumps({"dataframe_records": [{**GOOD, "small_int": 2**40}]})
    path = tmp_path / "status.jsonl"
    path.write_text(f'{{"request": {json.dumps(bad)}, "status_code": {status}}}\n')
    report = replay(path, all_types)
    assert (report.total, report.rejected, report.unreadable) == (1, 1, 0)
    # Only a status that is 200 gates; the text "200" is how some exports write it.
    assert report.rejected_succeeded == (1 if status == '"200"' else 0)


@pytest.mark.parametrize("status", [float("inf"), float("-inf"), float("nan"), 200.0, 1e300])
def test_a_float_status_column(tmp_path: Path, all_types: str, status: float) -> None:
    bad = json.dumps({"dataframe_records": [{**GOOD, "small_int": 2**40}]})
    path = tmp_path / "status.parquet"
    pq.write_table(pa.table({"request": [bad], "status_code": pa.array([status], pa.float64())}), path)
    report = replay(path, all_types)
    assert (report.rejected, report.rejected_succeeded) == (1, 1 if status == 200.0 else 0)


def test_struct_request_columns_with_decimals_bytes_and_durations(tmp_path: Path, run_cli, all_types: str) -> None:
    record = {
        **GOOD,
        "ratio": decimal.Decimal("0.25"),
        "score": decimal.Decimal("1.5"),
        "label": b"\x00\xffbytes",
        "created_at": dt.timedelta(seconds=3, microseconds=5),
    }
    path = tmp_path / "struct.parquet"
    pq.write_table(pa.table({"request": pa.array([{"dataframe_records": [record]}]), "status_code": [200]}), path)
    report = replay(path, all_types)
    assert report.total == 1
    assert report.unreadable == 0
    # Decimals are numbers (accepted), bytes base64 text (a string: accepted), a duration is not a datetime.
    assert {(g.code, g.column) for g in report.groups} == {("datetime-iso8601", "created_at")}
    no_traceback(run_cli("replay", all_types, str(path)))


def test_struct_requests_holding_maps_and_extreme_dates(tmp_path: Path, run_cli, all_types: str) -> None:
    maps = pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64()))
    far = pa.array([2**62], pa.date64())  # a date64 past Python's datetime range
    struct = pa.StructArray.from_arrays([maps, far], names=["meta", "when"])
    path = tmp_path / "odd.parquet"
    pq.write_table(pa.table({"request": struct}), path)
    result = run_cli("replay", all_types, str(path), "--format", "json")
    no_traceback(result)
    data = json.loads(result.stdout)
    assert data["requests"] + data["unreadable"] == 1


def test_request_column_of_other_types(tmp_path: Path, run_cli, all_types: str) -> None:
    path = tmp_path / "ints.parquet"
    pq.write_table(pa.table({"request": pa.array([1, None, 3], pa.int64())}), path)
    report = replay(path, all_types)
    assert (report.total, report.rejected, report.skipped) == (2, 2, 1)
    binary = tmp_path / "binary.parquet"
    pq.write_table(pa.table({"request": pa.array([GOOD_BODY.encode(), b"\xff"], pa.binary())}), binary)
    report = replay(binary, all_types)
    assert (report.total, report.rejected) == (2, 1)
    assert report.groups[0].code == "invalid-json"


INJECTION = "m\n::error title=PWNED::owned\r\x1b]0;t\x07\u202e"


@pytest.fixture(scope="module")
def hostile_spec(tmp_path_factory: pytest.TempPathFactory, all_types: str) -> str:
    document = json.loads(Path(all_types).read_text())
    (_path, item), *_ = document["paths"].items()
    document["paths"] = {f"/served-models/{INJECTION}/invocations": item}
    out = tmp_path_factory.mktemp("hostile") / "spec.json"
    out.write_text(json.dumps(document))
    return str(out)


def test_no_output_line_from_table_or_document_text_starts_a_workflow_command(
    tmp_path: Path, run_cli, hostile_spec: str
) -> None:
    bad = json.dumps({"dataframe_records": [{**GOOD, "small_int": 2**40}], INJECTION: 1})
    path = tmp_path / "gw.jsonl"
    rows = [
        {"request": bad, "status_code": 200, "requester": INJECTION, "served_entity_id": INJECTION},
        {"request": bad, "status_code": 200, "requester": "ok", "served_entity_id": "e-unknown\n::warning::x"},
        {"request": None, "status_code": 200, "logging_error_codes": [INJECTION], "requester": INJECTION},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for extra in ([], ["--model", INJECTION]):
        result = run_cli("replay", hostile_spec, str(path), *extra)
        no_traceback(result)
        assert result.returncode == 1
        for line in (result.stdout + result.stderr).splitlines():
            assert not line.lstrip().startswith("::"), line
            assert "\x1b" not in line
            assert "\r" not in line
            assert "\u202e" not in line
        assert "m\\n::error" in result.stdout


def test_a_table_of_countless_entities_callers_and_days_stays_bounded(tmp_path: Path, all_types: str) -> None:
    n = 3_000
    table = pa.table(
        {
            "request": [GOOD_BODY] * n,
            "served_entity_id": [f"entity-{i}" for i in range(n)],
            "requester": [f"caller-{i}" for i in range(n)],
            "request_date": pa.array(list(range(n)), pa.date32()),
        }
    )
    path = tmp_path / "wide.parquet"
    pq.write_table(table, path)
    report = replay(path, all_types, served_entities={"entity-1": "nope"})
    assert len(report.unrouted) <= 101
    assert sum(report.unrouted.values()) == n
    assert "(other served entities)" in report.unrouted
    assert len(report.to_text().splitlines()) < 200


def test_partial_tallies_merge_as_the_spark_engine_merges_them(all_types: str) -> None:
    import schemakit
    from schemakit import compile_validator
    from schemakit.table.replayer import ReplayTally

    validator = compile_validator(schemakit.load(all_types).models[0])
    bad = json.dumps({"dataframe_records": [{**GOOD, "small_int": 2**40}]}).encode()
    bodies = [GOOD_BODY.encode(), bad, None, b"{not json", GOOD_BODY.encode(), bad]
    whole = ReplayTally(validator)
    for row, body in enumerate(bodies):
        whole.add(row, body, True)
    driver = ReplayTally(validator)
    for start in (0, 3):
        part = ReplayTally(validator)
        for row in range(start, start + 3):
            part.add(row, bodies[row], True)
        part.flush()
        driver.merge_json(json.loads(json.dumps(part.to_json())))
    merged, alone = driver.report("t", "spark", None), whole.report("t", "arrow", None)
    assert (merged.total, merged.rejected, merged.rejected_succeeded, merged.skipped) == (5, 3, 3, 1)
    assert merged.groups == alone.groups
    assert driver.traffic.callers()[0].requests == 5
