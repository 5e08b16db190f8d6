"""The configuration schema: typed dataclasses that Hydra composes into and that the model takes.

Hydra (see :mod:`sim.hydra_config`, the glue, and :mod:`sim.cli`) composes ``sim/configs/`` onto
:class:`Config`, so an unknown key or a value of the wrong type is rejected while composing. Range
checks live in ``__post_init__`` and name the full key of the offending value; the policy levers
check their own parameters (:func:`sim.hydra_config.to_config` calls them). Every real-world
number lives in the YAML files under ``configs/`` with its source; the defaults here are only
placeholders for the types. This module imports nothing of the model, the agents or the policies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

from sim.codes import SECTORS
from sim.regions import REGIONS

MAX_FUNDING_LAG_YEARS = 5  # model.institutions.funding_count_lag_years (DUO: 2)
TRAVEL_MODES = ("public", "pt", "car", "straight_line")  # sim.geography


class ConfigError(ValueError):
    """A configuration value is not allowed; the message names the key and what is allowed."""


def check_share(key: str, value: float) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"{key} = {value!r}: must be a rate/share in [0, 1]")


def check_positive(key: str, value: float, allow_zero: bool = False) -> None:
    ok = value >= 0 if allow_zero else value > 0
    if not isinstance(value, int | float) or math.isnan(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{key} = {value!r}: must be {bound}")


def check_sector_dict(key: str, d: dict[str, float], *, complete: bool) -> None:
    unknown = sorted(set(d) - set(SECTORS))
    if unknown:
        raise ConfigError(f"{key}: unknown sector(s) {unknown}; allowed: {list(SECTORS)}")
    if complete:
        missing = sorted(set(SECTORS) - set(d))
        if missing:
            raise ConfigError(f"{key}: missing sector(s) {missing}; every sector needs a value")


@dataclass
class RegionConfig:
    name: str = MISSING  # one of REGIONS
    label: str = MISSING
    centre_municipality: str = MISSING
    participation_factor: float = 1.0  # regional employment rate relative to national by age
    unemployment_rate: float = 0.035  # unemployed / labour force in the base year
    social_assistance_share: float = 0.03  # residents 18-66 on bijstand in the base year
    enrolment_source_year: int = 2021  # year of the institutions' enrolment figures (calibration target)

    def validate(self) -> None:
        if self.name not in REGIONS:
            raise ConfigError(f"region.name = {self.name!r}: unknown region; allowed: {list(REGIONS)}")
        check_positive("region.participation_factor", self.participation_factor)
        check_share("region.unemployment_rate", self.unemployment_rate)
        check_share("region.social_assistance_share", self.social_assistance_share)
        if not 2010 <= self.enrolment_source_year <= 2040:
            raise ConfigError(f"region.enrolment_source_year = {self.enrolment_source_year}: must be in [2010, 2040]")


@dataclass
class DemographyConfig:
    name: str = MISSING
    cohort_growth_after_data: float = 0.0  # annual change of the 15-year-old cohort after 2036
    out_migration_factor: float = 1.0  # multiplies the negative net migration rates by age (leaving)
    in_migration_factor: float = 1.0  # multiplies the positive net migration rates by age (arriving)
    mortality_factor: float = 1.0
    # true: every cohort the size of the base data's mean 10-19-year-old cohort (per municipality),
    # for ages 0-29, and no migration: a steady state for checking stock-flow consistency
    stationary: bool = False
    stationary_ages: int = 30  # under stationary: the ages (0 … stationary_ages − 1) given equal cohorts

    def validate(self) -> None:
        if not 20 <= self.stationary_ages <= 100:
            raise ConfigError(f"demography.stationary_ages = {self.stationary_ages!r}: must be in [20, 100]")
        if not -0.2 <= self.cohort_growth_after_data <= 0.2:
            raise ConfigError(
                f"demography.cohort_growth_after_data = {self.cohort_growth_after_data}: "
                "must be an annual rate in [-0.2, 0.2]"
            )
        check_positive("demography.out_migration_factor", self.out_migration_factor, allow_zero=True)
        check_positive("demography.in_migration_factor", self.in_migration_factor, allow_zero=True)
        check_positive("demography.mortality_factor", self.mortality_factor, allow_zero=True)


@dataclass
class EconomyConfig:
    name: str = MISSING
    # annual growth of each sector's labour demand (fraction per year)
    sector_growth: dict[str, float] = field(default_factory=dict)
    # care demand follows the 75+ population with this elasticity, on top of sector_growth.care
    care_elasticity_75plus: float = 0.0
    # a demand shock: all sectors' demand multiplied by (1 - shock_depth) in the shock years
    shock_start_year: int = 0
    shock_years: int = 0
    shock_depth: float = 0.0
    # BBL places move more than demand: in the shock years they fall by bbl_sensitivity × shock_depth
    bbl_sensitivity: float = 0.0

    def validate(self) -> None:
        check_sector_dict("economy.sector_growth", self.sector_growth, complete=True)
        for s, g in self.sector_growth.items():
            if not -0.2 <= g <= 0.2:
                raise ConfigError(f"economy.sector_growth.{s} = {g}: must be in [-0.2, 0.2] per year")
        check_positive("economy.care_elasticity_75plus", self.care_elasticity_75plus, allow_zero=True)
        check_share("economy.shock_depth", self.shock_depth)
        if not 0 <= self.bbl_sensitivity * self.shock_depth <= 1:
            raise ConfigError("economy.bbl_sensitivity: bbl_sensitivity × shock_depth must be in [0, 1]")
        check_positive("economy.shock_years", self.shock_years, allow_zero=True)


@dataclass
class TravelConfig:
    mode: str = "public"  # students: school choice, reach, coverage, transfers (sim.geography)
    adult_mode: str = "car"  # adults (BBL, LLO) and commuting
    detour_factor: float = 1.3  # the straight_line mode only
    speed_kmh: float = 45.0
    intra_municipal_minutes: float = 10.0
    max_travel_minutes: float = 45.0  # "within reach": coverage, transfers at a merger, adults' BBL
    choice_set_minutes: float = 90.0  # school leavers consider programmes up to this far from home
    # coverage is also reported at these thresholds (besides max_travel_minutes): reach.parquet
    coverage_minutes: list[float] = field(default_factory=lambda: [30.0, 60.0])

    def validate(self) -> None:
        for k in ("mode", "adult_mode"):
            if getattr(self, k) not in TRAVEL_MODES:
                raise ConfigError(f"model.travel.{k}: {getattr(self, k)!r} is not a travel mode; allowed: "
                                  f"{list(TRAVEL_MODES)}")
        for k in ("detour_factor", "speed_kmh", "intra_municipal_minutes", "max_travel_minutes",
                  "choice_set_minutes"):
            check_positive(f"model.travel.{k}", getattr(self, k))
        for i, v in enumerate(self.coverage_minutes):
            check_positive(f"model.travel.coverage_minutes[{i}]", v)


@dataclass
class PopulationConfig:
    pension_age: int = 67
    mortality_q50: float = 0.0025  # annual death probability at age 50
    mortality_slope: float = 0.085  # Gompertz slope per year of age
    net_migration: dict[str, float] = field(default_factory=dict)  # age band "a-b" -> annual rate
    employment_rate_by_age: dict[str, float] = field(default_factory=dict)
    retirement_from_age: int = 55  # from this age on, a lower employment rate of the next age is retirement
    qualified_in_own_sector: float = 0.6
    level_shares_adults: list[float] = field(default_factory=lambda: [0.3, 0.05, 0.15, 0.2, 0.2, 0.1])

    def validate(self) -> None:
        if not 55 <= self.pension_age <= 75:
            raise ConfigError(f"model.population.pension_age = {self.pension_age}: must be in [55, 75]")
        check_share("model.population.mortality_q50", self.mortality_q50)
        check_positive("model.population.mortality_slope", self.mortality_slope, allow_zero=True)
        for band, rate in self.net_migration.items():
            _parse_band(f"model.population.net_migration.{band}", band)
            if not -0.2 <= rate <= 0.2:
                raise ConfigError(f"model.population.net_migration.{band} = {rate}: must be in [-0.2, 0.2]")
        for band, rate in self.employment_rate_by_age.items():
            _parse_band(f"model.population.employment_rate_by_age.{band}", band)
            check_share(f"model.population.employment_rate_by_age.{band}", rate)
        if not 15 <= self.retirement_from_age <= self.pension_age:
            raise ConfigError(f"model.population.retirement_from_age = {self.retirement_from_age}: "
                              f"must be in [15, pension_age = {self.pension_age}]")
        check_share("model.population.qualified_in_own_sector", self.qualified_in_own_sector)
        if len(self.level_shares_adults) != 6 or abs(sum(self.level_shares_adults) - 1) > 1e-6:
            raise ConfigError(
                "model.population.level_shares_adults: must be 6 shares (levels 0..5) summing to 1"
            )
        for i, v in enumerate(self.level_shares_adults):
            check_share(f"model.population.level_shares_adults[{i}]", v)


MAX_RUN_NAME = 200


def check_run_name(name: str) -> None:
    """A run name is one safe folder name inside ``output_dir``: no path separators, not empty,
    not ``.``/``..`` or hidden (mbo-sim's temporary folders are hidden), no control characters,
    at most 200 characters."""
    bad = None
    if not name or name in (".", ".."):
        bad = "must be a folder name, not empty, '.' or '..'"
    elif "/" in name or "\\" in name:
        bad = "must be a single folder name without '/' or '\\' (use output_dir for the folder it goes in)"
    elif name.startswith("."):
        bad = "must not start with '.' (hidden folders are mbo-sim's temporary folders)"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        bad = "must not contain control characters"
    elif len(name) > MAX_RUN_NAME:
        bad = f"must be at most {MAX_RUN_NAME} characters (it has {len(name)})"
    if bad:
        raise ConfigError(f"run_name = {name!r}: {bad}")


def _parse_band(key: str, band: str) -> tuple[int, int]:
    try:
        lo, hi = (int(x) for x in band.split("-"))
    except ValueError:
        raise ConfigError(f"{key}: age band must look like '15-24'") from None
    if lo > hi:
        raise ConfigError(f"{key}: age band lower bound above upper bound")
    return lo, hi


@dataclass
class ChoiceConfig:
    """Weights of the multinomial logit of programme choice (utility units)."""

    image: float = 1.0
    employership: float = 0.5
    travel_per_10_minutes: float = -0.35
    level_mismatch: float = -1.5
    prospects: float = 0.1
    bbl_constant: float = -1.2
    nest_scale: float = 0.5  # nested logit: 1 = plain MNL, towards 0 = sector loyalty
    participation_scale: float = 0.5  # μ: weight of the mbo log-sum in the choice to enrol at all

    def validate(self) -> None:
        if not 0 < self.nest_scale <= 1:
            raise ConfigError(f"model.education.choice.nest_scale = {self.nest_scale}: must be in (0, 1]")
        if not 0 < self.participation_scale <= 1:
            raise ConfigError(f"model.education.choice.participation_scale = {self.participation_scale}: "
                              "must be in (0, 1]")


@dataclass
class EducationConfig:
    vo_leave_age: int = 16
    mbo_share: float = 0.5  # sourced national share of a cohort entering mbo: a reference, not a model input
    participation_constant: float = 0.0  # c_mbo of the choice to enrol (fitted per region)
    inflow_constant: float = 0.0  # κ: added for the ring's school leavers to the region's programmes (fitted)
    havo_shift_per_year: float = 0.0085  # yearly relative fall of school leavers' P(mbo): vmbo → havo/vwo
    aptitude_level_shares: list[float] = field(default_factory=lambda: [0.05, 0.2, 0.3, 0.45])
    dropout_rate: list[float] = field(default_factory=lambda: [0.2, 0.12, 0.07, 0.05])
    to_higher_education_l4: float = 0.35
    other_education_years: int = 6
    initial_delay_shares: list[float] = field(default_factory=lambda: [0.55, 0.25, 0.12, 0.08])
    bbl_extra_years: int = 2
    continue_next_level: list[float] = field(default_factory=lambda: [0.6, 0.45, 0.25])
    adult_bbl_rate: float = 0.006
    adult_bbl_ages: list[int] = field(default_factory=lambda: [18, 45])
    initial_max_enrolment_share: float = 0.7
    initial_other_education_rate_by_age: dict[str, float] = field(default_factory=dict)
    sector_image: dict[str, float] = field(default_factory=dict)
    sector_employership: dict[str, float] = field(default_factory=dict)
    sector_constant: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SECTORS, 0.0))
    # the fitted per-programme constants: a CSV written by the calibration (columns programme_id,
    # programme_constant, adult_constant; a relative path is in the package's configs/), checked
    # against its sha256; the two mappings below add to it or override it (by programme id)
    constants_file: str | None = None
    constants_sha256: str | None = None
    programme_constants: dict[str, float] = field(default_factory=dict)  # by programme id
    adult_constants: dict[str, float] = field(default_factory=dict)  # by BBL programme id
    choice: ChoiceConfig = field(default_factory=ChoiceConfig)
    viability_min_intake: int = 10
    viability_years: int = 3
    capacity_factor: float = 1.5  # a programme takes at most this × its base-year intake
    funding_per_student_eur: float = 7000.0
    programme_fixed_cost_eur: float = 60000.0
    cost_per_student_eur: float = 5000.0
    institution_overhead_eur: float = 500000.0

    def validate(self) -> None:
        if not 15 <= self.vo_leave_age <= 18:
            raise ConfigError(f"model.education.vo_leave_age = {self.vo_leave_age}: must be in [15, 18]")
        check_share("model.education.mbo_share", self.mbo_share)
        check_share("model.education.to_higher_education_l4", self.to_higher_education_l4)
        check_share("model.education.havo_shift_per_year", self.havo_shift_per_year)
        if len(self.aptitude_level_shares) != 4 or abs(sum(self.aptitude_level_shares) - 1) > 1e-6:
            raise ConfigError("model.education.aptitude_level_shares: must be 4 shares summing to 1")
        if len(self.dropout_rate) != 4:
            raise ConfigError("model.education.dropout_rate: must be 4 rates (levels 1-4)")
        for i, r in enumerate(self.dropout_rate):
            check_share(f"model.education.dropout_rate[{i}]", r)
        for band, r in self.initial_other_education_rate_by_age.items():
            _parse_band(f"model.education.initial_other_education_rate_by_age.{band}", band)
            check_share(f"model.education.initial_other_education_rate_by_age.{band}", r)
        if abs(sum(self.initial_delay_shares) - 1) > 1e-6:
            raise ConfigError("model.education.initial_delay_shares: shares must sum to 1")
        for i, v in enumerate(self.initial_delay_shares):
            check_share(f"model.education.initial_delay_shares[{i}]", v)
        check_share("model.education.initial_max_enrolment_share", self.initial_max_enrolment_share)
        if len(self.continue_next_level) != 3:
            raise ConfigError("model.education.continue_next_level: must be 3 shares (levels 1, 2, 3 -> next)")
        for i, v in enumerate(self.continue_next_level):
            check_share(f"model.education.continue_next_level[{i}]", v)
        check_share("model.education.adult_bbl_rate", self.adult_bbl_rate)
        if len(self.adult_bbl_ages) != 2 or not 16 <= self.adult_bbl_ages[0] <= self.adult_bbl_ages[1] <= 67:
            raise ConfigError("model.education.adult_bbl_ages: must be [min, max] with 16 <= min <= max <= 67")
        if not 0 <= self.bbl_extra_years <= 10:
            raise ConfigError(f"model.education.bbl_extra_years = {self.bbl_extra_years}: must be in [0, 10]")
        check_sector_dict("model.education.sector_image", self.sector_image, complete=True)
        check_sector_dict("model.education.sector_employership", self.sector_employership, complete=True)
        check_sector_dict("model.education.sector_constant", self.sector_constant, complete=True)
        self.choice.validate()
        check_positive("model.education.viability_min_intake", self.viability_min_intake, allow_zero=True)
        check_positive("model.education.viability_years", self.viability_years)
        check_positive("model.education.capacity_factor", self.capacity_factor)
        for key in ("funding_per_student_eur", "programme_fixed_cost_eur", "cost_per_student_eur",
                    "institution_overhead_eur"):
            check_positive(f"model.education.{key}", getattr(self, key), allow_zero=True)


@dataclass
class LabourConfig:
    matching_elasticity: float = 0.5
    matching_efficiency: float = 0.5
    max_job_finding_rate: float = 0.3  # monthly: the frictional floor (search takes time)
    entrant_job_finding_rate: float = 0.6  # the same for school leavers in their first year of looking
    entrant_max_age: int = 27
    graduate_entry_months: int = 4  # graduates start searching over this many months from July
    commute_decay_minutes: float = 20.0
    on_the_job_search: float = 0.03
    hard_to_fill_months: int = 3
    vacancy_max_age_months: int = 24  # the oldest age bucket (older vacancies stay in it)
    adaptation_rate: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SECTORS, 0.0))
    initial_vacancy_rate: float = 0.045
    # per sector, the region's base-year vacancy rate ÷ CBS's national profile (fitted to UWV classes)
    vacancy_profile_factor: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SECTORS, 1.0))
    layoff_rate: float = 0.004
    to_inactive_rate: float = 0.002
    unemployed_to_inactive: float = 0.015
    participation_elasticity: float = 0.0
    bbl_places_per_100_jobs: float = 1.0
    bbl_cycle_elasticity: float = 0.0
    bbl_supervision_elasticity: float = 0.0
    initial_vacancy_fill_rate: float = 0.25
    seek_max_age: int = 60
    labour_migrant_return_rate: float = 0.3
    labour_migration_elasticity: float = 0.0
    cross_border_elasticity: float = 0.0
    tightness_response_cap: float = 3.0  # responses read min(max(tightness ÷ base, 1/cap), cap)

    def validate(self) -> None:
        for k in (
            "matching_elasticity",
            "max_job_finding_rate",
            "entrant_job_finding_rate",
            "on_the_job_search",
            "initial_vacancy_rate",
            "layoff_rate",
            "to_inactive_rate",
            "unemployed_to_inactive",
            "initial_vacancy_fill_rate",
            "labour_migrant_return_rate",
        ):
            check_share(f"model.labour.{k}", getattr(self, k))
        check_sector_dict("model.labour.adaptation_rate", self.adaptation_rate, complete=True)
        for s, v in self.adaptation_rate.items():
            check_share(f"model.labour.adaptation_rate.{s}", v)
        check_sector_dict("model.labour.vacancy_profile_factor", self.vacancy_profile_factor, complete=True)
        for s, v in self.vacancy_profile_factor.items():
            check_positive(f"model.labour.vacancy_profile_factor.{s}", v)
        for k in ("participation_elasticity", "bbl_cycle_elasticity", "bbl_supervision_elasticity",
                  "labour_migration_elasticity", "cross_border_elasticity"):
            check_positive(f"model.labour.{k}", getattr(self, k), allow_zero=True)
        if not self.tightness_response_cap >= 1:
            raise ConfigError(f"model.labour.tightness_response_cap = {self.tightness_response_cap!r}: must be >= 1")
        check_positive("model.labour.matching_efficiency", self.matching_efficiency)
        check_positive("model.labour.commute_decay_minutes", self.commute_decay_minutes)
        check_positive("model.labour.hard_to_fill_months", self.hard_to_fill_months)
        if not 1 <= self.graduate_entry_months <= 12:
            raise ConfigError(f"model.labour.graduate_entry_months = {self.graduate_entry_months!r}: "
                              "must be in [1, 12]")
        if self.vacancy_max_age_months <= self.hard_to_fill_months:
            raise ConfigError(
                "model.labour.vacancy_max_age_months: must exceed model.labour.hard_to_fill_months"
            )
        check_positive("model.labour.bbl_places_per_100_jobs", self.bbl_places_per_100_jobs, True)
        if not 15 <= self.seek_max_age <= 75:
            raise ConfigError(f"model.labour.seek_max_age = {self.seek_max_age}: must be in [15, 75]")


@dataclass
class LloConfig:
    min_age: int = 25
    max_age: int = 60
    need_declining_sector: float = 0.05  # annual probability of a latent retraining need
    need_unemployed: float = 0.2
    reach: float = 0.2  # share of latent need that becomes an actual trajectory
    duration_months: int = 9
    mbo_share: float = 0.5  # share of trajectories followed at an mbo institution
    level_up: float = 0.3  # probability a trajectory raises the qualification level by one

    def validate(self) -> None:
        if not 15 <= self.min_age < self.max_age <= 75:
            raise ConfigError("model.llo.min_age/max_age: need 15 <= min_age < max_age <= 75")
        for k in ("need_declining_sector", "need_unemployed", "reach", "mbo_share", "level_up"):
            check_share(f"model.llo.{k}", getattr(self, k))
        if not 1 <= self.duration_months <= 48:
            raise ConfigError(f"model.llo.duration_months = {self.duration_months}: must be in [1, 48]")


@dataclass
class MunicipalityConfig:
    ww_months: int = 12
    initial_ww_share: float = 0.5
    bijstand_share: float = 0.5
    bijstand_other_exit_rate: float = 0.12
    reintegration_budget_per_client_eur: float = 1500.0
    training_price_eur: float = 2500.0
    mbo_procurement_share: float = 0.3

    def validate(self) -> None:
        check_positive("model.municipality.ww_months", self.ww_months)
        check_share("model.municipality.bijstand_share", self.bijstand_share)
        check_share("model.municipality.initial_ww_share", self.initial_ww_share)
        check_share("model.municipality.bijstand_other_exit_rate", self.bijstand_other_exit_rate)
        check_share("model.municipality.mbo_procurement_share", self.mbo_procurement_share)
        check_positive("model.municipality.reintegration_budget_per_client_eur",
                        self.reintegration_budget_per_client_eur, allow_zero=True)
        check_positive("model.municipality.training_price_eur", self.training_price_eur)


@dataclass
class InstitutionConfig:
    """How institutions decide in the April review: money (funding, reserve) and teachers."""

    bbl_funding_weight: float = 0.5  # a BBL student counts this much of a BOL student in funding
    funding_count_lag_years: int = 2  # calendar year t is funded on the students of October t − this (0: none)
    base_result_share: float = 0.01  # the base-year result as a share of funding (other costs per student balance it)
    reserve_initial_share: float = 0.3  # initial reserve as a share of the institution's yearly cost
    reserve_floor_share: float = 0.1  # the reserve an institution keeps untouched (share of yearly cost)
    carry_share: float = 0.25  # share of the reserve above the floor it spends a year carrying weak opleidingen
    students_per_teacher: float = 18.0
    teacher_exit_rate: float = 0.06  # teachers leaving each year (retirement, other jobs)
    staff_cost_share: float = 0.75  # of the costs per student: staff, who fall at most teacher_exit_rate a year
    housing_cost_share: float = 0.12  # of the costs per student: housing, given up at most as fast as the next
    housing_cost_fall_per_year: float = 0.025  # the yearly fall of housing at most (written off over 40 years)
    teacher_competition: float = 0.3  # hiring success 1 / (1 + this × ln(sector tightness ÷ base)) when it rose
    coordination: bool = True  # two institutions with the same weak qualification: the weaker stops first

    def validate(self) -> None:
        for k in ("bbl_funding_weight", "reserve_floor_share", "carry_share", "teacher_exit_rate",
                  "staff_cost_share", "housing_cost_share", "housing_cost_fall_per_year"):
            check_share(f"model.institutions.{k}", getattr(self, k))
        if self.staff_cost_share + self.housing_cost_share > 1 + 1e-9:
            raise ConfigError(f"model.institutions.staff_cost_share + housing_cost_share = "
                              f"{self.staff_cost_share + self.housing_cost_share:g}: must be at most 1 "
                              "(shares of the costs per student)")
        check_positive("model.institutions.reserve_initial_share", self.reserve_initial_share, allow_zero=True)
        if not -0.2 <= self.base_result_share <= 0.2:
            raise ConfigError(f"model.institutions.base_result_share = {self.base_result_share}: "
                              "must be in [-0.2, 0.2]")
        check_positive("model.institutions.students_per_teacher", self.students_per_teacher)
        check_positive("model.institutions.teacher_competition", self.teacher_competition, allow_zero=True)
        lag = self.funding_count_lag_years
        if isinstance(lag, bool) or not isinstance(lag, int) or not 0 <= lag <= MAX_FUNDING_LAG_YEARS:
            raise ConfigError(f"model.institutions.funding_count_lag_years = {lag!r}: must be a whole number of "
                              f"years in [0, {MAX_FUNDING_LAG_YEARS}] (2: DUO counts October t − 2 for year t)")


@dataclass
class ModelConfig:
    travel: TravelConfig = field(default_factory=TravelConfig)
    population: PopulationConfig = field(default_factory=PopulationConfig)
    education: EducationConfig = field(default_factory=EducationConfig)
    labour: LabourConfig = field(default_factory=LabourConfig)
    llo: LloConfig = field(default_factory=LloConfig)
    municipality: MunicipalityConfig = field(default_factory=MunicipalityConfig)
    institutions: InstitutionConfig = field(default_factory=InstitutionConfig)


SYNTHETIC_MAX_SCALE = 50  # synthetic=true: up to 50 copies of each resident (Zuid-Limburg: ~19 million persons)


@dataclass
class Config:
    region: RegionConfig = field(default_factory=RegionConfig)
    demography: DemographyConfig = field(default_factory=DemographyConfig)
    economy: EconomyConfig = field(default_factory=EconomyConfig)
    policy: dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    seed: int = 1
    replicate: int = 0  # replication number in an experiment: the run's seed is seed + replicate
    scale: float = 1.0
    # test option, never a default: allow scale > 1, every resident then simulated `scale` times (a
    # synthetic large region for benchmarks of national-size runs; results stay in real persons)
    synthetic: bool = False
    start_year: int = 2025
    years: int = 20
    data_dir: str | None = None  # None: the data shipped with the package (sim/data); else relative to the cwd
    output_dir: str = "results/runs"
    run_name: str | None = None
    experiment_name: str | None = None  # set by experiments/<name>.yaml; names results/<name>/
    reps: int = 1  # replications of an experiment (its sweep runs replicate = 0 … reps - 1)
    # a sensitivity design (mbo-sim-sensitivity): its design.json, and the row this run takes from it
    samples_file: str | None = None
    sample: int | None = None
    write_plots: bool = True
    progress: bool = True

    def __post_init__(self) -> None:
        # Sections are checked here, once the whole tree is built (OmegaConf instantiates the
        # section defaults on its own while registering the schema, before values exist).
        for section in (self.region, self.demography, self.economy):
            section.validate()
        m = self.model
        for section in (m.travel, m.population, m.education, m.labour, m.llo, m.municipality, m.institutions):
            section.validate()
        top = SYNTHETIC_MAX_SCALE if self.synthetic else 1
        if not isinstance(self.scale, int | float) or not 0 < self.scale <= top:
            raise ConfigError(f"scale = {self.scale!r}: with synthetic=true, must be in (0, {top}]" if self.synthetic
                              else f"scale = {self.scale!r}: must be in (0, 1] (1 = every resident)")
        if self.run_name is not None:
            check_run_name(self.run_name)
        if not 2021 <= self.start_year <= 2040:
            raise ConfigError(f"start_year = {self.start_year}: must be in [2021, 2040] (data are from 2021)")
        if not 1 <= self.years <= 60:
            raise ConfigError(f"years = {self.years}: must be in [1, 60]")
        if self.seed < 0:
            raise ConfigError(f"seed = {self.seed}: must be >= 0")
        if self.replicate < 0:
            raise ConfigError(f"replicate = {self.replicate}: must be >= 0")
        if self.sample is not None and self.sample < 0:
            raise ConfigError(f"sample = {self.sample}: must be >= 0 (a row of samples_file)")

    @property
    def run_seed(self) -> int:
        """The seed of this run: derived from the replicate number only, so that every arm of an
        experiment runs replicate r with the same seed (common random numbers)."""
        return self.seed + self.replicate

    @property
    def policy_name(self) -> str:
        return "+".join(sorted(self.policy)) or "none"

    @property
    def resolved_run_name(self) -> str:
        """<region>-<demography>-<policy>-s<seed>, with the economy, scale, start year and horizon
        appended where they differ from the defaults, so that different runs never share a folder."""
        if self.run_name:
            return self.run_name
        name = f"{self.region.name}-{self.demography.name}-{self.policy_name}-s{self.run_seed}"
        extras = [
            f"econ-{self.economy.name}" if self.economy.name != "baseline" else "",
            f"x{self.scale:g}" if self.scale != 1.0 else "",
            f"from{self.start_year}" if self.start_year != 2025 else "",
            f"{self.years}y" if self.years != 20 else "",
            f"sample{self.sample}" if self.sample is not None else "",
        ]
        return "-".join([name, *(e for e in extras if e)])
