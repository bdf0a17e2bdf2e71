"""Typed decoders around one fast format: the direct request decoders and the exact path's row screens.

Both accept only what the exact path accepts; `fast` builds them (see `_FastFormat`).
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any

from .values import all_texts_pass, datetime_column_passes, is_base64, is_iso8601

try:  # everything works without it, only slower
    import msgspec  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # pragma: no cover - exercised in generated packages without msgspec
    msgspec = None  # type: ignore[assignment, unused-ignore]

__all__ = ["Direct", "NoFastPath", "RowScreenOfFormat", "bad_row_before_the_cut", "defstruct", "keys_consistent"]


class NoFastPath(Exception):
    """A schema shape the typed decoder cannot mirror exactly; the exact path handles it."""


def defstruct(name: str, fields: list[Any], **options: Any) -> Any:
    # msgspec refuses renamed fields holding '"', '\' or control characters (and names
    # that are not identifiers): such a document is validated by the exact path alone.
    try:
        return msgspec.defstruct(name, fields, gc=False, **options)
    except (TypeError, ValueError):
        raise NoFastPath from None


def keys_consistent(rows: list[Any], attrs: list[str], seen: dict[str, str]) -> bool:
    """Whether each optional integer field is set in every row or in none (`integer-null`).

    `seen` carries what earlier chunks of the same rows had (`"keys:f3"` -> set / unset).
    """
    unset = msgspec.UNSET
    for attr in attrs:
        values = list(map(attrgetter(attr), rows))
        missing = values.count(unset)
        if 0 < missing < len(values):
            return False
        if values:
            state = "unset" if missing else "set"
            if seen.setdefault(f"keys:{attr}", state) != state:
                return False
    return True


_ERROR_ROW = re.compile(r"at `\$\[(\d+)\]")


def bad_row_before_the_cut(piece: bytes, error: Exception) -> bool:
    """Whether a chunk of rows that did not validate has a bad row before its last one.

    A cut inside a row (between two nested arrays) can only spoil the chunk's last row,
    so a problem in an earlier one is certain: the payload is not accepted, and the
    rows need not be decoded again in one piece to find out.
    """
    found = _ERROR_ROW.search(str(error))
    if found is None:
        return False
    try:
        count = len(msgspec.json.decode(piece, type=list[msgspec.Raw]))
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
    return int(found[1]) < count - 1


class RowScreenOfFormat:
    """`parse.RowScreen` from a format's typed row decoder and its text checks."""

    __slots__ = ("_attr_of", "_decode", "_keys", "_posts", "forms")

    def __init__(self, fast: Any) -> None:
        self._decode = fast.rows.decode
        self._posts = fast.posts
        self._keys = fast.key_attrs
        #: Each datetime field's form, from the first chunk whose texts all passed.
        self.forms: dict[str, str] = {}
        names = fast.row_names
        self._attr_of = {names[int(attr[1:])]: attr for attr, post in fast.posts if post == "datetime"}

    def column_form(self, name: str) -> str | None:
        attr = self._attr_of.get(name)
        return None if attr is None else self.forms.get(attr)

    def __call__(self, chunk: bytes) -> tuple[int, bool, bool] | None:
        try:
            rows = self._decode(chunk)
        except msgspec.ValidationError:
            return None
        # A clean chunk holds every optional integer key in every row (`structure.integer_keys`).
        if self._keys and not keys_consistent(rows, self._keys, {"keys:" + attr: "set" for attr in self._keys}):
            return len(rows), False, False
        forms_clean = True
        for attr, post in self._posts:
            texts = list(map(attrgetter(attr), rows))
            if post == "datetime":
                strings = [t for t in texts if type(t) is str]
                if datetime_column_passes(strings, self.forms, attr):
                    continue
                forms_clean = False  # the datetime column rules have something to say
                if not all(is_iso8601(t) for t in strings):
                    return len(rows), False, False
            elif not all_texts_pass(texts, post):
                return len(rows), False, False
        return len(rows), True, forms_clean


class Direct:
    """A decoder of a request holding one format's key and that format's other keys only.

    It accepts exactly what the general small decoder accepts with this key, without
    finding out which of the four format keys is there: the other keys' types are in
    the struct, so `check` (on the decoded request; None: nothing) is all that is left.
    `bare`: a split without an index, which needs no check at all when no text column does.
    """

    __slots__ = ("accepted", "bare", "check", "decode", "key")

    def __init__(self, key: str, fast: Any, *, bare: bool = False) -> None:
        self.key = key
        #: What the engine answers when this accepts (it sets it: a report is the engine's).
        self.accepted: Any = None
        fields: list[Any] = [("v", fast.bare_type if bare else fast.small_type)]
        rename = {"v": key}
        for index, (prop, decoder) in enumerate(fast.others.items()):
            fields.append((f"o{index}", decoder.type | msgspec.UnsetType, msgspec.UNSET))
            rename[f"o{index}"] = prop
        struct = defstruct("Direct", fields, rename=rename, forbid_unknown_fields=True)
        self.decode = msgspec.json.Decoder(struct).decode
        self.check: Any = fast.small_check_direct
        if bare:
            texts = fast._whole_texts_pass
            self.check = (lambda request: texts(request.v.data)) if fast.posts else None
            if fast.required_others:
                self.check = lambda _request: False
        self.bare: Direct | None = None
        if fast.bare_type is not None and not bare:
            self.bare = Direct(key, fast, bare=True)
        if fast.param_posts:
            attr = f"o{list(fast.others).index('params')}"
            value_check, posts = self.check, fast.param_posts

            def check(request: Any) -> bool:
                params = getattr(request, attr)
                if params is not msgspec.UNSET:
                    for post_attr, post in posts:
                        text = getattr(params, post_attr)
                        if type(text) is str and not (is_base64(text) if post == "binary" else is_iso8601(text)):
                            return False
                return value_check is None or bool(value_check(request))

            self.check = check
