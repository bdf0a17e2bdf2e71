"""Authentication as a workspace has it: PATs as bearer or basic `token:<PAT>`, and OAuth M2M for service principals.

`/.well-known/databricks-config` names the OIDC root (`oidc_endpoint`); `/oidc/.well-known/oauth-authorization-server`
names the token endpoint; `/oidc/v1/token` takes the client-credentials grant (client id and secret in a basic
header, as databricks-sdk sends them, or in the form) and answers a bearer token that expires after
`oauth_token_seconds`, so a client's refresh is exercised. Tokens are random, kept in memory (bounded), and
compared in constant time like PATs.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from schemakit.mock.wire import ApiError, Headers, Response, allow, json_response

__all__ = ["DEFAULT_OAUTH_TOKEN_SECONDS", "OAuthTokens", "basic_credentials", "host_url", "oidc_metadata"]

#: How long an OAuth access token lives; the platform's last an hour.
DEFAULT_OAUTH_TOKEN_SECONDS = 3600.0
#: Live tokens kept at most; the oldest go first, so a client that never stops asking cannot fill memory.
MAX_LIVE_TOKENS = 10_000
#: Host header values used to build absolute URLs; anything else falls back to the listening address.
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?$")


def host_url(headers: Headers, fallback: str) -> str:
    """`http://<Host>` for absolute URLs in answers (the client's own view of the server), if the header is sane."""
    host = headers.get("host", "")
    return f"http://{host}" if _HOST.match(host) else fallback


def oidc_metadata(base: str) -> dict[str, object]:
    return {
        "issuer": f"{base}/oidc",
        "authorization_endpoint": f"{base}/oidc/v1/authorize",
        "token_endpoint": f"{base}/oidc/v1/token",
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "scopes_supported": ["all-apis", "offline_access"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }


def basic_credentials(value: str) -> tuple[str, str] | None:
    """(user, password) of a `Basic` authorization value, or None when it is not one."""
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


#: The grant a client uses to exchange a workspace OAuth token for a data-plane one (route-optimized endpoints).
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True, slots=True)
class Issued:
    client_id: str
    expires: float
    #: For a data-plane token: the `authorization_details` it was exchanged for (the endpoint it may query).
    data_plane: str | None = None


class OAuthTokens:
    """Service principals' client secrets and the access tokens issued for them."""

    def __init__(self, token_seconds: float = DEFAULT_OAUTH_TOKEN_SECONDS) -> None:
        self.token_seconds = token_seconds
        self._secrets: dict[str, str] = {}
        self._issued: dict[str, Issued] = {}
        self._lock = threading.Lock()

    def add_client(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("a service principal needs a client id and a non-empty client secret")
        with self._lock:
            self._secrets[client_id] = client_secret

    def has_client(self, client_id: str) -> bool:
        with self._lock:
            return client_id in self._secrets

    def client_of(self, token: str) -> str | None:
        """The client id a live access token was issued to; None for an unknown or expired one."""
        found = self.lookup(token)
        return found.client_id if found is not None else None

    def lookup(self, token: str) -> Issued | None:
        """The live access token's record; None for an unknown one, a 401 for an expired one."""
        now = time.monotonic()
        found: Issued | None = None
        with self._lock:
            for known, issued in self._issued.items():
                if hmac.compare_digest(known.encode(), token.encode()):
                    found = issued
        if found is None:
            return None
        if found.expires <= now:
            raise ApiError(401, "UNAUTHENTICATED", "The OAuth access token has expired; request a new one.")
        return found

    def token_endpoint(self, method: str, path: str, headers: Headers, body: bytes) -> Response:
        """`POST /oidc/v1/token`: the client-credentials grant, answered as an OAuth 2.0 server answers it."""
        allow(method, path, "POST")
        try:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=32)
        except (UnicodeDecodeError, ValueError):
            return _oauth_error(
                400, "invalid_request", "The body must be form-encoded (grant_type=client_credentials)."
            )
        fields: Mapping[str, str] = {k: v[-1] for k, v in form.items()}
        if fields.get("grant_type") == JWT_BEARER:
            return self._exchange(fields)
        if fields.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "The emulator's token endpoint takes grant_type=client_credentials."
            )
        credentials = basic_credentials(headers.get("authorization", ""))
        client_id, client_secret = credentials or (fields.get("client_id", ""), fields.get("client_secret", ""))
        with self._lock:
            expected = self._secrets.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), client_secret.encode()):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        return self._issue(Issued(client_id, 0.0), fields.get("scope") or "all-apis")

    def _exchange(self, fields: Mapping[str, str]) -> Response:
        """The jwt-bearer grant: a live workspace OAuth token for a token of one route-optimized endpoint."""
        try:
            assertion = self.lookup(fields.get("assertion", ""))
        except ApiError:
            assertion = None
        details = fields.get("authorization_details", "")
        if assertion is None or assertion.data_plane is not None:
            return _oauth_error(400, "invalid_grant", "The assertion is not a live workspace OAuth access token.")
        if not details:
            return _oauth_error(400, "invalid_request", "authorization_details is required.")
        return self._issue(Issued(assertion.client_id, 0.0, details[:4096]), "all-apis")

    def _issue(self, issued: Issued, scope: str) -> Response:
        token = "eyJmock." + secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._issued = {k: v for k, v in self._issued.items() if v.expires > now}
            while len(self._issued) >= MAX_LIVE_TOKENS:
                self._issued.pop(next(iter(self._issued)))
            self._issued[token] = Issued(issued.client_id, now + self.token_seconds, issued.data_plane)
        return json_response(
            200,
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": max(1, round(self.token_seconds)),
                "scope": scope,
            },
            [("Cache-Control", "no-store")],
        )


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})
