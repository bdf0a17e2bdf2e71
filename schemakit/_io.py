"""Writing files atomically: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from schemakit._exceptions import OutputError

__all__ = ["atomic_write_bytes", "atomic_write_text", "dump_json", "dump_json_stable", "output_error"]


def _current_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any threads write files.
    umask = os.umask(0)
    os.umask(umask)
    return umask


_UMASK = _current_umask()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    target = Path(path)
    try:
        _write_replace(target, data, mode)
    except OSError as exc:
        raise output_error(target, exc) from None


def output_error(target: Path, exc: OSError) -> OutputError:
    """One line for a write that failed: which path, and why in words."""
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in (target, *target.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None and blocker != target:
            return OutputError(f"{target}: cannot write: {blocker} is a file, not a folder")
    return OutputError(f"{target}: cannot write ({exc.strerror or type(exc).__name__})")


def _write_replace(target: Path, data: bytes, mode: int | None) -> None:
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        elif target.exists():
            os.chmod(temp_name, target.stat().st_mode & 0o7777)
        else:
            os.chmod(temp_name, 0o666 & ~_UMASK)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def dump_json_stable(value: Any) -> bytes:
    """Pretty JSON with sorted keys and a final newline, so committed files diff cleanly."""
    return dump_json(value, sort_keys=True) + b"\n"


def dump_json(value: Any, *, sort_keys: bool = False, indent: bool = True) -> bytes:
    """JSON bytes for any JSON value schemakit holds, integers beyond 64 bits included.

    orjson is fast but stops at 64-bit integers, which documents may hold (an enum of
    large ids, a huge bound); those values are written exactly by the standard library.
    """
    option = (
        (orjson.OPT_INDENT_2 if indent else 0) | (orjson.OPT_SORT_KEYS if sort_keys else 0) | orjson.OPT_NON_STR_KEYS
    )
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        text = json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, indent=2 if indent else None, default=str)
        return text.encode("utf-8")
