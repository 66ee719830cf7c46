"""Coverage of the exact Poisson interval of O/E over simulated datasets.

    python benchmarks/coverage_oe.py [--replicates 300] [--gemeenten 50] [--seed 1]

Design (fixed across replicates, like a real population whose composition is given):
gemeenten of 150 to 8,000 youths aged 0-17; per youth an age x sex cell, a one-parent flag and
a bijstand flag whose prevalences differ between gemeenten; a true logit

    logit p = alpha[age, sex] + 0.53 one_parent + 0.59 bijstand + u_g,   u_g ~ N(0, 0.15^2)

(the u_g are drawn once; four gemeenten get +-0.5). Each replicate draws the outcome
(binomial per gemeente x cell, the same as per youth), fits the kit's national logit without
gemeente terms (``jeugdkit.deepdive.oe.fit_cell_logit``, cell counts with frequency weights),
computes E per gemeente and the exact (Garwood) 95% interval of O divided by E.

What the interval should contain. O/E estimates

    theta_g = mu_g / E*_g,   mu_g = sum_i p_i (the true expected count of O),
                             E*_g = sum_i p*_i (p* = the national model's population limit:
                             the logit without gemeente terms fitted to the true p's),

i.e. how much more or less use gemeente g has than the national model predicts for its youths.
Also reported: the conditional truth mu_g / E_g (E_g the replicate's own fitted E), which the
interval targets when E is taken as known. Coverage = share of (replicate, gemeente) pairs whose
interval holds the truth, overall and by gemeente size.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm

from jeugdkit.deepdive.model import design
from jeugdkit.deepdive.oe import poisson_interval

AGES = range(18)


def population(k: int, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the fixed design: youths per gemeente x cell, and the gemeente effects."""
    sizes = np.round(np.geomspace(150, 8000, k)).astype(int)
    rng.shuffle(sizes)
    rows = []
    one_prev = rng.uniform(0.06, 0.30, k)
    bij_prev = rng.uniform(0.01, 0.14, k)
    for g in range(k):
        n = sizes[g]
        age = rng.integers(0, 18, n)
        sex = rng.integers(1, 3, n)
        one = rng.random(n) < one_prev[g]
        bij = rng.random(n) < bij_prev[g] * (1 + one)
        rows.append(pd.DataFrame({"g": g, "cel": [f"{a}_{s}" for a, s in zip(age, sex)],
                                  "eenouder": np.where(one, "ja", "nee"),
                                  "bijstand": np.where(bij, "ja", "nee")}))
    persons = pd.concat(rows, ignore_index=True)
    cells = persons.groupby(["g", "cel", "eenouder", "bijstand"]).size().reset_index(name="n")
    u = rng.normal(0, 0.15, k)
    u[:4] = [0.5, 0.5, -0.5, -0.5]
    return cells, u


def true_p(cells: pd.DataFrame, u: np.ndarray) -> np.ndarray:
    age = cells["cel"].str.split("_").str[0].astype(int).to_numpy()
    boy = (cells["cel"].str.split("_").str[1] == "1").to_numpy()
    # about 14% use at ages 8-11, low at 0-3 (the public age profile, roughly)
    alpha = -3.9 + 0.22 * np.minimum(age, 9) - 0.02 * np.maximum(age - 9, 0) + 0.3 * boy
    lp = alpha + 0.53 * (cells["eenouder"] == "ja") + 0.59 * (cells["bijstand"] == "ja")
    return 1 / (1 + np.exp(-(lp.to_numpy() + u[cells["g"].to_numpy()])))


def national_fit(cells: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """Return fitted p per row of `cells` from the logit without gemeente terms."""
    refs = {"cel": "0_1", "eenouder": "nee", "bijstand": "nee"}
    cols = ["cel", "eenouder", "bijstand"]
    nat = cells.assign(o=y).groupby(cols, sort=True)[["n", "o"]].sum().reset_index()
    two = pd.concat([nat.assign(_y=1.0, _w=nat["o"]), nat.assign(_y=0.0, _w=nat["n"] - nat["o"])],
                    ignore_index=True)
    two = two[two["_w"] > 0]
    X = design(two, cols, refs, constant=False)
    res = sm.GLM(two["_y"].to_numpy(), X, family=sm.families.Binomial(),
                 freq_weights=two["_w"].to_numpy()).fit()
    p_nat = res.predict(design(nat, cols, refs, constant=False)[X.columns])
    key = pd.MultiIndex.from_frame(nat[cols])
    return np.asarray(p_nat)[key.get_indexer(pd.MultiIndex.from_frame(cells[cols]))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicates", type=int, default=300)
    ap.add_argument("--gemeenten", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--level", type=float, default=0.95)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    cells, u = population(args.gemeenten, rng)
    n = cells["n"].to_numpy()
    g = cells["g"].to_numpy()
    k = args.gemeenten
    p = true_p(cells, u)
    mu = np.bincount(g, weights=n * p, minlength=k)
    e_star = np.bincount(g, weights=n * national_fit(cells, n * p), minlength=k)
    theta = mu / e_star
    size = np.bincount(g, weights=n, minlength=k)
    t0 = time.perf_counter()
    hit, hit_cond = np.zeros((args.replicates, k), bool), np.zeros((args.replicates, k), bool)
    for r in range(args.replicates):
        y = rng.binomial(n, p).astype(float)
        o = np.bincount(g, weights=y, minlength=k)
        e = np.bincount(g, weights=n * national_fit(cells, y), minlength=k)
        lo, hi = poisson_interval(o, args.level)
        hit[r] = (lo / e <= theta) & (theta <= hi / e)
        hit_cond[r] = (lo / e <= mu / e) & (mu / e <= hi / e)
    seconds = time.perf_counter() - t0
    tercile = pd.qcut(size, 3, labels=["klein", "middel", "groot"])
    print(f"O/E {args.level:.0%} exact Poisson interval: {args.replicates} simulated datasets x "
          f"{k} gemeenten ({int(size.sum()):,} youths, {int(size.min())}-{int(size.max())} per "
          f"gemeente), {seconds:.1f} s")
    se = np.sqrt(hit.mean() * (1 - hit.mean()) / hit.size)
    print(f"  coverage of theta = mu / E*:          {hit.mean():.4f}  (+- {1.96 * se:.4f}, "
          "pairs are not independent within a replicate)")
    print(f"  coverage of mu / E (E as fitted):     {hit_cond.mean():.4f}")
    for lab in ["klein", "middel", "groot"]:
        m = np.asarray(tercile == lab)
        print(f"  {lab:6s} gemeenten ({int(size[m].min())}-{int(size[m].max())} youths): "
              f"{hit[:, m].mean():.4f}")
    out4 = hit[:, :4].mean()
    print(f"  the four +-0.5 outliers:              {out4:.4f}")


if __name__ == "__main__":
    main()
