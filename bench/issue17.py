"""The rows of issue 17's table, each against its anchors, measured interleaved in one process.

    python bench/payloads.py            # the whole benchmark, ending with these rows
    python bench/payloads.py --quick    # smaller payloads, under two minutes

Ratios are of best-of-N times (N = --repeat), the functions measured in turn so a
load spike on the shared machine hits all of them alike.
"""

from __future__ import annotations

import asyncio
import datetime
import random
import time
from collections.abc import Callable
from typing import Any

import msgspec
import orjson

import schemakit
from schemakit import compile_validator

WIDE_MSGSPEC = {
    "long": int,
    "integer": int,
    "double": float,
    "float": float,
    "string": str,
    "boolean": bool,
    "datetime": datetime.datetime,
    "binary": bytes,
    "nullable_double": float | None,
    "array": list[float],
}


def best(funcs: dict[str, Callable[[], Any]], number: int, repeat: int) -> dict[str, float]:
    """Seconds per call of each function: the best of `repeat` rounds of `number` calls, rounds interleaved."""
    times = dict.fromkeys(funcs, float("inf"))
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            for _ in range(number):
                func()
            times[name] = min(times[name], (time.perf_counter() - start) / number)
    return times


def _typed_split(types: list[Any]) -> Any:
    split = msgspec.defstruct("Split", [("columns", list[str]), ("data", list[tuple[tuple(types)]])])  # type: ignore[misc]
    return msgspec.json.Decoder(msgspec.defstruct("Request", [("dataframe_split", split)]))


def _pydantic_split(types: list[Any]) -> Any:
    import pydantic

    class Split(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True, val_json_bytes="base64")
        columns: list[str]
        data: list[tuple[tuple(types)]]  # type: ignore[misc]

    class Request(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True)
        dataframe_split: Split

    return Request


def _floor() -> Callable[[bytes], Any] | None:
    try:
        import simdjson
    except ImportError:
        return None
    parser = simdjson.Parser()
    return lambda data: parser.parse(data)


def _row(label: str, sk: float, anchors: dict[str, float], unit: str = "us") -> None:
    scale = 1e6 if unit == "us" else 1.0
    parts = [f"{label:<34}{sk * scale:>9.2f}{unit}"]
    parts += [f"{sk / t:>6.2f}x {name} ({t * scale:.2f}{unit})" for name, t in anchors.items()]
    print("  ".join(parts))


def small_rows(docs: Any, wide: Any, wide_kinds: list[str], wide_value: Callable[..., Any], repeat: int) -> None:
    floor = _floor()
    print("\none request, validate_json(bytes)   schemakit   ratio to each anchor (time per call)")
    rng = random.Random(7)
    wide_columns = [f"c{i:02d}_{k}" for i, k in enumerate(wide_kinds)]
    cases: list[tuple[str, Any, list[str], list[Any], list[Any]]] = [
        ("one row, docs example", docs, ["int_col", "float_col", "string_col"], [3, 10.4, "abc"], [int, float, str]),
        (
            "one row, 50 columns",
            wide,
            wide_columns,
            [wide_value(k, rng) for k in wide_kinds],
            [WIDE_MSGSPEC[k] for k in wide_kinds],
        ),
    ]
    for label, model, columns, row, types in cases:
        _one_request(label, model, columns, row, types, floor, repeat)


def _one_request(
    label: str, model: Any, columns: list[str], row: list[Any], types: list[Any], floor: Any, repeat: int
) -> None:
    import jsonschema
    import jsonschema_rs

    payload = {"dataframe_split": {"columns": columns, "data": [row]}}
    data = orjson.dumps(payload)
    validator = compile_validator(model)
    assert validator.validate_json(data).ok
    typed = _typed_split(types)
    pyd = _pydantic_split(types)
    rs = jsonschema_rs.validator_for(dict(model.request_schema))
    js = jsonschema.Draft202012Validator(model.request_schema)
    funcs: dict[str, Callable[[], Any]] = {
        "schemakit": lambda: validator.validate_json(data),
        "msgspec typed": lambda: typed.decode(data),
        "orjson + jsonschema-rs": lambda: rs.is_valid(orjson.loads(data)),
        "pydantic strict": lambda: pyd.model_validate_json(data),
        "orjson + jsonschema": lambda: js.is_valid(orjson.loads(data)),
    }
    if floor is not None:
        funcs["simdjson parse"] = lambda: floor(data)
    times = best(funcs, 2000 if "50" in label else 10000, repeat)
    sk = times.pop("schemakit")
    _row(label, sk, times)
    obj = orjson.loads(data)
    times = best({"schemakit": lambda: validator.validate(obj), "rs": lambda: rs.is_valid(obj)}, 5000, repeat)
    _row(f"  validate(obj), {label[9:]}", times["schemakit"], {"jsonschema-rs is_valid(obj)": times["rs"]})


def wide_rows(wide: Any, wide_kinds: list[str], wide_value: Callable[..., Any], rows: int, repeat: int) -> None:
    print(f"\n{rows:,} rows x 50 mixed columns (split)      schemakit   ratio to each anchor")
    rng = random.Random(7)
    columns = [f"c{i:02d}_{k}" for i, k in enumerate(wide_kinds)]
    template = [[wide_value(k, rng) for k in wide_kinds] for _ in range(1000)]
    data_rows = [template[i % 1000] for i in range(rows)]
    valid = orjson.dumps({"dataframe_split": {"columns": columns, "data": data_rows}})
    bad_row = rows * 3 // 4
    data_rows[bad_row] = list(data_rows[bad_row])
    data_rows[bad_row][1] = "not a number"
    bad = orjson.dumps({"dataframe_split": {"columns": columns, "data": data_rows}})
    del data_rows, template
    validator = compile_validator(wide, disable=("payload-too-large",))
    typed = _typed_split([WIDE_MSGSPEC[k] for k in wide_kinds])
    floor = _floor()
    funcs: dict[str, Callable[[], Any]] = {
        "schemakit": lambda: validator.validate_json(valid),
        "msgspec typed (datetime/bytes)": lambda: typed.decode(valid),
    }
    if floor is not None:
        funcs["simdjson parse"] = lambda: floor(valid)
    times = best(funcs, 1, repeat)
    assert validator.validate_json(valid).ok
    sk = times.pop("schemakit")
    _row(f"valid ({len(valid) / 1e6:.0f} MB)", sk, times, unit="s")
    report = validator.validate_json(bad)
    first = report.problems[0]
    assert (first.row, first.column) == (bad_row, columns[1]), report.to_text()
    times = best({"schemakit": lambda: validator.validate_json(bad), "msgspec": lambda: typed.decode(valid)}, 1, repeat)
    _row(
        f"one bad row (row {first.row:,}, {first.column})",
        times["schemakit"],
        {"msgspec typed, valid bytes": times["msgspec"]},
        unit="s",
    )


def middleware_rows(docs: Any, repeat: int) -> None:
    from schemakit.check.middleware import PayloadValidationASGIMiddleware

    print("\nASGI middleware, one-row request   added time   ratio to a minimal msgspec gate (added time)")
    typed = _typed_split([int, float, str])

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def gate(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        body = message.get("body", b"")
        try:
            typed.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": str(exc).encode()})
            return

        async def replay() -> Any:
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    checked = PayloadValidationASGIMiddleware(app, compile_validator(docs))
    scope = {"type": "http", "method": "POST", "path": "/invocations", "headers": []}
    good = orjson.dumps(
        {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [[3, 1.5, "a"]]}}
    )
    bad = orjson.dumps(
        {"dataframe_split": {"columns": ["int_col", "float_col", "string_col"], "data": [["x", 1.5, 2]]}}
    )
    number = 5000

    def runner(handler: Any, body: bytes) -> Callable[[], None]:
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive() -> Any:
            return message

        async def send(_message: Any) -> None:
            return None

        async def many() -> None:
            for _ in range(number):
                await handler(scope, receive, send)

        return lambda: asyncio.run(many())

    for label, body in (("valid request", good), ("invalid request (400)", bad)):
        times = best(
            {"bare": runner(app, body), "schemakit": runner(checked, body), "gate": runner(gate, body)}, 1, repeat
        )
        added_sk = (times["schemakit"] - times["bare"]) / number
        added_gate = (times["gate"] - times["bare"]) / number
        _row(label, added_sk, {"msgspec gate": added_gate})


def issue_table(docs_path: str, wide_document: dict[str, Any], kinds: list[str], value: Any, *, quick: bool) -> None:
    docs = schemakit.load(docs_path).models[0]
    wide = schemakit.resolve(wide_document, source="wide").models[0]
    repeat = 3 if quick else 5
    print("\n== issue 17: each row against its anchors, best of", repeat, "interleaved rounds ==")
    small_rows(docs, wide, kinds, value, repeat)
    middleware_rows(docs, repeat)
    wide_rows(wide, kinds, value, 20_000 if quick else 200_000, 2 if quick else 3)
