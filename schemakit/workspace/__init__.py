"""The workspace client: `schemakit fetch`, `endpoint:` sources and the endpoint commands.

- `auth`: credentials (flags, environment, `~/.databrickscfg`, databricks-sdk);
- `client`: `Workspace`, the serving-endpoints REST API and what it answers (`EndpointStatus`, ...);
- `transport`: retries, error mapping and scrubbing, over `schemakit.runtime.http`.
"""
