"""The one type table (`schemakit.core.types`) and the model that carries types and bounds to every feature."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import schemakit
from schemakit.core.model import Column, DataType, Kind
from schemakit.core.types import (
    ARROW_TYPE,
    DIFF_WIDENINGS,
    EMULATOR_VALUE,
    PYTHON_ANNOTATION,
    SCALAR_KINDS,
    SPARK_TYPE,
    TYPESCRIPT_TYPE,
    arrow_type,
    kind_of,
    spark_type,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("json_type", "fmt", "kind"),
    [
        ("integer", None, Kind.LONG),
        ("integer", "int32", Kind.INTEGER),
        ("integer", "int64", Kind.LONG),
        ("number", None, Kind.DOUBLE),
        ("number", "float", Kind.FLOAT),
        ("string", None, Kind.STRING),
        ("string", "byte", Kind.BINARY),
        ("string", "binary", Kind.BINARY),
        ("string", "date-time", Kind.DATETIME),
        ("string", "datetime", Kind.DATETIME),
        ("string", "date", Kind.STRING),
        ("boolean", None, Kind.BOOLEAN),
        ("null", None, Kind.NULL),
        ("array", None, Kind.ARRAY),
        ("object", None, Kind.OBJECT),
        ("decimal", None, Kind.ANY),
        (["integer"], None, Kind.ANY),
    ],
)
def test_kind_of(json_type: object, fmt: str | None, kind: Kind) -> None:
    assert kind_of(json_type, fmt) is kind


def test_every_scalar_kind_is_in_every_target_table() -> None:
    for table in (PYTHON_ANNOTATION, TYPESCRIPT_TYPE, SPARK_TYPE, EMULATOR_VALUE, ARROW_TYPE):
        assert set(table) >= SCALAR_KINDS, table


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        PYTHON_ANNOTATION[Kind.LONG] = "str"  # type: ignore[index]
    with pytest.raises(TypeError):
        DIFF_WIDENINGS[(Kind.DOUBLE, Kind.LONG)] = DIFF_WIDENINGS[(Kind.INTEGER, Kind.LONG)]  # type: ignore[index]


def test_widenings_are_numeric_and_one_way() -> None:
    for old, new in DIFF_WIDENINGS:
        assert (new, old) not in DIFF_WIDENINGS
        assert old.value in ("integer", "long", "float")
        assert new.value in ("long", "float", "double")


def test_spark_types() -> None:
    row = DataType(
        Kind.OBJECT,
        fields=(
            Column("id", DataType(Kind.LONG)),
            Column("tags", DataType(Kind.ARRAY, items=DataType(Kind.STRING))),
            Column("scores", DataType(Kind.MAP, items=DataType(Kind.DOUBLE))),
            Column("at", DataType(Kind.DATETIME)),
        ),
    )
    assert spark_type(row) == "struct<id:bigint,tags:array<string>,scores:map<string,double>,at:timestamp>"
    assert spark_type(DataType(Kind.UNION, variants=(DataType(Kind.LONG), DataType(Kind.STRING)))) == "string"


def test_arrow_types() -> None:
    pa = pytest.importorskip("pyarrow")
    assert ARROW_TYPE[Kind.LONG]() == pa.int64()
    assert arrow_type(DataType(Kind.ARRAY, items=DataType(Kind.FLOAT))) == pa.list_(pa.float32())
    assert arrow_type(DataType(Kind.DATETIME)) == pa.timestamp("ns")


@pytest.mark.parametrize(
    "dtype",
    [
        DataType(Kind.LONG, minimum=5, maximum=7),
        DataType(Kind.INTEGER, exclusive_minimum=-3, exclusive_maximum=-1),
        DataType(Kind.DOUBLE, minimum=0.5, exclusive_maximum=0.75),
        DataType(Kind.STRING, min_length=40, max_length=41),
        DataType(Kind.STRING, max_length=3),
        DataType(Kind.LONG, maximum=-2000),
        DataType(Kind.LONG, minimum=0.5, maximum=1.5),
        DataType(Kind.INTEGER, exclusive_minimum=0.5, exclusive_maximum=2.5),
        DataType(Kind.DOUBLE, minimum=-(10**400), maximum=10**400),
        DataType(Kind.LONG, minimum=2**70, maximum=2**71),
    ],
)
def test_emulator_values_keep_the_bounds(dtype: DataType) -> None:
    for seed in (bytes(16), bytes(range(16)), b"\xff" * 16):
        value = EMULATOR_VALUE[dtype.kind](seed, dtype)
        if isinstance(value, str):
            assert (dtype.min_length or 0) <= len(value) <= (dtype.max_length or 10**9)
            continue
        assert isinstance(value, (int, float))
        assert dtype.minimum is None or value >= dtype.minimum
        assert dtype.maximum is None or value <= dtype.maximum
        assert dtype.exclusive_minimum is None or value > dtype.exclusive_minimum
        assert dtype.exclusive_maximum is None or value < dtype.exclusive_maximum


def _document(column_schema: dict[str, object]) -> dict[str, object]:
    row = {"type": "array", "prefixItems": [column_schema, {"type": "string", "format": "byte"}], "items": False}
    split = {
        "type": "object",
        "properties": {
            "columns": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
            "data": {"type": "array", "items": row},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://example.com"}],
        "paths": {
            "/served-models/m/invocations": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"type": "object", "properties": {"dataframe_split": split}}}
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


def test_the_model_keeps_bounds_and_positions() -> None:
    column = {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**70,
        "exclusiveMaximum": 2**71,
        "multipleOf": 3,
    }
    schema = schemakit.resolve(_document(column))
    split = schema.models[0].formats[0]
    x, y = split.columns
    assert (x.type.kind, y.type.kind) == (Kind.LONG, Kind.BINARY)
    assert x.type.bounds == {"minimum": 1, "maximum": 2**70, "exclusiveMaximum": 2**71, "multipleOf": 3}
    string = schemakit.resolve(_document({"type": "string", "minLength": 1, "maxLength": 9, "pattern": "^a"}))
    assert string.models[0].formats[0].columns[0].type.bounds == {"minLength": 1, "maxLength": 9, "pattern": "^a"}


def test_the_model_keeps_prefix_items_per_position() -> None:
    pair = {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string", "format": "byte"}], "items": False}
    column = schemakit.resolve(_document(pair)).models[0].formats[0].columns[0].type
    assert column.kind is Kind.ARRAY
    assert column.prefix_items is not None
    assert [t.kind for t in column.prefix_items] == [Kind.LONG, Kind.BINARY]
    assert column.closed
    open_pair = {**pair, "items": {"type": "string"}}
    column = schemakit.resolve(_document(open_pair)).models[0].formats[0].columns[0].type
    assert column.prefix_items is not None
    assert not column.closed
    assert column.items is not None
    assert column.items.kind is Kind.STRING


# -- no feature reads the raw schema for types ---------------------------------------------

#: (module, line text) where a raw schema is read on purpose: the plan handed to the runtime engine.
_ALLOWED = {("generate.py", 'plan.get("request_schema")')}


def _raw_schema_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in ("request_schema", "schema"):
            base = ast.unparse(node.value)
            # `endpoint.schema`/`self.schema` in the emulator are EndpointSchema objects, not JSON Schema.
            if node.attr == "schema" and base.split(".")[-1] in (
                "endpoint",
                "self",
                "target",
                "_get(endpoint, allow_deleted=True)",
            ):
                continue
            name = f"{base}.{node.attr}"
        if name is None:
            continue
        text = lines[node.lineno - 1].strip()
        if any(path.name == module and allowed in text for module, allowed in _ALLOWED):
            continue
        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return found


def test_codegen_and_the_emulator_read_types_from_the_model_only() -> None:
    modules = [*(ROOT / "schemakit" / "codegen").glob("*.py"), *(ROOT / "schemakit" / "mock").glob("*.py")]
    found = [hit for path in sorted(modules) for hit in _raw_schema_reads(path)]
    assert found == [], "read types and bounds from the model (DataType), not the raw schema:\n" + "\n".join(found)


def test_the_raw_schema_check_sees_a_raw_read(tmp_path: Path) -> None:
    probe = ROOT / "schemakit" / "codegen" / "__probe_do_not_keep.py"
    try:
        probe.write_text("def f(model, fmt):\n    return model.request_schema, fmt.schema['prefixItems']\n")
        assert len(_raw_schema_reads(probe)) == 2
    finally:
        probe.unlink()
