"""Renderers for a diff report: text, JSON, Markdown, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from schemakit.diff.report import _RANK, OUTPUT_FORMATS, DiffReport, FailOn, Finding, show_value

# -- renderers ---------------------------------------------------------------------------------


def render_json(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    import orjson

    return orjson.dumps(report.to_json(fail_on), option=orjson.OPT_INDENT_2).decode() + "\n"


def _model_title(finding: Finding) -> str:
    if not finding.model:
        return "endpoint"
    if finding.old_model:
        return f"served model {finding.model} (was {finding.old_model})"
    return f"served model {finding.model}"


def render_text(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    lines = [f"schemakit diff: {report.old.source or 'old'} -> {report.new.source or 'new'}"]
    current: str | None = None
    for finding in report.findings:
        title = _model_title(finding)
        if title != current:
            lines.append(title)
            current = title
        lines.append(f"  {finding.severity:<8}  {finding.headline()}  [{finding.rule}]")
    if report.ignored:
        lines.append("ignored")
        for item in report.ignored:
            f = item.finding
            name = f.model or "endpoint"
            lines.append(f"  {f.severity:<8}  {name}: {f.headline()}  [{f.rule}] (ignored: {item.entry.reason})")
    lines += [f"note: {note}" for note in report.notes]
    verdict = "FAIL" if report.fails(fail_on) else "ok"
    lines.append(f"{verdict}: {report.summary_line()} (fail on: {fail_on})")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").replace("<", "&lt;")


def _md_code(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`" if text else ""


_MD_SEVERITY = {"breaking": "🔴 breaking", "warning": "🟠 warning", "info": "🔵 info"}


def render_markdown(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    if report.count("breaking") and report.fails(fail_on):
        verdict = "❌ breaking changes"
    elif report.fails(fail_on):
        verdict = f"❌ changes at or above {fail_on}"
    elif report.findings or report.ignored:
        verdict = "✅ no blocking changes"
    else:
        verdict = "✅ no changes"
    title = report.new.title or report.old.title
    lines = [
        f"### Schema diff{f' for `{_md_cell(title)}`' if title else ''}: {verdict}",
        "",
        f"{_md_code(report.old.source)} → {_md_code(report.new.source)}: {_md_cell(report.summary_line())}",
        "",
    ]
    if report.findings:
        lines += ["| Severity | Model | Where | Change | Rule |", "| --- | --- | --- | --- | --- |"]
        for f in report.findings:
            model = f.model + (f" (was {f.old_model})" if f.old_model else "") if f.model else "endpoint"
            lines.append(
                f"| {_MD_SEVERITY[f.severity]} | {_md_cell(model)} | {_md_cell(f.location.describe())} "
                f"| {_md_cell(f.message)} | {_md_code(f.rule)} |"
            )
        lines.append("")
    if report.ignored:
        lines += [
            f"<details><summary>{len(report.ignored)} ignored</summary>",
            "",
            "| Severity | Model | Where | Change | Rule | Reason |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for item in report.ignored:
            f = item.finding
            lines.append(
                f"| {f.severity} | {_md_cell(f.model or 'endpoint')} | {_md_cell(f.location.describe())} "
                f"| {_md_cell(f.message)} | {_md_code(f.rule)} | {_md_cell(item.entry.reason)} |"
            )
        lines += ["", "</details>", ""]
    lines += [f"> {_md_cell(note)}" for note in report.notes]
    return "\n".join(lines).rstrip("\n") + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


_GH_COMMAND = {"breaking": "error", "warning": "warning", "info": "notice"}


def render_github(report: DiffReport, *, fail_on: FailOn | str = "breaking", file: str | None = None) -> str:
    """GitHub workflow commands: one annotation per finding, attached to `file` when given."""
    lines = []
    file_property = f"file={_gh_property(file)}," if file else ""
    for f in report.findings:
        model = f.model or "endpoint"
        title = f"{f.severity} {f.rule} in {model}"
        lines.append(
            f"::{_GH_COMMAND[f.severity]} {file_property}title={_gh_property(title)}::{_gh_data(f.headline())}"
        )
    for note in report.notes:
        lines.append(f"::warning title={_gh_property('schemakit diff ignore file')}::{_gh_data(note)}")
    summary = f"{report.summary_line()} (fail on: {fail_on})"
    command = "error" if report.fails(fail_on) else "notice"
    lines.append(f"::{command} title={_gh_property('schemakit diff')}::{_gh_data(summary)}")
    return "\n".join(lines) + "\n"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: str) -> str:
    """Text XML 1.0 can carry: ElementTree escapes markup but not these characters."""
    return _XML_INVALID.sub("\ufffd", text)


def render_junit(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    """JUnit XML: one test case per finding; those at or above `fail_on` fail, ignored ones are skipped."""
    threshold = _RANK.get(str(fail_on), -1)
    suite_name = f"schemakit diff {report.old.source or 'old'} -> {report.new.source or 'new'}"
    root = ET.Element("testsuites", name="schemakit diff")
    suite = ET.SubElement(root, "testsuite", name=_xml(suite_name))
    failures = 0

    def case(f: Finding) -> ET.Element:
        element = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"schemakit.diff.{f.model or 'endpoint'}"),
            name=_xml(f"{f.rule} {f.location.path or 'served model'}"),
        )
        return element

    for f in report.findings:
        element = case(f)
        if _RANK[f.severity] <= threshold:
            failures += 1
            failure = ET.SubElement(element, "failure", message=_xml(f.headline()), type=f.rule)
            failure.text = _xml(f"{f.severity}: {f.headline()} (old: {show_value(f.old)}, new: {show_value(f.new)})")
        else:
            out = ET.SubElement(element, "system-out")
            out.text = _xml(f"{f.severity}: {f.headline()}")
    for item in report.ignored:
        element = case(item.finding)
        ET.SubElement(element, "skipped", message=_xml(f"ignored: {item.entry.reason}"))
    total = len(report.findings) + len(report.ignored)
    for node in (root, suite):
        node.set("tests", str(total))
        node.set("failures", str(failures))
        node.set("errors", "0")
        node.set("skipped", str(len(report.ignored)))
    if report.notes:
        err = ET.SubElement(suite, "system-err")
        err.text = _xml("\n".join(report.notes))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render_diff(
    report: DiffReport, output_format: str, *, fail_on: FailOn | str = "breaking", file: str | None = None
) -> str:
    """Render in one of OUTPUT_FORMATS."""
    if output_format == "json":
        return render_json(report, fail_on=fail_on)
    if output_format == "markdown":
        return render_markdown(report, fail_on=fail_on)
    if output_format == "github":
        return render_github(report, fail_on=fail_on, file=file)
    if output_format == "junit":
        return render_junit(report, fail_on=fail_on)
    if output_format == "text":
        return render_text(report, fail_on=fail_on)
    raise ValueError(f"unknown output format {output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
