"""The hourly allocation loop on the warehouse: inputs -> trajectories -> propose -> simulate -> refine -> apply."""
