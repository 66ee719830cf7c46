"""Shared fixtures: tiny RA trees written with pyreadstat, independent of the generator."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest


def write_sav(path: Path, columns: dict, labels: dict | None = None) -> Path:
    """Write a .sav with the given {variable: values} (strings stay strings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({k: pd.Series(v, dtype=object if isinstance(v[0], str) else float)
                          for k, v in columns.items()})
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels or {})
    return path


def ledger_truth(runs, population, unit, cell):
    """Return the true count of a cell from the sessions' own ledgers (None if not there)."""
    key = tuple(sorted(cell.items())) if isinstance(cell, dict) else ()
    for run in runs.values():
        ledger = run._ledgers.get((population, unit))
        if ledger is not None and key in ledger.keys:
            return ledger.value[ledger.keys[key]]
    return None


def rin(*numbers: int) -> list[str]:
    """Return 9-digit RINPERSOON strings with leading zeros."""
    return [f"{n:09d}" for n in numbers]


@pytest.fixture
def quirky_tree(tmp_path: Path) -> Path:
    """An RA tree with the contract's quirks, written by hand (not by the generator).

    - GBAPERSOONTAB in a year folder, V1 and V2 in 2023 (V2 right), an older 2022 edition,
      and a file-name variant GBAPERSOONTAB2021V1.sav
    - JGDHULPBUS without year folders, 2019 with a .SAV extension, an open traject crossing
      the 2018 and 2019 files, an RINPERSOONS I, an unknown hulpvorm code 99
    - HOOGSTEOPLTAB whose education variable changes case between years
    - GBAHUISHOUDENSBUS with padded PLHH and open end 20501231
    - KINDOUDERTAB with an unknown father (---------)
    - INHATAB with income sentinels; VSLGWBTAB wide by year with a merger
    - stray files no pattern matches
    """
    root = tmp_path / "ra"
    bev = root / "Bevolking"
    persons = {
        "RINPERSOONS": ["R", "R", "R", "S", "R"],
        "RINPERSOON": rin(1, 2, 3, 1, 40),
        "GBAGESLACHT": ["1", "2", "-", "1", "2"],
        "GBAGEBOORTEJAAR": ["2010", "1980", "1982", "2011", "2015"],
        "GBAGEBOORTEMAAND": ["01", "05", "07", "02", "12"],
        "GBAGEBOORTEDAG": ["15", "01", "31", "03", "24"],
        "GBAGEBOORTELAND": ["6030"] * 5,
        "GBAHERKOMSTGROEPERING": ["6030", "6030", "5022", "6043", "6030"],
        "GBAGENERATIE": ["0", "0", "1", "2", "0"],
    }
    write_sav(bev / "GBAPERSOONTAB" / "2023" / "GBAPERSOON2023TABV2.sav", persons,
              {"GBAGESLACHT": {"1": "Mannen", "2": "Vrouwen"}})
    v1 = {k: v[:3] for k, v in persons.items()}  # V1 misses persons: a reader picking it is wrong
    write_sav(bev / "GBAPERSOONTAB" / "2023" / "GBAPERSOON2023TABV1.sav", v1)
    write_sav(bev / "GBAPERSOONTAB" / "2022" / "GBAPERSOON2022TABV1.sav", v1)
    write_sav(bev / "GBAPERSOONTAB" / "GBAPERSOONTAB2021V1.sav", v1)

    write_sav(bev / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav", {
        "RINPERSOONS": ["R", "R", "R"],
        "RINPERSOON": rin(1, 2, 3),
        "DATUMAANVANGHH": ["20100115", "20100115", "20150301"],
        "DATUMEINDEHH": ["20501231", "20150228", "20501231"],
        "HUISHOUDNR": ["000000000123", "000000000123", "000000000456"],
        "TYPHH": ["5", "5", "6"],
        "PLHH": [" 1", " 5", " 7"],
        "AANTALPERSHH": [3.0, 3.0, 2.0],
        "AANTALKINDHH": [1.0, 1.0, 1.0],
    }, {"PLHH": {" 1": "Thuiswonend kind", " 5": "Partner", " 7": "Ouder in eenouderhuishouden"}})

    write_sav(bev / "KINDOUDERTAB" / "KINDOUDER2023TABV1.sav", {
        "RINPERSOONS": ["R", "R"], "RINPERSOON": rin(1, 40),
        "RINPERSOONSMa": ["R", "R"], "RINPERSOONMa": rin(3, 3),
        "RINPERSOONSpa": ["R", "-"], "RINPERSOONpa": ["000000002", "---------"],
    })

    write_sav(root / "BouwenWonen" / "VSLGWBTAB" / "VSLGWB2023TAB03V1.sav", {
        "SOORTOBJECTNUMMER": ["VBO", "VBO"],
        "RINOBJECTNUMMER": ["0000000000000001", "0000000000000002"],
        "gem2022": ["0001", "0002"], "gem2023": ["0001", "0001"],
        "wc2022": ["000101", "000201"], "wc2023": ["000101", "000102"],
        "bc2022": ["00010101", "00020101"], "bc2023": ["00010101", "00010201"],
    })

    inc = root / "InkomenBestedingen" / "INHATAB"
    for year in (2021, 2022):
        write_sav(inc / f"INHA{year}TABV1.sav", {
            "RINPERSOONSHKW": ["R", "R"], "RINPERSOONHKW": rin(2, 3),
            "INHP100HGEST": [45.0, -1.0], "INHARMLAG": [180.0, 999999999.0],
            "INHSAMHH": ["11", "14"], "INHAHL": [3.0, 2.0],
        })
        write_sav(inc / f"KOPPELPERSOONHUISHOUDEN{year}TABV1.sav", {
            "RINPERSOONS": ["R", "R", "R"], "RINPERSOON": rin(1, 2, 3),
            "RINPERSOONSHKW": ["R", "R", "R"], "RINPERSOONHKW": rin(2, 2, 3),
        })

    ond = root / "Onderwijs" / "HOOGSTEOPLTAB"
    write_sav(ond / "2021" / "HOOGSTEOPL2021TABV1.sav", {
        "RINPERSOONS": ["R"], "RINPERSOON": rin(2),
        "OPLNIVSOI2021AGG4HBmetNIRWO": ["3111"], "GEWICHTHOOGSTEOPL": [1.5]})
    write_sav(ond / "2022" / "HOOGSTEOPL2022TABV1.sav", {
        "RINPERSOONS": ["R", "R"], "RINPERSOON": rin(2, 3),
        "OPLNIVSOI2021AGG4HBMETNIRWO": ["3111", "1211"], "GEWICHTHOOGSTEOPL": [1.5, 2.0]})

    jgd = root / "GezondheidWelzijn" / "JGDHULPBUS"
    base = {"JGDHVERWIJZER": ["01", "02"], "JGDHREDENBEEINDIGING": ["", "03"],
            "JGDHAANBIEDER": ["A0000001", "A0000002"], "JGDHGEMEENTE": ["0001", "0002"],
            "JGDHCIJFERNUT": [float("nan"), 8.0], "JGDHZELFSTANDIG": ["", "1"]}
    labels = {"JGDHHULPVORM": {"01": "wijk- of buurtteam", "11": "pleegzorg"}}
    write_sav(jgd / "JGDHULP2018BUSV1.sav", {
        "RINPERSOONS": ["R", "R"], "RINPERSOON": rin(1, 40),
        "JGDHHULPVORM": ["01", "11"],
        "JGDHGELDIGHEIDBEGINDATUM": ["20170601", "20181001"],
        "JGDHGELDIGHEIDEINDDATUM": ["20181231", ""],
        "JGDHPERSPECTIEF": ["03", "04"], **base}, labels)
    write_sav(jgd / "JGDHULP2019BUSV1.SAV", {
        "RINPERSOONS": ["R", "I"], "RINPERSOON": rin(40, 7),
        "JGDHHULPVORM": ["11", "99"],
        "JGDHGELDIGHEIDBEGINDATUM": ["20181001", "20190301"],
        "JGDHGELDIGHEIDEINDDATUM": ["", "20190401"],
        "JGDHCRISIS": ["0", "1"], **base}, labels)
    # stray files: documentation, a misnamed file, a non-year subfolder
    (jgd / "Documentatie JGDHULPBUS.pdf").write_bytes(b"%PDF-1.4")
    write_sav(jgd / "JGDHULP_2019_oud.sav", {"RINPERSOONS": ["R"], "RINPERSOON": rin(1)})
    write_sav(jgd / "archief" / "JGDHULP2017BUSV1.sav", {"RINPERSOONS": ["R"],
                                                         "RINPERSOON": rin(1)})
    return root


# ----------------------------------------------------------------------------- reports
REPORT_TIMESTAMP = "2026-04-01T06:00:00+00:00"


@pytest.fixture(scope="session")
def report_run(tmp_path_factory):
    """A small synthetic tree and the reports of two gemeenten, run in parallel.

    Returns (tree folder, report folder, RunSummary, gemeentecodes).
    """
    import synthetic
    from jeugdkit.report.runner import run_reports
    tmp = tmp_path_factory.mktemp("report")
    synthetic.generate(tmp, persons=20_000, gemeenten=8, seed=5)
    codes = sorted(pd.read_csv(tmp / "gemeenten.csv", dtype=str)
                   .sort_values("inwoners", key=lambda s: s.astype(int))["gemeentecode"][-2:])
    summary = run_reports(tmp / "ra", "2023", gemeenten=codes, out=tmp / "rapporten",
                          cache_dir=tmp / "cache", workers=2, run_timestamp=REPORT_TIMESTAMP,
                          log=lambda *a: None)
    assert not summary.failed, [o.message for o in summary.failed]
    return tmp, tmp / "rapporten", summary, codes


@pytest.fixture(scope="session")
def report_html(report_run) -> Path:
    """The rapport.html of the first gemeente of :func:`report_run`."""
    _, out, _, codes = report_run
    return out / "2023" / codes[0] / "rapport.html"
