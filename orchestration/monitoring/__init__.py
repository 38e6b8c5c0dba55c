"""Monitoring: prediction accuracy as an asset, and the sensor that retrains when MAPE drifts."""
