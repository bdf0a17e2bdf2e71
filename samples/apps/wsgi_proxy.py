"""A WSGI app behind the validating middleware (standard library server).

    python samples/apps/wsgi_proxy.py            # serves on 127.0.0.1:8001
    curl -s localhost:8001/served-models/vanilla_simple_model-2/invocations \
         -d '{"dataframe_records": [{"int_col": 1.5, "float_col": 1, "string_col": "a"}]}'

It answers only a POST to `/invocations` or `/served-models/<name>/invocations` of a served model the
document names (405 for other methods there, 404 for other paths), as a proxy holding a token must:
the middleware validates POST bodies only, so no other request may go on. Behind a production WSGI
server, set its own body timeout (gunicorn `--timeout`): a WSGI app cannot bound a dripping client.
"""

import json
import os
import re
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import schemakit

SCHEMA = schemakit.load(str(Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"))
SERVED_MODELS = frozenset(model.name for model in SCHEMA.models)
_ROUTE = re.compile(r"/(?:served-models/(?P<name>[^/]+)/)?invocations")


def route(path: str) -> bool:
    """Whether the (decoded) path is one of the invocation routes, exactly as written."""
    found = _ROUTE.fullmatch(path)
    return found is not None and (found["name"] is None or found["name"] in SERVED_MODELS)


def _json(start_response: Any, status: str, value: Any, *headers: tuple[str, str]) -> list[bytes]:
    start_response(status, [("Content-Type", "application/json"), *headers])
    return [json.dumps(value).encode()]


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if not route(environ.get("PATH_INFO", "")):
        return _json(start_response, "404 Not Found", {"error_code": "NOT_FOUND", "message": "no such route"})
    if environ.get("REQUEST_METHOD") != "POST":
        answer = {"error_code": "METHOD_NOT_ALLOWED", "message": "POST only"}
        return _json(start_response, "405 Method Not Allowed", answer, ("Allow", "POST"))
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    return _json(start_response, "200 OK", {"accepted": True, "format": next(iter(body))})


application = schemakit.PayloadValidationWSGIMiddleware(app, SCHEMA)

if __name__ == "__main__":
    with make_server("127.0.0.1", int(os.environ.get("PORT", "8001")), application) as server:
        server.serve_forever()
