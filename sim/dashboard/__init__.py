"""The dashboard for the commission (``mbo-sim-dashboard``): choose a region, a scenario and levers,
run, compare the arms, browse earlier results.

No Streamlit outside :mod:`sim.dashboard.app`: :mod:`~sim.dashboard.scenario` turns the inputs into the
CLI's overrides and checks them, :mod:`~sim.dashboard.jobs` runs them in a background process with the
CLI's runner into a normal experiment folder, :mod:`~sim.dashboard.views` reads such a folder into the
tables and figures the page shows, :mod:`~sim.dashboard.text` holds the Dutch and English labels.
"""
