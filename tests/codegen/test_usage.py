"""Import generated packages and use them: build, validate, parse, as an app would."""

from __future__ import annotations

import base64
import importlib
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import schemakit
from schemakit.check.validator import check_payload
from schemakit.codegen.generate import MODEL_TYPES

from .conftest import SAMPLES, GeneratePackage

DOCS = SAMPLES / "docs-example-dataframe.json"
ALL_TYPES = SAMPLES / "all-types.json"
#: A valid all-types row as JSON values (rows may be plain dicts keyed by the document's column names).
ALL_TYPES_ROW = json.loads((SAMPLES / "payloads" / "all-types" / "valid-records.json").read_text())[
    "dataframe_records"
][0]


def _both_accept(source: object, model_name: str, payload: dict[str, object]) -> None:
    schema = schemakit.load(str(source))
    served = schema.model(model_name)
    report = check_payload(schema, payload, model=model_name)
    assert report.ok, report.to_text()
    assert list(Draft202012Validator(dict(served.request_schema)).iter_errors(payload)) == []


def _row(mod: object, model_type: str, **values: object) -> object:
    return dict(values) if model_type == "typeddict" else mod.Row(**values)  # type: ignore[attr-defined]


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_docs_example_rows_and_columns_build_valid_payloads(generated: GeneratePackage, model_type: str) -> None:
    pkg = generated("docs-example-dataframe.json", model_type)
    model = pkg.vanilla_simple_model
    rows = [
        _row(model, model_type, int_col=3, float_col=10.4, string_col="abc"),
        _row(model, model_type, int_col=2, float_col=20, string_col="xyz"),
    ]
    split = model.to_dataframe_split(rows, params={"sentiment": 0.7})
    assert split == {
        "dataframe_split": {
            "columns": ["int_col", "float_col", "string_col"],
            "data": [[3, 10.4, "abc"], [2, 20, "xyz"]],
        },
        "params": {"sentiment": 0.7},
    }
    records = model.to_dataframe_records(rows)
    assert records == {
        "dataframe_records": [
            {"int_col": 3, "float_col": 10.4, "string_col": "abc"},
            {"int_col": 2, "float_col": 20, "string_col": "xyz"},
        ]
    }
    columns = model.split_from_columns({"int_col": [3, 2], "float_col": [10.4, 20], "string_col": ["abc", "xyz"]})
    assert columns["dataframe_split"] == split["dataframe_split"]
    for payload in (split, records, columns):
        _both_accept(DOCS, "vanilla_simple_model-2", payload)
        assert model.validate(payload).ok
    as_bytes = model.to_dataframe_split(rows, as_bytes=True)
    assert json.loads(as_bytes) == {"dataframe_split": split["dataframe_split"]}
    assert model.validate_json(as_bytes).ok


def test_params_type_has_the_document_defaults(generated: GeneratePackage) -> None:
    model = generated("docs-example-dataframe.json", "pydantic").vanilla_simple_model
    assert model.Params().sentiment == 0.5  # the document says "0.5" (a string); resolved to 0.5
    payload = model.to_dataframe_split([model.Row(int_col=1, float_col=1.0, string_col="a")], params=model.Params())
    assert payload["params"] == {"sentiment": 0.5}


def test_split_from_a_pandas_dataframe(generated: GeneratePackage) -> None:
    pandas = pytest.importorskip("pandas")
    model = generated("docs-example-dataframe.json", "dataclasses").vanilla_simple_model
    frame = pandas.DataFrame({"int_col": [1, 2], "float_col": [0.5, float("nan")], "string_col": ["a", "b"]})
    payload = model.split_from_columns(frame)
    assert payload["dataframe_split"]["data"] == [[1, 0.5, "a"], [2, None, "b"]]
    assert type(payload["dataframe_split"]["data"][0][0]) is int  # numpy scalars became Python values
    report = model.validate(payload)
    assert not report.ok  # null in a non-nullable double column: the same verdict as schemakit check
    assert [p.code for p in report.problems] == [p.code for p in check_payload(str(DOCS), payload).problems]


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_all_types_round_trip_real_python_types(generated: GeneratePackage, model_type: str) -> None:
    pkg = generated("all-types.json", model_type)
    model = pkg.all_types_model
    when = datetime(2024, 5, 1, 12, 30)
    location = (
        {"lat": 1.5, "lon": 2.5, "name": "x"}
        if model_type == "typeddict"
        else pkg.models.AllTypesModelRowLocation(lat=1.5, lon=2.5, name="x")
    )
    row = _row(
        model,
        model_type,
        flag=True,
        small_int=1,
        big_int=2**40,
        ratio=0.5,
        score=1.25,
        label="a",
        blob=b"\x00\xffbytes",
        created_at=when,
        tags=["t"],
        matrix=[[1.0, 2.0]],
        location=location,
        counts={"k": 3},
        rating=4,  # a null here is an integer-null finding (MLflow refuses it); this test is about types
        category="news",
        extra={"any": "thing"},
        nickname="n",
    )
    split = model.to_dataframe_split([row])
    records = model.to_dataframe_records([row])
    record = records["dataframe_records"][0]
    assert record["blob"] == base64.b64encode(b"\x00\xffbytes").decode()
    # One form for every value (MLflow refuses a column mixing forms): naive, with microseconds.
    assert record["created_at"] == "2024-05-01T12:30:00.000000"
    assert record["location"] == {"lat": 1.5, "lon": 2.5, "name": "x"}
    assert record["rating"] == 4
    for payload in (split, records):
        _both_accept(ALL_TYPES, "all_types_model-1", payload)
        assert model.validate(payload).ok
    codec = importlib.import_module(pkg.__name__ + "._codec")
    decoded = codec.decode_object(json.loads(json.dumps(record)), "AllTypesModelRow")
    assert decoded == row  # bytes, datetimes and nested objects come back as they went in


def test_datetimes_are_sent_in_the_one_form_the_server_reads(generated: GeneratePackage) -> None:
    # MLflow's scoring server refuses offsets and a column mixing forms (with and without a fraction).
    pkg = generated("all-types.json", "dataclasses")
    codec = importlib.import_module(pkg.__name__ + "._codec")
    plus_two = timezone(timedelta(hours=2))
    assert codec.datetime_text(datetime(2024, 5, 1, 14, 30, tzinfo=plus_two)) == "2024-05-01T12:30:00.000000"
    assert codec.datetime_text(datetime(2024, 5, 1, 12, 30, 0, 250)) == "2024-05-01T12:30:00.000250"
    assert codec.datetime_text(date(2024, 5, 1)) == "2024-05-01T00:00:00.000000"
    model = pkg.all_types_model
    rows = [
        {**ALL_TYPES_ROW, "created_at": datetime(2024, 5, 1, 14, 30, tzinfo=plus_two)},
        {**ALL_TYPES_ROW, "created_at": datetime(2024, 5, 1, 12, 30, 0, 250)},
    ]
    payload = model.to_dataframe_records(rows)
    assert [r["created_at"] for r in payload["dataframe_records"]] == [
        "2024-05-01T12:30:00.000000",
        "2024-05-01T12:30:00.000250",
    ]
    assert check_payload(str(ALL_TYPES), payload, model="all_types_model-1").ok


def test_generated_types_are_the_right_python_types(generated: GeneratePackage) -> None:
    import typing

    pkg = generated("all-types.json", "dataclasses")
    hints = typing.get_type_hints(pkg.models.AllTypesModelRow)
    assert hints["flag"] is bool
    assert hints["small_int"] is int
    assert hints["big_int"] is int
    assert hints["ratio"] is float
    assert hints["score"] is float
    assert hints["label"] is str
    assert hints["blob"] == bytes | None
    assert hints["created_at"] is datetime
    assert hints["tags"] == list[str] | None
    assert hints["matrix"] == list[list[float]] | None
    assert hints["location"] == pkg.models.AllTypesModelRowLocation | None
    assert hints["counts"] == dict[str, int] | None
    assert hints["nickname"] == str | None
    assert hints["rating"] == int | None


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_response_predictions_are_typed(generated: GeneratePackage, model_type: str) -> None:
    pkg = generated("all-types.json", model_type)
    response = pkg.all_types_model.parse_response(b'{"predictions": [{"label": "a", "probability": 0.25}]}')
    if model_type == "typeddict":
        assert response == {"predictions": [{"label": "a", "probability": 0.25}]}
    else:
        first = response.predictions[0]
        assert isinstance(first, pkg.models.AllTypesModelResponsePredictionsItem)
        assert (first.label, first.probability) == ("a", 0.25)
    docs = generated("docs-example-dataframe.json", model_type).vanilla_simple_model
    parsed = docs.parse_response('{"predictions": [0.5, 1]}')
    assert (parsed["predictions"] if model_type == "typeddict" else parsed.predictions) == [0.5, 1]


BROKEN = [
    {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[3.5, "abc", 1]]}},
    {"dataframe_split": {"columns": ["int_col"], "data": [[1, 2]]}, "dataframe_records": []},
    {"dataframe_records": [{"float_col": 1.0, "string_col": None}], "params": {"sentiment": "high", "nope": 1}},
    {"instances": [1, 2]},
    {"dataframe_split": {"columns": ["float_col"], "data": [[9223372036854775808]]}},
]


@pytest.mark.parametrize("payload", BROKEN)
def test_broken_payloads_give_the_same_problems_as_schemakit_check(generated: GeneratePackage, payload: object) -> None:
    model = generated("docs-example-dataframe.json", "typeddict").vanilla_simple_model
    ours = model.validate(payload)
    theirs = check_payload(str(DOCS), payload)
    assert not ours.ok
    assert not theirs.ok
    assert ours.to_json() == theirs.to_json()
    assert ours.to_text() == theirs.to_text()
    raw = json.dumps(payload).encode()
    assert model.validate_json(raw).to_json() == check_payload(str(DOCS), raw).to_json()
    with pytest.raises(ValueError, match="payload rejected"):
        model.assert_valid(payload)


def test_tensor_and_columnar_builders(generated: GeneratePackage) -> None:
    digits = generated("tensor-model.json", "pydantic").mnist_cnn
    image = [[0.0] * 28 for _ in range(28)]
    payload = digits.to_instances([image])
    assert payload == {"instances": [image]}
    assert digits.validate(payload).ok
    churn = generated("columnar-inputs.json", "msgspec").churn_model
    rows = [churn.Row(age=30, income=1.5), churn.Row(age=40, income=2.5, city="Oslo")]
    inputs = churn.to_inputs(rows)
    assert inputs == {"inputs": {"age": [30, 40], "income": [1.5, 2.5], "city": [None, "Oslo"]}} or inputs == {
        "inputs": {"age": [30, 40], "income": [1.5, 2.5]}
    }
    ok = churn.inputs_from_columns({"age": [30], "income": [1.5]})
    assert ok == {"inputs": {"age": [30], "income": [1.5]}}
    _both_accept(SAMPLES / "columnar-inputs.json", "churn_model-2", ok)
    instances = churn.to_instances(rows)
    assert instances == {"instances": [{"age": 30, "income": 1.5}, {"age": 40, "income": 2.5, "city": "Oslo"}]}
    _both_accept(SAMPLES / "columnar-inputs.json", "churn_model-2", instances)


def test_chat_request_object(generated: GeneratePackage) -> None:
    pkg = generated("foundation-model-chat.json", "pydantic")
    chat = pkg.meta_llama_v3_1_8b_instruct
    request = chat.Request(
        messages=[pkg.models.MetaLlamaV318bInstructRequestMessagesItem(role="user", content="hi")], max_tokens=5
    )
    body = chat.to_request(request)
    assert body == {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    _both_accept(SAMPLES / "foundation-model-chat.json", "meta_llama_v3_1_8b_instruct-4", body)


def test_nullable_columns_of_openapi_3_0_documents_are_optional_types(generated: GeneratePackage) -> None:
    import typing

    pkg = generated("openapi-3.0-nullable.json", "msgspec")
    hints = typing.get_type_hints(pkg.models.RecommenderRow)
    assert hints["user_id"] is int
    assert int in typing.get_args(hints["age"])
    assert type(None) in typing.get_args(hints["age"])


def test_closed_prefix_items_become_tuples(generated: GeneratePackage, tmp_path: Path) -> None:
    import typing

    pair = {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "items": False,
        "description": "An id and its label.",
    }
    document = {
        "openapi": "3.1.0",
        "info": {"title": "tuples", "version": "1"},
        "servers": [{"url": "https://example.com/serving-endpoints/tuples"}],
        "paths": {
            "/served-models/m/invocations": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "dataframe_records": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {"pair": pair},
                                                "required": ["pair"],
                                            },
                                        }
                                    },
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    spec = tmp_path / "tuples.json"
    spec.write_text(json.dumps(document))
    pkg = generated(spec, "dataclasses")
    assert typing.get_type_hints(pkg.models.MRow)["pair"] == tuple[int, str]
    models_source = Path(pkg.models.__file__).read_text()
    assert (
        'pair: tuple[int, str]\n    """\n    An id and its label.\n    """' in models_source
    )  # docstring from the document
    payload = pkg.m.to_dataframe_records([pkg.m.Row(pair=(1, "a"))])
    assert payload == {"dataframe_records": [{"pair": [1, "a"]}]}
    assert pkg.m.validate(payload).ok


BLOCKED_IMPORT = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"schemakit", "jinja2", "datamodel_code_generator", "pydantic"}:
            raise ImportError(f"{name} is not installed")
        return None

sys.meta_path.insert(0, Blocker())
sys.path.insert(0, sys.argv[1])
from example_endpoint_client import vanilla_simple_model as model

payload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
print(model.validate(payload).ok)
print(model.validate({"dataframe_split": {"columns": ["int_col"], "data": [[3.5]]}}).to_text())
"""


def test_generated_package_runs_without_schemakit(tmp_path: Path) -> None:
    import subprocess
    import sys

    from schemakit.codegen.generate import generate_package, write_package

    schema = schemakit.load(str(DOCS))
    write_package(generate_package(schema, model_type="dataclasses"), tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_IMPORT, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    expected = check_payload(schema, {"dataframe_split": {"columns": ["int_col"], "data": [[3.5]]}}).to_text()
    assert result.stdout == f"True\n{expected}\n"
