"""Budget allocation: the hourly loop on the warehouse (inputs -> trajectories -> propose -> simulate -> refine ->
apply) here, and portfolio/, the library behind `pmi allocate`, whose curves and current-budget window the loop
reuses."""
