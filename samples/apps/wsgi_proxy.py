"""A WSGI app behind the validating middleware (standard library server).

    python samples/apps/wsgi_proxy.py            # serves on 127.0.0.1:8001
    curl -s localhost:8001/served-models/vanilla_simple_model-2/invocations \
         -d '{"dataframe_records": [{"int_col": 1.5, "float_col": 1, "string_col": "a"}]}'
"""

import json
import os
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import schemakit

SCHEMA = schemakit.load(str(Path(__file__).resolve().parent.parent / "docs-example-dataframe.json"))


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = json.loads(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"accepted": True, "format": next(iter(body))}).encode()]


application = schemakit.PayloadValidationWSGIMiddleware(app, SCHEMA)

if __name__ == "__main__":
    with make_server("127.0.0.1", int(os.environ.get("PORT", "8001")), application) as server:
        server.serve_forever()
