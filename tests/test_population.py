"""Tests of jeugdkit.population on a hand-built tree (tests/population_tree.py) with known
answers, and on the synthetic default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdkit.cli import main
from jeugdkit.errors import DatasetNotFoundError, JeugdkitError
from jeugdkit.periods import Period
from jeugdkit.population import build_population, resolve_classification_year
from jeugdkit.read import Reader, split_person_key
from jeugdkit.reconciliation import ReconciliationError, check_reconciliation
from tests.population_tree import build_tree

REQUIRED_COLUMNS = [
    "gemeentecode", "wijkcode", "leeftijd", "leeftijdsgroep", "geslacht", "eenouder", "bijstand",
    "inkomen_kwintiel", "opleiding_ouders", "speciaal_onderwijs", "jeugdhulp",
    "jeugdhulp_wijkteam", "jeugdhulp_overig_zonder_verblijf", "jeugdhulp_met_verblijf",
    "jeugdbescherming", "jeugdreclassering"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return build_tree(tmp_path_factory.mktemp("pop") / "ra")


@pytest.fixture(scope="module")
def pop(tree):
    return build_population(Reader(tree, use_cache=False), "2023")


def by_nr(frame):
    out = frame.copy()
    out.index = split_person_key(out["rin"])[1].astype(int)
    return out


def reasons(pop, eenheid, stap_nr):
    rec = pop.reconciliation
    rows = rec[(rec["eenheid"] == eenheid) & (rec["stap_nr"] == stap_nr)]
    return {r: u + b for r, u, b in zip(rows["reden"], rows["uit"], rows["behouden"]) if r}


def test_who_is_in(pop):
    f = by_nr(pop.frame)
    assert sorted(f.index) == [1, 4, 7, 14, 15, 17]
    assert all(c in f.columns for c in REQUIRED_COLUMNS)
    pop.check()


def test_person_reconciliation_by_reason(pop):
    assert reasons(pop, "personen", 1) == {"RINPERSOONS niet R": 1,
                                           "dubbel record (eerste gehouden)": 1}
    assert reasons(pop, "personen", 2) == {"geen (geldige) geboortedatum": 1,
                                           "geboren na peildatum": 1, "ouder dan 22": 4}
    assert reasons(pop, "personen", 3) == {
        "niet ingezetene op peildatum": 1,
        "meerdere adressen op peildatum (laatste begin gekozen)": 1}
    assert reasons(pop, "personen", 4) == {"adresobject niet in VSLGWBTAB": 1,
                                           "geen gemeentecode in gem2023": 1}
    bg = reasons(pop, "personen", 5)
    assert bg["geen huishouden op peildatum"] == 1
    assert bg["meerdere huishoudens op peildatum (laatste begin gekozen)"] == 1
    rec = pop.reconciliation
    assert rec.loc[rec["eenheid"] == "personen", "in"].iloc[0] == 17  # every record read


def test_age_and_groups_on_boundaries(pop):
    f = by_nr(pop.frame)
    assert f.loc[7, "leeftijd"] == 22 and f.loc[7, "leeftijdsgroep"] == "18-22"  # 23 tomorrow
    assert f.loc[17, "leeftijd"] == 3 and f.loc[17, "leeftijdsgroep"] == "0-3"   # 4 tomorrow
    assert f.loc[4, "leeftijd"] == 8  # birthday on the peildatum
    assert f.loc[4, "leeftijdsgroep"] == "4-11"
    assert f.loc[14, "geslacht"] == "onbekend" and f.loc[1, "geslacht"] == "1"
    assert f.loc[4, "migratieachtergrond"] == "tweede_generatie"
    assert f.loc[7, "migratieachtergrond"] == "onbekend"


def test_gemeente_move_merger_and_overlap(tree, pop):
    f = by_nr(pop.frame)
    assert f.loc[1, "gemeentecode"] == "0001"      # address on 1 January
    assert f.loc[4, "gemeentecode"] == "0001"      # 0002 merged into 0001 in 2023
    assert f.loc[4, "wijkcode"] == "000102"
    assert f.loc[14, "gemeentecode"] == "0003"     # latest of two registrations
    h2 = by_nr(build_population(Reader(tree, use_cache=False), "2023H2").frame)
    assert h2.loc[1, "gemeentecode"] == "0003"     # moved on 1 March
    old = build_population(Reader(tree, use_cache=False), "2023", classification_year=2022)
    assert by_nr(old.frame).loc[4, "gemeentecode"] == "0002"
    assert pop.notes["classification_year"] == 2023


def test_classification_year_fallback_and_errors(tree):
    reader = Reader(tree, use_cache=False)
    year, note = resolve_classification_year(reader, Period.parse("2024"))
    assert year == 2023 and "2024" in note and "2023" in note
    with pytest.raises(JeugdkitError, match="no gem2019"):
        resolve_classification_year(reader, Period.parse("2023"), 2019)


def test_household(pop):
    f = by_nr(pop.frame)
    assert f.loc[4, "eenouder"] and f.loc[4, "huishoudgrootte"] == 2
    assert not f.loc[1, "eenouder"] and f.loc[1, "typhh"] == "5" and f.loc[1, "plhh"] == "1"
    assert f.loc[14, "typhh"] == "7"                 # the household that began last
    assert f.loc[17, "typhh"] == "4"                 # spell beginning on the peildatum
    assert pd.isna(f.loc[15, "eenouder"]) and f.loc[15, "typhh"] == "onbekend"
    assert pd.isna(f.loc[15, "huishouden_id"])
    assert f.loc[1, "huishouden_id"] != f.loc[4, "huishouden_id"]


def test_parents_education_income_bijstand(pop):
    f = by_nr(pop.frame)
    assert f.loc[1, "ouders_bekend"] == 2 and f.loc[4, "ouders_bekend"] == 1
    assert pd.isna(f.loc[4, "rin_pa"]) and pd.isna(f.loc[14, "rin_ma"])
    assert f.loc[1, "opleiding_ouders"] == "hoog"    # the higher of middelbaar and hoog
    # mother of 4 is only in the 2023 file (1 October 2023 is after the peildatum); the
    # unknown father must not link to the record with an unknown key
    assert f.loc[4, "opleiding_ouders"] == "onbekend"
    assert f.loc[14, "opleiding_ouders"] == "onbekend"
    assert f.loc[1, "inkomen_kwintiel"] == "5" and not f.loc[1, "laag_inkomen"]
    assert f.loc[4, "inkomen_kwintiel"] == "1" and f.loc[4, "laag_inkomen"]
    assert f.loc[7, "inkomen_kwintiel"] == "onbekend" and pd.isna(f.loc[7, "laag_inkomen"])
    assert f.loc[4, "bijstand"]                      # mother on bijstand
    assert not f.loc[1, "bijstand"]                  # mother's bijstand ended the day before
    assert pd.isna(f.loc[14, "bijstand"]) and pd.isna(f.loc[7, "bijstand"])  # no parent known


def test_school(pop):
    f = by_nr(pop.frame)
    assert f.loc[1, "schooltype"] == "SBO" and f.loc[1, "speciaal_onderwijs"]
    assert f.loc[4, "schooltype"] == "BO" and not f.loc[4, "speciaal_onderwijs"]  # 2022, not 2023
    assert f.loc[7, "schooltype"] == "niet_ingeschreven" and not f.loc[7, "speciaal_onderwijs"]
    assert f.loc[17, "schooltype"] == "onbekend" and pd.isna(f.loc[17, "speciaal_onderwijs"])


def test_jeugd_flags(pop):
    f = by_nr(pop.frame)
    assert f.loc[1, "jeugdhulp"] and f.loc[1, "n_trajecten"] == 2
    assert f.loc[1, "uitstroom_jeugdhulp"] and f.loc[1, "instroom_jeugdhulp"]
    assert f.loc[4, "n_trajecten"] == 3 and f.loc[4, "jeugdhulp_met_verblijf"]
    assert f.loc[4, "jeugdhulp_hv11"] and f.loc[4, "jeugdhulp_overig_zonder_verblijf"]
    assert f.loc[7, "jeugdhulp_wijkteam"] and not f.loc[7, "jeugdhulp_met_verblijf"]
    assert not f.loc[15, "jeugdhulp"]                # its traject is only in the wrong V1
    assert f.loc[4, "jeugdbescherming"] and not f.loc[1, "jeugdbescherming"]
    assert f.loc[1, "gemeente_jeugdhulp"] == "0001"
    assert pd.isna(f.loc[14, "gemeente_jeugdhulp"])
    # the jeugdreclassering file is absent: NA, and the notes say so
    assert f["jeugdreclassering"].isna().all()
    assert "JGDRECLASSERINGBUS" in pop.notes["missing_sources"]


def test_period_h1_vs_h2_flags(tree):
    h1 = by_nr(build_population(Reader(tree, use_cache=False), "2023H1").frame)
    assert not h1.loc[7, "jeugdhulp"]                # starts on 31 December
    assert h1.loc[4, "instroom_jeugdhulp"]


def test_trajecten_of_persons_outside_the_population(pop):
    assert reasons(pop, "trajecten", 5) == {"RINPERSOONS niet R": 1,
                                            "niet in GBAPERSOONTAB": 1,
                                            "niet ingezetene op peildatum": 1}
    assert reasons(pop, "trajecten", 1) == {"geen begindatum": 1}
    assert reasons(pop, "trajecten", 3) == {"samengevoegd met overlappend traject": 1}
    t = pop.trajecten
    assert {"in_periode", "koppeling"} <= set(t.columns)
    assert reasons(pop, "jeugdbescherming", 5) == {"niet ingezetene op peildatum": 1}


def test_jeugd_years_across_files(tree):
    pop = build_population(Reader(tree, use_cache=False), "2023", jeugd_years=[2021, 2022, 2023])
    assert reasons(pop, "trajecten", 2) == {"zelfde traject in ouder jaarbestand": 3}
    assert reasons(pop, "trajecten", 4) == {"niet in periode": 1}   # child 14, ended in 2022
    assert by_nr(pop.frame).loc[1, "n_trajecten"] == 2
    pop.check()


def test_reclassering_present(tmp_path):
    root = build_tree(tmp_path / "ra", reclassering=True)
    pop = build_population(Reader(root, use_cache=False), "2023")
    f = by_nr(pop.frame)
    assert f.loc[7, "jeugdreclassering"] and not f.loc[1, "jeugdreclassering"]
    pop.check()


def test_optional_source_absent_gives_onbekend(tmp_path):
    root = build_tree(tmp_path / "ra")
    for f in (root / "Onderwijs" / "HOOGSTEOPLTAB").rglob("*.sav"):
        f.unlink()
    pop = build_population(Reader(root, use_cache=False), "2023")
    assert (pop.frame["opleiding_ouders"] == "onbekend").all()
    assert "HOOGSTEOPLTAB" in pop.notes["missing_sources"]
    pop.check()


def test_required_source_absent_raises(tmp_path):
    root = build_tree(tmp_path / "ra")
    for f in (root / "GezondheidWelzijn" / "JGDHULPBUS").glob("*.sav"):
        f.unlink()
    with pytest.raises(DatasetNotFoundError, match="JGDHULPBUS"):
        build_population(Reader(root, use_cache=False), "2023")


def test_check_reconciliation_catches_a_lost_record(pop):
    broken = pop.reconciliation.copy()
    broken.loc[broken.index[0], "uit"] += 1
    with pytest.raises(ReconciliationError, match="does not close"):
        check_reconciliation(broken)
    with pytest.raises(ReconciliationError, match="result holds"):
        check_reconciliation(pop.reconciliation, {"personen": len(pop.frame) + 1})


def test_cli_writes_parquet_and_reconciliation(tree, tmp_path, capsys):
    out = tmp_path / "out" / "pop2023.parquet"
    assert main(["population", "--data-root", str(tree), "--period", "2023", "--out", str(out),
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    frame = pd.read_parquet(out)
    rec = pd.read_csv(tmp_path / "out" / "pop2023.reconciliation.csv")
    assert len(frame) == 6 and frame["gemeentecode"].astype(str).str.len().eq(4).all()
    check_reconciliation(rec, {"personen": 6})
    assert "never export" in capsys.readouterr().out


# ----------------------------------------------------------------------------- synthetic
@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    synthetic = pytest.importorskip("synthetic", reason="the synthetic generator is not "
                                    "importable yet")
    out = tmp_path_factory.mktemp("synthetic_pop")
    summary = synthetic.generate(out, persons=20_000, seed=1)
    return summary["data_root"]


@pytest.mark.parametrize("period", ["2023", "2022H2"])
def test_synthetic_default(synthetic_root, tmp_path, period):
    pop = build_population(Reader(synthetic_root, cache_dir=tmp_path / "cache"), period)
    f = pop.frame
    assert len(f) > 1000
    assert f["gemeentecode"].notna().all()
    assert f["gemeentecode"].astype(str).str.fullmatch(r"\d{4}").all()
    assert f["leeftijd"].between(0, 22).all()
    assert f["jeugdhulp"].sum() > 0
    assert np.array_equal(f["jeugdhulp"].to_numpy(bool), f["n_trajecten"].to_numpy() > 0)
    assert f["rin"].is_unique
    pop.check()
