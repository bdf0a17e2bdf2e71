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
    assert_one_line,
    document,
    hostile_server,
    run_cli,
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
    outside.write_text(
        json.dumps({"dataframe_records": [row], "dataframe_split": {"columns": ["city"], "data": [[CANARY_TEXT]]}})
    )
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
    (model / "MLmodel").write_text(
        mlmodel + "saved_input_example_info:\n  serving_input_path: serving_input_example.json\n"
    )
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
                assert "/../" not in path + "/", f"{method} {path}"
                assert not bare.endswith("/.."), f"{method} {path}"
        if name in (".", ".."):
            assert not server.seen, f"{name!r} reached the server: {server.seen}"
        with schemakit.Workspace(host=server.url, token=TOKEN, retries=0) as ws:
            for call in (ws.get_endpoint, ws.delete, ws.get_openapi, ws.stop):
                seen = len(server.seen)
                try:
                    call(name)
                except (SchemakitError, ValueError) as exc:
                    assert_one_line(exc)
                new = server.seen[seen:]
                for method, path, _headers in new:
                    bare = path.split("?", 1)[0].rstrip("/")
                    assert bare not in ("/api/2.0/serving-endpoints", "/api/2.0"), f"{name!r} became {method} {path}"


@pytest.mark.parametrize(
    ("status", "location"),
    [
        (302, None),
        (307, ""),
        (301, None),
        (308, "   "),
        (302, "javascript:alert(1)"),
        (302, "http://[::1"),
        (302, "ftp://127.0.0.1/x"),
    ],
)
def test_a_redirect_without_a_usable_location_is_one_line_error(status: int, location: str | None) -> None:
    """Found by tests/fuzz/test_servers.py: a 3xx body was parsed as the document; `javascript:` raised httpx.InvalidURL."""
    body = json.dumps(document()).encode()

    def answer(handler: HostileHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        if location is not None:
            handler.send_header("Location", location)
        handler.end_headers()
        handler.wfile.write(body)

    with hostile_server(answer) as server, pytest.raises(SchemakitError) as refused:
        schemakit.load(f"{server.url}/doc.json", schemakit.LoadOptions(timeout=5))
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    "location", ["javascript:alert(1)", "http://[::1", "//127.0.0.1:1/x", "ftp://127.0.0.1/x", "\x00"]
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_workspace_redirects_to_odd_locations_are_one_line_errors(status: int, location: str) -> None:
    """Found by tests/fuzz/test_servers.py: `Location: javascript:alert(1)` raised httpx.InvalidURL."""

    def answer(handler: HostileHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location.replace("\x00", "%00"))
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    with hostile_server(answer) as server, schemakit.Workspace(host=server.url, token=TOKEN, retries=0) as ws:
        for call in (lambda: ws.get_endpoint("ep"), lambda: ws.stop("ep"), lambda: ws.list_endpoints()):
            try:
                call()
            except SchemakitError as exc:
                assert_one_line(exc)
