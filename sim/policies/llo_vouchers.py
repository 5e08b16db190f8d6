"""Lifelong-learning vouchers: a yearly regional budget pays vouchers for training trajectories
(Opijver with its regional training fund in the Achterhoek, Leo Loopbaan in Zuid-Limburg; the
national STAP budget paid up to EUR 1,000 per course in 2022). Eligible adults apply; vouchers
are issued while the budget lasts and spent with the mbo or a private provider."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.codes import Status
from sim.config import ConfigError
from sim.policies.base import Policy, check_nonneg, check_share
from sim.sampling import thinned_subset


@dataclass
class VoucherParams:
    annual_budget_eur: float = 2_000_000.0
    voucher_eur: float = 1000.0
    uptake: float = 0.03
    min_age: int = 25
    max_age: int = 60
    max_qual_level: int = 4
    mbo_share: float = 0.4

    def validate(self, key: str) -> None:
        check_nonneg(f"{key}.annual_budget_eur", self.annual_budget_eur)
        if self.voucher_eur <= 0:
            raise ConfigError(f"{key}.voucher_eur = {self.voucher_eur}: must be > 0")
        check_share(f"{key}.uptake", self.uptake)
        check_share(f"{key}.mbo_share", self.mbo_share)
        if not 15 <= self.min_age <= self.max_age <= 75:
            raise ConfigError(f"{key}.min_age/max_age: need 15 <= min_age <= max_age <= 75")
        if not 0 <= self.max_qual_level <= 5:
            raise ConfigError(f"{key}.max_qual_level = {self.max_qual_level}: must be in [0, 5]")


class LloVouchers(Policy):
    name = "llo_vouchers"
    Params = VoucherParams

    def attach(self, model) -> None:
        super().attach(model)
        self.left_eur = 0.0
        self.issued = 0.0

    def schedule(self, model) -> None:
        model.every_month(self.monthly)

    def monthly(self) -> None:
        """Every month: eligible adults apply; vouchers are issued while the year's budget lasts."""
        model, prm, pop = self.model, self.params, self.model.pop
        month = model.month_index
        scale = model.cfg.scale
        if month % 12 == 0:
            if month > 0:
                self._close_year(model.year - 1)
            self.left_eur, self.issued = prm.annual_budget_eur, 0.0
        h = 1 - (1 - prm.uptake) ** (1 / 12)

        def applies(c: np.ndarray) -> np.ndarray:
            st = pop.status[c]
            ok = ((st == Status.EMPLOYED) | (st == Status.UNEMPLOYED)) & (pop.llo_months_left[c] == 0)
            ok &= (pop.age[c] >= prm.min_age) & (pop.age[c] <= prm.max_age) & (pop.qual_level[c] <= prm.max_qual_level)
            return np.where(ok, h, 0.0)

        applicants = self.rng.permutation(thinned_subset(self.rng, pop.n, h, applies))  # first come, at random
        affordable = int(self.left_eur // (prm.voucher_eur / scale))
        chosen = applicants[: max(affordable, 0)]
        model.llo.start(chosen, "voucher", month, mbo_share=prm.mbo_share, rng=self.rng)
        spent = chosen.size / scale * prm.voucher_eur
        self.left_eur -= spent
        self.issued += chosen.size / scale
        if month == model.n_months - 1:
            self._close_year(model.year)

    def _close_year(self, year: int) -> None:
        prm = self.params
        self.record("vouchers_issued", self.issued, year)
        self.record("budget_eur", prm.annual_budget_eur, year)
        self.record("spent_eur", prm.annual_budget_eur - self.left_eur, year)
        self.record("cost_eur", prm.annual_budget_eur - self.left_eur, year)
