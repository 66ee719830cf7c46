"""Ontwikkeling: the indicators of every year, each protected in its own period's ledger.

Checked against the generator's truth (its realised jeugdhulp rate per year, and a planted
trend made strong enough to measure on a small tree), by hand for a merger (the gemeente of
today in a year before it existed is the sum of the gemeenten it was made of), and by the
attacker's LP over everything the years released.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthetic
from jeugdkit.development import OWN, development_data, release_development, year_counts
from jeugdkit.output.period import PeriodLedger
from jeugdkit.output.union import audit_exports
from jeugdkit.read import Reader
from jeugdkit.scope import GROUP, NATIONAL
from synthetic import config as C

TREND = 0.12
"""Log-odds a year: eight times the default, so that 7 years of a 20k tree show it."""


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ontwikkeling")
    mp = pytest.MonkeyPatch()
    mp.setattr(C, "JEUGDHULP_TREND", TREND)
    try:
        synthetic.generate(tmp, persons=20_000, gemeenten=8, seed=11)
    finally:
        mp.undo()
    truth = json.loads((tmp / "truth.json").read_text())
    reader = Reader(tmp / "ra", cache_dir=tmp / "cache")
    years = reader.inventory["JGDHULPBUS"].years
    data = development_data(reader, years, today=max(years))
    return tmp, truth, reader, data


def _release(data, gemeente, group, tmp, name, ledger=True):
    return release_development(
        data, gemeente=gemeente, group=group, group_label="test",
        ledger_for=((lambda label: PeriodLedger.for_period(tmp / "ledger", label))
                    if ledger else None),
        out=tmp / name)


def test_the_national_series_is_the_generators_rate_of_every_year(tree):
    tmp, truth, _, data = tree
    assert truth["jeugdhulp"]["trend"]["log_odds_per_year"] == TREND
    merger = truth["merger"]
    dev = _release(data, merger["into"], None, tmp, "nl")
    nl = dev.table[dev.table["gemeentecode"] == NATIONAL].set_index("jaar")["pct_jeugdhulp"]
    realised = {int(y): v for y, v in
                truth["calibration"]["jeugdhulp_pct_under18_by_year"].items()}
    assert sorted(nl.index) == sorted(y for y in realised if y in nl.index) and len(nl) >= 5
    for year, pct in nl.items():
        assert pct == pytest.approx(realised[year], abs=0.006), year
    # and the series shows the planted trend: the log-odds slope over the years
    years = np.array(nl.index, dtype=float)
    p = nl.to_numpy(dtype=float) / 100
    slope = np.polyfit(years, np.log(p / (1 - p)), 1)[0]
    assert slope == pytest.approx(TREND, abs=0.04)


def test_a_merged_gemeente_is_the_sum_of_its_predecessors_before_the_merger(tree):
    tmp, truth, _, data = tree
    merger = truth["merger"]
    into, parts = merger["into"], sorted(merger["from"])
    before = [y for y in data.years if y.year < merger["year"]]
    after = [y for y in data.years if y.year >= merger["year"]]
    assert before and after
    for yc in before:
        assert sorted(c for c, t in yc.to_today.items() if t == into) == parts
    dev = _release(data, into, None, tmp, "fusie", ledger=False)
    shown_before = 0
    for yc in data.years:
        codes = parts if yc.year < merger["year"] else [into]
        c = yc.counts
        expected = int(c[c["jong"] & c["gemeentecode"].isin(codes)]["aantal"].sum())
        row = dev.table[(dev.table["jaar"] == yc.year) & (dev.table["gemeentecode"] == into)]
        value = row["jongeren_0_17"].iloc[0]
        if pd.notna(value):  # a small tree suppresses some totals, as its national set would
            assert int(value) == expected, yc.year
            shown_before += yc.year < merger["year"]
    assert shown_before >= 1
    assert any("Herindeling" in n and " en ".join(parts) in n for n in dev.notes)
    # the ledger knows the row is a composite of the predecessors, not a gemeente of its own
    log = json.loads((tmp / "fusie" / str(before[0].year) / "log" / "results.json")
                     .read_text())
    assert OWN in json.dumps(log) and all(p in json.dumps(log) for p in parts)


def test_the_years_pass_the_attackers_lp_over_everything_they_released(tree):
    """Two reports (the merged gemeente with its group, and another gemeente) and the
    national set of a year before the merger, in the same period ledgers: no suppressed
    cell of any year can be narrowed below the threshold from all of it together."""
    from jeugdkit.population import build_population
    from jeugdkit.release import release_period
    tmp, truth, reader, data = tree
    merger = truth["merger"]
    first = data.years[0]
    pop = build_population(reader, first.label)
    release_period(pop, None, tmp / "landelijk",
                   ledger=PeriodLedger.for_period(tmp / "ledger", first.label))
    today_codes = sorted(set(data.years[-1].codes))
    group = [c for c in today_codes if c != merger["into"]][:3] + [merger["into"]]
    other = next(c for c in today_codes if c not in group)
    a = _release(data, merger["into"], group, tmp, "rapport_a")
    b = _release(data, other, None, tmp, "rapport_b")
    assert set(a.table["gemeentecode"]) == {merger["into"], GROUP, NATIONAL}
    assert a.table["pct_jeugdhulp"].notna().any() and b.table["pct_jeugdhulp"].notna().any()
    bounds = audit_exports([tmp / "landelijk", tmp / "rapport_a", tmp / "rapport_b"])
    assert len(bounds) > 0
    assert bounds["ok"].all(), bounds[~bounds["ok"]].to_string()
    # negative control: the same series released without the period ledgers (each year
    # protected alone) leaks next to the national set, and the audit says so
    alone = _release(data, merger["into"], group, tmp, "zonder_grootboek", ledger=False)
    assert alone.table["pct_jeugdhulp"].notna().any()
    leak = audit_exports([tmp / "landelijk", tmp / "zonder_grootboek"])
    assert not leak["ok"].all()
    # the same count is the same in every output of its year: NL in both reports
    for year in {y.year for y in data.years}:
        va = a.table[(a.table["jaar"] == year) & (a.table["gemeentecode"] == NATIONAL)]
        vb = b.table[(b.table["jaar"] == year) & (b.table["gemeentecode"] == NATIONAL)]
        pd.testing.assert_series_equal(va["jongeren_0_17"].reset_index(drop=True),
                                       vb["jongeren_0_17"].reset_index(drop=True))


def test_year_counts_count_every_youth_once(tree):
    _, _, reader, data = tree
    from jeugdkit.population import build_population
    yc = data.years[-1]
    pop = build_population(reader, yc.label)
    counts = year_counts(pop)
    assert int(counts["aantal"].sum()) == len(pop.frame)
    assert int(counts.loc[counts["jong"], "aantal"].sum()) == int(
        (pop.frame["leeftijd"] <= 17).sum())


def test_the_figure_names_areas_and_marks_suppressed_years():
    import matplotlib.pyplot as plt

    from jeugdkit.development import development_figure
    rows = []
    for year in (2019, 2020, 2021):
        for code, pct in (("1938", 17.0), (GROUP, 15.0), (NATIONAL, 12.0)):
            rows.append({"jaar": year, "gemeentecode": code, "pct_jeugdhulp": pct,
                         "pct_met_verblijf": np.nan if code == "1938" and year == 2020
                         else 9.0, "pct_jeugdbescherming": 1.1, "pct_jb_met_verblijf": 50.0,
                         "pct_jeugdreclassering": 0.3})
    table = pd.DataFrame(rows)
    fig = development_figure(table, "1938", {"1938": "Boswolde", GROUP: "vergelijkingsgroep",
                                             NATIONAL: "Nederland"}, breaks=(2020,))
    texts = [t.get_text() for t in fig.findobj(plt.Text)]
    assert "Ontwikkeling van de indicatoren: Boswolde" in texts
    assert not any("1938" in t for t in texts)
    legend = next(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)
    assert [t.get_text() for t in legend.get_texts()] == ["Boswolde", "vergelijkingsgroep",
                                                           "Nederland"]
    verblijf = fig.axes[1]
    marks = [a for a in verblijf.texts if a.get_text() == "x"]
    assert len(marks) == 1 and marks[0].xy == (2020, 0)  # the suppressed year, on the axis
    assert not [a for a in fig.axes[0].texts if a.get_text() == "x"]
    assert any(line.get_linestyle() == ":" for line in verblijf.get_lines())  # the break
    plt.close(fig)
