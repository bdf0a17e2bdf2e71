"""JSON values as JSON Schema 2020-12 sees them: types, equality, and how a person names a type.

`1.0` is an integer and equals `1`; `true` is not `1`; integers have any size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "INT32",
    "INT64",
    "HugeInt",
    "expected_name",
    "has_non_finite",
    "is_type",
    "json_key",
    "not_multiple",
]

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)

#: CPython refuses to turn text of more digits than this into an int (sys.int_info).
INT_MAX_STR_DIGITS = 4300
_HUGE = 10**INT_MAX_STR_DIGITS


class HugeInt(int):
    """A JSON integer of more digits than Python converts (4,300): a stand-in of its sign and size.

    Its value is ±10**4300, beyond every int64/int32 range and every bound a document
    writes, so range rules and bounds give the verdict the exact value would; the
    digits are kept (abbreviated) for the report.
    """

    text: str
    digits: int

    @classmethod
    def of(cls, text: str) -> HugeInt:
        """The stand-in for the digits `text` (an optional `-` and digits)."""
        negative = text.startswith("-")
        huge = cls(-_HUGE if negative else _HUGE)
        huge.text = text
        huge.digits = len(text) - negative
        return huge

    def __repr__(self) -> str:
        return f"HugeInt({self.text[:20]}... {self.digits} digits)"

    __str__ = __repr__


def parse_int(text: str) -> int:
    """`int(text)`, or a `HugeInt` where Python refuses the conversion (json.loads' parse_int)."""
    if len(text) > INT_MAX_STR_DIGITS:
        return HugeInt.of(text)
    return int(text)


def json_key(value: Any) -> Any:
    """A hashable key under which JSON-equal values (1 == 1.0, True != 1) are equal."""
    if value is True or value is False:
        return ("b", value)
    if value is None:
        return ("z",)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(json_key(v) for v in value))
    if isinstance(value, dict):
        return ("d", frozenset((k, json_key(v)) for k, v in value.items()))
    return ("o", id(value))


def is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    return False


def expected_name(schema: Mapping[str, Any]) -> str:
    """How a person names the type a schema wants: long, double, string?, array, ..."""
    kind = schema.get("type")
    names = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
    fmt = schema.get("format")
    shown = []
    for name in names:
        if name == "integer":
            shown.append("integer" if fmt == "int32" else "long")
        elif name == "number":
            shown.append("float" if fmt == "float" else "double")
        elif name == "string" and fmt in ("binary", "byte"):
            shown.append("binary (base64 text)")
        elif name == "string" and fmt in ("date-time", "datetime"):
            shown.append("datetime (ISO-8601 text)")
        elif name != "null":
            shown.append(str(name))
    if "null" in names:
        shown.append("null")
    return " or ".join(shown) if shown else "any value"


def has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False


def not_multiple(value: float, divisor: float) -> bool:
    if isinstance(divisor, float):
        quotient = value / divisor
        try:
            return int(quotient) != quotient
        except OverflowError:
            from fractions import Fraction

            return bool(Fraction(value) % Fraction(divisor))
        except ValueError:
            return True
    return bool(value % divisor)
