"""Finding workspace credentials the way the Databricks tools do, and remembering where they came from.

Personal access tokens are resolved here, without any optional dependency:

1. ``--host`` / ``--token`` (the ``host=`` / ``token=`` arguments) always win;
2. a profile named explicitly (``--profile``, ``endpoint:PROFILE/NAME``) is used *alone*: the ambient
   ``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN`` are ignored, so a token meant for one workspace is never
   sent to the host of another;
3. otherwise ``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN``, then the profile named by
   ``DATABRICKS_CONFIG_PROFILE`` (which fills what the environment left out), or else the
   ``[__settings__] default_profile`` / ``[DEFAULT]`` profile when nothing at all is set.

The configuration file is ``DATABRICKS_CONFIG_FILE`` or ``~/.databrickscfg``. Every other unified-auth
method (OAuth machine-to-machine, Azure / Google / Databricks CLI logins, ...) goes through
``databricks.sdk.core.Config(...).authenticate()`` when the ``schemakit[databricks]`` extra is installed;
an explicit ``auth_type`` (``DATABRICKS_AUTH_TYPE``, or ``auth_type`` in the profile) also selects the SDK.

Each `Credentials` says where its host and its secret came from ("token from DATABRICKS_TOKEN"), so a
401 can name the culprit. The secret itself is never part of a repr, message or log line.
"""

from __future__ import annotations

import configparser
import importlib.util
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from schemakit._exceptions import CredentialsError
from schemakit.runtime.http import UnsendableCredentials, check_credentials, scrub

__all__ = ["Credentials", "normalize_host", "resolve_credentials", "scrub"]

logger = logging.getLogger("schemakit.workspace")

HeaderFactory = Callable[[], Mapping[str, str]]

#: Configuration keys that mean "some non-PAT unified-auth method is configured" (env name, profile key).
_OTHER_AUTH_KEYS: tuple[tuple[str, str], ...] = (
    ("DATABRICKS_CLIENT_ID", "client_id"),
    ("DATABRICKS_CLIENT_SECRET", "client_secret"),
    ("DATABRICKS_USERNAME", "username"),
    ("DATABRICKS_AZURE_RESOURCE_ID", "azure_workspace_resource_id"),
    ("ARM_CLIENT_ID", "azure_client_id"),
    ("ARM_USE_MSI", "azure_use_msi"),
    ("DATABRICKS_GOOGLE_SERVICE_ACCOUNT", "google_service_account"),
    ("GOOGLE_CREDENTIALS", "google_credentials"),
    ("DATABRICKS_OIDC_TOKEN_ENV", "oidc_token_env"),
    ("DATABRICKS_OIDC_TOKEN_FILEPATH", "oidc_token_filepath"),
)
#: Secrets other than the token that may sit in the environment or a profile; scrubbed from any text.
_SECRET_KEYS: tuple[tuple[str, str], ...] = (
    ("DATABRICKS_CLIENT_SECRET", "client_secret"),
    ("DATABRICKS_PASSWORD", "password"),
    ("ARM_CLIENT_SECRET", "azure_client_secret"),
    ("GOOGLE_CREDENTIALS", "google_credentials"),
)
_EXTRA_HINT = "pip install 'schemakit[databricks]'"
#: Token shapes worth hiding even when they are not ours (a server echoing someone's header, say).


def normalize_host(host: str, where: str) -> str:
    """`scheme://host[:port]`: https:// added when the scheme is missing, any path dropped."""
    text = host.strip()
    if not text:
        raise CredentialsError(f"{where}: the workspace host is empty")
    shown = repr(_without_userinfo(text))
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise CredentialsError(f"{where}: {shown} is not a valid host URL ({_without_userinfo(str(exc))})") from None
    if parts.scheme not in ("http", "https"):
        raise CredentialsError(f"{where}: the workspace host must be an https:// URL, got scheme {parts.scheme!r}")
    if not parts.hostname:
        raise CredentialsError(f"{where}: {shown} is not a host name")
    if parts.username or parts.password:
        raise CredentialsError(f"{where}: the workspace host must not carry a user name or password")
    try:
        port = parts.port
    except ValueError:
        raise CredentialsError(f"{where}: {shown} has an invalid port") from None
    hostname = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{hostname}" + (f":{port}" if port is not None else "")


def _without_userinfo(text: str) -> str:
    """A host URL as messages may show it: any `user:password@` replaced, however malformed the rest."""
    return _USERINFO.sub(r"\1***@", text)


_USERINFO = re.compile(r"(^|://)[^/@\s]*@")


@dataclass(frozen=True)
class Credentials:
    """A workspace host and a way to authenticate to it; says where both came from, never the secret."""

    host: str
    host_source: str
    #: How requests are authenticated, for messages: "token from DATABRICKS_TOKEN", "databricks-sdk oauth-m2m auth".
    auth_description: str
    header_factory: HeaderFactory = field(repr=False, compare=False)
    secrets: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def headers(self) -> dict[str, str]:
        """Fresh authentication headers (the SDK refreshes OAuth tokens behind this call)."""
        return dict(self.header_factory())


@dataclass(frozen=True)
class _Setting:
    value: str = field(repr=False)  # a token, a secret: never in a repr
    source: str = ""


@dataclass(frozen=True)
class _Profile:
    name: str
    path: Path
    values: Mapping[str, str] = field(repr=False)  # the profile's token and secrets

    @property
    def label(self) -> str:
        return f"profile '{self.name}' in {_display_path(self.path)}"

    def get(self, key: str) -> _Setting | None:
        value = self.values.get(key, "").strip()
        return _Setting(value, self.label) if value else None


def resolve_credentials(
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    *,
    auth_type: str | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Credentials:
    """Credentials for one workspace, from arguments, the environment and the configuration file."""
    env = os.environ if environ is None else environ
    config_path = _config_path(config_file, env)
    host_setting, token_setting, auth_setting, chosen = _gather_settings(
        host, token, auth_type, profile, config_path, env
    )
    if host_setting is not None:
        host_setting = _Setting(normalize_host(host_setting.value, host_setting.source), host_setting.source)
    if token_setting is not None:
        try:
            check_credentials(
                {"Authorization": f"Bearer {token_setting.value}"}, f"the token from {token_setting.source}"
            )
        except UnsendableCredentials as exc:
            raise CredentialsError(str(exc)) from None
    secrets = _known_secrets(env, chosen, token_setting)
    # Naming an auth type asks for databricks-sdk's unified auth; only "pat" can do without it.
    wants_sdk = auth_setting is not None
    sdk_installed = _sdk_available()

    if token_setting is not None and (not wants_sdk or not sdk_installed):
        if auth_setting is not None and auth_setting.value != "pat":
            raise _missing_extra(f"auth_type '{auth_setting.value}' (from {auth_setting.source})")
        if host_setting is None:
            raise CredentialsError(
                f"a token was found ({token_setting.source}) but no workspace host: "
                "pass --host, set DATABRICKS_HOST, or add host to the profile"
            )
        bearer = {"Authorization": f"Bearer {token_setting.value}"}
        return Credentials(
            host=host_setting.value,
            host_source=host_setting.source,
            auth_description=f"token from {token_setting.source}",
            header_factory=lambda: bearer,
            secrets=secrets,
        )

    other = _other_auth_source(env, chosen) or (
        f"auth_type '{auth_setting.value}' (from {auth_setting.source})" if auth_setting else None
    )
    if sdk_installed and (other is not None or host_setting is not None or token_setting is not None):
        return _sdk_credentials(host_setting, token_setting, chosen, config_path, auth_setting, secrets, timeout, other)
    raise _no_credentials(other, host_setting, config_path)


def _gather_settings(
    host: str | None,
    token: str | None,
    auth_type: str | None,
    profile: str | None,
    config_path: Path,
    env: Mapping[str, str],
) -> tuple[_Setting | None, _Setting | None, _Setting | None, _Profile | None]:
    """Host, token and auth type with where each came from: arguments, then the environment, then the profile."""
    host_setting = _Setting(host, "--host") if host else None
    token_setting = _Setting(token, "--token") if token else None
    auth_setting = _Setting(auth_type, "auth_type") if auth_type else None
    chosen: _Profile | None = None

    if profile:
        chosen = _read_profile(config_path, profile, required=True)
    else:
        host_setting = host_setting or _env_setting(env, "DATABRICKS_HOST")
        token_setting = token_setting or _env_setting(env, "DATABRICKS_TOKEN")
        auth_setting = auth_setting or _env_setting(env, "DATABRICKS_AUTH_TYPE")
        env_profile = env.get("DATABRICKS_CONFIG_PROFILE", "").strip()
        if env_profile:
            chosen = _read_profile(config_path, env_profile, required=True, via="DATABRICKS_CONFIG_PROFILE")
        elif host_setting is None and token_setting is None and not _other_auth_in_env(env):
            chosen = _read_default_profile(config_path)
    if chosen is not None:
        host_setting = host_setting or chosen.get("host")
        token_setting = token_setting or chosen.get("token")
        auth_setting = auth_setting or chosen.get("auth_type")
    return host_setting, token_setting, auth_setting, chosen


def _no_credentials(other: str | None, host_setting: _Setting | None, config_path: Path) -> CredentialsError:
    if other is not None:
        return _missing_extra(other)
    if host_setting is not None:
        return CredentialsError(
            f"no token for {host_setting.value} (host from {host_setting.source}): pass --token, set "
            f"DATABRICKS_TOKEN, or add token to the profile ({_EXTRA_HINT} for OAuth and cloud CLI logins)"
        )
    where = _display_path(config_path)
    return CredentialsError(
        "no workspace credentials: pass --host and --token, set DATABRICKS_HOST and DATABRICKS_TOKEN, "
        f"or add a profile to {where} and use --profile ({_EXTRA_HINT} for OAuth and cloud CLI logins)"
    )


def _missing_extra(what: str) -> CredentialsError:
    return CredentialsError(f"{what} needs databricks-sdk's unified authentication: {_EXTRA_HINT}")


def _sdk_available() -> bool:
    # find_spec, not an import: databricks-sdk takes a second to import, and most runs use a plain token.
    try:
        return importlib.util.find_spec("databricks.sdk") is not None
    except (ImportError, ValueError):
        return False


def _sdk_credentials(
    host_setting: _Setting | None,
    token_setting: _Setting | None,
    chosen: _Profile | None,
    config_path: Path,
    auth_setting: _Setting | None,
    secrets: frozenset[str],
    timeout: float,
    other: str | None,
) -> Credentials:
    try:
        from databricks.sdk.core import Config
    except ImportError as exc:
        raise CredentialsError(f"databricks-sdk is installed but cannot be imported ({exc}); {_EXTRA_HINT}") from None

    # Bounded: by default the SDK keeps retrying an unreachable host for five minutes.
    kwargs: dict[str, Any] = {
        "config_file": str(config_path),
        "http_timeout_seconds": max(1, round(timeout)),
        "retry_timeout_seconds": max(1, min(round(timeout), 10)),
    }
    if host_setting is not None:
        kwargs["host"] = host_setting.value
    if token_setting is not None:
        kwargs["token"] = token_setting.value
    if auth_setting is not None:
        kwargs["auth_type"] = auth_setting.value
    if chosen is not None:
        kwargs["profile"] = chosen.name
    # The SDK reads os.environ itself. Host and token are passed explicitly, so an explicitly named profile
    # wins over the ambient ones; an ambient token beside an OAuth profile makes the SDK refuse the mix.
    try:
        config = Config(**kwargs)
        config.authenticate()
    except ValueError as exc:
        first = scrub(_sdk_reason(exc), secrets)
        if other is None and token_setting is None and host_setting is not None:
            # Only a host: the SDK looked for CLI logins (databricks, az, gcloud) and found none.
            raise CredentialsError(
                f"no token for {host_setting.value} (host from {host_setting.source}): pass --token, set "
                "DATABRICKS_TOKEN or add token to the profile; databricks-sdk found no other login either "
                f"({first})"
            ) from None
        raise CredentialsError(f"databricks-sdk could not authenticate: {first}") from None
    except Exception as exc:
        first = scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, secrets)
        raise CredentialsError(f"databricks-sdk could not authenticate: {type(exc).__name__}: {first}") from None
    sdk_host = str(config.host or "")
    if not sdk_host:
        raise CredentialsError("databricks-sdk authenticated but found no workspace host: pass --host")
    method = str(config.auth_type or "default")
    detail = f" with the token from {token_setting.source}" if token_setting is not None and method == "pat" else ""
    origin = f" ({chosen.label})" if chosen is not None else ""
    host_source = host_setting.source if host_setting is not None else f"databricks-sdk{origin}"
    return Credentials(
        host=normalize_host(sdk_host, host_source),
        host_source=host_source,
        auth_description=f"databricks-sdk '{method}' auth{detail}{origin}",
        header_factory=config.authenticate,
        secrets=secrets,
    )


def _sdk_reason(exc: BaseException) -> str:
    """The SDK's first line, without the "Config: ..." debug dump it appends (host, file, env names)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else "not configured"
    return first.split(". Config:", 1)[0].split(". Env:", 1)[0].rstrip(".")


def _config_path(config_file: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    raw = os.fspath(config_file) if config_file else env.get("DATABRICKS_CONFIG_FILE", "").strip()
    return Path(raw or "~/.databrickscfg").expanduser()


def _display_path(path: Path) -> str:
    home = Path("~").expanduser()
    try:
        return f"~/{path.relative_to(home)}"
    except ValueError:
        return str(path)


def _env_setting(env: Mapping[str, str], name: str) -> _Setting | None:
    value = env.get(name, "").strip()
    return _Setting(value, name) if value else None


#: Far above any real ~/.databrickscfg, far below what would hurt to hold.
_MAX_CONFIG_BYTES = 1024 * 1024


def _parse_config(path: Path) -> dict[str, dict[str, str]]:
    # [DEFAULT] must be a profile like any other, not defaults merged into every section.
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00no-defaults")
    try:
        with path.open("rb") as handle:
            # A profile file is a few hundred bytes; /dev/zero or a FIFO must not be read without end.
            raw = handle.read(_MAX_CONFIG_BYTES + 1)
        if len(raw) > _MAX_CONFIG_BYTES:
            raise CredentialsError(f"{_display_path(path)}: over {_MAX_CONFIG_BYTES:,} bytes, not a configuration file")
        parser.read_string(raw.decode("utf-8"), source=str(path))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"{_display_path(path)}: cannot read ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    except configparser.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise CredentialsError(f"{_display_path(path)}: not a valid configuration file: {first}") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _read_profile(path: Path, name: str, *, required: bool, via: str | None = None) -> _Profile | None:
    profiles = _parse_config(path)
    how = f" (named by {via})" if via else ""
    if name == "__settings__":
        raise CredentialsError(f"'__settings__' is reserved in {_display_path(path)}, not a profile{how}")
    if not path.exists():
        if required:
            raise CredentialsError(f"profile '{name}'{how}: {_display_path(path)} does not exist")
        return None
    if name not in profiles:
        available = ", ".join(sorted(p for p in profiles if p != "__settings__")) or "none"
        raise CredentialsError(f"no profile '{name}'{how} in {_display_path(path)} (profiles: {available})")
    return _Profile(name, path, profiles[name])


def _read_default_profile(path: Path) -> _Profile | None:
    profiles = _parse_config(path)
    default_name = profiles.get("__settings__", {}).get("default_profile", "").strip()
    if default_name:
        return _read_profile(path, default_name, required=True, via=f"default_profile in {_display_path(path)}")
    if profiles.get("DEFAULT"):
        return _Profile("DEFAULT", path, profiles["DEFAULT"])
    return None


def _other_auth_in_env(env: Mapping[str, str]) -> bool:
    return any(env.get(name, "").strip() for name, _ in _OTHER_AUTH_KEYS)


def _other_auth_source(env: Mapping[str, str], chosen: _Profile | None) -> str | None:
    if chosen is not None:
        for _, key in _OTHER_AUTH_KEYS:
            if chosen.values.get(key, "").strip():
                return f"{key} in {chosen.label}"
        return None
    for name, _ in _OTHER_AUTH_KEYS:
        if env.get(name, "").strip():
            return name
    return None


def _known_secrets(env: Mapping[str, str], chosen: _Profile | None, token: _Setting | None) -> frozenset[str]:
    found = {token.value} if token is not None else set()
    for name, key in (*_SECRET_KEYS, ("DATABRICKS_TOKEN", "token")):
        if env.get(name, "").strip():
            found.add(env[name].strip())
        if chosen is not None and chosen.values.get(key, "").strip():
            found.add(chosen.values[key].strip())
    return frozenset(found)
