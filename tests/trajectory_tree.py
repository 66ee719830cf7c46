"""A hand-built RA tree of trajectories with exactly known answers (period 2023).

Every person is a child born 2010-01-01, resident at obj 1 (gemeente 0001) since birth.
JGDHULPBUS 2018-2024 are written as CBS writes them: each year file holds the trajecten active
that year; a traject ending after the year stands open (no end, no reason) in that year's file.

 1  crossing year files: 02/P1 2021-03-01 .. 2023-03-31, reason 03 (in 2021, 2022, 2023)
 2  reopened the day after closing: 02/P1 2022-01-01 .. 2023-02-28 (01), then
    02/P1 2023-03-01 open (continuation: no herhaald beroep; a new start for the uitkomst)
 3  one day between: 02/P1 2021-01-01 .. 2023-01-30 (02), then 02/P1 2023-02-01 .. 2023-06-30
    (05): herhaald beroep
 4  censored: 04/P2 2023-05-01, open in 2023 and 2024
 5  end reason missing from 2020 on (possibly a CBS-imputed end): 01/P3 2023-02-01 .. 2023-08-31
 6  start before 2015: 11/P4 2012-05-01 .. 2023-09-30 (01), then 02/P1 2023-11-01 open
    (herhaald beroep; the closed one has a new start within the next half-year)
 7  zonder verblijf 02/P1 2023-03-01 .. 2023-06-30 (01), met verblijf 11/P4 2023-10-01 open:
    a transition within 12 months, and herhaald beroep for the met-verblijf start
 8  zonder verblijf 04/P2 2023-06-01 open, met verblijf 12/P4 2024-07-01: after 13 months
 9  met verblijf 13/P4 2022-01-01 open, zonder verblijf 02/P1 2023-03-01 open: already placed

Known answers (period 2023, all in gemeente 0001):
- closed in 2023: 7 (1, 2a, 3a, 3b, 5, 6a, 7a); onbekend 1; strict uitval 1 (of 6 known);
  broad 3 (02, 03, 05).
- StatLine herhaald beroep: 9 started, 3 herhaald (3b, 6b, 7b).
- uitkomst: 7 closed, 3 without a new start (1, 3b, 5).
- transitions: noemer 7 (2, 3, 4, 5, 6, 7, 8), teller 1 (7).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import rin, write_sav

OPEN = "20501231"
YEARS = range(2018, 2025)
# rin, hulpvorm, aanbieder, begin, eind ("" open), reden
TRAJECTEN = [
    (1, "02", "P1", "20210301", "20230331", "03"),
    (2, "02", "P1", "20220101", "20230228", "01"),
    (2, "02", "P1", "20230301", "", ""),
    (3, "02", "P1", "20210101", "20230130", "02"),
    (3, "02", "P1", "20230201", "20230630", "05"),
    (4, "04", "P2", "20230501", "", ""),
    (5, "01", "P3", "20230201", "20230831", ""),
    (6, "11", "P4", "20120501", "20230930", "01"),
    (6, "02", "P1", "20231101", "", ""),
    (7, "02", "P1", "20230301", "20230630", "01"),
    (7, "11", "P4", "20231001", "", ""),
    (8, "04", "P2", "20230601", "", ""),
    (8, "12", "P4", "20240701", "", ""),
    (9, "13", "P4", "20220101", "", ""),
    (9, "02", "P1", "20230301", "", ""),
]
PERSONS = range(1, 10)


def year_rows(year: int):
    """Return the JGDHULPBUS records of one year file (trajecten active in that year)."""
    first, last = f"{year}0101", f"{year}1231"
    rows = []
    for r, hv, aanbieder, begin, eind, reden in TRAJECTEN:
        if begin > last or (eind and eind < first):
            continue
        known = eind and eind <= last
        rows.append((r, hv, aanbieder, begin, eind if known else "", reden if known else ""))
    return rows


def build_tree(root: Path, years=YEARS) -> Path:
    """Write the tree under root (the data root) and return root."""
    n = len(PERSONS)
    bev = root / "Bevolking"
    write_sav(bev / "GBAPERSOONTAB" / "2024" / "GBAPERSOON2024TABV1.sav", {
        "RINPERSOONS": ["R"] * n, "RINPERSOON": rin(*PERSONS), "GBAGESLACHT": ["1"] * n,
        "GBAGEBOORTEJAAR": ["2010"] * n, "GBAGEBOORTEMAAND": ["01"] * n,
        "GBAGEBOORTEDAG": ["01"] * n, "GBAGEBOORTELAND": ["6030"] * n,
        "GBAHERKOMSTGROEPERING": ["6030"] * n, "GBAGENERATIE": ["0"] * n})
    write_sav(bev / "GBAADRESOBJECTBUS" / "GBAADRESOBJECT2024BUSV1.sav", {
        "RINPERSOONS": ["R"] * n, "RINPERSOON": rin(*PERSONS),
        "GBADATUMAANVANGADRESHOUDING": ["20100101"] * n,
        "GBADATUMEINDEADRESHOUDING": [OPEN] * n, "SOORTOBJECTNUMMER": ["VBO"] * n,
        "RINOBJECTNUMMER": [f"{1:016d}"] * n})
    write_sav(root / "BouwenWonen" / "VSLGWBTAB" / "VSLGWB2024TAB03V1.sav", {
        "SOORTOBJECTNUMMER": ["VBO"], "RINOBJECTNUMMER": [f"{1:016d}"],
        "gem2023": ["0001"], "gem2024": ["0001"], "wc2023": ["000101"], "wc2024": ["000101"],
        "bc2023": ["00010101"], "bc2024": ["00010101"]})
    for year in years:
        rows = year_rows(year)
        m = len(rows)
        cols = {
            "RINPERSOONS": ["R"] * m, "RINPERSOON": rin(*[r[0] for r in rows]),
            "JGDHHULPVORM": [r[1] for r in rows], "JGDHAANBIEDER": [r[2] for r in rows],
            "JGDHGELDIGHEIDBEGINDATUM": [r[3] for r in rows],
            "JGDHGELDIGHEIDEINDDATUM": [r[4] for r in rows],
            "JGDHVERWIJZER": ["07" if r[3] < "2015" else "02" for r in rows],
            "JGDHREDENBEEINDIGING": [r[5] for r in rows],
            "JGDHGEMEENTE": ["0001"] * m,
            "JGDHCIJFERNUT": [8.0 if r[5] == "01" and r[4] >= "2023" else float("nan")
                              for r in rows],
            "JGDHZELFSTANDIG": ["1" if r[5] == "01" and r[4] >= "2023" else "" for r in rows],
        }
        cols["JGDHPERSPECTIEF" if year <= 2018 else "JGDHCRISIS"] = [""] * m
        write_sav(root / "GezondheidWelzijn" / "JGDHULPBUS" / f"JGDHULP{year}BUSV1.sav", cols)
    return root


def expected_duration(begin: str, eind: str | None, last="20241231") -> int:
    """Return the duration in days (inclusive) of a traject, censored at `last` when open."""
    end = pd.Timestamp(eind or last)
    return int((end - pd.Timestamp(begin)).days) + 1
