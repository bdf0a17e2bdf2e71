"""Issue 23, the emulator: hostile documents and requests cost bounded memory and always get an answer with a body.

A response schema may ask for gigabytes (`minLength`, `minItems`, tensor shapes, a type repeated through shared
`$ref`s); the emulator's answer stops at `MAX_ANSWER_BYTES` and says so in `x-schemakit-warning`, and its peak
memory stays under 200 MB, measured in a subprocess (its own high-water mark, VmHWM, where /proc has it; else
`resource.getrusage`). A request line http.server cannot
read gets a 400 with a JSON body under `mock -v` too, and a `config_version` of 5,000 digits a 400, not a 500.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemakit.testing import MockServer

from .hostile import SAMPLE, TOKEN, document, write_json

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
#: The promise: the emulator's peak resident memory, whatever the document asks for.
PEAK_LIMIT_MB = 200


def _with_predictions(items: dict[str, Any], title: str, **extra: Any) -> dict[str, Any]:
    doc = document({"m-1": {"x": {"type": "integer"}}}, title=title, extra=extra or None)
    answer = doc["paths"]["/served-models/m-1/invocations"]["post"]["responses"]["200"]["content"]["application/json"]
    answer["schema"]["properties"]["predictions"]["items"] = items
    return doc


def _chat_with_huge_content(title: str) -> dict[str, Any]:
    doc = json.loads((ROOT / "samples" / "foundation-model-chat.json").read_text())
    doc["info"]["title"] = title
    doc["servers"] = [{"url": f"https://example.databricks.com/serving-endpoints/{title}"}]
    # Every string in the answer asks for a gigabyte.
    stack: list[Any] = [item["post"]["responses"] for item in doc["paths"].values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "string" and "enum" not in node:
                node["minLength"] = 10**9
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return doc


def _exponential_refs(title: str) -> dict[str, Any]:
    # Four levels of ten properties, each a reference to the next: 10,000 strings of 100,000 characters (1 GB).
    schemas: dict[str, Any] = {"L4": {"type": "string", "minLength": 100_000}}
    for level in range(3, -1, -1):
        schemas[f"L{level}"] = {
            "type": "object",
            "properties": {f"p{i}": {"$ref": f"#/components/schemas/L{level + 1}"} for i in range(10)},
        }
    return _with_predictions({"$ref": "#/components/schemas/L0"}, title, components={"schemas": schemas})


HOSTILE_DOCUMENTS = {
    "min-length": _with_predictions({"type": "string", "minLength": 10**9}, "min-length"),
    "min-items": _with_predictions(
        {
            "type": "array",
            "minItems": 10**6,
            "items": {"type": "array", "minItems": 10**6, "items": {"type": "string", "minLength": 10**5}},
        },
        "min-items",
    ),
    "tensor": _with_predictions(
        {
            "type": "array",
            "minItems": 10**9,
            "items": {"type": "array", "minItems": 10**9, "items": {"type": "number"}},
        },
        "tensor",
    ),
    "refs": _exponential_refs("refs"),
    "chat": _chat_with_huge_content("chat"),
}

MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    import httpx
    from schemakit.testing import MockServer

    paths = sys.argv[1:]
    out = []
    with MockServer(paths, token="t") as server, httpx.Client(base_url=server.url, timeout=60,
            headers={"Authorization": "Bearer t"}) as client:
        for path in paths:
            name = json.load(open(path))["info"]["title"]
            url = f"/serving-endpoints/{name}/invocations"
            bodies = [{"dataframe_records": [{"x": 1}, {"x": 2}]}]
            if name == "chat":
                messages = [{"role": "user", "content": "hi"}]
                bodies = [{"messages": messages}, {"messages": messages, "stream": True, "n": 16}]
            for body in bodies:
                # Streamed and dropped chunk by chunk: the peak measured is the emulator's, not this client's.
                with client.stream("POST", url, json=body) as response:
                    size, first = 0, b""
                    for chunk in response.iter_bytes():
                        first = first or chunk[:1]
                        size += len(chunk)
                    out.append([name, response.status_code, size, response.headers.get("x-schemakit-warning"),
                                first.decode()])
    # VmHWM is this process's own peak; ru_maxrss would carry the forking parent's size across exec (Linux).
    try:
        status = open("/proc/self/status").read()
        peak_mb = int(next(l for l in status.splitlines() if l.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration):
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"answers": out, "peak_mb": peak_mb}))
    """
)


def test_emulator_memory_stays_bounded_whatever_the_response_schema_asks(tmp_path: Path) -> None:
    paths = [str(write_json(tmp_path / f"{name}.json", doc)) for name, doc in HOSTILE_DOCUMENTS.items()]
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *paths], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, status, size, warning, first in result["answers"]:
        assert status == 200, (name, status)
        assert size <= 9 * 1024 * 1024, (name, size)
        assert first in ("{", "d"), (name, first)  # JSON, or an event stream (`data: ...`)
        assert warning is not None, name
        assert "answer cut" in warning, name
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_a_cut_answer_is_still_valid_json_with_one_prediction_per_row(tmp_path: Path) -> None:
    path = write_json(tmp_path / "big.json", HOSTILE_DOCUMENTS["min-length"])
    with MockServer([path], token=TOKEN) as server, server.client() as client:
        response = client.post(
            "/serving-endpoints/min-length/invocations", json={"dataframe_records": [{"x": 1}, {"x": 2}, {"x": 3}]}
        )
        assert response.status_code == 200
        predictions = response.json()["predictions"]
        assert len(predictions) == 3
        assert all(isinstance(p, str) for p in predictions)
        logs = client.get("/api/2.0/serving-endpoints/min-length/served-models/m-1/logs").json()["logs"]
        assert "answer cut" in logs


# -- requests http.server cannot read, under `mock -v` ----------------------------------------------------------


@pytest.fixture(scope="module")
def verbose_server() -> Any:
    lines: list[str] = []
    with MockServer([SAMPLE], token=TOKEN, access_log=lines.append) as server:
        yield server, lines


def _raw(server: MockServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request)
        data = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk


@pytest.mark.parametrize(
    "request_line",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / HTTP/1.1 extra words\r\n\r\n",
        b"\x1b]0;title\x07 / HTTP/1.1\r\n\r\n",
        b"POST\r\n\r\n",
    ],
)
def test_malformed_request_gets_a_400_with_a_body_under_verbose(verbose_server: Any, request_line: bytes) -> None:
    server, lines = verbose_server
    before = len(lines)
    answer = _raw(server, request_line)
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert (400 <= status < 500 and status != 404) or status == 505, answer[:300]
    assert json.loads(body)["error_code"], answer[:300]
    new = lines[before:]
    assert new, "the access log has no line for the request"
    assert all("\x1b" not in line and "\x07" not in line for line in new), new


@pytest.mark.parametrize("version", ["1" * 5000, "9" * 19, "\u00b2", "\u0661", "-1", "1e3"])
def test_logs_config_version_out_of_range_is_a_400(verbose_server: Any, version: str) -> None:
    server, _ = verbose_server
    with server.client() as client:
        response = client.get(
            "/api/2.0/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/logs",
            params={"config_version": version},
        )
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_document_version_of_5000_digits_serves(tmp_path: Path) -> None:
    doc = document(version="7" * 5000, title="long-version")
    with MockServer([write_json(tmp_path / "v.json", doc)], token=TOKEN) as server, server.client() as client:
        details = client.get("/api/2.0/serving-endpoints/long-version")
    assert details.status_code == 200
    assert details.json()["config"]["config_version"] == 1


def test_httpx_sees_errors_as_json(verbose_server: Any) -> None:
    # The ordinary path stays as it was: a bad payload is a 400 with the report.
    server, _ = verbose_server
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        response = client.post("/serving-endpoints/example-endpoint/invocations", content=b"{")
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
