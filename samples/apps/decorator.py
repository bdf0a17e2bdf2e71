"""A function that builds payloads, checked on the way out.

python samples/apps/decorator.py
"""

from pathlib import Path

import schemakit

SCHEMA = Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"


@schemakit.validates_payload(SCHEMA)
def build_request(rows: list[tuple[int, float, str]]) -> dict[str, object]:
    return {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [list(r) for r in rows]}}


print(build_request([(1, 0.5, "a"), (2, 1.5, "b")]))
try:
    build_request([(1, 0.5, "a"), (2**63, 1.5, "b")])  # too big for a long column
except schemakit.InvalidPayloadError as error:
    print(f"refused: {error.report.problems[0].message}")
