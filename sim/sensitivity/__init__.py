"""Global sensitivity analysis and scenario discovery (issue 14): the registry of uncertain inputs
(``configs/uncertainty.yaml``), SALib designs run through the Hydra launcher, SALib indices, EMA
Workbench PRIM. See docs/sensitivity.md."""
