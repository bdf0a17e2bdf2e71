"""The deploy gate task: will model version CANDIDATE break the callers of ENDPOINT?

Usage: deploy_gate.py ENDPOINT MODEL CANDIDATE, for example `ads main.ads.ads_model 5`. Compares the
live endpoint's schema with the candidate's (`schemakit diff endpoint:ENDPOINT mlflow:models:/... --gate`)
and exits 1 when requests that worked would stop working or responses would change shape, so the
job's deploy task never runs. Inside a job the workspace's own credentials are used (DATABRICKS_HOST
and DATABRICKS_TOKEN, or a profile); MLflow reads the registry of the same workspace.
"""

from __future__ import annotations

import os
import sys

from schemakit.cli.main import main


def gate(endpoint: str, model: str, candidate: str) -> None:
    if not candidate:
        sys.exit("deploy_gate.py: the job parameter `candidate` (a model version) is empty")
    os.environ.setdefault("MLFLOW_TRACKING_URI", "databricks")
    os.environ.setdefault("MLFLOW_REGISTRY_URI", "databricks-uc")
    served_model = f"{model.rsplit('.', 1)[-1]}-{candidate}"
    source = f"mlflow:models:/{model}/{candidate}#endpoint={endpoint}&served-model={served_model}"
    main(["diff", f"endpoint:{endpoint}", source, "--gate"])


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: deploy_gate.py ENDPOINT MODEL CANDIDATE")
    gate(*sys.argv[1:4])
