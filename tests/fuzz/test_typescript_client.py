"""Hostile servers against the generated TypeScript client under node (issue 23), held to the Python client's
properties (tests/fuzz/test_servers.py): only the client's own one-line errors come out, no token in any
message, string form, JSON form or stack, nothing reaches another origin, every call ends in bounded time,
and node stays within a small heap.

One stdlib server on 127.0.0.1 answers each case from its plan (the path carries the case number), so one node
process runs a whole batch: the hostile answers of the Python suite (the token in every field, straddling every
cut, huge, malformed, deeply nested...), plus the token in the HTTP reason phrase, a body that drips past the
timeout, and event streams with a line that never ends or an event that is not JSON.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import schemakit
from schemakit.codegen.generate import generate_package, write_package

from ..codegen.node import NODE, TSC, tsc_compile
from ..security.hostile import SAMPLE, SAMPLES, TOKEN, HostileHandler, Listener, hostile_server, leaks
from .strategies import fuzz_settings, fuzz_timeout
from .test_servers import Plan, plans, render_body

pytestmark = [
    pytest.mark.skipif(TSC is None or NODE is None, reason="tsc or node not installed"),
    fuzz_timeout(300),
]

CHAT = SAMPLES / "foundation-model-chat.json"
SHAPES = ["plain", "plain", "plain", "drip", "long-line", "not-json-event", "events", "huge-stream"]
ERRORS = {"ClientError", "EndpointError", "NotFoundError", "RateLimitedError", "TransportError", "MissingTokenError"}


@dataclass
class Case:
    plan: Plan
    shape: str = "plain"
    reason: str | None = None
    stream: bool = False


cases = st.builds(
    Case,
    plan=plans,
    shape=st.sampled_from(SHAPES),
    reason=st.none() | st.sampled_from([f"Denied {TOKEN}", f"x{TOKEN}", "OK"]),
    stream=st.booleans(),
)


@dataclass
class Rig:
    folder: Path
    listener: Listener
    url: str
    batch: list[Case] = field(default_factory=list)


def _answer(handler: HostileHandler, case: Case, listener_url: str) -> None:
    plan = case.plan
    if case.shape == "drip":
        handler.send_response(200, case.reason)
        handler.send_header("Content-Type", "text/event-stream" if case.stream else "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        end = time.monotonic() + 8
        while time.monotonic() < end:
            handler.wfile.write(b"{" if not case.stream else b"x")
            handler.wfile.flush()
            time.sleep(0.2)
        return
    if case.shape in ("long-line", "not-json-event", "events", "huge-stream"):
        handler.send_response(200, case.reason)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()  # no length: the stream ends when the connection does
        handler.close_connection = True
        event = json.dumps({"choices": [{"delta": {"content": f"hi {TOKEN}"}}]})
        if case.shape == "long-line":
            for _ in range(48):
                handler.wfile.write(b"data: " + b"x" * 65536)  # 3 MiB and never a newline
        elif case.shape == "not-json-event":
            handler.wfile.write(f"data: {event}\n\ndata: {{{TOKEN}\n\n".encode())
        elif case.shape == "huge-stream":
            line = f"data: {event}\n\n".encode()
            for _ in range(3 * 1024 * 1024 // len(line) + 1):
                handler.wfile.write(line)
        else:
            handler.wfile.write(f"data: {event}\n\n: comment {TOKEN}\n\ndata: [DONE]\n\n".encode())
        return
    headers = dict(plan.extra_headers)
    if plan.location is not None:
        headers["Location"] = plan.location.replace("LISTENER", listener_url).replace("SELF", handler.path)
    if plan.retry_after is not None:
        headers["Retry-After"] = plan.retry_after
    body = render_body(plan, listener_url)
    handler.send_response(plan.status, case.reason)
    if plan.content_type:
        handler.send_header("Content-Type", plan.content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    folder = tmp_path_factory.mktemp("ts-hostile")
    for name, sample in (("tsrows", SAMPLE), ("tschat", CHAT)):
        write_package(generate_package(schemakit.load(str(sample)), package=name, target="typescript"), folder / "src")
    compiled = tsc_compile(folder, [folder / "src" / "tsrows" / "index.ts", folder / "src" / "tschat" / "index.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (folder / "run.js").write_text(RUNNER)
    listener = Listener().start()
    holder: list[Rig] = []

    def answer(handler: HostileHandler) -> None:
        index = int(handler.path.split("/")[2])
        _answer(handler, holder[0].batch[index], listener.url)

    with hostile_server(answer) as server:
        holder.append(Rig(folder, listener, server.url))
        yield holder[0]
    listener.close()


RUNNER = """
const rows = require(process.argv[2]);
const chat = require(process.argv[3]);
const cases = JSON.parse(require("fs").readFileSync(process.argv[4], "utf8"));
const options = { token: process.argv[5], timeoutMs: 1500, streamTimeoutMs: 3000, maxRetries: 1, backoffMs: 1,
  maxBackoffMs: 1, maxRetryAfterMs: 10, validate: false, maxResponseBytes: 2 * 1024 * 1024 };
async function one([base, stream]) {
  const started = Date.now();
  try {
    if (stream) {
      const client = new chat.Client({ ...options, baseUrl: base });
      for await (const _chunk of client.streamMetaLlamaV318bInstruct({ messages: [{ role: "user", content: "hi" }] })) {}
    } else {
      const client = new rows.Client({ ...options, baseUrl: base });
      await client.predict({ dataframe_records: [{ int_col: 1, float_col: 1.0, string_col: "a" }] });
    }
    return { ms: Date.now() - started, error: null };
  } catch (e) {
    const error = e instanceof Error
      ? { name: e.name, message: e.message, text: String(e), json: JSON.stringify(e), stack: String(e.stack) }
      : { name: typeof e, message: String(e), text: String(e), json: "", stack: "" };
    return { ms: Date.now() - started, error };
  }
}
(async () => {
  const out = [];
  for (const c of cases) out.push(await one(c));
  console.log(JSON.stringify(out));
})();
"""


@fuzz_settings(4)
@given(batch=st.lists(cases, min_size=12, max_size=12))
def test_typescript_client_against_hostile_servers(rig: Rig, batch: list[Case]) -> None:
    rig.batch = batch
    rig.listener.reset()
    calls = [(f"{rig.url}/case/{i}/serving-endpoints/ep", case.stream) for i, case in enumerate(batch)]
    (rig.folder / "cases.json").write_text(json.dumps(calls))
    assert NODE is not None
    run = subprocess.run(
        [
            NODE,
            "--max-old-space-size=192",
            str(rig.folder / "run.js"),
            str(rig.folder / "js" / "tsrows" / "index.js"),
            str(rig.folder / "js" / "tschat" / "index.js"),
            str(rig.folder / "cases.json"),
            TOKEN,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert not leaks(run.stderr)
    results = json.loads(run.stdout)
    for case, result in zip(batch, results, strict=True):
        # timeoutMs 1.5 s per attempt, two attempts, a 3 s stream: nothing may take much longer.
        assert result["ms"] < 12_000, (case, result["ms"])
        error = result["error"]
        if error is None:
            continue
        assert error["name"] in ERRORS, (case, error)
        assert "\n" not in error["message"], (case, error["message"][:400])
        for key in ("message", "text", "json", "stack"):
            assert not leaks(error[key]), (case, key, error[key][:400])
    assert not any(TOKEN.encode() in data for data in rig.listener.received), "the token went to another origin"
