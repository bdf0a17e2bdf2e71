"""An MLflow model (models-from-code) that answers one prediction per row, echoing what it received.

Each prediction is a JSON string: for every column the pandas dtype and the value the model got after
MLflow parsed and enforced the payload, plus the params it was called with. The agreement suite compares
these echoes with what it sent, to catch payloads MLflow accepts but silently changes.
"""

from __future__ import annotations

import base64
import datetime
import json
import math
from typing import Any

import mlflow
import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-safe rendering that keeps what JSON would lose (NaN, bytes, timestamps)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return {"null": type(value).__name__}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (pd.Timestamp, datetime.datetime, datetime.date, np.datetime64)):
        return {"datetime": pd.Timestamp(value).isoformat()}
    if isinstance(value, np.ndarray):
        return [plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return {"repr": repr(value)}


class EchoModel(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        echoed_params = plain(params or {})
        if isinstance(model_input, pd.DataFrame):
            rows = []
            for index in range(len(model_input)):
                columns = {
                    str(name): {"dtype": str(model_input[name].dtype), "value": plain(model_input[name].iloc[index])}
                    for name in model_input.columns
                }
                rows.append(json.dumps({"columns": columns, "params": echoed_params}))
            return rows
        if isinstance(model_input, dict):
            names = list(model_input)
            count = len(model_input[names[0]]) if names else 0
            return [
                json.dumps(
                    {
                        "tensors": {
                            name: {
                                "dtype": str(np.asarray(model_input[name]).dtype),
                                "value": plain(model_input[name][i]),
                            }
                            for name in names
                        },
                        "params": echoed_params,
                    }
                )
                for i in range(count)
            ]
        array = np.asarray(model_input)
        return [
            json.dumps({"tensor": {"dtype": str(array.dtype), "value": plain(array[i])}, "params": echoed_params})
            for i in range(len(array))
        ]


mlflow.models.set_model(EchoModel())
