"""Shadow replay: logged requests sent again to a candidate, its answers compared with the logged ones.

A bounded sample of the requests an inference table logged as answered (status 200, with a logged
response) goes to the target (`schemakit.probe.runner.open_target`: a URL, `endpoint:NAME`, `mlflow:PATH`
or `mock`), through the probe's bounded sender: at most `budget` requests, `rate` a second, nothing
started after `deadline`. The sample is spread over callers (round robin), so a quiet caller is not
crowded out by a busy one. Answers are compared by shape: the same keys and JSON types, numbers within
`tolerance` (relative, or absolute near zero), text equal; ids and timestamps (`id`, `created`, `*_id`,
values that read as timestamps) are noise and ignored.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from schemakit._exceptions import SchemakitError
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.runtime.http import one_line
from schemakit.runtime.text import terminal

if TYPE_CHECKING:
    from schemakit.table.replayer import Router

__all__ = ["Change", "ShadowCaller", "ShadowReport", "compare_answers", "shadow_replay"]

#: Changes kept per answer, and answers with changes kept as examples per caller.
_CHANGES_PER_ANSWER = 5
_EXAMPLES = 3
_MAX_CALLERS = 1000
_OTHER = "(other callers)"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ENDPOINT_MODEL = re.compile(r"(endpoint:[^/]+(?:/[^/]+)?)/served-(?:models|entities)/([^/]+)")
_NOISE_KEYS = frozenset({"id", "created", "created_at", "timestamp", "request_time", "system_fingerprint"})


@dataclass(frozen=True)
class Change:
    """One difference between a logged answer and the candidate's: where, what kind, the two values (short)."""

    path: str
    kind: str  # missing | added | type | number | text | length | status
    old: str
    new: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _noise_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in _NOISE_KEYS or lowered.endswith("_id") or lowered.endswith("_at")


def compare_answers(old: Any, new: Any, tolerance: float = 1e-6) -> list[Change]:
    """The differences between two JSON answers that are not noise (ids, timestamps); at most a few."""
    out: list[Change] = []
    # An explicit stack: an answer nests as deep as the server likes, Python's recursion does not.
    stack: list[tuple[str, Any, Any]] = [("$", old, new)]
    while stack and len(out) < _CHANGES_PER_ANSWER:
        path, a, b = stack.pop()
        ka, kb = _kind(a), _kind(b)
        if ka != kb:
            if ka == "string" and kb == "string":
                continue
            out.append(Change(path, "type", ka, kb))
        elif ka == "number":
            if not _close(a, b, tolerance):
                out.append(Change(path, "number", _short(a), _short(b)))
        elif ka == "string":
            if a != b and not (_TIMESTAMP.match(a) and _TIMESTAMP.match(b)):
                out.append(Change(path, "text", _short(a), _short(b)))
        elif ka == "array":
            if len(a) != len(b):
                out.append(Change(path, "length", str(len(a)), str(len(b))))
            for i in reversed(range(min(len(a), len(b)))):
                stack.append((f"{path}[{i}]", a[i], b[i]))
        elif ka == "object":
            for key in reversed(list(dict.fromkeys([*a, *b]))):
                if _noise_key(key):
                    continue
                where = f"{path}.{key}"
                if key not in b:
                    out.append(Change(where, "missing", _short(a[key]), ""))
                elif key not in a:
                    out.append(Change(where, "added", "", _short(b[key])))
                else:
                    stack.append((where, a[key], b[key]))
    return out[:_CHANGES_PER_ANSWER]


def _close(a: float, b: float, tolerance: float) -> bool:
    if a == b:
        return True
    try:
        return math.isclose(float(a), float(b), rel_tol=tolerance, abs_tol=tolerance)
    except OverflowError:
        return False


@dataclass
class ShadowCaller:
    """What one caller's resent requests got: the same answer, a changed one, or no answer."""

    caller: str | None
    sent: int = 0
    same: int = 0
    changed: int = 0
    failed: int = 0
    #: (row, served model, changes) of the first answers that changed.
    examples: list[tuple[int, str, list[Change]]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "sent": self.sent,
            "same": self.same,
            "changed": self.changed,
            "failed": self.failed,
            "examples": [
                {"row": row, "model": model, "changes": [c.to_json() for c in changes]}
                for row, model, changes in self.examples
            ],
        }


@dataclass
class ShadowReport:
    """The shadow run: what was eligible, sampled, sent, and how each caller's answers compare."""

    target: str
    eligible: int
    sampled: int
    sent: int
    budget: int
    deadline: float
    seconds: float
    tolerance: float
    callers: list[ShadowCaller]
    #: Rows not resent, by reason (not 200, no logged response, no body, unrouted).
    skipped: dict[str, int]

    @property
    def changed(self) -> int:
        return sum(c.changed + c.failed for c in self.callers)

    @property
    def not_sent(self) -> int:
        return self.sampled - self.sent

    @property
    def ok(self) -> bool:
        return self.changed == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "eligible": self.eligible,
            "sampled": self.sampled,
            "sent": self.sent,
            "not_sent": self.not_sent,
            "budget": self.budget,
            "deadline_seconds": self.deadline,
            "seconds": round(self.seconds, 3),
            "tolerance": self.tolerance,
            "changed": self.changed,
            "skipped": dict(self.skipped),
            "callers": [c.to_json() for c in self.callers],
            "ok": self.ok,
        }

    def to_text(self) -> str:
        def clean(text: Any) -> str:
            return terminal(one_line(str(text), 120))

        lines = []
        for c in self.callers:
            who = clean(c.caller) if c.caller is not None else "(no caller)"
            verdict = "CHANGED" if c.changed or c.failed else "same"
            lines.append(
                f"shadow: {verdict} caller {who}: {c.changed} of {c.sent} answers changed"
                + (f", {c.failed} not answered with 200" if c.failed else "")
            )
            for row, model, changes in c.examples:
                said = "; ".join(
                    f"{clean(ch.path)} {ch.kind}" + (f" {clean(ch.old)} -> {clean(ch.new)}" if ch.old or ch.new else "")
                    for ch in changes
                )
                lines.append(f"  row {row} ({clean(model)}): {said}")
        if self.skipped:
            lines.append("shadow: not resent: " + ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items())))
        tail = ""
        if self.not_sent:
            tail = f"; {self.not_sent} sampled requests not sent (deadline {self.deadline:g} s reached)"
        lines.append(
            f"shadow: {self.changed} of {self.sent} answers changed against {clean(self.target)}"
            f" ({self.sent} sent of {self.eligible} eligible, budget {self.budget}, {self.seconds:.1f} s{tail})"
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class _Sampled:
    row: int
    caller: str | None
    model: str
    body: bytes
    response: Any


def _sample(
    table: str,
    schema: EndpointSchema,
    *,
    model: str | None,
    served_entities: Mapping[str, str] | None,
    column_map: Mapping[str, str] | None,
    caller_by: str | None,
    caller_prefixes: tuple[str, ...] | None,
    budget: int,
) -> tuple[list[_Sampled], int, dict[str, int]]:
    """Up to `budget` answered requests, taken round robin over callers (each caller's first ones)."""
    from schemakit.table.inference import read_inference_table
    from schemakit.table.replayer import Router

    by = caller_by or ("client_request_id" if caller_prefixes is not None else "requester")
    prefixes = (caller_prefixes or ()) if by == "client_request_id" else None
    names = tuple(m.name for m in schema.models)
    if model is not None and model not in names:
        raise SchemakitError(f"no served model {model!r} in SPEC (it serves {', '.join(names)})")
    router = Router(names, served_entities)
    roles = {"request", "response", "status", "served_entity", "request_metadata", "model_name", "model_version"}
    if by != "none":
        roles.add(by)
    rows = read_inference_table(table, column_map=column_map, needed=lambda layout: roles)
    if "response" not in rows.layout.columns:
        raise SchemakitError(f"{table}: no column 'response' of logged answers (pass --column-map response=COLUMN)")
    per_caller, eligible, skipped = _eligible(rows.batches, by, prefixes, model, router, budget)
    return _round_robin(per_caller, budget), eligible, skipped


def _eligible(
    batches: Iterable[Mapping[str, Any]],
    by: str,
    prefixes: tuple[str, ...] | None,
    model: str | None,
    router: Router,
    budget: int,
) -> tuple[dict[str | None, list[_Sampled]], int, dict[str, int]]:
    """Each caller's first `budget` requests that can be resent, how many can, and why the others cannot."""
    from schemakit.table.replayer import caller_of

    per_caller: dict[str | None, list[_Sampled]] = {}
    skipped: dict[str, int] = {}
    eligible = 0
    row = -1
    for batch in batches:
        n = len(batch["request"])
        nothing: list[Any] = [None] * n
        callers = batch.get(by, nothing) if by != "none" else nothing
        for i in range(n):
            row += 1
            reason, served, body, response = _resendable(batch, i, nothing, model, router)
            if reason is not None:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            assert served is not None
            eligible += 1
            raw = callers[i]
            caller = caller_of(raw, raw, prefixes) if prefixes is not None else caller_of(raw, None, None)
            if caller not in per_caller and len(per_caller) >= _MAX_CALLERS:
                caller = _OTHER
            kept = per_caller.setdefault(caller, [])
            if len(kept) < budget:
                kept.append(_Sampled(row, caller, served, body, response))
    return per_caller, eligible, skipped


def _resendable(
    batch: Mapping[str, Any], i: int, nothing: list[Any], model: str | None, router: Router
) -> tuple[str | None, str | None, Any, Any]:
    """Why row `i` cannot be resent (None when it can), the served model it goes to, its body and answer."""
    from schemakit.table.inference import UNREADABLE, body_bytes, served_key, succeeded

    statuses = batch.get("status")
    reason = None
    if statuses is not None and not succeeded(statuses[i]):
        reason = "not 200"
    body = body_bytes(batch["request"][i])
    response = batch["response"][i]
    if reason is None and (body is None or body is UNREADABLE):
        reason = "no logged request"
    if reason is None and (response is None or response is UNREADABLE):
        reason = "no logged response"
    if reason is not None:
        return reason, None, body, response
    served: str | None = model
    if model is None:
        key = served_key(
            batch.get("served_entity", nothing)[i],
            batch.get("request_metadata", nothing)[i],
            batch.get("model_name", nothing)[i],
            batch.get("model_version", nothing)[i],
        )
        served = router.resolve(key)[0]
    return ("unrouted" if served is None else None), served, body, response


def _round_robin(per_caller: Mapping[str | None, list[_Sampled]], budget: int) -> list[_Sampled]:
    """Up to `budget` requests, one from each caller in turn."""
    chosen: list[_Sampled] = []
    queues = [iter(v) for v in per_caller.values()]
    while queues and len(chosen) < budget:
        alive = []
        for queue in queues:
            item = next(queue, None)
            if item is not None and len(chosen) < budget:
                chosen.append(item)
                alive.append(queue)
        queues = alive
    return chosen


def _parse(value: Any) -> Any:
    if isinstance(value, (bytes, str)):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return value


def shadow_replay(
    table: str | os.PathLike[str],
    schema: EndpointSchema | str | os.PathLike[str],
    against: str,
    *,
    model: str | None = None,
    served_entities: Mapping[str, str] | None = None,
    column_map: Mapping[str, str] | None = None,
    caller_by: str | None = None,
    caller_prefixes: tuple[str, ...] | None = None,
    budget: int = 60,
    rate: float = 10.0,
    concurrency: int = 2,
    deadline: float = 120.0,
    request_timeout: float = 30.0,
    tolerance: float = 1e-6,
    headers: Mapping[str, str] | None = None,
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
) -> ShadowReport:
    """Resend a bounded sample of TABLE's answered requests to `against` (serving `schema`); compare the answers."""
    import httpx

    from schemakit.probe.runner import Pacer, ProbeOptions, open_target, opened, send_to

    if not isinstance(schema, EndpointSchema):
        from schemakit.core.resolve import load

        schema = load(os.fspath(schema))
    table = os.fspath(table)
    pinned = _ENDPOINT_MODEL.fullmatch(against)
    if pinned is not None:
        # endpoint:NAME/served-models/X: the candidate is served model X of that endpoint; every request goes to it.
        against, named = pinned.group(1), pinned.group(2)
        if model is not None and model != named:
            raise SchemakitError(f"--model {model!r} and the target's served model {named!r} differ")
        model = named
    try:
        options = ProbeOptions(
            budget=budget, rate=rate, concurrency=concurrency, deadline=deadline, request_timeout=request_timeout
        )
    except ValueError as exc:
        raise SchemakitError(str(exc)) from None
    if not tolerance >= 0:
        raise SchemakitError("--tolerance must be 0 or more")
    chosen, eligible, skipped = _sample(
        table,
        schema,
        model=model,
        served_entities=served_entities,
        column_map=column_map,
        caller_by=caller_by,
        caller_prefixes=caller_prefixes,
        budget=options.budget,
    )
    used = {s.model for s in chosen}
    served: list[ServedModel] = [m for m in schema.models if m.name in used]
    callers: dict[str | None, ShadowCaller] = {}
    for item in chosen:
        callers.setdefault(item.caller, ShadowCaller(item.caller))
    lock = threading.Lock()
    started = time.monotonic()
    ends = started + options.deadline
    sent = 0
    if chosen:
        target = open_target(schema, against, headers=headers, host=host, token=token, profile=profile, models=served)
        description = target.description
        pacer = Pacer(options.rate)
        with opened(target):
            limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)

            def one(item: _Sampled, client: httpx.Client) -> None:
                nonlocal sent
                if not pacer.wait(ends):
                    return
                left = ends - time.monotonic()
                if left <= 0.001:
                    return
                answer = send_to(client, target, item.model, item.body, min(options.request_timeout, left))
                if answer.status == 200:
                    changes = compare_answers(_parse(item.response), _parse(answer.body), tolerance)
                else:
                    said = answer.error or f"status {answer.status}"
                    changes = [Change("$", "status", "200", one_line(said, 80))]
                with lock:
                    sent += 1
                    tally = callers[item.caller]
                    tally.sent += 1
                    if not changes:
                        tally.same += 1
                        return
                    if answer.status == 200:
                        tally.changed += 1
                    else:
                        tally.failed += 1
                    if len(tally.examples) < _EXAMPLES:
                        tally.examples.append((item.row, item.model, changes))

            with (
                httpx.Client(limits=limits, trust_env=False, follow_redirects=False) as client,
                ThreadPoolExecutor(options.concurrency, thread_name_prefix="schemakit-shadow") as pool,
            ):
                for future in [pool.submit(one, item, client) for item in chosen]:
                    future.result()
    else:
        description = against if against in ("mock",) else "the target"
    for tally in callers.values():
        tally.examples.sort(key=lambda e: e[0])
    ordered = sorted(callers.values(), key=lambda c: (-(c.changed + c.failed), str(c.caller)))
    return ShadowReport(
        description,
        eligible,
        len(chosen),
        sent,
        options.budget,
        options.deadline,
        time.monotonic() - started,
        tolerance,
        ordered,
        skipped,
    )
