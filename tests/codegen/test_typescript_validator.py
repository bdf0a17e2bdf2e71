"""The TypeScript validator on document patterns and prototype names (issue 23): patterns run on re2js in linear
time with RE2's syntax (as the Python engine's google-re2 does), a pattern RE2 refuses is reported rather than
thrown, and a required column named `toString` is missing when the row does not have it. Verdicts agree with
`schemakit.check_payload` on each case."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import schemakit
from schemakit.check.validator import check_payload
from schemakit.codegen.generate import generate_package, write_package

from . import documents
from .node import NODE, TSC, tsc_compile

pytestmark = pytest.mark.skipif(TSC is None or NODE is None, reason="tsc or node not installed")

COLUMNS = {
    "toString": {"type": "string"},
    "constructor": {"type": "integer"},
    "evil": {"type": "string", "pattern": "^(a+)+$"},
    "re2": {"type": "string", "pattern": "(?i)^ab(?P<tail>c)$"},
    "look": {"type": "string", "pattern": "^(?=x)x$"},
}
ROWS = [
    {"toString": "x"},
    {},
    {"constructor": 1},
    {"toString": "x", "evil": "a" * 28 + "b"},
    {"toString": "x", "evil": "a" * 5000},
    {"toString": "x", "re2": "ABC"},
    {"toString": "x", "re2": "abcd"},
    {"toString": "x", "look": "x"},
    {"toString": "x", "__proto__": 1},
]

SCRIPT = """
const pkg = require(process.argv[2]);
const cases = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const model = Object.values(pkg).find((v) => v !== null && typeof v === "object" && typeof v.validateJson === "function");
const started = Date.now();
const out = cases.map((text) => { const r = model.validateJson(text); return [r.ok, r.problems.map((p) => p.code)]; });
console.log(JSON.stringify({ out, ms: Date.now() - started }));
"""


def test_patterns_run_in_linear_time_and_prototype_names_are_not_columns(tmp_path: Path) -> None:
    doc = documents.document({"m-1": documents.records_model(COLUMNS, required=["toString"])}, title="patterns")
    schema = schemakit.load(str(documents.write(tmp_path / "doc.json", doc)))
    write_package(generate_package(schema, package="pat", target="typescript"), tmp_path / "src")
    compiled = tsc_compile(tmp_path, [tmp_path / "src" / "pat" / "index.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    payloads = [json.dumps({"dataframe_records": [row]}) for row in ROWS]
    (tmp_path / "cases.json").write_text(json.dumps(payloads))
    (tmp_path / "run.js").write_text(SCRIPT)
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(tmp_path / "run.js"), str(tmp_path / "js" / "pat" / "index.js"), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    got = [ok for ok, _codes in result["out"]]
    expected = [check_payload(schema, text.encode()).ok for text in payloads]
    assert got == expected
    assert got[:4] == [True, False, False, False]
    assert "required" in result["out"][1][1]
    assert got[5:7] == [True, False]  # RE2 syntax JavaScript's RegExp refuses: (?i), (?P<name>)
    assert "pattern" in result["out"][7][1]  # lookahead: RE2 cannot run it, reported, not thrown
    # Backtracking took 13.8 s on the 28-character case; RE2 is linear (a generous bound, not a benchmark).
    assert result["ms"] < 5000


def test_integer_nulls_as_check_says(tmp_path: Path) -> None:
    columns = {"s": {"type": "string"}, "n": {"type": ["integer", "null"]}, "m": {"type": "integer"}}
    doc = documents.document({"m-1": documents.records_model(columns, required=["s"])}, title="ints")
    schema = schemakit.load(str(documents.write(tmp_path / "doc.json", doc)))
    write_package(generate_package(schema, package="ints", target="typescript"), tmp_path / "src")
    compiled = tsc_compile(tmp_path, [tmp_path / "src" / "ints" / "index.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    bodies = [
        [{"s": "a", "n": None}],  # null where null is allowed: integer-null
        [{"s": "a", "m": None}],  # null where it is not: type
        [{"s": "a", "m": 1}, {"s": "b"}],  # a key other rows have: integer-null
        [{"s": "a"}, {"s": "b"}],  # left out of every row: fine
        [{"s": "a", "n": 1, "m": 2}],
    ]
    payloads = [json.dumps({"dataframe_records": rows}) for rows in bodies]
    (tmp_path / "cases.json").write_text(json.dumps(payloads))
    (tmp_path / "run.js").write_text(SCRIPT)
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(tmp_path / "run.js"), str(tmp_path / "js" / "ints" / "index.js"), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    got = [(ok, sorted(set(codes))) for ok, codes in json.loads(run.stdout)["out"]]
    expected = []
    for text in payloads:
        report = check_payload(schema, text.encode())
        expected.append((report.ok, sorted({p.code for p in report.errors})))
    assert got == expected
    assert [codes for _ok, codes in got] == [["integer-null"], ["type"], ["integer-null"], [], []]
