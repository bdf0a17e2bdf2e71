"""Each output format: text, JSON, Markdown, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from diff_docs import DEFAULT_COLUMNS, col, diff, doc, model, param

from schemakit.diff import (
    DiffReport,
    IgnoreEntry,
    apply_ignores,
    render_diff,
    render_github,
    render_json,
    render_junit,
    render_markdown,
    render_text,
)

A, B, C = DEFAULT_COLUMNS


def _report() -> DiffReport:
    """One breaking, one warning and some info findings over two models, one change ignored."""
    old = doc(model("ads-model-2"), model("fraud"), version="4")
    new = doc(
        model("ads-model-3", columns=(A, col("b", "string"), C), params=(param("sentiment", "double", 0.9),)),
        model("fraud", columns=(A, B, C, col("d", "string"))),
        version="5",
    )
    entry = IgnoreEntry(rule="type-changed", reason="b is text now", format="dataframe_records", column="b", index=1)
    return apply_ignores(diff(old, new), [entry])


def test_text_groups_by_model_and_ends_with_a_summary() -> None:
    text = render_text(_report())
    lines = text.splitlines()
    assert lines[0] == "schemakit diff: old.json -> new.json"
    assert lines[1] == "endpoint"
    assert "served model ads-model-3 (was ads-model-2)" in lines
    assert "served model fraud" in lines
    assert lines.index("served model ads-model-3 (was ads-model-2)") < lines.index("served model fraud")
    breaking = next(i for i, line in enumerate(lines) if line.strip().startswith("breaking"))
    info = max(
        i for i, line in enumerate(lines) if line.strip().startswith("info") and i < lines.index("served model fraud")
    )
    assert breaking < info
    assert (
        "  breaking  dataframe_split column b: type changed from double to string: old payloads fail  [type-changed]"
        in lines
    )
    assert "ignored" in lines
    assert lines[-1] == "FAIL: 1 breaking, 1 warning, 4 info (1 ignored) (fail on: breaking)"


def test_text_without_changes() -> None:
    report = diff(doc(), doc())
    assert render_text(report).splitlines()[-1] == "ok: no changes (fail on: breaking)"


def test_json_has_the_documented_shape() -> None:
    data = json.loads(render_json(_report(), fail_on="warning"))
    assert set(data) == {"schema_version", "old", "new", "summary", "fail_on", "failed", "findings", "ignored", "notes"}
    assert data["schema_version"] == 1
    assert data["old"] == {"source": "old.json", "title": "ads", "version": "4"}
    assert data["summary"] == {"breaking": 1, "warning": 1, "info": 4, "ignored": 1}
    assert (data["fail_on"], data["failed"]) == ("warning", True)
    finding = next(f for f in data["findings"] if f["rule"] == "type-changed")
    assert finding == {
        "rule": "type-changed",
        "severity": "breaking",
        "model": "ads-model-3",
        "old_model": "ads-model-2",
        "location": {
            "path": "request/dataframe_split/columns/b",
            "part": "request",
            "format": "dataframe_split",
            "column": "b",
            "param": None,
            "field": None,
        },
        "where": "dataframe_split column b",
        "message": "type changed from double to string: old payloads fail",
        "old": "double",
        "new": "string",
    }
    [ignored] = data["ignored"]
    assert ignored["reason"] == "b is text now"
    assert ignored["location"]["format"] == "dataframe_records"


def test_json_is_stable() -> None:
    assert render_json(_report()) == render_json(_report())


def _markdown_cells(line: str) -> list[str]:
    # Split on pipes that are not escaped.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_markdown_is_a_table_ready_for_a_pull_request() -> None:
    report = _report()
    text = render_markdown(report)
    lines = text.splitlines()
    assert lines[0] == "### Schema diff for `ads`: ❌ breaking changes"
    header = lines.index("| Severity | Model | Where | Change | Rule |")
    assert lines[header + 1] == "| --- | --- | --- | --- | --- |"
    rows = [line for line in lines[header + 2 :] if line.startswith("| ")][: len(report.findings)]
    assert len(rows) == len(report.findings)
    assert all(len(_markdown_cells(row)) == 5 for row in rows)
    assert "| 🔴 breaking | ads-model-3 (was ads-model-2) | dataframe\\_split column b |" in text
    assert "<details><summary>1 ignored</summary>" in text


def test_markdown_escapes_pipes_and_angle_brackets() -> None:
    old = doc(model(columns=(A, col("x|y", "array<long>"))))
    new = doc(model(columns=(A, col("x|y", "array<string>"))))
    text = render_markdown(diff(old, new))
    rows = [line for line in text.splitlines() if line.startswith("| 🔴")]
    assert rows
    for row in rows:
        cells = _markdown_cells(row)
        assert len(cells) == 5
        assert "x\\|y\\[\\]" in cells[2]


# ::command prop=value,prop=value::message, with properties and message escaped.
GITHUB_LINE = re.compile(r"^::(error|warning|notice)(?: ([a-z]+=[^,:\r\n]*(?:,[a-z]+=[^,:\r\n]*)*))?::([^\r\n]*)$")


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_github_lines_are_workflow_commands() -> None:
    report = _report()
    lines = render_github(report, file="schemas/ads.json").splitlines()
    assert len(lines) == len(report.findings) + 1  # plus the summary
    for line in lines:
        assert GITHUB_LINE.match(line), line
    commands = [GITHUB_LINE.match(line).group(1) for line in lines[:-1]]  # type: ignore[union-attr]
    expected = {"breaking": "error", "warning": "warning", "info": "notice"}
    assert commands == [expected[f.severity] for f in report.findings]
    first = GITHUB_LINE.match(lines[1])
    assert first is not None
    properties = dict(p.split("=", 1) for p in first.group(2).split(","))
    assert properties["file"] == "schemas/ads.json"
    assert _unescape(properties["title"]) == "breaking type-changed in ads-model-3"
    assert lines[-1] == "::error title=schemakit diff::1 breaking, 1 warning, 4 info (1 ignored) (fail on: breaking)"


def test_github_escapes_percent_newlines_colons_and_commas() -> None:
    name = "odd:model,100%"
    old = doc(model(name, columns=(A, col("line\nbreak%", "long"))))
    new = doc(model(name, columns=(A, col("line\nbreak%", "string"))))
    report = diff(old, new)
    text = render_github(report, file="dir,with:odd%chars/ads.json")
    lines = text.splitlines()
    assert len(lines) == len(report.findings) + 1
    for line in lines:
        match = GITHUB_LINE.match(line)
        assert match, line
    match = GITHUB_LINE.match(lines[0])
    assert match is not None
    properties = dict(p.split("=", 1) for p in match.group(2).split(","))
    assert _unescape(properties["file"]) == "dir,with:odd%chars/ads.json"
    assert _unescape(properties["title"]) == f"breaking type-changed in {name}"
    # A newline in a name is shown as an escape: it can neither end the command nor forge another.
    assert _unescape(match.group(3)) == report.findings[0].headline().replace("\n", "\\n")
    assert "line\\nbreak%" in _unescape(match.group(3))


def test_github_notes_expired_ignore_entries_as_warnings() -> None:
    import datetime as dt

    entry = IgnoreEntry(rule="type-changed", reason="r", column="b", expires=dt.date(2020, 1, 1), index=1)
    report = apply_ignores(_report(), [entry])
    lines = render_github(report).splitlines()
    assert any(line.startswith("::warning title=schemakit diff ignore file::") and "expired" in line for line in lines)


def test_junit_parses_with_the_right_counts() -> None:
    report = _report()
    root = ET.fromstring(render_junit(report))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == len(report.findings) + len(report.ignored)
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(failures) == 1
    assert len(skipped) == 1
    for node in (root, suite):
        assert node.get("tests") == str(len(cases))
        assert node.get("failures") == "1"
        assert node.get("skipped") == "1"
        assert node.get("errors") == "0"
    failure = failures[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "type-changed"
    assert failures[0].get("classname") == "schemakit.diff.ads-model-3"
    assert failures[0].get("name") == "type-changed request/dataframe_split/columns/b"


def _properties(root: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in root.iter("property")}


def test_junit_fail_on_warning_fails_warnings_too() -> None:
    root = ET.fromstring(render_junit(_report(), fail_on="warning"))
    assert root.get("failures") == "2"
    assert _properties(root)["schemakit.failed"] == "true"


def test_junit_never_says_no_failures_over_a_breaking_change() -> None:
    # --fail-on never decides the exit code, not what a test-report viewer shows.
    root = ET.fromstring(render_junit(_report(), fail_on="never"))
    assert root.get("failures") == "1"
    properties = _properties(root)
    assert properties["schemakit.fail-on"] == "never"
    assert properties["schemakit.failed"] == "false"
    assert properties["schemakit.breaking"] == "1"
    clean = ET.fromstring(render_junit(diff(doc(), doc()), fail_on="never"))
    assert clean.get("failures") == "0"


def test_markdown_never_shows_a_green_mark_over_a_breaking_change() -> None:
    for fail_on in ("breaking", "warning", "never"):
        text = render_markdown(_report(), fail_on=fail_on)
        assert "✅" not in text, fail_on
    headline = render_markdown(_report(), fail_on="never").splitlines()[0]
    assert headline == "### Schema diff for `ads`: ⚠️ 1 breaking (not failing: --fail-on never)"
    assert render_text(_report(), fail_on="never").splitlines()[-1].startswith("BREAKING (not failing): 1 breaking")


def test_markdown_without_breaking_changes_is_green() -> None:
    old = doc(model(params=(param("sentiment", "double", 0.5),)))
    new = doc(model(params=(param("sentiment", "double", 0.9),)))
    headline = render_markdown(diff(old, new)).splitlines()[0]
    assert headline.endswith("✅ no breaking changes (1 warning)")


def test_markdown_cannot_be_given_links_images_or_html() -> None:
    name = "![x](https://t.invalid/p.png)<img src=x>&amp;`code`"
    old = doc(model(columns=(A, col(name, "long"))))
    new = doc(model(columns=(A, col(name, "string"))))
    text = render_markdown(diff(old, new))
    assert "](" not in text
    assert "\\!\\[x\\]\\(https" in text
    assert "<img" not in text.replace("\\<img", "")
    assert "\\`code\\`" in text


def test_github_escapes_control_characters_and_never_ends_properties_early() -> None:
    name = "a::b\x1b[31m\u2028c"
    old = doc(model(name, columns=(A, col("x", "long"))))
    new = doc(model(name, columns=(A, col("x", "string"))))
    lines = render_github(diff(old, new), file="a::b.json").splitlines()
    for line in lines:
        assert GITHUB_LINE.match(line), line
        assert "\x1b" not in line
        assert "\u2028" not in line
    assert lines[0].startswith("::error file=a%3A%3Ab.json,title=breaking type-changed in a%3A%3Ab\\u001b[31m\\u2028c::")


def test_github_puts_annotations_on_a_line() -> None:
    report = _report()
    lines = render_github(report, file="s.json", line_of=lambda f: 7 if f.severity == "breaking" else None)
    breaking = [line for line in lines.splitlines() if line.startswith("::error file=")]
    assert breaking == [next(line for line in breaking)]
    assert breaking[0].startswith("::error file=s.json,line=7,title=")
    assert all(",line=" not in line for line in lines.splitlines() if not line.startswith("::error"))


def test_junit_survives_markup_and_control_characters() -> None:
    old = doc(model(columns=(A, col("<b>&\x01", "long"))))
    new = doc(model(columns=(A, col("<b>&\x01", "string"))))
    root = ET.fromstring(render_junit(diff(old, new)))
    names = [c.get("name") for c in root.iter("testcase")]
    assert "type-changed request/dataframe_split/columns/<b>&\\u0001" in names


@pytest.mark.parametrize("output_format", ["text", "json", "markdown", "github", "junit"])
def test_every_format_renders_an_empty_report(output_format: str) -> None:
    text = render_diff(diff(doc(), doc()), output_format)
    assert text.endswith("\n")
    if output_format == "junit":
        assert ET.fromstring(text).get("tests") == "0"
    if output_format == "json":
        assert json.loads(text)["findings"] == []
