"""`MockServer`: the emulator in a background thread, for tests and scripts.

Kept apart from the emulator's modules and imported cheaply: `import schemakit` must stay fast
for the command line, so the HTTP machinery loads only when a server is built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from schemakit.core.load import LoadOptions
    from schemakit.core.model import EndpointSchema
    from schemakit.mock.emulator import MockHTTPServer, MockWorkspace, RecordedRequest
    from schemakit.mock.state import EndpointSettings, UserSpec

__all__ = ["DEFAULT_TOKEN", "MockServer"]

#: The admin token when none is given; fine on loopback, never for a shared address.
DEFAULT_TOKEN = "dapi-mock-token"  # noqa: S105 (a documented placeholder for a local emulator)


class MockServer:
    """A local serving-endpoints workspace on a free port, serving one endpoint per document.

    ::

        with MockServer(["samples/docs-example-dataframe.json"], token="dapi-test") as server:
            server.url                      # "http://127.0.0.1:PORT", the workspace host
            server.add_user("alice", token="alice-token")
            server.set_permission("example-endpoint", "alice", "CAN_QUERY")
            server.configure("example-endpoint", ready_after_polls=3, throttle_queries=2)
            server.requests                 # what clients sent (method, path, headers, body)

    `sources` are paths, URLs or any schemakit source, or `EndpointSchema`
    objects; an endpoint is named by its document's `info.title`. The admin
    (`server.token`) has CAN_MANAGE on every endpoint. Also usable with
    `start()` / `stop()`, and as the `mock_server` pytest fixture in
    `schemakit.testing`.
    """

    def __init__(
        self,
        sources: Iterable[str | Path | EndpointSchema],
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | Path | None = None,
        config: str | Path | None = None,
        settings: Mapping[str, EndpointSettings | Mapping[str, Any]] | None = None,
        max_body_bytes: int | None = None,
        raise_server_errors: bool = True,
        users: Iterable[UserSpec] = (),
        traffic: Mapping[str, int] | None = None,
        grants: Iterable[tuple[str, str, str]] = (),
        access_log: Callable[[str], None] | None = None,
        load_options: LoadOptions | None = None,
        service_principals: Mapping[str, str] | None = None,
        oauth_token_seconds: float = 3600.0,
        registry: Mapping[str, str | Path | EndpointSchema] | None = None,
        update_seconds: float = 2.0,
        inference_dir: str | Path | None = None,
        route_optimized: Iterable[str] = (),
        **default_settings: Any,
    ) -> None:
        """Build the emulated workspace (nothing listens until `start` or `serve_forever`).

        `traffic` maps served-model names to percentages, across endpoints (each endpoint
        takes the shares of its own models; its models not named get 0); `grants` are
        (endpoint, principal, level) triples; `access_log` receives one escaped line per
        request (never a header). `service_principals` maps OAuth client ids to client secrets
        (OAuth M2M at `/oidc/v1/token`; access tokens live `oauth_token_seconds`). Bad settings raise
        `ValueError`, bad sources `SourceError`. `registry` maps `catalog.schema.model/VERSION` to the
        document of that model version, for endpoints created or updated through the API; a config
        update takes `update_seconds`. With `inference_dir`, endpoints whose AI Gateway config enables an
        inference table get one row per query in `<dir>/<catalog>.<schema>.<prefix>_payload.jsonl`.
        `route_optimized` names endpoints served on the data-plane listener only (`data_plane_url`).
        """
        from schemakit.core.model import EndpointSchema
        from schemakit.mock.emulator import (
            DEFAULT_MAX_BODY_BYTES,
            MockHTTPServer,
            MockWorkspace,
            load_registry,
            load_sources,
        )
        from schemakit.mock.state import EndpointSettings, load_settings_file

        if not token:
            raise ValueError("the admin token must not be empty")
        resolved = [s if isinstance(s, EndpointSchema) else str(s) for s in sources]
        schemas, documents = load_sources(resolved, load_options)
        per_endpoint: dict[str, EndpointSettings] = {}
        base = EndpointSettings().replace(**default_settings)
        for name, value in (settings or {}).items():
            per_endpoint[name] = value if isinstance(value, EndpointSettings) else base.replace(**dict(value))
        self._errors: list[BaseException] = []
        self._raise_server_errors = raise_server_errors
        self.token = token
        self.access_log = access_log
        self.workspace: MockWorkspace = MockWorkspace(
            schemas,
            token=token,
            documents=documents,
            settings=per_endpoint,
            default_settings=base,
            users=users,
            state_file=state_file,
            config=load_settings_file(config) if config is not None else None,
            max_body_bytes=max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            oauth_token_seconds=oauth_token_seconds,
        )
        for client_id, client_secret in (service_principals or {}).items():
            self.workspace.add_service_principal(client_id, client_secret)
        if not update_seconds >= 0:
            raise ValueError("update_seconds must be 0 or more")
        self.workspace.update_seconds = update_seconds
        self.workspace.set_registry(load_registry(registry or {}, load_options))
        self.workspace.set_inference_dir(inference_dir)
        for name in route_optimized:
            try:
                self.workspace.set_route_optimized(name)
            except KeyError as exc:
                raise ValueError(str(exc.args[0])) from None
        if traffic:
            self.workspace.split_traffic(traffic)
        for endpoint, principal, level in grants:
            self.workspace.set_permission(endpoint, principal, level)
        self._http: MockHTTPServer | None = None
        self._factory = MockHTTPServer
        self._host = host
        self._port = port
        self._thread: threading.Thread | None = None
        self._data_http: MockHTTPServer | None = None
        self._data_thread: threading.Thread | None = None

    # -- lifecycle --

    def bind(self) -> MockServer:
        """Listen on the address (port 0: a free one) without serving yet; `url` is known from here on."""
        if self._http is not None:
            raise RuntimeError("this MockServer is already running")
        from schemakit._exceptions import SourceError

        try:
            self._http = self._factory(
                self.workspace, self._host, self._port, access_log=self.access_log, on_error=self._errors.append
            )
            # The data-plane host of route-optimized endpoints: a second listener, on a free port.
            self._data_http = self._factory(
                self.workspace, self._host, 0, access_log=self.access_log, on_error=self._errors.append, data_plane=True
            )
        except OSError as exc:
            if self._http is not None:
                self._http.server_close()
                self._http = None
            raise SourceError(f"cannot listen on {self._host}:{self._port}: {exc.strerror or exc}") from None
        self.workspace.set_data_plane_url(self._data_http.url)
        self._data_thread = threading.Thread(
            target=self._data_http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="schemakit-mock-data-plane",
            daemon=True,
        )
        self._data_thread.start()
        return self

    def start(self) -> MockServer:
        """Bind and serve in a background thread; returns self. Starting twice is an error."""
        http_server = self.bind()._http
        assert http_server is not None
        self._thread = threading.Thread(
            target=http_server.serve_forever, kwargs={"poll_interval": 0.05}, name="schemakit-mock", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `shutdown()` is called from another one (or a signal handler)."""
        if self._http is None:
            self.bind()
        assert self._http is not None
        try:
            self._http.serve_forever(poll_interval=0.1)
        finally:
            self._http.server_close()
            self._http = None
            self._stop_data_plane()

    def shutdown(self) -> None:
        """Ask `serve_forever` to return; safe from any thread but the one serving."""
        if self._http is not None:
            self._http.shutdown()

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice.

        Raises RuntimeError when a request made the emulator fail internally (a
        bug worth a failing test), unless `raise_server_errors=False`.
        """
        server, thread = self._http, self._thread
        self._http = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._stop_data_plane()
        if self._errors and self._raise_server_errors:
            errors, self._errors = self._errors, []
            raise RuntimeError(f"the emulator failed on {len(errors)} request(s); first: {errors[0]!r}") from errors[0]

    def _stop_data_plane(self) -> None:
        server, thread = self._data_http, self._data_thread
        self._data_http = self._data_thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            # Do not hide the test's own failure behind the emulator's.
            self._raise_server_errors = False
        self.stop()

    @property
    def running(self) -> bool:
        return self._http is not None

    # -- where it listens --

    @property
    def url(self) -> str:
        """The workspace host, `http://127.0.0.1:PORT` (what DATABRICKS_HOST would be)."""
        if self._http is None:
            raise RuntimeError("the MockServer is not running: call start() or use it in a `with` block")
        return self._http.url

    @property
    def data_plane_url(self) -> str:
        """The data-plane host of route-optimized endpoints (their `endpoint_url` is under it)."""
        if self._data_http is None:
            raise RuntimeError("the MockServer is not running: call start() or use it in a `with` block")
        return self._data_http.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def endpoint_url(self, endpoint: str) -> str:
        """`{url}/serving-endpoints/{endpoint}`, the base URL a document's `servers` entry would hold."""
        return f"{self.url}/serving-endpoints/{endpoint}"

    def invocations_url(self, endpoint: str, served_model: str | None = None) -> str:
        base = self.endpoint_url(endpoint)
        return f"{base}/served-models/{served_model}/invocations" if served_model else f"{base}/invocations"

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx client for this server, sending `token` (the admin's by default) as a bearer token."""
        import httpx

        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        return httpx.Client(base_url=self.url, headers=headers, timeout=kwargs.pop("timeout", 30.0), **kwargs)

    # -- principals, permissions and behaviour --

    @property
    def endpoints(self) -> list[str]:
        """The endpoints that exist (not deleted), by name."""
        return self.workspace.endpoint_names

    def add_user(self, name: str, *, token: str, groups: Iterable[str] = (), service_principal: bool = False) -> None:
        """Add a principal that authenticates with `token`; it has no permission until granted one."""
        self.workspace.add_user(name, token=token, groups=groups, service_principal=service_principal)

    def add_service_principal(self, client_id: str, client_secret: str, *, groups: Iterable[str] = ()) -> None:
        """Add a service principal that signs in with OAuth M2M (client credentials at `/oidc/v1/token`).

        It is named by its client id (as `service_principal_name` in permissions) and has no permission
        until granted one.
        """
        self.workspace.add_service_principal(client_id, client_secret, groups=groups)

    def set_permission(self, endpoint: str, principal: str, level: str | None) -> None:
        """Grant CAN_MANAGE, CAN_QUERY or CAN_VIEW on `endpoint` to a user or group (None revokes)."""
        self.workspace.set_permission(endpoint, principal, level)

    def configure(self, endpoint: str, **changes: Any) -> EndpointSettings:
        """Change an endpoint's behaviour (see `EndpointSettings`): lifecycle, faults, latency, traffic.

        Changing `ready_after_polls`, `ready_after_seconds` or `deployment_failed`
        starts a new configuration update from now; changing `throttle_queries` or
        `unavailable_queries` restarts the query count.
        """
        return self.workspace.configure(endpoint, **changes)

    def settings(self, endpoint: str) -> EndpointSettings:
        return self.workspace.settings(endpoint)

    def endpoint_id(self, endpoint: str) -> str:
        """The endpoint's `id`, which the permissions API is addressed by."""
        return self.workspace.endpoint_id(endpoint)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (oldest first): method, path, query, headers, body, status."""
        return self.workspace.requests

    def clear_requests(self) -> None:
        self.workspace.clear_requests()

    def __repr__(self) -> str:
        where = self._http.url if self._http is not None else "stopped"
        return f"MockServer({where}, endpoints={self.endpoints!r})"
