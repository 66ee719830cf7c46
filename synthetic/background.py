"""Background registers: SECM spells, household income, highest education, primary school."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtri

from synthetic.dates import OPEN_DAY, add_years, age_at, day, uniform_days, year_of, year_start
from synthetic.population import ROLE_C, ROLE_P, Population

EDU_CODES = {
    1: np.array(["1111", "1112", "1211", "1212", "1213", "1221", "1222"], dtype=object),
    2: np.array(["2111", "2112", "2121", "2131", "2132"], dtype=object),
    3: np.array(["3111", "3112", "3113", "3211", "3212", "3213"], dtype=object),
}
WORK_CODES = np.array([11, 12, 13, 14])
OTHER_CODES = np.array([21, 23, 24, 32])


@dataclass
class Background:
    years: list                # simulated years (state matrix columns)
    secm_state: np.ndarray     # (persons, years) SECM code of each year, 0 = none
    secm: dict                 # spells: pid, begin, end, code
    inha: dict                 # year -> dict(hkw, percentile, harmlag, samhh, size)
    koppel: dict               # year -> dict(pid, hkw)
    edu_level: np.ndarray      # (persons,) 1 low, 2 mid, 3 high
    edu_code: np.ndarray       # (persons,) SOI code
    hoogsteopl: dict           # year -> dict(pid, code, weight)
    school: dict               # year -> dict(pid, type, leerjaar)


def _ar1(rng, n, years, rho):
    z = np.empty((n, years))
    z[:, 0] = rng.standard_normal(n)
    for t in range(1, years):
        z[:, t] = rho * z[:, t - 1] + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    return z


def build_background(opts, pop: Population, rng: np.random.Generator) -> Background:
    """Return SECM, income, education and school records consistent with the population."""
    per = pop.persons
    n = pop.n_persons
    years = list(range(opts.sim_start, opts.last + 1))
    ny = len(years)
    y0 = year_start(years)
    y1 = year_start([y + 1 for y in years]) - 1
    birth, entry, exit_ = per["birth"], per["entry"], per["exit"]
    ses = per["ses"].astype(float)

    # one-parent parent on 1 January, per person-year
    onep = np.zeros((n, ny), dtype=bool)
    for j, y in enumerate(years):
        s = pop.snapshots[y]
        onep[s["pid"], j] = (s["typ"] == 6) & (s["role"] == ROLE_P)

    # --------------------------------------------------------------- SECM states per year
    elig = (entry[:, None] <= y1[None, :]) & (exit_[:, None] - 1 >= y0[None, :])
    age = (y0[None, :] + 182 - birth[:, None]) / 365.25
    elig &= age >= 15.5
    z_bij = _ar1(rng, n, ny, 0.85)
    z_oth = _ar1(rng, n, ny, 0.7)
    u_stud = rng.random((n, ny))
    work = WORK_CODES[np.searchsorted(np.cumsum([0.88, 0.02, 0.07, 0.03]), rng.random(n))]
    other = OTHER_CODES[np.searchsorted(np.cumsum([0.25, 0.15, 0.45, 0.15]), rng.random(n))]
    gen1 = per["gen"] == 1
    p_bij = expit(-4.75 - 1.1 * ses[:, None] + 1.7 * onep + 0.6 * gen1[:, None])
    p_stud = expit(2.2 - 0.6 * (age - 18) + 0.5 * ses[:, None])
    st = np.where(z_bij < ndtri(p_bij), 22,
                  np.where(z_oth < ndtri(0.10), other[:, None], work[:, None]))
    st = np.where((age >= 18) & (age < 25) & (u_stud < p_stud) & (st != 22),
                  np.where(u_stud < 0.55 * p_stud, 26, 31), st)
    st = np.where(age < 18, np.where(u_stud < 0.25, 26, 31), st)
    st = np.where(age >= 67, np.where((age < 70) & (u_stud < 0.05), 11, 25), st)
    st = np.where(elig, st, 0).astype(np.int16)
    secm = _spells_from_states(rng, st, y0, y1, birth, entry, exit_)

    # --------------------------------------------------------------- income households
    inha, koppel = {}, {}
    for j, y in enumerate(years):
        s = pop.snapshots[y + 1]
        priv = s["typ"] != 8
        pid, hid, role = s["pid"][priv], s["hid"][priv], s["role"][priv]
        adult = role != ROLE_C
        score = np.where(adult, ses[pid] + rng.normal(0, 0.5, len(pid)), -99.0)
        o = np.lexsort((-score, hid))
        uh, first, inv = np.unique(hid[o], return_index=True, return_inverse=True)
        hkw_of = pid[o][first]
        # household features
        stj = st[pid, j]
        any_bij = np.bincount(inv, weights=(stj[o] == 22), minlength=len(uh)) > 0
        workers = np.bincount(inv, weights=np.isin(stj[o], WORK_CODES), minlength=len(uh))
        students = np.bincount(inv, weights=np.isin(stj[o], (26, 31)) & adult[o],
                               minlength=len(uh))
        adults = np.bincount(inv, weights=adult[o], minlength=len(uh))
        size = np.bincount(inv, minlength=len(uh))
        typ = s["typ"][priv][o][first]
        hh_ses = pop.households["ses"][uh].astype(float)
        loginc = (10.35 + 0.42 * hh_ses + 0.015 * (y - years[0]) - 0.55 * any_bij
                  + 0.22 * (workers >= 2) - 0.15 * (typ == 6) + rng.normal(0, 0.3, len(uh)))
        unobserved = ((students >= adults) & (adults > 0)) | (rng.random(len(uh)) < 0.012)
        newcomer = pop.households["mobile"][uh] & (pop.households["born"][uh] >= y0[j])
        unobserved |= newcomer & (rng.random(len(uh)) < 0.6)
        obs = ~unobserved
        rank = np.empty(len(uh))
        rank[obs] = np.argsort(np.argsort(loginc[obs], kind="stable"), kind="stable")
        pct = np.where(obs, np.ceil((rank + 1) * 100 / max(obs.sum(), 1)), -1).astype(np.int64)
        thr = np.quantile(loginc[obs], 0.085) if obs.any() else 0.0
        harmlag = np.where(obs, np.round(100 * np.exp(loginc - thr)), 999999999).astype(np.int64)
        inha[y] = {"hkw": hkw_of, "percentile": pct, "harmlag": harmlag,
                   "samhh": typ.astype(np.int64), "size": size.astype(np.int64)}
        koppel[y] = {"pid": pid[o], "hkw": hkw_of[inv]}

    # --------------------------------------------------------------- highest education
    by = year_of(birth)
    latent = ses + rng.standard_normal(n) + 0.012 * (by - 1970)
    level = np.select([latent < -0.6, latent > 0.55], [1, 3], 2).astype(np.int8)
    code = np.empty(n, dtype=object)
    for lv, codes in EDU_CODES.items():
        m = level == lv
        code[m] = codes[rng.integers(0, len(codes), m.sum())]
    u_cov = rng.random(n)
    hoogsteopl = {}
    for y in years:
        oct1 = day(y, 10, 1)
        cov = np.clip(0.42 + 0.035 * (y - years[0]) + 0.2 * (by > 1985) - 0.25 * gen1, 0.05, 0.95)
        inc = (entry <= oct1) & (exit_ > oct1) & (age_at(birth, oct1) >= 15) & (u_cov < cov)
        pid = np.flatnonzero(inc)
        w = np.round(1 / cov[pid] * rng.uniform(0.9, 1.1, len(pid)), 4)
        hoogsteopl[y] = {"pid": pid, "code": code[pid], "weight": w}

    # --------------------------------------------------------------- primary school
    trait = rng.standard_normal(n) - 0.4 * ses
    so = rng.random(n) < 0.42
    enrol = rng.random(n)
    school = {}
    for y in years:
        oct1 = day(y, 10, 1)
        a = age_at(birth, oct1)
        inc = (entry <= oct1) & (exit_ > oct1) & (a >= 4) & (a <= 12) & (enrol < 0.985)
        pid = np.flatnonzero(inc)
        thr = np.where(a[pid] >= 6, 1.95, 2.6)
        special = trait[pid] > thr
        typ = np.where(special, np.where(so[pid], "SO", "SBO"), "BO").astype(object)
        school[y] = {"pid": pid, "type": typ, "leerjaar": np.clip(a[pid] - 3, 1, 8)}

    return Background(years=years, secm_state=st, secm=secm, inha=inha, koppel=koppel,
                      edu_level=level, edu_code=code, hoogsteopl=hoogsteopl, school=school)


def _spells_from_states(rng, st, y0, y1, birth, entry, exit_) -> dict:
    """Return SECM spells: a new spell on a random day of each year whose state changes."""
    n, ny = st.shape
    prev = np.zeros_like(st)
    prev[:, 1:] = st[:, :-1]
    start = (st > 0) & (st != prev)
    p, j = np.nonzero(start)
    first = prev[p, j] == 0
    lastday = np.minimum(exit_[p] - 1, OPEN_DAY)
    begin_first = np.maximum.reduce([y0[j], entry[p], add_years(birth[p], 16)])
    begin_change = np.minimum(uniform_days(rng, y0[j] + 1, y1[j]), lastday)
    begin = np.where(first, np.minimum(begin_first, lastday), begin_change)
    same_next = np.zeros(len(p), bool)
    same_next[:-1] = p[:-1] == p[1:]
    end = np.where(same_next, np.roll(begin, -1) - 1, np.where(exit_[p] > OPEN_DAY, OPEN_DAY,
                                                                lastday))
    return {"pid": p.astype(np.int64), "begin": begin, "end": end,
            "code": st[p, j].astype(np.int64)}


def covering(begin, end, when) -> np.ndarray:
    """Return a mask of spells that cover day `when`."""
    return (begin <= when) & (end >= when)
