"""`make demo`: schemakit's main job on the shipped samples, against the local emulator.

It starts `schemakit mock` on the sample documents, then does what a user does
with a live workspace: fetch an endpoint's schema, check it, inspect it, check
payloads, generate a typed client and call the endpoint with it, and diff two
versions of a schema. Every step is the real command line.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOKEN = "dapi-demo-token"  # noqa: S105 - the emulator's own throwaway token


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def run(*args: str, env: dict[str, str] | None = None, expect: tuple[int, ...] = (0,)) -> str:
    shown = " ".join(shlex.quote(a if not a.startswith(str(ROOT)) else os.path.relpath(a, ROOT)) for a in args)
    print(f"$ schemakit {shown}", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "schemakit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    out = (result.stdout + result.stderr).rstrip()
    if out:
        print(out)
    print(f"(exit {result.returncode})", flush=True)
    if result.returncode not in expect:
        raise SystemExit(f"demo: `schemakit {shown}` exited {result.returncode}, expected {expect}")
    return result.stdout


def main() -> None:
    from schemakit.testing import MockServer

    documents = [
        HERE / "docs-example-dataframe.json",
        HERE / "foundation-model-chat.json",
    ]
    with tempfile.TemporaryDirectory(prefix="schemakit-demo-") as tmp, MockServer(
        [str(d) for d in documents], token=TOKEN
    ) as server:
        out = Path(tmp)
        env = {**os.environ, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        env.pop("DATABRICKS_CONFIG_PROFILE", None)
        print(f"emulator listening on {server.url} with {len(documents)} endpoints")

        banner("What endpoints are there, and are they ready?")
        run("endpoint", "status", "example-endpoint", env=env)

        banner("Fetch the endpoint's query schema (waits for READY, checks it, writes it atomically)")
        schema_file = out / "example-endpoint.json"
        run("fetch", "example-endpoint", "-o", str(schema_file), "--wait", "30", env=env)

        banner("Check the document: OpenAPI structure, then the serving rules")
        run("validate", str(schema_file))

        banner("What does the endpoint accept?")
        run("inspect", str(schema_file))
        run("inspect", "endpoint:chat-endpoint", env=env)

        banner("Check payloads before sending them")
        payloads = HERE / "payloads" / "docs-example-dataframe"
        for payload in sorted(payloads.glob("*.json")):
            expected = (0,) if payload.name.startswith("valid") else (1,)
            run("check", str(schema_file), str(payload), expect=expected)

        banner("Generate a typed client package and call the endpoint with it")
        package_dir = out / "client"
        run("codegen", str(schema_file), "-o", str(package_dir), "--package", "example_client")
        call = (
            "import example_client as c, json\n"
            "model = c.VanillaSimpleModel2 if hasattr(c, 'VanillaSimpleModel2') else None\n"
        )
        del call
        subprocess.run(
            [sys.executable, str(HERE / "demo_client.py"), str(package_dir), server.url, TOKEN],
            check=True,
            cwd=ROOT,
        )

        banner("Diff two versions of a schema, as a CI job does")
        run(
            "diff",
            str(HERE / "multi-model-v1.json"),
            str(HERE / "multi-model-v2.json"),
            expect=(0, 1),
        )
    print("\ndemo finished: every step above ran the real schemakit command line")


if __name__ == "__main__":
    main()
