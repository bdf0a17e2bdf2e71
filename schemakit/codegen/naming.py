"""Readable, valid Python identifiers from whatever names a document uses.

Column, field and model names in serving documents are free text: `sepal length (cm)`,
`my-model-2`, `1st`, `class`, `prix_€`, or something hostile. Generated code needs
identifiers that a person can read and type, that never collide with one another, and
that never shadow a name the generated class body itself uses. The JSON keys are kept
elsewhere, verbatim: only the Python side is renamed here.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence

from schemakit.core.model import split_version

__all__ = ["class_name", "field_name", "model_modules", "module_name", "served_model_base", "unique_names"]

# Names a generated class body or module uses for types and helpers: a field with one of
# these names would shadow the type in its own annotations (pydantic then fails at import).
_SHADOWED = frozenset(
    {
        "Any",
        "BaseModel",
        "ConfigDict",
        "Field",
        "Literal",
        "NotRequired",
        "Struct",
        "TypedDict",
        "UNSET",
        "UnsetType",
        "bool",
        "bytes",
        "datetime",
        "dict",
        "field",
        "float",
        "int",
        "list",
        "str",
        "tuple",
    }
)

# Attributes pydantic's BaseModel defines: a field with one of these names shadows them.
_MODEL_ATTRIBUTES = frozenset(
    {
        "construct",
        "copy",
        "dict",
        "fields",
        "from_orm",
        "json",
        "model_computed_fields",
        "model_config",
        "model_construct",
        "model_copy",
        "model_dump",
        "model_dump_json",
        "model_extra",
        "model_fields",
        "model_fields_set",
        "model_json_schema",
        "model_parametrized_name",
        "model_post_init",
        "model_rebuild",
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "parse_file",
        "parse_obj",
        "parse_raw",
        "schema",
        "schema_json",
        "update_forward_refs",
        "validate",
    }
)

_PROTECTED_PREFIXES = ("model_validate", "model_dump")

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^0-9A-Za-z]+")


_NOT_UNICODE_WORD = re.compile(r"[\W_]+")


def _words(text: str) -> list[str]:
    """Split free text into words: accents dropped, camelCase split, symbols as separators.

    Letters with no ASCII form (`数据`) are kept as they are, NFKC-normalized as Python
    normalizes identifiers, so a name in another script stays readable.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if ord(ch) < 128)
    ascii_text = _CAMEL_BOUNDARY.sub(" ", ascii_text)
    words = [word for word in _NOT_WORD.split(ascii_text) if word]
    if any(ch.isalpha() for ch in "".join(words)):
        return words
    native = unicodedata.normalize("NFKC", text)
    native_words = [word for word in _NOT_UNICODE_WORD.split(native) if word]
    if native_words and "_".join(native_words).isidentifier():
        return native_words
    return words


def field_name(text: str, *, fallback: str = "col") -> str:
    """A snake_case identifier for a column, field or parameter: `sepal length (cm)` -> `sepal_length_cm`."""
    words = [w.lower() for w in _words(text)]
    name = "_".join(words) or fallback
    if name[0].isdigit() or not name[0].isidentifier():
        # A leading underscore would make pydantic treat the field as private.
        name = f"{fallback}_{name}"
    if name.startswith(_PROTECTED_PREFIXES):
        # pydantic warns about fields in its protected namespaces, whatever follows.
        name = f"{fallback}_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _SHADOWED or name in _MODEL_ATTRIBUTES:
        name = f"{name}_"
    return name


def class_name(text: str, *, fallback: str = "Model") -> str:
    """A PascalCase identifier for a class: `vanilla_simple_model-2` -> `VanillaSimpleModel2`."""
    words = _words(text)
    name = "".join(w[:1].upper() + w[1:] for w in words) or fallback
    if name[0].isdigit() or not name[0].isidentifier():
        name = f"{fallback}{name}"
    if keyword.iskeyword(name) or name in _SHADOWED:
        name = f"{name}_"
    return name


#: Module names become file names (at most 255 bytes on most file systems, with `.py` and temporary
#: prefixes around them); longer ones keep a readable start and a digest of the whole name.
MAX_MODULE_NAME = 64


def module_name(text: str, *, fallback: str = "endpoint") -> str:
    """A lowercase module or package name: `example-endpoint` -> `example_endpoint`."""
    name = field_name(text, fallback=fallback)
    if len(name) <= MAX_MODULE_NAME:
        return name
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    return f"{name[: MAX_MODULE_NAME - 9].rstrip('_')}_{digest}"


def unique_names(
    names: Iterable[str], *, style: str = "field", fallback: str | None = None, taken: Iterable[str] = ()
) -> dict[str, str]:
    """Map each distinct name to an identifier, numbering the ones that collide after cleaning.

    The first name keeps the clean identifier; later ones get `_2`, `_3`, ... (in
    document order), so adding a column at the end never renames an earlier one.
    """
    clean = field_name if style == "field" else class_name
    used = set(taken)
    result: dict[str, str] = {}
    for name in names:
        if name in result:
            continue
        base = clean(name) if fallback is None else clean(name, fallback=fallback)
        candidate = base
        counter = 2
        while candidate in used:
            candidate = f"{base}_{counter}"
            counter += 1
        used.add(candidate)
        result[name] = candidate
    return result


def _reserved_modules(extra: frozenset[str]) -> frozenset[str]:
    # The standard library and the builtins: a module named `httpx` or `os` beside `client.py` would
    # shadow what it imports. `extra` is every name the generated modules define or use, derived from
    # the templates by `schemakit.codegen.reserved`.
    return extra | frozenset(sys.stdlib_module_names) | frozenset(dir(builtins))


def served_model_base(name: str) -> tuple[str, str | None]:
    """(base name, version) of a served-model name, split as `schemakit diff` pairs versions."""
    return split_version(name)


def model_modules(names: Sequence[str], *, reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    """Stable module names for served models: by base name (so `m-2` and `m-3` share one), never
    shadowing a name the package uses (`reserved`); models that share a base keep their full names."""
    bases = [served_model_base(n)[0] for n in names]
    stems = [b if bases.count(b) == 1 else n for n, b in zip(names, bases, strict=True)]
    reserved = _reserved_modules(reserved)
    used: set[str] = set()
    result: dict[str, str] = {}
    for name, stem in zip(names, stems, strict=True):
        if name in result:
            continue
        # field_name's own escape (`json` -> `json_`) is replaced by one rule for modules: `<name>_model`.
        base = module_name(stem, fallback="model").strip("_") or "model"
        if base in reserved or keyword.iskeyword(base) or keyword.issoftkeyword(base):
            base = f"{base}_model"
        candidate, counter = base, 2
        while candidate in used or candidate in reserved:
            candidate = f"{base}_{counter}"
            counter += 1
        used.add(candidate)
        result[name] = candidate
    return result
