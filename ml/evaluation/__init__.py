"""Evaluation, for benchmarks and tests only (nothing here is a model input): campaign histories from response
families and noise the simulator does not use, an oracle that knows their true curves and the constraint checks
every allocation must pass; and the simulator's hidden truth (its priors, its event-timing law), which the models
must never see, so it lives apart from ``ml/models``."""
