"""The deploy gate that asks the real callers: which of them would a candidate schema break?

`gate(live, candidate, traffic)` replays an inference table of the live endpoint's traffic
against the candidate: each logged request goes to the candidate's counterpart of the
served model that answered it (same name, a new version of it as `diff` pairs them, or
`model_pairs`). A request *breaks* when it succeeded when logged, the live schema accepts
it and the candidate rejects it; what the live schema already rejects is counted apart, not
blamed on the change. Requests to a served model the candidate no longer has break too.

The answer names the callers that would break (requests per day, the first examples, the
rule), the callers that would not, and the breaking changes `diff` reports that no logged
request exercises (a warning: the traffic cannot vouch for them either way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemakit._exceptions import SchemakitError
from schemakit.check.validator import PayloadValidator, compile_validator
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.diff import DiffReport, Finding, diff_schemas
from schemakit.runtime.report import plural
from schemakit.runtime.text import markdown, terminal
from schemakit.table.replayer import (
    Broken,
    CallerReport,
    ReplayReport,
    ReplayTally,
    Router,
    Traffic,
    assemble,
    run_traffic,
)
from schemakit.table.report import SCHEMA_VERSION
from schemakit.table.sources import DEFAULT_BATCH_ROWS

__all__ = ["GATE_FAIL_ON", "GateReport", "gate"]

#: When the gate exits 1: a caller breaks (callers), also when a breaking change goes unexercised
#: (unexercised), also on any breaking change of `diff` (breaking), or never.
GATE_FAIL_ON: tuple[str, ...] = ("callers", "unexercised", "breaking", "never")

_ROOT = re.compile(r"[.\[{]")
#: Unaffected callers listed by name in text and Markdown (all of them are in the JSON).
_LISTED = 20


@dataclass(frozen=True, slots=True)
class GateReport:
    live: str
    candidate: str
    traffic: str
    #: The traffic replayed against the candidate (the live schema as baseline).
    replay: ReplayReport
    diff: DiffReport
    #: Live served model -> its candidate counterpart (None: gone from the candidate).
    pairs: Mapping[str, str | None]
    breaking_callers: tuple[CallerReport, ...]
    unaffected_callers: tuple[CallerReport, ...]
    #: Breaking changes of `diff` that no logged request exercises.
    unexercised: tuple[Finding, ...]
    fail_on: str = "callers"

    @property
    def failed(self) -> bool:
        if self.fail_on == "never":
            return False
        if self.breaking_callers:
            return True
        if self.fail_on == "unexercised":
            return bool(self.unexercised)
        if self.fail_on == "breaking":
            return self.diff.fails("breaking")
        return False

    @property
    def breaking(self) -> int:
        return sum(c.breaking for c in self.breaking_callers)

    def verdict(self) -> str:
        callers = len(self.breaking_callers) + len(self.unaffected_callers)
        if self.breaking_callers:
            return (
                f"{len(self.breaking_callers)} of {plural(callers, 'caller')} would break"
                f" ({plural(self.breaking, 'logged request')})"
            )
        return f"no caller would break ({plural(callers, 'caller')}, {plural(self.replay.total, 'logged request')})"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "live": self.live,
            "candidate": self.candidate,
            "traffic": self.traffic,
            "layout": self.replay.layout,
            "fail_on": self.fail_on,
            "failed": self.failed,
            "verdict": self.verdict(),
            "pairs": dict(self.pairs),
            "breaking_callers": [c.to_json() for c in self.breaking_callers],
            "unaffected_callers": [c.to_json() for c in self.unaffected_callers],
            "unexercised": [_witness(f) for f in self.unexercised],
            "requests": self.replay.total,
            "already_rejected": self.replay.already_rejected,
            "unlogged": dict(self.replay.unlogged),
            "unrouted": dict(self.replay.unrouted),
            "unreadable": self.replay.unreadable,
            "estimated": self.replay.to_json()["estimated"],
            "diff": self.diff.to_json(),
        }

    def to_text(self) -> str:
        lines = [
            f"gate: {terminal(self.live)} -> {terminal(self.candidate)} on {terminal(self.traffic)}"
            f" ({self.replay.layout} layout)"
        ]
        for caller in self.breaking_callers:
            days = ", ".join(caller.breaking_days(terminal))
            lines.append(
                f"gate: BREAKS caller {terminal(caller.name)}: {caller.breaking:,} of"
                f" {plural(caller.requests, 'request')} would be rejected ({days})"
            )
            for group in caller.groups:
                lines.extend(group.text_lines("gate", "  "))
        for caller in self.unaffected_callers[:_LISTED]:
            extra = (
                f"; {caller.already_rejected:,} already rejected by the live schema" if caller.already_rejected else ""
            )
            lines.append(f"gate: ok caller {terminal(caller.name)}: {plural(caller.requests, 'request')}{extra}")
        if len(self.unaffected_callers) > _LISTED:
            lines.append(
                f"gate: ok: {plural(len(self.unaffected_callers) - _LISTED, 'more caller')} (see --format json)"
            )
        for finding in self.unexercised:
            lines.append(
                f"gate: warning: no logged request exercises [{finding.rule}] {terminal(finding.model or 'endpoint')}"
                f" {terminal(finding.headline())}"
            )
        lines.extend(f"gate: note: {note}" for note in self._notes(terminal))
        lines.append(f"gate: {self.verdict()}")
        return "\n".join(lines)

    def _notes(self, escape: Any) -> list[str]:
        notes = []
        report = self.replay
        if report.unlogged:
            reasons = ", ".join(f"{escape(k)}: {n:,}" for k, n in sorted(report.unlogged.items()))
            notes.append(f"{plural(report.skipped, 'request')} not logged ({reasons}): their callers are not judged")
        for key, count in sorted(report.unrouted.items()):
            notes.append(
                f"{plural(count, 'request')} served by {escape(key)}, which the live schema does not name"
                " (pass --served-entity ID=NAME or --served-entities FILE): not checked"
            )
        if report.unreadable:
            notes.append(f"{plural(report.unreadable, 'row')} unreadable: not checked")
        if report.already_rejected:
            notes.append(
                f"{plural(report.already_rejected, 'request')} rejected by the live schema too: not counted as breaks"
            )
        if report.estimated is not None:
            notes.append(
                f"sampled traffic: about {report.estimated[0]:,.0f} requests in all,"
                f" about {report.estimated[1]:,.0f} of them would break"
            )
        return notes

    def to_markdown(self) -> str:
        icon = "❌" if self.breaking_callers else "✅"
        lines = [
            f"### Deploy gate: {icon} {markdown(self.verdict())}",
            "",
            f"{markdown(self.live)} → {markdown(self.candidate)}, traffic {markdown(self.traffic)}"
            f" ({markdown(self.replay.layout)} layout, {plural(self.replay.total, 'request')} checked)",
            "",
        ]
        callers = [*self.breaking_callers, *self.unaffected_callers[:_LISTED]]
        if callers:
            lines += ["| Caller | Requests | Would break | Per day | Rules |", "| --- | ---: | ---: | --- | --- |"]
            for caller in callers:
                days = ", ".join(caller.breaking_days(markdown)) or "—"
                rules = (
                    ", ".join(
                        sorted({markdown(g.code + (f" ({g.column})" if g.column else "")) for g in caller.groups})
                    )
                    or "—"
                )
                mark = "**" if caller.breaking else ""
                lines.append(
                    f"| {mark}{markdown(caller.name)}{mark} | {caller.requests:,} | {caller.breaking:,} "
                    f"| {days} | {rules} |"
                )
            more = len(self.unaffected_callers) - _LISTED
            if more > 0:
                lines.append(f"| {plural(more, 'more caller')}, none would break | | 0 | | |")
            lines.append("")
        if self.breaking_callers:
            lines += ["<details><summary>First examples</summary>", ""]
            for caller in self.breaking_callers:
                for group in caller.groups:
                    where = markdown(" ".join(p for p in (group.model, group.column) if p))
                    for row, message in zip(group.rows, group.messages, strict=True):
                        lines.append(
                            f"- {markdown(caller.name)}: row {row}, {markdown(group.code)} {where}: {markdown(message)}"
                        )
            lines += ["", "</details>", ""]
        if self.unexercised:
            lines += [
                f"**Warning:** {plural(len(self.unexercised), 'breaking change')} no logged request exercises:",
                "",
                "| Rule | Model | Where | Change |",
                "| --- | --- | --- | --- |",
            ]
            for f in self.unexercised:
                lines.append(
                    f"| {markdown(f.rule)} | {markdown(f.model or 'endpoint')} | {markdown(f.location.describe())} "
                    f"| {markdown(f.message)} |"
                )
            lines.append("")
        lines += [f"> {note}" for note in self._notes(markdown)]
        return "\n".join(lines).rstrip("\n") + "\n"


def _witness(finding: Finding) -> dict[str, Any]:
    return {
        **finding.to_json(),
        "witness": {"where": finding.location.describe(), "old": finding.old, "new": finding.new},
    }


def _load(schema: EndpointSchema | str | os.PathLike[str]) -> EndpointSchema:
    if isinstance(schema, EndpointSchema):
        return schema
    from schemakit.core.resolve import load

    return load(os.fspath(schema))


def pair_models(
    live: EndpointSchema, candidate: EndpointSchema, diff: DiffReport, explicit: Mapping[str, str]
) -> dict[str, str | None]:
    """Each live served model's counterpart in the candidate: explicit, same name, new version, or the only one."""
    names = {m.name for m in candidate.models}
    versions = {f.old_model: f.model for f in diff.findings if f.rule == "served-model-version-changed" and f.old_model}
    pairs: dict[str, str | None] = {}
    for model in live.models:
        wanted = explicit.get(model.name)
        if wanted is not None and wanted not in names:
            raise SchemakitError(f"--model {model.name}={wanted}: the candidate serves no model {wanted!r}")
        if wanted is None and model.name in names:
            wanted = model.name
        if wanted is None:
            wanted = versions.get(model.name)
        if wanted is None and len(live.models) == 1 and len(candidate.models) == 1:
            wanted = candidate.models[0].name
        pairs[model.name] = wanted
    return pairs


def _roots(text: str) -> set[str]:
    """A column path and its first segment (`customer.address` -> {customer.address, customer})."""
    text = text.removeprefix("$.")
    return {text, _ROOT.split(text, maxsplit=1)[0]}


def _exercised(finding: Finding, touched: Mapping[str, set[str]], broken: Mapping[str, int]) -> bool:
    models = {finding.model, finding.old_model} - {None, ""}
    if not models:
        return any(touched.values()) or any(broken.values())
    if any(broken.get(m or "", 0) for m in models):
        return True
    names: set[str] = set()
    for model in models:
        for item in touched.get(model or "", set()):
            names |= _roots(item)
            # A param or field named in a path: $.params.temperature -> temperature.
            names |= {part for part in re.split(r"[.\[\]]", item) if part}
    loc = finding.location
    wanted = [x for x in (loc.column, loc.param) if x]
    if not wanted:
        # A whole format or the model itself: exercised when any request to the model broke.
        return bool(names)
    return any(_roots(w) & names for w in wanted)


def gate(
    live: EndpointSchema | str | os.PathLike[str],
    candidate: EndpointSchema | str | os.PathLike[str],
    traffic: str | os.PathLike[str],
    *,
    model_pairs: Mapping[str, str] | None = None,
    served_entities: Mapping[str, str] | None = None,
    column_map: Mapping[str, str] | None = None,
    caller_by: str | None = None,
    caller_prefixes: tuple[str, ...] | None = None,
    max_examples: int = 5,
    fail_on: str = "callers",
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> GateReport:
    """Which callers in `traffic` (an inference table of the live endpoint) would `candidate` break?"""
    if fail_on not in GATE_FAIL_ON:
        raise SchemakitError(f"--fail-on {fail_on!r}: one of {', '.join(GATE_FAIL_ON)}")
    live_schema, candidate_schema = _load(live), _load(candidate)
    explicit = dict(model_pairs or {})
    diff = diff_schemas(live_schema, candidate_schema, model_pairs=explicit)
    pairs = pair_models(live_schema, candidate_schema, diff, explicit)
    live_models = {m.name: m for m in live_schema.models}
    candidate_models: dict[str, ServedModel] = {m.name: m for m in candidate_schema.models}
    shared = Traffic(max_examples)
    tallies: dict[str, ReplayTally] = {}
    removed: dict[str, Broken] = {}
    validators: dict[int, PayloadValidator] = {}

    def validator(model: ServedModel) -> PayloadValidator:
        found = validators.get(id(model))
        if found is None:
            found = validators[id(model)] = compile_validator(model)
        return found

    def target(served: str | None, _label: str) -> ReplayTally | Broken | None:
        if served is None:
            return None
        counterpart = pairs.get(served)
        if counterpart is None:
            gone = removed.get(served)
            if gone is None:
                gone = removed[served] = Broken(
                    served, "served-model-removed", f"served model {served} is not in the candidate"
                )
            return gone
        tally = tallies.get(served)
        if tally is None:
            tally = tallies[served] = ReplayTally(
                validator(candidate_models[counterpart]),
                max_examples,
                baseline=validator(live_models[served]),
                traffic=shared,
                label=counterpart,
            )
        return tally

    run = run_traffic(
        traffic,
        target,
        Router(tuple(live_models), served_entities),
        traffic=shared,
        column_map=column_map,
        caller_by=caller_by,
        caller_prefixes=caller_prefixes,
        batch_rows=batch_rows,
    )
    by_candidate = {tally.label or name: tally for name, tally in tallies.items()}
    report = assemble(os.fspath(traffic), run, by_candidate, status=run.layout.column("status"))
    if removed:
        report = _with_removed(report, removed)
    callers = shared.callers()
    touched = {tally.label or name: tally.touched for name, tally in tallies.items()}
    broken = {name: gone.breaking for name, gone in removed.items()}
    unexercised = tuple(f for f in diff.findings if f.severity == "breaking" and not _exercised(f, touched, broken))
    return GateReport(
        live_schema.source or "live",
        candidate_schema.source or "candidate",
        os.fspath(traffic),
        report,
        diff,
        pairs,
        tuple(c for c in callers if c.breaking),
        tuple(c for c in callers if not c.breaking),
        unexercised,
        fail_on,
    )


def _with_removed(report: ReplayReport, removed: Mapping[str, Broken]) -> ReplayReport:
    from dataclasses import replace

    models = dict(report.models)
    for name, gone in removed.items():
        models[name] = (gone.total, gone.total, gone.breaking)
    return replace(
        report,
        total=report.total + sum(g.total for g in removed.values()),
        rejected=report.rejected + sum(g.total for g in removed.values()),
        rejected_succeeded=report.rejected_succeeded + sum(g.breaking for g in removed.values()),
        models=models,
    )
