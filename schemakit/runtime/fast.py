"""The fast accept path: one typed msgspec decode that accepts a subset of what the exact path accepts.

msgspec types mirror the schema (and the serving rules whose `fast` is `decoder`) exactly
where they can; what they cannot express is checked after decoding in one pass over
the decoded values (the `texts` rules: base64 and ISO-8601 columns). Anything the
decoder refuses, or a schema shape it cannot mirror (`NoFastPath`), goes to the exact
path, which gives the verdict and the report: the fast path only ever accepts.
"""

from __future__ import annotations

import gc
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Annotated, Any, Literal

from .jsonsem import INT32, INT64
from .keywords import assertions
from .parse import ARRAY_ROW_END, OBJECT_ROW_END, RowScreen
from .payload_rules import FORMAT_KEYS
from .structure import optional_integer_keys
from .typed import (
    Direct,
    NoFastPath,
    RowScreenOfFormat,
    bad_row_before_the_cut,
    defstruct,
    keys_consistent,
)
from .values import (
    BASE64_TEXT,
    SAFE_DATETIME_TEXT,
    all_texts_pass,
    datetime_column_passes,
    is_base64,
    is_iso8601,
)

try:  # everything works without it, only slower
    import msgspec  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment, unused-ignore]

__all__ = ["SMALL_PAYLOAD_BYTES", "FastPath", "NoFastPath"]

_UNSET: Any = None if msgspec is None else msgspec.UNSET
_DECODE_ERRORS: tuple[type[Exception], ...] = () if msgspec is None else (msgspec.ValidationError, msgspec.DecodeError)


_BOUND_KEYS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


_SCALAR_TYPES = frozenset({"integer", "number", "string", "boolean", "null"})


def _scalar(schema: Any) -> bool:
    """Whether a cell schema admits scalars only (no array or object can hide a row boundary)."""
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    names = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else []
    return bool(names) and all(name in _SCALAR_TYPES for name in names)


def _plain_bound(bound: Any) -> bool:
    """A bound msgspec compares exactly: a finite float, or an int a float holds exactly."""
    if type(bound) is float:
        return math.isfinite(bound)
    return type(bound) is int and abs(bound) <= 2**53


class _FastBuilder:
    """Builds msgspec types that accept a subset of what the schema (and the rules) accept."""

    def __init__(self, rules: frozenset[str]) -> None:
        self.rules = rules
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def cell(self, schema: Any, *, top: bool) -> tuple[Any, str | None]:
        """A msgspec type for one value; the second item names a text check done after decoding."""
        if schema is True or schema == {}:
            return msgspec.Raw, None
        if not isinstance(schema, dict):
            raise NoFastPath
        keys = assertions(schema)
        kind = schema.get("type")
        names = [kind] if isinstance(kind, str) else list(kind) if isinstance(kind, list) else []
        nullable = "null" in names
        non_null = [n for n in names if n != "null"]
        if not names:
            if keys:
                raise NoFastPath
            return msgspec.Raw, None
        if len(non_null) != 1:
            raise NoFastPath
        name = non_null[0]
        fmt = schema.get("format")
        post: str | None = None
        base: Any
        if name in ("integer", "number", "boolean", "string"):
            base, post = self.scalar(schema, name, keys, fmt, top=top)
        elif name == "array":
            base = self.array(schema, keys)
        elif name == "object":
            base = self.object(schema, keys, forbid_unknown=False)
        else:
            raise NoFastPath
        if nullable and name == "integer" and "integer-null" in self.rules:
            nullable = False  # a null in a column is refused, elsewhere the exact path says whether
        return (base | None if nullable else base), post

    def scalar(
        self, schema: Mapping[str, Any], name: str, keys: set[str], fmt: Any, *, top: bool
    ) -> tuple[Any, str | None]:
        post: str | None = None
        base: Any
        allowed = {"type", "enum"} | (_BOUND_KEYS if name in ("integer", "number") else set())
        if keys - allowed:
            raise NoFastPath
        if "enum" in schema:
            if keys & _BOUND_KEYS:
                raise NoFastPath
            base = self.literal(schema["enum"], name)
        elif name == "integer":
            base = self.integer(schema, fmt)
        elif name == "number":
            base = self.number(schema)
        elif name == "boolean":
            base = bool
        else:
            base = str
            if fmt in ("binary", "byte") and "binary-base64" in self.rules:
                post = "binary"
            elif fmt in ("date-time", "datetime") and "datetime-iso8601" in self.rules:
                post = "datetime"
            if post is not None and not top:
                raise NoFastPath
        return base, post

    def array(self, schema: Mapping[str, Any], keys: set[str]) -> Any:
        if keys - {"type", "items", "minItems", "maxItems"}:
            raise NoFastPath
        item: Any = msgspec.Raw
        if "items" in schema:
            item, item_post = self.cell(schema["items"], top=False)
            if item_post:
                raise NoFastPath
        min_items, max_items = schema.get("minItems"), schema.get("maxItems")
        if min_items is not None or max_items is not None:
            if not all(b is None or type(b) is int for b in (min_items, max_items)):
                raise NoFastPath
            return Annotated[list[item], msgspec.Meta(min_length=min_items, max_length=max_items)]
        return list[item]

    def integer(self, schema: Mapping[str, Any], fmt: Any) -> Any:
        """int within int32/int64 (the `int-range` rule) and the schema's bounds; ints compare exactly."""
        lows: list[int] = [-(2**63)]  # nothing below decodes as an int anyway
        highs: list[int] = [2**64 - 1]
        if "int-range" in self.rules:
            low, high = INT32 if fmt == "int32" else INT64
            lows.append(low)
            highs.append(high)
        for key in _BOUND_KEYS & set(schema):
            bound = schema[key]
            if not _plain_bound(bound) and type(bound) is not int:
                raise NoFastPath
            if key == "minimum":
                lows.append(math.ceil(bound))
            elif key == "exclusiveMinimum":
                lows.append(math.floor(bound) + 1)
            elif key == "maximum":
                highs.append(math.floor(bound))
            else:
                highs.append(math.ceil(bound) - 1)
        low, high = max(lows), min(highs)
        if low > high:
            raise NoFastPath  # nothing passes: the exact path says why
        if len(lows) == 1 and len(highs) == 1:
            return int
        return Annotated[int, msgspec.Meta(ge=low, le=high)]

    def number(self, schema: Mapping[str, Any]) -> Any:
        """A finite float within the schema's bounds.

        A JSON integer becomes a float before msgspec compares it, which may round it onto
        the bound: so every bound is compared strictly here, and a value that equals one
        goes to the exact path. Strictly inside is inside for the exact value too.
        """
        lows = [schema[k] for k in ("minimum", "exclusiveMinimum") if k in schema]
        highs = [schema[k] for k in ("maximum", "exclusiveMaximum") if k in schema]
        if not all(_plain_bound(b) for b in (*lows, *highs)):
            raise NoFastPath
        meta: dict[str, Any] = {"gt": max(lows)} if lows else {"ge": -sys.float_info.max}
        meta.update({"lt": min(highs)} if highs else {"le": sys.float_info.max})
        return Annotated[float, msgspec.Meta(**meta)]

    def literal(self, values: list[Any], name: str) -> Any:
        values = [v for v in values if v is not None]  # null passes only through the type
        if values and name == "string" and all(isinstance(v, str) for v in values):
            return Literal[tuple(values)]
        if values and name == "integer" and all(type(v) is int for v in values):
            # msgspec refuses Literal ints beyond int64 (NotImplementedError): such values are
            # left out, so a payload holding one is judged by the exact path.
            values = [v for v in values if INT64[0] <= v <= INT64[1]]
            if values:
                return Literal[tuple(values)]
        raise NoFastPath

    def object(self, schema: Mapping[str, Any], keys: set[str], *, forbid_unknown: bool) -> Any:
        if keys - {"type", "properties", "required", "additionalProperties"}:
            raise NoFastPath
        properties = schema.get("properties")
        additional = schema.get("additionalProperties", True)
        if not properties:
            if schema.get("required"):
                raise NoFastPath
            if additional is True:
                return dict[str, msgspec.Raw]
            if isinstance(additional, dict):
                value, post = self.cell(additional, top=False)
                if post:
                    raise NoFastPath
                return dict[str, value]  # type: ignore[valid-type]
            raise NoFastPath
        if additional is False:
            forbid_unknown = True
        elif additional is not True:
            raise NoFastPath
        struct, posts = self.struct(properties, schema.get("required") or [], forbid_unknown, top=False)
        if posts:
            raise NoFastPath
        return struct

    def struct(
        self, properties: Mapping[str, Any], required: Iterable[str], forbid_unknown: bool, *, top: bool
    ) -> tuple[Any, list[tuple[str, str]]]:
        required_set = set(required)
        if required_set - set(properties):
            raise NoFastPath
        fields: list[Any] = []
        rename: dict[str, str] = {}
        posts: list[tuple[str, str]] = []
        for index, (prop, sub) in enumerate(properties.items()):
            attr = f"f{index}"
            rename[attr] = prop
            value, post = self.cell(sub, top=top)
            if post:
                posts.append((attr, post))
            if prop in required_set:
                fields.append((attr, value))
            else:
                fields.append((attr, value | msgspec.UnsetType, msgspec.UNSET))
        fields.sort(key=lambda f: len(f) == 3)  # required fields first, as Python requires
        struct = defstruct(self.name("Row"), fields, rename=rename, forbid_unknown_fields=forbid_unknown)
        return struct, posts


#: Rows are decoded in chunks of about this many bytes; a payload this small is decoded whole.
_CHUNK_BYTES = SMALL_PAYLOAD_BYTES = 1 << 20


class _FastFormat:
    """The typed decoder's view of one keyed format, and the checks left after decoding."""

    def __init__(self, fmt: Mapping[str, Any], builder: _FastBuilder, rules: frozenset[str]) -> None:
        self.key: str = fmt["key"]
        branch = fmt["schema"]
        if not isinstance(branch, dict) or assertions(branch) - {"type", "properties", "required"}:
            raise NoFastPath
        if branch.get("type", "object") != "object":
            raise NoFastPath
        properties = branch.get("properties") or {}
        self.required_others = [r for r in branch.get("required") or [] if r != self.key]
        if set(self.required_others) - set(properties):
            raise NoFastPath
        value_schema = properties[self.key]
        self.posts: list[tuple[str, str]] = []
        #: Row fields of optional integer columns: present in every row or in none (`integer-null`).
        self.key_attrs: list[str] = []
        self.column_names: list[str] | None = None
        #: The name of each row field `f{i}` (split columns by position, record keys by property).
        self.row_names: list[str] = []
        self.split_required: list[str] = []
        self.rows: Any = None  # decoder of a list of rows, for formats decoded in chunks
        #: The format's value decoded whole, rows included: a small payload takes one decode.
        self.small_type: Any = None
        #: `small_type` without the split's optional index (None: not a split, or no such variant).
        self.bare_type: Any = None
        self.row_end: re.Pattern[bytes] | None = None
        self.min_rows: int | None = None
        self.max_rows: int | None = None
        #: Rows whose values are all scalars: a chunk cut anywhere but at a row's end does not
        #: parse (DecodeError), so a chunk that parses but does not validate holds a bad row.
        self.flat_rows = False
        self.columns_named = self.key == "dataframe_split" and "split-columns" in rules
        if self.key == "dataframe_split":
            self.type = self._split(value_schema, fmt, builder, rules)
        elif self.key in ("dataframe_records", "instances"):
            self.type = self._rows(value_schema, builder, rules)
        else:
            self.type, _post = builder.cell(value_schema, top=False)
            self.small_type = self.type
        self.others: dict[str, Any] = {}
        self.param_posts: list[tuple[str, str]] = []  # params are checked as params, not as columns
        for prop, sub in properties.items():
            if prop == self.key:
                continue
            if prop == "params" and isinstance(sub, dict) and isinstance(sub.get("properties"), dict):
                if assertions(sub) - {"type", "properties", "required"} or sub.get("type", "object") != "object":
                    raise NoFastPath
                struct, self.param_posts = builder.struct(
                    sub["properties"], sub.get("required") or [], "unknown-param" in rules, top=True
                )
                self.others[prop] = msgspec.json.Decoder(struct)
            else:
                self.others[prop] = msgspec.json.Decoder(builder.cell(sub, top=False)[0])
        self.rows_needed = "empty-input" in rules
        # One row (the usual request): its text cells joined and matched by one regex, in
        # place of a regex pass per column; a row it refuses gets the column checks.
        self.row_texts: Any = None
        self.row_pattern: re.Pattern[str] | None = None
        if self.posts:
            getter = attrgetter(*(attr for attr, _post in self.posts))
            self.row_texts = getter if len(self.posts) > 1 else lambda row: (getter(row),)
            pieces = [BASE64_TEXT if post == "binary" else SAFE_DATETIME_TEXT for _attr, post in self.posts]
            self.row_pattern = re.compile("\n".join(pieces) + r"\Z", re.ASCII)
        self.small_check = _small_check(self)
        self.small_check_direct = _small_check(self, direct=True)

    def _split(self, schema: Any, fmt: Mapping[str, Any], builder: _FastBuilder, rules: frozenset[str]) -> Any:
        properties, additional, prefix = _split_shape(schema, fmt)
        self.split_required = list(schema.get("required") or [])
        self.column_names = [c["name"] for c in fmt.get("columns") or []]
        self.row_names = self.column_names
        fields = []
        for index, sub in enumerate(prefix):
            value, post = builder.cell(sub, top=True)
            if post:
                self.posts.append((f"f{index}", post))
            fields.append((f"f{index}", value))
        row_type = defstruct(builder.name("SplitRow"), fields, array_like=True, forbid_unknown_fields=True)
        self.rows = msgspec.json.Decoder(list[row_type])  # type: ignore[valid-type]
        self.row_end = ARRAY_ROW_END
        self.flat_rows = all(_scalar(sub) for sub in prefix)
        # With additionalProperties: false a key the schema does not name is invalid, so
        # the struct leaves it out and forbids unknown fields.
        split_fields: list[Any] = []
        if "columns" in properties or additional is True:
            split_fields.append(("columns", list[str] | msgspec.UnsetType, msgspec.UNSET))
        split_fields.append(("data", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
        if "index" in properties:
            index_type, _post = builder.cell(properties["index"], top=False)
            split_fields.append(("index", index_type | msgspec.UnsetType, msgspec.UNSET))
        elif additional is True:
            split_fields.append(("index", msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
        forbid = "split-keys" in rules or additional is False
        small_fields = _small_split_fields(self, split_fields, row_type)
        self.small_type = defstruct(builder.name("SmallSplit"), small_fields, forbid_unknown_fields=forbid)
        unnamed = self.columns_named and all(f[0] != "columns" for f in small_fields)  # never accepted
        if forbid and "index" not in self.split_required and not unnamed:
            # The usual split has no index: without one, the types say everything the index check would.
            bare = [f for f in small_fields if f[0] != "index"]
            self.bare_type = defstruct(builder.name("BareSplit"), bare, forbid_unknown_fields=True)
        return defstruct(builder.name("Split"), split_fields, forbid_unknown_fields=forbid)

    def _rows(self, schema: Any, builder: _FastBuilder, rules: frozenset[str]) -> Any:
        if not isinstance(schema, dict) or assertions(schema) - {"type", "items", "minItems", "maxItems"}:
            raise NoFastPath
        if schema.get("type", "array") != "array":
            raise NoFastPath
        self.min_rows, self.max_rows = schema.get("minItems"), schema.get("maxItems")
        if not all(b is None or type(b) is int for b in (self.min_rows, self.max_rows)):
            raise NoFastPath
        row = schema.get("items")
        if isinstance(row, dict) and isinstance(row.get("properties"), dict):
            if assertions(row) - {"type", "properties", "required", "additionalProperties"}:
                raise NoFastPath
            if row.get("type", "object") != "object":
                raise NoFastPath
            additional = row.get("additionalProperties", True)
            if additional is not True and additional is not False:
                raise NoFastPath
            forbid = "unknown-column" in rules or additional is False
            struct, self.posts = builder.struct(row["properties"], row.get("required") or [], forbid, top=True)
            self.row_names = list(row["properties"])
            if "integer-null" in rules:
                keys = set(optional_integer_keys(row))
                self.key_attrs = [f"f{i}" for i, name in enumerate(self.row_names) if name in keys]
            self.rows = msgspec.json.Decoder(list[struct])  # type: ignore[valid-type]
            self.small_type = list[struct]  # type: ignore[valid-type]
            self.row_end = OBJECT_ROW_END
            self.flat_rows = all(_scalar(sub) for sub in row["properties"].values())
        elif self.key == "instances" and row is not None:
            # Tensor rows (arrays of any depth): a cut inside a nested array leaves the
            # chunk's brackets unbalanced, so it does not decode and the rows go in one piece.
            item, _post = builder.cell(row, top=False)
            self.rows = msgspec.json.Decoder(list[item])  # type: ignore[valid-type]
            self.small_type = list[item]  # type: ignore[valid-type]
            self.row_end = ARRAY_ROW_END if isinstance(row, dict) and row.get("type") == "array" else None
        else:
            raise NoFastPath
        return msgspec.Raw

    def accepts(self, value: Any, others: Mapping[str, Any], *, decoded: bool = False) -> bool:
        """The checks the types could not express; False sends the payload down the exact path.

        `decoded`: the rows were decoded with the value (`small_type`), not left raw.
        """
        if (self.required_others or others) and not self._others_accepted(others):
            return False
        if self.key == "dataframe_split":
            return self._split_accepted(value, decoded=decoded)
        if self.rows is not None:
            count = self._decoded_rows(value) if decoded else self._rows_accepted(value)
            if count is None or (count == 0 and self.rows_needed):
                return False
            if self.min_rows is not None and count < self.min_rows:
                return False
            return self.max_rows is None or count <= self.max_rows
        # An empty list of inputs is refused by the server: the exact path reports it.
        return not (self.rows_needed and isinstance(value, list) and not value)

    def _others_accepted(self, others: Mapping[str, Any]) -> bool:
        """The top-level keys besides the format's (params, say)."""
        for name in self.required_others:
            if name not in others:
                return False
        for prop, raw in others.items():
            decoder = self.others.get(prop)
            if decoder is None:
                return False
            try:
                other = decoder.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError):
                return False
            if prop == "params" and self.param_posts:
                for attr, post in self.param_posts:
                    text = getattr(other, attr)
                    if type(text) is str and not (is_base64(text) if post == "binary" else is_iso8601(text)):
                        return False
        return True

    def _split_accepted(self, value: Any, *, decoded: bool) -> bool:
        for name in self.split_required:
            if getattr(value, name, msgspec.UNSET) is msgspec.UNSET:
                return False
        if value.data is msgspec.UNSET:
            return False
        index = getattr(value, "index", msgspec.UNSET)
        if isinstance(index, msgspec.Raw):
            try:
                index = msgspec.json.decode(index)
            except msgspec.DecodeError:
                return False
        if index is not msgspec.UNSET and not isinstance(index, list):
            return False
        columns = getattr(value, "columns", msgspec.UNSET)
        if columns is msgspec.UNSET:
            if self.columns_named:
                return False
        elif columns != self.column_names:
            return False
        count = self._decoded_rows(value.data) if decoded else self._rows_accepted(value.data)
        return count is not None and (index is msgspec.UNSET or len(index) == count)

    def _rows_accepted(self, raw: Any) -> int | None:
        """The number of rows when all are accepted, else None.

        Rows are decoded a chunk at a time, so memory holds one chunk of rows, not all of
        them. A chunk ends at a row's closing bracket followed by a comma. If that bracket
        was inside a string or closed a nested value, the chunk does not decode; then the
        rows are decoded in one piece instead, which is exact, only larger. With flat rows a
        chunk that does not validate holds a bad row: the exact path takes over at once,
        instead of decoding the whole list again first.
        """
        view = memoryview(raw)
        size = len(view)
        if size <= _CHUNK_BYTES or self.row_end is None:
            return self._rows_pass(view)
        forms: dict[str, str] = {}  # a datetime column's form, kept from chunk to chunk
        count = 0
        start = 1
        while True:
            found = self.row_end.search(view, min(start + _CHUNK_BYTES, size))
            end = found.start() + 1 if found is not None else size - 1
            piece = b"[" + view[start:end] + b"]"
            try:
                rows = self.rows.decode(piece)
            except msgspec.ValidationError as exc:
                return None if self.flat_rows or bad_row_before_the_cut(piece, exc) else self._rows_pass(view)
            except msgspec.DecodeError:
                return self._rows_pass(view)
            if not self._texts_pass(rows, forms):
                return None
            count += len(rows)
            del rows
            if found is None:
                return count
            start = found.end() - 1

    def row_screen(self) -> RowScreen | None:
        """A screen for the exact path's raw rows (`parse.RawRows`), judging them as the row schema does."""
        return None if self.rows is None else RowScreenOfFormat(self)

    def _decoded_rows(self, rows: list[Any]) -> int | None:
        return len(rows) if not (self.posts or self.key_attrs) or self._whole_texts_pass(rows) else None

    def _rows_pass(self, view: memoryview) -> int | None:
        try:
            rows = self.rows.decode(view)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return len(rows) if self._whole_texts_pass(rows) else None

    def _whole_texts_pass(self, rows: list[Any]) -> bool:
        """`_texts_pass` for all the rows of a payload (no form carried over from other chunks)."""
        if self.key_attrs and not keys_consistent(rows, self.key_attrs, {}):
            return False
        if len(rows) == 1 and self.row_pattern is not None:
            try:
                joined = "\n".join(self.row_texts(rows[0]))
            except TypeError:  # a null cell: the column checks skip it
                pass
            else:
                if self.row_pattern.match(joined) is not None:
                    return True
        return self._texts_pass(rows, {})

    def _texts_pass(self, rows: list[Any], forms: dict[str, str]) -> bool:
        if self.key_attrs and not keys_consistent(rows, self.key_attrs, forms):
            return False
        for attr, post in self.posts:
            texts = list(map(attrgetter(attr), rows))
            if post == "datetime":
                if not datetime_column_passes([t for t in texts if type(t) is str], forms, attr):
                    return False
            elif not all_texts_pass(texts, post):
                return False
        return True


def _split_shape(schema: Any, fmt: Mapping[str, Any]) -> tuple[Mapping[str, Any], Any, list[Any]]:
    """The split schema's properties, additionalProperties and row prefixItems; NoFastPath unless the types can say all."""
    if not isinstance(schema, dict):
        raise NoFastPath
    if assertions(schema) - {"type", "properties", "required", "additionalProperties"}:
        raise NoFastPath
    if schema.get("type", "object") != "object":
        raise NoFastPath
    additional = schema.get("additionalProperties", True)
    if additional is not True and additional is not False:
        raise NoFastPath
    properties = schema.get("properties") or {}
    if set(properties) - {"columns", "data", "index"}:
        raise NoFastPath
    if set(schema.get("required") or []) - set(properties):
        raise NoFastPath
    data = properties.get("data")
    if not isinstance(data, dict) or assertions(data) - {"type", "items"} or data.get("type", "array") != "array":
        raise NoFastPath
    row = data.get("items")
    if not isinstance(row, dict) or assertions(row) - {"type", "prefixItems"}:
        raise NoFastPath
    if row.get("type", "array") != "array":
        raise NoFastPath
    prefix = row.get("prefixItems")
    if not isinstance(prefix, list) or not prefix:
        raise NoFastPath
    columns = fmt.get("columns") or []
    if len(columns) != len(prefix) or not fmt.get("named_columns", True):
        raise NoFastPath
    return properties, additional, prefix


def _small_check(fast: _FastFormat, *, direct: bool = False) -> Any:
    """`accepts` for a value decoded whole with no other top-level keys, with only the checks this format needs.

    A one-row payload's typed decode takes well under a microsecond, so the generic
    checks (a dozen attribute reads and calls) would double its cost. `direct`: the
    check takes the request decoded by `typed.Direct` (the value is its `v`).
    """
    if fast.required_others:
        return lambda _value: False
    unset = msgspec.UNSET
    posts, needed = bool(fast.posts or fast.key_attrs), fast.rows_needed
    of = attrgetter("v") if direct else None
    if fast.key == "dataframe_split":
        # Columns, required keys and the index's type are in the decoder's types (`_small_split_fields`).
        texts = fast._whole_texts_pass
        data_of = attrgetter("v.data" if direct else "data")
        if fast.columns_named and "columns" not in fast.small_type.__struct_fields__:
            return lambda _value: False
        if "index" not in fast.small_type.__struct_fields__:
            return (lambda value: texts(data_of(value))) if posts else (lambda _value: True)

        def split(value: Any) -> bool:
            if of is not None:
                value = of(value)
            index = value.index
            if index is not unset and (type(index) is not list or len(index) != len(value.data)):
                return False
            return not posts or texts(value.data)

        return split
    if fast.rows is not None:
        low, high, texts = fast.min_rows, fast.max_rows, fast._whole_texts_pass

        def rows(value: list[Any]) -> bool:
            if of is not None:
                value = of(value)
            count = len(value)
            if (count == 0 and needed) or (low is not None and count < low) or (high is not None and count > high):
                return False
            return not posts or texts(value)

        return rows
    if of is not None:
        return lambda request: not (needed and isinstance(request.v, list) and not request.v)
    return lambda value: not (needed and isinstance(value, list) and not value)


def _small_split_fields(fast: _FastFormat, split_fields: list[Any], row_type: Any) -> list[Any]:
    """The split object decoded whole, with what `accepts` checks in Python moved into the types.

    `data` is required (a split without it is not accepted anyway); the columns list
    must be exactly the document's columns (a tuple of literals), required where the
    rules require it; an index of any type the schema allows passes the serving rules
    only as a list, so it is decoded as one. What the types refuse goes to the exact path.
    """
    names = fast.column_names or []
    required: list[Any] = [("data", list[row_type])]
    optional: list[Any] = []
    for field in split_fields:
        name = field[0]
        if name == "columns":
            exact = tuple.__class_getitem__(tuple(Literal[n] for n in names))
            if fast.columns_named or "columns" in fast.split_required:
                required.append(("columns", exact))
            else:
                optional.append(("columns", exact | msgspec.UnsetType, msgspec.UNSET))
        elif name == "index":
            kind = list[msgspec.Raw] if field[1] == msgspec.Raw | msgspec.UnsetType else field[1]
            if "index" in fast.split_required:
                required.append(("index", kind))
            else:
                optional.append(("index", kind | msgspec.UnsetType, msgspec.UNSET))
    return required + optional


#: A request's first key (bytes and text), which names its format in the usual request.
_FIRST_KEY: dict[type, Any] = {
    bytes: re.compile(rb'\s*\{\s*"([a-z_]{1,20})"'),
    str: re.compile(r'\s*\{\s*"([a-z_]{1,20})"'),
}


class FastPath:
    def __init__(self, formats: Sequence[Mapping[str, Any]], rules: frozenset[str]) -> None:
        builder = _FastBuilder(rules)
        self.formats: dict[str, _FastFormat] = {}
        for fmt in formats:
            try:
                self.formats[fmt["key"]] = _FastFormat(fmt, builder, rules)
            except (NoFastPath, TypeError, ValueError, NotImplementedError):
                continue  # NotImplementedError: a type msgspec has not implemented; the exact path judges
        if not self.formats:
            raise NoFastPath
        other_props: set[str] = set()
        for fmt in formats:
            schema = fmt.get("schema")
            if isinstance(schema, dict) and isinstance(schema.get("properties"), dict):
                other_props.update(p for p in schema["properties"] if p not in FORMAT_KEYS)
        self.attrs = {key: f"k{index}" for index, key in enumerate(FORMAT_KEYS)}
        self.other_attrs = {prop: f"o{index}" for index, prop in enumerate(sorted(other_props))}
        self.decoder = msgspec.json.Decoder(self._request("Request", small=False))
        self.small_decoder = msgspec.json.Decoder(self._request("SmallRequest", small=True))
        self._keyed = [(key, attr, self.formats.get(key)) for key, attr in self.attrs.items()]
        self._other_items = list(self.other_attrs.items())
        # The one-request path reads every field in one call and looks up the format by position.
        self._small_fields = attrgetter(*self.attrs.values(), *self.other_attrs.values())
        self._small_unset = len(self.attrs) + len(self.other_attrs) - 1
        self._small_formats = [(key, self.formats.get(key)) for key in self.attrs]
        #: By a payload's first key (bytes and text): a decoder of that format alone.
        self._direct: dict[bytes | str, Direct] = {}
        for key, fast in self.formats.items():
            try:
                self._direct[key] = self._direct[key.encode()] = Direct(key, fast)
            except (NoFastPath, TypeError, ValueError, NotImplementedError):
                continue  # a key msgspec cannot name: that format takes the general decoder
        #: Tried first, inline, by the engine (None: no direct decoder): the format the last accepted
        #: request took, as most of an endpoint's traffic takes one format.
        first = next(iter(self._direct.values()), None)
        self.preferred: Direct | None = None if first is None else first.bare or first

    def set_accepted(self, reports: Mapping[str, Any]) -> None:
        """What each direct decoder answers when it accepts: its format's clean report."""
        for direct in self._direct.values():
            for one in (direct, direct.bare):
                if one is not None:
                    one.accepted = reports[one.key]

    def _request(self, name: str, *, small: bool) -> Any:
        """The request object: every format key optional, the formats' values typed (rows too when `small`)."""
        fields: list[Any] = []
        rename: dict[str, str] = {}
        for key, attr in self.attrs.items():
            fast = self.formats.get(key)
            value_type = msgspec.Raw if fast is None else fast.small_type if small else fast.type
            fields.append((attr, value_type | msgspec.UnsetType, msgspec.UNSET))
            rename[attr] = key
        for prop, attr in self.other_attrs.items():
            fields.append((attr, msgspec.Raw | msgspec.UnsetType, msgspec.UNSET))
            rename[attr] = prop
        return defstruct(name, fields, rename=rename, forbid_unknown_fields=True)

    def accepts(self, data: bytes | str) -> str | None:
        """The format key when the payload is certainly valid with no warnings, else None."""
        if len(data) <= _CHUNK_BYTES:
            # The usual request names its format first: one decode of that format's type (the
            # request's other keys would make it fail), then the checks the types leave.
            first_key = _FIRST_KEY.get(type(data))
            found = first_key.match(data) if first_key is not None else None
            direct = self._direct.get(found[1]) if found is not None else None
            if direct is not None:
                try:
                    request = direct.decode(data)
                except _DECODE_ERRORS:
                    pass  # another key too, or invalid: the general decode below says which
                else:
                    if direct.check is not None and not direct.check(request):
                        return None
                    # The engine tries this format first from now on: without an index when this
                    # request had none, so that neither kind of split traffic is decoded twice.
                    bare = direct.bare is not None and getattr(request.v, "index", _UNSET) is _UNSET
                    self.preferred = direct.bare if bare else direct
                    return direct.key
            # One typed decode of the whole payload, rows included, then the format's remaining
            # checks (inline: for a one-row payload each call costs a tenth of the decode).
            try:
                request = self.small_decoder.decode(data)
            except _DECODE_ERRORS:
                return None
            fields = self._small_fields(request)
            if fields.count(_UNSET) != self._small_unset:  # other keys too, or no format key, or two
                return self._accepts_other(request, decoded=True)
            for (key, fast), value in zip(self._small_formats, fields, strict=False):
                if value is not _UNSET:
                    return key if fast is not None and fast.small_check(value) else None
            return None  # only another key: the exact path says a format key is missing
        collect = len(data) > 1 << 20 and gc.isenabled()
        if collect:
            gc.disable()  # millions of fresh containers would trigger pointless collections
        try:
            return self._accepts(data)
        finally:
            if collect:
                gc.enable()

    def _accepts(self, data: bytes | str) -> str | None:
        try:
            request = self.decoder.decode(data)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        return self._accepts_other(request, decoded=False)

    def _accepts_other(self, request: Any, *, decoded: bool) -> str | None:
        unset = msgspec.UNSET
        found: tuple[str, Any, _FastFormat | None] | None = None
        for key, attr, fast in self._keyed:
            value = getattr(request, attr)
            if value is not unset:
                if found is not None:
                    return None  # two formats: the exact path says which keys clash
                found = (key, value, fast)
        if found is None:
            return None
        key, value, known = found
        return None if known is None else self._accepts_found(request, key, value, known, decoded=decoded)

    def _accepts_found(self, request: Any, key: str, value: Any, fast: _FastFormat, *, decoded: bool) -> str | None:
        unset = msgspec.UNSET
        others: dict[str, Any] = {}
        for prop, attr in self._other_items:
            other = getattr(request, attr)
            if other is not unset:
                others[prop] = other
        return key if fast.accepts(value, others, decoded=decoded) else None
