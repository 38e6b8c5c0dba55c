"""Evaluation on data the project does not own: campaign histories from response families and noise the simulator
does not use, an oracle that knows their true curves, and the constraint checks every allocation must pass."""
