"""Generated clients a user can keep: stable names across versions, one version line, workspace
credentials, a runtime version check, declared dependencies, and the library's own policy."""

from __future__ import annotations

import asyncio
import difflib
import importlib
import json
import os
import sys
from pathlib import Path

import pytest
import tomllib

import schemakit
from schemakit._exceptions import CodegenError, InvalidDocumentError
from schemakit.codegen.generate import MODEL_TYPES, generate_package, write_package
from schemakit.testing import MockServer

from . import documents
from .conftest import SAMPLES, GeneratePackage

DOCS = SAMPLES / "docs-example-dataframe.json"
TOKEN = "dapi-stable-token"


def _bumped(tmp_path: Path) -> Path:
    """The docs example as its next model version with the very same schema."""
    text = DOCS.read_text().replace("vanilla_simple_model-2", "vanilla_simple_model-3")
    data = json.loads(text)
    data["info"]["version"] = "3"
    out = tmp_path / "docs-v3-same.json"
    out.write_text(json.dumps(data))
    return out


def _tree(package: Path) -> dict[str, list[str]]:
    return {
        p.relative_to(package).as_posix(): p.read_text().splitlines()
        for p in sorted(package.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_modules_and_predict_are_named_without_the_version() -> None:
    for sample in ("docs-example-dataframe.json", "docs-example-dataframe-v3.json"):
        package = generate_package(schemakit.load(str(SAMPLES / sample)))
        assert "vanilla_simple_model.py" in {f.path for f in package.files}
        client = package.file("client.py").decode()
        assert "def predict_vanilla_simple_model(" in client
        assert "def predict(" in client
        assert "vanilla_simple_model-" not in client  # the exact name lives in _version.py only


@pytest.mark.parametrize("model_type", [*MODEL_TYPES, "typescript"])
def test_a_version_only_bump_changes_one_line_of_one_file(tmp_path: Path, model_type: str) -> None:
    target = "typescript" if model_type == "typescript" else "python"
    kind = "pydantic" if target == "typescript" else model_type
    old = generate_package(schemakit.load(str(DOCS)), model_type=kind, target=target, package="pkg")
    new = generate_package(schemakit.load(str(_bumped(tmp_path))), model_type=kind, target=target, package="pkg")
    write_package(old, tmp_path / "old")
    write_package(new, tmp_path / "new")
    before, after = _tree(tmp_path / "old" / "pkg"), _tree(tmp_path / "new" / "pkg")
    assert before.keys() == after.keys()
    changed = {
        path: [line for line in difflib.unified_diff(before[path], after[path], lineterm="", n=0) if line[:1] in "+-"]
        for path in before
        if before[path] != after[path]
    }
    assert list(changed) == ["_version.py" if target == "python" else "index.ts"]
    (diff,) = changed.values()
    assert len([line for line in diff if line.startswith("+") and not line.startswith("+++")]) == 1


def test_check_ignore_version_accepts_a_version_only_bump(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert run_cli("codegen", str(DOCS), "-o", str(out)).returncode == 0
    bumped = str(_bumped(tmp_path))
    strict = run_cli("codegen", bumped, "-o", str(out), "--check")
    assert strict.returncode == 1
    assert "_version.py" in strict.stdout
    lenient = run_cli("codegen", bumped, "-o", str(out), "--check", "--ignore-version")
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    changed_schema = run_cli(
        "codegen", str(SAMPLES / "docs-example-dataframe-v3.json"), "-o", str(out), "--check", "--ignore-version"
    )
    assert changed_schema.returncode == 1  # a real schema change is never ignored


def test_version_constants(generated: GeneratePackage) -> None:
    pkg = generated("docs-example-dataframe.json", "dataclasses")
    assert pkg.VERSION == "2"
    assert pkg.vanilla_simple_model.NAME == "vanilla_simple_model-2"
    assert pkg.vanilla_simple_model.VERSION == "2"
    assert pkg.vanilla_simple_model.PATH == "/served-models/vanilla_simple_model-2/invocations"


def test_from_workspace_uses_a_databrickscfg_profile(
    generated: GeneratePackage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = generated("docs-example-dataframe.json", "pydantic")
    model = pkg.vanilla_simple_model
    with MockServer([DOCS], token=TOKEN) as server:
        config = tmp_path / "databrickscfg"
        config.write_text(
            f"[DEFAULT]\nhost = https://wrong.example\ntoken = dapi-wrong\n\n[dev]\nhost = {server.url}\ntoken = {TOKEN}\n"
        )
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
        monkeypatch.setenv("DATABRICKS_HOST", "https://ambient.example")  # a named profile is used alone
        monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-ambient")
        payload = model.to_dataframe_split([model.Row(int_col=1, float_col=0.5, string_col="a")])
        with pkg.Client.from_workspace(endpoint="example-endpoint", profile="dev") as client:
            assert client.base_url == f"{server.url}/serving-endpoints/example-endpoint"
            assert TOKEN not in repr(client)
            assert client.predict(payload).predictions is not None
            assert client.predict_vanilla_simple_model(payload).predictions is not None
        assert [r.path for r in server.requests if r.path.endswith("invocations")] == [
            "/serving-endpoints/example-endpoint/invocations",
            "/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/invocations",
        ]
        # Without a profile: DATABRICKS_HOST and DATABRICKS_TOKEN.
        monkeypatch.setenv("DATABRICKS_HOST", server.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        with pkg.Client.from_workspace() as client:
            assert client.predict(payload).predictions is not None
        with pytest.raises(pkg.MissingTokenError, match="no profile 'nope'"):
            pkg.Client.from_workspace(profile="nope")

        async def call_async() -> object:
            async with pkg.AsyncClient.from_workspace("example-endpoint", profile="dev") as client:
                return await client.predict(payload)

        assert asyncio.run(call_async()).predictions is not None


def test_a_404_names_the_url_tried_and_what_to_pass(generated: GeneratePackage) -> None:
    pkg = generated("docs-example-dataframe.json", "dataclasses")
    model = pkg.vanilla_simple_model
    payload = model.to_dataframe_records([model.Row(int_col=1, float_col=0.5, string_col="a")])
    with MockServer([DOCS], token=TOKEN) as server:
        with pkg.Client(server.url, token=TOKEN) as client, pytest.raises(pkg.NotFoundError) as caught:
            client.predict(payload)  # the workspace host instead of the endpoint's URL
        text = str(caught.value)
        assert f"{server.url}/invocations" in text
        assert "serving-endpoints/<endpoint>" in text
        assert "from_workspace" in text
        with (
            pkg.Client(f"{server.url}/serving-endpoints/nope", token=TOKEN) as client,
            pytest.raises(pkg.NotFoundError, match="endpoint name"),
        ):
            client.predict(payload)


def test_a_runtime_of_another_major_version_is_refused_at_import(tmp_path: Path) -> None:
    import subprocess

    write_package(generate_package(schemakit.load(str(DOCS)), package="pinned"), tmp_path)
    init = tmp_path / "pinned" / "_runtime" / "__init__.py"
    init.write_text(init.read_text().replace('RUNTIME_VERSION = "1.', 'RUNTIME_VERSION = "2.'))
    result = subprocess.run(
        [sys.executable, "-c", "import pinned"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("pinned._runtime.RuntimeVersionError: pinned was generated for schemakit runtime 1.x")
    assert "its _runtime is 2." in last


def test_pyproject_declares_the_real_dependencies(tmp_path: Path) -> None:
    expected = {
        "pydantic": ["httpx>=0.27", "pydantic>=2.6"],
        "msgspec": ["httpx>=0.27", "msgspec>=0.18"],
        "dataclasses": ["httpx>=0.27"],
        "typeddict": ["httpx>=0.27"],
    }
    for model_type, deps in expected.items():
        package = generate_package(schemakit.load(str(DOCS)), model_type=model_type)
        assert tomllib.loads(package.file("pyproject.toml").decode())["project"]["dependencies"] == deps
    patterned = documents.write(
        tmp_path / "pattern.json",
        documents.document({"m-1": documents.records_model({"code": {"type": "string", "pattern": "^[A-Z]{3}$"}})}),
    )
    package = generate_package(schemakit.load(str(patterned)), model_type="dataclasses")
    assert tomllib.loads(package.file("pyproject.toml").decode())["project"]["dependencies"] == [
        "httpx>=0.27",
        "google-re2>=1.1",
    ]


def test_the_package_installs_from_its_own_folder(tmp_path: Path) -> None:
    import subprocess

    write_package(generate_package(schemakit.load(str(DOCS)), package="installable"), tmp_path / "src")
    target = tmp_path / "site"
    pip = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(tmp_path / "src" / "installable"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if pip.returncode != 0 and "setuptools" in pip.stderr and "No matching distribution" in pip.stderr:
        pytest.skip(f"pip cannot install the build backend: {pip.stderr.strip()[-200:]}")
    assert pip.returncode == 0, pip.stderr
    assert (target / "installable" / "_runtime" / "__init__.py").is_file()
    assert (target / "installable" / "py.typed").is_file()
    run = subprocess.run(
        [sys.executable, "-c", "import installable; print(installable.vanilla_simple_model.NAME)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stdout.strip() == "vanilla_simple_model-2", run.stderr


def test_the_library_refuses_a_document_with_errors(tmp_path: Path) -> None:
    spec = documents.write(
        tmp_path / "typo.json", documents.document({"m-1": documents.records_model({"x": {"type": "strnig"}})})
    )
    with pytest.raises(InvalidDocumentError, match=r"typo\.json has 2 error\(s\), first \[invalid-type\]"):
        generate_package(schemakit.load(str(spec)))


def test_keywords_the_runtime_does_not_evaluate_warn_or_refuse(tmp_path: Path, run_cli) -> None:
    unsupported = "unevaluatedProperties"
    spec = documents.write(
        tmp_path / "unsupported.json",
        documents.document({"m-1": documents.records_model({"x": {"type": "object", unsupported: {}}})}),
    )
    schema = schemakit.load(str(spec))
    package = generate_package(schema)
    assert package.warnings
    assert unsupported in package.warnings[0]
    with pytest.raises(CodegenError, match="does not evaluate"):
        generate_package(schema, unsupported="refuse")
    warned = run_cli("codegen", str(spec), "-o", str(tmp_path / "out"))
    assert warned.returncode == 0
    assert "schemakit: warning:" in warned.stderr
    refused = run_cli("codegen", str(spec), "-o", str(tmp_path / "out2"), "--unsupported", "refuse")
    assert refused.returncode == 2


def test_the_package_folder_follows_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_package(generate_package(schemakit.load(str(DOCS)), package="perms"), tmp_path)
    finally:
        os.umask(old)
    assert (tmp_path / "perms").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "perms" / "_runtime").stat().st_mode & 0o777 == 0o755


COLLIDING = {
    "a-b": {"type": "boolean"},
    "a_b": {"type": "number", "format": "double"},
    "a.b": {"type": "string"},
    "A-B": {"type": "integer", "format": "int64"},
}


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_colliding_attribute_names_send_every_key_and_value_right(
    generated: GeneratePackage, tmp_path: Path, model_type: str
) -> None:
    spec = documents.write(
        tmp_path / "collide.json", documents.document({"collide-1": documents.records_model(COLLIDING)})
    )
    pkg = generated(spec, model_type)
    model = pkg.collide
    idents = {
        key: ident
        for key, ident, *_rest in importlib.import_module(pkg.__name__ + "._codec").CLASS_FIELDS["CollideRow"]
    }
    assert len(set(idents.values())) == 4
    assert idents["a_b"] == "a_b"  # a key that is already an identifier keeps it
    assert all(ident == key or ident not in COLLIDING for key, ident in idents.items())
    if model_type == "typeddict":
        row = {"a-b": True, "a_b": 2.5}
    else:
        row = model.Row(**{idents["a-b"]: True, idents["a_b"]: 2.5})
    with MockServer([spec], token=TOKEN) as server:
        with pkg.Client(f"{server.url}/serving-endpoints/stable-endpoint", token=TOKEN) as client:
            client.predict(model.to_dataframe_records([row]))
        (sent,) = [r for r in server.requests if r.path.endswith("/invocations")]
    assert json.loads(sent.body) == {"dataframe_records": [{"a-b": True, "a_b": 2.5}]}
    split = model.to_dataframe_split([row])
    assert split == {"dataframe_split": {"columns": ["a-b", "a_b"], "data": [[True, 2.5]]}}
    assert model.validate(split).ok


HOSTILE_MODELS = [
    "os",
    "httpx",
    "time",
    "type",
    "self",
    "annotations",
    "asyncio",
    "quote",
    "json",
    "client",
    "models",
    "None",
    "True",
    "Any",
    "Field",
    "BaseModel",
    "_codec",
    "validation",
]


@pytest.mark.parametrize("model_type", list(MODEL_TYPES))
def test_models_named_like_what_the_package_uses_get_safe_distinct_names(
    generated: GeneratePackage, tmp_path: Path, model_type: str
) -> None:
    spec = documents.write(
        tmp_path / "names.json",
        documents.document(
            {f"{name}-1": documents.records_model({"x": {"type": "integer"}}) for name in HOSTILE_MODELS}
        ),
    )
    pkg = generated(spec, model_type)
    modules = [m for m in pkg.__all__ if m[0].islower()]
    assert len(modules) == len(HOSTILE_MODELS)
    by_name = {getattr(pkg, m).NAME: getattr(pkg, m) for m in modules}
    assert sorted(by_name) == sorted(f"{n}-1" for n in HOSTILE_MODELS)
    assert by_name["os-1"].__name__.endswith(".os_model")
    with (
        MockServer([spec], token=TOKEN) as server,
        pkg.Client(f"{server.url}/serving-endpoints/stable-endpoint", token=TOKEN) as client,
    ):
        for module_name in modules:
            module = getattr(pkg, module_name)
            row = {"x": 1} if model_type == "typeddict" else module.Row(x=1)
            answer = getattr(client, f"predict_{module_name}")(module.to_dataframe_records([row]))
            assert answer is not None
