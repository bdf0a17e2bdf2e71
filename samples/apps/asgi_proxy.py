"""An ASGI proxy that validates request bodies before forwarding them to a serving endpoint.

    python samples/apps/asgi_proxy.py            # serves on 127.0.0.1:8000
    curl -s localhost:8000/served-models/vanilla_simple_model-2/invocations \
         -d '{"dataframe_split": {"data": [[1, "x", "a"]]}}'

Set UPSTREAM (e.g. https://<host>/serving-endpoints/example-endpoint) and DATABRICKS_TOKEN to
forward valid requests; without UPSTREAM, valid requests are answered with {"accepted": true}.
"""

import os
from pathlib import Path
from typing import Any

import httpx
import uvicorn

import schemakit

SCHEMA = schemakit.load(str(Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"))
UPSTREAM = os.environ.get("UPSTREAM")


async def forward(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if UPSTREAM:
        headers = {"Authorization": f"Bearer {os.environ.get('DATABRICKS_TOKEN', '')}"}
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.post(UPSTREAM + scope["path"], content=body, headers=headers)
        status, content = answer.status_code, answer.content
    else:
        status, content = 200, b'{"accepted": true}'
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": content})


app = schemakit.PayloadValidationASGIMiddleware(forward, SCHEMA)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")))
