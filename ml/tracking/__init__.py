"""MLflow tracking and the model registry (champion alias), kept under PMI_HOME."""
