"""An MLflow model (models-from-code) that answers twice its input `x`, plus 1 above `bump` (its model config).

Version 1 (no bump) and version 2 (bump 5) answer alike for x <= 5 and differently above: shadow replay of
version 1's logged answers against version 2 must report exactly the requests with x > 5.
"""

from __future__ import annotations

from typing import Any

import mlflow


class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def load_context(self, context: Any) -> None:
        self.bump = float((context.model_config or {}).get("bump", float("inf")))

    def predict(self, context: Any, model_input: Any, params: Any = None) -> list[float]:
        return [x * 2.0 + (1.0 if x > self.bump else 0.0) for x in model_input["x"].tolist()]


mlflow.models.set_model(Doubler())
