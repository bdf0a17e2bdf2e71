"""The ignore file: acknowledged changes by rule and location, with reasons and expiry dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from diff_docs import DEFAULT_COLUMNS, col, diff, doc, model

from schemakit._exceptions import SourceError, SourceNotFound
from schemakit.diff import DiffReport, IgnoreEntry, apply_ignores, load_ignore_file, parse_ignore_entries

A, B, C = DEFAULT_COLUMNS
TODAY = dt.date(2026, 11, 25)


def _report() -> DiffReport:
    old = doc(model("ads-model-2"))
    new = doc(model("ads-model-3", columns=(A, col("b", "string"), C)))
    return diff(old, new)


def test_yaml_entries_ignore_by_rule_model_glob_and_column(tmp_path: Path) -> None:
    path = tmp_path / "diff-ignore.yaml"
    path.write_text(
        "ignore:\n"
        "  - rule: type-changed\n"
        "    model: ads-model-*\n"
        "    column: b\n"
        "    format: dataframe_split\n"
        "    reason: b was always sent as text (ADS-42)\n"
        "    expires: 2026-12-31\n"
    )
    entries = load_ignore_file(path)
    assert entries == (
        IgnoreEntry(
            rule="type-changed",
            reason="b was always sent as text (ADS-42)",
            model="ads-model-*",
            format="dataframe_split",
            column="b",
            expires=dt.date(2026, 12, 31),
            index=1,
        ),
    )
    report = apply_ignores(_report(), entries, today=TODAY)
    assert [f.location.path for f in report.findings if f.rule == "type-changed"] == [
        "request/dataframe_records/columns/b"
    ]
    [ignored] = report.ignored
    assert ignored.finding.location.path == "request/dataframe_split/columns/b"
    assert ignored.entry.reason == "b was always sent as text (ADS-42)"
    assert report.notes == ()


def test_json_ignore_file_with_a_full_location(tmp_path: Path) -> None:
    path = tmp_path / "ignore.json"
    entries = [
        {"rule": "type-changed", "location": "request/dataframe_records/columns/b", "reason": "accepted"},
        {"rule": "type-changed", "model": "ads-model-2", "column": "b", "reason": "old name matches too"},
    ]
    path.write_text(json.dumps(entries))
    report = apply_ignores(_report(), load_ignore_file(path), today=TODAY)
    assert not any(f.rule == "type-changed" for f in report.findings)
    assert [i.entry.index for i in report.ignored] == [2, 1]


def test_expired_entry_stops_ignoring_and_says_so() -> None:
    entries = parse_ignore_entries(
        [{"rule": "type-changed", "column": "b", "reason": "temporary", "expires": "2026-11-24"}]
    )
    report = apply_ignores(_report(), entries, today=TODAY)
    assert len([f for f in report.findings if f.rule == "type-changed"]) == 2
    assert report.ignored == ()
    [note] = report.notes
    assert "expired on 2026-11-24" in note
    assert "#1" in note
    assert "reported again" in note


def test_entry_is_valid_through_its_expiry_day() -> None:
    entries = parse_ignore_entries([{"rule": "type-changed", "column": "b", "reason": "r", "expires": "2026-11-25"}])
    report = apply_ignores(_report(), entries, today=TODAY)
    assert len(report.ignored) == 2


def test_an_entry_that_matches_nothing_is_noted() -> None:
    entries = parse_ignore_entries([{"rule": "column-removed", "column": "zzz", "reason": "gone long ago"}])
    report = apply_ignores(_report(), entries, today=TODAY)
    assert report.ignored == ()
    assert any("matched no finding" in note for note in report.notes)


def test_column_entry_covers_nested_paths_but_not_prefixes_of_other_names() -> None:
    entry = IgnoreEntry(rule="type-changed", reason="r", column="user")
    old = doc(
        model(
            columns=(
                A,
                col("user", {"type": "object", "properties": {"id": {"type": "integer"}}}),
                col("username", "long"),
            )
        )
    )
    new = doc(
        model(
            columns=(
                A,
                col("user", {"type": "object", "properties": {"id": {"type": "string"}}}),
                col("username", "string"),
            )
        )
    )
    report = apply_ignores(diff(old, new), [entry], today=TODAY)
    assert {f.location.column for f in report.findings} == {"username"}
    assert {i.finding.location.column for i in report.ignored} == {"user.id"}


def test_ignored_findings_are_in_the_json_output() -> None:
    entries = parse_ignore_entries([{"rule": "type-changed", "column": "b", "reason": "accepted"}])
    data = apply_ignores(_report(), entries, today=TODAY).to_json()
    assert data["summary"]["ignored"] == 2
    assert {i["rule"] for i in data["ignored"]} == {"type-changed"}
    assert data["ignored"][0]["reason"] == "accepted"
    assert data["ignored"][0]["ignored_by"] == 1
    assert data["failed"] is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([{"column": "b", "reason": "r"}], "entry #1: 'rule' is required"),
        ([{"rule": "nope", "column": "b", "reason": "r"}], "unknown rule 'nope'"),
        ([{"rule": "type-changed", "column": "b"}], "'reason' is required"),
        ([{"rule": "type-changed", "reason": "r"}], "say where the change is"),
        ([{"rule": "type-changed", "column": "b", "reason": "r", "expires": "soon"}], "'expires' must be a date"),
        ([{"rule": "type-changed", "column": "b", "reason": "r", "colum": "x"}], "unknown key(s) colum"),
        ({"ignores": []}, "unknown top-level key(s) ignores"),
        ("text", "expected a list of entries"),
        (["text"], "entry #1: expected a mapping"),
    ],
)
def test_bad_ignore_files_say_what_is_wrong(content: object, message: str) -> None:
    with pytest.raises(SourceError) as info:
        parse_ignore_entries(content, "ignore.yaml")
    assert message in info.value.format_message()
    assert info.value.format_message().startswith("ignore.yaml: ")


def test_missing_ignore_file(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFound, match="no such ignore file"):
        load_ignore_file(tmp_path / "missing.yaml")


def test_empty_ignore_file_ignores_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_ignore_file(path) == ()
    path.write_text("ignore:\n")
    assert load_ignore_file(path) == ()
