"""Demography: persons, households, legal parents, addresses, moves, births, exits.

The simulation steps through calendar years. Within a year every household has at most one
event (emigration, death, move, birth, separation, union, child leaving home, marriage, entry
into an institution) on a random day from 2 January. State on 1 January of each year is
therefore exactly the state the spells in the files describe on that peildatum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from synthetic.dates import OPEN_DAY, age_at, day, uniform_days, year_start
from synthetic.geography import Geography

ROLE_P, ROLE_C, ROLE_R, ROLE_O = 0, 1, 2, 3
EXIT_NEVER = OPEN_DAY + 1

HERKOMST = np.array(["6030", "6043", "5022", "5007", "5095", "6014", "5049", "9089"], dtype=object)
HERKOMST_P_INITIAL = np.array([0.76, 0.03, 0.03, 0.025, 0.03, 0.03, 0.02, 0.055])
HERKOMST_P_IMMIGRANT = np.array([0.06, 0.08, 0.06, 0.03, 0.22, 0.16, 0.14, 0.25])
# household types drawn for new households: single, couple, couple+kids, one-parent, other, inst
TYPES_INITIAL = np.array([0.385, 0.33, 0.20, 0.044, 0.031, 0.01])
TYPES_IMMIGRANT = np.array([0.58, 0.10, 0.25, 0.05, 0.02, 0.0])

EV_EMIG, EV_DEATH, EV_MOVE, EV_BIRTH, EV_SEP, EV_UNION, EV_LEAVE, EV_MARRY, EV_INST = range(9)
N_EVENTS = 9


class _Table:
    """Column arrays that grow by doubling."""

    def __init__(self, cap: int, dtypes: dict):
        self.n = 0
        self.cols = {k: np.zeros(cap, dtype=dt) for k, dt in dtypes.items()}

    def __getattr__(self, name):
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None

    def add(self, **vals) -> np.ndarray:
        k = len(next(iter(vals.values())))
        need = self.n + k
        cap = len(next(iter(self.cols.values())))
        if need > cap:
            new = max(need, 2 * cap)
            for name, arr in self.cols.items():
                grown = np.zeros(new, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self.cols[name] = grown
        idx = np.arange(self.n, need)
        for name, v in vals.items():
            self.cols[name][idx] = v
        self.n = need
        return idx

    def trimmed(self) -> dict:
        return {k: v[: self.n] for k, v in self.cols.items()}


@dataclass
class Population:
    """Everyone ever registered, their household and address spells and yearly snapshots."""

    persons: dict
    households: dict
    hh_spells: dict
    addr_spells: dict
    snapshots: dict = field(default_factory=dict)
    planted_overlaps: int = 0

    @property
    def n_persons(self) -> int:
        return len(self.persons["birth"])


def _sample_cat(rng, probs2d) -> np.ndarray:
    c = np.cumsum(probs2d, axis=1)
    u = rng.random(len(c)) * c[:, -1]
    return (c < u[:, None]).sum(axis=1)


def _mixture_age(rng, n, parts) -> np.ndarray:
    """parts: list of (weight, lo, hi) uniform components."""
    w = np.array([p[0] for p in parts], dtype=float)
    comp = _sample_cat(rng, np.tile(w, (n, 1)))
    lo = np.array([p[1] for p in parts])[comp]
    hi = np.array([p[2] for p in parts])[comp]
    return lo + rng.random(n) * (hi - lo)


def _new_households(rng, n: int, ref_day, immigrant: bool) -> tuple[dict, dict]:
    """Return persons (with local household index) and households of n new households."""
    probs = TYPES_IMMIGRANT if immigrant else TYPES_INITIAL
    ses = rng.normal(-0.45 if immigrant else 0.0, 1.0, n)
    w = np.tile(probs, (n, 1))
    w[:, 3] *= np.exp(-0.55 * ses)
    w[:, 2] *= np.exp(0.1 * ses)
    typ = _sample_cat(rng, w)
    herk = _sample_cat(rng, np.tile(HERKOMST_P_IMMIGRANT if immigrant else HERKOMST_P_INITIAL,
                                    (n, 1)))
    ses = ses - 0.35 * (herk > 0)
    ref_day = np.broadcast_to(np.asarray(ref_day, dtype=np.int64), (n,))

    P = {k: [] for k in ("h", "age", "sex", "role", "kid", "par")}

    def add(h, age, sex, role, kid=None, par=None):
        P["h"].append(h)
        P["age"].append(age)
        P["sex"].append(sex)
        P["role"].append(np.full(len(h), role))
        P["kid"].append(np.zeros(len(h), bool) if kid is None else kid)
        P["par"].append(np.full(len(h), -1) if par is None else par)

    # singles (and institutional residents)
    for t, parts in ((0, [(0.4, 18, 35), (0.35, 35, 65), (0.25, 65, 95)]), (5, [(1, 76, 100)])):
        h = np.flatnonzero(typ == t)
        age = _mixture_age(rng, len(h), parts)
        sex = np.where(rng.random(len(h)) < (0.65 if t == 5 else 0.5), 2, 1)
        add(h, age, sex, ROLE_P)
    # couples without children
    h = np.flatnonzero(typ == 1)
    fa = _mixture_age(rng, len(h), [(0.45, 20, 40), (0.55, 45, 85)])
    add(h, fa, np.full(len(h), 2), ROLE_P)
    add(h, np.maximum(fa + rng.normal(2, 3, len(h)), 18.5), np.full(len(h), 1), ROLE_P)
    # families: couple with kids (2) and one-parent (3)
    h2 = np.flatnonzero(typ == 2)
    h3 = np.flatnonzero(typ == 3)
    mo2 = rng.uniform(22, 52, len(h2))
    nk2 = _sample_cat(rng, np.tile([0.42, 0.41, 0.13, 0.04], (len(h2), 1))) + 1
    p3_female = rng.random(len(h3)) < 0.85
    pa3 = np.where(p3_female, rng.uniform(21, 55, len(h3)), rng.uniform(26, 58, len(h3)))
    nk3 = _sample_cat(rng, np.tile([0.5, 0.37, 0.13], (len(h3), 1))) + 1
    hk = np.concatenate([np.repeat(h2, nk2), np.repeat(h3, nk3)])
    parent_age = np.concatenate([np.repeat(mo2, nk2), np.repeat(pa3, nk3)])
    kid_age = rng.random(len(hk)) * np.minimum(parent_age - 19.0, 24.0)
    oldest = np.zeros(n)
    np.maximum.at(oldest, hk, kid_age)
    add(h2, mo2, np.full(len(h2), 2), ROLE_P, par=np.full(len(h2), 2))
    fa2 = np.maximum(mo2 + rng.normal(2.5, 3, len(h2)), oldest[h2] + 19.0)
    add(h2, fa2, np.full(len(h2), 1), ROLE_P, par=np.full(len(h2), 1))
    add(h3, pa3, np.where(p3_female, 2, 1), ROLE_P, par=np.where(p3_female, 2, 1))
    add(hk, kid_age, np.where(rng.random(len(hk)) < 0.5, 1, 2), ROLE_C,
        kid=np.ones(len(hk), bool))
    # other households: 2-3 unrelated young adults
    h4 = np.flatnonzero(typ == 4)
    k4 = np.where(rng.random(len(h4)) < 0.6, 2, 3)
    add(h4, rng.uniform(19, 32, len(h4)), np.where(rng.random(len(h4)) < 0.5, 1, 2), ROLE_R)
    ho = np.repeat(h4, k4 - 1)
    add(ho, rng.uniform(19, 32, len(ho)), np.where(rng.random(len(ho)) < 0.5, 1, 2), ROLE_O)

    pers = {k: np.concatenate(v) for k, v in P.items()}
    order = np.argsort(pers["h"], kind="stable")
    pers = {k: v[order] for k, v in pers.items()}
    age = pers["age"]
    pers["birth"] = ref_day[pers["h"]] - 1 - np.floor(age * 365.25).astype(np.int64)
    hh_herk = herk[pers["h"]]
    foreign = hh_herk > 0
    adult = ~pers["kid"]
    gen = np.zeros(len(age), dtype=np.int8)
    if immigrant:
        gen[foreign] = 1
    else:
        gen1 = rng.random(len(age)) < 0.55
        gen[foreign & adult] = np.where(gen1[foreign & adult], 1, 2)
        gen[foreign & ~adult] = 2
    pers["gen"] = gen
    pers["herk"] = np.where(gen > 0, hh_herk, 0)
    pers["land"] = np.where(gen == 1, hh_herk, 0)
    hh = {"typ": typ, "ses": ses, "married": (typ == 2) & (rng.random(n) < 0.7)
          | (typ == 1) & (rng.random(n) < 0.55), "inst": typ == 5, "mobile": np.full(n, immigrant)}
    return pers, hh


def simulate_population(opts, geo: Geography, rng: np.random.Generator, progress=None
                        ) -> Population:
    """Return the simulated population from 1 January of opts.sim_start to the end of opts.last."""
    S, L = opts.sim_start, opts.last
    T0 = day(S)
    n_init_hh = int(opts.persons * 0.985 / 2.05)
    cap_p = int(opts.persons * 1.5) + 1000
    cap_h = int(opts.persons) + 1000
    P = _Table(cap_p, dict(birth=np.int64, sex=np.int8, herk=np.int8, gen=np.int8, land=np.int8,
                           mother=np.int64, father=np.int64, ses=np.float32, hh=np.int64,
                           role=np.int8, hh_start=np.int64, ad_start=np.int64, entry=np.int64,
                           exit=np.int64))
    H = _Table(cap_h, dict(addr=np.int64, married=bool, inst=bool, mobile=bool, ses=np.float32,
                           born=np.int64))
    hh_sp = {k: [] for k in ("pid", "begin", "end", "hid", "typ", "plhh", "size", "nkid")}
    ad_sp = {k: [] for k in ("pid", "begin", "end", "addr")}
    snapshots = {}

    def create(n, date_lo, date_hi, immigrant):
        pers, hhs = _new_households(rng, n, date_hi if not immigrant else date_lo, immigrant)
        gem = geo.choose_gemeente(rng, hhs["ses"])
        addr = np.where(hhs["inst"], geo.inst_addr[gem], geo.random_address(rng, gem))
        hid = H.add(addr=addr, married=hhs["married"], inst=hhs["inst"], mobile=hhs["mobile"],
                    ses=hhs["ses"], born=np.asarray(date_lo) if immigrant else date_hi)
        gh = hid[pers["h"]]
        m = len(gh)
        pid = P.add(birth=pers["birth"], sex=pers["sex"], herk=pers["herk"], gen=pers["gen"],
                    land=pers["land"], mother=np.full(m, -1), father=np.full(m, -1),
                    ses=hhs["ses"][pers["h"]] + rng.normal(0, 0.3, m), hh=gh, role=pers["role"],
                    hh_start=0, ad_start=0, entry=0, exit=EXIT_NEVER)
        # legal parents inside the household
        kid = pers["kid"]
        first = np.searchsorted(pers["h"], np.arange(n))
        mo = np.full(n, -1)
        fa = np.full(n, -1)
        isma, ispa = pers["par"] == 2, pers["par"] == 1
        mo[pers["h"][isma]] = pid[isma]
        fa[pers["h"][ispa]] = pid[ispa]
        del first
        kid_mo = mo[pers["h"][kid]]
        kid_fa = fa[pers["h"][kid]]
        # a step-father: not the legal father
        step = rng.random(kid.sum()) < 0.05
        kid_fa = np.where(step & (hhs["typ"][pers["h"][kid]] == 2), -1, kid_fa)
        P.mother[pid[kid]] = kid_mo
        P.father[pid[kid]] = kid_fa
        return pid, hid, pers, hhs

    # ---------------------------------------------------------------- initial population
    pid, hid, pers, hhs = create(n_init_hh, T0, T0, immigrant=False)
    formed = T0 - 1 - np.floor(rng.random(len(hid)) * 3650).astype(np.int64)
    moved = T0 - 1 - np.floor(rng.random(len(hid)) * 5475).astype(np.int64)
    birth = P.birth[pid]
    hstart = formed.copy()
    np.maximum.at(hstart, pers["h"], birth)
    P.hh_start[pid] = hstart[pers["h"]]
    P.ad_start[pid] = np.maximum(birth, moved[pers["h"]])
    P.entry[pid] = P.ad_start[pid]
    _link_absent_parents(rng, P, pid, pers, hhs)

    years = list(range(S, L + 1))
    it = progress(years, desc="demography", unit="yr") if progress else years
    for y in it:
        y0 = int(year_start([y])[0])
        y1 = int(year_start([y + 1])[0]) - 1
        np_, nh = P.n, H.n
        res = np.flatnonzero(P.hh[:np_] >= 0)
        comp = _composition(P, H, res)
        snapshots[y] = _snapshot(P, H, res, comp)
        _year_events(rng, geo, P, H, res, comp, y0, y1, hh_sp, ad_sp)
        # immigration
        n_imm = int(round(len(res) * 0.0085 / 1.75))
        if n_imm > 0:
            dates = uniform_days(rng, np.full(n_imm, y0 + 1), y1)
            pid, hid, pers, hhs = create(n_imm, dates, dates, immigrant=True)
            d = dates[pers["h"]]
            P.hh_start[pid] = d
            P.ad_start[pid] = np.maximum(d, P.birth[pid])
            P.entry[pid] = d
            P.birth[pid] = np.minimum(P.birth[pid], d - 1)
        del np_, nh

    res = np.flatnonzero(P.hh[: P.n] >= 0)
    comp = _composition(P, H, res)
    snapshots[L + 1] = _snapshot(P, H, res, comp)
    _close_hh(P, H, res, comp, np.full(len(res), OPEN_DAY), hh_sp)
    _close_addr(P, H, res, np.full(len(res), OPEN_DAY), ad_sp, P.hh[res])

    persons = P.trimmed()
    households = H.trimmed()
    hh_spells = {k: np.concatenate(v) for k, v in hh_sp.items()}
    addr_spells = {k: np.concatenate(v) for k, v in ad_sp.items()}
    n_overlap = _plant_overlaps(rng, addr_spells)
    return Population(persons=persons, households=households, hh_spells=hh_spells,
                      addr_spells=addr_spells, snapshots=snapshots, planted_overlaps=n_overlap)


def _link_absent_parents(rng, P, pid, pers, hhs):
    """Give children of one-parent households their other legal parent (or leave unknown)."""
    kid = pers["kid"]
    h = pers["h"]
    onep = hhs["typ"][h] == 3
    sel = np.flatnonzero(kid & onep)
    if len(sel) == 0:
        return
    kp = pid[sel]
    # one absent parent per household, adult at the oldest child's birth
    hh_of = h[sel]
    order = np.lexsort((P.birth[kp], hh_of))
    uh, first = np.unique(hh_of[order], return_index=True)
    oldest_birth = P.birth[kp[order[first]]]
    need_father = P.father[kp[order[first]]] < 0
    adults = pid[~kid]
    chosen = np.full(len(uh), -1)
    for sex, want in ((1, need_father), (2, ~need_father)):
        pool = adults[P.sex[adults] == sex]
        pool = pool[np.argsort(P.birth[pool], kind="stable")]
        pb = P.birth[pool]
        lo = np.searchsorted(pb, oldest_birth - int(45 * 365.25))
        hi = np.searchsorted(pb, oldest_birth - int(19 * 365.25))
        ok = want & (hi > lo) & (rng.random(len(uh)) < 0.88)
        pick = lo + np.floor(rng.random(len(uh)) * np.maximum(hi - lo, 1)).astype(np.int64)
        chosen = np.where(ok, pool[np.minimum(pick, len(pool) - 1)], chosen)
    per_hh = np.full(h.max() + 1, -1)
    per_hh[uh] = chosen
    other = per_hh[hh_of]
    nf = P.father[kp] < 0
    P.father[kp] = np.where(nf, other, P.father[kp])
    P.mother[kp] = np.where(~nf & (P.mother[kp] < 0), other, P.mother[kp])


def _composition(P, H, res) -> dict:
    """Return household counts and TYPHH of every household, from its current residents."""
    nh = H.n
    h = P.hh[res]
    r = P.role[res]
    nP = np.bincount(h[r == ROLE_P], minlength=nh)
    nC = np.bincount(h[r == ROLE_C], minlength=nh)
    nRO = np.bincount(h[(r == ROLE_R) | (r == ROLE_O)], minlength=nh)
    married = H.married[:nh]
    inst = H.inst[:nh]
    typ = np.select(
        [inst, nRO > 0, (nP == 1) & (nC == 0), (nP == 2) & (nC == 0) & ~married,
         (nP == 2) & (nC == 0) & married, (nP == 2) & (nC > 0) & ~married,
         (nP == 2) & (nC > 0) & married, (nP == 1) & (nC > 0)],
        [8, 7, 1, 2, 3, 4, 5, 6], 7).astype(np.int8)
    return {"nP": nP, "nC": nC, "nRO": nRO, "size": nP + nC + nRO, "typ": typ}


_PLHH_OF_P = np.array([0, 2, 3, 4, 5, 6, 7, 8, 10], dtype=np.int8)


def plhh_of(role, typ) -> np.ndarray:
    """Return PLHH (1-10) from role in the household and TYPHH."""
    return np.select(
        [typ == 8, role == ROLE_C, role == ROLE_R, role == ROLE_O],
        [10, np.where(np.isin(typ, (4, 5, 6)), 1, 9), 8, 9],
        _PLHH_OF_P[typ]).astype(np.int8)


def _snapshot(P, H, res, comp) -> dict:
    h = P.hh[res]
    return {"pid": res.astype(np.int64), "hid": h, "role": P.role[res].copy(),
            "typ": comp["typ"][h], "addr": H.addr[h].copy(), "size": comp["size"][h]}


def _close_hh(P, H, pids, comp, end, hh_sp):
    h = P.hh[pids]
    typ = comp["typ"][h]
    hh_sp["pid"].append(pids.astype(np.int64))
    hh_sp["begin"].append(P.hh_start[pids].copy())
    hh_sp["end"].append(np.asarray(end, dtype=np.int64))
    hh_sp["hid"].append(h.copy())
    hh_sp["typ"].append(typ)
    hh_sp["plhh"].append(plhh_of(P.role[pids], typ))
    hh_sp["size"].append(comp["size"][h])
    hh_sp["nkid"].append(np.where(np.isin(typ, (4, 5, 6)), comp["nC"][h], 0))


def _close_addr(P, H, pids, end, ad_sp, hh_before):
    ad_sp["pid"].append(pids.astype(np.int64))
    ad_sp["begin"].append(P.ad_start[pids].copy())
    ad_sp["end"].append(np.asarray(end, dtype=np.int64))
    ad_sp["addr"].append(H.addr[hh_before].copy())


def _year_events(rng, geo, P, H, res, comp, y0, y1, hh_sp, ad_sp):
    """Draw and apply one year's household events."""
    nh = H.n
    size = comp["size"]
    typ = comp["typ"]
    sex = P.sex[res]
    role = P.role[res]
    h_of = P.hh[res]
    age = (y0 + 182 - P.birth[res]) / 365.25
    fem = np.full(nh, -1)
    male = np.full(nh, -1)
    isP = role == ROLE_P
    fem[h_of[isP & (sex == 2)]] = res[isP & (sex == 2)]
    male[h_of[isP & (sex == 1)]] = res[isP & (sex == 1)]
    # oldest child and oldest adult per household
    kids = res[role == ROLE_C]
    o = np.lexsort((P.birth[kids], P.hh[kids]))
    uh, first = np.unique(P.hh[kids][o], return_index=True)
    oldest_kid = np.full(nh, -1)
    oldest_kid[uh] = kids[o][first]
    adults = res[role != ROLE_C]
    o = np.lexsort((P.birth[adults], P.hh[adults]))
    uh, first = np.unique(P.hh[adults][o], return_index=True)
    oldest_ad = np.full(nh, -1)
    oldest_ad[uh] = adults[o][first]

    def age_of(pids):
        return np.where(pids >= 0, (y0 + 182 - P.birth[np.maximum(pids, 0)]) / 365.25, -1.0)

    hz = np.zeros((nh, N_EVENTS))
    alive = size > 0
    inst = H.inst[:nh]
    normal = alive & ~inst
    a_old = age_of(oldest_ad)
    a_fem = age_of(fem)
    a_kid = age_of(oldest_kid)
    nC, nP = comp["nC"], comp["nP"]
    ses = H.ses[:nh]
    hz[:, EV_EMIG] = normal * (0.004 + 0.03 * H.mobile[:nh] + 0.006 * (typ == 1) * (a_old < 35))
    # death: adults in households without children, hazard summed over adults
    d_adult = np.minimum(0.6, np.exp(-10.4 + 0.095 * age)) * (role != ROLE_C)
    hdeath = np.bincount(h_of, weights=d_adult, minlength=nh)
    hz[:, EV_DEATH] = alive * (nC == 0) * np.minimum(hdeath * np.where(inst, 1.6, 1.0), 0.7)
    hz[:, EV_MOVE] = normal * np.where(nC > 0, 0.06, 0.07 + 0.08 * (a_old < 35))
    birth_base = np.select([nC == 0, nC == 1, nC == 2], [0.125, 0.13, 0.04], 0.012)
    fertile = (a_fem >= 20) & (a_fem < 43)
    hz[:, EV_BIRTH] = normal * fertile * np.select(
        [nP == 2, typ == 6, typ == 1], [birth_base, 0.02, 0.012 * (a_fem < 40)], 0.0)
    couple = (nP == 2) & normal
    hz[:, EV_SEP] = couple * np.where(
        nC > 0, 0.012 * np.exp(-0.35 * ses) * np.where(H.married[:nh], 0.7, 1.4), 0.035)
    hz[:, EV_UNION] = normal * (((typ == 1) & (a_old >= 20) & (a_old < 65)) * 0.075
                               + ((typ == 6) & (fem >= 0)) * 0.08)
    hz[:, EV_LEAVE] = normal * (oldest_kid >= 0) * np.select(
        [a_kid < 17.5, a_kid < 19, a_kid < 21, a_kid < 24], [0, 0.12, 0.25, 0.35], 0.6)
    hz[:, EV_MARRY] = couple * ~H.married[:nh] * 0.045
    hz[:, EV_INST] = normal * (typ == 1) * (a_old >= 80) * 0.04
    tot = hz.sum(axis=1)
    scale = np.where(tot > 0.9, 0.9 / np.maximum(tot, 1e-12), 1.0)
    cum = np.cumsum(hz * scale[:, None], axis=1)
    u = rng.random(nh)
    ev = (cum < u[:, None]).sum(axis=1)
    ev[~alive | (tot == 0)] = N_EVENTS
    d_h = uniform_days(rng, np.full(nh, y0 + 1), y1)

    # pair unions: women (single or one-parent mothers) with single men of similar age
    un = ev == EV_UNION
    W = np.flatnonzero(un & (fem >= 0))
    M = np.flatnonzero(un & (typ == 1) & (male >= 0))
    k = min(len(W), len(M))
    W = rng.permutation(W)[:k]
    M = rng.permutation(M)[:k]
    W = W[np.argsort(P.birth[fem[W]], kind="stable")]
    M = M[np.argsort(P.birth[male[M]], kind="stable")]
    ev[un] = N_EVENTS
    ev[W] = EV_UNION
    ev[M] = EV_UNION
    d_h[M] = d_h[W]
    partner_hh = np.full(nh, -1)
    partner_hh[M] = W

    changed = (ev != N_EVENTS) & (ev != EV_MOVE)
    in_changed = changed[h_of]
    # 1. close household spells (composition before the change)
    closing = res[in_changed]
    _close_hh(P, H, closing, comp, d_h[P.hh[closing]] - 1, hh_sp)

    # 2. who leaves, exits or moves
    ev_p = ev[h_of]
    exit_p = (ev_p == EV_EMIG) | (
        (ev_p == EV_DEATH) & (res == oldest_ad[h_of]))
    sep_p = (ev_p == EV_SEP) & (res == male[h_of])
    union_p = (ev_p == EV_UNION) & (partner_hh[h_of] >= 0)
    leave_p = (ev_p == EV_LEAVE) & (res == oldest_kid[h_of])
    move_p = (ev_p == EV_MOVE) | (ev_p == EV_INST)
    addr_change = exit_p | sep_p | union_p | leave_p | move_p
    ac = res[addr_change]
    d_ac = d_h[P.hh[ac]]
    _close_addr(P, H, ac, d_ac - 1, ad_sp, P.hh[ac])

    # 3. apply
    ex = res[exit_p]
    P.exit[ex] = d_h[P.hh[ex]]
    P.hh[ex] = -1
    mv = np.flatnonzero(ev == EV_MOVE)
    gem_now = geo.addr_gem[H.addr[mv]]
    other = rng.random(len(mv)) < 0.35
    dest = np.where(other, geo.choose_gemeente(rng, H.ses[mv]), gem_now)
    H.addr[mv] = geo.random_address(rng, dest)
    ins = np.flatnonzero(ev == EV_INST)
    H.inst[ins] = True
    H.addr[ins] = geo.inst_addr[geo.addr_gem[H.addr[ins]]]
    mar = np.flatnonzero(ev == EV_MARRY)
    H.married[mar] = True
    H.married[W] = False
    # union: the man joins the woman's household
    men = res[union_p]
    P.hh[men] = partner_hh[P.hh[men]]
    P.role[men] = ROLE_P
    # separation and leaving home: a new single household at a new address
    leavers = np.concatenate([res[sep_p], res[leave_p]])
    if len(leavers):
        old_h = P.hh[leavers]
        d_new = d_h[old_h]
        gem_old = geo.addr_gem[H.addr[old_h]]
        other = rng.random(len(leavers)) < 0.4
        new_ses = np.where(P.role[leavers] == ROLE_C, 0.5 * H.ses[old_h] + rng.normal(
            0, 0.85, len(leavers)), H.ses[old_h] + rng.normal(0, 0.3, len(leavers)))
        dest = np.where(other, geo.choose_gemeente(rng, new_ses), gem_old)
        new_h = H.add(addr=geo.random_address(rng, dest), married=False, inst=False,
                      mobile=False, ses=new_ses, born=d_new)
        P.hh[leavers] = new_h
        P.role[leavers] = ROLE_P
        d_h = np.concatenate([d_h, d_new])
        changed = np.concatenate([changed, np.ones(len(new_h), bool)])
    # births
    bh = np.flatnonzero(ev == EV_BIRTH)
    if len(bh):
        mo = fem[bh]
        fa = male[bh]
        unknown = (fa < 0) & (rng.random(len(bh)) < 0.5)
        fa = np.where((fa < 0) & ~unknown, _random_men(rng, res, sex, age, len(bh)), fa)
        fa = np.where(unknown, -1, fa)
        mgen = P.gen[mo]
        fgen = np.where(fa >= 0, P.gen[np.maximum(fa, 0)], 0)
        gen = np.where((mgen == 1) | (fgen == 1), 2, 0).astype(np.int8)
        herk = np.where(gen == 2, np.where(P.herk[mo] > 0, P.herk[mo],
                                            P.herk[np.maximum(fa, 0)]), 0)
        d = d_h[bh]
        P.add(birth=d, sex=np.where(rng.random(len(bh)) < 0.512, 1, 2), herk=herk, gen=gen,
              land=0, mother=mo, father=fa, ses=H.ses[bh] + rng.normal(0, 0.3, len(bh)),
              hh=bh, role=ROLE_C, hh_start=d, ad_start=d, entry=d, exit=EXIT_NEVER)
    # a household left with one 'other' member becomes a single
    res2 = np.flatnonzero(P.hh[: P.n] >= 0)
    comp2 = _composition(P, H, res2)
    lone = (comp2["nP"] == 0) & (comp2["nC"] == 0) & (comp2["nRO"] == 1)
    fix = res2[lone[P.hh[res2]]]
    P.role[fix] = ROLE_P
    # 4. open new spells
    opening = res2[changed[P.hh[res2]]]
    P.hh_start[opening] = d_h[P.hh[opening]]
    still = ac[P.hh[ac] >= 0]
    P.ad_start[still] = d_h[P.hh[still]] if len(still) else P.ad_start[still]


def _random_men(rng, res, sex, age, n) -> np.ndarray:
    pool = res[(sex == 1) & (age >= 22) & (age < 55)]
    return pool[rng.integers(0, len(pool), n)] if len(pool) else np.full(n, -1)


def _plant_overlaps(rng, sp) -> int:
    """Extend a few address spells past the next spell's begin (within the same year)."""
    order = np.lexsort((sp["begin"], sp["pid"]))
    for k in sp:
        sp[k] = sp[k][order]
    pid, begin, end = sp["pid"], sp["begin"], sp["end"]
    has_next = np.zeros(len(pid), bool)
    has_next[:-1] = pid[:-1] == pid[1:]
    nxt_begin = np.roll(begin, -1)
    nxt_end = np.roll(end, -1)
    dec31 = year_start(np.asarray(
        nxt_begin.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1971)) - 1
    cand = np.flatnonzero(has_next & (end == nxt_begin - 1) & (nxt_end > nxt_begin + 30)
                          & (dec31 - nxt_begin > 30))
    pick = cand[rng.random(len(cand)) < 0.004]
    extra = rng.integers(1, 21, len(pick))
    end[pick] = np.minimum(nxt_begin[pick] - 1 + extra, dec31[pick])
    return int(len(pick))


def ages_on(persons, when) -> np.ndarray:
    """Return every person's completed age on day `when`."""
    return age_at(persons["birth"], when)
