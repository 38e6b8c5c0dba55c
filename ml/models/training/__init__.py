"""Training entry points: read the warehouse, fit a model, log it to MLflow and promote it if it beats the champion."""
