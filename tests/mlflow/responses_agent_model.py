"""A ResponsesAgent (models-from-code) that answers with one output text item echoing the request it received.

The text is JSON: the request as MLflow parsed it (`ResponsesAgentRequest.model_dump`, without unset fields).
"""

from __future__ import annotations

import json

import mlflow
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentRequest, ResponsesAgentResponse


class EchoResponsesAgent(ResponsesAgent):
    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        echo = request.model_dump(exclude_none=True)
        item = self.create_text_output_item(text=json.dumps(echo, default=repr), id="echo-1")
        return ResponsesAgentResponse(output=[item], custom_outputs={"seen": len(request.input)})


mlflow.models.set_model(EchoResponsesAgent())
