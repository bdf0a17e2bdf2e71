"""Renderers for a diff report: text, JSON, Markdown, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from schemakit.diff.report import _RANK, OUTPUT_FORMATS, SEVERITIES, DiffReport, FailOn, Finding, show_value
from schemakit.runtime import text as text_escape

# -- renderers ---------------------------------------------------------------------------------


def render_json(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    from schemakit._io import dump_json  # integers beyond 64 bits (a document's bounds, enums) included

    return dump_json(report.to_json(fail_on)).decode() + "\n"


def _model_title(finding: Finding) -> str:
    if not finding.model:
        return "endpoint"
    if finding.old_model:
        return f"served model {finding.model} (was {finding.old_model})"
    return f"served model {finding.model}"


def _verdict_word(report: DiffReport, fail_on: FailOn | str) -> str:
    if report.fails(fail_on):
        return "FAIL"
    # Breaking changes stay visible whatever the threshold: never "ok" over them.
    return "BREAKING (not failing)" if report.count("breaking") else "ok"


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
    lines.append(f"{_verdict_word(report, fail_on)}: {report.summary_line()} (fail on: {fail_on})")
    # Every line holds document text (names, versions, URLs): a newline or an escape in it must not
    # forge a line (`::error ...` in a CI log) or drive the terminal.
    return "\n".join(text_escape.terminal(line) for line in lines) + "\n"


def _md_cell(text: str) -> str:
    """Document text as literal Markdown: no HTML, links, images, markup or table breaks."""
    return text_escape.markdown(text)


def _md_code(text: str) -> str:
    if not text:
        return ""
    text = text_escape.terminal(text).replace("|", "\\|")
    # A code span as long as needed: a run of backticks inside cannot close it.
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MD_SEVERITY = {"breaking": "🔴 breaking", "warning": "🟠 warning", "info": "🔵 info"}


def markdown_verdict(report: DiffReport, fail_on: FailOn | str = "breaking") -> str:
    """The headline: a green mark only when nothing breaking remains, whatever `fail_on` says."""
    breaking = report.count("breaking")
    if report.fails(fail_on):
        return "❌ breaking changes" if breaking else f"❌ changes at or above {fail_on}"
    if breaking:
        return f"⚠️ {breaking} breaking (not failing: --fail-on {fail_on})"
    if report.count("warning"):
        return f"✅ no breaking changes ({report.count('warning')} warning)"
    return "✅ no blocking changes" if report.findings or report.ignored else "✅ no changes"


def render_markdown(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    verdict = markdown_verdict(report, fail_on)
    title = report.new.title or report.old.title
    lines = [
        f"### Schema diff{f' for {_md_code(title)}' if title else ''}: {verdict}",
        "",
        f"{_md_code(report.old.source)} → {_md_code(report.new.source)}: {report.summary_line()}",
        "",
    ]
    if report.findings:
        lines += ["| Severity | Model | Where | Change | Rule |", "| --- | --- | --- | --- | --- |"]
        for f in report.findings:
            model = _md_cell(f.model) + (f" (was {_md_cell(f.old_model)})" if f.old_model else "")
            lines.append(
                f"| {_MD_SEVERITY[f.severity]} | {model if f.model else 'endpoint'} | {_md_cell(f.location.describe())} "
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
    if report.witnessed:
        from schemakit.diff.witness import markdown_witnesses

        lines += markdown_witnesses(report)
    return "\n".join(lines).rstrip("\n") + "\n"


_gh_data = text_escape.github_data
_gh_property = text_escape.github_property


_GH_COMMAND = {"breaking": "error", "warning": "warning", "info": "notice"}


def render_github(
    report: DiffReport,
    *,
    fail_on: FailOn | str = "breaking",
    file: str | None = None,
    line_of: Callable[[Finding], int | None] | None = None,
) -> str:
    """GitHub workflow commands: one annotation per finding, on `file` (and the line `line_of` gives) when known."""
    lines = []
    for f in report.findings:
        properties = []
        if file:
            properties.append(f"file={_gh_property(file)}")
            line = line_of(f) if line_of is not None else None
            if line is not None:
                properties.append(f"line={line}")
        model = f.model or "endpoint"
        properties.append(f"title={_gh_property(f'{f.severity} {f.rule} in {model}')}")
        lines.append(f"::{_GH_COMMAND[f.severity]} {','.join(properties)}::{_gh_data(f.headline())}")
    for note in report.notes:
        lines.append(f"::warning title={_gh_property('schemakit diff ignore file')}::{_gh_data(note)}")
    summary = f"{report.summary_line()} (fail on: {fail_on})"
    if report.fails(fail_on):
        command = "error"
    elif report.count("breaking"):
        command = "warning"
        summary = f"{report.summary_line()} (not failing: --fail-on {fail_on})"
    else:
        command = "notice"
    lines.append(f"::{command} title={_gh_property('schemakit diff')}::{_gh_data(summary)}")
    return "\n".join(lines) + "\n"


_xml = text_escape.xml


def render_junit(report: DiffReport, *, fail_on: FailOn | str = "breaking") -> str:
    """JUnit XML: one test case per finding; ignored ones are skipped.

    Breaking findings are always failures (a test-report viewer must not show green over them);
    with `--fail-on warning` warnings fail too. Whether the run fails is the `schemakit.failed`
    property, with `schemakit.fail-on` beside it.
    """
    threshold = max(_RANK.get(str(fail_on), -1), _RANK["breaking"])
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
            failure = ET.SubElement(element, "failure", message=_xml(f.headline()), type=_xml(f.rule))
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
    properties = ET.Element("properties")
    for name, value in (
        ("schemakit.fail-on", str(fail_on)),
        ("schemakit.failed", "true" if report.fails(fail_on) else "false"),
        *((f"schemakit.{severity}", str(report.count(severity))) for severity in SEVERITIES),
        ("schemakit.ignored", str(len(report.ignored))),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    suite.insert(0, properties)
    if report.notes:
        err = ET.SubElement(suite, "system-err")
        err.text = _xml("\n".join(report.notes))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


# -- the deploy gate ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallerImpact:
    """What a deploy does to an endpoint's callers, from the findings in force."""

    #: Breaking request-side changes: requests that worked stop working (a served model or format gone too).
    requests: tuple[Finding, ...]
    #: Breaking response-side changes: what callers read changes shape.
    responses: tuple[Finding, ...]
    #: Warnings: payloads stay valid, but what they do may change.
    behaviour: tuple[Finding, ...]

    @classmethod
    def of(cls, report: DiffReport) -> CallerImpact:
        breaking = [f for f in report.findings if f.severity == "breaking"]
        return cls(
            requests=tuple(f for f in breaking if f.location.part != "response"),
            responses=tuple(f for f in breaking if f.location.part == "response"),
            behaviour=tuple(f for f in report.findings if f.severity == "warning"),
        )

    @property
    def breaks_callers(self) -> bool:
        return bool(self.requests or self.responses)


def gate_verdict(report: DiffReport, fail_on: FailOn | str = "breaking") -> str:
    impact = CallerImpact.of(report)
    counts = f"{len(impact.requests)} request change(s), {len(impact.responses)} response change(s)"
    if report.fails(fail_on):
        if impact.breaks_callers:
            return f"BLOCK: the new version breaks callers ({counts})"
        return f"BLOCK: {len(impact.behaviour)} change(s) of behaviour (fail on: {fail_on})"
    if impact.breaks_callers:
        return f"BREAKS CALLERS ({counts}; not failing: --fail-on {fail_on})"
    return "SAFE: callers' requests keep working and responses keep their shape"


def _gate_sections(impact: CallerImpact) -> list[tuple[str, tuple[Finding, ...]]]:
    return [
        ("requests that worked stop working", impact.requests),
        ("responses change shape", impact.responses),
        ("behaviour may change (requests stay valid)", impact.behaviour),
    ]


def render_gate(report: DiffReport, *, fail_on: FailOn | str = "breaking", markdown: bool = False) -> str:
    """The deploy gate's answer: will NEW (the candidate) break the callers of OLD (what is live)?"""
    impact = CallerImpact.of(report)
    verdict = gate_verdict(report, fail_on)
    old, new = report.old.source or "old", report.new.source or "new"
    if not markdown:
        lines = [f"deploy gate: {old} (live) -> {new} (candidate)"]
        for title, findings in _gate_sections(impact):
            lines.append(f"{title}: {len(findings) or 'none'}")
            lines += [f"  {f.model or 'endpoint'}: {f.headline()}  [{f.rule}]" for f in findings]
        if report.ignored:
            lines.append(f"ignored: {len(report.ignored)} acknowledged change(s)")
        lines.append(f"{verdict} (fail on: {fail_on})")
        return "\n".join(text_escape.terminal(line) for line in lines) + "\n"
    mark = "❌" if report.fails(fail_on) else "⚠️" if impact.breaks_callers else "✅"
    lines = [
        f"### Deploy gate: {mark} {_md_cell(verdict)}",
        "",
        f"{_md_code(old)} (live) → {_md_code(new)} (candidate)",
        "",
    ]
    for title, findings in _gate_sections(impact):
        lines.append(f"**{title}**: {len(findings) or 'none'}")
        lines += [
            f"- {_md_cell(f.model or 'endpoint')}: {_md_cell(f.headline())} ({_md_code(f.rule)})" for f in findings
        ]
        lines.append("")
    if report.ignored:
        lines += [f"{len(report.ignored)} acknowledged change(s) ignored.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_diff(
    report: DiffReport,
    output_format: str,
    *,
    fail_on: FailOn | str = "breaking",
    file: str | None = None,
    line_of: Callable[[Finding], int | None] | None = None,
) -> str:
    """Render in one of OUTPUT_FORMATS."""
    if output_format == "json":
        return render_json(report, fail_on=fail_on)
    if output_format == "markdown":
        return render_markdown(report, fail_on=fail_on)
    if output_format == "github":
        return render_github(report, fail_on=fail_on, file=file, line_of=line_of)
    if output_format == "junit":
        return render_junit(report, fail_on=fail_on)
    if output_format == "text":
        return render_text(report, fail_on=fail_on)
    raise ValueError(f"unknown output format {output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")


#: The escapes, for other writers of these formats (the GitHub Action's step).
gh_data = _gh_data
gh_property = _gh_property
md_text = _md_cell
md_code = _md_code
