"""Gemeente effects: linear probability model with gemeente absorbed, a logit, and shrinkage.

::

    eff = gemeente_effects(mf)                      # cluster="huishouden" by default
    eff.lpm.summary                                 # linearmodels AbsorbingLS, clustered SEs
    eff.logit.summary()                             # statsmodels logit with gemeente dummies
    eff.table      # per gemeente: n, ruw, aangepast, se's, eb (shrunken), ...
    eff.spread     # between-gemeente variance raw vs adjusted, share explained by composition

Definitions (docs/deepdive.md):

- raw effect of gemeente g: its share minus the national share (probability scale);
- adjusted effect: mean over g's youths of y - x'b, with b the covariate coefficients of the
  LPM with gemeente absorbed, centred so the youth-weighted mean is 0; its standard error is
  cluster-robust over households within the gemeente: se^2 = sum_h (sum_i in h e_i)^2 / n^2;
- between-gemeente variance tau^2 by DerSimonian-Laird from (effect, se) pairs, i.e. the spread
  left after removing sampling noise; share explained by composition = 1 - tau2_adj / tau2_raw;
- empirical Bayes (normal-normal, prior mean 0): eb = effect * tau^2 / (tau^2 + se^2), with
  posterior sd sqrt(tau^2 se^2 / (tau^2 + se^2)). Small gemeenten shrink most.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jeugdkit.deepdive.model import AGE_SEX, ModelFrame, design
from jeugdkit.deepdive.oe import fit_cell_logit
from jeugdkit.errors import JeugdkitError
from jeugdkit.settings import DEFAULT, Settings

CLUSTERS = {"huishouden": "huishouden", "gemeente": "gemeentecode",
            "gemeentecode": "gemeentecode"}


def dersimonian_laird(effects, se) -> float:
    """Return the DerSimonian-Laird between-unit variance tau^2 of effects with their se's.

    Example
    -------
    >>> dersimonian_laird([0.1, -0.1], [0.05, 0.05])      # Q = 8, tau2 = 0.0175
    """
    x = np.asarray(effects, dtype=float)
    w = 1.0 / np.asarray(se, dtype=float) ** 2
    mean = np.sum(w * x) / w.sum()
    q = np.sum(w * (x - mean) ** 2)
    denom = w.sum() - np.sum(w ** 2) / w.sum()
    return float(max(0.0, (q - (len(x) - 1)) / denom)) if denom > 0 else 0.0


def shrink(effects, se, tau2: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (empirical Bayes estimates, posterior sd) of effects with prior N(0, tau2)."""
    x = np.asarray(effects, dtype=float)
    s2 = np.asarray(se, dtype=float) ** 2
    if tau2 <= 0:
        return np.zeros_like(x), np.zeros_like(x)
    b = tau2 / (tau2 + s2)
    return x * b, np.sqrt(tau2 * s2 / (tau2 + s2))


def _cluster_se(resid: np.ndarray, group: np.ndarray, cluster: np.ndarray,
                n_groups: int) -> np.ndarray:
    """Return per group the cluster-robust se of the mean of resid (clusters nested)."""
    key = pd.MultiIndex.from_arrays([group, cluster])
    codes, uniq = pd.factorize(key)
    sums = np.bincount(codes, weights=resid)
    cl_group = np.asarray(uniq.get_level_values(0), dtype=np.int64)
    var = np.bincount(cl_group, weights=sums ** 2, minlength=n_groups)
    n = np.bincount(group, minlength=n_groups).astype(float)
    return np.sqrt(var) / n


@dataclass
class GemeenteEffects:
    """LPM (AbsorbingLS), logit and per-gemeente effects with shrinkage."""

    lpm: object
    logit: object
    table: pd.DataFrame
    spread: pd.DataFrame
    person_values: pd.DataFrame
    notes: dict = field(default_factory=dict)


def gemeente_effects(mf: ModelFrame, cluster: str | None = None, logit: bool = True,
                     settings: Settings | None = None) -> GemeenteEffects:
    """Return gemeente effects adjusted for the full composition, raw effects and shrinkage.

    ``cluster``: ``huishouden`` (default, ``Analysis.deepdive_cluster``; siblings share
    background and use) or ``gemeente`` for the LPM's standard errors. With ``logit`` a logit
    with gemeente dummies is fitted on cell counts for comparison of the covariates' odds
    ratios (reference gemeente: the largest).

    ``person_values`` (internal, never released) holds per youth the outcome and y - x'b,
    whose gemeente means the release step passes through output control.

    Example
    -------
    >>> eff = gemeente_effects(model_frame(pop.frame), cluster="gemeente")
    """
    from linearmodels.iv.absorbing import AbsorbingLS

    settings = settings or DEFAULT
    cluster = cluster or settings.analysis.deepdive_cluster
    if cluster not in CLUSTERS:
        raise JeugdkitError(f"cluster {cluster!r}: expected huishouden or gemeente")
    data = mf.data
    columns = [AGE_SEX, *mf.covariates]
    X = design(data, columns, mf.references, constant=True)
    gem = pd.Categorical(data["gemeentecode"])
    absorb = pd.DataFrame({"gemeentecode": gem})
    clusters = pd.Series(pd.factorize(data[CLUSTERS[cluster]])[0], name=cluster)
    lpm = AbsorbingLS(data["y"], X, absorb=absorb).fit(cov_type="clustered",
                                                       clusters=clusters)
    beta = lpm.params.drop("const", errors="ignore")
    xb = X[beta.index].to_numpy() @ beta.to_numpy()
    y = data["y"].to_numpy(dtype=float)
    adj = y - xb
    g = gem.codes
    k = len(gem.categories)
    n = np.bincount(g, minlength=k).astype(float)
    raw_mean = np.bincount(g, weights=y, minlength=k) / n
    adj_mean = np.bincount(g, weights=adj, minlength=k) / n
    hh = data["huishouden"].to_numpy()
    se_raw = _cluster_se(y - raw_mean[g], g, hh, k)
    se_adj = _cluster_se(adj - adj_mean[g], g, hh, k)
    table = pd.DataFrame({"gemeentecode": list(gem.categories.astype(str)), "n": n,
                          "aandeel": raw_mean, "ruw": raw_mean - y.mean(), "se_ruw": se_raw,
                          "aangepast": adj_mean - adj.mean(), "se_aangepast": se_adj})
    spread = effect_spread(table)
    tau2 = float(spread.set_index("effect").loc["aangepast", "tau2"])
    table["eb"], table["eb_sd"] = shrink(table["aangepast"], table["se_aangepast"], tau2)
    table["gewicht_eigen"] = tau2 / (tau2 + table["se_aangepast"] ** 2) if tau2 > 0 else 0.0
    logit_res = None
    if logit:
        refs = dict(mf.references)
        refs["gemeentecode"] = table.loc[table["n"].idxmax(), "gemeentecode"]
        logit_res, _, _ = fit_cell_logit(data, columns, refs, extra=["gemeentecode"])
    person = pd.DataFrame({"gemeentecode": data["gemeentecode"].to_numpy(), "y": y,
                           "aangepast": adj})
    return GemeenteEffects(lpm, logit_res, table, spread, person,
                           {"cluster": cluster, "outcome": mf.outcome, "ages": mf.ages})


def effect_spread(table: pd.DataFrame) -> pd.DataFrame:
    """Return the between-gemeente spread of raw and adjusted effects and the share explained.

    Columns: effect (``ruw``/``aangepast``), gemeenten, gewogen_variantie (youth-weighted
    variance of the effects, noise included), tau2 (DerSimonian-Laird, noise removed),
    verklaard_door_samenstelling (1 - adjusted / raw, on tau2; on the adjusted row) and
    verklaard_gewogen_variantie (the same on the weighted variance).
    """
    t = table.dropna(subset=["ruw", "aangepast", "se_ruw", "se_aangepast"])
    t = t[(t["se_ruw"] > 0) & (t["se_aangepast"] > 0)]
    rows = []
    for eff in ("ruw", "aangepast"):
        w = t["n"].to_numpy(dtype=float)
        x = t[eff].to_numpy(dtype=float)
        m = np.sum(w * x) / w.sum()
        rows.append({"effect": eff, "gemeenten": len(t),
                     "gewogen_variantie": float(np.sum(w * (x - m) ** 2) / w.sum()),
                     "tau2": dersimonian_laird(x, t[f"se_{eff}"])})
    out = pd.DataFrame(rows)
    for col, new in (("tau2", "verklaard_door_samenstelling"),
                     ("gewogen_variantie", "verklaard_gewogen_variantie")):
        raw, adj = out[col].iloc[0], out[col].iloc[1]
        out[new] = [np.nan, 1 - adj / raw if raw > 0 else np.nan]
    return out
