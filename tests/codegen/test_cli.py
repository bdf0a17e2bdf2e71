"""`schemakit codegen` on the command line: writing, --check and errors."""

from __future__ import annotations

from pathlib import Path

from .conftest import SAMPLES

DOCS = str(SAMPLES / "docs-example-dataframe.json")


def _files(package: Path) -> dict[str, bytes]:
    return {p.relative_to(package).as_posix(): p.read_bytes() for p in sorted(package.rglob("*")) if p.is_file()}


def test_codegen_writes_then_check_is_clean_then_detects_changes(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    first = run_cli("codegen", DOCS, "-o", str(out), "--model-type", "msgspec")
    assert first.returncode == 0, first.stderr
    assert "wrote" in first.stdout
    package = out / "example_endpoint_client"
    before = _files(package)
    check = run_cli("codegen", DOCS, "-o", str(out), "--model-type", "msgspec", "--check")
    assert check.returncode == 0
    assert "up to date" in check.stdout
    other = run_cli("codegen", DOCS, "-o", str(out), "--model-type", "pydantic", "--check")
    assert other.returncode == 1
    assert "models.py" in other.stdout
    assert "would change" in other.stdout
    assert _files(package) == before  # --check wrote nothing
    again = run_cli("codegen", DOCS, "-o", str(out), "--model-type", "msgspec")
    assert again.returncode == 0
    assert _files(package) == before


def test_codegen_refuses_bad_input(run_cli, tmp_path: Path) -> None:
    bad_package = run_cli("codegen", DOCS, "-o", str(tmp_path), "--package", "not-valid")
    assert bad_package.returncode == 2
    assert "not a valid Python package name" in bad_package.stderr
    missing = run_cli("codegen", str(tmp_path / "nope.json"), "-o", str(tmp_path))
    assert missing.returncode == 2
    assert "schemakit: error:" in missing.stderr
    (tmp_path / "mine" / "example_endpoint_client").mkdir(parents=True)
    (tmp_path / "mine" / "example_endpoint_client" / "keep.py").write_text("x = 1\n")
    refused = run_cli("codegen", DOCS, "-o", str(tmp_path / "mine"))
    assert refused.returncode == 2
    assert "refusing to replace" in refused.stderr
    assert (tmp_path / "mine" / "example_endpoint_client" / "keep.py").exists()


def test_check_flags_a_stale_runtime(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert run_cli("codegen", DOCS, "-o", str(out)).returncode == 0
    init = out / "example_endpoint_client" / "_runtime" / "__init__.py"
    init.write_text(init.read_text() + "\n# an older copy\n")
    check = run_cli("codegen", DOCS, "-o", str(out), "--check", "--ignore-version")
    assert check.returncode == 1
    assert "_runtime/__init__.py" in check.stdout
