"""mbo-sim's Hydra sweeper (``hydra/sweeper=mbo``): Hydra finds plugins in the ``hydra_plugins`` namespace."""
