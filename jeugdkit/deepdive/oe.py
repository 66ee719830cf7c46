"""Observed versus expected per gemeente (indirect standardisation), with exact intervals.

::

    mf = model_frame(pop.frame)                       # jeugdhulp, 0-17
    oe = observed_vs_expected(mf)                     # both levels
    oe.table          # gemeentecode, niveau, n, waargenomen, verwacht, ratio, ondergrens, ...
    oe.models["volledig"].summary()                   # the logit behind the expected counts

The expected count of a gemeente is the sum over its youths of the probability a logit fitted
on the whole national population *without* gemeente terms predicts for them. The logit's
covariates are all categorical, so it is fitted on cell counts with frequency weights: the same
likelihood, estimates and standard errors as the person-level fit, in a fraction of the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from jeugdkit.deepdive.model import AGE_SEX, LEVELS, ModelFrame, design
from jeugdkit.output.models import ModelSummary
from jeugdkit.settings import DEFAULT, Settings

NATIONAL = "NL"
COLUMNS = ["gemeentecode", "niveau", "n", "waargenomen", "verwacht", "ratio", "ondergrens",
           "bovengrens"]


def poisson_interval(observed, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Return the exact (Garwood) interval for the mean of a Poisson count.

    Lower ``chi2(a/2; 2 O) / 2`` (0 when O = 0), upper ``chi2(1 - a/2; 2 O + 2) / 2``.

    Example
    -------
    >>> poisson_interval(np.array([10]))        # (array([4.795]), array([18.39]))
    """
    o = np.asarray(observed, dtype=float)
    a = 1.0 - level
    with np.errstate(invalid="ignore"):
        lower = np.where(o > 0, stats.chi2.ppf(a / 2, 2 * o) / 2, 0.0)
        upper = stats.chi2.ppf(1 - a / 2, 2 * o + 2) / 2
    return lower, upper


def ratio_interval(observed, expected, level: float = 0.95) -> pd.DataFrame:
    """Return ratio O/E and its exact Poisson interval (E taken as fixed)."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    lo, hi = poisson_interval(o, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"ratio": o / e, "ondergrens": lo / e, "bovengrens": hi / e})


def level_columns(mf: ModelFrame, level: str) -> list[str]:
    """Return the covariate columns of an adjustment level."""
    if level == LEVELS[AGE_SEX]:
        return [AGE_SEX]
    if level == LEVELS["volledig"]:
        return [AGE_SEX, *mf.covariates]
    raise ValueError(f"unknown level {level!r}; expected one of {list(LEVELS.values())}")


def fit_cell_logit(data: pd.DataFrame, columns: list[str], references: dict,
                   y: str = "y", extra: list[str] | None = None):
    """Return (GLM logit result, cell frame, cell index per row) fitted on cell counts.

    The first of ``columns`` gets one intercept per level (no constant); the others get a
    dummy per non-reference level. ``extra`` columns (e.g. gemeentecode) are further
    categorical terms. Each cell enters twice (outcome 1 weighted by its count ``o``, 0 by
    ``n - o``), so the likelihood is the person-level one.
    """
    by = [*columns, *(extra or [])]
    key = pd.MultiIndex.from_frame(data[by].astype(str))
    codes, uniques = pd.factorize(key, sort=True)
    cell = pd.DataFrame(list(uniques), columns=by)
    n = np.bincount(codes, minlength=len(cell)).astype(float)
    o = np.bincount(codes, weights=data[y].to_numpy(dtype=float), minlength=len(cell))
    cell["n"], cell["o"] = n, o
    two = pd.concat([cell.assign(_y=1.0, _w=o), cell.assign(_y=0.0, _w=n - o)],
                    ignore_index=True)
    two = two[two["_w"] > 0]
    X = design(two, by, references, constant=False)
    res = sm.GLM(two["_y"].to_numpy(), X, family=sm.families.Binomial(),
                 freq_weights=two["_w"].to_numpy()).fit()
    cell["p"] = res.predict(design(cell, by, references, constant=False)[X.columns])
    return res, cell, codes


class GLMOnCells:
    """The model of a cell-count GLM as output control sees it: the design per person.

    statsmodels keeps the cell rows and their frequency weights; output control counts the
    units on each side of every dummy, so the rows are expanded to persons (sparse columns:
    cheap even with hundreds of gemeente dummies).
    """

    def __init__(self, model):
        exog = np.asarray(model.exog)
        reps = np.asarray(model.freq_weights).astype(np.int64)
        frame = pd.DataFrame({
            name: pd.arrays.SparseArray(np.repeat(exog[:, j], reps), fill_value=0.0)
            for j, name in enumerate(model.exog_names)})
        self.exog = _Exog(frame)
        self.exog_names = list(model.exog_names)


class _Exog:
    def __init__(self, frame):
        self.dataframe = frame


class CellResult:
    """A cell-count GLM result presented per person (nobs = persons) for ``check_model``."""

    def __init__(self, result):
        self._result = result
        self.model = GLMOnCells(result.model)
        self.nobs = float(np.sum(result.model.freq_weights))

    def __getattr__(self, name):
        return getattr(self._result, name)


def for_output_check(result) -> CellResult:
    """Return a cell-count GLM result as ``ExportSession.check_model`` should judge it (a
    :class:`~jeugdkit.output.models.ModelSummary` of one is that already)."""
    return result if isinstance(result, ModelSummary) else CellResult(result)


@dataclass
class ObservedExpected:
    """O/E per gemeente at each level, the logits behind them and the per-youth predictions.

    ``predictions`` hold one probability per youth: internal, never released.
    """

    table: pd.DataFrame
    models: dict
    predictions: dict
    frame: ModelFrame
    notes: dict = field(default_factory=dict)


def observed_vs_expected(mf: ModelFrame, levels=None, groups: dict | None = None,
                         settings: Settings | None = None) -> ObservedExpected:
    """Return O/E per gemeente and nationally, at age x sex and full-composition level.

    ``levels``: subset of ``("leeftijd_geslacht", "volledig")``. ``groups``: ``{label:
    gemeentecodes}`` adds a pooled row per group (gemeentecode ``groep``, label in
    ``groep``). The interval is the exact Poisson interval of O divided by E (level
    ``Analysis.oe_interval``); E is treated as known (it rests on the national fit).

    Example
    -------
    >>> oe = observed_vs_expected(model_frame(pop.frame))
    >>> oe.table.query("niveau == 'volledig'")
    """
    settings = settings or DEFAULT
    levels = list(levels or LEVELS.values())
    data = mf.data
    rows, models, preds = [], {}, {}
    for level in levels:
        res, cell, codes = fit_cell_logit(data, level_columns(mf, level), mf.references)
        p = cell["p"].to_numpy()[codes]
        models[level], preds[level] = res, p
        g = pd.DataFrame({"gemeentecode": data["gemeentecode"], "y": data["y"], "p": p})
        agg = g.groupby("gemeentecode", sort=True).agg(n=("y", "size"), waargenomen=("y", "sum"),
                                                      verwacht=("p", "sum")).reset_index()
        extra = [{"gemeentecode": NATIONAL, "n": len(g), "waargenomen": g["y"].sum(),
                  "verwacht": g["p"].sum()}]
        for label, codes_ in (groups or {}).items():
            sub = g[g["gemeentecode"].isin([str(c) for c in codes_])]
            extra.append({"gemeentecode": "groep", "groep": label, "n": len(sub),
                          "waargenomen": sub["y"].sum(), "verwacht": sub["p"].sum()})
        agg = pd.concat([agg, pd.DataFrame(extra)], ignore_index=True)
        agg.insert(1, "niveau", level)
        rows.append(agg)
    table = pd.concat(rows, ignore_index=True)
    table = pd.concat([table, ratio_interval(table["waargenomen"], table["verwacht"],
                                             settings.analysis.oe_interval)], axis=1)
    cols = COLUMNS + (["groep"] if "groep" in table.columns else [])
    return ObservedExpected(table[cols], models, preds, mf,
                            {"outcome": mf.outcome, "ages": mf.ages,
                             "merged_levels": mf.merged,
                             "interval": settings.analysis.oe_interval})


def model_fit(result) -> dict:
    """Return fit statistics of a GLM logit (persons, parameters, deviance, AIC, pseudo R2);
    of a :class:`~jeugdkit.output.models.ModelSummary`, the ones it kept."""
    if isinstance(result, ModelSummary):
        return dict(result.fit)
    return {"personen": float(result.model.freq_weights.sum()),
            "parameters": int(result.df_model + 1), "df_resid": float(result.df_resid),
            "loglikelihood": float(result.llf), "deviance": float(result.deviance),
            "aic": float(result.aic), "pseudo_r2_mcfadden": float(1 - result.llf
                                                                   / result.llnull)}
