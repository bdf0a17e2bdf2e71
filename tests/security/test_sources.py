"""Issue 12, security: sources reach only what the user named.

A document served over http, even with `--allow-remote-refs`, may reference only its own origin, never a local
source (`git:`, a file, `mlflow:`); `from-mlflow` never follows a symlinked example out of the model folder; the
endpoint names `.` and `..` never become `GET /api/2.0/serving-endpoints` or `DELETE /api/2.0`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import schemakit
from schemakit._exceptions import SchemakitError

from .hostile import (
    CANARY_TEXT,
    ROOT,
    TOKEN,
    HostileHandler,
    Listener,
    assert_clean,
    document,
    hostile_server,
    run_cli,
    write_json,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def repo(tmp_path: Path, canary: Path) -> Path:
    """A git repository (the working directory of the runs) with the canary committed as secret.json."""
    path = tmp_path / "repo"
    path.mkdir()
    shutil.copy(canary, path / "secret.json")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=path, check=True)
    subprocess.run([*git, "add", "secret.json"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "secret"], cwd=path, check=True)
    return path


def _serving(doc: dict[str, object]):  # type: ignore[no-untyped-def]
    body = json.dumps(doc).encode()

    def answer(handler: HostileHandler) -> None:
        handler.reply(200, body)

    return answer


@pytest.mark.parametrize(
    "ref",
    [
        "git:HEAD:secret.json",
        "git:HEAD:secret.json#/enum",
        "{canary_uri}",
        "mlflow:{canary_dir}",
        "{listener}/other-origin.json",
    ],
)
def test_remote_document_cannot_reference_local_sources(
    ref: str, repo: Path, canary: Path, listener: Listener, env: dict[str, str]
) -> None:
    ref = ref.format(canary_uri=canary.as_uri(), canary_dir=str(canary.parent), listener=listener.url)
    doc = document({"m-1": {"x": {"$ref": ref}, "y": {"allOf": [{"$ref": ref}]}}})
    with hostile_server(_serving(doc)) as server:
        url = f"{server.url}/doc.json"
        for args in (
            ("validate", "--allow-remote-refs", url),
            ("inspect", "--allow-remote-refs", "--format", "json", url),
            ("codegen", "--allow-remote-refs", "--check", "-o", str(repo / "out"), url),
        ):
            run = run_cli(*args, env=env, cwd=repo)
            assert_clean(run)
            if args[0] != "inspect":  # inspect shows a document with errors (exit 0); the leak check is what counts
                assert run.code != 0, f"a remote document's reference to {ref!r} was accepted\n{run}"
    assert listener.connections == 0


def _mlflow_model(tmp_path: Path, example_target: Path) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    mlmodel = (ROOT / "tests" / "mlflow" / "models" / "house-prices" / "MLmodel").read_text()
    mlmodel += "saved_input_example_info:\n  serving_input_path: serving_input_example.json\n  type: dataframe\n"
    (model / "MLmodel").write_text(mlmodel)
    (model / "serving_input_example.json").symlink_to(example_target)
    return model


def test_from_mlflow_never_follows_a_symlinked_example(tmp_path: Path, env: dict[str, str]) -> None:
    outside = tmp_path / "outside-example.json"
    row = {"bedrooms": 1, "area_m2": 2.0, "city": CANARY_TEXT}
    outside.write_text(json.dumps({"dataframe_records": [row], "dataframe_split": {"columns": ["city"], "data": [[CANARY_TEXT]]}}))
    model = _mlflow_model(tmp_path, outside)
    for args in (("from-mlflow", str(model)), ("inspect", f"mlflow:{model}"), ("validate", f"mlflow:{model}")):
        assert_clean(run_cli(*args, env=env))
    out = tmp_path / "doc.json"
    assert_clean(run_cli("from-mlflow", str(model), "-o", str(out), env=env))
    assert CANARY_TEXT not in out.read_text()
    try:
        built = schemakit.document_from_mlflow(str(model))
    except SchemakitError:
        return
    assert CANARY_TEXT not in json.dumps(built)


def test_from_mlflow_never_follows_a_symlinked_mlmodel_folder(tmp_path: Path, env: dict[str, str]) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "serving_input_example.json").write_text(json.dumps({"dataframe_records": [{"city": CANARY_TEXT}]}))
    model = tmp_path / "model"
    model.mkdir()
    mlmodel = (ROOT / "tests" / "mlflow" / "models" / "house-prices" / "MLmodel").read_text()
    (model / "MLmodel").write_text(mlmodel + "saved_input_example_info:\n  serving_input_path: serving_input_example.json\n")
    (model / "serving_input_example.json").symlink_to(outside / "serving_input_example.json")
    assert_clean(run_cli("from-mlflow", str(model), env=env))


DOT_NAMES = [".", "..", "%2e", "%2e%2e", "./..", "../..", "a/../..", "..%2f"]


@pytest.mark.parametrize("name", DOT_NAMES)
def test_dot_endpoint_names_are_refused_before_any_request(name: str, env: dict[str, str]) -> None:
    def answer(handler: HostileHandler) -> None:
        handler.reply(200, json.dumps({"endpoints": [], "name": "x", "state": {"ready": "READY"}}).encode())

    with hostile_server(answer) as server:
        run_env = {**env, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        for args in (
            ("endpoint", "status", name),
            ("endpoint", "delete", name, "--yes"),
            ("endpoint", "stop", name),
            ("endpoint", "permissions", name),
            ("fetch", name),
            ("inspect", f"endpoint:{name}"),
        ):
            run = run_cli(*args, env=run_env)
            assert_clean(run)
            for method, path, _headers in server.seen:
                bare = path.split("?", 1)[0].rstrip("/")
                assert bare not in ("/api/2.0/serving-endpoints", "/api/2.0", "/api", ""), (
                    f"{name!r} became {method} {path}\n{run}"
                )
                assert "/../" not in path + "/" and not bare.endswith("/.."), f"{method} {path}"
        if name in (".", ".."):
            assert not server.seen, f"{name!r} reached the server: {server.seen}"
        with schemakit.Workspace(host=server.url, token=TOKEN, retries=0) as ws:
            for call in (ws.get_endpoint, ws.delete, ws.get_openapi, ws.stop):
                seen = len(server.seen)
                try:
                    call(name)
                except (SchemakitError, ValueError) as exc:
                    assert "\n" not in str(exc)
                new = server.seen[seen:]
                for method, path, _headers in new:
                    bare = path.split("?", 1)[0].rstrip("/")
                    assert bare not in ("/api/2.0/serving-endpoints", "/api/2.0"), f"{name!r} became {method} {path}"
