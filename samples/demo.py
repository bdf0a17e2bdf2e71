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


def run(
    *args: str, env: dict[str, str] | None = None, expect: tuple[int, ...] = (0,), last_line_only: bool = False
) -> str:
    shown = " ".join(shlex.quote(a) for a in args)
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
        print(out.splitlines()[-1] if last_line_only else out)
    print(f"(exit {result.returncode})", flush=True)
    if result.returncode not in expect:
        raise SystemExit(f"demo: `schemakit {shown}` exited {result.returncode}, expected {expect}")
    return result.stdout


def main() -> None:
    from schemakit import MockServer  # schemakit.testing is the pytest flavour; the demo needs no pytest

    documents = ["samples/docs-example-dataframe.json", "samples/foundation-model-chat.json", "samples/multi-model.json"]
    with tempfile.TemporaryDirectory(prefix="schemakit-demo-") as tmp, MockServer(documents, token=TOKEN) as server:
        out = Path(tmp)
        env = {**os.environ, "DATABRICKS_HOST": server.url, "DATABRICKS_TOKEN": TOKEN}
        env.pop("DATABRICKS_CONFIG_PROFILE", None)
        print(f"emulator listening on {server.url}, serving {', '.join(documents)}")

        banner("What endpoints are there, and are they ready?")
        run("endpoint", "list", env=env)
        run("endpoint", "status", "example-endpoint", env=env)

        banner("Fetch the endpoint's query schema (waits for READY, checks it, writes it atomically)")
        schema_file = out / "example-endpoint.json"
        run("fetch", "example-endpoint", "-o", str(schema_file), "--wait", "30", env=env)

        banner("Check the document: OpenAPI structure, then the serving rules")
        run("validate", str(schema_file))

        banner("What does the endpoint accept?")
        run("inspect", str(schema_file))
        run("inspect", "endpoint:ads-ranking", env=env)

        banner("Every shipped sample document, checked (last line of `schemakit validate` each)")
        for document in sorted(HERE.glob("*.json")) + sorted(HERE.glob("*.yaml")):
            if document.name != "endpoint-details.json":
                run("validate", f"samples/{document.name}", last_line_only=True)

        banner("Check payloads before sending them")
        payloads = "samples/payloads/docs-example-dataframe"
        for name, expected in (
            ("valid-split.json", 0),
            ("valid-unknown-param-warning.json", 0),
            ("invalid-float-in-long-column.json", 1),
            ("invalid-split-missing-required-column.json", 1),
            ("invalid-records-null-in-required-column.json", 1),
        ):
            run("check", str(schema_file), f"{payloads}/{name}", expect=(expected,))

        banner("Generate a typed client package and call the endpoint with it")
        package_dir = out / "client"
        run("codegen", str(schema_file), "-o", str(package_dir), "--package", "example_client")
        subprocess.run(
            [sys.executable, "samples/demo_client.py", str(package_dir), server.url, TOKEN],
            check=True,
            cwd=ROOT,
        )

        banner("Diff two versions of a schema, as a CI job does")
        run(
            "diff",
            "samples/docs-example-dataframe.json",
            "samples/docs-example-dataframe-v3.json",
            expect=(0, 1),
        )
    print("\ndemo finished: every step above ran the real schemakit command line")


if __name__ == "__main__":
    main()
