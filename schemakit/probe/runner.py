"""Sending generated payloads to a target and judging each answer against the schema.

A target is a URL (an invocations URL, or an endpoint's base URL), `endpoint:[PROFILE/]NAME` (a
workspace's endpoint, with the workspace client's credentials) or `mock` (the emulator, started
in-process for the run). Every request goes through `schemakit.runtime.http.send`: one redirect
loop, credentials only to the target's origin, a deadline on the whole request and a cap on the
answer. The run itself is bounded: at most `budget` requests, at most `rate` a second, `concurrency`
at a time, and nothing is started after the run's `deadline`; what was not done is reported.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from schemakit._exceptions import SourceError
from schemakit._io import atomic_write_bytes, dump_json
from schemakit.check.validator import PayloadValidator, compile_validator, jsonschema_fallback
from schemakit.core.model import EndpointSchema, FormatKind, ServedModel
from schemakit.probe.generate import Case, encode, generate_cases, interleave, spread
from schemakit.probe.report import Answer, GroupReport, Outcome, ProbeReport
from schemakit.runtime import http

__all__ = [
    "DEFAULT_BUDGET",
    "Pacer",
    "ProbeOptions",
    "Target",
    "judge",
    "load_recorded",
    "open_target",
    "plan_cases",
    "opened",
    "run_probe",
    "send_to",
    "write_recording",
]

DEFAULT_BUDGET = 60
#: Bytes of an answer kept (and recorded); a longer answer is refused as such.
ANSWER_BYTES = 4 * 1024 * 1024
_RECORD_BYTES = 64 * 1024 * 1024
_SERVER_TEXT = 300


@dataclass(frozen=True)
class ProbeOptions:
    """How much a probe may do: requests, requests a second, at once, and for how long."""

    budget: int = DEFAULT_BUDGET
    #: Requests a second at most (0: no limit).
    rate: float = 10.0
    concurrency: int = 2
    #: Seconds for the whole run: no request starts after it, none outlives it.
    deadline: float = 120.0
    #: Seconds for one request (capped by what remains of the run).
    request_timeout: float = 30.0
    seed: int = 0
    #: Also send payloads at the endpoint's size limit (4 or 16 MB each).
    large: bool = False
    models: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError("the budget must be at least 1 request")
        if self.concurrency < 1:
            raise ValueError("the concurrency must be at least 1")
        if not self.rate >= 0:
            raise ValueError("the rate must be >= 0 requests a second")
        if not self.deadline > 0 or not self.request_timeout > 0:
            raise ValueError("the deadline and the request timeout must be > 0 seconds")


@dataclass
class Target:
    """Where each served model's requests go, and how they are authenticated."""

    #: For messages: scheme, host and port only (a path or query may be signed).
    description: str
    urls: Mapping[str, str]
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: Callable[[], Mapping[str, str]] | None = None
    secrets: frozenset[str] = frozenset()
    close: Callable[[], None] = lambda: None


def open_target(
    schema: EndpointSchema,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    models: Sequence[ServedModel] | None = None,
    force: bool = False,
) -> Target:
    """Resolve `target` to one invocations URL per served model.

    `target` is a URL, `endpoint:[PROFILE/]NAME`, `mock` (the emulator) or `mlflow:PATH` (MLflow's scoring
    server for a local model folder); the emulator and MLflow's server are stopped by `Target.close`.
    `force` starts the emulator on a document with errors (the caller has said so once, as `--force`).
    """
    served = list(models if models is not None else schema.models)
    extra = dict(headers or {})
    secrets = frozenset(v for v in extra.values() if v)
    if target == "mock":
        return _mock_target(schema, served, force)
    if target.startswith("endpoint:"):
        return _endpoint_target(target, served, extra, host, token, profile)
    if target.startswith("mlflow:"):
        return _mlflow_target(target, served)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{target[:80]!r}: expected an http(s) URL, endpoint:NAME or mock as the target")
    try:
        http.check_transport(target, allow_insecure_http=not extra)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    base = target.split("?", 1)[0].rstrip("/")
    urls: dict[str, str] = {}
    if base.endswith("/invocations"):
        named = base.rsplit("/", 3)
        if len(named) == 4 and named[1] == "served-models":
            wanted = [m for m in served if m.name == unquote(named[2])]
            if not wanted:
                raise SourceError(f"the target URL names served model {named[2]!r}, which the document does not have")
            urls = {wanted[0].name: target}
        elif len(served) == 1:
            urls = {served[0].name: target}
        else:
            names = ", ".join(m.name for m in served)
            raise SourceError(
                f"the target is one invocations URL but the document serves several models ({names}): "
                "pass --model NAME, or the endpoint's base URL to probe each served model"
            )
    else:
        urls = {m.name: base + _model_path(m) for m in served}
    # Sent as credentials: only to the target's origin, never after a redirect off it.
    return Target(http.origin_text(target), urls, {}, (lambda: extra) if extra else None, secrets)


def _model_path(model: ServedModel) -> str:
    return f"/served-models/{quote(model.name, safe='')}/invocations"


def _mock_target(schema: EndpointSchema, served: Sequence[ServedModel], force: bool = False) -> Target:
    from schemakit.mock.server import MockServer

    server = MockServer([schema], force=force).start()
    name = server.endpoints[0] if server.endpoints else schema.title
    base = server.endpoint_url(name)
    bearer = {"Authorization": f"Bearer {server.token}"}
    return Target(
        f"the emulator at {server.url}",
        {m.name: base + _model_path(m) for m in served},
        {},
        lambda: bearer,
        frozenset({server.token}),
        server.stop,
    )


#: Seconds MLflow's scoring server may take to answer /ping after it is started.
MLFLOW_START_SECONDS = 180.0


def _mlflow_target(target: str, served: Sequence[ServedModel]) -> Target:
    """MLflow's own scoring server for a local model folder, started for the run on 127.0.0.1 and stopped after."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile

    folder = Path(target.removeprefix("mlflow:")).expanduser()
    if not (folder / "MLmodel").is_file():
        raise SourceError(f"{target}: expected mlflow:PATH, a local model folder with an MLmodel file")
    if len(served) != 1:
        raise SourceError(f"{target}: an MLflow model serves one model; the document serves {len(served)}")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the server
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    # `mlflow models serve` as its documentation gives it; the folder is the one the user named.
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(folder), "--env-manager", "local"]
    process = subprocess.Popen([*command, "-h", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, env=env)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        log.close()

    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_ping(url, process, log)
    except BaseException:
        stop()
        raise
    return Target(
        f"MLflow's scoring server for {folder.name} at {url}", {served[0].name: f"{url}/invocations"}, close=stop
    )


def _wait_for_ping(url: str, process: Any, log: Any) -> None:
    import httpx

    ends = time.monotonic() + MLFLOW_START_SECONDS
    while time.monotonic() < ends:
        if process.poll() is not None:
            log.seek(0)
            tail = log.read()[-4000:].decode("utf-8", "replace").strip().splitlines()
            said = http.one_line(tail[-1], 300) if tail else "no output"
            raise SourceError(f"MLflow's scoring server exited (code {process.returncode}): {said}")
        try:
            if httpx.get(f"{url}/ping", timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SourceError(f"MLflow's scoring server did not answer {url}/ping within {MLFLOW_START_SECONDS:g} s")


def _endpoint_target(
    target: str,
    served: Sequence[ServedModel],
    headers: Mapping[str, str],
    host: str | None,
    token: str | None,
    profile: str | None,
) -> Target:
    from schemakit.workspace.auth import resolve_credentials
    from schemakit.workspace.client import parse_endpoint_source

    source_profile, name = parse_endpoint_source(target)
    credentials = resolve_credentials(host, token, source_profile or profile)
    try:
        http.check_transport(credentials.host)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    base = f"{credentials.host.rstrip('/')}/serving-endpoints/{quote(name, safe='')}"
    extra = dict(headers)
    return Target(
        http.origin_text(credentials.host),
        {m.name: base + _model_path(m) for m in served},
        {},
        lambda: {**extra, **credentials.headers()},
        credentials.secrets | frozenset(v for v in extra.values() if v),
    )


# -- cases --------------------------------------------------------------------------------------------------


def plan_cases(schema: EndpointSchema, options: ProbeOptions) -> list[list[Case]]:
    """The generated cases, one list per served model and format, valid edges and mutations alternated."""
    groups: list[list[Case]] = []
    for model in _models(schema, options):
        validator = compile_validator(model)
        cases = generate_cases(
            model, seed=options.seed, formats=options.formats or None, large=options.large, validator=validator
        )
        for fmt in model.formats:
            group = spread([c for c in cases if c.format == fmt.kind.value])
            if group:
                groups.append(group)
    return groups


def _models(schema: EndpointSchema, options: ProbeOptions) -> list[ServedModel]:
    if not options.models:
        return list(schema.models)
    return [schema.model(name) for name in options.models]


def load_recorded(directory: str | Path, schema: EndpointSchema, options: ProbeOptions) -> list[list[Case]]:
    """Cases recorded by `--record DIR` (or request witnesses written by `diff --witnesses DIR`), labelled
    again by the engine for `schema`: the current verdicts."""
    folder = Path(directory)
    if not (folder / "index.json").exists() and folder.is_dir() and any(folder.glob("*.json")):
        entries = _witness_entries(folder, schema)
    else:
        entries = _recorded_entries(folder)
    wanted = set(options.models)
    validators: dict[str, PayloadValidator] = {}
    groups: dict[tuple[str, str], list[Case]] = {}
    for model_name, fmt, label, body in entries:
        if wanted and model_name not in wanted:
            continue
        if options.formats and fmt not in options.formats:
            continue
        if model_name not in validators:
            validators[model_name] = compile_validator(schema.model(model_name))
        report = validators[model_name].validate_json(body)
        payload = _json_or_none(body)
        case = Case(
            model_name,
            fmt,
            label,
            "valid" if report.ok else "mutation",
            payload,
            report.ok,
            tuple(sorted({p.code for p in report.errors})),
            tuple(sorted({p.code for p in report.warnings})),
            body,
        )
        groups.setdefault((model_name, fmt), []).append(case)
    return list(groups.values())


def _recorded_entries(folder: Path) -> list[tuple[str, str, str, bytes]]:
    index_path = folder / "index.json"
    try:
        index = json.loads(_read_capped(index_path))
    except OSError as exc:
        raise SourceError(f"{index_path}: cannot read the recording ({exc.strerror or type(exc).__name__})") from None
    except ValueError:
        raise SourceError(f"{index_path}: not a recording made by schemakit probe --record") from None
    names = index.get("cases") if isinstance(index, dict) else None
    if not isinstance(names, list):
        raise SourceError(f"{index_path}: not a recording made by schemakit probe --record (no case list)")
    out = []
    for entry in names:
        if not isinstance(entry, str) or "/" in entry or "\\" in entry or entry.startswith("."):
            raise SourceError(f"{index_path}: a case file name {str(entry)[:60]!r} is not a plain file name")
        path = folder / "cases" / entry
        try:
            record = json.loads(_read_capped(path))
            request = record["request"]
            body = (
                base64.b64decode(request["body_base64"], validate=True)
                if "body_base64" in request
                else str(request["body"]).encode("utf-8")
            )
            out.append((str(record["model"]), str(record["format"]), str(record["label"]), body))
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
        except (ValueError, KeyError, TypeError):
            raise SourceError(f"{path}: not a case recorded by schemakit probe --record") from None
    return out


def _witness_entries(folder: Path, schema: EndpointSchema) -> list[tuple[str, str, str, bytes]]:
    """Request witnesses of `diff --witnesses DIR`, for the served models `schema` still has."""
    known = {m.name: m for m in schema.models}
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(_read_capped(path))
            finding, witness = record["finding"], record["witness"]
            model_name, rule = str(finding["model"]), str(finding["rule"])
            where = str(finding.get("where") or "")
            side, value = witness["side"], witness["value"]
        except OSError as exc:
            raise SourceError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None
        except (ValueError, KeyError, TypeError):
            raise SourceError(
                f"{path}: neither a probe recording nor a witness of schemakit diff --witnesses"
            ) from None
        model = known.get(model_name)
        if side != "request" or model is None:
            continue  # a response witness, or a served model the document no longer has
        keys = [f.kind.value for f in model.formats if f.key is not None and isinstance(value, dict) and f.key in value]
        fmt = keys[0] if keys else FormatKind.OBJECT.value
        out.append((model_name, fmt, f"witness: {rule} ({where})", encode(value)))
    return out


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(_RECORD_BYTES + 1)
    if len(data) > _RECORD_BYTES:
        raise SourceError(f"{path}: larger than {_RECORD_BYTES // (1024 * 1024)} MB; not a recorded case")
    return data


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


# -- judging ------------------------------------------------------------------------------------------------


def judge(case: Case, answer: Answer, model: ServedModel, secrets: frozenset[str] = frozenset()) -> Outcome:
    """What an answer says about the server, against the engine's verdict on the case."""
    if answer.status is None:
        return Outcome(case, answer, "no-answer", answer.error or "no answer")
    status = answer.status
    said = _server_said(answer, secrets)
    if status >= 500:
        return Outcome(case, answer, "server-error", f"HTTP {status}{said}")
    if status in (401, 403, 404, 405, 429):
        # The server did not judge the payload: credentials, the path, or throttling.
        return Outcome(case, answer, "unjudged", f"HTTP {status}{said}")
    accepted = 200 <= status < 300
    if case.valid and not accepted:
        return Outcome(case, answer, "rejected-valid", f"HTTP {status}{said}")
    if not case.valid and accepted:
        return Outcome(case, answer, "accepted-invalid", f"HTTP {status}; check says {', '.join(case.rules)}")
    if accepted and model.response is not None:
        problem = _response_problem(answer, model)
        if problem is not None:
            return Outcome(case, answer, "response-mismatch", problem)
    return Outcome(case, answer, "agree", f"HTTP {status}")


def _server_said(answer: Answer, secrets: frozenset[str]) -> str:
    code, message = http.error_summary(answer.body, answer.content_type, secrets, limit=_SERVER_TEXT)
    text = " ".join(part for part in (code, message) if part)
    return f": {text}" if text else ""


def _response_problem(answer: Answer, model: ServedModel) -> str | None:
    assert model.response is not None
    try:
        body = json.loads(answer.body)
    except (ValueError, RecursionError):
        kind = answer.content_type.split(";")[0] or "no content type"
        return f"the 200 answer is not JSON ({kind}, {len(answer.body):,} bytes)"
    for code, parts, _value, message in jsonschema_fallback(model.response.schema, body):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
        return f"the answer does not match the 200 response schema at {where}: [{code}] {message}"
    return None


# -- running ------------------------------------------------------------------------------------------------


class _Pacer:
    """At most `rate` request starts a second, across threads."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self, until: float) -> bool:
        """Sleep until this thread's slot; False when the slot is past `until` (the run's end)."""
        with self.lock:
            slot = max(self.next, time.monotonic())
            if slot >= until:
                return False
            self.next = slot + self.interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return True


def run_probe(
    schema: EndpointSchema,
    target: Target,
    options: ProbeOptions,
    *,
    groups: list[list[Case]] | None = None,
    record: str | Path | None = None,
    progress: Callable[[int, int, int], None] | None = None,
    spec: str = "",
) -> ProbeReport:
    """Send cases (generated, or `groups` from a recording) within the options' bounds; judge every answer."""
    import httpx

    groups = groups if groups is not None else plan_cases(schema, options)
    models = {m.name: m for m in schema.models}
    planned = list(interleave(groups))
    chosen = [c for c in planned if c.model in target.urls][: options.budget]
    started = time.monotonic()
    ends = started + options.deadline
    pacer = _Pacer(options.rate)
    outcomes: dict[int, Outcome] = {}
    lock = threading.Lock()
    counter = {"sent": 0, "disagreements": 0}
    secrets = target.secrets
    headers = {"Content-Type": "application/json", **target.headers}
    credentials = target.credentials or (lambda: {})

    def one(index: int, case: Case, client: httpx.Client) -> None:
        if not pacer.wait(ends):
            return
        left = ends - time.monotonic()
        if left <= 0.001:
            return
        with lock:
            counter["sent"] += 1
        answer = _send(
            client,
            target.urls[case.model],
            case.body,
            headers,
            credentials,
            min(options.request_timeout, left),
            secrets,
        )
        outcome = judge(case, answer, models[case.model], secrets)
        with lock:
            outcomes[index] = outcome
            if outcome.disagrees:
                counter["disagreements"] += 1
            if progress is not None:
                progress(counter["sent"], len(chosen), counter["disagreements"])

    limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
    with (
        httpx.Client(limits=limits, trust_env=False, follow_redirects=False) as client,
        ThreadPoolExecutor(options.concurrency, thread_name_prefix="schemakit-probe") as pool,
    ):
        futures = [pool.submit(one, i, case, client) for i, case in enumerate(chosen)]
        for future in futures:
            future.result()
    elapsed = time.monotonic() - started
    report = _report(schema, target, options, groups, chosen, outcomes, planned, elapsed, spec)
    if record is not None:
        write_recording(record, report, spec)
    return report


def _send(
    client: Any,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    credentials: Callable[[], Mapping[str, str]],
    seconds: float,
    secrets: frozenset[str],
) -> Answer:
    import httpx

    began = time.monotonic()
    try:
        reply = http.send(
            client,
            "POST",
            url,
            content=body,
            headers=headers,
            credentials=credentials,
            deadline=http.Deadline(seconds),
            max_bytes=ANSWER_BYTES,
        )
    except (http.DeadlineExceeded, httpx.TimeoutException):
        # No connect timeout is given, so every httpx timeout phase ends at the deadline: whichever of
        # httpx's timer and the deadline's watchdog fires first, the request was cut by its deadline,
        # and the report says so in one phrasing.
        return Answer(None, b"", "", time.monotonic() - began, f"no complete answer within {seconds:.3g} s")
    except http.BodyTooLarge:
        return Answer(None, b"", "", time.monotonic() - began, f"an answer over {ANSWER_BYTES:,} bytes")
    except http.TooManyRedirects as exc:
        return Answer(None, b"", "", time.monotonic() - began, http.scrub(str(exc), secrets))
    except httpx.HTTPError as exc:
        text = http.scrub(str(exc) or type(exc).__name__, secrets)
        return Answer(None, b"", "", time.monotonic() - began, f"{type(exc).__name__}: {http.one_line(text, 200)}")
    body = reply.body
    for secret in secrets:
        # A server that echoes the request's credentials must not put them in a report or a recording.
        if len(secret) >= 4:
            body = body.replace(secret.encode("utf-8"), b"***")
    return Answer(reply.status, body, reply.header("content-type") or "", time.monotonic() - began, None)


def send_to(client: Any, target: Target, model: str, body: bytes, seconds: float) -> Answer:
    """One POST of `body` to `target`'s URL for served model `model`, bounded and scrubbed as a probe's are."""
    headers = {"Content-Type": "application/json", **target.headers}
    return _send(client, target.urls[model], body, headers, target.credentials or dict, seconds, target.secrets)


#: The pacing probes use, for other bounded runs (shadow replay).
Pacer = _Pacer


def _report(
    schema: EndpointSchema,
    target: Target,
    options: ProbeOptions,
    groups: list[list[Case]],
    chosen: list[Case],
    outcomes: dict[int, Outcome],
    planned: list[Case],
    elapsed: float,
    spec: str,
) -> ProbeReport:
    by_group: dict[tuple[str, str], GroupReport] = {}
    for group in groups:
        if group:
            key = (group[0].model, group[0].format)
            by_group[key] = GroupReport(key[0], key[1], generated=len(group))
    for index, case in enumerate(chosen):
        report = by_group[(case.model, case.format)]
        outcome = outcomes.get(index)
        if outcome is None:
            report.not_sent_deadline += 1
        else:
            report.outcomes.append(outcome)
    for case in planned[len(chosen) :]:
        if case.model in target.urls:
            by_group[(case.model, case.format)].not_sent_budget += 1
    for report in by_group.values():
        if report.model not in target.urls:
            report.not_sent_budget = report.generated
    return ProbeReport(
        spec=spec,
        title=schema.title,
        target=target.description,
        budget=options.budget,
        rate=options.rate,
        concurrency=options.concurrency,
        deadline=options.deadline,
        seed=options.seed,
        elapsed=elapsed,
        groups=tuple(by_group.values()),
    )


# -- recording ----------------------------------------------------------------------------------------------


def _text_or_base64(name: str, data: bytes, *, scrub: bool = False) -> dict[str, str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {f"{name}_base64": base64.b64encode(data).decode("ascii")}
    # An answer may quote something shaped like a token: masked as in every other output.
    return {name: http.scrub(text) if scrub else text}


def write_recording(directory: str | Path, report: ProbeReport, spec: str) -> None:
    """Each sent payload and its answer as a file under DIR/cases/, and DIR/index.json naming them."""
    folder = Path(directory)
    names: list[str] = []
    for number, outcome in enumerate(_all_outcomes(report), start=1):
        case, answer = outcome.case, outcome.answer
        name = f"{number:05d}.json"
        record = {
            "schema_version": 1,
            "model": case.model,
            "format": case.format,
            "label": case.label,
            "intent": case.intent,
            "verdict": case.verdict,
            "rules": list(case.rules),
            "outcome": outcome.kind,
            "detail": outcome.detail,
            "request": _text_or_base64("body", case.body),
            "answer": {
                "status": answer.status,
                "content_type": answer.content_type,
                "seconds": round(answer.seconds, 6),
                "error": answer.error,
                **_text_or_base64("body", answer.body, scrub=True),
            },
        }
        atomic_write_bytes(folder / "cases" / name, dump_json(record) + b"\n")
        names.append(name)
    index = {"schema_version": 1, "spec": spec, "title": report.title, "cases": names}
    atomic_write_bytes(folder / "index.json", dump_json(index) + b"\n")


def _all_outcomes(report: ProbeReport) -> Iterator[Outcome]:
    for group in report.groups:
        yield from group.outcomes


@contextlib.contextmanager
def opened(target: Target) -> Iterator[Target]:
    """A target closed (its emulator stopped) when the block ends."""
    try:
        yield target
    finally:
        target.close()
