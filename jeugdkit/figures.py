"""Figures drawn from released tables only (seaborn), registered with the ExportSession.

Every figure here takes its numbers from a table the session has released, so it shows nothing
output control has not passed. A value the release left out is not drawn as a bar (it would
look like zero): it gets an ``x`` where its bar would stand, as in the report's tables, and the
legend says ``x`` means suppressed. Texts follow the report: Dutch labels, a decimal comma
(``1,5%``) and a dot between thousands (``1.000``).
"""

from __future__ import annotations

import contextlib
import math
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import Formatter, MaxNLocator  # noqa: E402

from jeugdkit.scope import GROUP, NATIONAL  # noqa: E402
from jeugdkit.tables import INDICATORS  # noqa: E402

LABELS = {
    "pct_jeugdhulp": "% 0-17 jaar met jeugdhulp",
    "pct_met_verblijf": "% van jeugdhulp 0-17 met verblijf",
    "pct_jeugdbescherming": "% 0-17 jaar met jeugdbescherming",
    "pct_jb_met_verblijf": "% van jeugdbescherming ook met verblijf",
    "pct_jeugdreclassering": "% 12-22 jaar met jeugdreclassering",
}
RATES = {name: (num, den) for name, num, den in INDICATORS}
"""rate: (numerator, denominator) in the released indicator table"""
COLOURS = {"gemeente": "#c0392b", GROUP: "#7f8c8d", NATIONAL: "#2c3e50"}
OTHER_COLOUR = "#95a5a6"
SUPPRESSED, NO_DATA = "x", "n.v.t."
"""Marks of a value without a bar: suppressed by output control (``x``, as in the tables), or
not existing (no youths in the denominator; ``n.v.t.``, niet van toepassing)."""
MARK_LABELS = {SUPPRESSED: "onderdrukt (geheim)", NO_DATA: "geen gegevens"}


@contextlib.contextmanager
def style():
    """Draw figures in jeugdkit's look (seaborn whitegrid, 100 dpi) inside this block only.

    The caller's matplotlib settings are put back afterwards: a figure looks the same
    whatever was drawn before it in the same process (a notebook run after another in one
    kernel, a researcher's own plots), and the kit never changes how the researcher's own
    figures look."""
    with plt.rc_context():
        sns.set_theme(style="whitegrid", context="notebook")
        plt.rcParams.update({"svg.hashsalt": "jeugdkit", "figure.dpi": 100})
        yield


# ----------------------------------------------------------------------------- Dutch numbers
def dutch_number(value: float, decimals: int = 0) -> str:
    """Return a number written the Dutch way: ``1.000``, ``1,5``, ``-0,25``."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def dutch_percent(value: float, decimals: int = 1) -> str:
    """Return a percentage the Dutch way: ``1,5%``."""
    return f"{dutch_number(value, decimals)}%"


def _decimals(values, most: int = 3) -> int:
    """Return the fewest decimals (up to `most`) that write every value without loss."""
    finite = [float(v) for v in values if np.isfinite(v)]
    for d in range(most + 1):
        if all(math.isclose(round(v, d), v, rel_tol=0, abs_tol=1e-9 * max(1.0, abs(v)))
               for v in finite):
            return d
    return most


class DutchFormatter(Formatter):
    """Tick labels with a decimal comma and a thousands dot, as many decimals as the ticks need
    (``0%  0,5%  1%  1,5%`` is written ``0,0%  0,5%  1,0%  1,5%``), with an optional suffix."""

    def __init__(self, suffix: str = ""):
        self.suffix = suffix
        self.ticks: list[float] = []

    def set_locs(self, locs):
        self.ticks = [float(v) for v in locs]

    def __call__(self, value, pos=None) -> str:
        return dutch_number(value, _decimals(self.ticks or [value])) + self.suffix


def log_tick_label(value, pos=None) -> str:
    """Return the label of a tick on a log axis: ``100``, ``1.000``, ``0,5`` (no powers)."""
    if value <= 0 or not np.isfinite(value):
        return ""
    return dutch_number(value, _decimals([value]))


def _status(ind: pd.DataFrame, rate: str) -> pd.Series:
    """Return per row why the rate has no value: ``""`` (it has one), ``NO_DATA`` or
    ``SUPPRESSED``.

    The rate does not exist when its numerator and denominator are released and the
    denominator is 0 (no youths), or when the indicator is unknown in every row (its source
    was absent); any other missing rate rests on a count output control suppressed. Without
    the count columns a missing rate counts as suppressed."""
    value = pd.to_numeric(ind[rate], errors="coerce")
    out = pd.Series("", index=ind.index, dtype=object)
    missing = value.isna()
    out[missing] = SUPPRESSED
    num, den = RATES.get(rate, (None, None))
    if num in ind and den in ind:
        n = pd.to_numeric(ind[num], errors="coerce")
        d = pd.to_numeric(ind[den], errors="coerce")
        out[missing & n.notna() & d.notna() & (d <= 0)] = NO_DATA
        if missing.all() and n.isna().all() and d.isna().all():
            out[:] = NO_DATA
    return out


def indicator_figures(run, scope) -> dict[str, object]:
    """Draw and release the trap-1 figures of one gemeente; return {name: figure}.

    ``indicatoren_vergelijking``: the gemeente against its group and NL, one panel per
    indicator with its own scale (from the released ``indicators``), see
    :func:`comparison_figure`; ``indicatoren_spreiding``: every gemeente's released rate per
    indicator, the chosen one highlighted (from ``indicators_gemeenten``).
    """
    with style():
        return _indicator_figures(run, scope)


def _indicator_figures(run, scope) -> dict[str, object]:
    figs = {}
    fig = _comparison_figure(run.outputs["indicators"].content, scope)
    run.release_figure(fig, source="indicators", name="indicatoren_vergelijking",
                       description="gemeente, vergelijkingsgroep en NL per indicator")
    figs["indicatoren_vergelijking"] = fig

    fig = _spread_figure(run.outputs["indicators_gemeenten"].content, scope)
    run.release_figure(fig, source="indicators_gemeenten", name="indicatoren_spreiding",
                       description="spreiding over gemeenten, gekozen gemeente gemarkeerd")
    figs["indicatoren_spreiding"] = fig
    return figs


def _rows(ind: pd.DataFrame, scope) -> list[tuple[str, str, str]]:
    """Return (code, name, colour) of the table's rows, in the table's order."""
    known = {GROUP: ("vergelijkingsgroep", COLOURS[GROUP]),
             NATIONAL: ("Nederland", COLOURS[NATIONAL])}
    if scope.gemeente is not None:
        known[scope.gemeente] = (scope.title, COLOURS["gemeente"])
    return [(c, *known.get(c, (f"gemeente {c}", OTHER_COLOUR)))
            for c in ind["gemeentecode"].astype(str)]


def _headline(scope, rows) -> str:
    others = ["vergelijkingsgroep"] if any(c == GROUP for c, _, _ in rows) else []
    others += ["Nederland"] if any(c == NATIONAL for c, _, _ in rows) else []
    return f"{scope.title[0].upper()}{scope.title[1:]} naast {' en '.join(others)}"


def comparison_figure(ind: pd.DataFrame, scope, labels: dict | None = None):
    """Return the figure of the gemeente against its group and NL (``indicatoren_vergelijking``).

    One panel per indicator, each with its own percentage scale, so that a rate near 1% reads
    as well as one near 50%; every bar carries its value (``1,5%``). A value the released
    table leaves empty gets a mark where its bar would stand: ``x`` when output control
    suppressed it, ``n.v.t.`` when it does not exist (see :func:`_status`). The title and the
    legend (gemeente by name, ``vergelijkingsgroep``, ``Nederland`` and a note per mark used,
    ``x = onderdrukt (geheim)``) sit in a header above the panels, so they never cover a bar;
    the header is ``fig.axes[0]``.

    Example
    -------
    >>> fig = comparison_figure(released["indicators"], scope)
    """
    with style():
        return _comparison_figure(ind, scope, labels)


def _comparison_figure(ind: pd.DataFrame, scope, labels: dict | None = None):
    labels = LABELS if labels is None else labels
    rows = _rows(ind, scope)
    fig = plt.figure(figsize=(10, 4.3))
    grid = fig.add_gridspec(2, len(labels), height_ratios=[1, 6])
    head = fig.add_subplot(grid[0, :])
    head.axis("off")
    panels = [fig.add_subplot(grid[1, i]) for i in range(len(labels))]
    marks = set()
    for ax, (rate, label) in zip(panels, labels.items()):
        marks |= _bar_panel(ax, ind, rate, label, rows)
    handles = [Patch(facecolor=colour, label=name) for _, name, colour in rows]
    texts = [name for _, name, _ in rows]
    for mark in (SUPPRESSED, NO_DATA):
        if mark in marks:  # a note in the legend's row, as a table's footnote: "x = ..."
            handles.append(Patch(facecolor="none", edgecolor="none"))
            texts.append(f"{mark} = {MARK_LABELS[mark]}")
    head.legend(handles, texts, loc="center", ncol=len(handles), frameon=False, fontsize=9.5,
                handlelength=1.4, columnspacing=1.6)
    head.set_title(_headline(scope, rows), fontsize=12.5)
    fig.tight_layout(h_pad=0.4)
    return fig


def _bar_panel(ax, ind: pd.DataFrame, rate: str, label: str, rows) -> set[str]:
    """Draw one indicator's bars on `ax`; return the marks used for values without a bar."""
    if rate in ind:
        values = pd.to_numeric(ind[rate], errors="coerce").astype(float).to_numpy()
        status = _status(ind, rate).to_numpy()
    else:  # the table has no such column: the indicator does not exist here
        values = np.full(len(ind), np.nan)
        status = np.full(len(ind), NO_DATA, dtype=object)
    marks = set()
    for i, ((_, _, colour), value, mark) in enumerate(zip(rows, values, status)):
        if mark == "":
            ax.bar(i, value, width=0.72, color=colour, zorder=2)
            # one decimal as in the tables; two below 1%, where 0,37 and 0,39 differ
            ax.annotate(dutch_percent(value, 1 if value >= 1 else 2), (i, value), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=8.5)
        else:
            ax.text(i, 0, mark, ha="center", va="bottom", zorder=3, color=colour,
                    fontweight="bold", fontsize=14 if mark == SUPPRESSED else 8.5)
            marks.add(mark)
    shown = values[status == ""]
    top = float(np.nanmax(shown)) if len(shown) else 0.0
    if top > 0:
        ax.set_ylim(0, top * 1.2)  # room for the value above the highest bar
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        ax.yaxis.set_major_formatter(DutchFormatter("%"))
    else:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xticks([])
    ax.grid(axis="x", visible=False)
    ax.tick_params(axis="y", labelsize=8.5)
    ax.set_title(textwrap.fill(label, 22), fontsize=9.5)
    return marks


def _spread_figure(gem: pd.DataFrame, scope):
    long = gem.melt(id_vars="gemeentecode", value_vars=[c for c in LABELS if c in gem],
                    var_name="indicator", value_name="pct").dropna(subset=["pct"])
    long["gekozen"] = long["gemeentecode"].astype(str) == scope.gemeente
    own_row = (gem["gemeentecode"].astype(str) == scope.gemeente).to_numpy()
    fig, axes = plt.subplots(1, len(LABELS), figsize=(13, 4.5), sharey=False)
    for ax, (name, label) in zip(axes, LABELS.items()):
        sub = long[long["indicator"] == name]
        if not sub.empty:
            others = sub[~sub["gekozen"]]
            # the jitter comes from a fixed seed: a regenerated report must be identical
            jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(others))
            ax.scatter(jitter, others["pct"], color=OTHER_COLOUR, s=25, zorder=2)
            own = sub[sub["gekozen"]]
            if not own.empty:
                ax.scatter([0], own["pct"], color=COLOURS["gemeente"], s=80, zorder=3,
                           label=scope.title)
            ax.yaxis.set_major_formatter(DutchFormatter("%"))
            if sub["pct"].nunique() < 2:
                # one value (or one gemeente): from 0, not a magnified sliver around it
                ax.set_ylim(0, float(sub["pct"].max()) * 1.5 or 1)
        if own_row.any() and name in gem:
            mark = _status(gem, name)[own_row].iloc[0]
            if mark:
                # the gemeente's own rate is not released: say so instead of leaving a gap
                # (below the panel, where it covers no point)
                ax.text(0.5, -0.03, f"{scope.title}:\n{mark} = {MARK_LABELS[mark]}",
                        transform=ax.transAxes, ha="center", va="top", fontsize=8.5,
                        color=COLOURS["gemeente"])
        ax.set_title(textwrap.fill(label, 22), fontsize=9)
        ax.set_xticks([])
        ax.set_xlim(-0.6, 0.6)
    fig.suptitle(f"Alle gemeenten; {scope.title} in rood")
    fig.tight_layout()
    return fig
