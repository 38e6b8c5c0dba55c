"""Raw data assets: the simulator (default) writing the raw contract tables."""
