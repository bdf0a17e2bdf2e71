"""One line in app code: does this payload fit the served model, and if not, why?

python samples/apps/one_line.py
"""

from pathlib import Path

import schemakit

SCHEMA = Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"

payload = {
    "dataframe_split": {
        "columns": ["int_col", "float_col", "string_col"],
        "data": [[1, 10.4, "abc"], [2, "20.4", "xyz"], [3.5, 1.0, None]],
    },
    "params": {"sentiment": 0.7, "temperature": 0.1},
}

report = schemakit.check_payload(SCHEMA, payload)  # compiled once per file, then cached
print(report.to_text(max_problems=10))

fixed = {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[1, 10.4, "abc"]]}}
print(schemakit.check_payload(SCHEMA, fixed).summary())
