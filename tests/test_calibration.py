"""The calibration: its targets, the check table, and the fitted values it writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR

from sim import calibration
from sim.codes import SECTORS
from sim.hydra_config import CONFIG_DIR, compose
from sim.io.loaders import load_region
from sim.processes.demography import cohort_ratio, single_year_table
from sim.regions import REGIONS


def test_cohort_ratio_follows_the_age_bands():
    """16-22-year-olds in 2025 vs 2021 from single years of age in 2021, computed by hand."""
    by_age = np.zeros(100)
    by_age[10:15], by_age[15:20], by_age[20:25] = 100, 200, 300
    # 2021: ages 16-22 = 16..19 (4 × 200) + 20..22 (3 × 300) = 1700
    # 2025: ages 12-18 in 2021 = 12..14 (3 × 100) + 15..18 (4 × 200) = 1100
    assert cohort_ratio(by_age, 0.0, 2021, 2025) == pytest.approx(1100 / 1700)
    assert cohort_ratio(by_age, 0.0, 2025, 2025) == 1.0
    # after the data: ages 16-22 in 2045 were -8..-2 in 2021, all the age-0 cohort (0 here) grown
    by_age[0] = 100
    assert cohort_ratio(by_age, 0.1, 2044, 2045) == pytest.approx(1.1)


@pytest.mark.parametrize("region", REGIONS)
def test_targets_come_from_the_data(region):
    data = load_region(region, DATA_DIR)
    tgt = calibration.targets(region, str(DATA_DIR))
    inst = data.institutions[data.institutions["in_region"]]  # the region's own sites
    assert tgt["bbl_share"] == pytest.approx((inst["students_base"] * inst["bbl_share"]).sum()
                                             / inst["students_base"].sum())
    for key in ("enrolment_by_sector", "intake_by_sector", "employment_by_sector"):
        assert tgt[key].sum() == pytest.approx(1.0)
        assert (tgt[key] >= 0).all()
    by_sector = inst.groupby("sector")["students_base"].sum().reindex(SECTORS, fill_value=0)
    np.testing.assert_allclose(tgt["enrolment_by_sector"], by_sector / by_sector.sum())
    cfg = compose([f"region={region}"])
    ratio = cohort_ratio(single_year_table(data.population_bands, 1.0).sum(0), cfg.demography.cohort_growth_after_data,
                         cfg.region.enrolment_source_year, cfg.start_year)
    assert tgt["enrolment_total"] == pytest.approx(inst["students_base"].sum() * ratio)


def test_table_reports_every_calibrated_figure():
    df = calibration.table("zeeland", scale=0.05, seeds=(1,))
    figures = set(df["figure"])
    assert figures == {"population_by_age_band", "enrolment_total", "bbl_share", "enrolment_share_by_sector",
                       "intake_share_by_sector", "employment_share_by_sector", "vacancies_per_unemployed",
                       "unemployment_drift", "unemployment_rate", "uwv_tightness_class", "mbo_participation",
                       "outflow_share",
                       "inflow_share"}
    for fig in ("enrolment_share_by_sector", "intake_share_by_sector", "employment_share_by_sector"):
        assert sorted(df.loc[df["figure"] == fig, "item"]) == sorted(SECTORS)
    values = df[df["figure"].isin(["enrolment_total", "bbl_share", "vacancies_per_unemployed"])]
    gap = (values["model"] - values["source"]) / values["source"]
    np.testing.assert_allclose(values["gap"], gap)
    assert (values["within_5pct"] == (gap.abs() <= calibration.TOLERANCE)).all()
    # the population is built from the same bands: at scale 0.05 only rounding separates them
    pop = df[df["figure"] == "population_by_age_band"]
    assert (pop["gap"].abs() < 0.01).all()


def test_fitted_values_are_written_as_a_config_the_model_reads(tmp_path):
    """write_fitted produces a calibration file that Hydra composes into the model's parameters
    (in a copy of the config tree, so the project's fitted values stay untouched)."""
    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs, symlinks=True)
    values = {"model.education.mbo_share": 0.61, "model.labour.matching_efficiency": 0.33,
              "model.education.sector_constant.care": 0.25}
    calibration.write_fitted("zeeland", values, 1e-3, config_dir=configs)
    cfg = compose(["region=zeeland"], config_dir=configs)
    assert cfg.model.education.mbo_share == pytest.approx(0.61)
    assert cfg.model.labour.matching_efficiency == pytest.approx(0.33)
    assert cfg.model.education.sector_constant["care"] == pytest.approx(0.25)
    assert compose(["region=achterhoek"], config_dir=configs).model.education.mbo_share != pytest.approx(0.61)
    assert compose(["region=zeeland"]).model.education.mbo_share != pytest.approx(0.61)


def test_calibration_command_writes_the_table(tmp_path):
    out = tmp_path / "calibration"  # a new folder: mbo-sim never writes into a folder that is not its own
    assert calibration.main(["--regions", "achterhoek", "--scale", "0.05", "--seeds", "1",
                             "--out", str(out)]) == 0
    df = pd.read_csv(out / "calibration.csv")
    assert set(df["region"]) == {"achterhoek"}
    assert (out / "calibration.md").is_file()


def test_fitted_constants_go_to_a_table_the_config_names_and_checks(tmp_path):
    """The per-programme constants are written to calibration/<region>_constants.csv, which the YAML
    names with its sha256; the model reads them from there, and a changed table is one clear error."""
    from sim.config import ConfigError
    from sim.io.constants import read_constants

    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs, symlinks=True)
    values = {"model.labour.matching_efficiency": 0.33,
              "model.education.programme_constants.scalda/goes/25160/BOL": 1.23456,
              "model.education.adult_constants.scalda/goes/25160/BBL": -0.5}
    calibration.write_fitted("zeeland", values, 1e-3, config_dir=configs)
    assert "programme_constants" not in (configs / "calibration" / "zeeland.yaml").read_text()
    edu = compose(["region=zeeland"], config_dir=configs).model.education
    assert Path(edu.constants_file) == (configs / "calibration" / "zeeland_constants.csv").resolve()
    got = read_constants(edu.constants_file, edu.constants_sha256)
    assert got == {"programme_constants": {"scalda/goes/25160/BOL": 1.235},
                   "adult_constants": {"scalda/goes/25160/BBL": -0.5}}
    table = Path(edu.constants_file)
    table.write_text(table.read_text().replace("1.235", "9.9"))
    with pytest.raises(ConfigError, match="constants_file .* changed since the fit"):
        read_constants(edu.constants_file, edu.constants_sha256)


def test_the_shipped_constants_are_the_ones_the_model_uses():
    """Every shipped region's table matches the sha256 its config names (the model refuses unknown
    programme ids itself: EducationProcess.fitted)."""
    from sim.io.constants import read_constants

    for region in REGIONS:
        edu = compose([f"region={region}"]).model.education
        got = read_constants(edu.constants_file, edu.constants_sha256)
        assert len(got["programme_constants"]) > 500 and len(got["adult_constants"]) > 250


def test_a_fit_runs_the_model_with_its_own_constants_not_the_shipped_ones():
    """The Nelder–Mead stage runs the base year with the choice fit's constants only. With the
    shipped constants file merged in, a fit after the data changed failed on programme ids the data
    no longer have (and a constant the fit left out came from the old file)."""
    from sim.choice_calibration import ChoiceFit
    from sim.processes.education import choice

    fit = ChoiceFit({}, {}, 0.25, 0.5, 0.7, 0.7, 0.0, 0)  # no programme or adult constants at all
    res = calibration.base_year("zeeland", ["years=1", f"data_dir={DATA_DIR}"], 0.02, 1,
                                calibration.choice_education(fit))
    edu = res["model"].education
    base = choice.intake_constants(edu.programmes.base_intake, edu.cfg.choice.nest_scale)
    assert np.array_equal(edu.asc, base)  # with the shipped file, the fitted δ's of ~880 programmes
    assert edu.cfg.participation_constant == 0.25 and edu.cfg.inflow_constant == 0.5


def test_the_choice_fit_says_when_targets_are_out_of_reach():
    from sim.choice_calibration import ChoiceFit

    reached = ChoiceFit({}, {}, 0.0, 0.0, 0.72, 0.72, 9e-5, 0).summary()
    short = ChoiceFit({}, {}, 0.0, 0.0, 0.90, 0.84, 9e-5, 272).summary()
    assert "0.720 (target 0.720)" in reached and "bound" not in reached
    assert "0.840 (target 0.900)" in short and "272 programme constants at the bound" in short


# --- the regional vacancy profile, fitted to UWV's classes ---------------------------------------------
def test_class_bands_are_the_uwv_intervals():
    assert calibration.class_band("tight") == (1.5, 4.0)
    assert calibration.class_band("tight or very tight") == (1.5, np.inf)
    assert calibration.class_band("very slack") == (0.0, 0.25)
    with pytest.raises(calibration.DataError, match="unknown class 'tightish'"):
        calibration.class_band("tightish")


def test_profile_factors_move_reachable_sectors_into_their_class_and_keep_the_total():
    bands = [calibration.class_band(c) for c in
             ("very tight", "very tight", "tight", "very tight", "tight")]
    indicator = np.array([3.7, 6.0, 4.2, 2.0, 2.5])  # 0 and 2 miss within reach, 3 is out of reach
    vacancies = np.array([100.0, 50.0, 80.0, 30.0, 60.0])
    f = calibration.profile_factors(np.ones(5), indicator, vacancies, bands)
    new = indicator * f
    margin, cap = calibration.CLASS_MARGIN, calibration.PROFILE_CAP
    assert new[0] >= 4.0 * margin - 1e-6 and new[2] <= 4.0 / margin + 1e-6  # moved inside, with the margin
    assert new[1] >= 4.0 * margin and 1.5 * margin <= new[4] <= 4.0 / margin  # stay inside
    assert new[3] < 4.0  # out of reach: not forced (it would need ×2)
    assert np.all((f >= 1 / cap - 1e-9) & (f <= cap + 1e-9))
    assert vacancies @ f == pytest.approx(vacancies.sum(), rel=1e-6)
    # a second step from the new state (indicator measured with f) keeps it: the fit is a fixed point
    again = calibration.profile_factors(f, new, vacancies * f, bands)
    np.testing.assert_allclose(again, f, rtol=1e-3, atol=1e-4)


def test_profile_factors_leave_a_region_in_its_classes_at_the_national_profile():
    bands = [calibration.class_band("tight or very tight")] * 3
    f = calibration.profile_factors(np.ones(3), np.array([2.0, 3.0, 5.0]), np.array([1.0, 2.0, 3.0]), bands)
    np.testing.assert_allclose(f, 1.0, atol=1e-4)
