"""Jeugd use drawn from the planted model, and the trajecten and maatregelen built from it.

Each indicator (jeugdhulp, each form of care, jeugdbescherming, jeugdreclassering) is drawn per
person-year as ``1[z < Phi^-1(p)]`` where ``p`` is the planted probability and ``z`` a standard
normal that follows an AR(1) process over a person's years (a Gaussian copula). The marginal
probability in every year is therefore exactly ``p`` (the planted logit), while use persists over
years. A run of consecutive years with an indicator becomes one traject (or maatregel) that begins
in the run's first year and ends in its last, so it stands in each year file it overlaps. Within a
period of use (consecutive years with jeugdhulp) most successive trajecten are then made
contiguous (``_contiguous``), so that herhaald beroep counts returns after a break only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit, ndtri

from synthetic import config as C
from synthetic.dates import OPEN_DAY, add_years, day, uniform_days, year_of, year_start

FORMS = ["wijkteam", "ambulant", "daghulp", "netwerk", "met_verblijf"]
FORM_CODE = {"wijkteam": "01", "ambulant": "02", "daghulp": "03", "netwerk": "04"}


@dataclass
class Jeugd:
    frame: pd.DataFrame        # person-year frame with drawn indicators and probabilities
    trajecten: pd.DataFrame
    bescherming: pd.DataFrame
    reclassering: pd.DataFrame
    intercepts: dict           # calibrated age x sex intercepts of each model
    wijkteam: pd.DataFrame     # gemeente x year: planted and realised wijkteam share, p_v
    other_persons: dict        # RINPERSOONS S/I persons in jeugd files


def design(frame: pd.DataFrame) -> dict:
    """Return the 0/1 covariates of the planted model (reference: none of them)."""
    return {
        "one_parent": frame["one_parent"].to_numpy(np.float64),
        "bijstand": frame["bijstand"].to_numpy(np.float64),
        "income_q1": (frame["income"] == "q1").to_numpy(np.float64),
        "income_unknown": (frame["income"] == "unknown").to_numpy(np.float64),
        "speciaal_onderwijs": frame["speciaal_onderwijs"].to_numpy(np.float64),
        "parent_edu_low": (frame["parent_edu"] == "low").to_numpy(np.float64),
        "parent_edu_mid": (frame["parent_edu"] == "mid").to_numpy(np.float64),
        "parent_edu_unknown": (frame["parent_edu"] == "unknown").to_numpy(np.float64),
    }


def _calibrate(lin, cell, n_cells, target, mask) -> np.ndarray:
    """Return per-cell intercepts so that the mean probability in each cell hits its target."""
    alpha = logit(np.clip(target, 1e-4, 0.9))
    c = cell[mask]
    x = lin[mask]
    cnt = np.maximum(np.bincount(c, minlength=n_cells), 1)
    for _ in range(12):
        p = expit(alpha[c] + x)
        g = np.bincount(c, weights=p, minlength=n_cells) / cnt - target
        h = np.bincount(c, weights=p * (1 - p), minlength=n_cells) / cnt
        alpha = alpha - g / np.maximum(h, 1e-6)
    return alpha


def _latent(rng, ids, yidx, n_ids, n_years, rho) -> np.ndarray:
    z = np.empty((n_ids, n_years), dtype=np.float32)
    z[:, 0] = rng.standard_normal(n_ids)
    s = np.float32(np.sqrt(1 - rho * rho))
    for t in range(1, n_years):
        z[:, t] = rho * z[:, t - 1] + s * rng.standard_normal(n_ids, dtype=np.float32)
    return z[ids, yidx].astype(np.float64)


def draw_use(opts, geo, pop, frame: pd.DataFrame, rng) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Add drawn indicators (and their probabilities) to the frame."""
    f = frame
    Y = f["year"].to_numpy()
    ref = opts.reference_year
    years = np.arange(opts.jeugd_start, opts.last + 1)
    ny = len(years)
    yidx = Y - opts.jeugd_start
    ids, pid_codes = np.unique(f["pid"].to_numpy(), return_inverse=True)
    nid = len(ids)
    age = f["age"].to_numpy().astype(np.int64)
    boy = (f["sex"].to_numpy() == 1)
    cell = age * 2 + (~boy)
    g = f["gemeente"].to_numpy()
    X = design(f)
    is_ref = Y == ref

    # ---- jeugdhulp
    lin = sum(C.JEUGDHULP_COEF[k] * X[k] for k in C.JEUGDHULP_COEF) + geo.effect[g]
    target = np.empty(46)
    target[0::2] = C.JEUGDHULP_TARGET_BOYS
    target[1::2] = C.JEUGDHULP_TARGET_GIRLS
    alpha = _calibrate(lin, cell, 46, target, is_ref)
    kid_ref = is_ref & (age <= 17)
    scale = C.JEUGDHULP_UNDER18 / expit(alpha[cell[kid_ref]] + lin[kid_ref]).mean()
    target[:36] *= scale
    alpha = _calibrate(lin, cell, 46, target, is_ref)
    eta = alpha[cell] + lin + C.JEUGDHULP_TREND * (Y - ref)
    p_u = expit(eta)
    u = _latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE["jeugdhulp"]) < ndtri(p_u)

    # ---- forms of care among users
    G = len(geo.class_code)
    mid = (opts.first + opts.last) / 2
    wstar = np.clip(geo.wijkteam_level[:, None] + geo.wijkteam_slope[:, None]
                    * (np.arange(opts.sim_start, opts.last + 1)[None, :] - mid), 0.02, 0.6)
    p_w = wstar[g, Y - opts.sim_start]
    w = u & (_latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE["wijkteam"]) < ndtri(p_w))
    users_gy = np.bincount(g * ny + yidx, weights=u, minlength=G * ny).reshape(G, ny)
    w_gy = np.bincount(g * ny + yidx, weights=w, minlength=G * ny).reshape(G, ny)
    W_real = np.where(users_gy > 0, w_gy / np.maximum(users_gy, 1), wstar[:, 1:])
    W_lag = np.concatenate([wstar[:, :1], W_real[:, :-1]], axis=1)  # W of Y-1 per (g, Y)
    pv_gy = np.clip(C.MET_VERBLIJF_BASE + geo.verblijf_effect[:, None]
                    + C.MET_VERBLIJF_TREND * (years[None, :] - ref)
                    + C.WIJKTEAM_PANEL_BETA * (W_lag - C.WIJKTEAM_REF), 0.01, 0.5)
    p_v = pv_gy[g, yidx]
    v = u & (_latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE["met_verblijf"]) < ndtri(p_v))
    forms = {"wijkteam": w, "met_verblijf": v}
    for name, p in C.FORM_PROB.items():
        forms[name] = u & (_latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE[name])
                           < ndtri(p))
    none = u & ~(forms["wijkteam"] | forms["met_verblijf"] | forms["ambulant"]
                 | forms["netwerk"] | forms["daghulp"])
    forced = rng.random(len(none))
    forms["ambulant"] |= none & (forced < 0.75)
    forms["netwerk"] |= none & (forced >= 0.75) & (forced < 0.92)
    forms["daghulp"] |= none & (forced >= 0.92)

    # ---- jeugdbescherming among users aged 0-17
    minor = age <= 17
    lin_jb = (C.JB_COEF["one_parent"] * X["one_parent"] + C.JB_COEF["bijstand"] * X["bijstand"]
              + C.JB_COEF["income_q1"] * X["income_q1"] + C.JB_COEF["age"] * (age - 9))
    lin_jb1 = lin_jb + C.JB_COEF["met_verblijf"]
    # expected share under 18 in the reference year = target
    m = minor & is_ref
    cnt = m.sum()
    a0 = -6.0
    for _ in range(40):
        share = (p_u[m] * (p_v[m] * expit(a0 + lin_jb1[m])
                           + (1 - p_v[m]) * expit(a0 + lin_jb[m]))).sum() / cnt
        a0 += np.log(C.JB_TARGET / share)
    q = expit(a0 + np.where(v, lin_jb1, lin_jb))
    jb = u & minor & (_latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE["jeugdbescherming"])
                      < ndtri(q))
    p_jb = p_u * (p_v * expit(a0 + lin_jb1) + (1 - p_v) * expit(a0 + lin_jb))

    # ---- jeugdreclassering, 12-22
    jr_age = np.array([C.JR_AGE_PROFILE.get(a, -99.0) for a in range(23)])
    lin_jr = (jr_age[age] + C.JR_COEF["boy"] * boy + C.JR_COEF["bijstand"] * X["bijstand"]
              + C.JR_COEF["one_parent"] * X["one_parent"])
    m = (age >= 12) & is_ref
    b0 = -7.0
    for _ in range(40):
        b0 += np.log(C.JR_TARGET / expit(b0 + lin_jr[m]).mean())
    p_jr = np.where(age >= 12, expit(b0 + lin_jr), 0.0)
    jr = (age >= 12) & (_latent(rng, pid_codes, yidx, nid, ny, C.PERSISTENCE["jeugdreclassering"])
                        < ndtri(np.maximum(p_jr, 1e-12)))

    f = f.copy()
    f["p_jeugdhulp"] = p_u
    f["jeugdhulp"] = u.astype(np.int8)
    for name, arr in forms.items():
        f[name] = arr.astype(np.int8)
    f["p_met_verblijf"] = np.where(u, p_v, np.nan)
    f["p_jeugdbescherming"] = np.where(minor, p_jb, np.nan)
    f["jeugdbescherming"] = jb.astype(np.int8)
    f["p_jeugdreclassering"] = np.where(age >= 12, p_jr, np.nan)
    f["jeugdreclassering"] = jr.astype(np.int8)
    intercepts = {"jeugdhulp": alpha, "jeugdbescherming": a0, "jeugdreclassering": b0}
    gy = pd.DataFrame({
        "gemeente": np.repeat(np.arange(G), ny), "year": np.tile(years, G),
        "wijkteam_planted": wstar[:, 1:].ravel(), "wijkteam_share": W_real.ravel(),
        "wijkteam_share_lag": W_lag.ravel(), "p_met_verblijf": pv_gy.ravel(),
        "users": users_gy.ravel()})
    return f, intercepts, gy


def _runs(f: pd.DataFrame, col: str) -> pd.DataFrame:
    """Return runs of consecutive years with `col` == 1: pid, first year, last year, rows."""
    sub = f.loc[f[col] == 1, ["pid", "year"]].sort_values(["pid", "year"])
    pid = sub["pid"].to_numpy()
    yr = sub["year"].to_numpy()
    new = np.ones(len(pid), bool)
    new[1:] = (pid[1:] != pid[:-1]) | (yr[1:] != yr[:-1] + 1)
    rid = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(pid) - 1) if len(first) else first
    return pd.DataFrame({"pid": pid[first], "a": yr[first], "b": yr[last],
                         "row": sub.index.to_numpy()[first], "rid": rid[first]})


def _dates(rng, runs, lastday, open_prob, last_year):
    """Return begin, end (-1 = open) of runs: begin in year a, end in year b."""
    a, b = runs["a"].to_numpy(), runs["b"].to_numpy()
    ya, yb = year_start(a), year_start(b)
    ea = year_start(a + 1) - 1
    eb = year_start(b + 1) - 1
    hi_a = np.minimum(ea, lastday)
    begin = uniform_days(rng, ya, hi_a)
    hi_b = np.minimum(eb, lastday)
    end = np.where(a == b, uniform_days(rng, begin, hi_b), uniform_days(rng, yb, hi_b))
    still = (b == last_year) & (lastday > eb)
    is_open = still & (rng.random(len(a)) < open_prob)
    return begin, np.where(is_open, -1, end)


def _contiguous(rng, tr: pd.DataFrame) -> pd.DataFrame:
    """Return the trajecten with gaps inside a period of use closed (probability CONTIGUOUS_PROB).

    A period of use is a run of consecutive years with jeugdhulp; every year of it has a traject
    overlapping it, so a gap between the end of a youth's care so far and the next begin lies
    within one period when the two dates are at most one calendar year apart. Such a gap is
    closed with probability ``C.CONTIGUOUS_PROB``: within one year at a random day (the earlier
    traject ends on it, the next begins the day after); across a year boundary the earlier
    traject ends on 31 December and the next begins on 1 January. Every traject keeps the years
    it overlaps (so the drawn indicators still match the files). A closed gap makes the next
    start a continuation; a kept gap, like a return after a year without jeugdhulp, makes it
    herhaald beroep.
    """
    pid = tr["pid"].to_numpy()
    begin = tr["begin"].to_numpy().astype(np.int64)
    end = tr["end"].to_numpy().astype(np.int64)
    n = len(tr)
    if n < 2:
        return tr
    e = np.where(end < 0, OPEN_DAY, end)
    order = np.lexsort((e, begin, pid))
    p, b, ee = pid[order], begin[order], e[order]
    gid = np.cumsum(np.r_[True, p[1:] != p[:-1]]) - 1
    # running maximum of the end within a youth, with the position that reaches it
    key = np.maximum.accumulate((gid << 40) | (ee << 24) | np.arange(n, dtype=np.int64))
    run_end = (key >> 24) & ((1 << 16) - 1)
    run_pos = key & ((1 << 24) - 1)
    i = np.flatnonzero((gid[1:] == gid[:-1]) & (b[1:] > run_end[:-1] + 1)) + 1
    last, prev = run_end[i - 1], run_pos[i - 1]
    ya, yb = year_of(last), year_of(b[i])
    keep = (yb - ya <= 1) & (rng.random(len(i)) < C.CONTIGUOUS_PROB)
    i, last, prev, ya, yb = i[keep], last[keep], prev[keep], ya[keep], yb[keep]
    cut = np.where(ya == yb, uniform_days(rng, last, b[i] - 1), year_start(yb) - 1)
    begin[order[i]] = cut + 1
    end[order[prev]] = cut
    return tr.assign(begin=begin, end=end)


def _choice(rng, codes, probs, n) -> np.ndarray:
    p = np.asarray(probs, float)
    idx = np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right")
    return np.asarray(codes, dtype=object)[np.minimum(idx, len(codes) - 1)]


def build_jeugd(opts, geo, pop, frame, rng) -> Jeugd:
    """Return the drawn frame and the jeugdhulp, jeugdbescherming and jeugdreclassering records."""
    f, intercepts, gy = draw_use(opts, geo, pop, frame, rng)
    per = pop.persons
    L = opts.last
    lastday_of = np.minimum(per["exit"] - 1, OPEN_DAY)
    G = len(geo.class_code)
    n_prov = max(24, 3 * G)
    prov_codes = np.array([f"{x:08d}" for x in rng.choice(10 ** 8, n_prov, replace=False)],
                          dtype=object)
    zipf = 1.0 / np.arange(1, n_prov // 2 + 1) ** 0.8
    wijk_prov = np.array([f"{x:08d}" for x in rng.choice(10 ** 8, geo.n_base, replace=False)],
                         dtype=object)
    jb_years = set(zip(f.loc[f["jeugdbescherming"] == 1, "pid"],
                       f.loc[f["jeugdbescherming"] == 1, "year"]))
    base_of_row = f["base_gemeente"].to_numpy()

    parts = []
    for form in FORMS:
        runs = _runs(f, form)
        lastday = lastday_of[runs["pid"].to_numpy()]
        begin, end = _dates(rng, runs, lastday, C.OPEN_AT_END[form], L)
        n = len(runs)
        if form == "met_verblijf":
            hv = _choice(rng, list(C.MET_VERBLIJF_FORMS), list(C.MET_VERBLIJF_FORMS.values()), n)
        else:
            hv = np.full(n, FORM_CODE[form], dtype=object)
        base = base_of_row[runs["row"].to_numpy()]
        if form == "wijkteam":
            prov = wijk_prov[base]
        else:
            prov = prov_codes[: n_prov // 2][_choice(rng, np.arange(len(zipf)), zipf, n)
                                              .astype(np.int64)]
        parts.append(pd.DataFrame({"pid": runs["pid"].to_numpy(), "form": form, "hulpvorm": hv,
                                   "begin": begin, "end": end, "aanbieder": prov,
                                   "base_gemeente": base, "start_year": runs["a"].to_numpy()}))
    # extra single-year trajecten at a second provider
    users = f.index[(f["jeugdhulp"] == 1).to_numpy()]
    xr = users[rng.random(len(users)) < C.EXTRA_TRAJECT_PROB]
    ex = pd.DataFrame({"pid": f.loc[xr, "pid"].to_numpy(), "a": f.loc[xr, "year"].to_numpy()})
    ex["b"] = ex["a"]
    begin, end = _dates(rng, ex, lastday_of[ex["pid"].to_numpy()], C.OPEN_AT_END["extra"], L)
    parts.append(pd.DataFrame({
        "pid": ex["pid"].to_numpy(), "form": "extra",
        "hulpvorm": _choice(rng, ["02", "04", "03"], [0.7, 0.2, 0.1], len(ex)),
        "begin": begin, "end": end,
        "aanbieder": prov_codes[n_prov // 2:][rng.integers(0, n_prov - n_prov // 2, len(ex))],
        "base_gemeente": base_of_row[xr.to_numpy()], "start_year": ex["a"].to_numpy()}))
    tr = _contiguous(rng, pd.concat(parts, ignore_index=True))
    tr = _traject_attributes(rng, opts, geo, tr, jb_years)

    # ---- jeugdbescherming
    runs = _runs(f, "jeugdbescherming")
    pid = runs["pid"].to_numpy()
    begin, end = _dates(rng, runs, lastday_of[pid], 0.85, L)
    adult_day = add_years(per["birth"][pid], 18) - 1
    capped = (end > adult_day) | ((end < 0) & (adult_day <= OPEN_DAY)
                                  & (year_of(adult_day) <= L))
    end = np.where(capped, adult_day, end)
    late = capped & (begin > adult_day)
    begin = np.where(late, uniform_days(rng, year_start(runs["a"].to_numpy()), adult_day), begin)
    length = runs["b"].to_numpy() - runs["a"].to_numpy() + 1
    long_ = length >= 3
    mt = np.where(long_, _choice(rng, ["21", "11"], [0.6, 0.4], len(pid)),
                  _choice(rng, ["11", "12", "21", "22", "23"], [0.74, 0.12, 0.06, 0.05, 0.03],
                          len(pid)))
    voogdij = np.isin(mt, ["21", "22", "23"])
    reden = np.where(voogdij, _choice(rng, ["12", "13", "14", "15"], [0.4, 0.3, 0.2, 0.1],
                                      len(pid)),
                     _choice(rng, ["02", "03", "04", "05"], [0.3, 0.33, 0.32, 0.05], len(pid)))
    reden = np.where(capped, np.where(voogdij, "11", "01"), reden)
    reden = np.where(end < 0, "", reden)
    base = base_of_row[runs["row"].to_numpy()]
    jb = pd.DataFrame({"pid": pid, "maatregel": mt, "begin": begin, "end": end,
                       "reden": reden.astype(object), "base_gemeente": base,
                       "start_year": runs["a"].to_numpy()})
    jb["gemeente"] = _gemeente_codes(geo, jb)

    # ---- jeugdreclassering
    runs = _runs(f, "jeugdreclassering")
    pid = runs["pid"].to_numpy()
    begin, end = _dates(rng, runs, lastday_of[pid], 0.6, L)
    n = len(pid)
    jr = pd.DataFrame({
        "pid": pid,
        "maatregel": _choice(rng, ["41", "42", "50", "51", "61", "62", "63"],
                             [0.68, 0.1, 0.03, 0.02, 0.07, 0.05, 0.05], n),
        "begin": begin, "end": end,
        "reden": np.where(end < 0, "", _choice(rng, ["21", "22", "23", "24", "25", "26"],
                                                [0.62, 0.12, 0.12, 0.08, 0.05, 0.01], n)),
        "erkend": _choice(rng, ["1", "0"], [0.3, 0.7], n),
        "base_gemeente": base_of_row[runs["row"].to_numpy()], "start_year": runs["a"].to_numpy()})
    jr["gemeente"] = _gemeente_codes(geo, jr)

    # ---- records of persons outside the BRP (RINPERSOONS S or I)
    k = max(3, int(len(tr) * 0.004))
    other = {"rinpersoons": _choice(rng, ["S", "I"], [0.6, 0.4], k),
             "rin": np.array([f"{x:09d}" for x in rng.choice(10 ** 9, k, replace=False)],
                             dtype=object)}
    ya = rng.integers(opts.first, L + 1, k)
    ot = pd.DataFrame({"pid": -1 - np.arange(k), "a": ya, "b": ya})
    begin, end = _dates(rng, ot, np.full(k, OPEN_DAY), 0.3, L)
    ot = pd.DataFrame({"pid": ot["pid"], "form": "other_person",
                       "hulpvorm": _choice(rng, ["02", "04", "11", "14"], [0.6, 0.2, 0.1, 0.1], k),
                       "begin": begin, "end": end,
                       "aanbieder": prov_codes[rng.integers(0, n_prov, k)],
                       "base_gemeente": rng.integers(0, geo.n_base, k), "start_year": ya})
    tr = pd.concat([tr, _traject_attributes(rng, opts, geo, ot, set())], ignore_index=True)
    return Jeugd(frame=f, trajecten=tr, bescherming=jb, reclassering=jr, intercepts=intercepts,
                 wijkteam=gy, other_persons=other)


def _gemeente_codes(geo, df) -> np.ndarray:
    """Return the gemeentecode valid in each record's start year (woonplaatsbeginsel)."""
    out = np.empty(len(df), dtype=object)
    base = df["base_gemeente"].to_numpy()
    sy = df["start_year"].to_numpy()
    for y in np.unique(sy):
        m = sy == y
        out[m] = geo.code_in_year(base[m], int(y))
    return out


def _traject_attributes(rng, opts, geo, tr, jb_years) -> pd.DataFrame:
    n = len(tr)
    hv = tr["hulpvorm"].to_numpy()
    verblijf = np.isin(hv, ["11", "12", "13", "14"])
    wijk = hv == "01"
    sy = tr["start_year"].to_numpy()
    in_jb = np.array([(p, y) in jb_years for p, y in zip(tr["pid"], sy)], dtype=bool) \
        if jb_years else np.zeros(n, bool)
    verw = np.select(
        [wijk, in_jb & ~wijk, verblijf],
        [_choice(rng, C.VERWIJZER_CODES, C.VERWIJZER_WIJKTEAM, n),
         _choice(rng, C.VERWIJZER_CODES, C.VERWIJZER_JB, n),
         _choice(rng, C.VERWIJZER_CODES, C.VERWIJZER_VERBLIJF, n)],
        _choice(rng, C.VERWIJZER_CODES, C.VERWIJZER_DEFAULT, n))
    begin = tr["begin"].to_numpy()
    end = tr["end"].to_numpy()
    verw = np.where((begin < day(2015)) & (rng.random(n) < 0.5), "07", verw)
    closed = end >= 0
    reden = _choice(rng, C.REDEN_CODES, C.REDEN_PROB, n)
    imputed = closed & (year_of(np.maximum(end, 0)) >= C.IMPUTED_END_FROM) & (
        rng.random(n) < C.IMPUTED_END_SHARE)
    reden = np.where(~closed | imputed | (rng.random(n) < C.REDEN_MISSING), "", reden)
    persp = _choice(rng, ["01", "02", "03", "04"], [0.05, 0.15, 0.4, 0.4], n)
    crisis = np.where(rng.random(n) < np.where(verblijf, 0.12, 0.03), "1", "0")
    outcome = closed & (end >= day(2018, 7, 1)) & (rng.random(n) < C.OUTCOME_ITEMS_SHARE)
    cijfer = np.where(outcome, _choice(rng, np.arange(1, 11),
                                       [1, 1, 2, 3, 5, 10, 20, 28, 18, 12], n).astype(float),
                      np.nan)
    zelf = np.where(outcome, _choice(rng, ["1", "2", "9"], [0.55, 0.35, 0.1], n), "")
    tr = tr.copy()
    tr["verwijzer"] = verw.astype(object)
    tr["reden"] = reden.astype(object)
    tr["imputed_end"] = imputed
    tr["perspectief"] = persp
    tr["crisis"] = crisis.astype(object)
    tr["cijfer"] = cijfer
    tr["zelfstandig"] = zelf.astype(object)
    code = _gemeente_codes(geo, tr)
    elsewhere = rng.random(n) < 0.03
    other_base = rng.integers(0, geo.n_base, n)
    alt = _gemeente_codes(geo, tr.assign(base_gemeente=other_base))
    tr["gemeente"] = np.where(elsewhere, alt, code)
    return tr
