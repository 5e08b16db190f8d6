"""mbo-sim: agent-based simulation of a Dutch region's labour market and mbo provision."""

__version__ = "0.1.0"
