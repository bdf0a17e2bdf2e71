"""Hypothesis strategies for hostile documents, payloads and server answers.

Names come from a hostile alphabet: Python keywords and builtins, the module and class names of a generated
package, confusables, bidi and control characters, workflow-command prefixes, very long names and names that
collide once sanitised. Numbers include integers past 2^64 and past 4,300 digits, and non-finite floats (which
only YAML can spell). Every URI-bearing keyword points at the canary file or the recording listener.
"""

from __future__ import annotations

import builtins
import keyword
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ..security.hostile import records_branch

#: `make test` runs a fixed, modest number of examples; `make fuzz` sets SCHEMAKIT_FUZZ_EXAMPLES and a random seed.
EXAMPLES = int(os.environ.get("SCHEMAKIT_FUZZ_EXAMPLES", "0") or 0)
FIXED = EXAMPLES == 0


def fuzz_settings(examples: int) -> settings:
    """`examples` under `make test` (derandomized: the same inputs every run); SCHEMAKIT_FUZZ_EXAMPLES under `make fuzz`."""
    from hypothesis import Phase

    return settings(
        max_examples=EXAMPLES or examples,
        derandomize=FIXED,
        # Shrinking re-runs whole commands hundreds of times; `make test` reports the failing input as found.
        phases=[Phase.explicit, Phase.reuse, Phase.generate] if FIXED else list(Phase),
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


def fuzz_timeout(seconds: int) -> pytest.MarkDecorator:
    """A bound on a whole fuzz test under `make test`; none under `make fuzz`, whose length is the point."""
    return pytest.mark.timeout(seconds if FIXED else 0)


GENERATED_MODULES = [
    "client", "errors", "models", "validation", "_runtime", "_auth", "_plans", "_codec", "_version", "README",
    "Client", "AsyncClient", "Row", "Params", "Response", "Field", "BaseModel", "Struct", "TypedDict", "Any",
    "Optional", "Literal", "dataclass", "httpx", "os", "time", "asyncio", "quote", "json", "annotations", "self",
]  # fmt: skip
BUILTINS = [*[n for n in dir(builtins) if not n.startswith("__")][:60], "__init__", "__name__", "__class__"]
CONFUSABLES = ["\u0430", "\u0435", "\u043e", "\u0131", "\u212a", "\uff41", "\u2024", "\u00a0", "\u200b", "\ufeff"]
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\x9b", "\u2028", "\u2029"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"]
INJECTIONS = [
    "\n::error title=PWNED::x", "\r::warning::y", "\x1b]0;PWNED\x07", "\x1b[2J", "%0A::error::x", "<script>", "]]>",
    "| col |", "`code`", '"""', "'''", "\\", "${x}", "{{ x }}", "*/", "//", "#", "--", "../", "%s", "{0}",
]  # fmt: skip
COLLIDING = ["a-b", "a_b", "a.b", "A-B", "a b", "a--b", "_a_b", "a\u2010b", "ab", "AB"]

hostile_pieces = st.sampled_from(
    keyword.kwlist + BUILTINS + GENERATED_MODULES + CONFUSABLES + CONTROLS + BIDI + INJECTIONS + COLLIDING
)
hostile_text = st.one_of(
    st.lists(hostile_pieces | st.text(max_size=4), min_size=1, max_size=5).map("".join),
    hostile_pieces,
    st.text(min_size=1, max_size=12),
    st.integers(200, 1000).map(lambda n: "x" * n),
)
#: A served-model name sits in a URL path: no "/" (the document's path would change meaning), never empty.
model_names = hostile_text.map(lambda s: s.replace("/", "_") or "m").filter(lambda s: s.strip() != "")

huge_ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63) - 1, 2**64, 2**64 + 1, 10**30]),
)
#: Spelled in raw JSON text: Python's json would refuse to write them, and int() refuses to read them.
HUGE_LITERALS = ["9" * 5000, "-" + "1" * 4301, "1e99999", "-1e99999", "1" * 400 + ".5", "0." + "0" * 5000 + "1"]

scalars = st.one_of(st.none(), st.booleans(), huge_ints, st.floats(allow_nan=False, allow_infinity=False), hostile_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=16,
)

URI_KEYWORDS = ["$ref", "$dynamicRef", "$schema", "$id", "$recursiveRef", "$anchor", "$dynamicAnchor", "$vocabulary"]


def uri_values(canary_uri: str, listener_url: str) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            canary_uri,
            listener_url + "/x.json",
            listener_url,
            "//127.0.0.1:1/x",
            "file:///etc/passwd",
            "git:HEAD:README.md",
            "endpoint:x",
            "mlflow:/tmp",
            "#nope",
            "#/nowhere/" + "9" * 5000,
            "",
            {"$ref": canary_uri},
        ]
    )


def column_schemas(canary_uri: str, listener_url: str) -> st.SearchStrategy[dict[str, Any]]:
    """One column's schema: a plain type with hostile annotations, or something carrying a URI or a hostile keyword."""
    types = st.sampled_from(["integer", "number", "string", "boolean", "object", "array", "null", "tensor", "any"])
    plain = st.fixed_dictionaries(
        {"type": types},
        optional={
            "format": st.sampled_from(["int64", "int32", "double", "float", "date-time", "date", "binary", "uuid"])
            | hostile_text,
            "title": hostile_text,
            "description": hostile_text,
            "enum": st.lists(scalars, min_size=1, max_size=4),
            "default": json_values,
            "examples": st.lists(json_values, max_size=2),
            "maximum": huge_ints,
            "minimum": huge_ints,
            "maxLength": huge_ints,
            "maxItems": huge_ints,
            "multipleOf": huge_ints.filter(lambda n: n > 0),
            "pattern": st.sampled_from(["^(a+)+$", "(a|aa)+", "(a)\\1", "[", "\\p{L}", "(?<=a)b", "a{99999}", "^x$"]),
            "items": st.just({"type": "string"}),
            "prefixItems": st.just([{"type": "integer"}]),
            "nullable": st.booleans(),
        },
    )
    with_uri = st.builds(
        lambda k, v, base: {**base, k: v}, st.sampled_from(URI_KEYWORDS), uri_values(canary_uri, listener_url), plain
    )
    return st.one_of(plain, plain, with_uri)


def documents(canary_uri: str, listener_url: str) -> st.SearchStrategy[dict[str, Any]]:
    """A serving document with hostile titles, model names, column names and column schemas (deep and wide too)."""
    columns = st.dictionaries(hostile_text, column_schemas(canary_uri, listener_url), min_size=1, max_size=6)
    models = st.dictionaries(model_names, columns, min_size=1, max_size=3)

    def build(
        title: str, version: str, models: dict[str, dict[str, Any]], depth: int, width: int, extra: Any
    ) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for name, props in models.items():
            props = dict(props)
            if depth:
                nested: dict[str, Any] = {"type": "string"}
                for _ in range(depth):
                    nested = {"type": "object", "properties": {"n": nested}}
                props["deep"] = nested
            if width:
                props.update({f"w{i}": {"type": "integer"} for i in range(width)})
            paths[f"/served-models/{name}/invocations"] = {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"oneOf": [records_branch(props)]}}}},
                    "responses": {
                        "200": {
                            "description": title,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "predictions": {"type": "array", "items": props.get(next(iter(props)), {})}
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            }
        doc = {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "servers": [{"url": f"https://example.invalid/serving-endpoints/{title}"}],
        }
        if extra is not None:
            doc[extra[0]] = extra[1]
        return doc

    return st.builds(
        build,
        hostile_text,
        hostile_text,
        models,
        st.sampled_from([0, 0, 0, 3, 100]),
        st.sampled_from([0, 0, 0, 50, 500]),
        st.none()
        | st.tuples(
            st.sampled_from(["$schema", "$id", "jsonSchemaDialect", "components", "x-evil"]),
            uri_values(canary_uri, listener_url),
        ),
    )


def payloads(columns: list[str]) -> st.SearchStrategy[Any]:
    """A request body for a model with these columns: the right shapes with hostile values, and anything at all."""
    cols = st.sampled_from(columns) | hostile_text
    return st.one_of(
        st.fixed_dictionaries(
            {"dataframe_records": st.lists(st.dictionaries(cols, json_values, max_size=4), max_size=4)}
        ),
        st.fixed_dictionaries(
            {
                "dataframe_split": st.fixed_dictionaries(
                    {
                        "columns": st.lists(cols, max_size=4),
                        "data": st.lists(st.lists(json_values, max_size=4), max_size=3),
                    }
                )
            }
        ),
        st.fixed_dictionaries({"instances": st.lists(json_values, max_size=3)}),
        st.fixed_dictionaries({"inputs": json_values}),
        st.fixed_dictionaries(
            {"messages": st.lists(st.dictionaries(hostile_text, json_values, max_size=3), max_size=3)}
        ),
        st.dictionaries(hostile_text, json_values, max_size=4),
        json_values,
    )


def raw_bodies(columns: list[str]) -> st.SearchStrategy[bytes]:
    """Bytes a client may send: JSON of a hostile payload, JSON with a huge literal spliced in, or garbage."""
    import json

    def splice(payload: Any, literal: str) -> bytes:
        text = json.dumps(payload, ensure_ascii=False)
        return (
            text.replace("0", literal, 1).encode("utf-8", "surrogatepass")
            if "0" in text
            else text.encode("utf-8", "surrogatepass")
        )

    literal_rows = st.sampled_from(HUGE_LITERALS).map(
        lambda lit: (f'{{"dataframe_records": [{{"{columns[0]}": {lit}}}], "params": {{"p": {lit}}}}}').encode()
    )
    return st.one_of(
        payloads(columns).map(lambda p: json.dumps(p, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        st.builds(splice, payloads(columns), st.sampled_from(HUGE_LITERALS)),
        literal_rows,
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"",
                b"{",
                b"[" * 100_000,
                b'{"a":' * 5000,
                b"\xff\xfe",
                b"NaN",
                b'{"dataframe_records": NaN}',
                b'{"a":1,"a":2}',
            ]
        ),
    )
