"""Credential resolution: flags, environment, profiles; where each value came from; nothing secret in reprs."""

from __future__ import annotations

from pathlib import Path

import pytest
from ws_helpers import write_config

from schemakit._exceptions import CredentialsError
from schemakit.workspace.auth import normalize_host, resolve_credentials, scrub

PROFILES = """
[DEFAULT]
host = default.cloud.databricks.com
token = dapi-default-token

[dev]
host = https://dev.cloud.databricks.com/some/path
token = dapi-dev-token

[oauth]
host = https://oauth.cloud.databricks.com
client_id = my-service-principal
client_secret = very-secret
"""


def _headers(creds: object) -> dict[str, str]:
    return creds.headers()  # type: ignore[attr-defined,no-any-return]


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "https://env.example.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token")
    creds = resolve_credentials(host="flag.example.com", token="dapi-flag-token")
    assert creds.host == "https://flag.example.com"
    assert creds.host_source == "--host"
    assert creds.auth_description == "token from --token"
    assert _headers(creds) == {"Authorization": "Bearer dapi-flag-token"}


def test_environment_variables_and_https_added(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "adb-123.4.azuredatabricks.net/?o=123")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token")
    creds = resolve_credentials()
    assert creds.host == "https://adb-123.4.azuredatabricks.net"
    assert (creds.host_source, creds.auth_description) == ("DATABRICKS_HOST", "token from DATABRICKS_TOKEN")


def test_default_profile_is_used_when_nothing_else_is_set(clean_environment: Path) -> None:
    write_config(clean_environment / ".databrickscfg", PROFILES)
    creds = resolve_credentials()
    assert creds.host == "https://default.cloud.databricks.com"
    assert creds.auth_description == "token from profile 'DEFAULT' in ~/.databrickscfg"
    assert _headers(creds)["Authorization"] == "Bearer dapi-default-token"


def test_named_profile_from_flag_env_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path / "cfg", PROFILES + "\n[__settings__]\ndefault_profile = dev\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    # [__settings__] default_profile replaces [DEFAULT] as the fallback.
    assert resolve_credentials().host == "https://dev.cloud.databricks.com"
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "DEFAULT")
    assert resolve_credentials().host == "https://default.cloud.databricks.com"
    creds = resolve_credentials(profile="dev")
    assert creds.host == "https://dev.cloud.databricks.com"  # the path in the profile's host is dropped
    assert creds.auth_description == f"token from profile 'dev' in {config}"


def test_an_explicit_profile_is_never_mixed_with_ambient_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "cfg", PROFILES)
    monkeypatch.setenv("DATABRICKS_HOST", "https://other.example.com")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-other-token")
    creds = resolve_credentials(profile="dev", config_file=config)
    assert creds.host == "https://dev.cloud.databricks.com"
    assert _headers(creds)["Authorization"] == "Bearer dapi-dev-token"


def test_the_environment_profile_fills_only_what_the_environment_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path / "cfg", PROFILES)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "dev")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token")
    creds = resolve_credentials()
    assert creds.host_source == f"profile 'dev' in {config}"
    assert creds.auth_description == "token from DATABRICKS_TOKEN"


def test_missing_profile_lists_the_ones_there_are(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", PROFILES)
    with pytest.raises(CredentialsError) as caught:
        resolve_credentials(profile="prod", config_file=config)
    assert caught.value.format_message() == f"no profile 'prod' in {config} (profiles: DEFAULT, dev, oauth)"
    with pytest.raises(CredentialsError, match="does not exist"):
        resolve_credentials(profile="dev", config_file=tmp_path / "missing")


def test_a_broken_config_file_is_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg", "host = x\n[dev\n")
    with pytest.raises(CredentialsError, match=r"not a valid configuration file"):
        resolve_credentials(profile="dev", config_file=config)


def test_what_is_missing_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CredentialsError) as nothing:
        resolve_credentials()
    assert "DATABRICKS_HOST and DATABRICKS_TOKEN" in str(nothing.value)
    assert "schemakit[databricks]" in str(nothing.value)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-env-token")
    with pytest.raises(CredentialsError, match=r"a token was found \(DATABRICKS_TOKEN\) but no workspace host"):
        resolve_credentials()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("example.com", "https://example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://Example.com:443/x?y=1", "https://example.com:443"),
    ],
)
def test_normalize_host(given: str, expected: str) -> None:
    assert normalize_host(given, "test") == expected


@pytest.mark.parametrize("bad", ["", "ftp://example.com", "https://user:pw@example.com", "https://"])
def test_bad_hosts_are_refused(bad: str) -> None:
    with pytest.raises(CredentialsError):
        normalize_host(bad, "--host")


def test_secrets_stay_out_of_reprs_and_are_scrubbed() -> None:
    creds = resolve_credentials(host="example.com", token="dapi-flag-token-123")
    assert "dapi-flag-token-123" not in repr(creds)
    text = "token dapi-flag-token-123 and header Bearer abcdef123456 and dapi0123456789abcdef0123"
    cleaned = scrub(text, creds.secrets)
    assert "dapi-flag-token-123" not in cleaned
    assert "abcdef123456" not in cleaned
    assert "dapi0123456789abcdef0123" not in cleaned
