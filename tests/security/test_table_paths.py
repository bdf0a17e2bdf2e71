"""A table folder is untrusted: nothing in it (a symbolic link, a Delta log's paths, a file name with
wildcards) may make check-table or replay read a file the user did not name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from schemakit._exceptions import SchemakitError, SourceError  # noqa: E402
from schemakit.table import check_table  # noqa: E402
from schemakit.table.replayer import replay  # noqa: E402
from schemakit.table.sources import open_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "samples" / "all-types.json"
SECRET = 666  # the value only the file outside the table holds

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")


def _rows(where: Path | str) -> list[int]:
    return [v for b in open_table(where).batches() for v in b.column("a").to_pylist()]


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret"
    secret.mkdir()
    pq.write_table(pa.table({"a": [SECRET]}), secret / "secret.parquet")
    (secret / "secret.csv").write_text(f"a\n{SECRET}\n")
    (secret / "secret.jsonl").write_text(json.dumps({"a": SECRET}) + "\n")
    return secret


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl"])
def test_a_file_link_out_of_a_folder_is_refused(tmp_path: Path, outside: Path, suffix: str) -> None:
    table = tmp_path / "table"
    table.mkdir()
    (table / f"part-0.{suffix}").symlink_to(outside / f"secret.{suffix}")
    if suffix == "parquet":
        pq.write_table(pa.table({"a": [1]}), table / "part-1.parquet")
    elif suffix == "csv":
        (table / "part-1.csv").write_text("a\n1\n")
    else:
        (table / "part-1.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(SourceError, match=r"part-0\.\w+: leads outside the folder"):
        open_table(table)
    with pytest.raises(SchemakitError, match="leads outside"):
        check_table(table, SPEC)


def test_links_inside_the_folder_are_read_and_folder_links_out_are_refused(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "table"
    (table / "x=1").mkdir(parents=True)
    pq.write_table(pa.table({"a": [1]}), table / "x=1" / "part-0.parquet")
    (table / "x=1" / "part-1.parquet").symlink_to(table / "x=1" / "part-0.parquet")
    assert _rows(table) == [1, 1]
    (table / "x=2").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SourceError, match=r"x=2: leads outside the folder"):
        open_table(table)


def test_the_cli_says_so_in_one_line_and_exits_2(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "table"
    table.mkdir()
    (table / "part-0.parquet").symlink_to(outside / "secret.parquet")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "schemakit", "check-table", str(SPEC), str(table)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "leads outside the folder" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(SECRET) not in done.stdout


def test_replay_refuses_a_link_out_too(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "log"
    table.mkdir()
    pq.write_table(pa.table({"request": ['{"inputs": [1]}'], "status_code": [200]}), outside / "log.parquet")
    (table / "part-0.parquet").symlink_to(outside / "log.parquet")
    with pytest.raises(SchemakitError, match="leads outside"):
        replay(table, SPEC)


def _delta(tmp_path: Path) -> Path:
    deltalake = pytest.importorskip("deltalake")
    table = tmp_path / "delta"
    deltalake.write_deltalake(str(table), pa.table({"a": [1, 2]}))
    return table


def _add(table: Path, path: str) -> None:
    """A hostile commit: an `add` action naming `path`, appended to the first commit."""
    log = sorted((table / "_delta_log").glob("*.json"))[0]
    action = {"add": {"path": path, "partitionValues": {}, "size": 484, "modificationTime": 1, "dataChange": True}}
    with log.open("a") as out:
        out.write(json.dumps(action) + "\n")


@pytest.mark.parametrize("kind", ["relative", "absolute", "uri", "encoded"])
def test_a_delta_log_pointing_outside_is_refused_before_reading(tmp_path: Path, outside: Path, kind: str) -> None:
    table = _delta(tmp_path)
    assert _rows(table) == [1, 2]
    secret = outside / "secret.parquet"
    path = {
        "relative": os.path.relpath(secret, table),
        "absolute": str(secret),
        "uri": secret.as_uri(),
        "encoded": "%2E%2E/secret/secret.parquet",
    }[kind]
    _add(table, path)
    with pytest.raises(SourceError, match="the Delta log lists a data file outside the table"):
        open_table(table)


def test_a_delta_data_file_linking_out_is_refused(tmp_path: Path, outside: Path) -> None:
    table = _delta(tmp_path)
    (table / "linked.parquet").symlink_to(outside / "secret.parquet")
    _add(table, "linked.parquet")
    with pytest.raises(SourceError, match="leads outside the Delta table"):
        open_table(table)


def test_a_glob_reads_only_under_what_the_user_typed(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "table"
    table.mkdir()
    pq.write_table(pa.table({"a": [1]}), table / "part-0.parquet")
    assert _rows(f"{table}/**/*.parquet") == [1]
    (table / "more").symlink_to(outside, target_is_directory=True)  # `**` follows folder links
    with pytest.raises(SourceError, match="leads outside the folder"):
        open_table(f"{table}/**/*.parquet")


def test_wildcards_in_names_inside_a_table_are_not_expanded(tmp_path: Path, outside: Path) -> None:
    table = tmp_path / "table"
    table.mkdir()
    pq.write_table(pa.table({"a": [1]}), table / "[s]*.parquet")
    (tmp_path / "secret.parquet").write_bytes((outside / "secret.parquet").read_bytes())
    assert _rows(table) == [1]  # a folder is listed, never globbed
    assert _rows(table / "[s]*.parquet") == [1]  # a name that exists is that file, not a pattern
