"""What a probe found: per served model and format, what the server did against what the schema says.

Outcome kinds:

- `agree`: the server accepted a payload `check` accepts (and its answer fits the 200 schema), or
  refused one `check` refuses;
- `server-error`: a 5xx answer;
- `rejected-valid`: a payload `check` accepts, refused by the server;
- `accepted-invalid`: a payload `check` refuses, accepted by the server;
- `response-mismatch`: a 200 answer whose body does not fit the document's 200 response schema;
- `unjudged`: an answer that says nothing about the payload (401, 403, 404, 405, 429);
- `no-answer`: no complete answer (a timeout, a refused connection, an answer over the cap).

The agreement score is the share of judged cases (the first five kinds) that agree.
Every piece of text from the document or the server is escaped for the output it goes to.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from schemakit._io import dump_json
from schemakit.probe.generate import Case
from schemakit.runtime import http
from schemakit.runtime import text as escape

__all__ = [
    "DISAGREEMENTS",
    "JSON_SCHEMA_VERSION",
    "OUTPUT_FORMATS",
    "Answer",
    "GroupReport",
    "Outcome",
    "ProbeReport",
    "render_probe",
]

JSON_SCHEMA_VERSION = 1
OUTPUT_FORMATS: tuple[str, ...] = ("text", "json", "markdown", "junit")
DISAGREEMENTS: tuple[str, ...] = ("server-error", "rejected-valid", "accepted-invalid", "response-mismatch")
_JUDGED = frozenset({"agree", *DISAGREEMENTS})
_TITLES = {
    "server-error": "5xx answers",
    "rejected-valid": "schema-valid payloads the server rejects",
    "accepted-invalid": "schema-invalid payloads the server accepts",
    "response-mismatch": "answers that do not match the 200 response schema",
}
_ANSWER_EXCERPT = 200


@dataclass(frozen=True)
class Answer:
    """What the server sent back: status and body, or why there was none."""

    status: int | None
    body: bytes
    content_type: str
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A case, the server's answer, and what the answer says about the server."""

    case: Case
    answer: Answer
    kind: str
    #: One line: the status and the server's error, or what does not match.
    detail: str

    @property
    def disagrees(self) -> bool:
        return self.kind in DISAGREEMENTS

    @property
    def judged(self) -> bool:
        return self.kind in _JUDGED

    def excerpt(self) -> str:
        """The start of the answer's body, one line (escaped where it is printed)."""
        text = http.scrub(self.answer.body[: _ANSWER_EXCERPT * 4].decode("utf-8", "replace"))
        folded = " ".join(text.split())
        return folded if len(folded) <= _ANSWER_EXCERPT else folded[: _ANSWER_EXCERPT - 1] + "…"

    def to_json(self) -> dict[str, Any]:
        body = self.case.body.decode("utf-8", "replace")
        return {
            **self.case.to_json(),
            "outcome": self.kind,
            "detail": self.detail,
            "status": self.answer.status,
            "seconds": round(self.answer.seconds, 6),
            "payload": body if len(body) <= 2000 else body[:2000] + "…",
            "answer": self.excerpt(),
        }


@dataclass
class GroupReport:
    """One served model and format: what was generated, sent, judged, and what was not done."""

    model: str
    format: str
    generated: int
    outcomes: list[Outcome] = field(default_factory=list)
    #: Cases the budget left out.
    not_sent_budget: int = 0
    #: Cases the run's deadline left out.
    not_sent_deadline: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for o in self.outcomes if o.kind == kind)

    @property
    def judged(self) -> int:
        return sum(1 for o in self.outcomes if o.judged)

    @property
    def agreed(self) -> int:
        return self.count("agree")

    @property
    def score(self) -> float | None:
        return self.agreed / self.judged if self.judged else None

    @property
    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.disagrees]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "format": self.format,
            "generated": self.generated,
            "sent": len(self.outcomes),
            "judged": self.judged,
            "agreed": self.agreed,
            "score": self.score,
            "counts": {kind: self.count(kind) for kind in (*_JUDGED_ORDER, "unjudged", "no-answer")},
            "not_sent": {"budget": self.not_sent_budget, "deadline": self.not_sent_deadline},
            "disagreements": [o.to_json() for o in self.disagreements],
            "not_judged": [o.to_json() for o in self.outcomes if not o.judged],
        }


_JUDGED_ORDER = ("agree", *DISAGREEMENTS)


@dataclass(frozen=True)
class ProbeReport:
    """The whole run: where to, within which bounds, and each served model and format's results."""

    spec: str
    title: str
    target: str
    budget: int
    rate: float
    concurrency: int
    deadline: float
    seed: int
    elapsed: float
    groups: tuple[GroupReport, ...]

    def outcomes(self) -> Iterator[Outcome]:
        for group in self.groups:
            yield from group.outcomes

    @property
    def sent(self) -> int:
        return sum(len(g.outcomes) for g in self.groups)

    @property
    def judged(self) -> int:
        return sum(g.judged for g in self.groups)

    @property
    def agreed(self) -> int:
        return sum(g.agreed for g in self.groups)

    @property
    def score(self) -> float | None:
        return self.agreed / self.judged if self.judged else None

    @property
    def disagreements(self) -> list[Outcome]:
        return [o for o in self.outcomes() if o.disagrees]

    @property
    def not_done(self) -> list[str]:
        """What the run did not get to, one line each."""
        lines = []
        budget = sum(g.not_sent_budget for g in self.groups)
        late = sum(g.not_sent_deadline for g in self.groups)
        unanswered = [o for o in self.outcomes() if o.kind == "no-answer"]
        unjudged = [o for o in self.outcomes() if o.kind == "unjudged"]
        if budget:
            lines.append(f"{budget:,} generated case(s) not sent: over the budget of {self.budget:,} request(s)")
        if late:
            lines.append(f"{late:,} case(s) not sent: the run's deadline of {self.deadline:g} s passed")
        if unanswered:
            reasons = sorted({o.detail for o in unanswered})
            lines.append(f"{len(unanswered):,} request(s) got no complete answer ({'; '.join(reasons[:3])})")
        if unjudged:
            reasons = sorted({o.detail.split(":")[0] for o in unjudged})
            lines.append(
                f"{len(unjudged):,} answer(s) did not judge the payload ({', '.join(reasons[:5])}): "
                "credentials, the path or throttling"
            )
        return lines

    @property
    def exit_code(self) -> int:
        """0 every judged case agrees, 1 a disagreement, 2 nothing could be judged."""
        if self.disagreements:
            return 1
        return 0 if self.judged else 2

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": JSON_SCHEMA_VERSION,
            "spec": self.spec,
            "title": self.title,
            "target": self.target,
            "bounds": {
                "budget": self.budget,
                "rate": self.rate,
                "concurrency": self.concurrency,
                "deadline": self.deadline,
                "seed": self.seed,
            },
            "elapsed": round(self.elapsed, 3),
            "sent": self.sent,
            "judged": self.judged,
            "agreed": self.agreed,
            "score": self.score,
            "ok": self.exit_code == 0,
            "groups": [g.to_json() for g in self.groups],
            "not_done": self.not_done,
        }


def _cut(text: str, limit: int) -> str:
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def _score(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1%}"


def _headline(report: ProbeReport) -> str:
    verdict = {0: "agrees", 1: "DISAGREES", 2: "NOT JUDGED"}[report.exit_code]
    return (
        f"{verdict}: {report.agreed:,} of {report.judged:,} judged case(s) agree ({_score(report.score)}); "
        f"{report.sent:,} request(s) sent in {report.elapsed:.1f} s"
    )


def render_text(report: ProbeReport) -> str:
    lines = [
        f"schemakit probe: {report.spec or report.title} -> {report.target}",
        f"bounds: budget {report.budget:,} request(s), rate {report.rate:g}/s, concurrency {report.concurrency}, "
        f"deadline {report.deadline:g} s, seed {report.seed}",
    ]
    for group in report.groups:
        lines.append(
            f"{group.model} ({group.format}): {group.agreed}/{group.judged} agree ({_score(group.score)}), "
            f"{len(group.outcomes)} sent of {group.generated} generated"
        )
        for kind in DISAGREEMENTS:
            found = [o for o in group.outcomes if o.kind == kind]
            if not found:
                continue
            lines.append(f"  {_TITLES[kind]}: {len(found)}")
            for outcome in found[:10]:
                rules = f" [{', '.join(outcome.case.rules)}]" if outcome.case.rules else ""
                lines.append(f"    {outcome.case.label}{rules}: {outcome.detail}")
                lines.append(f"      sent: {_cut(outcome.case.body.decode('utf-8', 'replace'), 160)}")
                if kind in ("accepted-invalid", "response-mismatch"):
                    lines.append(f"      answer: {_cut(outcome.excerpt(), 160)}")
            if len(found) > 10:
                lines.append(f"    ... {len(found) - 10} more (--format json lists them all)")
    lines += [f"not done: {line}" for line in report.not_done]
    lines.append(_headline(report))
    # Labels quote column names; details quote the server: every line escaped.
    return "\n".join(escape.terminal(line) for line in lines) + "\n"


def render_json(report: ProbeReport) -> str:
    return dump_json(report.to_json()).decode() + "\n"


def _md(text: str) -> str:
    return escape.markdown(text)


def render_markdown(report: ProbeReport) -> str:
    mark = {0: "✅", 1: "❌", 2: "⚠️"}[report.exit_code]
    lines = [
        f"### Probe of {_md(report.title or report.spec)}: {mark} {_md(_headline(report))}",
        "",
        f"Target: {_md(report.target)}. Bounds: budget {report.budget:,}, rate {report.rate:g}/s, "
        f"concurrency {report.concurrency}, deadline {report.deadline:g} s, seed {report.seed}.",
        "",
        "| Model | Format | Agree | Score | 5xx | Valid rejected | Invalid accepted | Bad 200 body | Not sent |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for g in report.groups:
        lines.append(
            f"| {_md(g.model)} | {_md(g.format)} | {g.agreed}/{g.judged} | {_score(g.score)} "
            f"| {g.count('server-error')} | {g.count('rejected-valid')} | {g.count('accepted-invalid')} "
            f"| {g.count('response-mismatch')} | {g.not_sent_budget + g.not_sent_deadline} |"
        )
    disagreements = report.disagreements
    if disagreements:
        lines += ["", "| Model | Format | Case | Check says | Server | What |", "| --- | --- | --- | --- | --- | --- |"]
        for o in disagreements[:100]:
            says = o.case.verdict + (f" ({', '.join(o.case.rules)})" if o.case.rules else "")
            lines.append(
                f"| {_md(o.case.model)} | {_md(o.case.format)} | {_md(o.case.label)} | {_md(says)} "
                f"| {o.answer.status} | {_md(o.kind + ': ' + o.detail)} |"
            )
    if report.not_done:
        lines += ["", *[f"> not done: {_md(line)}" for line in report.not_done]]
    return "\n".join(lines) + "\n"


def render_junit(report: ProbeReport) -> str:
    """One test suite per served model and format, one test case per sent payload."""
    root = ET.Element("testsuites", name="schemakit probe")
    total_failures = total_tests = total_skipped = 0
    for group in report.groups:
        suite = ET.SubElement(root, "testsuite", name=escape.xml(f"{group.model} ({group.format})"))
        failures = skipped = 0
        for outcome in group.outcomes:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=escape.xml(f"schemakit.probe.{group.model}.{group.format}"),
                name=escape.xml(outcome.case.label),
            )
            if outcome.disagrees:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=escape.xml(outcome.detail), type=escape.xml(outcome.kind)
                )
                failure.text = escape.xml(
                    f"check says {outcome.case.verdict} {list(outcome.case.rules)}; "
                    f"the server answered {outcome.detail}; payload {outcome.case.body[:500].decode('utf-8', 'replace')}"
                )
            elif not outcome.judged:
                skipped += 1
                ET.SubElement(case, "skipped", message=escape.xml(f"{outcome.kind}: {outcome.detail}"))
        not_sent = group.not_sent_budget + group.not_sent_deadline
        if not_sent:
            case = ET.SubElement(suite, "testcase", classname="schemakit.probe", name=escape.xml("not sent"))
            ET.SubElement(case, "skipped", message=f"{not_sent} case(s) not sent (budget or deadline)")
            skipped += 1
        tests = len(suite.findall("testcase"))
        for name, value in (("tests", tests), ("failures", failures), ("errors", 0), ("skipped", skipped)):
            suite.set(name, str(value))
        total_tests += tests
        total_failures += failures
        total_skipped += skipped
    for name, value in (
        ("tests", total_tests),
        ("failures", total_failures),
        ("errors", 0),
        ("skipped", total_skipped),
    ):
        root.set(name, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render_probe(report: ProbeReport, output_format: str) -> str:
    """Render in one of OUTPUT_FORMATS."""
    if output_format == "json":
        return render_json(report)
    if output_format == "markdown":
        return render_markdown(report)
    if output_format == "junit":
        return render_junit(report)
    if output_format == "text":
        return render_text(report)
    raise ValueError(f"unknown output format {output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
