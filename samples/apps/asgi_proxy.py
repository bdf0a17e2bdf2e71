"""An ASGI proxy that validates request bodies before forwarding them to a serving endpoint.

    python samples/apps/asgi_proxy.py            # serves on 127.0.0.1:8000
    curl -s localhost:8000/served-models/vanilla_simple_model-2/invocations \
         -d '{"dataframe_split": {"data": [[1, "x", "a"]]}}'

Set UPSTREAM (e.g. https://<host>/serving-endpoints/example-endpoint) and DATABRICKS_TOKEN to
forward valid requests; without UPSTREAM, valid requests are answered with {"accepted": true}.

The proxy holds a token, so it forwards only what it validated: a POST to `/invocations` or to
`/served-models/<name>/invocations` of a served model the document names. The upstream URL is built
from that validated route, never from the request's path, so `..`, `%2e%2e`, `//` or a backslash
cannot reach any other workspace API. Other methods on those routes get 405, other paths 404.
"""

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import uvicorn

import schemakit

SCHEMA = schemakit.load(str(Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"))
UPSTREAM = os.environ.get("UPSTREAM")
SERVED_MODELS = frozenset(model.name for model in SCHEMA.models)
_ROUTE = re.compile(r"/(?:served-models/(?P<name>[^/]+)/)?invocations")


def route(path: str, raw_path: bytes | None = None) -> str | None:
    """The upstream path for a request path, or None: only the invocation routes, exactly as written."""
    # The raw path must be the decoded one: no percent-escapes (%2e%2e, %2f) to smuggle segments past us.
    if raw_path is not None and raw_path.split(b"?", 1)[0] != path.encode("utf-8", "surrogateescape"):
        return None
    found = _ROUTE.fullmatch(path)
    if found is None:
        return None
    name = found["name"]
    if name is None:
        return "/invocations"
    if name not in SERVED_MODELS:
        return None
    return f"/served-models/{quote(name, safe='')}/invocations"


async def _answer(send: Any, status: int, content: bytes, *headers: tuple[bytes, bytes]) -> None:
    start = [(b"content-type", b"application/json"), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": content})


async def forward(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    target = route(scope["path"], scope.get("raw_path"))
    if target is None:
        await _answer(send, 404, b'{"error_code": "NOT_FOUND", "message": "no such route"}')
        return
    if scope["method"] != "POST":
        await _answer(send, 405, b'{"error_code": "METHOD_NOT_ALLOWED", "message": "POST only"}', (b"allow", b"POST"))
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if UPSTREAM:
        headers = {
            "Authorization": f"Bearer {os.environ.get('DATABRICKS_TOKEN', '')}",
            "Content-Type": "application/json",
        }
        async with httpx.AsyncClient(timeout=60, follow_redirects=False) as client:
            answer = await client.post(UPSTREAM.rstrip("/") + target, content=body, headers=headers)
        status, content = answer.status_code, answer.content
    else:
        status, content = 200, b'{"accepted": true}'
    await _answer(send, status, content)


# Every POST is validated (paths=None), whatever its path: the proxy forwards no other.
app = schemakit.PayloadValidationASGIMiddleware(forward, SCHEMA)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
