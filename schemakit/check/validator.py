"""Payload validation for apps and the command line, built on the resolved model.

`compile_validator(model)` builds a validator once per served model and reuses it;
`compile_endpoint_validator(schema)` checks a payload against every served model.
The work is done by `schemakit.runtime` (its `engine`), which generated clients carry
as `_runtime/`, so they give the same verdicts and messages. For the rare plan that
needs a keyword the runtime does not evaluate (`unevaluatedProperties`, the array form
of `items`), the library gives the engine a jsonschema fallback whose registry refuses
to retrieve anything: a document can never make a check read a file or open a connection.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from schemakit._exceptions import InvalidPayloadError, SchemakitError
from schemakit.core.limits import request_limit
from schemakit.core.model import EndpointSchema, ServedModel
from schemakit.core.policy import require_usable
from schemakit.runtime.engine import Engine
from schemakit.runtime.keywords import unsupported_keywords
from schemakit.runtime.payload_rules import SCHEMA_CODES, SERVING_RULES
from schemakit.runtime.report import PayloadReport, Problem

__all__ = [
    "SCHEMA_CODES",
    "SERVING_RULES",
    "EndpointReport",
    "EndpointValidator",
    "PayloadReport",
    "PayloadValidator",
    "Problem",
    "check_payload",
    "compile_endpoint_validator",
    "compile_validator",
    "jsonschema_fallback",
    "make_plan",
    "validates_payload",
]

PLAN_VERSION = 1

F = TypeVar("F", bound=Callable[..., Any])


def make_plan(model: ServedModel) -> dict[str, Any]:
    """The JSON-able plan an `Engine` is built from: the normalized schemas plus what the rules need."""
    formats = []
    for fmt in model.formats:
        formats.append(
            {
                "kind": fmt.kind.value,
                "key": fmt.key,
                "schema": fmt.schema,
                "named_columns": fmt.named_columns,
                "columns": [
                    {
                        "name": column.name,
                        "position": column.position,
                        "required": column.required,
                        "type": column.type.display(),
                    }
                    for column in fmt.columns
                ],
                "params": [
                    {
                        "name": param.name,
                        "type": param.type.display(),
                        **({"default": param.default} if param.has_default else {}),
                    }
                    for param in fmt.params
                ],
            }
        )
    return {
        "plan_version": PLAN_VERSION,
        "model": model.name,
        "path": model.path,
        "request_schema": model.request_schema,
        "max_request_bytes": request_limit(model),
        "formats": formats,
        "unsupported": unsupported_keywords(model.request_schema),
    }


class _RefusedRetrieval(LookupError):
    """A schema named a URI; schemakit never fetches or reads one."""


def _refuse(uri: str) -> Any:
    raise _RefusedRetrieval(
        f"the schema refers to {uri!r}; schemakit never fetches or reads a reference (inline it in the document)"
    )


def _code(keyword: str) -> str:
    """A JSON Schema keyword as a problem code: `additionalProperties` -> `additional-properties`."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", keyword).lower().lstrip("$")


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from referencing import Registry

    return Registry(retrieve=_refuse)  # type: ignore[call-arg]


def jsonschema_fallback(schema: Any, instance: Any) -> Iterator[tuple[str, Sequence[Any], Any, str]]:
    """The JSON Schema verdict from jsonschema, for keywords the runtime does not evaluate; never retrieves a URI."""
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    validator = Draft202012Validator(schema, registry=_registry())
    try:
        for error in validator.iter_errors(instance):
            message = error.message.split("\n")[0][:200]
            yield _code(str(error.validator)), list(error.absolute_path), error.instance, message
    except Unresolvable as exc:
        yield "unresolved-ref", [], None, _one_line(f"a reference cannot be followed: {exc}")
    except Exception as exc:  # a hostile schema must give a finding, never a crash
        yield "unresolved-ref", [], None, _one_line(f"the schema cannot be evaluated: {type(exc).__name__}: {exc}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


class PayloadValidator:
    """Checks payloads for one served model; compile once, call for every request.

    `strict` makes `float-for-integer` (a whole-number float such as 1.0 for an integer)
    an error instead of a warning; `max_request_bytes` overrides the endpoint's size limit
    (16 MB, 4 MB for foundation-model, external-model and agent endpoints).
    """

    def __init__(
        self,
        model: ServedModel,
        *,
        disable: Iterable[str] = (),
        max_errors: int = 100,
        strict: bool = False,
        max_request_bytes: int | None = None,
        force: bool = False,
    ) -> None:
        require_usable(model, force=force)  # the library's policy, however the validator is built
        self.model = model
        self.plan = make_plan(model)
        try:
            self._engine = Engine(
                self.plan,
                disable=disable,
                max_errors=max_errors,
                strict=strict,
                max_request_bytes=max_request_bytes,
                fallback=jsonschema_fallback,
            )
        except ValueError as exc:
            raise SchemakitError(str(exc)) from None
        # The engine's own method: a one-row payload is checked in about a microsecond, and a
        # call through this class would add a fifth to that.
        self.validate_json = self._engine.validate_json  # type: ignore[method-assign]

    @property
    def max_request_bytes(self) -> int | None:
        """The request size limit checked by `payload-too-large` (None when the rule is off)."""
        return self._engine.max_request_bytes if "payload-too-large" in self._engine.rules else None

    @property
    def has_fast_path(self) -> bool:
        """Whether `validate_json` can accept valid payloads with one typed decode (msgspec)."""
        return self._engine.has_fast_path

    def validate(self, payload: object) -> PayloadReport:
        """Validate a parsed payload; the report lists every problem up to the limit."""
        return self._engine.validate(payload)

    def validate_json(self, data: bytes | str) -> PayloadReport:
        """Validate bytes or text from the wire; text that is not JSON gives an `invalid-json` report."""
        return self._engine.validate_json(data)

    def check(self, payload: object) -> PayloadReport:
        """Validate and raise `InvalidPayloadError` (carrying the report) when the payload is invalid."""
        report = self.validate(payload)
        if not report.ok:
            raise InvalidPayloadError(report.to_text(), report)
        return report

    def __repr__(self) -> str:
        return f"PayloadValidator(model={self.model.name!r})"


@dataclass(frozen=True)
class EndpointReport:
    """A payload checked against every served model of an endpoint."""

    reports: Mapping[str, PayloadReport]
    #: The served models that accept the payload, in document order.
    accepted_by: tuple[str, ...]
    #: Traffic may go to any served model, so a payload is fine only when all of them accept it.
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", len(self.accepted_by) == len(self.reports))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "accepted_by": list(self.accepted_by),
            "models": [report.to_json() for report in self.reports.values()],
        }

    def to_text(self, max_problems: int = 5) -> str:
        return "\n".join(report.to_text(max_problems) for report in self.reports.values())


class EndpointValidator:
    """Checks payloads against every served model of an endpoint."""

    def __init__(
        self,
        schema: EndpointSchema,
        *,
        disable: Iterable[str] = (),
        max_errors: int = 100,
        strict: bool = False,
        max_request_bytes: int | None = None,
        force: bool = False,
    ) -> None:
        require_usable(schema, force=force)  # the library's policy, however the validator is built
        self.schema = schema
        disabled = tuple(disable)
        self.validators = {
            model.name: PayloadValidator(
                model,
                disable=disabled,
                max_errors=max_errors,
                strict=strict,
                max_request_bytes=max_request_bytes,
                force=force,
            )
            for model in schema.models
        }

    def validator(self, model: str) -> PayloadValidator:
        """The validator of one served model; UnknownModelError names the ones there are."""
        if model not in self.validators:
            self.schema.model(model)  # raises with the list of names
        return self.validators[model]

    def _combine(self, reports: dict[str, PayloadReport]) -> EndpointReport:
        accepted = tuple(name for name, report in reports.items() if report.ok)
        return EndpointReport(reports, accepted)

    def validate(self, payload: object) -> EndpointReport:
        return self._combine({name: v.validate(payload) for name, v in self.validators.items()})

    def validate_json(self, data: bytes | str) -> EndpointReport:
        return self._combine({name: v.validate_json(data) for name, v in self.validators.items()})


def compile_validator(
    model: ServedModel,
    *,
    disable: Iterable[str] = (),
    max_errors: int = 100,
    strict: bool = False,
    max_request_bytes: int | None = None,
    force: bool = False,
) -> PayloadValidator:
    """A validator for one served model. `disable` switches serving rules off by code.

    A model from a document with errors is refused (`InvalidDocumentError`) unless `force=True`.
    """
    return PayloadValidator(
        model, disable=disable, max_errors=max_errors, strict=strict, max_request_bytes=max_request_bytes, force=force
    )


def compile_endpoint_validator(
    schema: EndpointSchema,
    *,
    disable: Iterable[str] = (),
    max_errors: int = 100,
    strict: bool = False,
    max_request_bytes: int | None = None,
    force: bool = False,
) -> EndpointValidator:
    """A validator that checks a payload against every served model of `schema` (refused as `compile_validator`)."""
    return EndpointValidator(
        schema, disable=disable, max_errors=max_errors, strict=strict, max_request_bytes=max_request_bytes, force=force
    )


def _pick_model(schema: EndpointSchema, model: str | None) -> ServedModel:
    if model is not None:
        return schema.model(model)
    if len(schema.models) != 1:
        names = ", ".join(m.name for m in schema.models) or "none"
        raise SchemakitError(f"{schema.title or 'the endpoint'} serves several models ({names}); pass model=NAME")
    return schema.models[0]


@functools.lru_cache(maxsize=32)
def _validator_for_file(source: str, mtime_ns: int, model: str | None, strict: bool) -> PayloadValidator:
    from schemakit.core.resolve import load

    return compile_validator(_pick_model(load(source), model), strict=strict)


# Resolved schemas hold mappings and are not hashable: cache by identity, keeping the object alive.
_BY_IDENTITY: dict[tuple[int, str | None, bool], tuple[object, PayloadValidator]] = {}


def _cached(owner: EndpointSchema | ServedModel, model: str | None, strict: bool) -> PayloadValidator:
    key = (id(owner), model, strict)
    hit = _BY_IDENTITY.get(key)
    if hit is not None and hit[0] is owner:
        return hit[1]
    served = owner if isinstance(owner, ServedModel) else _pick_model(owner, model)
    validator = compile_validator(served, strict=strict)
    if len(_BY_IDENTITY) >= 32:
        _BY_IDENTITY.pop(next(iter(_BY_IDENTITY)))
    _BY_IDENTITY[key] = (owner, validator)
    return validator


def _resolve_validator(
    schema_or_source: EndpointSchema | ServedModel | PayloadValidator | str | os.PathLike[str],
    model: str | None,
    strict: bool = False,
) -> PayloadValidator:
    if isinstance(schema_or_source, PayloadValidator):
        return schema_or_source
    if isinstance(schema_or_source, (ServedModel, EndpointSchema)):
        return _cached(schema_or_source, model, strict)
    source = os.fspath(schema_or_source)
    path = Path(source)
    # Compiled validators are cached per file and modification time, so a one-line call stays cheap.
    mtime = path.stat().st_mtime_ns if path.is_file() else -1
    if mtime < 0:
        from schemakit.core.resolve import load

        return compile_validator(_pick_model(load(source), model), strict=strict)
    return _validator_for_file(source, mtime, model, strict)


def check_payload(
    schema_or_source: EndpointSchema | ServedModel | PayloadValidator | str | os.PathLike[str],
    payload: object,
    *,
    model: str | None = None,
    strict: bool = False,
) -> PayloadReport:
    """One line for app code: `check_payload("schema.json", payload).ok`.

    `schema_or_source` is a resolved schema, a served model, a validator, or a
    source to load (file, URL, ...); validators are compiled once and cached.
    `payload` is a parsed object, or `bytes`/`str` JSON straight from the wire.
    `strict` makes warnings that have a strict severity (`float-for-integer`) errors;
    a validator passed in keeps its own setting.
    """
    validator = _resolve_validator(schema_or_source, model, strict)
    if isinstance(payload, (bytes, bytearray, str)):
        return validator.validate_json(bytes(payload) if isinstance(payload, bytearray) else payload)
    return validator.validate(payload)


def validates_payload(
    schema_or_source: EndpointSchema | ServedModel | PayloadValidator | str | os.PathLike[str],
    *,
    model: str | None = None,
) -> Callable[[F], F]:
    """Decorate a function that builds a payload: its result is checked before it is returned.

    An invalid payload raises `InvalidPayloadError`, whose `report` holds every problem.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            payload = func(*args, **kwargs)
            report = check_payload(schema_or_source, payload, model=model)
            if not report.ok:
                raise InvalidPayloadError(f"{func.__qualname__} built an invalid payload: {report.to_text()}", report)
            return payload

        return wrapper  # type: ignore[return-value]

    return decorate
