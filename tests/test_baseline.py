"""Fixed-output regression: every results table of the baseline cases hashes as stored.

A failure names the case and the tables that changed. If the change of behaviour is deliberate,
update the store with ``make baseline`` and say why in the commit (see tests/baseline.py).
"""

from __future__ import annotations

import json

import pytest
from baseline import CASES, STORE, run_case

STORED = json.loads(STORE.read_text())


def test_store_covers_every_case():
    assert sorted(STORED) == sorted(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_unchanged(case):
    now = run_case(CASES[case])
    changed = sorted(t for t in now if STORED[case].get(t) != now[t])
    assert not changed, f"{case}: tables changed: {changed} (deliberate? `make baseline` and say why)"
