"""The report's figures: suppressed values marked, legends clear of the data, a scale per
indicator, Dutch numbers and the gemeente by name (issue #16, problem 6)."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from jeugdkit.deepdive.funnel import funnel, funnel_plot, funnel_title
from jeugdkit.figures import LABELS, comparison_figure, indicator_figures
from jeugdkit.scope import Scope

SCOPE = Scope("1938", group=("1938", "0363"), name="Boswolde")


def released(**changes) -> pd.DataFrame:
    """The released indicator table of the demo report (1938, its group, NL): the gemeente's
    share of jeugdbescherming with verblijf and the group's jeugdreclassering suppressed."""
    ind = pd.DataFrame({
        "gemeentecode": ["1938", "groep", "NL"],
        "jongeren_0_17": [1277, 5592, 24066], "jeugdhulp_0_17": [249, 982, 3260],
        "pct_jeugdhulp": [19.5, 17.56, 13.55], "met_verblijf_0_17": [26, 79, 273],
        "pct_met_verblijf": [10.44, 8.04, 8.37], "jeugdbescherming_0_17": [19, 92, 277],
        "pct_jeugdbescherming": [1.49, 1.65, 1.15], "jb_met_verblijf_0_17": [pd.NA, 41, 145],
        "pct_jb_met_verblijf": [np.nan, 44.57, 54.7], "jongeren_12_22": [760, 3302, 14151],
        "jeugdreclassering_12_22": [3, pd.NA, 52],
        "pct_jeugdreclassering": [0.39, np.nan, 0.37]})
    for column, values in changes.items():
        ind[column] = values
    return ind


@pytest.fixture
def figs():
    out = []
    yield out
    for fig in out:
        plt.close(fig)


def bars_figure(figs, ind=None):
    fig = comparison_figure(released() if ind is None else ind, SCOPE)
    figs.append(fig)
    fig.canvas.draw()
    return fig


def panel(fig, rate: str):
    """Return the panel of an indicator (found by its title, the indicator's label)."""
    found = [ax for ax in fig.axes if ax.get_title().replace("\n", " ") == LABELS[rate]]
    assert len(found) == 1, [ax.get_title() for ax in fig.axes]
    return found[0]


def bar_heights(ax) -> dict[int, float]:
    """Return {position: height} of the bars drawn on a panel."""
    return {round(p.get_x() + p.get_width() / 2): p.get_height() for p in ax.patches}


def marks(ax) -> dict[int, str]:
    """Return {position: mark} of the texts standing on a panel's base line."""
    return {round(t.get_position()[0]): t.get_text() for t in ax.texts
            if t.get_position()[1] == 0 and t.get_text() in ("x", "n.v.t.")}


def legend_texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() is not None
            for t in ax.get_legend().get_texts()]


def all_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


# ----------------------------------------------------------------------------- bar chart
def test_a_suppressed_value_gets_an_x_where_its_bar_would_stand(figs):
    """A suppressed rate had no bar and no mark, so it looked like zero."""
    fig = bars_figure(figs)
    jb = panel(fig, "pct_jb_met_verblijf")
    assert 0 not in bar_heights(jb)  # no bar for the gemeente, ...
    assert marks(jb) == {0: "x"}  # ... an x at the base of where it would stand
    assert set(bar_heights(jb)) == {1, 2}
    jr = panel(fig, "pct_jeugdreclassering")
    assert marks(jr) == {1: "x"} and set(bar_heights(jr)) == {0, 2}
    assert marks(panel(fig, "pct_jeugdhulp")) == {}
    assert "x = onderdrukt (geheim)" in legend_texts(fig)
    # nothing suppressed: no mark and no such legend entry
    full = bars_figure(figs, released(pct_jb_met_verblijf=[30.0, 44.57, 54.7],
                                      pct_jeugdreclassering=[0.39, 0.4, 0.37]))
    assert all(marks(ax) == {} for ax in full.axes)
    assert "x = onderdrukt (geheim)" not in legend_texts(full)
    assert legend_texts(full) == ["Boswolde", "vergelijkingsgroep", "Nederland"]


def test_a_rate_that_does_not_exist_is_not_called_suppressed(figs):
    """Numerator and denominator released, the denominator 0: no youths, no rate; that is
    not a secret. Without the counts the figure cannot tell, and says suppressed."""
    ind = released(jeugdbescherming_0_17=[0, 92, 277], jb_met_verblijf_0_17=[0, 41, 145])
    fig = bars_figure(figs, ind)
    assert marks(panel(fig, "pct_jb_met_verblijf")) == {0: "n.v.t."}
    assert "n.v.t. = geen gegevens" in legend_texts(fig)
    assert "x = onderdrukt (geheim)" in legend_texts(fig)  # the group's jeugdreclassering
    rates_only = released()[["gemeentecode", *LABELS]]
    fig = bars_figure(figs, rates_only)
    assert marks(panel(fig, "pct_jb_met_verblijf")) == {0: "x"}
    assert "n.v.t. = geen gegevens" not in legend_texts(fig)


def test_the_legend_covers_no_bar(figs):
    """The legend sat on the tallest bar (54,7%)."""
    fig = bars_figure(figs)
    legend = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legend) == 1
    box = legend[0].get_window_extent()
    data_axes = [ax for ax in fig.axes if ax.patches]
    assert len(data_axes) == len(LABELS)
    for ax in data_axes:
        assert not box.overlaps(ax.get_window_extent()), ax.get_title()
        for bar in ax.patches:
            assert not box.overlaps(bar.get_window_extent())


def test_each_indicator_has_its_own_scale_so_small_rates_read(figs):
    """One 0-55% axis squashed jeugdreclassering (0,4%) and jeugdbescherming (1,5%)."""
    fig = bars_figure(figs)
    tops = {rate: panel(fig, rate).get_ylim()[1] for rate in LABELS}
    assert tops["pct_jeugdreclassering"] < 1 < tops["pct_jeugdbescherming"] < 3
    assert tops["pct_jb_met_verblijf"] > 50
    for rate in LABELS:
        ax = panel(fig, rate)
        tallest = max(bar_heights(ax).values())
        # the highest bar of every panel fills most of it (room left for its value)
        assert 0.7 < tallest / ax.get_ylim()[1] < 0.95, rate
    small = panel(fig, "pct_jeugdreclassering")
    height = small.patches[0].get_window_extent().height
    assert height > 0.6 * small.get_window_extent().height


def test_percentages_have_a_decimal_comma(figs):
    fig = bars_figure(figs)
    values = [t.get_text() for ax in fig.axes for t in ax.texts]
    # one decimal as in the tables, two below 1% (0,39% and 0,37% would both read 0,4%)
    assert {"19,5%", "1,5%", "54,7%", "0,39%", "0,37%"} <= set(values)
    ticks = [t.get_text() for t in panel(fig, "pct_jeugdbescherming").get_yticklabels()]
    assert "0,5%" in ticks and not any("." in t for t in ticks)


def test_the_figures_name_the_gemeente_not_its_code(figs):
    ind = released()
    gem = ind[ind["gemeentecode"] == "1938"].copy()
    gem = pd.concat([gem, ind.iloc[[1]].assign(gemeentecode="0363")])
    run = SimpleNamespace(outputs={"indicators": SimpleNamespace(content=ind),
                                   "indicators_gemeenten": SimpleNamespace(content=gem)},
                          release_figure=lambda fig, **kw: None)
    out = indicator_figures(run, SCOPE)
    figs.extend(out.values())
    bars = out["indicatoren_vergelijking"]
    assert bars.axes[0].get_title() == "Boswolde naast vergelijkingsgroep en Nederland"
    assert legend_texts(bars)[:3] == ["Boswolde", "vergelijkingsgroep", "Nederland"]
    spread = out["indicatoren_spreiding"]
    assert "Boswolde" in spread._suptitle.get_text()
    # the spread figure says the gemeente's own rate is suppressed, under that panel
    note = [t.get_text() for t in panel(spread, "pct_jb_met_verblijf").texts]
    assert note == ["Boswolde:\nx = onderdrukt (geheim)"]
    for fig in out.values():
        fig.canvas.draw()
        assert not [t for t in all_texts(fig) if "1938" in t]


def test_without_a_group_the_title_does_not_promise_one(figs):
    fig = bars_figure(figs, released().iloc[[0, 2]])
    assert fig.axes[0].get_title() == "Boswolde naast Nederland"
    assert legend_texts(fig) == ["Boswolde", "Nederland", "x = onderdrukt (geheim)"]


# ----------------------------------------------------------------------------- funnel
def funnel_figure(figs, **kw):
    rng = np.random.default_rng(1)
    expected = np.geomspace(15, 1500, 25)
    data = pd.DataFrame({"gemeentecode": [f"{i:04d}" for i in range(1920, 1945)],
                         "waargenomen": rng.poisson(expected).astype(float),
                         "verwacht": expected})
    data.loc[18, "waargenomen"] = round(expected[18] * 1.6)  # 1938: far above
    fun = funnel(data, adjustment="none")
    fig = funnel_plot(data=fun.table, limits=fun.limits, highlight="1938",
                      title="jeugdhulp 0-17, 2023: O/E (volledig)", **kw)
    figs.append(fig)
    fig.canvas.draw()
    return fig


def test_funnel_numbers_are_dutch_and_the_log_axis_has_plain_numbers(figs):
    """The legend said 99.8%, the log axis 10^2 and 10^3."""
    fig = funnel_figure(figs)
    ax = fig.axes[0]
    xticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "1.000" in xticks and "100" in xticks
    assert not [t for t in xticks if "^" in t or "$" in t or "10^" in t]
    yticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "1,00" in yticks and not any("." in t for t in yticks)
    legend = legend_texts(fig)
    assert "99,8%-grenzen" in legend and "95%-grenzen" in legend
    assert not any("99.8" in t for t in legend)


def test_funnel_title_is_dutch_and_the_legend_sits_below_the_axes(figs):
    fig = funnel_figure(figs)
    ax = fig.axes[0]
    title = ax.get_title()
    assert "Waargenomen/verwacht" not in title  # the first letter of the title is capital,
    assert title.startswith("Jeugdhulp 0-17, 2023:")
    assert "waargenomen/verwacht (volledige samenstelling)" in title
    assert "O/E" not in title and "volledig)" not in title
    assert funnel_title("x: O/E (leeftijd_geslacht)") == \
        "X: waargenomen/verwacht (leeftijd en geslacht)"
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 <= ax.get_window_extent().y0  # below the plot, clear of every point
    assert fig.get_window_extent().contains(legend.x0, legend.y0)  # and not cut off


def test_funnel_names_the_gemeente_when_it_is_given_a_name(figs):
    fig = funnel_figure(figs, names={"1938": "Boswolde"})
    assert "Boswolde" in legend_texts(fig)
    assert "Boswolde" in [t.get_text() for t in fig.axes[0].texts]
    assert not [t for t in all_texts(fig) if "1938" in t]
    # without names (the old call) the figure still draws, the code as a fallback
    plain = funnel_figure(figs)
    assert "gemeente 1938" in legend_texts(plain)


def test_funnel_log_axis_labels_a_narrow_range_too(figs):
    """E from 31 to 36 (the curves 25 to 45): no power of ten and no 20 or 50 in sight, yet
    the axis is labelled, in plain numbers."""
    fun = funnel(pd.DataFrame({"gemeentecode": ["a", "b", "c"], "waargenomen": [30, 33, 40],
                               "verwacht": [31.0, 33.0, 36.0]}), adjustment="none")
    fig = funnel_plot(data=fun.table, limits=fun.limits)
    figs.append(fig)
    fig.canvas.draw()
    lo, hi = fig.axes[0].get_xlim()
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels()
             if t.get_text() and lo <= t.get_position()[0] <= hi]
    assert len(shown) >= 2 and "30" in shown and "27,5" in shown  # not 28 for 27.5
    assert not [t for t in shown if "." in t or "^" in t or "$" in t]
