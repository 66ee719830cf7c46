"""Funnel plots of O/E with over-dispersion (Spiegelhalter 2005).

::

    fun = funnel(oe.table.query("niveau == 'volledig'"))
    fun.table          # gemeentecode, verwacht, ratio, z, limits at each coverage, signaal
    fun.dispersion     # phi, the chi-square test, tau2 and the adjustment chosen
    fig = funnel_plot(data=fun.table, limits=fun.limits, highlight="0363")

Definitions (Spiegelhalter, "Funnel plots for comparing institutional performance", Stat Med
2005; "Handling over-dispersion of performance indicators", Qual Saf Health Care 2005):

- The indicator is the ratio y = O/E with target 1. On the square-root scale (variance
  stabilising for Poisson counts) sqrt(y) has standard error s = 1 / (2 sqrt(E)), so the
  z-score is z = (sqrt(y) - 1) / s = 2 (sqrt(O) - sqrt(E)).
- Over-dispersion: phi = mean of the squared z-scores after 10% winsorising at each end
  (z-scores beyond the 10th/90th percentile set to it). Under the null k phi ~ chi2(k - 1).
- When the test rejects (p < ``Analysis.funnel_overdispersion_alpha``) the limits widen:
  multiplicative, sqrt(y) in 1 +- z_a sqrt(phi) s; or additive random effects, 1 +- z_a
  sqrt(s^2 + tau^2), with tau^2 by DerSimonian-Laird on the winsorised z-scores:
  tau^2 = (k phi - (k - 1)) / (sum w - sum w^2 / sum w), w = 1 / s^2 (0 if negative).
  The default, ``additive``, keeps the limits of large gemeenten realistic; multiplicative
  inflates every gemeente's variance by the same factor.
- Without over-dispersion the limits are the exact Poisson limits of O given E, with the
  continuity interpolation of Spiegelhalter's appendix, divided by E.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from jeugdkit.settings import DEFAULT, Settings

HIGHER, LOWER = "hoger", "lager"
ADJUSTMENTS = ("auto", "none", "multiplicative", "additive")


def _label(coverage: float) -> str:
    return f"{100 * coverage:g}".replace(".", "_")


def z_scores(observed, expected) -> np.ndarray:
    """Return the square-root-scale z-scores of O/E against 1: 2 (sqrt(O) - sqrt(E))."""
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    return 2.0 * (np.sqrt(o) - np.sqrt(e))


def winsorise(z, share: float = 0.1) -> np.ndarray:
    """Return z with values beyond the `share` and 1 - `share` percentiles set to them."""
    z = np.asarray(z, dtype=float)
    lo, hi = np.percentile(z, [100 * share, 100 * (1 - share)])
    return np.clip(z, lo, hi)


def overdispersion(observed, expected, winsor: float | None = None,
                   alpha: float | None = None, adjustment: str = "auto",
                   settings: Settings | None = None) -> dict:
    """Return the over-dispersion estimate, its test and the adjustment chosen.

    Keys: ``k``, ``phi`` (winsorised), ``statistic`` (k phi), ``df`` (k - 1), ``p_value``,
    ``tau2`` (DerSimonian-Laird on the square-root scale), ``adjustment`` (``none``,
    ``multiplicative`` or ``additive``). ``adjustment="auto"`` widens with additive random
    effects when the test rejects at ``alpha``, else none; the other values force a choice.

    Example
    -------
    >>> overdispersion([30, 50, 80], [40, 50, 70])["phi"]
    """
    a = (settings or DEFAULT).analysis
    winsor = a.funnel_winsor if winsor is None else winsor
    alpha = a.funnel_overdispersion_alpha if alpha is None else alpha
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment {adjustment!r}: expected one of {ADJUSTMENTS}")
    e = np.asarray(expected, dtype=float)
    zw = winsorise(z_scores(observed, e), winsor)
    k = len(zw)
    phi = float(np.mean(zw ** 2))
    stat = k * phi
    p = float(stats.chi2.sf(stat, k - 1)) if k > 1 else float("nan")
    w = 4.0 * e  # 1 / s^2 on the square-root scale
    denom = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (stat - (k - 1)) / denom) if denom > 0 else 0.0
    chosen = adjustment
    if adjustment == "auto":
        chosen = "additive" if p < alpha else "none"
    return {"k": k, "phi": phi, "statistic": stat, "df": k - 1, "p_value": p, "tau2": tau2,
            "winsor": winsor, "alpha": alpha, "adjustment": chosen}


def funnel_limits(expected, coverage: float, adjustment: str = "none", phi: float = 1.0,
                  tau2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (lower, upper) control limits of O/E at each expected count.

    ``adjustment``: ``none`` (exact Poisson, interpolated), ``multiplicative`` (phi) or
    ``additive`` (tau2), see the module docstring.
    """
    e = np.asarray(expected, dtype=float)
    if adjustment == "none":
        out = []
        for p in ((1 - coverage) / 2, (1 + coverage) / 2):
            r = stats.poisson.ppf(p, e)
            f_r = stats.poisson.cdf(r, e)
            f_r1 = stats.poisson.cdf(r - 1, e)
            with np.errstate(divide="ignore", invalid="ignore"):
                alpha = np.where(f_r > f_r1, (f_r - p) / (f_r - f_r1), 0.0)
            out.append(np.maximum(r - alpha, 0.0) / e)
        return out[0], out[1]
    z = stats.norm.ppf((1 + coverage) / 2)
    s2 = 1.0 / (4.0 * e)
    if adjustment == "multiplicative":
        half = z * np.sqrt(phi * s2)
    elif adjustment == "additive":
        half = z * np.sqrt(s2 + tau2)
    else:
        raise ValueError(f"adjustment {adjustment!r}: expected none, multiplicative or additive")
    return np.maximum(1 - half, 0.0) ** 2, (1 + half) ** 2


@dataclass
class Funnel:
    """A funnel: per-gemeente table, limit curves and the over-dispersion figures."""

    table: pd.DataFrame
    limits: pd.DataFrame
    dispersion: dict


def funnel(data: pd.DataFrame, observed: str = "waargenomen", expected: str = "verwacht",
           code: str = "gemeentecode", coverages=None, adjustment: str = "auto",
           settings: Settings | None = None, grid: int = 25) -> Funnel:
    """Return the funnel of O/E per gemeente (rows with missing O or E are left out).

    ``data``: one row per gemeente (no national or group rows) with O and E. The table gets
    ``z`` (the adjusted z-score), lower/upper limits at each coverage, ``buiten_<cov>``
    (``hoger``/``lager``/empty) and ``signaal`` at ``Analysis.funnel_signal``. ``limits``:
    ``grid`` points of each limit curve over the range of E, for plotting.

    Example
    -------
    >>> fun = funnel(oe.table.query("niveau == 'volledig' and gemeentecode != 'NL'"))
    """
    a = (settings or DEFAULT).analysis
    coverages = tuple(coverages or a.funnel_limits)
    d = data[[code, observed, expected]].dropna().copy()
    d = d[d[expected] > 0].reset_index(drop=True)
    o = d[observed].to_numpy(dtype=float)
    e = d[expected].to_numpy(dtype=float)
    disp = overdispersion(o, e, adjustment=adjustment, settings=settings)
    out = pd.DataFrame({code: d[code].to_numpy(), "waargenomen": o, "verwacht": e,
                        "ratio": o / e})
    z = z_scores(o, e)
    if disp["adjustment"] == "multiplicative":
        z = z / np.sqrt(disp["phi"])
    elif disp["adjustment"] == "additive":
        z = (np.sqrt(o / e) - 1) / np.sqrt(1 / (4 * e) + disp["tau2"])
    out["z"] = z
    ratio = out["ratio"].to_numpy()
    for cov in sorted(set(coverages) | {a.funnel_signal}):
        lo, hi = funnel_limits(e, cov, disp["adjustment"], disp["phi"], disp["tau2"])
        lab = _label(cov)
        if cov in coverages:
            out[f"ondergrens_{lab}"], out[f"bovengrens_{lab}"] = lo, hi
        flag = np.where(ratio > hi, HIGHER, np.where(ratio < lo, LOWER, ""))
        if cov in coverages:
            out[f"buiten_{lab}"] = flag
        if cov == a.funnel_signal:
            out["signaal"] = flag
    lo_e, hi_e = (e.min(), e.max()) if len(e) else (1.0, 10.0)
    xs = np.geomspace(max(lo_e * 0.8, 0.5), hi_e * 1.25, grid)
    curves = pd.DataFrame({"verwacht": xs})
    for cov in coverages:
        lo, hi = funnel_limits(xs, cov, disp["adjustment"], disp["phi"], disp["tau2"])
        curves[f"ondergrens_{_label(cov)}"], curves[f"bovengrens_{_label(cov)}"] = lo, hi
    return Funnel(out, curves, disp)


LEVEL_TITLES = {"volledig": "volledige samenstelling", "leeftijd_geslacht": "leeftijd en geslacht"}
"""How a title names the adjustment level of the expected counts."""


def funnel_title(title: str) -> str:
    """Return a funnel title as a reader reads it: ``O/E (volledig)`` becomes
    ``waargenomen/verwacht (volledige samenstelling)``, the first letter a capital.

    A title written that way already is returned as it is (with the capital)."""
    for level, text in LEVEL_TITLES.items():
        title = title.replace(f"O/E ({level})", f"waargenomen/verwacht ({text})")
    title = title.replace("O/E", "waargenomen/verwacht")
    return title[:1].upper() + title[1:]


def _two_lines(title: str, width: int) -> str:
    """Return a long title on two lines, broken after its colon if it has one."""
    if len(title) <= width:
        return title
    head, sep, tail = title.partition(": ")
    if sep and len(head) < width and len(tail) <= width:
        return f"{head}:\n{tail}"
    return textwrap.fill(title, width)


def _coverage_text(suffix: str) -> str:
    """Return the coverage of a limit column suffix the Dutch way: ``99_8`` -> ``99,8%``."""
    return f"{suffix.replace('_', ',')}%"


def funnel_plot(data: pd.DataFrame, limits: pd.DataFrame, x: str = "verwacht",
                y: str = "ratio", label: str = "gemeentecode", signal: str = "signaal",
                highlight: str | None = None, title: str = "", ax=None,
                names: dict | None = None):
    """Return a matplotlib Figure: O/E against E with the funnel's limit curves.

    Only gemeenten with a non-empty ``signal`` are labelled; ``highlight`` (a gemeentecode)
    is drawn in a second colour, labelled and named in the legend. ``names``: display names
    by gemeentecode (``{"1938": "Boswolde"}``) for those labels and the legend; a code
    without a name is shown as ``gemeente <code>`` in the legend and as its code next to its
    point. ``title`` goes through :func:`funnel_title` (``O/E (volledig)`` reads
    ``waargenomen/verwacht (volledige samenstelling)``). Numbers are written the Dutch way:
    ``99,8%``, ``0,75``, and plain numbers on the log axis (``100``, ``1.000``). The legend
    sits below the axes, where it covers no point.

    Example
    -------
    >>> fig = funnel_plot(data=fun.table, limits=fun.limits, highlight="0363",
    ...                   names={"0363": "Amsterdam"})
    """
    from jeugdkit.figures import style

    with style():
        return _funnel_plot(data, limits, x, y, label, signal, highlight, title, ax, names)


def _log_locator(lo: float, hi: float):
    """Return the major tick locator of the log x axis: 1-2-5 steps up to three decades, the
    powers of ten beyond (a few labelled ticks, never a crowd). Over a range too narrow for
    two such ticks matplotlib's LogLocator falls back to evenly spaced ones (25, 30, 35)."""
    from matplotlib.ticker import LogLocator

    decades = np.log10(hi / lo) if lo > 0 and hi > lo else 1.0
    return LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 3 else (1.0,), numticks=20)


def _funnel_plot(data, limits, x, y, label, signal, highlight, title, ax, names=None):
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from jeugdkit.figures import DutchFormatter, log_tick_label

    names = {str(k): str(v) for k, v in (names or {}).items()}
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 5.3))
    else:
        fig = ax.figure
    cov_cols = [c for c in limits.columns if c.startswith("bovengrens_")]
    styles = ["--", ":"]
    for i, col in enumerate(cov_cols):
        suffix = col.removeprefix("bovengrens_")
        ls = styles[i % len(styles)]
        ax.plot(limits["verwacht"], limits[col], color="grey", ls=ls, lw=1,
                label=f"{_coverage_text(suffix)}-grenzen")
        ax.plot(limits["verwacht"], limits[f"ondergrens_{suffix}"], color="grey", ls=ls, lw=1)
    ax.axhline(1.0, color="black", lw=0.8)
    d = data.dropna(subset=[x, y])
    sns.scatterplot(data=d, x=x, y=y, ax=ax, color="tab:blue", s=30, legend=False)
    codes = d[label].astype(str)
    if highlight is not None and (codes == str(highlight)).any():
        h = d[codes == str(highlight)]
        ax.scatter(h[x], h[y], color="tab:red", s=60, zorder=3,
                   label=names.get(str(highlight), f"gemeente {highlight}"))
    named = d[(d[signal].astype(str) != "") | (codes == str(highlight))]
    for _, row in named.iterrows():
        code = str(row[label])
        ax.annotate(names.get(code, code), (row[x], row[y]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8,
                    color="tab:red" if code == str(highlight) else "black")
    ax.set_xscale("log")
    xs = np.concatenate([d[x].to_numpy(dtype=float), limits["verwacht"].to_numpy(dtype=float)])
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if len(xs):
        ax.xaxis.set_major_locator(_log_locator(xs.min(), xs.max()))
    ax.xaxis.set_major_formatter(FuncFormatter(log_tick_label))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(DutchFormatter())
    ax.set_xlabel("verwacht aantal (E)")
    ax.set_ylabel("waargenomen / verwacht (O/E)")
    if title:
        ax.set_title(_two_lines(funnel_title(title), 58))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8.5,
              frameon=False)
    fig.tight_layout()
    return fig
