"""Differential: the generated TypeScript validator and the Python engine (`schemakit.check_payload`) give the
same verdict on the same payload text (issue 23). Payloads are drawn for each sample's served models: rows of
their own columns with values of the right kind, near misses (1.0 for an integer, 2**63, null, text, nesting)
and hostile shapes; a batch of them runs in one node process per example."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemakit
from schemakit.check.validator import check_payload
from schemakit.codegen.generate import generate_package, write_package
from schemakit.core.model import DataType, FormatKind, Kind

from ..codegen.node import NODE, TSC, tsc_compile
from ..security.hostile import SAMPLES
from .strategies import fuzz_settings, fuzz_timeout, json_values, payloads

pytestmark = [pytest.mark.skipif(TSC is None or NODE is None, reason="tsc or node not installed"), fuzz_timeout(300)]

SAMPLE_FILES = [
    "docs-example-dataframe.json",
    "all-types.json",
    "columnar-inputs.json",
    "foundation-model-chat.json",
    "tensor-model.json",
    "multi-model.json",
    "house-prices.yaml",
]


@dataclass
class Model:
    package: int
    served: str
    columns: list[str]


@dataclass
class Rig:
    folder: Path
    schemas: list[schemakit.EndpointSchema]
    models: list[Model]


RUNNER = """
const fs = require("fs");
const packages = JSON.parse(process.argv[2]).map((path) => require(path));
const cases = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
const byName = packages.map((pkg) => {
  const out = {};
  for (const value of Object.values(pkg)) {
    if (value !== null && typeof value === "object" && typeof value.validateJson === "function") out[value.name] = value;
  }
  return out;
});
console.log(JSON.stringify(cases.map(([index, served, text]) => byName[index][served].validateJson(text).ok)));
"""


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Rig:
    folder = tmp_path_factory.mktemp("ts-differential")
    sources = []
    for index, schema in enumerate(SCHEMAS):
        write_package(generate_package(schema, package=f"d{index}", target="typescript"), folder / "src")
        sources.append(folder / "src" / f"d{index}" / "index.ts")
    compiled = tsc_compile(folder, sources)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (folder / "run.js").write_text(RUNNER)
    return Rig(folder, SCHEMAS, MODELS)


near_values = st.one_of(
    st.integers(-1000, 1000),
    st.sampled_from([1.0, 0.5, -0.0, 2**31, 2**63, -(2**63), 2**63 - 1, 1e300, "", "1", "2024-01-31T00:00:00Z"]),
    st.sampled_from(["aGVsbG8=", "not base64!", "2024-02-30", True, False, None, [], {}, [1, 2], {"a": 1}]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    json_values,
)


def typed(dtype: DataType | None, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the column's own type (mostly), so that many payloads pass and the verdicts mean something."""
    if dtype is None or depth > 3:
        return json_values
    kind = dtype.kind
    if dtype.enum:
        right: st.SearchStrategy[Any] = st.sampled_from(dtype.enum)
    elif kind is Kind.BOOLEAN:
        right = st.booleans()
    elif kind is Kind.INTEGER:
        right = st.integers(-(2**31), 2**31 - 1)
    elif kind is Kind.LONG:
        right = st.integers(-(2**63), 2**63 - 1)
    elif kind in (Kind.FLOAT, Kind.DOUBLE):
        right = st.floats(-1e30, 1e30) | st.integers(-100, 100)
    elif kind is Kind.STRING:
        right = st.text(max_size=8)
    elif kind is Kind.BINARY:
        right = st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode())
    elif kind is Kind.DATETIME:
        right = st.sampled_from(["2024-01-31", "2024-01-31T10:20:30Z", "2024-01-31 10:20:30.123+02:00"])
    elif kind is Kind.ARRAY:
        right = st.lists(typed(dtype.items, depth + 1), max_size=3)
    elif kind is Kind.MAP:
        right = st.dictionaries(st.text(max_size=3), typed(dtype.items, depth + 1), max_size=3)
    elif kind is Kind.OBJECT and dtype.fields:
        right = st.fixed_dictionaries(
            {f.name: typed(f.type, depth + 1) for f in dtype.fields if f.required},
            optional={f.name: typed(f.type, depth + 1) for f in dtype.fields if not f.required},
        )
    elif kind is Kind.UNION:
        right = st.one_of([typed(v, depth + 1) for v in dtype.variants] or [json_values])
    else:
        right = json_values
    if dtype.nullable:
        right = right | st.none()
    # One value in ten a near miss (one_of would fold copies of the same strategy into one branch).
    return st.integers(0, 9).flatmap(lambda n: near_values if n == 0 else right)


def typed_rows(model: Model) -> st.SearchStrategy[Any]:
    served = next(m for m in SCHEMAS[model.package].models if m.name == model.served)
    shapes: list[st.SearchStrategy[Any]] = []
    for fmt in served.formats:
        columns = list(fmt.columns)
        if fmt.kind is FormatKind.OBJECT:
            shapes.append(
                st.fixed_dictionaries(
                    {c.name: typed(c.type) for c in columns if c.required},
                    optional={c.name: typed(c.type) for c in columns if not c.required},
                )
            )
            continue
        row = st.fixed_dictionaries(
            {c.name: typed(c.type) for c in columns if c.required},
            optional={c.name: typed(c.type) for c in columns if not c.required},
        )
        if fmt.kind is FormatKind.DATAFRAME_RECORDS and columns:
            shapes.append(st.builds(lambda rows: {"dataframe_records": rows}, st.lists(row, min_size=1, max_size=3)))
        elif fmt.kind is FormatKind.DATAFRAME_SPLIT and columns:
            ordered = sorted(columns, key=lambda c: c.position or 0)
            cells = st.tuples(*(typed(c.type) for c in ordered)).map(list)
            shapes.append(
                st.builds(
                    _split,
                    st.just([c.name for c in ordered]),
                    st.lists(cells, min_size=1, max_size=3),
                    st.integers(0, 9).map(bool),
                )
            )
        elif fmt.kind is FormatKind.INSTANCES:
            item = row if columns else typed(fmt.tensor)
            shapes.append(st.builds(lambda rows: {"instances": rows}, st.lists(item, min_size=1, max_size=2)))
        elif fmt.kind is FormatKind.INPUTS:
            if columns:
                shapes.append(
                    st.builds(
                        lambda cols: {"inputs": cols},
                        st.fixed_dictionaries(
                            {c.name: st.lists(typed(c.type), min_size=1, max_size=2) for c in columns}
                        ),
                    )
                )
            else:
                shapes.append(
                    st.builds(lambda rows: {"inputs": rows}, st.lists(typed(fmt.tensor), min_size=1, max_size=2))
                )
    return st.one_of(shapes) if shapes else json_values


def _split(names: list[str], data: list[Any], named: bool) -> dict[str, Any]:
    return {"dataframe_split": {"columns": names, "data": data} if named else {"data": data}}


def rows_for(columns: list[str]) -> st.SearchStrategy[Any]:
    row = st.dictionaries(st.sampled_from(columns), near_values, max_size=len(columns)) | st.fixed_dictionaries(
        dict.fromkeys(columns, near_values)
    )
    picked = st.lists(st.sampled_from(columns), max_size=len(columns) + 1)
    return st.one_of(
        st.fixed_dictionaries({"dataframe_records": st.lists(row, min_size=0, max_size=3)}),
        st.builds(
            lambda cols, data: {"dataframe_split": {"columns": cols, "data": data}},
            picked,
            st.lists(st.lists(near_values, max_size=len(columns) + 1), max_size=3),
        ),
        st.builds(lambda rows: {"instances": rows}, st.lists(row | near_values, max_size=3)),
        st.builds(
            lambda cols: {"inputs": cols}, st.dictionaries(st.sampled_from(columns), st.lists(near_values, max_size=3))
        ),
        st.builds(
            lambda messages, extra: {"messages": messages, **extra},
            st.lists(
                st.fixed_dictionaries(
                    {"role": st.sampled_from(["user", "assistant", "system", "x"]), "content": near_values}
                ),
                max_size=3,
            ),
            st.dictionaries(st.sampled_from(["max_tokens", "temperature", "stream", "n"]), near_values, max_size=2),
        ),
        payloads(columns),
    )


SCHEMAS = [schemakit.load(str(SAMPLES / name)) for name in SAMPLE_FILES]
MODELS = [
    Model(index, served.name, sorted({c.name for fmt in served.formats for c in fmt.columns}) or ["x"])
    for index, schema in enumerate(SCHEMAS)
    for served in schema.models
]
# Deferred: hypothesis writes a strategy's repr, and this one's is 30 kB.
cases_strategy = st.deferred(
    lambda: st.one_of(
        [
            st.tuples(
                st.just(i), st.integers(0, 3).flatmap(lambda n, m=m: rows_for(m.columns) if n == 0 else typed_rows(m))
            )
            for i, m in enumerate(MODELS)
        ]
    )
)


@fuzz_settings(5)
@given(batch=st.lists(cases_strategy, min_size=40, max_size=40))
def test_typescript_validator_agrees_with_the_python_engine(rig: Rig, batch: list[tuple[int, Any]]) -> None:
    cases = []
    expected = []
    for which, payload in batch:
        model = rig.models[which]
        text = json.dumps(payload, ensure_ascii=True)
        cases.append((model.package, model.served, text))
        expected.append(check_payload(rig.schemas[model.package], text.encode(), model=model.served).ok)
    (rig.folder / "cases.json").write_text(json.dumps(cases))
    modules = [str(rig.folder / "js" / f"d{i}" / "index.js") for i in range(len(rig.schemas))]
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(rig.folder / "run.js"), json.dumps(modules), str(rig.folder / "cases.json")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    disagreements = [
        (case[1], case[2][:300], want, have)
        for case, want, have in zip(cases, expected, got, strict=True)
        if want != have
    ]
    assert disagreements == [], disagreements[:5]
