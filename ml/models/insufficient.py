"""The one error a model raises when the data cannot support it, so the pipeline goes on without that model.

A user's own data often lacks what one model needs (no user-level revenue, no market feed, a few days only, weekly
instead of hourly rows). That is not a fault of pmi: the training step says why in one line, records it, and the
rest of the pipeline runs with the models it could fit.
"""

from __future__ import annotations


class InsufficientDataError(ValueError):
    """The warehouse's data cannot support this model (the message says what is missing, in a user's words)."""
