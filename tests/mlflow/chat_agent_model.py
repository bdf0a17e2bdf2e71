"""A ChatAgent (models-from-code) that answers with one assistant message echoing what it received.

The message's content is JSON: the messages (as MLflow parsed them, without unset fields), the context and
the custom_inputs the agent was called with. The agreement suite compares the echo with what it sent.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
from mlflow.pyfunc import ChatAgent
from mlflow.types.agent import ChatAgentMessage, ChatAgentResponse, ChatContext


class EchoChatAgent(ChatAgent):
    def predict(  # type: ignore[override]
        self,
        messages: list[ChatAgentMessage],
        context: ChatContext | None = None,
        custom_inputs: dict[str, Any] | None = None,
    ) -> ChatAgentResponse:
        echo = {
            "messages": [m.model_dump(exclude_none=True) for m in messages],
            "context": context.model_dump(exclude_none=True) if context is not None else None,
            "custom_inputs": custom_inputs,
        }
        reply = ChatAgentMessage(role="assistant", content=json.dumps(echo, default=repr), id="echo-1")
        return ChatAgentResponse(messages=[reply], custom_outputs={"seen": len(messages)})


mlflow.models.set_model(EchoChatAgent())
