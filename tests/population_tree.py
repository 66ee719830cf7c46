"""A hand-built RA tree with known answers for the population, background and jeugd rules.

Peildatum 2023-01-01 (period 2023 or 2023H1). Person numbers (all RINPERSOONS R unless said):

 1  child, born 2010-06-15; moved from obj 3 (gem 0003) to obj 1 (gem 0001) on 2022-07-01 and
    to obj 3 on 2023-03-01: gemeente 0001 in 2023/2023H1, 0003 in 2023H2. Parents 2 and 3.
    Household 100 (TYPHH 5, 3 persons). Stands twice in GBAPERSOONTAB (one duplicate).
 2  mother of 1 (adult): middelbaar (2022 file), SECM 22 ended 2022-12-31 (the day before).
 3  father of 1 (adult): hoog (2022 file). Hoofdkostwinner: percentile 85 in 2022.
 4  child, born 2015-01-01, obj 2 (gem2022 0002, merged into 0001 in 2023); mother 5, father
    unknown (---------). Household 200 (TYPHH 6). School 2022: BO.
 5  mother of 4: SECM 22 since 2020 (bijstand), not in HOOGSTEOPL2022 (only in the 2023 file,
    which must not be used); hoofdkostwinner: percentile 12, INHARMLAG 90.
 6  born 2000-01-01: 23 on the peildatum (out). 7  born 2000-01-02: 22 (in, 18-22), no parents.
 8  child, address ended 2022-12-31: not resident. Has a traject in 2023.
 9  RINPERSOONS S. 11  birth month missing. 12  born 2023-05-01 (after the peildatum).
13  child at obj 9, which VSLGWBTAB does not know. 16  child at obj 4, no gem2023 code.
14  child, both parents unknown; two registrations on the peildatum (obj 1 since 2010, obj 3
    since 2020: obj 3 wins) and two households (300 since 2018, 301 since 2022: 301 wins).
15  child without a household spell; a traject only in the (wrong) V1 of JGDHULP2023.
17  child born 2019-01-02 (age 3), household spell beginning on the peildatum.
HOOGSTEOPLTAB and SECMBUS hold a record with an unknown key (---------) at the highest level /
on bijstand: it must never link to a child's unknown parent.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import rin, write_sav

OPEN = "20501231"


def _persons(rows):
    return {
        "RINPERSOONS": [r[0] for r in rows], "RINPERSOON": rin(*[r[1] for r in rows]),
        "GBAGESLACHT": [r[2] for r in rows],
        "GBAGEBOORTEJAAR": [r[3][:4] for r in rows], "GBAGEBOORTEMAAND": [r[3][4:6] for r in rows],
        "GBAGEBOORTEDAG": [r[3][6:] for r in rows], "GBAGEBOORTELAND": ["6030"] * len(rows),
        "GBAHERKOMSTGROEPERING": [r[4] for r in rows], "GBAGENERATIE": [r[5] for r in rows],
    }


def jeugd_columns(rows, year):
    """JGDHULPBUS columns of rows (s, rin, hulpvorm, aanbieder, begin, eind, verwijzer, reden,
    gemeente)."""
    n = len(rows)
    out = {
        "RINPERSOONS": [r[0] for r in rows], "RINPERSOON": rin(*[r[1] for r in rows]),
        "JGDHHULPVORM": [r[2] for r in rows], "JGDHAANBIEDER": [r[3] for r in rows],
        "JGDHGELDIGHEIDBEGINDATUM": [r[4] for r in rows],
        "JGDHGELDIGHEIDEINDDATUM": [r[5] for r in rows],
        "JGDHVERWIJZER": [r[6] for r in rows], "JGDHREDENBEEINDIGING": [r[7] for r in rows],
        "JGDHGEMEENTE": [r[8] for r in rows],
        "JGDHCIJFERNUT": [float("nan")] * n, "JGDHZELFSTANDIG": [""] * n,
    }
    out["JGDHPERSPECTIEF" if year <= 2018 else "JGDHCRISIS"] = [""] * n
    return out


def write_jeugdhulp(root: Path, year: int, rows, version: int = 1) -> Path:
    return write_sav(root / "GezondheidWelzijn" / "JGDHULPBUS" /
                     f"JGDHULP{year}BUSV{version}.sav", jeugd_columns(rows, year))


# the traject of child 1 that spans three year files (2021, 2022, 2023): one traject
SPANNING = [("R", 1, "02", "P1", "20210301", "", "02", "", "0001")]
SPANNING_2023 = [("R", 1, "02", "P1", "20210301", "20230215", "02", "01", "0001")]
JGD_2023 = SPANNING_2023 + [
    ("R", 1, "02", "P4", "20230101", "20230131", "01", "01", "0001"),  # other provider
    ("R", 4, "11", "P2", "20230301", "", "04", "", "0002"),            # starts in the period
    ("R", 4, "02", "P3", "20220501", "20230110", "01", "02", "0002"),  # overlaps the next:
    ("R", 4, "02", "P3", "20230105", "20230430", "06", "03", "0001"),  # merged
    ("R", 4, "02", "P3", "20230501", "20230630", "01", "01", "0001"),  # touches: separate
    ("R", 7, "01", "P5", "20231231", "", "01", "", "0001"),            # last day of period
    ("R", 8, "03", "P1", "20230201", "", "02", "", "0003"),            # not resident
    ("S", 9, "01", "P1", "20230201", "", "02", "", "0003"),            # RINPERSOONS S
    ("R", 99, "01", "P1", "20230201", "", "02", "", "0003"),           # not in GBA
    ("R", 14, "01", "P1", "", "", "02", "", "0003"),                   # no begin date
]


def build_tree(root: Path, reclassering: bool = False) -> Path:
    """Write the tree under root (the data root) and return root."""
    bev = root / "Bevolking"
    write_sav(bev / "GBAPERSOONTAB" / "2023" / "GBAPERSOON2023TABV1.sav", _persons([
        ("R", 1, "1", "20100615", "6030", "0"), ("R", 1, "1", "20100615", "6030", "0"),
        ("R", 2, "2", "19800501", "6030", "0"), ("R", 3, "1", "19780301", "5022", "1"),
        ("R", 4, "2", "20150101", "5022", "2"), ("R", 5, "2", "19850101", "5022", "1"),
        ("R", 6, "1", "20000101", "6030", "0"), ("R", 7, "2", "20000102", "6030", "-"),
        ("R", 8, "1", "20120101", "6030", "0"), ("S", 9, "1", "20120101", "6030", "0"),
        ("R", 11, "1", "2012--01", "6030", "0"), ("R", 12, "2", "20230501", "6030", "0"),
        ("R", 13, "2", "20120101", "6030", "0"), ("R", 14, "-", "20120101", "6043", "2"),
        ("R", 15, "1", "20120101", "6030", "0"), ("R", 16, "1", "20120101", "6030", "0"),
        ("R", 17, "2", "20190102", "6030", "0"),
    ]))
    adres = [  # rin, begin, eind, object
        (1, "20100615", "20220630", 3), (1, "20220701", "20230228", 1), (1, "20230301", OPEN, 3),
        (2, "20000101", OPEN, 1), (3, "20000101", OPEN, 1), (4, "20150101", OPEN, 2),
        (5, "20150101", OPEN, 2), (6, "20000101", OPEN, 1), (7, "20000102", OPEN, 3),
        (8, "20120101", "20221231", 1), (9, "20120101", OPEN, 1), (11, "20120101", OPEN, 1),
        (13, "20120101", OPEN, 9), (14, "20100101", OPEN, 1), (14, "20200101", OPEN, 3),
        (15, "20120101", OPEN, 3), (16, "20120101", OPEN, 4), (17, "20190102", OPEN, 3),
    ]
    write_sav(bev / "GBAADRESOBJECTBUS" / "GBAADRESOBJECT2023BUSV1.sav", {
        "RINPERSOONS": ["R"] * len(adres), "RINPERSOON": rin(*[a[0] for a in adres]),
        "GBADATUMAANVANGADRESHOUDING": [a[1] for a in adres],
        "GBADATUMEINDEADRESHOUDING": [a[2] for a in adres],
        "SOORTOBJECTNUMMER": ["VBO"] * len(adres),
        "RINOBJECTNUMMER": [f"{a[3]:016d}" for a in adres]})
    write_sav(root / "BouwenWonen" / "VSLGWBTAB" / "VSLGWB2023TAB03V1.sav", {
        "SOORTOBJECTNUMMER": ["VBO"] * 4,
        "RINOBJECTNUMMER": [f"{i:016d}" for i in (1, 2, 3, 4)],
        "gem2022": ["0001", "0002", "0003", "0004"], "gem2023": ["0001", "0001", "0003", "----"],
        "wc2022": ["000101", "000201", "000301", "000401"],
        "wc2023": ["000101", "000102", "000301", "------"],
        "bc2022": ["00010101"] * 4, "bc2023": ["00010101"] * 4})
    hh = [  # rin, begin, eind, nr, typhh, plhh, size
        (1, "20150101", OPEN, 100, "5", " 1", 3.0), (2, "20150101", OPEN, 100, "5", " 5", 3.0),
        (4, "20150101", OPEN, 200, "6", " 1", 2.0), (7, "20180102", OPEN, 400, "1", " 2", 1.0),
        (14, "20180101", OPEN, 300, "5", " 1", 4.0), (14, "20220101", OPEN, 301, "7", " 9", 5.0),
        (17, "20230101", OPEN, 500, "4", " 1", 3.0), (8, "20120101", "20221231", 600, "5", " 1",
                                                      3.0),
    ]
    write_sav(bev / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav", {
        "RINPERSOONS": ["R"] * len(hh), "RINPERSOON": rin(*[h[0] for h in hh]),
        "DATUMAANVANGHH": [h[1] for h in hh], "DATUMEINDEHH": [h[2] for h in hh],
        "HUISHOUDNR": [f"{h[3]:012d}" for h in hh], "TYPHH": [h[4] for h in hh],
        "PLHH": [h[5] for h in hh], "AANTALPERSHH": [h[6] for h in hh],
        "AANTALKINDHH": [1.0] * len(hh)})
    write_sav(bev / "KINDOUDERTAB" / "KINDOUDER2023TABV1.sav", {
        "RINPERSOONS": ["R"] * 3, "RINPERSOON": rin(1, 4, 14),
        "RINPERSOONSMa": ["R", "R", "-"], "RINPERSOONMa": ["000000002", "000000005", "---------"],
        "RINPERSOONSpa": ["R", "-", "-"], "RINPERSOONpa": ["000000003", "---------", "---------"]})

    ond = root / "Onderwijs"
    write_sav(ond / "HOOGSTEOPLTAB" / "2022" / "HOOGSTEOPL2022TABV1.sav", {
        "RINPERSOONS": ["R", "R", "-"], "RINPERSOON": ["000000002", "000000003", "---------"],
        "OPLNIVSOI2021AGG4HBmetNIRWO": ["2111", "3111", "3213"],
        "GEWICHTHOOGSTEOPL": [1.0, 1.0, 1.0]})
    write_sav(ond / "HOOGSTEOPLTAB" / "2023" / "HOOGSTEOPL2023TABV1.sav", {
        "RINPERSOONS": ["R"], "RINPERSOON": rin(5),
        "OPLNIVSOI2021AGG4HBMETNIRWO": ["3111"], "GEWICHTHOOGSTEOPL": [1.0]})
    write_sav(ond / "INSCHRWPOTAB" / "INSCHRWPOTAB2022V1.sav", {
        "RINPERSOONS": ["R"] * 3, "RINPERSOON": rin(1, 4, 17),
        "WPOTYPEPO": ["SBO", "BO", "XX"], "WPOLEERJAAR": [" 6", " 3", " 1"]})
    write_sav(ond / "INSCHRWPOTAB" / "INSCHRWPOTAB2023V1.sav", {
        "RINPERSOONS": ["R"], "RINPERSOON": rin(4), "WPOTYPEPO": ["SO"],
        "WPOLEERJAAR": [" 4"]})

    inc = root / "InkomenBestedingen"
    for year, (p3, p5) in {2022: (85.0, 12.0), 2023: (15.0, 95.0)}.items():
        write_sav(inc / "INHATAB" / f"INHA{year}TABV1.sav", {
            "RINPERSOONSHKW": ["R", "R"], "RINPERSOONHKW": rin(3, 5),
            "INHP100HGEST": [p3, p5], "INHARMLAG": [250.0, 90.0],
            "INHSAMHH": ["11", "14"], "INHAHL": [3.0, 2.0]})
        write_sav(inc / "INHATAB" / f"KOPPELPERSOONHUISHOUDEN{year}TABV1.sav", {
            "RINPERSOONS": ["R"] * 2, "RINPERSOON": rin(1, 4),
            "RINPERSOONSHKW": ["R"] * 2, "RINPERSOONHKW": rin(3, 5)})
    write_sav(inc / "SECMBUS" / "SECMBUS2023V1.sav", {
        "RINPERSOONS": ["R", "R", "R", "-"],
        "RINPERSOON": ["000000002", "000000002", "000000005", "---------"],
        "AANVSECM": ["20200101", "20230101", "20200101", "20200101"],
        "EINDSECM": ["20221231", OPEN, OPEN, OPEN], "SECM": ["22", "11", "22", "22"]})

    write_jeugdhulp(root, 2021, SPANNING)
    write_jeugdhulp(root, 2022, SPANNING + [
        ("R", 4, "02", "P3", "20220501", "20230110", "01", "02", "0002"),
        ("R", 14, "01", "P1", "20220101", "20221231", "02", "01", "0003")])
    write_jeugdhulp(root, 2023, JGD_2023, version=2)
    # V1 of 2023 is wrong: it lacks trajecten and holds one of child 15 that V2 corrected away
    write_jeugdhulp(root, 2023, JGD_2023[:2] + [
        ("R", 15, "01", "P1", "20230301", "", "02", "", "0003")], version=1)
    veilig = root / "VeiligheidRecht"
    write_sav(veilig / "JGDBESCHERMBUS" / "JGDBESCHERM2023BUSV1.sav", {
        "RINPERSOONS": ["R", "R"], "RINPERSOON": rin(4, 8), "JGDBMAATREGEL": ["11", "11"],
        "JGDBGELDIGHEIDBEGINDATUM": ["20220101", "20220101"],
        "JGDBGELDIGHEIDEINDDATUM": ["", ""], "JGDBREDENEINDE": ["", ""],
        "JGDBGEMEENTE": ["0002", "0003"]})
    if reclassering:
        write_sav(veilig / "JGDRECLASSERINGBUS" / "JGDRECLASSERING2023BUSV1.sav", {
            "RINPERSOONS": ["R"], "RINPERSOON": rin(7), "JGDRMAATREGEL": ["41"],
            "JGDRGELDIGHEIDBEGINDATUM": ["20220601"], "JGDRGELDIGHEIDEINDDATUM": ["20230101"],
            "JGDRREDENEINDE": ["21"], "JGDRERKENDEINTERVENTIE": ["0"],
            "JGDRGEMEENTE": ["0003"]})
    return root
