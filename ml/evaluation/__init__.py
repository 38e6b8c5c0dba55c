"""Evaluation against the simulator's hidden truth, for benchmarks and tests only: nothing here is a model input.

Modules here may read simulator internals (its priors, its event-timing law), which the models must never see;
that is why they live apart from ``ml/models``.
"""
