"""Media-mix modelling for channel-level homes: one thin asset over ml/models/mmm."""
