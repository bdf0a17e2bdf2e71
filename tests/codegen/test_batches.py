"""`batches`: rows packed greedily into request bodies under the endpoint's size limit.

Bodies are measured as the package encodes them; every one is checked by the package's own
validator, and sent through the generated client to the emulator over a real socket.
"""

from __future__ import annotations

import itertools
import json
from types import ModuleType
from typing import Any

import pytest

import schemakit
from schemakit.core.limits import DEFAULT_REQUEST_LIMIT, request_limit
from schemakit.testing import MockServer

from .conftest import SAMPLES, GeneratePackage

TOKEN = "dapi-test"
ROWS = 10_000


def _rows(count: int = ROWS, *, gaps: bool = False) -> list[dict[str, Any]]:
    """Rows of varied sizes; with `gaps`, some leave columns out, so batches differ in their columns."""
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {"int_col": i}
        if not gaps or i % 97 > 40:
            row["float_col"] = i / 7
        if not gaps or i % 89 > 60:
            row["string_col"] = "é" * (i % 23) + str(i)  # multi-byte text: sizes are bytes, not characters
        rows.append(row)
    return rows


def _split_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    split = body["dataframe_split"]
    return [{k: v for k, v in zip(split["columns"], cells, strict=True) if v is not None} for cells in split["data"]]


def _records_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in record.items() if v is not None} for record in body["dataframe_records"]]


READERS = {"dataframe_split": _split_rows, "dataframe_records": _records_rows}
BUILDERS = {"dataframe_split": "to_dataframe_split", "dataframe_records": "to_dataframe_records"}


def _check_packing(
    model: ModuleType, fmt: str, rows: list[dict[str, Any]], max_bytes: int, *, valid: bool = True, **kwargs: Any
) -> None:
    bodies = list(model.batches(rows, format=fmt, max_bytes=max_bytes, as_bytes=True, **kwargs))
    payloads = list(model.batches(rows, format=fmt, max_bytes=max_bytes, **kwargs))
    assert len(bodies) > 10
    assert [json.loads(b) for b in bodies] == payloads
    seen: list[dict[str, Any]] = []
    build = getattr(model, BUILDERS[fmt])
    for number, body in enumerate(bodies):
        assert len(body) <= max_bytes
        if valid:
            report = model.validate_json(body)
            assert report.ok, report.to_text()
        batch = READERS[fmt](json.loads(body))
        assert batch
        # Greedy: the next row would not have fitted in this body.
        if number + 1 < len(bodies):
            grown = build([*batch, rows[len(seen) + len(batch)]], kwargs.get("params"), as_bytes=True)
            assert len(grown) > max_bytes
        # The body is exactly what the format's builder writes for these rows.
        assert body == build(batch, kwargs.get("params"), as_bytes=True)
        seen.extend(batch)
    assert seen == rows  # every row, once, in order


@pytest.mark.parametrize("model_type", ["pydantic", "typeddict"])
@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records"])
def test_rows_are_packed_under_the_limit_in_order(generated: GeneratePackage, model_type: str, fmt: str) -> None:
    model = generated("docs-example-dataframe.json", model_type).vanilla_simple_model
    _check_packing(model, fmt, _rows(), max_bytes=4096)


@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_records"])
def test_rows_that_bring_new_columns_are_measured_exactly(generated: GeneratePackage, fmt: str) -> None:
    # Null in a non-nullable column is invalid, so only the packing is checked here: a row that
    # adds a column to a dataframe_split batch lengthens every row already in it.
    model = generated("docs-example-dataframe.json", "pydantic").vanilla_simple_model
    _check_packing(model, fmt, _rows(gaps=True), max_bytes=3000, valid=False)


def test_params_go_into_every_body(generated: GeneratePackage) -> None:
    model = generated("docs-example-dataframe.json", "pydantic").vanilla_simple_model
    rows = _rows(2_000)
    params = model.Params(sentiment=0.25)
    bodies = list(model.batches(rows, params=params, max_bytes=2048, as_bytes=True))
    expected = model.to_dataframe_split(rows[:1], params)["params"]
    assert all(json.loads(b)["params"] == expected for b in bodies)
    _check_packing(model, "dataframe_split", rows, max_bytes=2048, params=params)


def test_typed_rows_and_a_lazy_iterable(generated: GeneratePackage) -> None:
    model = generated("docs-example-dataframe.json", "pydantic").vanilla_simple_model
    rows = (model.Row(int_col=i, float_col=i / 2, string_col=str(i)) for i in range(3_000))
    bodies = list(model.batches(rows, max_bytes=1000, as_bytes=True))
    numbers = [cells[0] for body in bodies for cells in json.loads(body)["dataframe_split"]["data"]]
    assert numbers == list(range(3_000))
    assert max(len(b) for b in bodies) <= 1000


def test_columnar_inputs_and_instances(generated: GeneratePackage) -> None:
    model = generated("columnar-inputs.json", "msgspec").churn_model

    def rows(gaps: bool) -> list[dict[str, Any]]:
        return [
            {"age": i % 90, "income": i * 1.5, **({"city": "Zürich" * (i % 5)} if not gaps or i % 50 > 30 else {})}
            for i in range(1_500)
        ]

    for fmt, gaps in itertools.product(("inputs", "instances"), (False, True)):
        given = rows(gaps)
        bodies = list(model.batches(given, format=fmt, max_bytes=1500, as_bytes=True))
        assert len(bodies) > 10
        assert all(len(b) <= 1500 for b in bodies)
        builder = model.to_inputs if fmt == "inputs" else model.to_instances
        count = 0
        for body in bodies:
            data = json.loads(body)[fmt]
            size = len(next(iter(data.values()))) if fmt == "inputs" else len(data)
            assert body == builder(given[count : count + size], as_bytes=True)
            if count + size < len(given):
                assert len(builder(given[count : count + size + 1], as_bytes=True)) > 1500
            # A null city in `inputs` is invalid; without gaps every body is one the server takes.
            assert model.validate_json(body).ok or (gaps and fmt == "inputs")
            count += size
        assert count == len(given)


def test_a_row_over_the_limit_alone_is_named(generated: GeneratePackage) -> None:
    model = generated("docs-example-dataframe.json", "pydantic").vanilla_simple_model
    rows = _rows(5)
    rows[3]["string_col"] = "x" * 5000
    alone = len(model.to_dataframe_split([rows[3]], as_bytes=True))
    batches = model.batches(rows, max_bytes=1000, as_bytes=True)
    with pytest.raises(
        ValueError,
        match=rf"^row 3 \(counting from 0\) alone makes a {alone:,}-byte dataframe_split request body, over the 1,000-byte limit$",
    ):
        list(batches)
    with pytest.raises(ValueError, match="max_bytes must be a positive number"):
        model.batches(rows, max_bytes=0)
    with pytest.raises(ValueError, match="format must be one of dataframe_split, dataframe_records"):
        model.batches(rows, format="instances")


def test_the_limit_comes_from_the_model(generated: GeneratePackage) -> None:
    schema = schemakit.load(str(SAMPLES / "docs-example-dataframe.json"))
    model = generated("docs-example-dataframe.json", "dataclasses").vanilla_simple_model
    assert model.MAX_REQUEST_BYTES == request_limit(schema.models[0]) == DEFAULT_REQUEST_LIMIT
    assert len(list(model.batches(_rows()))) == 1  # 10,000 small rows fit one 16 MB request
    chat = generated("foundation-model-chat.json", "pydantic")
    for name in dir(chat):
        module = getattr(chat, name)
        if isinstance(module, ModuleType) and hasattr(module, "FORMATS"):
            assert not hasattr(module, "batches")  # object requests have no rows to split


def test_the_emulator_accepts_every_batch(generated: GeneratePackage) -> None:
    pkg = generated("docs-example-dataframe.json", "pydantic")
    model = pkg.vanilla_simple_model
    rows = _rows()
    with MockServer([SAMPLES / "docs-example-dataframe.json"], token=TOKEN) as server:
        base = f"{server.url}/serving-endpoints/example-endpoint"
        with pkg.Client(base, token=TOKEN) as client:
            predicted = 0
            for fmt in ("dataframe_split", "dataframe_records"):
                for payload in model.batches(rows, format=fmt, max_bytes=32 * 1024):
                    predicted += len(client.predict_vanilla_simple_model(payload).predictions)
                for body in model.batches(rows, format=fmt, max_bytes=48 * 1024, as_bytes=True):
                    predicted += len(client.predict_vanilla_simple_model(body).predictions)
    assert predicted == 4 * len(rows)
    invocations = [r for r in server.requests if r.path.endswith("/invocations")]
    assert len(invocations) > 8
