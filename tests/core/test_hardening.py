"""Issue 12 in core and diff: URI-bearing keywords, reference bombs, huge indexes and integers, bad ignore dates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import schemakit
from schemakit._exceptions import TooLargeError
from schemakit.core.refs import check_expansion

from ..conftest import run_cli_in_process

ROOT = Path(__file__).resolve().parents[2]
PATH = "/served-models/m/invocations"


def _document(column: Any, components: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    records = {"type": "array", "items": {"type": "object", "properties": {"a": column, "n": {"type": "integer"}}}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://example.com"}],
        "paths": {
            PATH: {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"dataframe_records": records}}
                            }
                        }
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
        **top,
    }
    if components is not None:
        document["components"] = {"schemas": components}
    return document


def _run(*args: str) -> Any:
    return run_cli_in_process(*args, cwd=ROOT)


def _write(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


URI_CASES = {
    "dynamicRef": {"$dynamicRef": "http://127.0.0.1:9/s.json"},
    "dynamicRef-file": {"$dynamicRef": "file:///etc/passwd"},
    "recursiveRef": {"$recursiveRef": "#", "type": "string"},
    "schema-custom": {"$schema": "http://127.0.0.1:9/meta", "type": "string"},
    "schema-file": {"$schema": "file:///etc/passwd", "type": "string"},
    "id-remote-base": {"$id": "http://127.0.0.1:9/base/", "type": "string"},
    "id-relative": {"$id": "other.json", "type": "string"},
    "anchor": {"$anchor": "node", "type": "string"},
    "dynamicAnchor": {"$dynamicAnchor": "node", "type": "string"},
    "vocabulary": {"$vocabulary": {"http://127.0.0.1:9/v": True}, "type": "string"},
}


@pytest.mark.parametrize("case", sorted(URI_CASES))
def test_uri_keywords_are_reported_and_dropped(case: str) -> None:
    report = schemakit.validate_document(_document(URI_CASES[case]))
    codes = [d.code for d in report.errors]
    assert codes == ["uri-keyword"], report.diagnostics
    keyword = next(k for k in URI_CASES[case] if k.startswith("$"))
    assert report.errors[0].pointer.endswith(f"/properties/a/{keyword}")
    assert "\n" not in report.errors[0].message
    served = report.schema.models[0]
    assert keyword not in _keys(served.request_schema)
    assert all(keyword not in _keys(fmt.schema) for fmt in served.formats)


@pytest.mark.parametrize(
    "harmless",
    [
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"},
        {"$id": "#here", "type": "string"},
        {"type": "object", "properties": {"$id": {"type": "string"}, "id": {"type": "integer"}}},
    ],
)
def test_standard_dialects_fragments_and_properties_named_like_keywords_are_fine(harmless: dict[str, Any]) -> None:
    report = schemakit.validate_document(_document(harmless))
    assert report.errors == ()
    column = report.schema.models[0].formats[0].column("a")
    assert column is not None
    if "properties" in harmless:
        assert [f.name for f in column.type.fields] == ["$id", "id"]


def test_a_custom_json_schema_dialect_is_reported() -> None:
    report = schemakit.validate_document(_document({"type": "string"}, jsonSchemaDialect="http://127.0.0.1:9/d"))
    assert [(d.code, d.pointer) for d in report.errors] == [("uri-keyword", "/jsonSchemaDialect")]
    assert "jsonSchemaDialect" not in report.schema.document


def test_validate_cli_exits_1_on_a_uri_keyword(tmp_path: Path) -> None:
    result = _run("validate", _write(tmp_path / "d.json", _document(URI_CASES["dynamicRef-file"])))
    assert result.returncode == 1
    assert "[uri-keyword]" in result.stdout
    assert "root:" not in result.stdout  # nothing of the file it names


# -- reference bombs -------------------------------------------------------------------------


def _laughs(levels: int, width: int) -> dict[str, Any]:
    components: dict[str, Any] = {
        f"l{i}": {
            "type": "object",
            "properties": {f"p{k}": {"$ref": f"#/components/schemas/l{i + 1}"} for k in range(width)},
        }
        for i in range(levels)
    }
    components[f"l{levels}"] = {"type": "string"}
    return _document({"$ref": "#/components/schemas/l0"}, components)


def test_a_billion_laughs_of_refs_is_refused_before_inlining(monkeypatch: pytest.MonkeyPatch) -> None:
    import schemakit.core.refs as refs

    bomb = _laughs(9, 10)  # 10^9 values once inlined, from a few hundred
    with pytest.raises(TooLargeError, match="expand the document past"):
        check_expansion(bomb, "bomb.json")

    def no_copying(*args: Any) -> Any:
        raise AssertionError("inlining started before the size was bounded")

    monkeypatch.setattr(refs.copy, "copy", no_copying)
    with pytest.raises(TooLargeError):
        schemakit.resolve(bomb)


def test_a_small_expansion_is_counted_exactly() -> None:
    document = _laughs(3, 2)
    size = check_expansion(document, "d.json")
    # Each level doubles; the count is what inlining really produces.
    inlined = schemakit.resolve(document).document["paths"]

    def count(node: Any) -> int:
        if isinstance(node, dict):
            return 1 + sum(count(v) for v in node.values())
        if isinstance(node, list):
            return 1 + sum(count(v) for v in node)
        return 1

    original_paths = count(_laughs(3, 2)["paths"])
    assert size >= original_paths
    assert size <= count(inlined) + original_paths


def test_the_cli_refuses_a_reference_bomb_in_one_line(tmp_path: Path) -> None:
    result = _run("validate", _write(tmp_path / "bomb.json", _laughs(12, 6)))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "expand the document past" in result.stderr


def test_a_huge_array_index_in_a_ref_is_a_clear_error() -> None:
    document = _document({"$ref": "#/components/schemas/x/" + "9" * 5000}, {"x": [{"type": "string"}]})
    report = schemakit.validate_document(document)
    [problem] = [d for d in report.errors if d.code == "ref-unresolved"]
    assert "points at nothing" in problem.message
    assert len(problem.message) < 200


def test_a_unicode_digit_is_no_array_index() -> None:
    document = _document({"$ref": "#/components/schemas/x/\u0661"}, {"x": [{"type": "string"}, {"type": "long"}]})
    assert [d.code for d in schemakit.validate_document(document).errors] == ["ref-unresolved"]


# -- integers beyond 64 bits -------------------------------------------------------------------


def test_integers_beyond_64_bits_in_inspect_and_diff_json(tmp_path: Path) -> None:
    big = {"type": "integer", "maximum": 2**70, "enum": [2**66, 1], "default": 1}
    old = _write(tmp_path / "old.json", _document(big))
    new = _write(tmp_path / "new.json", _document({**big, "maximum": 2**69}))
    inspected = _run("inspect", "--format", "json", old)
    assert inspected.returncode == 0, inspected.stderr
    column = json.loads(inspected.stdout)["models"][0]["columns"][0]
    assert column["name"] == "a"
    diffed = _run("diff", "--format", "json", old, new)
    assert diffed.returncode == 1, diffed.stderr
    [finding] = json.loads(diffed.stdout)["findings"]
    assert (finding["rule"], finding["old"], finding["new"]) == ("bound-narrowed", 2**70, 2**69)


# -- the ignore file ---------------------------------------------------------------------------


@pytest.mark.parametrize("expires", ["2027-02-30", "2027-13-01", "'2027-02-30'", "tomorrow"])
def test_an_ignore_file_with_an_invalid_date_is_one_line(tmp_path: Path, expires: str) -> None:
    old = _write(tmp_path / "old.json", _document({"type": "integer", "maximum": 10}))
    new = _write(tmp_path / "new.json", _document({"type": "integer", "maximum": 5}))
    ignore = tmp_path / "ignore.yaml"
    entry = "ignore:\n  - rule: bound-narrowed\n    model: m\n    reason: accepted\n    expires: {}\n"
    ignore.write_text(entry.format("2099-02-20"))
    assert _run("diff", "--ignore", str(ignore), old, new).returncode == 0  # the same entry with a real date
    ignore.write_text(entry.format(expires))
    result = _run("diff", "--ignore", str(ignore), old, new)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert "ignore.yaml" in result.stderr


# -- document text in plain output --------------------------------------------------------------


def test_validate_and_inspect_text_escape_document_text(tmp_path: Path) -> None:
    hostile = "x\n::error title=forged::pwned\x1b]0;title\x07\u202e"
    document = _document({"type": "string", "format": hostile})
    document["info"]["title"] = hostile
    records = document["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]["schema"]
    records["properties"]["dataframe_records"]["items"]["properties"][hostile] = {"type": "string"}
    path = _write(tmp_path / "hostile.json", document)
    for args in (("validate", path), ("inspect", path)):
        result = _run(*args)
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            assert not line.startswith("::"), line
        assert "\x1b" not in result.stdout
        assert "\u202e" not in result.stdout
        assert "\\n::error title=forged" in result.stdout
