"""The emulator's settings and its state file: what can be configured, and what survives a restart.

One file format serves both `--config` (read only) and `--state-file` (read, then
rewritten atomically after every stop, start, delete or permission change)::

    {
      "users": [{"name": "alice", "token": "alice-token", "groups": ["analysts"]}],
      "endpoints": {
        "example-endpoint": {
          "ready_after_polls": 3, "throttle_queries": 2, "retry_after": 1,
          "traffic": {"vanilla_simple_model-2": 100},
          "stopped": false, "deleted": false,
          "permissions": [{"user_name": "alice", "permission_level": "CAN_QUERY"}]
        }
      }
    }

The server only ever rewrites an endpoint's `stopped`, `deleted`, `permissions`,
`id` and timestamps; every other key (settings, `users`) is kept as written, and
tokens given on the command line or through the Python API are never written.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemakit._exceptions import SourceError
from schemakit._io import atomic_write_bytes, dump_json_stable
from schemakit.core.load import parse_text

__all__ = [
    "EndpointSettings",
    "PERMISSION_LEVELS",
    "SettingsFile",
    "UserSpec",
    "load_settings_file",
    "parse_acl",
    "write_state_file",
]

#: Permission levels, weakest first: each one includes the ones before it.
PERMISSION_LEVELS: tuple[str, ...] = ("CAN_VIEW", "CAN_QUERY", "CAN_MANAGE")

_PRINCIPAL_KEYS = ("user_name", "group_name", "service_principal_name")
#: Delays and counts beyond these are typos, and would overflow clocks and timestamps.
_MAX_DELAY_SECONDS = 365 * 24 * 3600
_MAX_COUNT = 1_000_000_000

_STATE_KEYS = ("stopped", "deleted", "permissions", "id", "creation_timestamp", "last_updated_timestamp")


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    """How one emulated endpoint behaves: its lifecycle, its faults and its traffic split.

    - `ready_after_polls`: the first N `GET` calls of the endpoint's details show
      `NOT_READY` with `config_update: IN_PROGRESS`; call N+1 shows `READY`.
    - `ready_after_seconds`: the same, by time since start-up (or since `config:start`).
      With both set, whichever comes first ends the update.
    - `deployment_failed`: the update ends in `UPDATE_FAILED` (served entities
      `DEPLOYMENT_FAILED`, `failure_message` in their state and at the end of the build logs).
    - `no_schema`: the served model has no signature: `/openapi` answers the error
      the real API gives.
    - `throttle_queries`: the first K queries get 429 with `Retry-After: retry_after`.
    - `unavailable_queries`: the next K queries get 503.
    - `latency`: seconds added to every query.
    - `traffic`: served-model name -> percentage (summing to 100); even split when None.
    """

    ready_after_polls: int = 0
    ready_after_seconds: float | None = None
    deployment_failed: bool = False
    failure_message: str = "Container image build failed: `pip install` exited with status 1."
    no_schema: bool = False
    throttle_queries: int = 0
    retry_after: int = 1
    unavailable_queries: int = 0
    latency: float = 0.0
    traffic: Mapping[str, int] | None = None

    def __post_init__(self) -> None:
        _check_settings(self)

    def replace(self, **changes: Any) -> EndpointSettings:
        """A copy with some settings changed; unknown names raise a TypeError naming them."""
        unknown = sorted(set(changes) - _SETTING_NAMES)
        if unknown:
            raise TypeError(
                f"unknown endpoint setting(s): {', '.join(unknown)} (known: {', '.join(sorted(_SETTING_NAMES))})"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> EndpointSettings:
        """Settings from a config or state file's endpoint entry; other keys are ignored."""
        return cls().with_json(data, where)

    def with_json(self, data: Mapping[str, Any], where: str) -> EndpointSettings:
        """These settings with a file entry's settings on top (state keys such as `stopped` ignored)."""
        changes = {k: v for k, v in data.items() if k in _SETTING_NAMES}
        for key, value in changes.items():
            expected = _SETTING_TYPES[key]
            if value is None and key in ("ready_after_seconds", "traffic"):
                continue
            if not _json_fits(value, expected):
                raise SourceError(f"{where}: {key}: expected {expected}, got {type(value).__name__} {value!r}")
        try:
            return self.replace(**changes)
        except ValueError as exc:
            raise SourceError(f"{where}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        defaults = EndpointSettings()
        for name in sorted(_SETTING_NAMES):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                out[name] = dict(value) if isinstance(value, Mapping) else value
        return out


_SETTING_NAMES = frozenset(f.name for f in dataclasses.fields(EndpointSettings))
_SETTING_TYPES: dict[str, str] = {
    "ready_after_polls": "integer",
    "ready_after_seconds": "number",
    "deployment_failed": "boolean",
    "failure_message": "string",
    "no_schema": "boolean",
    "throttle_queries": "integer",
    "retry_after": "integer",
    "unavailable_queries": "integer",
    "latency": "number",
    "traffic": "object",
}


def _json_fits(value: Any, expected: str) -> bool:
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "string":
        return isinstance(value, str)
    return isinstance(value, Mapping)


def _check_settings(s: EndpointSettings) -> None:
    for name in ("ready_after_polls", "throttle_queries", "unavailable_queries"):
        value = getattr(s, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    if not isinstance(s.retry_after, int) or isinstance(s.retry_after, bool) or s.retry_after < 0:
        raise ValueError(f"retry_after must be a whole number of seconds >= 0, got {s.retry_after!r}")
    for name in ("ready_after_seconds", "latency"):
        value = getattr(s, name)
        if value is None and name == "ready_after_seconds":
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")
    if s.ready_after_seconds is not None and s.ready_after_seconds > _MAX_DELAY_SECONDS:
        raise ValueError(
            f"ready_after_seconds must be at most {_MAX_DELAY_SECONDS} (a year), got {s.ready_after_seconds!r}"
        )
    if s.retry_after > _MAX_DELAY_SECONDS:
        raise ValueError(f"retry_after must be at most {_MAX_DELAY_SECONDS} seconds (a year), got {s.retry_after!r}")
    for name in ("ready_after_polls", "throttle_queries", "unavailable_queries"):
        if getattr(s, name) > _MAX_COUNT:
            raise ValueError(f"{name} must be at most {_MAX_COUNT:,}, got {getattr(s, name)!r}")
    if s.latency > 60:
        raise ValueError(f"latency must be at most 60 seconds, got {s.latency!r}")
    if s.traffic is not None:
        if not isinstance(s.traffic, Mapping) or not s.traffic:
            raise ValueError("traffic must map served-model names to percentages")
        for model, pct in s.traffic.items():
            if not isinstance(pct, int) or isinstance(pct, bool) or not 0 <= pct <= 100:
                raise ValueError(f"traffic[{model!r}] must be a whole percentage 0-100, got {pct!r}")
        total = sum(s.traffic.values())
        if total != 100:
            raise ValueError(f"traffic percentages must sum to 100, got {total}")
        object.__setattr__(s, "traffic", dict(s.traffic))


@dataclass(frozen=True, slots=True)
class UserSpec:
    """A principal other than the admin: a user (or service principal) with a token."""

    name: str
    token: str
    groups: tuple[str, ...] = ()
    service_principal: bool = False


@dataclass(frozen=True, slots=True)
class SettingsFile:
    """A parsed config or state file."""

    users: tuple[UserSpec, ...]
    endpoints: Mapping[str, Mapping[str, Any]]
    raw: Mapping[str, Any]


def load_settings_file(path: str | Path, *, missing_ok: bool = False) -> SettingsFile:
    """Read a config or state file (JSON or YAML); one clear line when it is wrong."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return SettingsFile((), {}, {})
        from schemakit._exceptions import SourceNotFound

        raise SourceNotFound(f"{where}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{where}: cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        return SettingsFile((), {}, {})
    raw = parse_text(data, where)
    if not isinstance(raw, Mapping):
        raise SourceError(f"{where}: expected an object with `users` and `endpoints`, got {type(raw).__name__}")
    unknown = sorted(set(raw) - {"users", "endpoints", "schemakit_mock_state"})
    if unknown:
        raise SourceError(f"{where}: unknown key(s) {', '.join(unknown)} (known: users, endpoints)")
    users = _parse_users(raw.get("users") or [], where)
    endpoints = raw.get("endpoints") or {}
    if not isinstance(endpoints, Mapping):
        raise SourceError(f"{where}: endpoints: expected an object keyed by endpoint name")
    for name, entry in endpoints.items():
        if not isinstance(entry, Mapping):
            raise SourceError(f"{where}: endpoints.{name}: expected an object")
        known = _SETTING_NAMES | set(_STATE_KEYS)
        extra = sorted(set(entry) - known)
        if extra:
            raise SourceError(f"{where}: endpoints.{name}: unknown key(s) {', '.join(extra)}")
        EndpointSettings.from_json(entry, f"{where}: endpoints.{name}")
        _check_state_values(entry, f"{where}: endpoints.{name}")
        parse_acl(entry.get("permissions") or [], f"{where}: endpoints.{name}.permissions")
    return SettingsFile(users, {str(k): v for k, v in endpoints.items()}, raw)


#: Timestamps are milliseconds since 1970; anything outside years 1970-9999 is a damaged file.
_MAX_TIMESTAMP_MS = 253_402_300_799_999


def _check_state_values(entry: Mapping[str, Any], where: str) -> None:
    """The emulator's own state keys, checked as strictly as settings: a hand-edited file fails here, in one line."""
    for key in ("stopped", "deleted"):
        if key in entry and not isinstance(entry[key], bool):
            raise SourceError(f"{where}: {key}: expected true or false, got {entry[key]!r}"[:300])
    if "id" in entry and not (isinstance(entry["id"], str) and entry["id"] and len(entry["id"]) <= 200):
        raise SourceError(f"{where}: id: expected a non-empty string, got {entry['id']!r}"[:300])
    for key in ("creation_timestamp", "last_updated_timestamp"):
        if key not in entry:
            continue
        value = entry[key]
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_TIMESTAMP_MS:
            raise SourceError(f"{where}: {key}: expected milliseconds since 1970 (a whole number), got {value!r}"[:300])


def _parse_users(value: Any, where: str) -> tuple[UserSpec, ...]:
    if not isinstance(value, list):
        raise SourceError(f"{where}: users: expected a list of {{name, token, groups}}")
    users = []
    owners: dict[str, str] = {}
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise SourceError(f"{where}: users[{i}]: expected an object with a `name`")
        token = entry.get("token")
        if not isinstance(token, str) or not token:
            raise SourceError(f"{where}: users[{i}] ({entry['name']}): expected a non-empty `token`")
        groups = entry.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise SourceError(f"{where}: users[{i}] ({entry['name']}): groups must be a list of names")
        if token in owners and owners[token] != entry["name"]:
            raise SourceError(f"{where}: users[{i}] ({entry['name']}): its token already belongs to {owners[token]!r}")
        owners[token] = entry["name"]
        users.append(UserSpec(entry["name"], token, tuple(groups), bool(entry.get("service_principal", False))))
    return tuple(users)


def parse_acl(value: Any, where: str) -> list[tuple[str, str, str]]:
    """`[{"user_name": "alice", "permission_level": "CAN_QUERY"}]` -> [("user_name", "alice", "CAN_QUERY")]."""
    if not isinstance(value, list):
        raise SourceError(f"{where}: expected a list of access control entries")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise SourceError(f"{where}[{i}]: expected an object")
        keys = [k for k in _PRINCIPAL_KEYS if entry.get(k) is not None]
        if len(keys) != 1 or not isinstance(entry[keys[0]], str) or not entry[keys[0]]:
            raise SourceError(f"{where}[{i}]: expected exactly one of {', '.join(_PRINCIPAL_KEYS)}")
        level = entry.get("permission_level")
        if level not in PERMISSION_LEVELS:
            raise SourceError(
                f"{where}[{i}]: permission_level must be one of {', '.join(PERMISSION_LEVELS)}, got {level!r}"
            )
        out.append((keys[0], str(entry[keys[0]]), str(level)))
    return out


def write_state_file(path: str | Path, raw: Mapping[str, Any], endpoints: Mapping[str, Mapping[str, Any]]) -> None:
    """Rewrite the state file atomically: the given endpoints' state keys over what the file held."""
    document: dict[str, Any] = {k: v for k, v in raw.items() if k != "endpoints"}
    document["schemakit_mock_state"] = 1
    merged: dict[str, Any] = {}
    existing = raw.get("endpoints") or {}
    for name, entry in existing.items():
        merged[name] = dict(entry)
    for name, state in endpoints.items():
        entry = merged.setdefault(name, {})
        for key in _STATE_KEYS:
            entry.pop(key, None)
        entry.update(state)
    document["endpoints"] = merged
    atomic_write_bytes(path, dump_json_stable(document), mode=0o600)
