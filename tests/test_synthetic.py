"""Tests of the synthetic RA generator (synthetic/).

One default-size world (100,000 persons) is generated per session and written once; layout checks
read the files back with pyreadstat and compare them with the RA contract (docs/reading.md,
jeugdkit/catalog.toml), not with the generator's constants.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import synthetic
from synthetic.cli import main
from synthetic.report import calibration_metrics

SEED = 4242
YEARS = (2018, 2024)


@pytest.fixture(scope="session")
def world():
    return synthetic.simulate(persons=100_000, gemeenten=25, years=YEARS, seed=SEED)


@pytest.fixture(scope="session")
def tree(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_default")
    synthetic.write(world, out)
    return out


def read(tree, rel, **kw):
    return pyreadstat.read_sav(str(Path(tree) / "ra" / rel), **kw)


# ------------------------------------------------------------------ layout (contract section 1-3)
CONTRACT_FILES = [
    "Bevolking/GBAPERSOONTAB/2024/GBAPERSOON2024TABV1.sav",
    "Bevolking/GBAADRESOBJECTBUS/GBAADRESOBJECT2024BUSV1.sav",
    "Bevolking/GBAHUISHOUDENSBUS/GBAHUISHOUDENS2024BUSV1.sav",
    "Bevolking/KINDOUDERTAB/KINDOUDER2024TABV1.sav",
    "BouwenWonen/VSLGWBTAB/VSLGWB2024TAB03V1.sav",
    "InkomenBestedingen/SECMBUS/SECMBUS2024V1.sav",
] + [f"InkomenBestedingen/INHATAB/INHA{y}TABV1.sav" for y in range(2018, 2025)] + [
    f"InkomenBestedingen/INHATAB/KOPPELPERSOONHUISHOUDEN{y}TABV1.sav" for y in range(2017, 2025)
] + [f"Onderwijs/HOOGSTEOPLTAB/{y}/HOOGSTEOPL{y}TABV1.sav" for y in range(2017, 2025)] + [
    f"Onderwijs/INSCHRWPOTAB/INSCHRWPOTAB{y}V1.sav" for y in range(2019, 2025)
] + [f"GezondheidWelzijn/JGDHULPBUS/JGDHULP{y}BUSV1.sav" for y in range(2018, 2025)] + [
    f"VeiligheidRecht/JGDBESCHERMBUS/JGDBESCHERM{y}BUSV1.sav" for y in range(2018, 2025)] + [
    f"VeiligheidRecht/JGDRECLASSERINGBUS/JGDRECLASSERING{y}BUSV1.sav" for y in range(2018, 2025)]

# variable -> contract width (strings); None = numeric
CONTRACT_VARS = {
    "Bevolking/GBAPERSOONTAB/2024/GBAPERSOON2024TABV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "GBAGESLACHT": 1, "GBAGEBOORTEJAAR": 4,
        "GBAGEBOORTEMAAND": 2, "GBAGEBOORTEDAG": 2, "GBAGEBOORTELAND": 4,
        "GBAHERKOMSTGROEPERING": 4, "GBAGENERATIE": 1},
    "Bevolking/GBAADRESOBJECTBUS/GBAADRESOBJECT2024BUSV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "GBADATUMAANVANGADRESHOUDING": 8,
        "GBADATUMEINDEADRESHOUDING": 8, "SOORTOBJECTNUMMER": 3, "RINOBJECTNUMMER": 16},
    "Bevolking/GBAHUISHOUDENSBUS/GBAHUISHOUDENS2024BUSV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "DATUMAANVANGHH": 8, "DATUMEINDEHH": 8,
        "HUISHOUDNR": 12, "TYPHH": 1, "PLHH": 2, "AANTALPERSHH": None, "AANTALKINDHH": None},
    "Bevolking/KINDOUDERTAB/KINDOUDER2024TABV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "RINPERSOONSMa": 1, "RINPERSOONMa": 9,
        "RINPERSOONSpa": 1, "RINPERSOONpa": 9},
    "InkomenBestedingen/INHATAB/INHA2020TABV1.sav": {
        "RINPERSOONSHKW": 1, "RINPERSOONHKW": 9, "INHP100HGEST": None, "INHARMLAG": None,
        "INHSAMHH": 1, "INHAHL": None},
    "InkomenBestedingen/INHATAB/KOPPELPERSOONHUISHOUDEN2020TABV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "RINPERSOONSHKW": 1, "RINPERSOONHKW": 9},
    "InkomenBestedingen/SECMBUS/SECMBUS2024V1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "AANVSECM": 8, "EINDSECM": 8, "SECM": 2},
    "Onderwijs/HOOGSTEOPLTAB/2018/HOOGSTEOPL2018TABV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "OPLNIVSOI2021AGG4HBmetNIRWO": 4,
        "GEWICHTHOOGSTEOPL": None},
    "Onderwijs/INSCHRWPOTAB/INSCHRWPOTAB2020V1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "WPOTYPEPO": 3, "WPOLEERJAAR": 2},
    "GezondheidWelzijn/JGDHULPBUS/JGDHULP2018BUSV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "JGDHHULPVORM": 2, "JGDHGELDIGHEIDBEGINDATUM": 8,
        "JGDHGELDIGHEIDEINDDATUM": 8, "JGDHVERWIJZER": 2, "JGDHREDENBEEINDIGING": 2,
        "JGDHPERSPECTIEF": 2, "JGDHAANBIEDER": 8, "JGDHGEMEENTE": 4, "JGDHCIJFERNUT": None,
        "JGDHZELFSTANDIG": 1},
    "GezondheidWelzijn/JGDHULPBUS/JGDHULP2020BUSV1.sav": {
        "JGDHCRISIS": 1, "JGDHGELDIGHEIDEINDDATUM": 8},
    "VeiligheidRecht/JGDBESCHERMBUS/JGDBESCHERM2020BUSV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "JGDBMAATREGEL": 2, "JGDBGELDIGHEIDBEGINDATUM": 8,
        "JGDBGELDIGHEIDEINDDATUM": 8, "JGDBREDENEINDE": 2, "JGDBGEMEENTE": 4},
    "VeiligheidRecht/JGDRECLASSERINGBUS/JGDRECLASSERING2020BUSV1.sav": {
        "RINPERSOONS": 1, "RINPERSOON": 9, "JGDRMAATREGEL": 2, "JGDRGELDIGHEIDBEGINDATUM": 8,
        "JGDRGELDIGHEIDEINDDATUM": 8, "JGDRREDENEINDE": 2, "JGDRERKENDEINTERVENTIE": 1,
        "JGDRGEMEENTE": 4},
}


def test_tree_has_every_contract_file(tree):
    missing = [f for f in CONTRACT_FILES if not (Path(tree) / "ra" / f).exists()]
    assert not missing
    for name in ("gemeenten.csv", "truth.json", "calibration.md"):
        assert (Path(tree) / name).exists()


@pytest.mark.parametrize("rel", sorted(CONTRACT_VARS))
def test_variables_widths_and_labels(tree, rel):
    _, meta = read(tree, rel, metadataonly=True)
    for var, width in CONTRACT_VARS[rel].items():
        assert var in meta.column_names, f"{rel}: {var} missing"
        if width is None:
            assert meta.original_variable_types[var].startswith("F"), var
        else:
            assert meta.variable_storage_width[var] == width, (rel, var)
        assert meta.column_names_to_labels[var], f"{rel}: {var} has no variable label"


def test_codes_labels_and_missing_codes(tree):
    p, meta = read(tree, "Bevolking/GBAPERSOONTAB/2024/GBAPERSOON2024TABV1.sav")
    assert set(p["GBAGESLACHT"]) == {"1", "2", "-"}
    assert "--" in set(p["GBAGEBOORTEDAG"])
    assert "----" in set(p["GBAGEBOORTELAND"])
    assert {"6030", "6043", "5022", "5007"} <= set(p["GBAHERKOMSTGROEPERING"])
    assert set(p["GBAGENERATIE"]) == {"0", "1", "2"}
    assert p["RINPERSOON"].str.startswith("0").any()  # leading zeros kept
    assert meta.variable_value_labels["GBAGESLACHT"]["2"] == "Vrouwen"
    k, _ = read(tree, "Bevolking/KINDOUDERTAB/KINDOUDER2024TABV1.sav")
    assert (k["RINPERSOONpa"] == "---------").any()
    h, meta = read(tree, "Bevolking/GBAHUISHOUDENSBUS/GBAHUISHOUDENS2024BUSV1.sav")
    assert " 1" in set(h["PLHH"]) and "10" in set(h["PLHH"])
    assert set(h["TYPHH"]) == {str(i) for i in range(1, 9)}
    assert meta.variable_value_labels["PLHH"][" 1"]
    inha, _ = read(tree, "InkomenBestedingen/INHATAB/INHA2020TABV1.sav")
    assert (inha["INHARMLAG"] == 999999999).any() and (inha["INHP100HGEST"] < 0).any()
    assert inha.loc[inha["INHP100HGEST"] > 0, "INHP100HGEST"].between(1, 100).all()
    s, _ = read(tree, "InkomenBestedingen/SECMBUS/SECMBUS2024V1.sav")
    assert {"11", "22", "25", "31"} <= set(s["SECM"]) and (s["EINDSECM"] == "20501231").any()
    j, meta = read(tree, "VeiligheidRecht/JGDBESCHERMBUS/JGDBESCHERM2022BUSV1.sav")
    assert meta.variable_value_labels["JGDBMAATREGEL"]["22"] == "voorlopige voordij"
    assert meta.variable_value_labels["JGDBMAATREGEL"]["11"] == "ondertoezichtstelling"
    w, _ = read(tree, "Onderwijs/INSCHRWPOTAB/INSCHRWPOTAB2020V1.sav")
    assert set(w["WPOTYPEPO"]) == {"BO", "SBO", "SO"} and " 1" in set(w["WPOLEERJAAR"])


def test_jeugd_files_follow_the_contract(tree):
    j18, _ = read(tree, "GezondheidWelzijn/JGDHULPBUS/JGDHULP2018BUSV1.sav")
    j19, _ = read(tree, "GezondheidWelzijn/JGDHULPBUS/JGDHULP2019BUSV1.sav")
    j24, _ = read(tree, "GezondheidWelzijn/JGDHULPBUS/JGDHULP2024BUSV1.sav")
    assert "JGDHPERSPECTIEF" in j18 and "JGDHCRISIS" not in j18
    assert "JGDHCRISIS" in j19 and "JGDHPERSPECTIEF" not in j19
    for j in (j18, j24):
        assert set(j["JGDHHULPVORM"]) == {"01", "02", "03", "04", "11", "12", "13", "14"}
        assert {"S", "I"} & set(j["RINPERSOONS"])
        assert (j["JGDHGELDIGHEIDEINDDATUM"] == "").any()  # open trajecten
        assert (j["JGDHREDENBEEINDIGING"] == "").any()
    assert set(j19["JGDHVERWIJZER"]) <= {f"0{i}" for i in range(1, 9)}
    # a traject spanning years stands in each year's file with the same begin date
    key = ["RINPERSOON", "JGDHHULPVORM", "JGDHGELDIGHEIDBEGINDATUM", "JGDHAANBIEDER"]
    both = j18[key].merge(j19[key])
    assert len(both) > 0.3 * len(j19)
    assert (both["JGDHGELDIGHEIDBEGINDATUM"] < "20180101").any()
    # outcome items only for a minority
    filled = j24["JGDHCIJFERNUT"].notna().mean()
    assert 0.02 < filled < 0.4
    assert j24["JGDHCIJFERNUT"].dropna().between(1, 10).all()


def test_quirks(tree, world):
    ra = Path(tree) / "ra"
    v1, _ = read(tree, "InkomenBestedingen/INHATAB/INHA2017TABV1.sav")
    v2, _ = read(tree, "InkomenBestedingen/INHATAB/INHA2017TABV2.sav")
    assert len(v1) < len(v2)
    h1, _ = read(tree, "GezondheidWelzijn/JGDHULPBUS/JGDHULP2023BUSV1.sav")
    h2, _ = read(tree, "GezondheidWelzijn/JGDHULPBUS/JGDHULP2023BUSV2.sav")
    assert len(h1) < len(h2)
    assert (ra / "Onderwijs/INSCHRWPOTAB/INSCHRWPOTAB2018V1.SAV").exists()
    assert (ra / "Bevolking/GBAPERSOONTAB/2023/GBAPERSOONTAB2023V1.sav").exists()
    assert (ra / "BouwenWonen/VSLGWBTAB/VSLGWB2023TAB03V1.sav").exists()
    _, m18 = read(tree, "Onderwijs/HOOGSTEOPLTAB/2018/HOOGSTEOPL2018TABV1.sav",
                  metadataonly=True)
    _, m23 = read(tree, "Onderwijs/HOOGSTEOPLTAB/2023/HOOGSTEOPL2023TABV1.sav",
                  metadataonly=True)
    assert "OPLNIVSOI2021AGG4HBmetNIRWO" in m18.column_names
    assert "OPLNIVSOI2021AGG4HBMETNIRWO" in m23.column_names
    # the merger: a gem code that changes between VSLGWB columns, and wijk codes follow
    v, _ = read(tree, "BouwenWonen/VSLGWBTAB/VSLGWB2024TAB03V1.sav")
    assert [f"gem{y}" for y in range(2018, 2025)] == [c for c in v if c.startswith("gem")]
    changed = v["gem2018"] != v["gem2024"]
    assert changed.any() and v.loc[changed, "gem2024"].nunique() == 1
    assert v.loc[changed, "gem2018"].nunique() == 2
    assert (v["wc2024"].str[:4] == v["gem2024"]).all()
    assert (v["bc2024"].str[:6] == v["wc2024"]).all()
    assert world.pop.planted_overlaps > 0


# ------------------------------------------------------------------ links and spells
@pytest.fixture(scope="session")
def gba(tree):
    p, _ = read(tree, "Bevolking/GBAPERSOONTAB/2024/GBAPERSOON2024TABV1.sav")
    a, _ = read(tree, "Bevolking/GBAADRESOBJECTBUS/GBAADRESOBJECT2024BUSV1.sav")
    h, _ = read(tree, "Bevolking/GBAHUISHOUDENSBUS/GBAHUISHOUDENS2024BUSV1.sav")
    k, _ = read(tree, "Bevolking/KINDOUDERTAB/KINDOUDER2024TABV1.sav")
    return p, a, h, k


def test_keys_link(tree, gba):
    p, a, h, k = gba
    persons = set(p["RINPERSOON"])
    assert p["RINPERSOON"].is_unique
    for col in ("RINPERSOONMa", "RINPERSOONpa"):
        known = k.loc[k[col] != "---------", col]
        assert set(known) <= persons
    assert set(a["RINPERSOON"]) <= persons and set(h["RINPERSOON"]) <= persons
    v, _ = read(tree, "BouwenWonen/VSLGWBTAB/VSLGWB2024TAB03V1.sav")
    assert set(a["RINOBJECTNUMMER"]) <= set(v["RINOBJECTNUMMER"])
    for y in (2017, 2021):
        kp, _ = read(tree, f"InkomenBestedingen/INHATAB/KOPPELPERSOONHUISHOUDEN{y}TABV1.sav")
        ih, _ = read(tree, f"InkomenBestedingen/INHATAB/INHA{y}TABV{2 if y == 2017 else 1}.sav")
        assert set(kp["RINPERSOONHKW"]) == set(ih["RINPERSOONHKW"])
        assert set(kp["RINPERSOON"]) <= persons
    for rel in ("GezondheidWelzijn/JGDHULPBUS/JGDHULP2021BUSV1.sav",
                "VeiligheidRecht/JGDBESCHERMBUS/JGDBESCHERM2021BUSV1.sav"):
        j, _ = read(tree, rel)
        assert set(j.loc[j["RINPERSOONS"] == "R", "RINPERSOON"]) <= persons


def test_spells_are_well_formed(gba):
    p, a, h, k = gba
    for df, b, e in ((a, "GBADATUMAANVANGADRESHOUDING", "GBADATUMEINDEADRESHOUDING"),
                     (h, "DATUMAANVANGHH", "DATUMEINDEHH")):
        assert (df[b] <= df[e]).all()
    # address spells: no gaps while resident; overlaps only where planted (few)
    a = a.sort_values(["RINPERSOON", "GBADATUMAANVANGADRESHOUDING"])
    beg = pd.to_datetime(a["GBADATUMAANVANGADRESHOUDING"])
    end = pd.to_datetime(a["GBADATUMEINDEADRESHOUDING"])
    same = a["RINPERSOON"].to_numpy()[1:] == a["RINPERSOON"].to_numpy()[:-1]
    step = (beg.to_numpy()[1:] - end.to_numpy()[:-1]).astype("timedelta64[D]").astype(int)[same]
    assert (step <= 1).all()                 # never a gap
    assert 0 < (step < 1).sum() < 0.01 * len(step)   # a few planted overlaps
    # household: members of one household spell share begin and its size is their number
    key = ["HUISHOUDNR", "DATUMAANVANGHH"]
    n = h.groupby(key)["RINPERSOON"].transform("size")
    assert (n == h["AANTALPERSHH"]).all()
    kids = h.assign(kid=(h["PLHH"] == " 1").astype(int)).groupby(key)["kid"].transform("sum")
    assert (kids == h["AANTALKINDHH"]).all()


def test_household_members_share_address_and_parents_are_adults(gba):
    p, a, h, k = gba
    when = "20210101"
    ca = a[(a["GBADATUMAANVANGADRESHOUDING"] <= when) & (a["GBADATUMEINDEADRESHOUDING"] >= when)]
    ch = h[(h["DATUMAANVANGHH"] <= when) & (h["DATUMEINDEHH"] >= when)]
    assert ch["RINPERSOON"].is_unique
    m = ch.merge(ca.drop_duplicates("RINPERSOON", keep="last"), on="RINPERSOON")
    assert len(m) == len(ch)
    assert (m.groupby("HUISHOUDNR")["RINOBJECTNUMMER"].nunique() == 1).all()
    bd = pd.to_datetime(p["GBAGEBOORTEJAAR"] + p["GBAGEBOORTEMAAND"] + "01")
    birth = pd.Series(bd.to_numpy(), index=p["RINPERSOON"])
    kk = k[k["RINPERSOONMa"] != "---------"]
    age = (birth.loc[kk["RINPERSOON"]].to_numpy() - birth.loc[kk["RINPERSOONMa"]].to_numpy())
    assert (age.astype("timedelta64[D]").astype(int) >= 18 * 365 - 31).all()
    kk = k[k["RINPERSOONpa"] != "---------"]
    age = (birth.loc[kk["RINPERSOON"]].to_numpy() - birth.loc[kk["RINPERSOONpa"]].to_numpy())
    assert (age.astype("timedelta64[D]").astype(int) >= 18 * 365 - 31).all()


def test_trajecten_within_life_and_residence(world):
    tr = world.jeugd.trajecten
    tr = tr[tr["pid"] >= 0]
    per = world.pop.persons
    assert (tr["begin"] >= per["birth"][tr["pid"]]).all()
    end = tr["end"].where(tr["end"] >= 0, tr["begin"])
    assert (end <= per["exit"][tr["pid"]] - 1).all()
    assert (tr["begin"] <= end).all()
    for df in (world.jeugd.bescherming, world.jeugd.reclassering):
        e = df["end"].where(df["end"] >= 0, df["begin"])
        assert (df["begin"] <= e).all() and (e <= per["exit"][df["pid"]] - 1).all()


def test_frame_matches_the_files(tree, world):
    """The covariates planted on are the ones derivable from the written files (one year)."""
    Y, when = 2021, "20210101"
    f = world.frame[world.frame["year"] == Y]
    from synthetic.writer import rin
    f = f.assign(RINPERSOON=rin(f["pid"].to_numpy()))
    h, _ = read(tree, "Bevolking/GBAHUISHOUDENSBUS/GBAHUISHOUDENS2024BUSV1.sav")
    ch = h[(h["DATUMAANVANGHH"] <= when) & (h["DATUMEINDEHH"] >= when)]
    one = set(ch.loc[ch["TYPHH"] == "6", "RINPERSOON"])
    assert (f["RINPERSOON"].isin(one).astype(int) == f["one_parent"]).all()
    w, _ = read(tree, "Onderwijs/INSCHRWPOTAB/INSCHRWPOTAB2020V1.sav")
    sp = set(w.loc[w["WPOTYPEPO"] != "BO", "RINPERSOON"])
    assert (f["RINPERSOON"].isin(sp).astype(int) == f["speciaal_onderwijs"]).all()
    j, _ = read(tree, f"GezondheidWelzijn/JGDHULPBUS/JGDHULP{Y}BUSV1.sav")
    users = set(j.loc[j["RINPERSOONS"] == "R", "RINPERSOON"])
    assert (f["RINPERSOON"].isin(users).astype(int) == f["jeugdhulp"]).all()


# ------------------------------------------------------------------ rates
def test_national_rates_inside_calibration_ranges(world):
    m = calibration_metrics(world)
    ranges = {  # the public figure and the tolerance accepted at 100,000 persons
        "jeugdhulp_pct_under18": (12.5, 15.5), "jeugdhulp_pct_under23": (9.0, 12.5),
        "met_verblijf_pct_of_users": (7.0, 11.5), "jeugdbescherming_pct_under18": (0.85, 1.35),
        "jb_with_met_verblijf_pct": (38.0, 62.0), "jeugdreclassering_pct_12_22": (0.18, 0.42),
        "one_parent_pct_minors": (13.0, 19.0), "bijstand_pct_minors": (4.3, 7.2),
        "speciaal_onderwijs_pct_pupils": (2.5, 4.5), "verwijzer_huisarts_pct": (33.0, 45.0),
        "verwijzer_gemeente_pct": (25.0, 36.0), "verwijzer_geen_pct": (11.0, 19.0),
        "boys_8_11_pct": (18.0, 26.0), "girls_12_17_pct": (14.0, 22.0),
        "age_18_22_pct": (1.0, 3.0), "trajecten_per_youth": (1.2, 1.6),
        "volgens_plan_pct_known": (72.0, 83.0), "outcome_items_pct_closed": (20.0, 40.0),
        "pleegzorg_pct_of_verblijf_users": (38.0, 60.0),
    }
    bad = {k: m[k] for k, (lo, hi) in ranges.items() if not lo <= m[k] <= hi}
    assert not bad
    rng_lo, rng_hi = m["gemeente_range_jeugdhulp_pct_under23"]
    assert rng_lo < 9 and rng_hi > 14


def test_herhaald_beroep_about_a_quarter(world):
    """StatLine's herhaald beroep (earlier jeugdhulp within 5 years of a start, at least one day
    between) is about a quarter of started trajecten (public figure), not inflated by forms of
    care that start and stop within one period of use."""
    m = calibration_metrics(world)
    assert 18.0 <= m["herhaald_beroep_pct"] <= 32.0, m["herhaald_beroep_pct"]


def test_persons_and_gemeente_sizes(tree, world):
    g = pd.read_csv(Path(tree) / "gemeenten.csv", dtype={"gemeentecode": str})
    assert list(g.columns) == ["gemeentecode", "gemeentenaam", "inwoners", "stedelijkheid",
                               "jeugdregio", "provincie"]
    assert len(g) == 25 and g["gemeentecode"].str.len().eq(4).all()
    assert (g["inwoners"] < 2000).any() and g["inwoners"].max() > 10 * g["inwoners"].min()
    assert 90_000 < g["inwoners"].sum() < 110_000
    assert set(g["stedelijkheid"]) <= {1, 2, 3, 4, 5}
    young = (world.frame["year"] == 2024).sum()
    assert 20_000 < young < 32_000


# ------------------------------------------------------------------ planted truth recovered
def _newton_logit(X, y, iterations=30):
    """Return maximum-likelihood logit coefficients (Newton-Raphson; statsmodels' GLM gives the
    same numbers but is slow on 200,000 rows x 80 columns)."""
    beta = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-X @ beta))
        step = np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def _cluster_se(X, y, p, groups):
    """Return person-clustered sandwich standard errors of a logit (years of one youth are
    correlated by the planted persistence)."""
    import scipy.sparse as sp

    H = (X * (p * (1 - p))[:, None]).T @ X
    _, g = np.unique(groups, return_inverse=True)
    S = sp.csr_matrix((np.ones(len(g)), (g, np.arange(len(g))))) @ (X * (y - p)[:, None])
    Hi = np.linalg.inv(H)
    return np.sqrt(np.diag(Hi @ (S.T @ S) @ Hi))


def test_logit_recovers_planted_odds_ratios(world, tree):
    truth = json.loads((Path(tree) / "truth.json").read_text())
    f = world.frame[world.frame["year"] >= YEARS[0]]
    from synthetic.jeugd import design
    X = pd.DataFrame(design(f), index=f.index)
    cell = pd.get_dummies(f["age"].astype(str) + "_" + f["sex"].astype(str), dtype=float)
    gem = pd.get_dummies(f["gemeente"], prefix="g", drop_first=True, dtype=float)
    X = pd.concat([X, cell, gem], axis=1)
    X["trend"] = (f["year"] - truth["years"]["reference_year"]).astype(float)
    y = f["jeugdhulp"].to_numpy().astype(float)
    Xa = X.to_numpy(dtype=float)
    beta = _newton_logit(Xa, y)
    p = 1 / (1 + np.exp(-Xa @ beta))
    bse = pd.Series(_cluster_se(Xa, y, p, f["pid"].to_numpy()), index=X.columns)
    fit = type("Fit", (), {"params": pd.Series(beta, index=X.columns), "bse": bse})
    # 3 standard errors: eight coefficients tested at once (Bonferroni 5% is 2.7 SE)
    for name, c in truth["jeugdhulp"]["coefficients"].items():
        est, se = fit.params[name], fit.bse[name]
        assert abs(est - c["log_odds"]) < 3 * se, (name, est, c["log_odds"], se)
    est, se = fit.params["trend"], fit.bse["trend"]
    assert abs(est - truth["jeugdhulp"]["trend"]["log_odds_per_year"]) < 3 * se
    # planted outliers stand out, the composition gemeente does not
    codes = list(truth["jeugdhulp"]["gemeente_effects"])
    base = fit.params[[c for c in fit.params.index if c.startswith("g_")]]
    eff = {codes[int(k[2:])]: v for k, v in base.items()}
    eff[codes[0]] = 0.0
    centre = np.median(list(eff.values()))
    for code in truth["jeugdhulp"]["outliers"]["high"]:
        assert eff[code] - centre > 0.25
    for code in truth["jeugdhulp"]["outliers"]["low"]:
        assert eff[code] - centre < -0.25
    assert abs(eff[truth["jeugdhulp"]["composition_only"]] - centre) < 0.2


def test_composition_gemeente_looks_high_before_adjustment(world, tree):
    truth = json.loads((Path(tree) / "truth.json").read_text())
    code = truth["jeugdhulp"]["composition_only"]
    idx = list(truth["jeugdhulp"]["gemeente_effects"]).index(code)
    f = world.frame[(world.frame["year"] >= YEARS[0]) & (world.frame["age"] <= 17)]
    raw = f.groupby("gemeente")["jeugdhulp"].mean()
    assert raw[idx] > raw.median() * 1.15


def test_panel_recovers_wijkteam_effect(world, tree):
    import statsmodels.formula.api as smf

    truth = json.loads((Path(tree) / "truth.json").read_text())
    f = world.frame[world.frame["jeugdhulp"] == 1]
    gy = f.groupby(["gemeente", "year"]).agg(W=("wijkteam", "mean"), V=("met_verblijf", "mean"),
                                             n=("pid", "size")).reset_index()
    gy["W_lag"] = gy.groupby("gemeente")["W"].shift(1)
    d = gy[gy["year"] >= YEARS[0]].dropna()
    fit = smf.wls("V ~ W_lag + C(gemeente) + C(year)", data=d, weights=d["n"]).fit(
        cov_type="cluster", cov_kwds={"groups": d["gemeente"]})
    beta = truth["wijkteam_panel"]["beta"]
    assert abs(fit.params["W_lag"] - beta) < 3 * fit.bse["W_lag"]
    assert fit.params["W_lag"] < 0


def test_truth_file_schema(tree):
    t = json.loads((Path(tree) / "truth.json").read_text())
    assert t["seed"] == SEED and t["options"]["persons"] == 100_000
    jh = t["jeugdhulp"]
    for k in ("outcome", "population", "model", "covariates", "reference_categories",
              "coefficients", "age_sex_intercepts", "trend", "gemeente_effects", "outliers",
              "composition_only", "persistence"):
        assert k in jh
    assert math.isclose(jh["coefficients"]["one_parent"]["odds_ratio"], 1.7)
    assert len(jh["gemeente_effects"]) == 25
    roles = [g["role"] for g in jh["gemeente_effects"].values()]
    assert sum("outlier" in r for r in roles) == 4 and sum("composition" in r for r in roles) == 1
    jb = t["jeugdbescherming"]["implied_marginal_coefficients"]["bijstand"]["odds_ratio"]
    assert 2.3 < jb < 3.8
    assert t["wijkteam_panel"]["lag_years"] == 1 and t["merger"]["year"] == 2021


# ------------------------------------------------------------------ determinism and CLI
def _digests(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files(tmp_path):
    kw = dict(persons=3_000, gemeenten=8, years=(2018, 2021), seed=7)
    synthetic.generate(tmp_path / "a", **kw)
    synthetic.generate(tmp_path / "b", **kw)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a == b and len(a) > 30
    synthetic.generate(tmp_path / "c", **{**kw, "seed": 8})
    c = _digests(tmp_path / "c")
    assert c != a


def _numpy_kernels_above_baseline() -> list[str]:
    """Return the SIMD targets numpy dispatches to on this CPU beyond its compiled baseline."""
    from numpy._core import _multiarray_umath as m
    return [f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)]


def test_identical_files_on_every_cpu_kernel(tmp_path):
    """The tree must not depend on the machine: numpy picks SIMD kernels per CPU (AVX2,
    AVX-512, ...) whose sorts order ties differently and whose transcendental functions differ in
    the last bit. Generating with every kernel above the baseline switched off (as on an older
    CPU) must give byte-identical files."""
    kernels = _numpy_kernels_above_baseline()
    if not kernels:
        pytest.skip("numpy dispatches to no kernel above its baseline on this CPU")
    code = ("import sys, synthetic; "
            "synthetic.generate(sys.argv[1], persons=20_000, gemeenten=25, years=(2018, 2024))")
    digests = []
    for name, disabled in (("native", None), ("baseline", " ".join(kernels))):
        env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
        if disabled:
            env["NPY_DISABLE_CPU_FEATURES"] = disabled
        subprocess.run([sys.executable, "-c", code, str(tmp_path / name)], env=env, check=True)
        digests.append(_digests(tmp_path / name))
    native, baseline = digests
    differ = sorted(k for k in native if native[k] != baseline.get(k))
    assert native.keys() == baseline.keys() and not differ, f"differ by CPU kernel: {differ}"
    # the kit on one tree: the same population and trajectory release with either kernel set
    outputs = []
    for name, disabled in (("native", None), ("baseline", " ".join(kernels))):
        env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
        env["JEUGDKIT_CACHE_DIR"] = str(tmp_path / f"cache-{name}")
        if disabled:
            env["NPY_DISABLE_CPU_FEATURES"] = disabled
        out = tmp_path / f"kit-{name}"
        for args in (["population", "--out", str(out / "pop.parquet")],
                     ["trajecten", "--out", str(out / "trajecten")]):
            subprocess.run([sys.executable, "-m", "jeugdkit", *args, "--data-root",
                            str(tmp_path / "native" / "ra"), "--period", "2023"],
                           env=env, check=True, capture_output=True)
        pop = pd.read_parquet(out / "pop.parquet")
        csvs = {p.name: p.read_bytes() for p in sorted((out / "trajecten").glob("*.csv"))}
        outputs.append((pop, (out / "pop.reconciliation.csv").read_bytes(), csvs))
    (pop_a, rec_a, csv_a), (pop_b, rec_b, csv_b) = outputs
    pd.testing.assert_frame_equal(pop_a, pop_b)
    assert rec_a == rec_b and csv_a == csv_b and len(csv_a) >= 5


def test_cli(tmp_path, capsys):
    rc = main(["--out", str(tmp_path / "o"), "--persons", "2500", "--gemeenten", "8",
               "--years", "2019-2022", "--seed", "3", "--quiet"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["options"]["years"] == [2019, 2022]
    assert (tmp_path / "o" / "ra" / "GezondheidWelzijn/JGDHULPBUS/JGDHULP2022BUSV1.sav").exists()
    assert main(["--out", str(tmp_path / "x"), "--gemeenten", "3", "--quiet"]) == 2
