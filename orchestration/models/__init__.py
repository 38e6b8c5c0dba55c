"""Model assets: each trains one model, logs it to MLflow and promotes it when it beats the champion."""
