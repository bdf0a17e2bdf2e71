"""`schemakit mock`: a local emulator of the serving-endpoints REST API on 127.0.0.1.

- `server`: `MockServer`, the library and pytest entry point (the CLI is a thin layer over it);
- `emulator`: `MockWorkspace`, routing each request to its API area;
- `core`: the emulated state (endpoints, principals, permissions, the request log) and the
  checks every area shares;
- `management`: list, details, the query schema, logs, stop/start/delete, permissions;
- `queries`: invocations, validated and answered; `streaming`: `"stream": true` as server-sent events;
- `responses`: deterministic, schema-shaped predictions; `state`: settings and the state file;
- `http`: the socket, with body limits no header can lift.
"""
