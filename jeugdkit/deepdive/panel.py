"""Panel of gemeente x year: wijkteam share now against the met-verblijf share later.

::

    panel = build_panel(reader, years=range(2018, 2025))      # one population per year
    res = wijkteam_panel(panel, lag=1)                         # linearmodels PanelOLS
    res.result.summary

Definitions (docs/deepdive.md), per gemeente g and year Y over the youths of the population
(default ages 0-22) who had jeugdhulp in Y:

- ``wijkteam_aandeel`` W[g, Y]: share with a wijkteam traject (hulpvorm 01) overlapping Y;
- ``met_verblijf_aandeel`` V[g, Y]: share with hulp met verblijf (11-14) overlapping Y.

Model: V[g, Y] = a_g + d_Y + beta W[g, Y - lag] + e, gemeente and year effects, standard
errors clustered by gemeente. One gemeente classification for every year (the newest the
data have), so mergers do not break the series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.settings import DEFAULT, Settings

PANEL_COLUMNS = ["gemeentecode", "jaar", "jongeren", "gebruikers", "wijkteam",
                 "met_verblijf", "wijkteam_aandeel", "met_verblijf_aandeel"]


def panel_rows(frame: pd.DataFrame, year: int, ages: tuple[int, int] | None = None,
               settings: Settings | None = None) -> pd.DataFrame:
    """Return one row per gemeente of a population frame: users, W and V of that year."""
    a = (settings or DEFAULT).analysis
    ages = ages or (a.age_min, a.age_max)
    f = frame[frame["leeftijd"].between(*ages)]
    users = f["jeugdhulp"].fillna(False).to_numpy(dtype=bool)
    d = pd.DataFrame({"gemeentecode": f["gemeentecode"].astype(str).to_numpy(),
                      "jongeren": 1.0, "gebruikers": users.astype(float),
                      "wijkteam": (users & f["jeugdhulp_wijkteam"].fillna(False)
                                   .to_numpy(dtype=bool)).astype(float),
                      "met_verblijf": (users & f["jeugdhulp_met_verblijf"].fillna(False)
                                       .to_numpy(dtype=bool)).astype(float)})
    out = d.groupby("gemeentecode", sort=True).sum().reset_index()
    out.insert(1, "jaar", int(year))
    with np.errstate(divide="ignore", invalid="ignore"):
        out["wijkteam_aandeel"] = out["wijkteam"] / out["gebruikers"]
        out["met_verblijf_aandeel"] = out["met_verblijf"] / out["gebruikers"]
    return out[PANEL_COLUMNS]


def build_panel(reader, years=None, classification_year: int | None = None,
                ages: tuple[int, int] | None = None, settings: Settings | None = None
                ) -> pd.DataFrame:
    """Return the gemeente x year panel built from one population per year.

    ``years``: default every year with a JGDHULPBUS file. ``classification_year``: default
    the newest in VSLGWBTAB, for every year.
    """
    from jeugdkit.population import build_population
    settings = settings or DEFAULT
    if years is None:
        years = reader.inventory["JGDHULPBUS"].years
    if classification_year is None:
        classification_year = max(reader.classification_years())
    parts = []
    for year in years:
        pop = build_population(reader, str(year), classification_year=classification_year,
                               settings=settings)
        parts.append(panel_rows(pop.frame, int(year), ages, settings))
    return pd.concat(parts, ignore_index=True)


@dataclass
class PanelResult:
    """The PanelOLS fit and the estimation sample (gemeente x year aggregates)."""

    result: object
    data: pd.DataFrame
    lag: int
    notes: dict = field(default_factory=dict)


def wijkteam_panel(panel: pd.DataFrame, lag: int | None = None, weighted: bool = False,
                   min_users: int | None = None, settings: Settings | None = None
                   ) -> PanelResult:
    """Return PanelOLS of V[g, Y] on W[g, Y - lag] with gemeente and year effects.

    ``weighted``: weight gemeente-years by their users (default: each counts once, as in the
    question "does a gemeente that uses more wijkteam place fewer youths later").
    ``min_users``: gemeente-years with fewer users (either year) leave the sample (default
    ``min_units``): a share must rest on enough youths.

    Example
    -------
    >>> wijkteam_panel(build_panel(reader), lag=1).result.params
    """
    from linearmodels.panel import PanelOLS

    settings = settings or DEFAULT
    lag = settings.analysis.panel_lag_years if lag is None else int(lag)
    if lag < 0:
        raise JeugdkitError(f"panel lag {lag}: expected 0 or more years")
    min_users = settings.output_control.min_units if min_users is None else min_users
    p = panel.copy()
    p["jaar"] = p["jaar"].astype(int)
    prev = p[["gemeentecode", "jaar", "wijkteam_aandeel", "gebruikers"]].copy()
    prev["jaar"] = prev["jaar"] + lag
    prev = prev.rename(columns={"wijkteam_aandeel": "wijkteam_aandeel_lag",
                                "gebruikers": "gebruikers_lag"})
    d = p.merge(prev, on=["gemeentecode", "jaar"], how="inner")
    d = d[(d["gebruikers"] >= min_users) & (d["gebruikers_lag"] >= min_users)]
    d = d.dropna(subset=["met_verblijf_aandeel", "wijkteam_aandeel_lag"])
    if d["gemeentecode"].nunique() < 2 or d["jaar"].nunique() < 2:
        raise JeugdkitError(f"panel with lag {lag}: fewer than two gemeenten or years left "
                            f"({len(d)} gemeente-years); add years or lower the lag")
    d = d.sort_values(["gemeentecode", "jaar"]).set_index(["gemeentecode", "jaar"])
    model = PanelOLS(d["met_verblijf_aandeel"], d[["wijkteam_aandeel_lag"]],
                     entity_effects=True, time_effects=True,
                     weights=d["gebruikers"] if weighted else None)
    res = model.fit(cov_type="clustered", cluster_entity=True)
    return PanelResult(res, d.reset_index(), lag,
                       {"weighted": weighted, "min_users": min_users,
                        "gemeenten": int(d.index.get_level_values(0).nunique()),
                        "jaren": sorted(int(y) for y in d.index.get_level_values(1).unique())})
