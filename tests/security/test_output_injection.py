"""Issue 12, security: text from documents and payloads is escaped for every output format.

Titles, served-model names, column names and payload keys carrying newlines, CR, NUL, ESC/OSC/CSI sequences, C1
controls and bidi overrides must not reach text output raw (a line beginning `::error` is a GitHub workflow
command, an OSC sequence rewrites a terminal), nor `--format github`/`markdown`/`junit`, nor `mock -v` logs, nor
the string literals of generated code (Trojan Source).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import schemakit
from schemakit._exceptions import SchemakitError
from schemakit.codegen.generate import generate_package

from .hostile import Run, assert_clean, document, raw_controls, run_cli, write_json

pytestmark = pytest.mark.timeout(60)

#: One string with every class: a workflow command on its own line, CR, OSC and CSI, NUL, C1 (NEL, CSI), bidi.
EVIL = "a\n::error title=PWNED::x\r::warning::y\x1b]0;PWNED\x07\x1b[31mred\x00nul\u202eevil\u2066i\u2028ls\x85\x9b2J"
INJECTED = ("::error title=PWNED", "::warning::y")


def _assert_escaped(run: Run, *, github: bool = False, json_out: bool = False) -> None:
    """JSON output keeps strings exact (JSON escapes what it must): only its stderr is held to the text rules."""
    assert_clean(run)
    for stream in (run.err,) if json_out else (run.out, run.err):
        assert not raw_controls(stream), f"raw control characters {raw_controls(stream)} in output:\n{run!r}"
        for line in stream.splitlines():
            assert not line.startswith(INJECTED), f"a document made its own line: {line!r}\n{run!r}"
            if not github:
                assert not line.startswith("::"), f"a workflow command in plain output: {line!r}"


def _evil_doc(tmp_path: Path, name: str = "evil.json", *, keep_evil_column: bool = True) -> Path:
    props: dict[str, object] = {"x": {"type": "integer", "description": EVIL}}
    if keep_evil_column:
        props[EVIL] = {"type": "string", "title": EVIL, "enum": [EVIL, "b"]}
        props["b" + EVIL] = {"type": "integer"}
    models = {f"m{EVIL}": props, "plain": props}
    return write_json(tmp_path / name, document(models, title=f"t{EVIL}", version=EVIL))


def _evil_payload(tmp_path: Path) -> Path:
    rows = [{EVIL: 5, "x": EVIL, f"k{EVIL}": {EVIL: [EVIL]}}]
    return write_json(tmp_path / "payload.json", {"dataframe_records": rows, "params": {EVIL: EVIL}})


def test_validate_escapes(tmp_path: Path, env: dict[str, str]) -> None:
    doc = _evil_doc(tmp_path)
    _assert_escaped(run_cli("validate", str(doc), env=env))
    _assert_escaped(run_cli("validate", "--strict", str(doc), env=env))


def test_inspect_escapes(tmp_path: Path, env: dict[str, str]) -> None:
    _assert_escaped(run_cli("inspect", str(_evil_doc(tmp_path)), env=env))


def test_check_escapes_document_and_payload_text(tmp_path: Path, env: dict[str, str]) -> None:
    doc, payload = _evil_doc(tmp_path), _evil_payload(tmp_path)
    _assert_escaped(run_cli("check", str(doc), str(payload), env=env))
    _assert_escaped(run_cli("check", str(doc), "-", input=payload.read_text(), env=env))
    _assert_escaped(run_cli("check", str(write_json(tmp_path / "plain.json", document())), str(payload), env=env))


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "junit", "json"])
def test_diff_escapes_every_format(tmp_path: Path, fmt: str, env: dict[str, str]) -> None:
    old = _evil_doc(tmp_path, "old.json")
    new = write_json(tmp_path / "new.json", document({"plain": {"x": {"type": "string"}}}, title="t"))
    for a, b in ((old, new), (new, old)):
        run = run_cli("diff", "--format", fmt, "--fail-on", "never", str(a), str(b), env=env)
        _assert_escaped(run, github=fmt == "github", json_out=fmt == "json")
        if fmt == "junit":
            ET.fromstring(run.out)  # well-formed XML: no raw control character, nothing unescaped
        if fmt == "json":
            json.loads(run.out)


def test_mock_verbose_log_escapes_request_lines(tmp_path: Path, env: dict[str, str]) -> None:
    doc = write_json(tmp_path / "doc.json", document())
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemakit", "mock", "-v", "--token", "dapi-test", str(doc)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        encoding="utf-8",
        errors="backslashreplace",
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        port = int(url.rsplit(":", 1)[1])
        for target in (
            b"/serving-endpoints/%0A::error%20title=PWNED::x/invocations",
            b"/serving-endpoints/%1B%5D0;PWNED%07/invocations?q=%E2%80%AE%00",
            b"/x\x1b[31m\x1b]0;PWNED\x07\xe2\x80\xae",
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                conn.recv(65536)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    run = Run(("mock", "-v"), proc.returncode, out, err)
    assert "POST" in err, "the request lines were not logged at all"
    _assert_escaped(run)


@pytest.mark.parametrize("model_type", ["typeddict", "pydantic", "dataclasses", "msgspec"])
def test_generated_python_string_literals_are_escaped(tmp_path: Path, model_type: str) -> None:
    schema = schemakit.load(str(write_json(tmp_path / "doc.json", _codegen_doc())))
    try:
        generated = generate_package(schema, package="evil_pkg", model_type=model_type)
    except SchemakitError as exc:
        # msgspec itself cannot rename a field to a name with control characters: a clear refusal is its answer.
        if model_type != "msgspec" or "\n" in str(exc):
            pytest.fail(f"codegen refused hostile text instead of escaping it: {exc}")
        return
    for file in generated.files:
        text = file.content.decode("utf-8")
        assert not raw_controls(text), f"{file.path}: raw {raw_controls(text)}"


def test_generated_typescript_string_literals_are_escaped(tmp_path: Path) -> None:
    schema = schemakit.load(str(write_json(tmp_path / "doc.json", _codegen_doc())))
    generated = generate_package(schema, package="evil_pkg", target="typescript")
    for file in generated.files:
        text = file.content.decode("utf-8")
        assert not raw_controls(text), f"{file.path}: raw {raw_controls(text)}"


def _codegen_doc() -> dict[str, object]:
    bidi = "admin\u202e \u2066// check later\u2069 \u2067x\u2028y\u2029z\x00\x1b[2J\x85"
    props = {
        "role": {"type": "string", "enum": [bidi, "user"], "description": bidi, "default": bidi},
        bidi: {"type": "integer"},
    }
    return document({"m-1": props}, title="evil", version=bidi)
