"""Beside the tree: the gemeente reference table, the truth file and the calibration report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic import config as C
from synthetic.dates import OPEN_DAY, add_years, day, year_start
from synthetic.jeugd import design

# name: (target text, low, high); ranges are the tolerances the tests check too.
TARGETS = {
    "jeugdhulp_pct_under18": ("13.9%", 12.5, 15.5),
    "jeugdhulp_pct_under23": ("10.8%", 9.0, 12.5),
    "met_verblijf_pct_of_users": ("about 9%", 7.0, 11.5),
    "only_zonder_verblijf_pct_of_users": ("about 92%", 88.0, 94.0),
    "ambulant_pct_of_zonder_users": ("about 70% (half-year)", 62.0, 82.0),
    "netwerk_pct_of_zonder_users": ("about 20% (half-year)", 14.0, 26.0),
    "wijkteam_pct_of_zonder_users": ("about 15% (half-year)", 10.0, 22.0),
    "daghulp_pct_of_zonder_users": ("about 7% (half-year)", 4.0, 11.0),
    "pleegzorg_pct_of_verblijf_users": ("about half", 38.0, 60.0),
    "boys_8_11_pct": ("about 22%", 18.0, 26.0),
    "girls_12_17_pct": ("about 18%", 14.0, 22.0),
    "age_18_22_pct": ("about 1.6%", 1.0, 3.0),
    "verwijzer_huisarts_pct": ("about 39%", 33.0, 45.0),
    "verwijzer_gemeente_pct": ("about 30%", 25.0, 36.0),
    "verwijzer_geen_pct": ("about 15%", 11.0, 19.0),
    "verwijzer_gi_pct": ("about 7%", 4.0, 10.0),
    "trajecten_per_youth": ("about 1.36", 1.2, 1.6),
    "mean_duration_closed_days": ("about 350", 250.0, 420.0),
    "volgens_plan_pct_known": ("75-80% (assumption)", 72.0, 83.0),
    "herhaald_beroep_pct": ("about 25%", 18.0, 32.0),
    "outcome_items_pct_closed": ("20-40% (assumption)", 20.0, 40.0),
    "jeugdbescherming_pct_under18": ("about 1.1%", 0.85, 1.35),
    "jb_with_met_verblijf_pct": ("about half", 40.0, 60.0),
    "jeugdreclassering_pct_12_22": ("about 0.3%", 0.2, 0.4),
    "one_parent_pct_minors": ("16%", 13.0, 19.0),
    "bijstand_pct_minors": ("5.7%", 4.3, 7.2),
    "speciaal_onderwijs_pct_pupils": ("3-4% (assumption)", 2.5, 4.5),
}


def calibration_metrics(world, year: int | None = None) -> dict:
    """Return the generated national figures of :data:`TARGETS` for one year (default:
    the reference year)."""
    Y = world.opts.reference_year if year is None else year
    f = world.frame
    fy = f[f["year"] == Y]
    minors = fy[fy["age"] <= 17]
    users = fy[fy["jeugdhulp"] == 1]
    zonder = users[(users[["wijkteam", "ambulant", "daghulp", "netwerk"]].sum(axis=1) > 0)]
    tr = world.jeugd.trajecten
    tr = tr[tr["pid"] >= 0]
    y0, y1 = day(Y), int(year_start([Y + 1])[0]) - 1
    end = np.where(tr["end"] < 0, OPEN_DAY, tr["end"])
    active = tr[(tr["begin"] <= y1) & (end >= y0)]
    started = tr[(tr["begin"] >= y0) & (tr["begin"] <= y1)]
    closed = tr[(tr["end"] >= y0) & (tr["end"] <= y1)]
    verbl = active[active["hulpvorm"].isin(["11", "12", "13", "14"])]
    pleeg_share = (verbl[verbl["hulpvorm"] == "11"]["pid"].nunique()
                   / max(verbl["pid"].nunique(), 1))
    vw = started["verwijzer"].value_counts(normalize=True)
    known = closed[closed["reden"] != ""]
    herhaald = herhaald_beroep(tr, started)
    sc = world.bg.school[Y - 1]
    out = {
        "year": Y,
        "jeugdhulp_pct_under18": 100 * minors["jeugdhulp"].mean(),
        "jeugdhulp_pct_under23": 100 * fy["jeugdhulp"].mean(),
        "met_verblijf_pct_of_users": 100 * users["met_verblijf"].mean(),
        "only_zonder_verblijf_pct_of_users": 100 * (users["met_verblijf"] == 0).mean(),
        "ambulant_pct_of_zonder_users": 100 * zonder["ambulant"].mean(),
        "netwerk_pct_of_zonder_users": 100 * zonder["netwerk"].mean(),
        "wijkteam_pct_of_zonder_users": 100 * zonder["wijkteam"].mean(),
        "daghulp_pct_of_zonder_users": 100 * zonder["daghulp"].mean(),
        "pleegzorg_pct_of_verblijf_users": 100 * pleeg_share,
        "boys_8_11_pct": 100 * fy[(fy["sex"] == 1) & fy["age"].between(8, 11)]["jeugdhulp"].mean(),
        "girls_12_17_pct": 100 * fy[(fy["sex"] == 2) & fy["age"].between(12, 17)]["jeugdhulp"]
        .mean(),
        "age_18_22_pct": 100 * fy[fy["age"] >= 18]["jeugdhulp"].mean(),
        "verwijzer_huisarts_pct": 100 * vw.get("02", 0.0),
        "verwijzer_gemeente_pct": 100 * vw.get("01", 0.0),
        "verwijzer_geen_pct": 100 * vw.get("06", 0.0),
        "verwijzer_gi_pct": 100 * vw.get("04", 0.0),
        "trajecten_per_youth": len(active) / max(active["pid"].nunique(), 1),
        "mean_duration_closed_days": float((closed["end"] - closed["begin"] + 1).mean()),
        "volgens_plan_pct_known": 100 * (known["reden"] == "01").mean(),
        "herhaald_beroep_pct": 100 * herhaald,
        "outcome_items_pct_closed": 100 * closed["cijfer"].notna().mean(),
        "jeugdbescherming_pct_under18": 100 * minors["jeugdbescherming"].mean(),
        "jb_with_met_verblijf_pct": 100 * fy[fy["jeugdbescherming"] == 1]["met_verblijf"].mean(),
        "jeugdreclassering_pct_12_22": 100 * fy[fy["age"] >= 12]["jeugdreclassering"].mean(),
        "one_parent_pct_minors": 100 * minors["one_parent"].mean(),
        "bijstand_pct_minors": 100 * minors["bijstand"].mean(),
        "speciaal_onderwijs_pct_pupils": 100 * (sc["type"] != "BO").mean(),
    }
    g = fy.groupby("gemeente")
    out["gemeente_range_jeugdhulp_pct_under23"] = [100 * g["jeugdhulp"].mean().min(),
                                                   100 * g["jeugdhulp"].mean().max()]
    gm = minors.groupby("gemeente")
    out["gemeente_range_one_parent_pct"] = [100 * gm["one_parent"].mean().min(),
                                            100 * gm["one_parent"].mean().max()]
    out["gemeente_range_bijstand_pct"] = [100 * gm["bijstand"].mean().min(),
                                          100 * gm["bijstand"].mean().max()]
    out["jeugdhulp_pct_under18_by_year"] = {
        int(y): 100 * v for y, v in
        f[(f["age"] <= 17) & (f["year"] >= world.opts.first)].groupby("year")["jeugdhulp"]
        .mean().items()}
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


def herhaald_beroep(tr: pd.DataFrame, started: pd.DataFrame) -> float:
    """Return the share of `started` trajecten that are herhaald beroep (StatLine definition).

    A started traject is herhaald beroep when its youth had jeugdhulp (any traject in `tr`) in the
    5 years before the start, with at least one day between the end of that earlier jeugdhulp and
    the start: no traject of the youth covers the day before the start (that would be a
    continuation or overlap), and one ended on or after the day 5 years before the start and at
    least two days before it. Open trajecten count as running.
    """
    if not len(started):
        return 0.0
    other = tr[["pid", "begin", "end"]].assign(end=lambda d: d["end"].where(d["end"] >= 0,
                                                                            OPEN_DAY))
    m = started[["pid", "begin"]].reset_index().merge(other, on="pid", suffixes=("", "_o"))
    s = m["begin"].to_numpy()
    covers_eve = (m["begin_o"].to_numpy() <= s - 1) & (m["end"].to_numpy() >= s - 1)
    earlier = (m["end"].to_numpy() <= s - 2) & (m["end"].to_numpy() >= add_years(s, -5))
    cont = pd.Index(m.loc[covers_eve, "index"].unique())
    back = pd.Index(m.loc[earlier, "index"].unique())
    return len(back.difference(cont)) / len(started)


def write_calibration(world, path: Path) -> dict:
    """Write a Markdown report comparing generated figures with the public figures; return them."""
    m = calibration_metrics(world)
    lines = [
        "# Calibration report (synthetic data)",
        "",
        f"Generated figures for {m['year']} (the reference year; peildatum 1 January, a youth "
        "'has' care when a traject overlaps the year) against the national figures of "
        "the public (CBS) figures the generator is calibrated to. Rates, not counts, are "
        "comparable. Computed from the generator's own records before writing. Half-year "
        "public figures are compared with yearly "
        "ones here, which run somewhat higher.",
        "",
        f"Options: {json.dumps(world.opts.as_dict())}",
        "",
        "| figure | generated | public figure | accepted range | ok |",
        "|---|---:|---|---|---|",
    ]
    for k, (target, lo, hi) in TARGETS.items():
        v = m[k]
        ok = "yes" if lo <= v <= hi else "**no**"
        lines.append(f"| {k} | {v:.2f} | {target} | {lo}-{hi} | {ok} |")
    lines += [
        "",
        "Spread between gemeenten (reference year):",
        "",
        f"- jeugdhulp % of 0-22: {m['gemeente_range_jeugdhulp_pct_under23'][0]:.1f} to "
        f"{m['gemeente_range_jeugdhulp_pct_under23'][1]:.1f} (public figure: about 5 to 20)",
        f"- one-parent % of minors: {m['gemeente_range_one_parent_pct'][0]:.1f} to "
        f"{m['gemeente_range_one_parent_pct'][1]:.1f} (4 to 29)",
        f"- bijstand % of minors: {m['gemeente_range_bijstand_pct'][0]:.1f} to "
        f"{m['gemeente_range_bijstand_pct'][1]:.1f} (3 to 14; tiny gemeenten vary more)",
        "",
        "Jeugdhulp % of under-18s per year (planted trend "
        f"{C.JEUGDHULP_TREND} log-odds a year): "
        + ", ".join(f"{y}: {v:.1f}" for y, v in m["jeugdhulp_pct_under18_by_year"].items()),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return m


def write_gemeenten(world, path: Path) -> None:
    """Write the gemeente reference table (contract section 5) for the classification year."""
    geo = world.geo
    last = world.opts.last
    s = world.pop.snapshots[last]
    inw = np.bincount(geo.class_index[geo.addr_gem[s["addr"]]], minlength=len(geo.class_code))
    df = pd.DataFrame({"gemeentecode": geo.class_code, "gemeentenaam": geo.class_name,
                       "inwoners": inw, "stedelijkheid": geo.stedelijkheid,
                       "jeugdregio": geo.jeugdregio, "provincie": geo.provincie})
    df.sort_values("gemeentecode").to_csv(path, index=False, lineterminator="\n")


def _or(x: float) -> dict:
    return {"log_odds": round(float(x), 6), "odds_ratio": round(math.exp(x), 6)}


def implied_marginal(frame: pd.DataFrame, prob_col: str, rows, seed: int) -> dict:
    """Return the logit that best fits the expected probabilities (what a covariate-only logit
    converges to) for a model drawn conditionally."""
    import statsmodels.api as sm

    sub = frame.loc[rows]
    if len(sub) > 300_000:
        sub = sub.sample(300_000, random_state=seed)
    X = pd.DataFrame(design(sub), index=sub.index)
    X["age"] = sub["age"].astype(float)
    X["boy"] = (sub["sex"] == 1).astype(float)
    X = sm.add_constant(X)
    fit = sm.GLM(sub[prob_col].to_numpy(), X, family=sm.families.Binomial()).fit()
    return {k: _or(v) for k, v in fit.params.items() if k != "const"}


def write_truth(world, files, metrics, path: Path) -> None:
    """Write every planted parameter, the seed and the options as JSON."""
    o, geo, j = world.opts, world.geo, world.jeugd
    f = j.frame
    codes = [str(c) for c in geo.class_code]
    role = {i: "near zero" for i in range(len(codes))}
    for i in geo.roles["high"]:
        role[i] = "high outlier (practice)"
    for i in geo.roles["low"]:
        role[i] = "low outlier (practice)"
    role[geo.roles["composition"]] = "high only through composition (no practice effect)"
    alpha = j.intercepts["jeugdhulp"]
    gy = j.wijkteam
    minors = f.index[(f["age"] <= 17).to_numpy()]
    truth = {
        "generator": "synthetic (jeugdkit)",
        "seed": o.seed,
        "options": o.as_dict(),
        "years": {"files": [o.first, o.last], "simulation_start": o.sim_start,
                  "jeugd_draws_start": o.jeugd_start, "classification_year": o.classification_year,
                  "reference_year": o.reference_year},
        "jeugdhulp": {
            "outcome": "jeugdhulp in period Y: at least one JGDHULPBUS traject (any hulpvorm) "
                       "overlapping calendar year Y",
            "population": "RINPERSOONS R, resident on 1 January Y (an address spell covers it), "
                          "aged 0-22 on 1 January Y",
            "model": "logit P(use in Y) = alpha[age, sex] + sum(beta * covariate) + "
                     "gemeente_effect + trend * (Y - reference_year)",
            "covariates": {
                "one_parent": "GBAHUISHOUDENSBUS spell covering 1 January Y has TYPHH 6",
                "bijstand": "a legal parent (KINDOUDERTAB mother or father) has a SECMBUS spell "
                            "with SECM 22 covering 1 January Y",
                "income_q1": "INHP100HGEST 1-20 in INHATAB of Y-1, linked through "
                             "KOPPELPERSOONHUISHOUDEN of Y-1",
                "income_unknown": "no KOPPELPERSOONHUISHOUDEN/INHATAB record in Y-1 or a "
                                  "negative percentile",
                "speciaal_onderwijs": "WPOTYPEPO SBO or SO in INSCHRWPOTAB of Y-1",
                "parent_edu_low/mid/unknown": "higher level of the two legal parents in "
                                              "HOOGSTEOPLTAB of Y-1 (1xxx low, 2xxx mid, 3xxx "
                                              "high); unknown when neither parent is in the file",
                "gemeente": "gemeente of the address on 1 January Y, VSLGWBTAB column "
                            f"gem{o.classification_year}",
            },
            "reference_categories": {"income": "percentile 21-100 (quintiles 2-5)",
                                     "parent_edu": "high", "age_sex": "none: one intercept per "
                                     "age x sex cell", "gemeente": "effects are deviations on "
                                     "the log-odds scale, most near zero"},
            "coefficients": {k: _or(v) for k, v in C.JEUGDHULP_COEF.items()},
            "age_sex_intercepts": {"boys": [round(float(a), 6) for a in alpha[0::2]],
                                   "girls": [round(float(a), 6) for a in alpha[1::2]],
                                   "note": "calibrated so that the reference year matches "
                                           "the public age and sex profile, scaled to "
                                           f"{C.JEUGDHULP_UNDER18:.1%} of under-18s"},
            "trend": {"log_odds_per_year": C.JEUGDHULP_TREND, "zero_in": o.reference_year},
            "gemeente_effects": {codes[i]: {"name": str(geo.class_name[i]),
                                            "log_odds": round(float(geo.effect[i]), 6),
                                            "role": role[i]} for i in range(len(codes))},
            "outliers": {"high": [codes[i] for i in geo.roles["high"]],
                         "low": [codes[i] for i in geo.roles["low"]]},
            "composition_only": codes[geo.roles["composition"]],
            "persistence": {
                "kind": "Gaussian copula: use = 1[z < Phi^-1(p)], z AR(1) over a person's years",
                "rho": C.PERSISTENCE["jeugdhulp"],
                "recoverable": "the per-year marginal model above holds exactly (no random "
                               "effect enters p), so a logit of use on these covariates "
                               "(one year, or pooled years with person-clustered standard "
                               "errors) recovers the coefficients; persistence only correlates "
                               "a person's years"},
        },
        "forms_of_care": {
            "definition": "among youths with jeugdhulp in Y, each form is an indicator drawn by "
                          "the same copula; a run of consecutive years with a form is one "
                          "traject of that form beginning in the run's first year and ending in "
                          "its last (dates within those years; see contiguity)",
            "probabilities": dict(C.FORM_PROB), "persistence": dict(C.PERSISTENCE),
            "contiguity": "within a period of use (consecutive years with jeugdhulp), a "
                          "traject that begins after all the youth's earlier care has ended "
                          "follows it without a break with probability "
                          f"{C.CONTIGUOUS_PROB} (the earlier care ends the day before it "
                          "begins, on 31 December / 1 January across a year boundary); "
                          "otherwise the gap stays. Trajecten keep the years they overlap. "
                          "Herhaald beroep (StatLine: earlier jeugdhulp within 5 years of a "
                          "start, at least one day between) comes from kept gaps and returns "
                          "after years without jeugdhulp",
            "contiguous_probability": C.CONTIGUOUS_PROB,
            "forced_when_no_form": "ambulant 75%, netwerk 17%, daghulp 8%",
            "extra_traject_probability": C.EXTRA_TRAJECT_PROB,
            "met_verblijf_forms": C.MET_VERBLIJF_FORMS,
        },
        "wijkteam_panel": {
            "question": "does more wijkteam use go with fewer placements met verblijf a year "
                        "later?",
            "unit": "gemeente (classification year) x year",
            "wijkteam_share": "W[g,Y] = share of youths with jeugdhulp in Y (resident in g on 1 "
                              "January Y) with at least one hulpvorm 01 traject overlapping Y",
            "met_verblijf_share": "V[g,Y] = share of those youths with a hulpvorm 11-14 traject "
                                  "overlapping Y",
            "model": "E[V[g,Y]] = base + gemeente_shift[g] + trend * (Y - reference_year) + "
                     "beta * (W[g,Y-1] - w_ref), W the realised share (so PanelOLS of V on "
                     "lagged W with gemeente and year effects recovers beta)",
            "lag_years": 1, "beta": C.WIJKTEAM_PANEL_BETA, "base": C.MET_VERBLIJF_BASE,
            "w_ref": C.WIJKTEAM_REF, "trend": C.MET_VERBLIJF_TREND,
            "gemeente_shift": {codes[i]: round(float(geo.verblijf_effect[i]), 6)
                               for i in range(len(codes))},
            "planted_wijkteam_level_mid_year": {codes[i]: round(float(geo.wijkteam_level[i]), 4)
                                                for i in range(len(codes))},
            "planted_wijkteam_slope_per_year": {codes[i]: round(float(geo.wijkteam_slope[i]), 4)
                                                for i in range(len(codes))},
            "realised": [{"gemeente": codes[int(r.gemeente)], "year": int(r.year),
                          "wijkteam_share": round(float(r.wijkteam_share), 5),
                          "wijkteam_share_lag": round(float(r.wijkteam_share_lag), 5),
                          "p_met_verblijf": round(float(r.p_met_verblijf), 5),
                          "users": int(r.users)} for r in gy.itertuples()],
        },
        "jeugdbescherming": {
            "outcome": "at least one JGDBESCHERMBUS maatregel overlapping Y; population 0-17",
            "model": "drawn only among youths with jeugdhulp in Y: logit P(JB | jeugdhulp) = "
                     "a0 + coefficients (age centred at 9); P(JB) = P(jeugdhulp) * P(JB | ...)",
            "intercept": round(float(j.intercepts["jeugdbescherming"]), 6),
            "conditional_coefficients": {k: _or(v) for k, v in C.JB_COEF.items()},
            "implied_marginal_coefficients": implied_marginal(
                f, "p_jeugdbescherming", minors, o.seed),
            "implied_note": "what a logit of JB on the covariates (plus age and sex) converges "
                            "to: the recoverable quantity; bijstand is about 3",
            "persistence_rho": C.PERSISTENCE["jeugdbescherming"],
            "ends_at_18": "a maatregel running into the 18th birthday ends the day before "
                          "(reden 01, or 11 for voogdij)",
        },
        "jeugdreclassering": {
            "outcome": "at least one JGDRECLASSERINGBUS maatregel overlapping Y; population 12-22",
            "model": "logit = b0 + age profile + coefficients, independent of jeugdhulp",
            "intercept": round(float(j.intercepts["jeugdreclassering"]), 6),
            "age_profile": C.JR_AGE_PROFILE,
            "coefficients": {k: _or(v) for k, v in C.JR_COEF.items()},
            "persistence_rho": C.PERSISTENCE["jeugdreclassering"],
        },
        "no_planted_effect": ["migration background (GBAGENERATIE, herkomst): correlated with "
                              "the covariates through SES only", "household size"],
        "merger": {"year": o.merger_year,
                   "from": [str(geo.base_code[i]) for i in geo.merged],
                   "into": str(geo.merged_code), "name": str(geo.merged_name)},
        "quirks": {
            "files": [x for x in files if x["note"]],
            "planted_address_overlaps": int(world.pop.planted_overlaps),
            "address_overlaps_note": "an address spell extended 1-20 days past the next one's "
                                     "begin, never across 1 January",
            "missing_codes": {"GBAGESLACHT": "-", "GBAGEBOORTEDAG": "--",
                              "GBAGEBOORTELAND": "----", "RINPERSOONMa/pa": "---------",
                              "INHARMLAG": 999999999, "INHP100HGEST": -1},
            "rinpersoons_not_r_in_jgdhulp": int((j.trajecten["pid"] < 0).sum()),
            "imputed_end_dates": int(j.trajecten["imputed_end"].sum()),
            "open_trajecten": int((j.trajecten["end"] < 0).sum()),
        },
        "population": {
            "definition": "RINPERSOONS R, resident on 1 January Y (an address spell covers it), "
                          "aged 0-22 on 1 January Y, with a gemeente in the classification "
                          "year: the study population of period Y; the kit's count must equal "
                          "it exactly",
            "youths_0_22_by_year": {str(y): int(n) for y, n in
                                    f["year"].value_counts().sort_index().items()},
        },
        "calibration": metrics,
    }
    path.write_text(json.dumps(truth, indent=1, ensure_ascii=False, default=_json_default),
                    encoding="utf-8")


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x))
