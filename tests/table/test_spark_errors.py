"""Spark's exceptions in one line (no session needed): the reason, without py4j's call, the job's prefix
or the JVM's stack."""

from __future__ import annotations

import pytest

from schemakit.spark.engine import first_line

JOB = (
    "An error occurred while calling o53.collectToPython.\n"
    ": org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 3.0 failed 1 times, "
    "most recent failure: Lost task 0.0 in stage 3.0 (TID 3) (192.0.2.2 executor driver): "
    "org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] Encountered error while reading file f. SQLSTATE: KD001\n"
    "\tat org.apache.spark.sql.errors.QueryExecutionErrors$.cannotReadFilesError(QueryExecutionErrors.scala:1)\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (JOB, "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file f. SQLSTATE: KD001"),
        (
            "[PATH_NOT_FOUND] Path does not exist: file:/x. SQLSTATE: 42K03\n\nJVM stacktrace:\norg.apache.spark.sql.AnalysisException",
            "[PATH_NOT_FOUND] Path does not exist: file:/x. SQLSTATE: 42K03",
        ),
        (
            "An error occurred while calling o9.load.\n: java.lang.ClassNotFoundException: delta.DefaultSource\n\tat java",
            "ClassNotFoundException: delta.DefaultSource",
        ),
        ("", "Exception"),
        ('Traceback (most recent call last):\n  File "x"', "Exception"),
    ],
)
def test_first_line(text: str, expected: str) -> None:
    assert first_line(Exception(text)) == expected


def test_first_line_is_bounded() -> None:
    line = first_line(Exception("x" * 10_000 + "\nmore"))
    assert len(line) == 300
    assert "\n" not in line
