"""Checks of fitted models (statsmodels and linearmodels) before their parameters leave.

Rules: at least ``min_model_df`` residual degrees of freedom; every fixed-effect level, every
dummy level (and its complement) rests on at least ``min_units`` units; only the parameter
table leaves (no residuals, no predictions per person); no person keys in parameter names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jeugdkit.errors import DisclosureError
from jeugdkit.settings import OutputControl


def _levels(counts_or_labels) -> pd.Series:
    """Return units per level from counts per level or labels per observation."""
    s = pd.Series(counts_or_labels)
    if pd.api.types.is_integer_dtype(s.dtype) and s.index.is_unique and \
            not isinstance(s.index, pd.RangeIndex):
        return s
    return s.astype(str).value_counts()


def _design(result) -> pd.DataFrame | None:
    model = getattr(result, "model", None)
    exog = getattr(model, "exog", None)
    if exog is None:
        return None
    if hasattr(exog, "pandas"):  # linearmodels IVData / PanelData
        frame = exog.pandas
        return frame if isinstance(frame, pd.DataFrame) else None
    if hasattr(exog, "dataframe"):
        return exog.dataframe
    names = getattr(model, "exog_names", None)
    arr = np.asarray(exog)
    if arr.ndim != 2:
        return None
    return pd.DataFrame(arr, columns=names or [f"x{i}" for i in range(arr.shape[1])])


def _automatic_levels(result) -> dict[str, pd.Series]:
    """Return units per fixed-effect level that the result itself reveals."""
    model = getattr(result, "model", None)
    out: dict[str, pd.Series] = {}
    if model is None:
        return out
    dep = getattr(model, "dependent", None)
    if hasattr(dep, "dataframe") and isinstance(dep.dataframe.index, pd.MultiIndex):
        idx = dep.dataframe.index
        if getattr(model, "entity_effects", False):
            out[f"entity ({idx.names[0]})"] = pd.Series(idx.get_level_values(0)).astype(
                str).value_counts()
        if getattr(model, "time_effects", False):
            out[f"time ({idx.names[1]})"] = pd.Series(idx.get_level_values(1)).astype(
                str).value_counts()
    absorb = getattr(model, "_absorb", None)  # AbsorbingLS keeps its absorb frame here
    if isinstance(absorb, pd.DataFrame):
        for col in absorb.columns:
            if isinstance(absorb[col].dtype, pd.CategoricalDtype) or \
                    absorb[col].dtype == object:
                out[str(col)] = absorb[col].astype(str).value_counts()
    return out


def _param_table(result) -> pd.DataFrame:
    params = pd.Series(result.params)
    se = getattr(result, "std_errors", None)
    if se is None:
        se = getattr(result, "bse", None)
    stat = getattr(result, "tstats", None)
    if stat is None:
        stat = getattr(result, "tvalues", None)
    table = pd.DataFrame({"coef": params})
    if se is not None:
        table["std_err"] = pd.Series(np.asarray(se), index=params.index)
    if stat is not None:
        table["statistic"] = pd.Series(np.asarray(stat), index=params.index)
    p = getattr(result, "pvalues", None)
    if p is not None:
        table["p_value"] = pd.Series(np.asarray(p), index=params.index)
    try:
        ci = result.conf_int()
        ci = pd.DataFrame(np.asarray(ci), index=params.index)
        table["ci_lower"], table["ci_upper"] = ci.iloc[:, 0], ci.iloc[:, 1]
    except Exception:  # noqa: BLE001 - not every result offers intervals
        pass
    table.index.name = "parameter"
    return table


def _dummies(result) -> dict[str, tuple[int, int]]:
    """Return (ones, zeros) of every binary column of the result's design."""
    design = _design(result)
    out = {}
    if design is not None:
        for col in design.columns:
            v = design[col].to_numpy(dtype=float)
            if np.isin(v, (0.0, 1.0)).all() and v.min() != v.max():
                out[str(col)] = (int(v.sum()), int((v == 0).sum()))
    return out


@dataclass
class ModelSummary:
    """A fitted model reduced to what output control checks and a release uses: the
    parameter table, the degrees of freedom, the units per fixed-effect level and per side of
    every dummy, and the fit statistics. Small and picklable: a fitted AbsorbingLS result
    carries its whole design (18 MB pickled at 20,000 persons), so a fit kept for reuse
    (the period's gemeente effects, fitted once for every report) is kept as this.
    :func:`model_checks` judges it exactly as it judges the result it came from.

        lpm = ModelSummary.of(AbsorbingLS(y, x, absorb=absorb).fit())
        run.check_model(lpm, name="lpm", unit="jongeren", population="jeugd-2023")
    """

    result_type: str
    method: str
    table: pd.DataFrame
    nobs: float
    df_resid: float | None
    df_model: float | None
    levels: dict = field(default_factory=dict)
    dummies: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    """Further fit statistics a release reports (e.g. a logit's deviance and AIC)."""

    @classmethod
    def of(cls, result) -> ModelSummary:
        if isinstance(result, ModelSummary):
            return result
        df_resid = getattr(result, "df_resid", None)
        df_model = getattr(result, "df_model", None)
        stats = {a: float(getattr(result, a)) for a in ("rsquared", "prsquared",
                                                        "rsquared_within")
                 if getattr(result, a, None) is not None}
        return cls(type(result).__name__, f"{type(getattr(result, 'model', result)).__name__} "
                   "model", _param_table(result), float(getattr(result, "nobs", np.nan)),
                   None if df_resid is None else float(df_resid),
                   None if df_model is None else float(df_model),
                   _automatic_levels(result), _dummies(result), stats)

    @property
    def params(self) -> pd.Series:
        return self.table["coef"]

    def __getattr__(self, name: str):
        stats = self.__dict__.get("stats", {})
        if name in stats:
            return stats[name]
        raise AttributeError(name)


def model_checks(result, name: str, rules: OutputControl | None = None,
                 n_per_level: dict | None = None) -> tuple[pd.DataFrame, dict, list[str]]:
    """Return (parameter table, properties, rules checked) of a fitted model, or raise.

    ``result`` is a statsmodels results object (OLS, GLM, Logit, ...) or a linearmodels one
    (OLS, AbsorbingLS, PanelOLS, ...). ``n_per_level`` maps a fixed effect or dummy variable
    to its units per level: a Series of counts indexed by level, or the labels per observation
    (e.g. the gemeente of each person in the estimation sample). Levels of PanelOLS entity and
    time effects and of AbsorbingLS absorbed categoricals are counted automatically.
    """
    rules = rules or OutputControl()
    summary = ModelSummary.of(result)
    nobs, df_resid = summary.nobs, summary.df_resid
    if df_resid is None:
        raise DisclosureError(f"model {name!r}: the result has no df_resid; cannot check the "
                              "degrees of freedom")
    problems = []
    if df_resid < rules.min_model_df:
        problems.append(f"{df_resid:g} residual degrees of freedom < {rules.min_model_df}")
    levels = dict(summary.levels)
    for var, counts in (n_per_level or {}).items():
        levels[str(var)] = _levels(counts)
    for var, counts in levels.items():
        small = counts[counts < rules.min_units]
        if len(small):
            problems.append(f"fixed effect {var!r}: {len(small)} level(s) rest on fewer than "
                            f"{rules.min_units} units (e.g. {small.index[0]!r}: "
                            f"{int(small.iloc[0])}); merge small levels before fitting")
    for col, (ones, zeros) in summary.dummies.items():
        if min(ones, zeros) < rules.min_units:
            problems.append(f"dummy {col!r}: {min(ones, zeros)} units on one side "
                            f"(< {rules.min_units})")
    if problems:
        raise DisclosureError(f"model {name!r} is blocked: " + "; ".join(problems))
    table = summary.table.copy()
    props = {"method": summary.method,
             "nobs": nobs, "df_resid": df_resid,
             "fixed_effects": {k: {"levels": len(v), "smallest": int(v.min())}
                               for k, v in levels.items()},
             "binary_regressors_checked": len(summary.dummies)}
    for attr in ("rsquared", "prsquared"):
        if attr in summary.stats:
            props[attr] = summary.stats[attr]
    rules_checked = [f"residual degrees of freedom >= {rules.min_model_df}",
                     f"every fixed-effect and dummy level rests on >= {rules.min_units} units",
                     "only the parameter table leaves (no residuals or predictions)",
                     "no person keys in parameter names"]
    return table, props, rules_checked
