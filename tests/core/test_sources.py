"""http(s) and git sources, over a real socket on 127.0.0.1 and a real temporary repository."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import schemakit
from schemakit import LoadOptions, RemoteFetchError, TooLargeError

from ..conftest import run_cli_in_process

SECRET = "Bearer dapi-secret-token-123"


def one_error_line(result: Any, exit_code: int = 2) -> str:
    assert "Traceback" not in result.stderr
    assert result.returncode == exit_code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("schemakit: error: ")
    return lines[0]


@pytest.fixture
def served(http_server: Any, docs: SimpleNamespace, route: Any) -> Any:
    http_server.routes["/schema.json"] = route(200, docs.docs_example_path.read_bytes())
    return http_server


def test_url_source_loads(served: Any, run_cli: Any) -> None:
    result = run_cli("inspect", served.url("/schema.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["models"][0]["name"] == "vanilla_simple_model-2"


def test_url_source_library_and_header_sent_to_origin(served: Any) -> None:
    schema = schemakit.load(served.url("/schema.json"), LoadOptions(headers={"Authorization": SECRET}))
    assert schema.title == "example-endpoint"
    assert schema.source == served.url("/schema.json")
    [(path, headers)] = served.requests
    assert path == "/schema.json"
    assert headers["authorization"] == SECRET


def test_url_yaml_document(http_server: Any, docs: SimpleNamespace, route: Any) -> None:
    http_server.routes["/schema.yaml"] = route(200, (docs.samples / "house-prices.yaml").read_bytes())
    assert schemakit.load(http_server.url("/schema.yaml")).title == "house-prices"


def test_validate_accepts_a_url(served: Any, run_cli: Any) -> None:
    result = run_cli("validate", served.url("/schema.json"), "--header", f"Authorization: {SECRET}")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    assert served.requests[0][1]["authorization"] == SECRET


def test_url_404(http_server: Any, run_cli: Any) -> None:
    result = run_cli("validate", http_server.url("/missing.json"), "--header", f"Authorization: {SECRET}")
    line = one_error_line(result)
    assert line == f"schemakit: error: {http_server.url('/missing.json')}: HTTP 404 Not Found"


def test_url_server_error(http_server: Any, run_cli: Any, route: Any) -> None:
    http_server.routes["/boom"] = route(503, b"down")
    line = one_error_line(run_cli("inspect", http_server.url("/boom")))
    assert line.endswith("/boom: HTTP 503 Service Unavailable")


def test_url_credentials_and_query_never_shown(http_server: Any, run_cli: Any) -> None:
    url = f"http://user:hunter2@127.0.0.1:{http_server.port}/missing.json?sig=signed-secret"
    line = one_error_line(run_cli("inspect", url))
    assert "hunter2" not in line
    assert "signed-secret" not in line
    assert f"http://127.0.0.1:{http_server.port}/missing.json: HTTP 404" in line


def test_url_timeout(http_server: Any, run_cli: Any, route: Any, docs: SimpleNamespace) -> None:
    http_server.routes["/slow.json"] = route(200, docs.docs_example_path.read_bytes(), delay=30)
    line = one_error_line(run_cli("inspect", http_server.url("/slow.json"), "--timeout", "0.5"))
    assert line.endswith("/slow.json: no answer within 0.5 s")


def test_url_size_cap_by_content_length(served: Any, run_cli: Any, docs: SimpleNamespace) -> None:
    size = docs.docs_example_path.stat().st_size
    line = one_error_line(run_cli("inspect", served.url("/schema.json"), "--max-bytes", "1000"))
    assert line.endswith(f"/schema.json: {size:,} bytes is over the 1,000-byte limit")


def test_url_size_cap_while_streaming(http_server: Any, route: Any) -> None:
    """No Content-Length (chunked): the cap still stops the read."""
    http_server.routes["/big.json"] = route(200, b"[" + b"0," * 500_000 + b"0]", chunked=True)
    with pytest.raises(TooLargeError, match=r"/big\.json: over the 10,000-byte limit"):
        schemakit.load(http_server.url("/big.json"), LoadOptions(max_bytes=10_000))


def test_url_connection_refused(run_cli: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe socket is closed.
    line = one_error_line(run_cli("inspect", f"http://127.0.0.1:{port}/schema.json", "--timeout", "5"))
    assert f"http://127.0.0.1:{port}/schema.json: cannot connect" in line


def test_redirect_to_another_origin_drops_headers(
    http_server: Any, second_http_server: Any, route: Any, docs: SimpleNamespace, run_cli: Any
) -> None:
    second_http_server.routes["/schema.json"] = route(200, docs.docs_example_path.read_bytes())
    http_server.routes["/moved"] = route(302, b"", headers={"Location": second_http_server.url("/schema.json")})
    result = run_cli(
        "inspect", http_server.url("/moved"), "--header", f"Authorization: {SECRET}", "--header", "X-Trace: abc"
    )
    assert result.returncode == 0, result.stderr
    assert http_server.requests[0][1]["authorization"] == SECRET
    [(path, headers)] = second_http_server.requests
    assert path == "/schema.json"
    assert "authorization" not in headers
    assert "x-trace" not in headers


def test_redirect_to_another_host_drops_headers(http_server: Any, route: Any, docs: SimpleNamespace) -> None:
    """`localhost` and `127.0.0.1` are the same socket but different hosts: the token stays behind."""
    http_server.routes["/schema.json"] = route(200, docs.docs_example_path.read_bytes())
    target = f"http://localhost:{http_server.port}/schema.json"
    http_server.routes["/moved"] = route(301, b"", headers={"Location": target})
    schema = schemakit.load(http_server.url("/moved"), LoadOptions(headers={"Authorization": SECRET}))
    assert schema.title == "example-endpoint"
    assert http_server.requests[0] == ("/moved", http_server.requests[0][1])
    assert http_server.requests[0][1]["authorization"] == SECRET
    assert "authorization" not in http_server.requests[1][1]


def test_same_origin_redirect_keeps_headers(http_server: Any, route: Any, docs: SimpleNamespace) -> None:
    http_server.routes["/schema.json"] = route(200, docs.docs_example_path.read_bytes())
    http_server.routes["/latest"] = route(307, b"", headers={"Location": "/schema.json"})
    schemakit.load(http_server.url("/latest"), LoadOptions(headers={"Authorization": SECRET}))
    assert [p for p, _ in http_server.requests] == ["/latest", "/schema.json"]
    assert all(h["authorization"] == SECRET for _, h in http_server.requests)


def test_redirect_loop_stops(http_server: Any, route: Any) -> None:
    http_server.routes["/a"] = route(302, b"", headers={"Location": "/b"})
    http_server.routes["/b"] = route(302, b"", headers={"Location": "/a"})
    with pytest.raises(RemoteFetchError, match="too many redirects"):
        schemakit.load(http_server.url("/a"))
    assert len(http_server.requests) == 10


def test_redirect_to_a_non_http_scheme_is_refused(http_server: Any, route: Any) -> None:
    http_server.routes["/file"] = route(302, b"", headers={"Location": "file:///etc/passwd"})
    with pytest.raises(RemoteFetchError, match="redirected to a non-http location"):
        schemakit.load(http_server.url("/file"))


def test_url_body_not_json(http_server: Any, route: Any, run_cli: Any) -> None:
    http_server.routes["/page.json"] = route(200, b"<html>login</html>")
    line = one_error_line(run_cli("validate", http_server.url("/page.json")))
    assert "/page.json:1:1: not valid JSON" in line


# -- remote references over a real server ------------------------------------------------------


def _doc_with_relative_ref(docs: SimpleNamespace) -> dict[str, Any]:
    return docs.endpoint(docs.records({"id": docs.LONG, "amount": {"$ref": "money.json#/Amount"}}, ["id"]))


def test_remote_ref_refused_by_default_and_nothing_fetched(
    http_server: Any, route: Any, docs: SimpleNamespace, run_cli: Any
) -> None:
    http_server.routes["/doc.json"] = route(200, json.dumps(_doc_with_relative_ref(docs)).encode())
    http_server.routes["/money.json"] = route(200, json.dumps({"Amount": docs.DOUBLE}).encode())
    line = one_error_line(run_cli("inspect", http_server.url("/doc.json")))
    assert "$ref 'money.json#/Amount'" in line
    assert "remote references are refused by default" in line
    assert [p for p, _ in http_server.requests] == ["/doc.json"]


def test_remote_ref_followed_when_allowed(http_server: Any, route: Any, docs: SimpleNamespace, run_cli: Any) -> None:
    http_server.routes["/doc.json"] = route(200, json.dumps(_doc_with_relative_ref(docs)).encode())
    http_server.routes["/money.json"] = route(200, json.dumps({"Amount": docs.DOUBLE}).encode())
    result = run_cli("inspect", http_server.url("/doc.json"), "--allow-remote-refs", "--format", "json")
    assert result.returncode == 0, result.stderr
    columns = json.loads(result.stdout)["models"][0]["columns"]
    assert [(c["name"], c["type"]) for c in columns] == [("id", "long"), ("amount", "double")]
    assert sorted(p for p, _ in http_server.requests) == ["/doc.json", "/money.json"]


# -- git:REV:PATH ----------------------------------------------------------------------------------


def run_in(cwd: Path, *args: str) -> Any:
    return run_cli_in_process(*args, cwd=cwd)


def test_git_source_reads_a_revision(git_repo: Any, docs: SimpleNamespace) -> None:
    old = docs.docs_example()
    first = git_repo("schemas/ads.json", json.dumps(old))
    new = docs.docs_example()
    new["info"]["version"] = "3"
    git_repo("schemas/ads.json", json.dumps(new))
    repo = git_repo.repo
    result = run_in(repo, "inspect", f"git:{first}:schemas/ads.json", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == "2"
    result = run_in(repo, "inspect", "git:HEAD:schemas/ads.json", "--format", "json")
    assert json.loads(result.stdout)["version"] == "3"
    result = run_in(repo, "validate", "git:HEAD~1:schemas/ads.json")
    assert result.returncode == 0, result.stderr


def test_git_source_yaml(git_repo: Any, docs: SimpleNamespace) -> None:
    git_repo("house.yaml", (docs.samples / "house-prices.yaml").read_text())
    result = run_in(git_repo.repo, "inspect", "git:main:house.yaml", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "house-prices"


def test_git_source_missing_path(git_repo: Any) -> None:
    git_repo("a.json", "{}")
    line = one_error_line(run_in(git_repo.repo, "validate", "git:HEAD:nope.json"))
    assert line.startswith("schemakit: error: git:HEAD:nope.json: ")
    assert "nope.json" in line.removeprefix("schemakit: error: git:HEAD:nope.json: ")


def test_git_source_unknown_revision(git_repo: Any) -> None:
    git_repo("a.json", "{}")
    line = one_error_line(run_in(git_repo.repo, "validate", "git:no-such-branch:a.json"))
    assert line.startswith("schemakit: error: git:no-such-branch:a.json: ")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("git:HEAD", "git:HEAD: expected git:REV:PATH, for example git:origin/main:schemas/ads.json"),
        ("git::a.json", "git::a.json: expected git:REV:PATH"),
        ("git:--output=/tmp/x:a.json", "git:--output=/tmp/x:a.json: a revision cannot start with '-'"),
    ],
)
def test_git_source_malformed(git_repo: Any, source: str, message: str) -> None:
    git_repo("a.json", "{}")
    line = one_error_line(run_in(git_repo.repo, "inspect", source))
    assert message in line


def test_git_source_outside_a_repository(tmp_path: Path) -> None:
    line = one_error_line(run_in(tmp_path, "inspect", "git:HEAD:a.json"))
    assert "git:HEAD:a.json: " in line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:99999/schema.json", "http://(invalid URL)"),
        ("http://[::1/schema.json", "http://(invalid URL)"),
        ("https:///schema.json", "https:///schema.json"),
    ],
)
def test_malformed_url(run_cli: Any, url: str, shown: str) -> None:
    line = one_error_line(run_cli("inspect", url))
    assert line == f"schemakit: error: {shown}: not a valid http(s) URL (expected http[s]://HOST[:PORT]/PATH)"


def test_remote_refs_get_headers_only_on_the_documents_origin(
    http_server: Any, second_http_server: Any, route: Any, docs: SimpleNamespace, run_cli: Any
) -> None:
    document = docs.endpoint(docs.records({"id": {"$ref": "ids.json#/Id"}}, ["id"]))
    http_server.routes["/doc.json"] = route(200, json.dumps(document).encode())
    http_server.routes["/ids.json"] = route(200, json.dumps({"Id": docs.LONG}).encode())
    result = run_cli(
        "validate", http_server.url("/doc.json"), "--allow-remote-refs", "--header", f"Authorization: {SECRET}"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p for p, _ in http_server.requests) == ["/doc.json", "/ids.json"]
    assert all(h["authorization"] == SECRET for _, h in http_server.requests)


def test_a_remote_document_may_not_reference_another_origin_or_a_local_source(
    http_server: Any, second_http_server: Any, route: Any, docs: SimpleNamespace, run_cli: Any
) -> None:
    for target in (f"{second_http_server.url('/money.json')}#/Amount", "git:HEAD:README.md#/x", "file:///etc/hostname#/x"):
        document = docs.endpoint(docs.records({"amount": {"$ref": target}}, []))
        http_server.routes["/doc.json"] = route(200, json.dumps(document).encode())
        result = run_cli("validate", http_server.url("/doc.json"), "--allow-remote-refs")
        assert result.returncode == 2, result.stdout + result.stderr
        assert "may reference only its own origin" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert second_http_server.requests == []


def test_validate_output_names_a_url_without_its_secrets(served: Any, run_cli: Any) -> None:
    url = f"http://user:hunter2@127.0.0.1:{served.port}/schema.json?sig=signed-secret"
    text = run_cli("validate", url)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines()[-1] == (
        f"http://127.0.0.1:{served.port}/schema.json: ok: 1 served model(s), 0 error(s), 7 warning(s)"
    )
    as_json = run_cli("validate", url, "--format", "json")
    assert json.loads(as_json.stdout)["source"] == f"http://127.0.0.1:{served.port}/schema.json"
    for output in (text.stdout + text.stderr, as_json.stdout + as_json.stderr):
        assert "hunter2" not in output
        assert "signed-secret" not in output


def test_url_gzip_bomb_is_capped_after_decompression(http_server: Any, route: Any) -> None:
    import gzip

    bomb = gzip.compress(b" " * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    http_server.routes["/bomb.json"] = route(200, bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError, match=r"/bomb\.json: over the 1,000,000-byte limit"):
        schemakit.load(http_server.url("/bomb.json"), LoadOptions(max_bytes=1_000_000))
