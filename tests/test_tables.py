"""Tests of jeugdkit.tables on hand-built microdata with known tables, and on the synthetic
default (release through output control)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from jeugdkit.periods import Period
from jeugdkit.population import IN_POPULATION, Population
from jeugdkit.spells import overlaps
from jeugdkit.tables import (
    STROOM,
    comparison_group,
    gebruik,
    indicators,
    instroom,
    read_reference,
    release_tables,
    size_class,
    stroom,
    stroom_flags,
)

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""

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
    s = stroom(pop).set_index("hulpvorm")
    want = {"01": (0, 2, 1, 1), "02": (1, 1, 1, 1), "11": (1, 0, 1, 0), "totaal": (2, 3, 3, 2)}
    for hv, values in want.items():
        assert tuple(s.loc[hv, list(STROOM)]) == values, hv


def test_stroom_cbs_boundaries():
    """Begun on the peildatum: instroom, not beginstand; ended on the last day: uitstroom,
    not eindstand; so eindstand = beginstand + instroom - uitstroom."""
    period = Period.parse("2023")
    rows = [(1, "01", T("2023-01-01"), T("2023-12-31")),   # instroom + uitstroom
            (2, "01", T("2022-05-01"), T("2023-01-01")),   # beginstand + uitstroom
            (3, "01", T("2022-05-01"), NAT),               # beginstand + eindstand
            (4, "01", T("2023-12-31"), T("2024-01-01"))]   # instroom + eindstand
    t = pd.DataFrame(rows, columns=["rin", "hulpvorm", "begin", "eind"])
    flags = stroom_flags(t, period)
    assert list(flags["beginstand"]) == [False, True, True, False]
    assert list(flags["instroom"]) == [True, False, False, True]
    assert list(flags["uitstroom"]) == [True, True, False, False]
    assert list(flags["eindstand"]) == [False, False, True, True]
    n = {k: int(v.sum()) for k, v in flags.items()}
    assert n["eindstand"] == n["beginstand"] + n["instroom"] - n["uitstroom"]


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


def _counts_safe(frame: pd.DataFrame) -> bool:
    counts = [c for c in frame.columns
              if c in ("aantal", *STROOM) or c.endswith(("_0_17", "_12_22"))]
    if not counts:
        return True
    values = pd.concat([pd.to_numeric(frame[c], errors="coerce") for c in counts]).dropna()
    return bool(((values >= 10) | (values == 0)).all())


def test_synthetic_release_one_gemeente(synthetic_pop, tmp_path):
    from jeugdkit.scope import Scope
    pop, root = synthetic_pop
    nl = indicators(pop).set_index("gemeentecode").loc["NL"]
    assert 10 <= nl["pct_jeugdhulp"] <= 18          # public figure: 13.9% (+- synthetic)
    assert 0.5 <= nl["pct_jeugdbescherming"] <= 2
    ref = read_reference(root / "gemeenten.csv")
    code = str(pop.frame["gemeentecode"].astype(str).value_counts().index[0])
    scope = Scope.from_groups(code, comparison_group(ref, code, by="stedelijkheid"))
    released = release_tables(pop, tmp_path / "out", scope=scope)
    for name in ("indicators", "instroom_verwijzer", "gebruik_leeftijd_geslacht", "stroom",
                 "indicators_gemeenten", "positie", "indicators_wijk"):
        frame = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype={"gemeentecode": str})
        assert name in released
        assert _counts_safe(frame), name
    ind = pd.read_csv(tmp_path / "out" / "indicators.csv", dtype={"gemeentecode": str})
    assert list(ind["gemeentecode"]) == [code, "groep", "NL"]
    exact = indicators(pop).set_index("gemeentecode")
    got = ind.set_index("gemeentecode")
    assert got.loc["NL", "jongeren_0_17"] == exact.loc["NL", "jongeren_0_17"]
    assert got.loc[code, "jongeren_0_17"] == exact.loc[code, "jongeren_0_17"]
    stroom_csv = pd.read_csv(tmp_path / "out" / "stroom.csv", dtype={"gemeentecode": str})
    assert list(stroom_csv.columns) == ["gemeentecode", "hulpvorm", *STROOM]
    assert set(stroom_csv["gemeentecode"]) == {code, "groep", "NL"}
    full = stroom_csv.dropna()
    assert (full["eindstand"] == full["beginstand"] + full["instroom"]
            - full["uitstroom"]).all()
    assert (tmp_path / "out" / "indicatoren_spreiding.png").stat().st_size > 1000
    log = (tmp_path / "out" / "log" / "results.json").read_text()
    assert "rest_nl" in log and "not published" not in released["stroom"].to_string()
    audit = json.loads(log)["audit"]       # the session's exact LP audit, per population
    assert audit and all(a["narrowest_interval"] >= a["required_width"]
                         for a in audit.values() if isinstance(a, dict)
                         and "narrowest_interval" in a)


def test_cli_tables(synthetic_pop, tmp_path):
    from jeugdkit.cli import main
    pop, root = synthetic_pop
    code = str(pop.frame["gemeentecode"].astype(str).value_counts().index[0])
    rc = main(["tables", "--data-root", str(root / "ra"), "--cache-dir", str(root / "cache"),
               "--period", "2023", "--gemeente", code, "--compare", "grootte",
               "--out", str(tmp_path / "out")])
    assert rc == 0
    ind = pd.read_csv(tmp_path / "out" / "indicators.csv", dtype=str)
    assert list(ind["gemeentecode"]) == [code, "groep", "NL"]
    for name in ("instroom_verwijzer", "gebruik_leeftijd_geslacht", "stroom"):
        frame = pd.read_csv(tmp_path / "out" / f"{name}.csv", dtype={"gemeentecode": str})
        assert list(frame["gemeentecode"].unique()) == [code, "groep", "NL"], name
        assert _counts_safe(frame), name
