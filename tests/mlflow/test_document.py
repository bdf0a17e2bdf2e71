"""`schemakit from-mlflow` and `mlflow:` sources: the document's shape, every MLflow type, the round trip, errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate as validate_openapi

from schemakit import load
from schemakit.cli.main import cli as main_cli
from schemakit.core.validate import validate_document
from schemakit.mlflow.document import document_from_mlflow, document_from_mlflow_source

ROOT = Path(__file__).resolve().parent.parent.parent
REFERENCE = ROOT / "samples" / "docs-example-dataframe.json"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line, in process through main()'s error translation: for exit codes and one-line errors."""
    from ..conftest import run_cli_in_process

    return run_cli_in_process(*args, env=env)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The click command in this process (fast), with the same result shape as `cli`."""
    result = CliRunner().invoke(main_cli, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


# -- expectations derived from the signature JSON, independently of the code under test ---------


def mlflow_display(spec: dict[str, Any]) -> str:
    """How `inspect` names an MLflow type: long, array<long>, object<x: long, label: string?>, map<double>, any."""
    kind = spec["type"]
    if kind == "array":
        return f"array<{mlflow_display(spec['items'])}>"
    if kind == "map":
        return f"map<{mlflow_display(spec['values'])}>"
    if kind == "object":
        fields = ", ".join(
            f"{name}: {mlflow_display(prop)}{'' if prop.get('required', True) else '?'}"
            for name, prop in spec["properties"].items()
        )
        return f"object<{fields}>"
    return str(kind)


def expected_columns(signature: dict[str, Any]) -> list[dict[str, Any]]:
    columns = []
    for index, spec in enumerate(json.loads(signature["inputs"])):
        required = spec.get("required", True)
        columns.append(
            {
                "name": spec.get("name", str(index)),
                "type": mlflow_display(spec),
                "required": required,
                # An optional column accepts null, except `any`, which accepts null already.
                "nullable": not required and spec["type"] != "any",
            }
        )
    return columns


def expected_params(signature: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for spec in json.loads(signature["params"] or "[]"):
        display = mlflow_display(spec)
        entry: dict[str, Any] = {
            "name": spec["name"],
            "type": display if spec["shape"] is None else f"array<{display}>",
        }
        entry["default"] = spec["default"]
        if spec["shape"] is not None:
            entry["shape"] = spec["shape"]
        params.append(entry)
    return params


def inspect_json(source: str) -> dict[str, Any]:
    result = run("inspect", source, "--format", "json")
    assert result.returncode == 0, result.stderr
    described: dict[str, Any] = json.loads(result.stdout)
    return described


def broken_model(setup: str, tmp_path: Path) -> Path:
    """A model folder (or path) that is wrong in the way `setup` names."""
    folder = tmp_path / "model"
    folder.mkdir()
    mlmodel = folder / "MLmodel"
    column = '[{"type": "long", "name": "a", "required": true}]'
    texts = {
        "no_signature": "flavors:\n  python_function: {}\n",
        "bad_yaml": "flavors: [unclosed\n",
        "bad_json": "signature:\n  inputs: '[{oops'\n",
        "unknown_type": 'signature:\n  inputs: \'[{"type": "complex", "name": "a"}]\'\n',
        "mixed": "signature:\n  inputs: '"
        + column[:-1]
        + ', {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]\'\n',
        "no_inputs": "signature:\n  outputs: '" + column + "'\n",
        "bad_shape": "signature:\n  inputs: '" + column + '\'\n  params: \'[{"name": "k", "type": "long", '
        '"default": [1], "shape": [2, 2]}]\'\n',
        "not_mapping": "- just\n- a list\n",
    }
    if setup == "missing":
        return tmp_path / "nowhere"
    if setup == "empty_dir":
        return folder
    mlmodel.write_text(texts[setup])
    return folder


# -- the document's shape ------------------------------------------------------------------------


def keyword_paths(node: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every keyword path, with names the document chooses (properties, paths, responses) abstracted."""
    found: set[tuple[str, ...]] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            named = path[-1:] in (("properties",), ("paths",))
            step = "<name>" if named else key
            found.add((*path, step))
            found |= keyword_paths(value, (*path, step))
    elif isinstance(node, list):
        for item in node:
            found |= keyword_paths(item, (*path, "[]"))
    return found


def test_document_has_the_shape_of_a_databricks_document(model_dirs: dict[str, Path]) -> None:
    reference = json.loads(REFERENCE.read_text())
    document = document_from_mlflow(model_dirs["docs_example"], endpoint="example-endpoint")
    ours, theirs = keyword_paths(document), keyword_paths(reference)
    # Everything the reference has, the generated document has, except the reference's bare split example
    # (a documented bug of that document) and its `format: unknown` column (a type our signature lacks).
    missing = {p for p in theirs - ours if "examples" not in p and p[-1] != "format"}
    assert missing == set()
    # What it adds: a title per branch, the format key required, the split object closed (with its optional
    # index), at least one record when columns are required.
    added = {p[-1] for p in ours - theirs}
    assert added <= {"title", "required", "additionalProperties", "index", "minItems", "[]"}
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {"title": "example-endpoint", "version": "1"}
    assert document["servers"] == [{"url": "https://workspace.invalid/serving-endpoints/example-endpoint"}]
    assert list(document["paths"]) == ["/served-models/docs_example/invocations"]


def test_branches_are_titled_and_each_requires_its_format_key(model_dirs: dict[str, Path]) -> None:
    document = document_from_mlflow(model_dirs["docs_example"])
    post = document["paths"]["/served-models/docs_example/invocations"]["post"]
    branches = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [(b["title"], b["required"]) for b in branches] == [
        ("dataframe_split", ["dataframe_split"]),
        ("dataframe_records", ["dataframe_records"]),
    ]
    split = branches[0]["properties"]["dataframe_split"]["properties"]
    assert split["columns"]["description"] == "required fields: int_col"
    assert split["columns"]["items"]["enum"] == ["int_col", "float_col", "string_col"]
    assert split["data"]["items"]["prefixItems"] == [
        {"type": "integer", "format": "int64"},
        {"type": ["number", "null"], "format": "double"},
        {"type": ["string", "null"]},
    ]
    records = branches[1]["properties"]["dataframe_records"]["items"]
    assert records["required"] == ["int_col"]
    assert list(records["properties"]) == ["int_col", "float_col", "string_col"]
    # The default has the parameter's JSON type (Databricks documents carry "0.5", a string).
    assert branches[0]["properties"]["params"]["properties"]["sentiment"] == {
        "type": "number",
        "format": "double",
        "default": 0.5,
    }
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "properties": {"predictions": {"type": "array", "items": {"type": "number", "format": "double"}}},
    }


@pytest.mark.parametrize(
    "name", ["docs_example", "every_type", "tensor", "named_tensors", "unnamed_columns", "named_outputs", "no_outputs"]
)
def test_every_document_passes_strict_validation_and_openapi_spec_validator(
    name: str, model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "schema.json"
    result = run("from-mlflow", str(model_dirs[name]), "-o", str(out))
    assert result.returncode == 0, result.stderr
    validate_openapi(json.loads(out.read_text()))
    report = validate_document(str(out), strict=True)
    assert report.diagnostics == ()
    assert report.ok
    strict = run("validate", "--strict", str(out))
    assert strict.returncode == 0, strict.stdout + strict.stderr
    assert "0 error(s), 0 warning(s)" in strict.stdout


def test_every_mlflow_column_type_maps_to_its_json_schema(model_dirs: dict[str, Path]) -> None:
    document = document_from_mlflow(model_dirs["every_type"])
    branch = document["paths"]["/served-models/every_type/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"][1]
    columns = branch["properties"]["dataframe_records"]["items"]["properties"]
    assert columns["flag"] == {"type": "boolean"}
    assert columns["count32"] == {"type": "integer", "format": "int32"}
    assert columns["count64"] == {"type": "integer", "format": "int64"}
    assert columns["ratio32"] == {
        "type": "number",
        "format": "float",
        "minimum": -3.4028234663852886e38,
        "maximum": 3.4028234663852886e38,
    }
    assert columns["ratio64"] == {"type": "number", "format": "double"}
    assert columns["text"] == {"type": "string"}
    assert columns["blob"] == {"type": "string", "format": "byte", "contentEncoding": "base64"}
    assert columns["when"] == {"type": "string", "format": "date-time"}
    assert columns["ids"] == {"type": "array", "items": {"type": "integer", "format": "int64"}}
    assert columns["matrix"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "number", "format": "double"}},
    }
    assert columns["point"] == {
        "type": "object",
        "properties": {"x": {"type": "integer", "format": "int64"}, "label": {"type": ["string", "null"]}},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert columns["scores"] == {"type": "object", "additionalProperties": {"type": "number", "format": "double"}}
    assert columns["anything"] == {"description": "any value (MLflow AnyType)"}
    assert columns["note"] == {"type": ["string", "null"]}
    assert columns["maybe_list"] == {"type": ["array", "null"], "items": {"type": "string"}}
    params = branch["properties"]["params"]["properties"]
    assert params["stop"] == {"type": "array", "items": {"type": "string"}, "default": ["\n", "END"]}
    assert params["seed"] == {"type": "integer", "format": "int32", "default": 7}
    assert params["as_of"] == {"type": "string", "format": "date-time", "default": "2024-01-01T00:00:00"}
    assert params["options"]["default"] == {"depth": 2}


def test_tensor_signatures_become_instances_and_inputs_with_dtype_and_shape(model_dirs: dict[str, Path]) -> None:
    described = inspect_json(f"mlflow:{model_dirs['tensor']}")
    model = described["models"][0]
    assert model["formats"] == ["instances", "inputs"]
    for key in ("instances", "inputs"):
        assert model["inputs"][key]["tensor"] == {"type": "float", "shape": [-1, 28, 28]}
        assert model["inputs"][key]["params"] == [{"name": "threshold", "type": "double", "default": 0.5}]
    assert model["response"] == {"type": "array", "items": "long"}

    named = inspect_json(f"mlflow:{model_dirs['named_tensors']}")["models"][0]
    assert named["formats"] == ["instances", "inputs"]
    assert [(c["name"], c["type"], c["required"]) for c in named["inputs"]["instances"]["columns"]] == [
        ("pair", "array<long>", True),
        ("weight", "double", True),
        ("pixels", "array<array<integer>>", True),
        ("mask", "array<boolean>", True),
        ("word", "string", True),
    ]
    assert named["response"]["type"] == "object"
    document = document_from_mlflow(model_dirs["named_tensors"])
    inputs = document["paths"]["/served-models/named_tensors/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"][1]["properties"]["inputs"]
    assert inputs["required"] == ["pair", "weight", "pixels", "mask", "word"]
    assert inputs["properties"]["pair"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer", "format": "int64"}, "minItems": 2, "maxItems": 2},
        "x-shape": [-1, 2],
    }
    pixel = inputs["properties"]["pixels"]["items"]["items"]["items"]
    assert pixel == {"type": "integer", "format": "int32", "minimum": 0, "maximum": 255}


@pytest.mark.parametrize("name", ["docs_example", "every_type", "unnamed_columns", "named_outputs", "no_outputs"])
def test_round_trip_gives_back_columns_types_required_flags_and_params(
    name: str, model_dirs: dict[str, Path], signatures: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    out = tmp_path / f"{name}.json"
    assert run("from-mlflow", str(model_dirs[name]), "-o", str(out)).returncode == 0
    model = inspect_json(str(out))["models"][0]
    signature = signatures[name]
    columns = [{k: c[k] for k in ("name", "type", "required", "nullable")} for c in model["columns"]]
    assert columns == expected_columns(signature)
    assert model["params"] == expected_params(signature)
    for fmt in model["formats"]:
        assert model["inputs"][fmt]["params"] == expected_params(signature)
    # The same through the mlflow: source, without writing a file.
    assert inspect_json(f"mlflow:{model_dirs[name]}")["models"][0] == model


def test_response_follows_the_output_schema(model_dirs: dict[str, Path]) -> None:
    named = inspect_json(f"mlflow:{model_dirs['named_outputs']}")["models"][0]["response"]
    assert named == {
        "type": "array",
        "items": "object<score: double, label: string?>",
    }
    assert inspect_json(f"mlflow:{model_dirs['no_outputs']}")["models"][0]["response"] == {"type": "any"}


def test_unnamed_columns_are_positional_split_rows(model_dirs: dict[str, Path]) -> None:
    model = inspect_json(f"mlflow:{model_dirs['unnamed_columns']}")["models"][0]
    assert model["formats"] == ["dataframe_split"]
    assert [(c["name"], c["type"]) for c in model["columns"]] == [("0", "string"), ("1", "double")]


def test_signature_from_type_hints_accepts_inputs_only(make_model: Any) -> None:
    folder = make_model(
        {
            "inputs": '[{"type": "array", "items": {"type": "string"}, "required": true}]',
            "outputs": None,
            "params": None,
        },
        is_signature_from_type_hint=True,
    )
    model = load(f"mlflow:{folder}").models[0]
    assert model.format_names == ("inputs",)
    assert model.request_schema["oneOf"][0]["properties"]["inputs"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "string"}},
    }


# -- names, options, the CLI -----------------------------------------------------------------------


def test_endpoint_served_model_and_host_options(model_dirs: dict[str, Path]) -> None:
    result = cli(
        "from-mlflow",
        str(model_dirs["docs_example"] / "MLmodel"),
        "--endpoint",
        "ads",
        "--served-model",
        "ads-3",
        "--host",
        "adb-123.azuredatabricks.net",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["info"]["title"] == "ads"
    assert document["servers"] == [{"url": "https://adb-123.azuredatabricks.net/serving-endpoints/ads"}]
    assert list(document["paths"]) == ["/served-models/ads-3/invocations"]
    source = f"mlflow:{model_dirs['docs_example']}#endpoint=ads&served-model=ads-3"
    schema = load(source)
    assert (schema.title, schema.models[0].name) == ("ads", "ads-3")


def test_output_file_is_written_and_summarized(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "nested" / "ads.json"
    result = cli("from-mlflow", str(model_dirs["docs_example"]), "-o", str(out))
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"wrote {out}: endpoint docs_example, served model docs_example "
        "(dataframe_split, dataframe_records; 3 column(s), 1 param(s))"
    )
    assert json.loads(out.read_text())["info"]["title"] == "docs_example"
    assert out.read_text().endswith("}\n")


def test_mlflow_source_works_in_other_commands(model_dirs: dict[str, Path]) -> None:
    source = f"mlflow:{model_dirs['docs_example']}"
    validated = run("validate", "--strict", source)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    text = run("inspect", source)
    assert text.returncode == 0
    assert "int_col" in text.stdout
    assert "sentiment  double  default 0.5" in text.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such model directory or MLmodel file"),
        ("empty_dir", "not an MLflow model directory (it has no MLmodel file)"),
        ("no_signature", "the model has no signature"),
        ("bad_yaml", "not a valid MLmodel file"),
        ("bad_json", "signature.inputs is not valid JSON (line 1, column 3"),
        ("unknown_type", 'signature.inputs[0]: unknown MLflow type "complex"'),
        ("mixed", "mixes tensor specs and column specs"),
        ("no_inputs", "the signature has no inputs"),
        ("bad_shape", "signature.params.k.shape: MLflow params are scalars or lists"),
        ("not_mapping", "not an MLmodel file"),
    ],
)
def test_unreadable_models_fail_with_one_line_and_exit_2(setup: str, message: str, tmp_path: Path) -> None:
    target = broken_model(setup, tmp_path)
    for args in (("from-mlflow", str(target)), ("inspect", f"mlflow:{target}")):
        result = cli(*args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("schemakit: error: ")
        assert message in lines[0]
        assert "Traceback" not in result.stderr


def test_bad_names_are_refused(model_dirs: dict[str, Path]) -> None:
    result = cli("from-mlflow", str(model_dirs["docs_example"]), "--served-model", "a/b")
    assert result.returncode == 2
    assert "invalid served model name 'a/b'" in result.stderr
    with pytest.raises(Exception, match="unknown option 'model'"):
        document_from_mlflow_source(f"{model_dirs['docs_example']}#model=x")


def test_the_logged_input_example_becomes_the_branch_example(make_model: Any, tmp_path: Path) -> None:
    folder = make_model(
        {
            "inputs": '[{"type": "long", "name": "a", "required": true}, '
            '{"type": "string", "name": "b", "required": false}]',
            "outputs": None,
            "params": '[{"name": "t", "default": 0.5, "shape": null, "type": "double"}]',
        },
        saved_input_example_info={
            "artifact_path": "input_example.json",
            "pandas_orient": "split",
            "serving_input_path": "serving_input_example.json",
        },
    )
    # As MLflow writes it: a missing value is NaN, which is not JSON.
    (folder / "serving_input_example.json").write_text(
        '{"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, NaN]]}, "params": {"t": 0.7}}'
    )
    document = document_from_mlflow(folder)
    branches = document["paths"]["/served-models/model/invocations"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["oneOf"]
    example = {"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"], [2, None]]}, "params": {"t": 0.7}}
    assert branches[0]["examples"] == [example]
    assert "examples" not in branches[1]
    assert validate_document(document, strict=True).diagnostics == ()
    payload = tmp_path / "example.json"
    payload.write_text(json.dumps(example))
    assert cli("check", f"mlflow:{folder}", str(payload)).returncode == 0


def test_an_example_path_outside_the_model_folder_is_ignored(make_model: Any, tmp_path: Path) -> None:
    (tmp_path / "secret.json").write_text('{"dataframe_split": {"columns": ["a"], "data": [[1]]}}')
    folder = make_model(
        {"inputs": '[{"type": "long", "name": "a", "required": true}]', "outputs": None, "params": None},
        saved_input_example_info={"serving_input_path": "../secret.json"},
    )
    branches = document_from_mlflow(folder)["paths"]["/served-models/model/invocations"]["post"]["requestBody"][
        "content"
    ]["application/json"]["schema"]["oneOf"]
    assert all("examples" not in branch for branch in branches)


def test_a_signature_given_as_parsed_lists_needs_no_mlmodel() -> None:
    from schemakit import document_from_signature

    document = document_from_signature(
        {"inputs": [{"type": "long", "name": "a"}], "outputs": [{"type": "double"}], "params": None},
        endpoint="ads",
        served_model="ads-1",
        version="7",
    )
    schema = load_resolved(document)
    assert (schema.title, schema.version, schema.models[0].name) == ("ads", "7", "ads-1")
    # A column without `required` (MLflow before 2.9) is required.
    assert schema.models[0].columns[0].required


def load_resolved(document: dict[str, Any]) -> Any:
    from schemakit import resolve

    return resolve(document)


def test_a_bad_host_is_refused(model_dirs: dict[str, Path]) -> None:
    result = cli("from-mlflow", str(model_dirs["docs_example"]), "--host", "https://evil.example/path?x=1")
    assert result.returncode == 2
    assert "invalid workspace host" in result.stderr
    ok = run("from-mlflow", str(model_dirs["docs_example"]), "--host", "https://adb-1.azuredatabricks.net/")
    assert (
        json.loads(ok.stdout)["servers"][0]["url"] == "https://adb-1.azuredatabricks.net/serving-endpoints/docs_example"
    )
