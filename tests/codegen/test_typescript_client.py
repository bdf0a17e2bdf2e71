"""The TypeScript target: compiled with `tsc --strict`, run with node; its validator agrees with
`schemakit check` on every sample payload, and its client calls the emulator."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import schemakit
from schemakit.check.validator import check_payload
from schemakit.codegen.generate import generate_package, write_package
from schemakit.testing import MockServer

from .conftest import SAMPLES
from .node import NODE, TSC, tsc_compile
from .test_golden import GOLDEN_SAMPLES

pytestmark = pytest.mark.skipif(
    TSC is None or NODE is None, reason="tsc or node not installed (`make setup` installs tsc; or set SCHEMAKIT_TSC)"
)


def _compile(tmp_path: Path, files: list[Path], *, emit: bool = True) -> subprocess.CompletedProcess[str]:
    return tsc_compile(tmp_path, files, emit=emit)


def _model_for(schema: schemakit.EndpointSchema, payload: Path) -> str:
    if len(schema.models) == 1:
        return schema.models[0].name
    return max((m.name for m in schema.models if m.name in payload.name), key=len)


VERDICTS = """
const fs = require("fs");
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = [];
for (const [module, prefix, file] of cases) {
  const pkg = require(module);
  out.push(pkg[prefix].validateJson(fs.readFileSync(file, "utf8")).ok);
}
console.log(JSON.stringify(out));
"""


def test_the_typescript_validator_agrees_with_schemakit_check_on_every_sample_payload(tmp_path: Path) -> None:
    cases: list[tuple[str, str, str]] = []
    expected: list[bool] = []
    sources = []
    for index, sample in enumerate(GOLDEN_SAMPLES):
        schema = schemakit.load(str(SAMPLES / sample))
        name = f"ts{index}"
        package = generate_package(schema, package=name, target="typescript")
        write_package(package, tmp_path / "src")
        sources.append(tmp_path / "src" / name / "index.ts")
        for payload in sorted((SAMPLES / "payloads" / Path(sample).stem).glob("*.json")):
            model = _model_for(schema, payload)
            prefix = _prefix_of(package.file("index.ts").decode(), model)
            cases.append((str(tmp_path / "js" / name / "index.js"), prefix, str(payload)))
            expected.append(check_payload(schema, payload.read_bytes(), model=model).ok)
    compiled = _compile(tmp_path, sources)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    (tmp_path / "verdicts.js").write_text(VERDICTS)
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(tmp_path / "verdicts.js"), str(tmp_path / "cases.json")], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    disagreements = [
        (Path(c[2]).parent.name + "/" + Path(c[2]).name, e, g)
        for c, e, g in zip(cases, expected, got, strict=True)
        if e != g
    ]
    assert len(cases) >= 100
    assert disagreements == []


def _prefix_of(source: str, model: str) -> str:
    """The exported namespace whose `name` is the served model (read from VERSIONS)."""
    versions = source.split("export const VERSIONS = ", 1)[1].split(" as const;", 1)[0]
    module = next(
        part.split(":")[0].strip() for part in versions.split("models: {", 1)[1].split(",") if json.dumps(model) in part
    )
    marker = f"name: VERSIONS.models.{module},"
    before = source[: source.index(marker)]
    return before.rsplit("export const ", 1)[1].split(" ", 1)[0]


CLIENT = """
const pkg = require(process.argv[2]);
const model = pkg.VanillaSimpleModel;
async function main() {
  const client = new pkg.Client({ baseUrl: process.argv[3], token: process.argv[4], backoffMs: 10 });
  const payload = model.toDataframeSplit([{ int_col: 1, float_col: 0.5, string_col: "a" }], { sentiment: 0.7 });
  const result = await client.predictVanillaSimpleModel(payload);
  const routed = await client.predict(model.toDataframeRecords([{ int_col: 2, float_col: 1.5, string_col: "b" }]));
  let invalid = null;
  try { await client.predict({ dataframe_split: { columns: ["int_col"], data: [[1.5, 2, "x"]] } }); } catch (e) { invalid = e.name; }
  let denied = null;
  try {
    await new pkg.Client({ baseUrl: process.argv[3], token: "dapi-wrong-token-xyz", maxRetries: 0 }).predict(payload);
  } catch (e) { denied = [e.name, e.status, String(e.message).includes("dapi-wrong-token-xyz")]; }
  console.log(JSON.stringify({ payload, result, routed, invalid, denied }));
}
main().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_typescript_client_calls_the_emulator(tmp_path: Path) -> None:
    docs = SAMPLES / "docs-example-dataframe.json"
    write_package(
        generate_package(schemakit.load(str(docs)), package="tsclient", target="typescript"), tmp_path / "src"
    )
    compiled = _compile(tmp_path, [tmp_path / "src" / "tsclient" / "index.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (tmp_path / "client.js").write_text(CLIENT)
    token = "dapi-ts-token"
    with MockServer([docs], token=token) as server:
        server.configure("example-endpoint", throttle_queries=1, retry_after=0)
        assert NODE is not None
        run = subprocess.run(
            [
                NODE,
                str(tmp_path / "client.js"),
                str(tmp_path / "js" / "tsclient" / "index.js"),
                f"{server.url}/serving-endpoints/example-endpoint",
                token,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        paths = [r.path for r in server.requests if r.path.endswith("/invocations")]
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["payload"] == {
        "dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 0.5, "a"]]},
        "params": {"sentiment": 0.7},
    }
    assert len(out["result"]["predictions"]) == 1
    assert len(out["routed"]["predictions"]) == 1
    assert out["invalid"] == "InvalidPayloadError"
    assert out["denied"][0] == "EndpointError"
    assert out["denied"][1] in (401, 403)
    assert out["denied"][2] is False
    assert paths[:3] == [
        "/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/invocations",  # 429, retried
        "/serving-endpoints/example-endpoint/served-models/vanilla_simple_model-2/invocations",
        "/serving-endpoints/example-endpoint/invocations",
    ]


SHORT_ROW_TS = """
import { VanillaSimpleModelDataframeSplit } from "./tsshort/index";
export const good: VanillaSimpleModelDataframeSplit = { dataframe_split: { columns: ["int_col", "float_col", "string_col"], data: [[3, 10.4, "abc"]] } };
export const short: VanillaSimpleModelDataframeSplit = { dataframe_split: { data: [[3, 10.4]] } };
export const wrong: VanillaSimpleModelDataframeSplit = { dataframe_split: { data: [[3, "x", "abc"]] } };
"""


def test_tsc_rejects_a_split_payload_with_a_short_row(tmp_path: Path) -> None:
    docs = SAMPLES / "docs-example-dataframe.json"
    write_package(generate_package(schemakit.load(str(docs)), package="tsshort", target="typescript"), tmp_path)
    (tmp_path / "use.ts").write_text(SHORT_ROW_TS)
    result = _compile(tmp_path, [tmp_path / "use.ts"], emit=False)
    lines = sorted({line.split("use.ts(")[1].split(",")[0] for line in result.stdout.splitlines() if "use.ts(" in line})
    assert lines == ["4", "5"], result.stdout


def test_every_sample_compiles_with_tsc_strict(tmp_path: Path) -> None:
    files = []
    for index, sample in enumerate(GOLDEN_SAMPLES):
        write_package(
            generate_package(schemakit.load(str(SAMPLES / sample)), package=f"ts{index}", target="typescript"), tmp_path
        )
        files.append(tmp_path / f"ts{index}" / "index.ts")
    result = _compile(tmp_path, files, emit=False)
    assert result.returncode == 0, result.stdout + result.stderr


STREAM = """
const pkg = require(process.argv[2]);
async function main() {
  const client = new pkg.Client({ baseUrl: process.argv[3], token: process.argv[4] });
  const chunks = [];
  for await (const chunk of client.streamMetaLlamaV318bInstruct({ messages: [{ role: "user", content: "hello" }] })) chunks.push(chunk);
  const whole = await client.predictMetaLlamaV318bInstruct({ messages: [{ role: "user", content: "hello" }] });
  console.log(JSON.stringify({ count: chunks.length, text: pkg.assemble(chunks), whole: whole.choices[0].message.content }));
}
main().catch((e) => { console.error(e); process.exit(1); });
"""


def test_the_typescript_client_streams_chat(tmp_path: Path) -> None:
    chat = SAMPLES / "foundation-model-chat.json"
    write_package(generate_package(schemakit.load(str(chat)), package="tschat", target="typescript"), tmp_path / "src")
    compiled = _compile(tmp_path, [tmp_path / "src" / "tschat" / "index.ts"])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    (tmp_path / "stream.js").write_text(STREAM)
    with MockServer([chat], token="dapi-chat") as server:
        endpoint = schemakit.load(str(chat)).title
        assert NODE is not None
        run = subprocess.run(
            [
                NODE,
                str(tmp_path / "stream.js"),
                str(tmp_path / "js" / "tschat" / "index.js"),
                f"{server.url}/serving-endpoints/{endpoint}",
                "dapi-chat",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["count"] >= 3
    assert out["text"] == out["whole"]
