"""Options of a run and every planted model parameter, in one place (written to truth.json)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

DEFAULT_SEED = 20250101


@dataclass(frozen=True)
class Options:
    """What to generate: population size, number of gemeenten, years covered, seed."""

    persons: int = 100_000
    """Approximate number of residents on 1 January of the last year."""
    gemeenten: int = 25
    """Number of gemeenten in the classification year (the last year); one more exists before the
    merger."""
    years: tuple[int, int] = (2018, 2024)
    """First and last year of the per-year files (inclusive)."""
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        first, last = self.years
        if last - first < 2:
            raise ValueError(f"years={self.years}: need at least three years (a merger and a lag)")
        if self.gemeenten < 8:
            raise ValueError(f"gemeenten={self.gemeenten}: need at least 8 (outliers, a merger)")
        if self.persons < 2_000:
            raise ValueError(f"persons={self.persons}: need at least 2,000")

    @property
    def first(self) -> int:
        return int(self.years[0])

    @property
    def last(self) -> int:
        return int(self.years[1])

    @property
    def sim_start(self) -> int:
        """First simulated year: demography and background start six years before the files."""
        return self.first - 6

    @property
    def jeugd_start(self) -> int:
        """First year of drawn jeugd use (burn-in years give trajecten that started earlier)."""
        return self.sim_start + 1

    @property
    def classification_year(self) -> int:
        return self.last

    @property
    def reference_year(self) -> int:
        """Year whose rates are calibrated to the public figures (the trend is zero there)."""
        return self.last - 1

    @property
    def merger_year(self) -> int:
        """First classification year in which the merged gemeente exists."""
        return self.first + (self.last - self.first + 1) // 2

    def as_dict(self) -> dict:
        d = asdict(self)
        d["years"] = list(self.years)
        return d


def log(x: float) -> float:
    return math.log(x)


# Age x sex target rates of jeugdhulp per year (share of the age group, 2023 level), public figures.
JEUGDHULP_TARGET_BOYS = [0.03, 0.05, 0.06, 0.08, 0.12, 0.15, 0.18, 0.20, 0.22, 0.22, 0.22, 0.22,
                         0.21, 0.20, 0.19, 0.18, 0.17, 0.16, 0.055, 0.02, 0.01, 0.007, 0.005]
JEUGDHULP_TARGET_GIRLS = [0.03, 0.04, 0.05, 0.06, 0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14, 0.15,
                          0.16, 0.17, 0.18, 0.185, 0.19, 0.19, 0.055, 0.02, 0.01, 0.007, 0.005]

JEUGDHULP_UNDER18 = 0.139
"""National share of under-18s with jeugdhulp in the reference year; age x sex targets are scaled
to it (the synthetic age structure differs from the national one)."""

# Planted log-odds of jeugdhulp in a year (person-level, marginal over the persistence).
JEUGDHULP_COEF = {
    "one_parent": log(1.7),
    "bijstand": log(1.8),
    "income_q1": log(1.3),
    "income_unknown": 0.0,
    "speciaal_onderwijs": log(2.5),
    "parent_edu_low": log(1.2),
    "parent_edu_mid": log(1.1),
    "parent_edu_unknown": log(1.1),
}
JEUGDHULP_TREND = 0.015
"""Log-odds per calendar year, zero in the reference year."""

# Jeugdbescherming: drawn among youths 0-17 with jeugdhulp in the year (conditional model).
JB_COEF = {
    "one_parent": log(1.4),
    "bijstand": log(1.9),
    "income_q1": log(1.2),
    "met_verblijf": log(24.0),
    "age": 0.04,
}
JB_TARGET = 0.011
"""Share of under-18s with a maatregel in the reference year."""

# Jeugdreclassering: drawn for 12-22-year-olds, independent of jeugdhulp.
JR_COEF = {"boy": log(5.0), "bijstand": log(2.0), "one_parent": log(1.4)}
JR_AGE_PROFILE = {12: -2.0, 13: -1.3, 14: -0.6, 15: -0.1, 16: 0.2, 17: 0.3, 18: 0.0, 19: -0.4,
                  20: -0.8, 21: -1.2, 22: -1.6}
JR_TARGET = 0.003

# Persistence: correlation between consecutive years of the latent normal of each indicator.
PERSISTENCE = {"jeugdhulp": 0.9, "wijkteam": 0.3, "met_verblijf": 0.93, "ambulant": 0.85,
               "netwerk": 0.8, "daghulp": 0.75, "jeugdbescherming": 0.93,
               "jeugdreclassering": 0.6}

# Forms of care among youths with jeugdhulp in a year (probabilities per person-year).
FORM_PROB = {"ambulant": 0.40, "netwerk": 0.17, "daghulp": 0.06}
MET_VERBLIJF_BASE = 0.095
"""Probability of met verblijf for a user when the lagged wijkteam share is at WIJKTEAM_REF."""
WIJKTEAM_REF = 0.15
WIJKTEAM_PANEL_BETA = -0.20
"""Change in the met-verblijf share per unit change of the previous year's wijkteam share."""
MET_VERBLIJF_TREND = -0.002
MET_VERBLIJF_GEMEENTE_SD = 0.01
CONTIGUOUS_PROB = 0.6
"""Probability that a traject starting within a period of use (consecutive years with jeugdhulp)
after all earlier care of the youth has ended follows without a break: the earlier care ends the day
before it begins. Otherwise the gap stays, a return after a break (herhaald beroep in StatLine's
definition, calibrated to about a quarter of started trajecten)."""
EXTRA_TRAJECT_PROB = 0.17
"""Per user-year: probability of one extra zonder-verblijf traject at another provider."""

GEMEENTE_EFFECT_SD = 0.05
GEMEENTE_OUTLIER = 0.5

# Verwijzer of started trajecten (codes 01-08), per group of hulpvorm.
VERWIJZER_CODES = ["01", "02", "03", "04", "05", "06", "08"]
VERWIJZER_DEFAULT = [0.22, 0.48, 0.05, 0.045, 0.06, 0.14, 0.005]
VERWIJZER_WIJKTEAM = [0.70, 0.05, 0.02, 0.0, 0.0, 0.23, 0.0]
VERWIJZER_VERBLIJF = [0.56, 0.05, 0.01, 0.26, 0.04, 0.05, 0.03]
VERWIJZER_JB = [0.25, 0.05, 0.01, 0.62, 0.01, 0.02, 0.04]

REDEN_CODES = ["01", "02", "03", "04", "05"]
REDEN_PROB = [0.78, 0.08, 0.06, 0.04, 0.04]
REDEN_MISSING = 0.06
IMPUTED_END_FROM = 2020
IMPUTED_END_SHARE = 0.05
OUTCOME_ITEMS_SHARE = 0.3
OPEN_AT_END = {"wijkteam": 0.3, "ambulant": 0.55, "netwerk": 0.5, "daghulp": 0.5,
               "met_verblijf": 0.75, "extra": 0.3}
MET_VERBLIJF_FORMS = {"11": 0.47, "12": 0.12, "13": 0.06, "14": 0.35}
