"""Analysis of finished runs and experiments: paired comparisons, the experiment report.

Reads what the runtime wrote (or calls it, for ``mbo-sim-compare``); nothing in the runtime imports
this package.
"""
