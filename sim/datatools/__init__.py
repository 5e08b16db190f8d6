"""Tools that refresh the input data from their sources (command ``mbo-sim-data``).

Not part of the runtime: the model reads only the shipped files in ``data/``.
"""
