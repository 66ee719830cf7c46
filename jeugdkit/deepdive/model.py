"""The modelling frame of trap 2: outcome, age range and background as explicit categories.

::

    mf = model_frame(pop.frame, outcome="jeugdhulp", ages=(0, 17))
    mf.data            # one row per youth: y, gemeentecode, cluster, leeftijd_geslacht, ...
    mf.covariates      # the categorical covariates of the full composition model
    mf.merged          # levels merged into their reference because they were too small
    X = design(mf.data, mf.covariates, mf.references)   # 0/1 dummies, reference left out

Every covariate is categorical, so a model fitted on cell counts with frequency weights has
exactly the person-level likelihood (the kit's logits are fitted that way; see docs/deepdive.md).
Unknown values stay as the explicit category ``onbekend``, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.settings import DEFAULT, Settings

AGE_SEX = "leeftijd_geslacht"
"""The age x sex cell of a youth (single years of age by default)."""
LEVELS = {AGE_SEX: "leeftijd_geslacht", "volledig": "volledig"}
"""The two levels of adjustment: age x sex only, and the full composition."""
YES, NO = "ja", "nee"


@dataclass
class ModelFrame:
    """One row per youth of the analysis population with the outcome and coded background."""

    data: pd.DataFrame
    outcome: str
    ages: tuple[int, int]
    covariates: list[str]
    references: dict[str, str]
    merged: dict[str, list[str]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.data)


def _flag_category(values: pd.Series, unknown: str) -> pd.Series:
    """Return ja/nee/onbekend from a nullable boolean (NA is unknown, never no)."""
    b = values.astype("boolean")
    out = np.where(b.isna().to_numpy(), unknown,
                   np.where(b.fillna(False).to_numpy(dtype=bool), YES, NO))
    return pd.Series(out, index=values.index, dtype=object)


def model_frame(frame: pd.DataFrame, outcome: str | None = None,
                ages: tuple[int, int] | None = None, covariates=None,
                age_cells: str = "leeftijd", settings: Settings | None = None) -> ModelFrame:
    """Return the ModelFrame of a population frame (``Population.frame``).

    ``outcome``: a boolean column of the frame (default ``Analysis.deepdive_outcome``,
    ``jeugdhulp``); NA (an absent source) counts as no. ``ages``: inclusive age range (default
    0 to ``Analysis.minor_age_max``, the under-18s of the trap-1 indicator). ``covariates``:
    background columns of the full model (default ``Analysis.deepdive_covariates``). Boolean
    flags become ``ja``/``nee``/``onbekend``. ``age_cells``: ``leeftijd`` (single years) or
    ``leeftijdsgroep`` for the age x sex cells. A level with fewer than ``min_units`` youths
    is merged into the covariate's reference (``ModelFrame.merged`` lists them), so that every
    released model passes output control.

    Example
    -------
    >>> mf = model_frame(pop.frame, outcome="jeugdbescherming")
    """
    settings = settings or DEFAULT
    a = settings.analysis
    outcome = outcome or a.deepdive_outcome
    ages = tuple(ages) if ages is not None else (a.age_min, a.minor_age_max)
    covariates = list(a.deepdive_covariates if covariates is None else covariates)
    unknown = a.unknown_label
    needed = [outcome, "leeftijd", "geslacht", "gemeentecode", age_cells, *covariates]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise JeugdkitError(f"population frame: columns {missing} missing; expected the "
                            "columns of build_population (docs/population.md)")
    keep = frame["leeftijd"].between(*ages).to_numpy()
    f = frame.loc[keep]
    if f.empty:
        raise JeugdkitError(f"no youths aged {ages[0]}-{ages[1]} in the population frame")
    data = pd.DataFrame(index=f.index)
    data["y"] = f[outcome].astype("boolean").fillna(False).to_numpy(dtype=float)
    data["gemeentecode"] = f["gemeentecode"].astype(str).to_numpy()
    data[AGE_SEX] = (f[age_cells].astype(str) + "_" + f["geslacht"].astype(str)).to_numpy()
    for col in ("leeftijdsgroep", "geslacht", "typhh"):
        if col in f.columns:
            data[col] = f[col].astype(str).to_numpy()
    # a youth without a household is their own cluster (negative ids never collide with hashes)
    hh = f["huishouden_id"] if "huishouden_id" in f.columns else pd.Series(pd.NA, index=f.index)
    hh = hh.astype("Int64")
    own = -np.arange(1, len(f) + 1, dtype=np.int64)
    data["huishouden"] = np.where(hh.isna().to_numpy(), own,
                                  hh.fillna(0).to_numpy(dtype=np.int64))
    refs = dict(a.deepdive_references)
    references = {AGE_SEX: sorted(data[AGE_SEX].unique())[0]}
    for c in covariates:
        s = f[c]
        if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
            data[c] = _flag_category(s, unknown).to_numpy()
        else:
            data[c] = s.astype(str).to_numpy()
        counts = data[c].value_counts()
        ref = refs.get(c, counts.index[0])
        if ref not in counts.index:
            ref = counts.index[0]
        references[c] = ref
    data = data.reset_index(drop=True)
    merged = _merge_small_levels(data, [AGE_SEX, *covariates], references,
                                 settings.output_control.min_units)
    return ModelFrame(data, outcome, ages, covariates, references, merged)


def _merge_small_levels(data: pd.DataFrame, columns: list[str], references: dict,
                        min_units: int) -> dict[str, list[str]]:
    """Merge levels with fewer than `min_units` youths into the reference (in place)."""
    merged = {}
    for c in columns:
        counts = data[c].value_counts()
        small = [lv for lv, n in counts.items() if n < min_units and lv != references[c]]
        if c == AGE_SEX and small:
            # a tiny age x sex cell (sex unknown, say) joins the other sex of its age
            merged[c] = small
            for lv in small:
                age = lv.split("_")[0]
                partners = [k for k in counts.index if k.split("_")[0] == age and k not in small]
                target = partners[0] if partners else references[c]
                data.loc[data[c] == lv, c] = target
            continue
        if small:
            merged[c] = small
            data.loc[data[c].isin(small), c] = references[c]
    return merged


def design(data: pd.DataFrame, columns: list[str], references: dict,
           constant: bool = True) -> pd.DataFrame:
    """Return the 0/1 design matrix of categorical columns, each reference left out.

    Dummies are named ``column[level]``. With ``constant`` a column ``const`` comes first;
    without it the first column's levels all get a dummy (one intercept per cell).
    """
    parts = []
    if constant:
        parts.append(pd.DataFrame({"const": np.ones(len(data))}, index=data.index))
    for i, c in enumerate(columns):
        every = sorted(data[c].unique())
        levels = every
        if constant or i > 0:
            levels = [lv for lv in every if lv != references.get(c)]
        column_of = np.array([levels.index(lv) if lv in levels else -1 for lv in every])
        codes = column_of[pd.Categorical(data[c], categories=every).codes]
        mat = np.zeros((len(data), len(levels)), dtype=np.float64)
        rows = np.flatnonzero(codes >= 0)
        mat[rows, codes[rows]] = 1.0
        parts.append(pd.DataFrame(mat, index=data.index, columns=[f"{c}[{lv}]" for lv in levels]))
    return pd.concat(parts, axis=1)


def cells(data: pd.DataFrame, by: list[str], y: str = "y") -> pd.DataFrame:
    """Return one row per combination of `by` with ``n`` (youths) and ``o`` (outcome count)."""
    g = data.groupby(by, sort=True, observed=True)[y]
    out = g.agg(n="size", o="sum").reset_index()
    return out
