"""Stock and flow agree, and the choice model reproduces the base year per programme.

- With the fitted constants of a region (configs/calibration/<region>.yaml), the base-year
  September intake of every programme equals its base-year intake (students ÷ the study years an
  intake survives) within sampling noise.
- Under a stationary demography (constant cohorts, no migration), with the choice fitted to it,
  total mbo enrolment stays level (trend < 1 % a year) for 10 years from every allowed start year,
  and the intake per sector stays at its base-year level.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA_DIR

from sim.calibration import TOLERANCE
from sim.choice_calibration import fit_programme_constants
from sim.hydra_config import compose
from sim.runner import simulate

SEEDS = (1, 2, 3)
# the labour market's signals that move intake by design are off here: BBL places that follow the
# cycle and employers' shortage, labour migrants (who arrive with shortage and may start BBL), and
# the weight of job prospects in the sector choice (tightness changes as the older cohorts retire)
STEADY_BBL = ("model.labour.bbl_cycle_elasticity=0", "model.labour.bbl_supervision_elasticity=0",
              "model.labour.labour_migrant_return_rate=0", "model.education.choice.prospects=0",
              "model.education.havo_shift_per_year=0")  # no trend in who chooses mbo


def run(region: str, *overrides: str, seed: int = 1, years: int = 1, fitted=None):
    cfg = compose([f"region={region}", "scale=1", f"years={years}", f"seed={seed}", "progress=false",
                   "write_plots=false", f"data_dir={DATA_DIR}", *overrides])
    if fitted is not None:
        cfg.model.education.participation_constant = fitted.participation_constant
        cfg.model.education.inflow_constant = fitted.inflow_constant
        cfg.model.education.constants_file = None
        cfg.model.education.programme_constants = fitted.programme_constants
        cfg.model.education.adult_constants = fitted.adult_constants
        cfg.model.education.sector_constant = dict.fromkeys(cfg.model.education.sector_constant, 0.0)
    return simulate(cfg)


@pytest.mark.parametrize("region", ["achterhoek", "zeeland", "zuid_limburg"])
def test_base_year_intake_per_programme_matches_its_target(region):
    models = [run(region, seed=s) for s in SEEDS]
    p = models[0].education.programmes
    target = p.base_intake
    intake = np.mean([m.education.intake[0] for m in models], axis=0)
    # the region's total within the calibration's tolerance (5 %)
    assert intake.sum() == pytest.approx(target.sum(), rel=TOLERANCE)
    # Poisson-like noise of a mean of three draws, plus one person for rounding and capacity
    z = np.abs(intake - target) / np.sqrt(np.maximum(target, 1) / len(SEEDS))
    bad = np.flatnonzero(np.abs(intake - target) > 4 * np.sqrt(np.maximum(target, 1) / len(SEEDS)) + 1)
    detail = [(p.programme_id[j], round(target[j], 1), round(intake[j], 1)) for j in bad[:5]]
    assert bad.size <= max(1, round(0.02 * p.n)), f"{bad.size} of {p.n} programmes off target: {detail}"
    assert np.median(z) < 1.5  # most programmes sit well within the noise


@pytest.fixture(scope="module")
def stationary_fit():
    return fit_programme_constants("zuid_limburg", ["demography=stationary", f"data_dir={DATA_DIR}", *STEADY_BBL])


@pytest.mark.parametrize("start_year", range(2021, 2041))
def test_stationary_demography_keeps_enrolment_level(stationary_fit, start_year):
    model = run("zuid_limburg", "demography=stationary", f"start_year={start_year}", *STEADY_BBL, years=10,
                fitted=stationary_fit)
    edu = model.education
    enrolled = edu.enrolled[:10].sum(1).astype(float)
    # the drift: a linear trend of less than 0.5 % a year; around it only sampling noise (one run at
    # full scale: the intake of ~5,000 a year varies by ~1 %, so no year strays 2.5 % from the trend)
    years, level = np.arange(10), enrolled / enrolled[0]
    slope, intercept = np.polyfit(years, level, 1)
    assert abs(slope) < 0.005, f"trend {slope:+.2%} a year; enrolment {enrolled.astype(int).tolist()}"
    residual = level - (intercept + slope * years)
    assert np.abs(residual).max() < 0.025, f"enrolment {enrolled.astype(int).tolist()}"
    p = edu.programmes
    by_sector = np.stack([np.bincount(p.sector, weights=edu.intake[y], minlength=11) for y in range(10)])
    target = np.bincount(p.sector, weights=p.base_intake, minlength=11)
    # a sector's intake is over-dispersed against Poisson (Entree entrants return as level-2
    # doorstroom the next year; choices are drawn per group): 4.5 Poisson SDs plus 3 %
    noise = 4.5 * np.sqrt(np.maximum(target, 1)) + 0.03 * target
    assert (np.abs(by_sector - target[None, :]) <= noise[None, :]).all(), (by_sector.round(), target.round())
