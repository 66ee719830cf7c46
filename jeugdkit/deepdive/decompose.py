"""Decomposition of a gemeente's gap to its comparison group: composition and practice.

::

    dec = decompose(mf, "0363", comparison=codes)      # the other gemeenten of the group
    dec.table     # methode x component: waarde, ondergrens, bovengrens (bootstrap)

Two methods (docs/deepdive.md):

- **Kitagawa** over cells (default age group x sex x household type), symmetric weights: with
  shares w and rates r per cell, gap = r_A - r_B = sum (w_A - w_B)(r_A + r_B)/2
  (``samenstelling``) + sum (r_A - r_B)(w_A + w_B)/2 (``praktijk``). A cell empty on one side
  takes the other side's rate, so it adds to composition only.
- **Oaxaca-Blinder, two-fold**, on the linear probability model with pooled coefficients:
  b* from OLS on A and B together with a group dummy (Jann 2008: keeps the group gap out of
  b*). Explained (composition) = (xbar_A - xbar_B)' b*; unexplained (practice) = the rest of
  the gap (OLS with a constant makes xbar' b = ybar in each group, so this is
  xbar_A'(b_A - b*) + xbar_B'(b* - b_B) without fitting the groups apart).

Intervals: percentile bootstrap, resampling clusters with replacement within each side
(households by default; ``cluster="gemeente"`` resamples the comparison group's gemeenten
and the gemeente's households). Vectorised: replicate weights per cluster times sparse
cluster x cell (or x covariate pattern) count matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from jeugdkit.deepdive.model import AGE_SEX, ModelFrame, _merge_small_levels, design
from jeugdkit.errors import JeugdkitError
from jeugdkit.settings import DEFAULT, Settings

COMPONENTS = ("verschil", "samenstelling", "praktijk")


def kitagawa(n_a, o_a, n_b, o_b) -> np.ndarray:
    """Return (gap, composition, rate) over cells from counts per cell (last axis).

    ``n_*``: youths per cell, ``o_*``: with the outcome. Leading axes are replicates.

    Example
    -------
    >>> kitagawa([50, 50], [10, 5], [20, 80], [4, 8])   # gap 0.03 = 0.03 + 0.00
    """
    n_a, o_a, n_b, o_b = (np.asarray(v, dtype=float) for v in (n_a, o_a, n_b, o_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        w_a = n_a / n_a.sum(axis=-1, keepdims=True)
        w_b = n_b / n_b.sum(axis=-1, keepdims=True)
        r_a = np.where(n_a > 0, o_a / n_a, np.nan)
        r_b = np.where(n_b > 0, o_b / n_b, np.nan)
    r_a = np.where(np.isnan(r_a), r_b, r_a)
    r_b = np.where(np.isnan(r_b), r_a, r_b)
    r_a, r_b = np.nan_to_num(r_a), np.nan_to_num(r_b)
    comp = np.sum((w_a - w_b) * (r_a + r_b) / 2, axis=-1)
    rate = np.sum((r_a - r_b) * (w_a + w_b) / 2, axis=-1)
    return np.stack([comp + rate, comp, rate], axis=-1)


def oaxaca(X: np.ndarray, y: np.ndarray, side: np.ndarray, w: np.ndarray | None = None
           ) -> np.ndarray:
    """Return (gap, explained, unexplained): two-fold Oaxaca-Blinder with pooled coefficients.

    ``X`` holds a constant and the covariates (no group dummy: it is added here), ``side``
    is 1 for the gemeente (A) and 0 for the comparison (B), ``w`` optional frequency weights
    (rows may be covariate patterns). Leading axes of ``w`` are replicates.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    side = np.asarray(side, dtype=float)
    w = np.ones(len(y)) if w is None else np.asarray(w, dtype=float)
    single = w.ndim == 1
    W = w[None, :] if single else w
    Z = np.column_stack([X, side])
    out = np.empty((len(W), 3))
    for start in range(0, len(W), 25):
        Wb = W[start:start + 25]
        ztz = np.matmul((Wb[:, :, None] * Z[None]).transpose(0, 2, 1), Z)  # BLAS
        zty = (Wb * y) @ Z
        beta = np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(ztz, zty)])
        wa, wb = Wb * side, Wb * (1 - side)
        xa = (wa @ X) / wa.sum(axis=1, keepdims=True)
        xb = (wb @ X) / wb.sum(axis=1, keepdims=True)
        gap = (wa @ y) / wa.sum(axis=1) - (wb @ y) / wb.sum(axis=1)
        explained = np.sum((xa - xb) * beta[:, :X.shape[1]], axis=1)
        out[start:start + 25] = np.column_stack([gap, explained, gap - explained])
    return out[0] if single else out


@dataclass
class Decomposition:
    """Kitagawa and Oaxaca-Blinder decompositions with bootstrap intervals."""

    table: pd.DataFrame
    pooled: object
    sample: pd.DataFrame
    notes: dict = field(default_factory=dict)


def decompose(mf: ModelFrame, gemeente: str, comparison=None, cells=None,
              replicates: int | None = None, cluster: str | None = None, level: float = 0.95,
              seed: int = 0, settings: Settings | None = None) -> Decomposition:
    """Return the decomposition of the gap between `gemeente` (A) and its comparison (B).

    ``comparison``: gemeentecodes of the comparison group; the gemeente itself is left out of
    B (default: every other gemeente, i.e. the rest of the country). ``cells``: columns of the
    Kitagawa cells (``Analysis.decompose_cells``). ``replicates``: bootstrap replicates
    (``Analysis.bootstrap_replicates``; 0 for none). ``cluster``: ``huishouden`` or
    ``gemeente``.

    Example
    -------
    >>> decompose(model_frame(pop.frame), "0363", comparison=group_codes, replicates=200)
    """
    settings = settings or DEFAULT
    a = settings.analysis
    cells = list(cells or a.decompose_cells)
    replicates = a.bootstrap_replicates if replicates is None else int(replicates)
    cluster = cluster or a.deepdive_cluster
    if cluster not in ("huishouden", "gemeente", "gemeentecode"):
        raise JeugdkitError(f"cluster {cluster!r}: expected huishouden or gemeente")
    gemeente = str(gemeente).zfill(4)
    codes = mf.data["gemeentecode"]
    in_a = (codes == gemeente).to_numpy()
    if not in_a.any():
        raise JeugdkitError(f"gemeente {gemeente} has no youths in the population "
                            f"({mf.outcome}, {mf.ages[0]}-{mf.ages[1]})")
    in_b = ~in_a if comparison is None else (codes.isin([str(c).zfill(4) for c in comparison])
                                             .to_numpy() & ~in_a)
    if not in_b.any():
        raise JeugdkitError(f"comparison group of {gemeente} has no other gemeente's youths")
    d = mf.data[in_a | in_b].reset_index(drop=True)
    side = (d["gemeentecode"] == gemeente).to_numpy().astype(float)
    covs = [AGE_SEX, *mf.covariates]
    refs = dict(mf.references)
    d = d.copy()
    merged = _merge_small_levels(d, covs, refs, settings.output_control.min_units)
    # Kitagawa counts per cell and side
    cell_codes, _ = pd.factorize(pd.MultiIndex.from_frame(d[cells].astype(str)))
    y = d["y"].to_numpy(dtype=float)
    X = design(d, covs, refs, constant=True)
    est_k = kitagawa(*_cell_sums(cell_codes, y, side, None))
    est_o = oaxaca(X.to_numpy(), y, side)
    import statsmodels.api as sm
    pooled = sm.OLS(y, X.assign(groep=side)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["huishouden"])[0]})
    boot_k = boot_o = None
    if replicates > 0:
        rng = np.random.default_rng(seed)
        cl = d["huishouden"].astype(str).to_numpy().astype(object)
        if cluster != "huishouden":
            cl = np.where(side == 1, cl, "g" + d["gemeentecode"].astype(str).to_numpy())
        cl = np.char.add(np.where(side == 1, "A", "B").astype(str), cl.astype(str))
        cl_codes, _ = pd.factorize(cl)
        rw = _within_sides(cl_codes, side, rng, replicates)
        # Kitagawa: replicate counts per cell = weights @ (cluster x cell) counts
        boot_k = kitagawa(*_cell_sums(cell_codes, y, side, (rw, cl_codes)))
        # Oaxaca: rows collapsed to (side, covariates, y) patterns, weights per pattern
        pat_key = pd.MultiIndex.from_frame(
            pd.concat([pd.Series(side, name="_side"), d[covs].astype(str),
                       pd.Series(y, name="_y")], axis=1))
        pat, _ = pd.factorize(pat_key)
        first = pd.Series(np.arange(len(d))).groupby(pat).first().to_numpy()
        m = sparse.csr_matrix((np.ones(len(d)), (cl_codes, pat)),
                              shape=(rw.shape[1], pat.max() + 1))
        pw = np.asarray((sparse.csr_matrix(rw) @ m).todense())
        boot_o = oaxaca(X.to_numpy()[first], y[first], side[first], pw)
    rows = []
    q = [(1 - level) / 2, (1 + level) / 2]
    for method, est, boot in (("kitagawa", est_k, boot_k), ("oaxaca_blinder", est_o, boot_o)):
        for i, comp in enumerate(COMPONENTS):
            lo, hi = (np.nanquantile(boot[:, i], q) if boot is not None else (np.nan, np.nan))
            rows.append({"methode": method, "component": comp, "waarde": est[i],
                         "aandeel_van_verschil": est[i] / est[0] if est[0] else np.nan,
                         "ondergrens": lo, "bovengrens": hi,
                         "se_bootstrap": np.nanstd(boot[:, i], ddof=1) if boot is not None
                         else np.nan})
    table = pd.DataFrame(rows)
    table.insert(0, "gemeentecode", gemeente)
    sample = pd.DataFrame({"gemeentecode": d["gemeentecode"].to_numpy(),
                           "kant": np.where(side == 1, gemeente, "vergelijking"), "y": y})
    return Decomposition(table, pooled, sample,
                         {"n_gemeente": int(side.sum()), "n_vergelijking": int((1 - side).sum()),
                          "cells": cells, "replicates": replicates, "cluster": cluster,
                          "merged_levels": merged, "reference": "pooled with group dummy"})


def _within_sides(cl_codes, side, rng, replicates):
    """Return (replicates x clusters) counts resampling clusters within side A and side B."""
    k = cl_codes.max() + 1
    side_of = np.zeros(k)
    side_of[cl_codes] = side
    out = np.zeros((replicates, k))
    for s in (0.0, 1.0):
        idx = np.flatnonzero(side_of == s)
        out[:, idx] = rng.multinomial(len(idx), np.full(len(idx), 1.0 / len(idx)),
                                      size=replicates)
    return out


def _cell_sums(cell_codes, y, side, replicate):
    """Return (n_A, o_A, n_B, o_B) per cell; with replicate weights one row per replicate."""
    k = cell_codes.max() + 1
    out = []
    for s in (1.0, 0.0):
        mask = side == s
        if replicate is None:
            out += [np.bincount(cell_codes[mask], minlength=k).astype(float),
                    np.bincount(cell_codes[mask], weights=y[mask], minlength=k)]
        else:
            rw, cl = replicate
            m_n = sparse.csr_matrix((np.ones(mask.sum()), (cl[mask], cell_codes[mask])),
                                    shape=(rw.shape[1], k))
            m_o = sparse.csr_matrix((y[mask], (cl[mask], cell_codes[mask])),
                                    shape=(rw.shape[1], k))
            r = sparse.csr_matrix(rw)
            out += [np.asarray((r @ m_n).todense()), np.asarray((r @ m_o).todense())]
    return out
