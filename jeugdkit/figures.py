"""Figures drawn from released tables only (seaborn), registered with the ExportSession.

Every figure here takes its numbers from a table the session has released, so it shows nothing
output control has not passed: suppressed values are simply absent.
"""

from __future__ import annotations

import contextlib
import textwrap

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import seaborn as sns  # noqa: E402

from jeugdkit.scope import GROUP, NATIONAL  # noqa: E402

LABELS = {
    "pct_jeugdhulp": "% 0-17 jaar met jeugdhulp",
    "pct_met_verblijf": "% van jeugdhulp 0-17 met verblijf",
    "pct_jeugdbescherming": "% 0-17 jaar met jeugdbescherming",
    "pct_jb_met_verblijf": "% van jeugdbescherming ook met verblijf",
    "pct_jeugdreclassering": "% 12-22 jaar met jeugdreclassering",
}
COLOURS = {"gemeente": "#c0392b", GROUP: "#7f8c8d", NATIONAL: "#2c3e50"}


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


def indicator_figures(run, scope) -> dict[str, object]:
    """Draw and release the trap-1 figures of one gemeente; return {name: figure}.

    ``indicatoren_vergelijking``: the gemeente against its group and NL per indicator (from
    the released ``indicators``); ``indicatoren_spreiding``: every gemeente's released rate
    per indicator, the chosen one highlighted (from ``indicators_gemeenten``).
    """
    with style():
        return _indicator_figures(run, scope)


def _indicator_figures(run, scope) -> dict[str, object]:
    figs = {}
    ind = run.outputs["indicators"].content
    long = ind.melt(id_vars="gemeentecode", value_vars=list(LABELS), var_name="indicator",
                    value_name="pct").dropna(subset=["pct"])
    long["wie"] = long["gemeentecode"].map(
        lambda c: {GROUP: "vergelijkingsgroep", NATIONAL: "Nederland",
                   scope.gemeente: scope.title}.get(c, f"gemeente {c}"))
    long["indicator"] = long["indicator"].map(LABELS)
    palette = {scope.title: COLOURS["gemeente"],
               "vergelijkingsgroep": COLOURS[GROUP], "Nederland": COLOURS[NATIONAL]}
    fig, ax = plt.subplots(figsize=(9, 4.5))
    if not long.empty:
        sns.barplot(data=long, y="indicator", x="pct", hue="wie", palette=palette, ax=ax,
                    orient="h")
        ax.legend(title=None, loc="lower right")
    ax.set_xlabel("procent")
    ax.set_ylabel("")
    ax.set_title(f"{scope.title[0].upper()}{scope.title[1:]} naast vergelijkingsgroep en "
                 "Nederland")
    fig.tight_layout()
    run.release_figure(fig, source="indicators", name="indicatoren_vergelijking",
                       description="gemeente, vergelijkingsgroep en NL per indicator")
    figs["indicatoren_vergelijking"] = fig

    gem = run.outputs["indicators_gemeenten"].content
    long = gem.melt(id_vars="gemeentecode", value_vars=list(LABELS), var_name="indicator",
                    value_name="pct").dropna(subset=["pct"])
    long["gekozen"] = long["gemeentecode"] == scope.gemeente
    fig, axes = plt.subplots(1, len(LABELS), figsize=(13, 4.5), sharey=False)
    for ax, (name, label) in zip(axes, LABELS.items()):
        sub = long[long["indicator"] == name]
        if not sub.empty:
            others = sub[~sub["gekozen"]]
            # the jitter comes from a fixed seed: a regenerated report must be identical
            jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(others))
            ax.scatter(jitter, others["pct"], color="#95a5a6", s=25, zorder=2)
            own = sub[sub["gekozen"]]
            if not own.empty:
                ax.scatter([0], own["pct"], color=COLOURS["gemeente"], s=80, zorder=3,
                           label=scope.title)
        ax.set_title(textwrap.fill(label, 22), fontsize=9)
        ax.set_ylabel("procent" if ax is axes[0] else "")
        ax.set_xticks([])
        ax.set_xlim(-0.6, 0.6)
    fig.suptitle(f"Alle gemeenten; {scope.title} in rood")
    fig.tight_layout()
    run.release_figure(fig, source="indicators_gemeenten", name="indicatoren_spreiding",
                       description="spreiding over gemeenten, gekozen gemeente gemarkeerd")
    figs["indicatoren_spreiding"] = fig
    return figs
