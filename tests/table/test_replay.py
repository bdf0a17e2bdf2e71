"""replay: logged request bodies through the payload engine, counted and grouped by rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from schemakit.table import replay

ROW = {
    "flag": True,
    "small_int": 1,
    "big_int": 2,
    "ratio": 0.5,
    "score": 1.5,
    "label": "a",
    "created_at": "2024-01-01T00:00:00",
    "rating": 4,  # a null here is `integer-null`: MLflow cannot hold it in an integer column
}
BAD = {17: {"small_int": 2**40}, 500: {"label": None}, 901: {"small_int": 2**41}}


def logged(n: int = 1_000, bad: dict[int, dict[str, Any]] = BAD, status: int = 200) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        body = {"dataframe_records": [{**ROW, "big_int": i, **bad.get(i, {})}]}
        rows.append({"request": json.dumps(body), "status_code": status if i in bad else 200})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("logs") / "requests.jsonl", logged())


def test_three_bad_of_a_thousand_exit_1_grouped_by_rule(run_cli, logs: Path, all_types: str) -> None:
    result = run_cli("replay", all_types, str(logs))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "3 of 1,000 logged requests (0.30%) would be rejected by all_types_model-1" in out
    assert "3 of them succeeded when logged (status_code 200)" in out
    assert "[int-range] column small_int: 2 requests" in out
    assert "[type] column label: 1 request" in out
    assert "row 17:" in out
    assert "row 901:" in out
    assert "row 500:" in out


def test_json_report(run_cli, logs: Path, all_types: str) -> None:
    result = run_cli("replay", all_types, str(logs), "--format", "json")
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert (report["requests"], report["rejected"], report["rejected_succeeded"]) == (1000, 3, 3)
    groups = {(g["code"], g["column"]): g["count"] for g in report["groups"]}
    assert groups == {("int-range", "small_int"): 2, ("type", "label"): 1}


def test_requests_that_failed_when_logged_do_not_gate(tmp_path: Path, all_types: str) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", logged(50, {3: {"small_int": 2**40}}, status=400))
    report = replay(path, all_types)
    assert (report.rejected, report.rejected_succeeded, report.ok) == (1, 0, True)


def test_parquet_column_of_bodies_without_status(tmp_path: Path, all_types: str) -> None:
    rows = logged(100, {5: {"small_int": 2**40}})
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"body": [r["request"] for r in rows]}), path)
    report = replay(path, all_types, column="body")
    assert (report.total, report.rejected, report.rejected_succeeded, report.status_column) == (100, 1, 1, None)
    assert report.groups[0].rows == (5,)


def test_bodies_logged_as_objects_and_not_json(tmp_path: Path, all_types: str) -> None:
    path = tmp_path / "r.jsonl"
    lines = [
        json.dumps({"request": {"dataframe_records": [ROW]}}),
        json.dumps({"request": "{not json"}),
        json.dumps({"request": None}),
    ]
    path.write_text("\n".join(lines) + "\n")
    report = replay(path, all_types)
    assert (report.total, report.rejected, report.skipped) == (2, 1, 1)
    assert report.groups[0].code == "invalid-json"


def test_cannot_run(run_cli, logs: Path, all_types: str) -> None:
    result = run_cli("replay", all_types, str(logs), "--column", "nope")
    assert result.returncode == 2
    assert "no column 'nope'" in result.stderr
    result = run_cli("replay", all_types, str(logs), "--status-column", "nope")
    assert result.returncode == 2
    assert "no status column 'nope'" in result.stderr


def test_bundled_requests_get_the_verdicts_they_get_one_by_one(tmp_path: Path, all_types: str) -> None:
    import schemakit
    from schemakit import compile_validator

    good = {**ROW}
    shapes = [
        {"dataframe_records": [good]},
        {"dataframe_records": [{**good, "small_int": 2**40}]},
        {"dataframe_records": [good], "params": {"temperature": "hot"}},
        {"dataframe_records": []},
        {"dataframe_records": [{**good, "created_at": "2024-01-01T00:00"}]},  # another form, alone it is fine
        {"dataframe_split": {"columns": list(good), "data": [list(good.values())]}},
    ]
    texts = [json.dumps(s) for s in shapes]
    texts.append('{"dataframe_records": [{"flag": true}], "x": [1]}')  # ends like a records body
    texts.append('{"dataframe_records": [' + json.dumps(good) + "]")  # not JSON
    bodies = [texts[(i * 7) % len(texts)] if i % 3 else texts[0] for i in range(3_000)]
    path = write_jsonl(tmp_path / "r.jsonl", [{"request": b} for b in bodies])
    report = replay(path, all_types)
    validator = compile_validator(schemakit.load(all_types).models[0])
    one_by_one = [validator.validate_json(b.encode()) for b in bodies]
    assert report.rejected == sum(not r.ok for r in one_by_one)
    expected: dict[tuple[str, Any], int] = {}
    for r in one_by_one:
        for key in {(p.code, p.column) for p in r.errors}:
            expected[key] = expected.get(key, 0) + 1
    assert {(g.code, g.column): g.count for g in report.groups} == expected
    first_rejected = min(i for i, r in enumerate(one_by_one) if not r.ok)
    assert min(row for g in report.groups for row in g.rows) == first_rejected
