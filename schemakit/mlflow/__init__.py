"""The MLflow bridge: a serving document from an MLflow model's signature (`mlflow:` sources)."""
