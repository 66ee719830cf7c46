"""The person-year frame, derived from the generated registers the way the kit derives it.

For period Y (peildatum 1 January Y): residents (an address spell covers the peildatum; with
overlapping spells the latest begin wins) aged 0-22 with RINPERSOONS R, and

* ``one_parent``: the household spell on the peildatum has TYPHH 6;
* ``bijstand``: a legal parent (KINDOUDERTAB) has a SECM 22 spell covering the peildatum;
* ``income``: household income percentile from INHATAB of Y-1 via KOPPELPERSOONHUISHOUDEN of Y-1,
  ``q1`` (1-20), ``q2_5`` (21-100) or ``unknown`` (no record or negative percentile);
* ``parent_edu``: the higher level of the two legal parents in HOOGSTEOPLTAB of Y-1 (the latest
  file at or before the peildatum), ``high``/``mid``/``low``/``unknown``;
* ``speciaal_onderwijs``: WPOTYPEPO SBO or SO in INSCHRWPOTAB of Y-1 (the school year covering
  the peildatum);
* ``gemeente``: gemeente of the address on the peildatum in the classification year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic.background import Background, covering
from synthetic.dates import age_at, day
from synthetic.geography import Geography
from synthetic.population import Population

INCOME_CATS = ["q2_5", "q1", "unknown"]
EDU_CATS = ["high", "mid", "low", "unknown"]


def _dense(n, idx, val, fill=-1, dtype=np.int64):
    out = np.full(n, fill, dtype=dtype)
    out[idx] = val
    return out


def person_year_frame(opts, geo: Geography, pop: Population, bg: Background) -> pd.DataFrame:
    """Return one row per resident aged 0-22 per jeugd year, with the model covariates."""
    n = pop.n_persons
    per = pop.persons
    ad, hs, se = pop.addr_spells, pop.hh_spells, bg.secm
    frames = []
    for Y in range(opts.jeugd_start, opts.last + 1):
        P = day(Y)
        m = covering(ad["begin"], ad["end"], P)
        pid, addr, beg = ad["pid"][m], ad["addr"][m], ad["begin"][m]
        o = np.lexsort((-beg, pid))
        pid, addr = pid[o], addr[o]
        keep = np.ones(len(pid), bool)
        keep[1:] = pid[1:] != pid[:-1]
        pid, addr = pid[keep], addr[keep]
        age = age_at(per["birth"][pid], P)
        sel = age <= 22
        pid, addr, age = pid[sel], addr[sel], age[sel]
        mh = covering(hs["begin"], hs["end"], P)
        typ = _dense(n, hs["pid"][mh], hs["typ"][mh])[pid]
        ms = covering(se["begin"], se["end"], P) & (se["code"] == 22)
        bij = np.zeros(n, bool)
        bij[se["pid"][ms]] = True
        mo, fa = per["mother"][pid], per["father"][pid]
        bijstand = (mo >= 0) & bij[np.maximum(mo, 0)] | (fa >= 0) & bij[np.maximum(fa, 0)]
        k, inha = bg.koppel[Y - 1], bg.inha[Y - 1]
        pct_of_hkw = _dense(n, inha["hkw"], inha["percentile"], fill=-9)
        hkw = _dense(n, k["pid"], k["hkw"])[pid]
        pct = np.where(hkw >= 0, pct_of_hkw[np.maximum(hkw, 0)], -9)
        income = np.select([pct < 1, pct <= 20], [2, 1], 0)
        he = bg.hoogsteopl[Y - 1]
        lvl = _dense(n, he["pid"], bg.edu_level[he["pid"]], fill=0)
        plev = np.maximum(np.where(mo >= 0, lvl[np.maximum(mo, 0)], 0),
                          np.where(fa >= 0, lvl[np.maximum(fa, 0)], 0))
        edu = np.select([plev == 3, plev == 2, plev == 1], [0, 1, 2], 3)
        sc = bg.school[Y - 1]
        special = np.zeros(n, bool)
        special[sc["pid"][sc["type"] != "BO"]] = True
        base_gem = geo.addr_gem[addr]
        frames.append(pd.DataFrame({
            "pid": pid, "year": Y, "age": age.astype(np.int8),
            "sex": per["sex"][pid], "one_parent": (typ == 6).astype(np.int8),
            "bijstand": bijstand.astype(np.int8),
            "income": pd.Categorical.from_codes(income, INCOME_CATS),
            "parent_edu": pd.Categorical.from_codes(edu, EDU_CATS),
            "speciaal_onderwijs": special[pid].astype(np.int8),
            "gemeente": geo.class_index[base_gem], "base_gemeente": base_gem,
        }))
    return pd.concat(frames, ignore_index=True)
