"""Tests of jeugdkit.tables on hand-built microdata with known tables, and on the synthetic
default (release through output control)."""

from __future__ import annotations

import pandas as pd
import pytest

from jeugdkit.periods import Period
from jeugdkit.population import IN_POPULATION, Population
from jeugdkit.spells import overlaps
from jeugdkit.tables import (
    comparison_group,
    gebruik,
    indicators,
    instroom,
    read_reference,
    release_tables,
    size_class,
    stroom,
)

T = pd.Timestamp
NAT = pd.NaT


@pytest.fixture(scope="module")
def pop():
    """Five youths, six trajecten in 2023 (answers in the comments of each test)."""
    frame = pd.DataFrame({
        "rin": pd.array([1, 2, 3, 4, 5], dtype="Int64"),
        "gemeentecode": pd.Categorical(["0001", "0001", "0002", "0001", "0002"]),
        "leeftijd": [5, 15, 19, 10, 2],
        "leeftijdsgroep": pd.Categorical(["4-11", "12-17", "18-22", "4-11", "0-3"]),
        "geslacht": pd.Categorical(["1", "2", "1", "2", "1"]),
        "jeugdhulp": pd.array([True, True, True, False, False]),
        "jeugdhulp_wijkteam": pd.array([True, False, False, False, False]),
        "jeugdhulp_overig_zonder_verblijf": pd.array([False, True, True, False, False]),
        "jeugdhulp_met_verblijf": pd.array([True, False, False, False, False]),
        "jeugdbescherming": pd.array([True, False, False, False, True]),
        "jeugdreclassering": pd.array([False, True, False, False, False]),
    })
    rows = [  # rin, hulpvorm, groep, verwijzer, begin, eind
        (1, "01", "wijkteam", "01", T("2023-02-01"), T("2023-03-01")),
        (1, "01", "wijkteam", "02", T("2023-05-01"), NAT),
        (1, "11", "met_verblijf", "01", T("2022-06-01"), T("2023-02-15")),
        (2, "02", "overig_zonder_verblijf", "01", T("2023-12-31"), NAT),      # last day: in
        (2, "03", "overig_zonder_verblijf", "01", T("2022-01-01"), T("2022-12-31")),  # not in
        (3, "02", "overig_zonder_verblijf", "03", T("2021-01-01"), T("2023-06-30")),
    ]
    t = pd.DataFrame(rows, columns=["rin", "hulpvorm", "hulpvorm_groep", "verwijzer", "begin",
                                    "eind"])
    t["rin"] = t["rin"].astype("Int64")
    period = Period.parse("2023")
    t["in_periode"] = overlaps(t["begin"], t["eind"], period.peildatum, period.einde)
    t["koppeling"] = IN_POPULATION
    return Population(period, 2023, frame, pd.DataFrame(), t)


def cell(table, **codes):
    m = pd.Series(True, index=table.index)
    for d, v in codes.items():
        m &= table[d].astype(str) == v
    assert m.sum() == 1, codes
    return table.loc[m, "aantal"].iloc[0]


def test_period_boundary(pop):
    t = pop.trajecten
    assert not t["in_periode"].iloc[4]      # ended the day before the peildatum
    assert t["in_periode"].iloc[3]          # starts on the last day


def test_indicators_known(pop):
    ind = indicators(pop).set_index("gemeentecode")
    nl = ind.loc["NL"]
    assert (nl["jongeren_0_17"], nl["jeugdhulp_0_17"], nl["pct_jeugdhulp"]) == (4, 2, 50.0)
    assert (nl["met_verblijf_0_17"], nl["pct_met_verblijf"]) == (1, 50.0)
    assert (nl["jeugdbescherming_0_17"], nl["pct_jeugdbescherming"]) == (2, 50.0)
    assert (nl["jb_met_verblijf_0_17"], nl["pct_jb_met_verblijf"]) == (1, 50.0)
    assert (nl["jongeren_12_22"], nl["jeugdreclassering_12_22"]) == (2, 1)
    assert nl["pct_jeugdreclassering"] == 50.0
    g1, g2 = ind.loc["0001"], ind.loc["0002"]
    assert (g1["jongeren_0_17"], g1["jeugdhulp_0_17"]) == (3, 2)
    assert g1["pct_jeugdhulp"] == pytest.approx(66.67)
    assert (g2["jongeren_0_17"], g2["jeugdhulp_0_17"], g2["pct_jeugdhulp"]) == (1, 0, 0.0)
    assert pd.isna(g2["pct_met_verblijf"])  # no youth with jeugdhulp: no denominator


def test_group_rate_is_pooled(pop):
    ind = indicators(pop, groups={"beide": ["0001", "0002"]})
    row = ind[ind["groep"] == "beide"].iloc[0]
    # pooled 2/4 = 50, not the mean of 66.67 and 0
    assert (row["jongeren_0_17"], row["jeugdhulp_0_17"], row["pct_jeugdhulp"]) == (4, 2, 50.0)
    assert row["gemeentecode"] == ""


def test_instroom_units(pop):
    tr = instroom(pop)
    assert cell(tr, verwijzer="01", hulpvorm_groep="wijkteam") == 1
    assert cell(tr, verwijzer="02", hulpvorm_groep="wijkteam") == 1
    assert cell(tr, verwijzer="01", hulpvorm_groep="overig_zonder_verblijf") == 1
    assert cell(tr, verwijzer="01", hulpvorm_groep="totaal") == 2
    assert cell(tr, verwijzer="totaal", hulpvorm_groep="wijkteam") == 2
    assert cell(tr, verwijzer="totaal", hulpvorm_groep="totaal") == 3
    assert cell(tr, verwijzer="totaal", hulpvorm_groep="met_verblijf") == 0
    jo = instroom(pop, unit="jongeren")
    assert cell(jo, verwijzer="totaal", hulpvorm_groep="wijkteam") == 1   # youth 1, twice
    assert cell(jo, verwijzer="01", hulpvorm_groep="totaal") == 2
    assert cell(jo, verwijzer="totaal", hulpvorm_groep="totaal") == 2


def test_gebruik_two_groups_counted_once_each(pop):
    jo = gebruik(pop)
    kw = dict(leeftijdsgroep="4-11", geslacht="1")
    assert cell(jo, hulpvorm_groep="wijkteam", **kw) == 1
    assert cell(jo, hulpvorm_groep="met_verblijf", **kw) == 1
    assert cell(jo, hulpvorm_groep="totaal", **kw) == 1        # not 2: distinct persons
    tot = dict(leeftijdsgroep="totaal", geslacht="totaal")
    assert cell(jo, hulpvorm_groep="totaal", **tot) == 3
    assert cell(jo, hulpvorm_groep="overig_zonder_verblijf", **tot) == 2
    tr = gebruik(pop, unit="trajecten")
    assert cell(tr, hulpvorm_groep="totaal", **kw) == 3
    assert cell(tr, hulpvorm_groep="totaal", **tot) == 5


def test_stroom(pop):
    s = stroom(pop)
    want = {"01": (0, 2, 1, 1), "02": (1, 1, 1, 1), "11": (1, 0, 1, 0), "totaal": (2, 3, 3, 2)}
    for hv, values in want.items():
        got = tuple(cell(s, hulpvorm=hv, stroom=st)
                    for st in ("beginstand", "instroom", "uitstroom", "eindstand"))
        assert got == values, hv


def test_comparison_group():
    ref = pd.DataFrame({"gemeentecode": ["0001", "0002", "0003", "0004"],
                        "gemeentenaam": list("abcd"), "inwoners": [15_000, 19_999, 60_000, 300_000],
                        "stedelijkheid": ["1", "2", "1", "1"], "jeugdregio": ["A", "A", "B", "B"],
                        "provincie": ["x"] * 4})
    assert comparison_group(ref, "0001", by="stedelijkheid") == {
        "stedelijkheid=1": ["0001", "0003", "0004"]}
    assert comparison_group(ref, "0001", by="grootte") == {"grootte=0-19999": ["0001", "0002"]}
    assert comparison_group(ref, "0003", by=["jeugdregio", "stedelijkheid"]) == {
        "jeugdregio=B,stedelijkheid=1": ["0003", "0004"]}
    assert list(size_class([19_999, 20_000, 250_000])) == ["0-19999", "20000-49999", "250000+"]


# ----------------------------------------------------------------------------- synthetic
@pytest.fixture(scope="session")
def synthetic_pop(tmp_path_factory):
    synthetic = pytest.importorskip("synthetic")
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    tmp = tmp_path_factory.mktemp("synthetic_tables")
    synthetic.generate(tmp, persons=20_000, seed=1)
    return build_population(Reader(tmp / "ra", cache_dir=tmp / "cache"), "2023"), tmp


def test_synthetic_release(synthetic_pop, tmp_path):
    pop, root = synthetic_pop
    nl = indicators(pop).set_index("gemeentecode").loc["NL"]
    assert 10 <= nl["pct_jeugdhulp"] <= 18
    ref = read_reference(root / "gemeenten.csv")
    code = str(pop.frame["gemeentecode"].astype(str).value_counts().index[0])
    groups = comparison_group(ref, code, by="stedelijkheid")
    released = release_tables(pop, tmp_path / "out", groups=groups)
    for name in ("indicators", "instroom_verwijzer", "gebruik_leeftijd_geslacht", "stroom"):
        frame = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype=str)
        assert name in released
        counts = [c for c in frame.columns if c == "aantal" or c.endswith(("_0_17", "_12_22"))]
        for c in counts:
            values = pd.to_numeric(frame[c], errors="coerce").dropna()
            assert ((values >= 10) | (values == 0)).all(), (name, c)
    assert (tmp_path / "out" / "log" / "results.json").exists()


def test_cli_tables(synthetic_pop, tmp_path):
    from jeugdkit.cli import main
    pop, root = synthetic_pop
    code = str(pop.frame["gemeentecode"].astype(str).value_counts().index[0])
    rc = main(["tables", "--data-root", str(root / "ra"), "--cache-dir", str(root / "cache"),
               "--period", "2023", "--gemeente", code, "--compare", "grootte",
               "--out", str(tmp_path / "out")])
    assert rc == 0
    ind = pd.read_csv(tmp_path / "out" / "indicators.csv", dtype=str)
    assert (ind["gemeentecode"] == "NL").any() and ind["groep"].str.startswith("grootte=").any()
