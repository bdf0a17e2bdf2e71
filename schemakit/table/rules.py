"""The rules `check-table` applies: `check`'s payload and schema rules, plus two only a table can break.

The codes and severities are `check`'s own (`schemakit.runtime.payload_rules`), so a row
`check-table` flags is a row `check` would flag in a request, under the same code.
"""

from __future__ import annotations

from collections.abc import Mapping

from schemakit.runtime.payload_rules import PAYLOAD_RULES, SCHEMA_RULES, severities
from schemakit.runtime.rules import Rule, rule_index

__all__ = ["INTEGER_NULL_MESSAGE", "TABLE_RULES", "severity"]

INTEGER_NULL_MESSAGE = "MLflow cannot hold a null in an integer column (pandas makes it float64 NaN)"

# `check`'s own rule once the runtime has it (the hardening branch adds it to PAYLOAD_RULES under
# this code); until then the table rules carry it, so both report a null integer the same way.
_INTEGER_NULL: Rule = next(
    (rule for rule in PAYLOAD_RULES if rule.code == "integer-null"),
    Rule(
        "integer-null",
        "payload",
        "error",
        "an integer column holds no nulls (MLflow's scoring server refuses them, nullable or not: pandas "
        "makes an integer column with nulls float64 NaN)",
        "every null row of the column counts",
    ),
)

_ONLY_TABLES: tuple[Rule, ...] = (
    Rule(
        "column-type",
        "payload",
        "error",
        "the table column's type can hold the schema's values (text cannot go in a long column, nor a "
        "timestamp in a string column)",
        "every non-null row of the column counts",
    ),
    Rule("utf8", "payload", "error", "text is valid UTF-8 (JSON cannot carry other bytes)"),
)
_LOCAL: tuple[Rule, ...] = () if any(r.code == "integer-null" for r in PAYLOAD_RULES) else (_INTEGER_NULL,)

_USED = (
    "duplicate-column",
    "required-column",
    "unknown-column",
    "empty-input",
    "type",
    "int-range",
    "integer-null",
    "float-for-integer",
    "non-finite",
    "binary-base64",
    "datetime-iso8601",
    "enum",
    "required",
    "minimum",
    "maximum",
    "exclusive-minimum",
    "exclusive-maximum",
    "min-length",
    "max-length",
    "pattern",
    "min-items",
    "max-items",
)

_INDEX = rule_index((*PAYLOAD_RULES, *SCHEMA_RULES, *_LOCAL, *_ONLY_TABLES))

#: Every rule `check-table` reports, in the order of the docs table.
TABLE_RULES: tuple[Rule, ...] = (*(_INDEX[code] for code in _USED), *_ONLY_TABLES)

_PAYLOAD_SEVERITY: Mapping[str, str] = severities(r.code for r in PAYLOAD_RULES)


def severity(code: str) -> str:
    """The default severity of a rule, as `check` gives it."""
    return _PAYLOAD_SEVERITY.get(code) or _INDEX[code].severity
