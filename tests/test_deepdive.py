"""Trap 2 (jeugdkit.deepdive): hand-checkable statistics, and recovery of the generator's truth.

The first part uses small in-memory numbers whose answers can be worked out by hand. The
second part generates a synthetic RA tree (100,000 persons, the generator's default seed),
runs `jeugdkit deepdive` once and checks the *released* files against truth.json (which the
kit itself never reads).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from jeugdkit.deepdive import (
    decompose,
    dersimonian_laird,
    funnel,
    funnel_limits,
    kitagawa,
    model_frame,
    oaxaca,
    observed_vs_expected,
    overdispersion,
    poisson_interval,
    ratio_interval,
    shrink,
)
from jeugdkit.deepdive.funnel import winsorise
from jeugdkit.deepdive.oe import fit_cell_logit, for_output_check
from jeugdkit.output import ExportSession


# ----------------------------------------------------------------------------- O/E intervals
def test_poisson_interval_is_garwood():
    lo, hi = poisson_interval(np.array([0, 10]))
    # textbook values (e.g. Garwood 1936 / Ulm 1990 tables)
    assert lo[0] == 0 and hi[0] == pytest.approx(3.6889, abs=1e-4)
    assert lo[1] == pytest.approx(4.7954, abs=1e-4) and hi[1] == pytest.approx(18.3904, abs=1e-4)
    r = ratio_interval([10], [20])
    assert r.loc[0, "ratio"] == 0.5
    assert r.loc[0, "ondergrens"] == pytest.approx(4.7954 / 20, abs=1e-5)


# ----------------------------------------------------------------------------- funnel
Z = np.array([-3, -1, -0.5, 0, 0.2, 0.4, 0.6, 1, 2, 4.0])


def _counts_for(z, e=25.0):
    """O with z = 2 (sqrt(O) - sqrt(E)) exactly (O need not be whole for the formulas)."""
    return (np.sqrt(e) + z / 2) ** 2, np.full(len(z), e)


def test_winsorised_phi_test_and_dersimonian_laird_by_hand():
    # 10th/90th percentiles (linear): -3 + 0.9 * 2 = -1.2 and 2 + 0.1 * 2 = 2.2
    assert winsorise(Z, 0.1).tolist() == pytest.approx(
        [-1.2, -1, -0.5, 0, 0.2, 0.4, 0.6, 1, 2, 2.2])
    o, e = _counts_for(Z)
    d = overdispersion(o, e, winsor=0.1, alpha=0.05)
    assert d["phi"] == pytest.approx(13.09 / 10)
    assert d["statistic"] == pytest.approx(13.09) and d["df"] == 9
    assert d["p_value"] == pytest.approx(stats.chi2.sf(13.09, 9))
    # w = 4E = 100 each: sum w - sum w^2 / sum w = 1000 - 100 = 900
    assert d["tau2"] == pytest.approx((13.09 - 9) / 900)
    assert d["adjustment"] == "none"  # p = 0.16: no widening
    assert overdispersion(o, e, adjustment="additive")["adjustment"] == "additive"


def test_funnel_limits_by_formula():
    e = np.array([10.0, 100.0])
    z = stats.norm.ppf(0.975)
    lo, hi = funnel_limits(e, 0.95, "multiplicative", phi=2.0)
    half = z * np.sqrt(2.0 / (4 * e))
    assert lo == pytest.approx((1 - half) ** 2) and hi == pytest.approx((1 + half) ** 2)
    lo, hi = funnel_limits(e, 0.95, "additive", tau2=0.01)
    half = z * np.sqrt(1 / (4 * e) + 0.01)
    assert hi == pytest.approx((1 + half) ** 2)
    # exact Poisson with Spiegelhalter's interpolation, E = 10, p = 0.025: r = 4
    lo, hi = funnel_limits(np.array([10.0]), 0.95, "none")
    f4, f3 = stats.poisson.cdf(4, 10), stats.poisson.cdf(3, 10)
    assert lo[0] == pytest.approx((4 - (f4 - 0.025) / (f4 - f3)) / 10)
    # limits narrow as E grows
    lo, hi = funnel_limits(np.array([10.0, 100.0, 1000.0]), 0.998, "none")
    assert np.all(np.diff(hi) < 0) and np.all(np.diff(lo) > 0)


def test_funnel_labels_only_gemeenten_outside_the_limits():
    e = np.array([50.0, 80, 120, 200, 300, 400, 60, 90, 150, 250])
    o = np.round(e).astype(float)
    o[3] = 300  # 1.5 x expected at E = 200: z = 2 (sqrt(300) - sqrt(200)) = 6.3
    data = pd.DataFrame({"gemeentecode": [f"{i:04d}" for i in range(10)],
                         "waargenomen": o, "verwacht": e})
    fun = funnel(data)
    flagged = fun.table.loc[fun.table["signaal"] != "", "gemeentecode"].tolist()
    assert flagged == ["0003"]
    assert fun.table.loc[3, "signaal"] == "hoger"
    assert set(fun.limits.columns) >= {"bovengrens_95", "ondergrens_99_8"}


# ----------------------------------------------------------------------------- shrinkage
def test_a_figure_looks_the_same_whatever_was_drawn_before_and_leaves_settings_alone():
    """The report's notebooks share one kernel: a theme set for one figure must not carry
    over to the next (the funnel came out in seaborn's grid after the trap-1 figures), and
    the kit must not change the researcher's own matplotlib settings."""
    import io

    import matplotlib.pyplot as plt

    import jeugdkit.figures  # noqa: F401 - it picks the Agg backend once, on import
    from jeugdkit.deepdive.funnel import funnel_plot
    fun = funnel(pd.DataFrame({"gemeentecode": ["a", "b", "c"], "waargenomen": [10, 30, 90],
                               "verwacht": [12.0, 25.0, 100.0]}))

    def png():
        fig = funnel_plot(data=fun.table, limits=fun.limits, highlight="a")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        plt.close(fig)
        return buf.getvalue()

    with plt.rc_context():
        plt.rcParams["axes.facecolor"] = "black"
        before = dict(plt.rcParams)
        plain = png()
        assert dict(plt.rcParams) == before
    with plt.rc_context():
        plt.style.use("ggplot")
        assert png() == plain


def test_dersimonian_laird_and_shrinkage_by_hand():
    # w = 400 each, mean 0, Q = 8, denominator 800 - 320000/800 = 400: tau2 = 7/400
    tau2 = dersimonian_laird([0.1, -0.1], [0.05, 0.05])
    assert tau2 == pytest.approx(0.0175)
    eb, sd = shrink([0.1, -0.1], [0.05, 0.05], tau2)
    assert eb == pytest.approx([0.0875, -0.0875])  # factor 0.0175 / 0.02
    assert sd == pytest.approx(np.sqrt(0.0175 * 0.0025 / 0.02))
    assert dersimonian_laird([0.01, -0.01], [0.05, 0.05]) == 0.0
    assert shrink([0.1], [0.05], 0.0)[0] == pytest.approx([0.0])


# ----------------------------------------------------------------------------- decomposition
def test_kitagawa_by_hand():
    # same rates, different composition: all composition
    assert kitagawa([50, 50], [10, 5], [20, 80], [4, 8]) == pytest.approx([0.03, 0.03, 0.0])
    # same composition, rates 0.3/0.1 vs 0.2/0.1: all rate, 0.05
    assert kitagawa([50, 50], [15, 5], [50, 50], [10, 5]) == pytest.approx([0.05, 0.0, 0.05])
    # a cell empty in A takes B's rate (0.5), so it adds to composition only:
    # composition (1 - .5)(.2 + .1)/2 + (0 - .5)(.5 + .5)/2 = -0.175, rate (.2 - .1)(1 + .5)/2
    assert kitagawa([100, 0], [20, 0], [50, 50], [5, 25]) == pytest.approx(
        [-0.1, -0.175, 0.075])


def test_oaxaca_parts_add_up_and_find_the_right_source():
    rng = np.random.default_rng(3)
    n = 40_000
    side = (rng.random(n) < 0.5).astype(float)
    x = (rng.random(n) < np.where(side == 1, 0.6, 0.2)).astype(float)  # A has more x
    X = np.column_stack([np.ones(n), x])
    # same coefficients on both sides: the gap is composition only
    y = (rng.random(n) < 0.1 + 0.2 * x).astype(float)
    gap, expl, unexpl = oaxaca(X, y, side)
    assert expl + unexpl == pytest.approx(gap)
    assert expl == pytest.approx(0.4 * 0.2, abs=0.01) and abs(unexpl) < 0.01
    # A 0.05 higher at the same x: the extra is practice
    y2 = (rng.random(n) < 0.1 + 0.2 * x + 0.05 * side).astype(float)
    _, expl2, unexpl2 = oaxaca(X, y2, side)
    assert unexpl2 == pytest.approx(0.05, abs=0.012) and expl2 == pytest.approx(0.08, abs=0.012)
    # replicate weights: all ones reproduce the estimate
    reps = oaxaca(X, y2, side, np.ones((3, n)))
    assert reps.shape == (3, 3) and reps[2] == pytest.approx(oaxaca(X, y2, side))


# ----------------------------------------------------------------------------- small frames
def _frame(n=20_000, seed=1, effects=None):
    """A population-like frame drawn from a known logit (gemeente effects on top)."""
    rng = np.random.default_rng(seed)
    gem = rng.choice(["0001", "0002", "0003", "0004"], n, p=[0.4, 0.3, 0.15, 0.15])
    age = rng.integers(0, 18, n)
    sex = rng.choice(["1", "2"], n)
    one = rng.random(n) < np.where(gem == "0002", 0.5, 0.12)
    bij = rng.random(n) < 0.06
    # practice effects balance, so the national reference is the no-effect one
    eff = effects or {"0001": 0.0, "0002": 0.0, "0003": 0.4, "0004": -0.4}
    lp = -2.2 + 0.05 * age + 0.2 * (sex == "1") + 0.9 * one + 0.6 * bij
    lp = lp + np.vectorize(eff.get)(gem)
    y = rng.random(n) < 1 / (1 + np.exp(-lp))
    hh = rng.integers(0, n // 2, n)
    return pd.DataFrame({
        "gemeentecode": gem, "leeftijd": age, "geslacht": sex,
        "leeftijdsgroep": pd.cut(age, [-1, 3, 11, 17], labels=["0-3", "4-11", "12-17"]),
        "typhh": np.where(one, "6", "5"), "huishouden_id": pd.array(hh, dtype="Int64"),
        "eenouder": pd.array(one, dtype="boolean"), "bijstand": pd.array(bij, dtype="boolean"),
        "jeugdhulp": pd.array(y, dtype="boolean")})


def test_cell_logit_is_the_person_logit():
    f = _frame(6_000)
    mf = model_frame(f, covariates=["eenouder", "bijstand"])
    res, cell, codes = fit_cell_logit(mf.data, ["leeftijd_geslacht", "eenouder", "bijstand"],
                                      mf.references)
    from jeugdkit.deepdive.model import design
    X = design(mf.data, ["leeftijd_geslacht", "eenouder", "bijstand"], mf.references,
               constant=False)
    person = sm.GLM(mf.data["y"], X, family=sm.families.Binomial()).fit()
    assert res.params.to_numpy() == pytest.approx(person.params[res.params.index].to_numpy(),
                                                  abs=1e-6)
    assert res.bse.to_numpy() == pytest.approx(person.bse[res.params.index].to_numpy(),
                                               rel=1e-5)
    assert res.df_resid == person.df_resid
    # output control sees persons, not cell rows
    run = ExportSession("t")
    run.check_model(for_output_check(res), name="m", unit="jongeren", population="p")
    assert run.outputs["m"].properties["nobs"] == len(mf.data)


def test_oe_adjusts_composition_and_finds_the_practice_effect():
    f = _frame(40_000)
    mf = model_frame(f, covariates=["eenouder", "bijstand"])
    oe = observed_vs_expected(mf).table.set_index(["niveau", "gemeentecode"])
    nl = oe.loc[("volledig", "NL")]
    assert nl["waargenomen"] == pytest.approx(nl["verwacht"])  # logit MLE: sums match
    # 0002 is high only through one-parent households: high at age x sex, 1 after adjustment
    assert oe.loc[("leeftijd_geslacht", "0002"), "ondergrens"] > 1
    g2 = oe.loc[("volledig", "0002")]
    assert g2["ondergrens"] < 1 < g2["bovengrens"]
    assert oe.loc[("volledig", "0003"), "ondergrens"] > 1
    assert oe.loc[("volledig", "0004"), "bovengrens"] < 1


def test_decompose_recovers_composition_and_practice():
    f = _frame(40_000)
    mf = model_frame(f, covariates=["eenouder", "bijstand"])

    def parts(gemeente, comparison):
        dec = decompose(mf, gemeente, comparison=comparison, replicates=60, seed=1)
        return dec.table.set_index(["methode", "component"])

    # 0002 against 0001: no practice effect, more one-parent households
    dec = parts("0002", ["0001", "0002"])
    for m in ("kitagawa", "oaxaca_blinder"):
        gap = dec.loc[(m, "verschil"), "waarde"]
        total = dec.loc[(m, "samenstelling"), "waarde"] + dec.loc[(m, "praktijk"), "waarde"]
        assert total == pytest.approx(gap)
        # no practice effect in 0002: its interval holds 0
        lo, hi = dec.loc[(m, "praktijk"), ["ondergrens", "bovengrens"]]
        assert lo < 0 < hi
        assert dec.loc[(m, "samenstelling"), "ondergrens"] > 0
    dec3 = parts("0003", ["0001"])
    assert dec3.loc[("oaxaca_blinder", "praktijk"), "ondergrens"] > 0
    # the same seed gives the same intervals
    assert parts("0003", ["0001"])["ondergrens"].equals(dec3["ondergrens"])


# ----------------------------------------------------------------------------- planted truth
@pytest.fixture(scope="session")
def deepdive_run(synthetic_default_tree, tmp_path_factory):
    """Run the CLI once on the default synthetic tree (100,000 persons)."""
    from jeugdkit.cli import main
    tmp = synthetic_default_tree
    truth = json.loads((tmp / "truth.json").read_text())
    g = truth["jeugdhulp"]["composition_only"]
    out = tmp_path_factory.mktemp("deepdive") / "out"
    rc = main(["deepdive", "--data-root", str(tmp / "ra"), "--cache-dir", str(tmp / "cache"),
               "--period", "2023", "--gemeente", g, "--compare", "stedelijkheid",
               "--replicates", "40", "--out", str(out)])
    assert rc == 0
    return out, truth


def _csv(out, name):
    return pd.read_csv(out / f"{name}.csv", dtype={"gemeentecode": str}, keep_default_na=True)


def test_cli_writes_the_released_files(deepdive_run):
    out, _ = deepdive_run
    oe = _csv(out, "oe")
    assert list(oe.columns) == ["gemeentecode", "niveau", "waargenomen", "verwacht", "ratio",
                                "ondergrens", "bovengrens", "signaal"]
    assert set(oe["niveau"]) == {"leeftijd_geslacht", "volledig"}
    assert {"NL", "groep"} <= set(oe["gemeentecode"])
    assert set(oe["signaal"].fillna("")) <= {"", "hoger", "lager"}
    for name in ("funnel.png", "funnel_tabel.csv", "effecten.csv", "spreiding.csv",
                 "decompositie.csv", "panel.csv", "modelfit.csv", "oe_model_volledig.csv",
                 "effecten_lpm.csv", "effecten_logit.csv", "log/results.json"):
        assert (out / name).exists(), name
    log = json.loads((out / "log" / "results.json").read_text())
    assert all(r["status"] == "pass" for r in log["results"].values())
    kinds = {r["type"] for r in log["results"].values()}
    assert kinds == {"table", "regression", "figure"}
    assert log["results"]["funnel"]["properties"]["source"] == "oe_verwacht_volledig"
    # nothing per person leaves: every released table is per gemeente or a parameter table
    assert len(_csv(out, "effecten")) <= 25


def test_planted_outliers_signal_and_composition_only_does_not(deepdive_run):
    out, truth = deepdive_run
    oe = _csv(out, "oe")
    oe["signaal"] = oe["signaal"].fillna("")
    full = oe[oe["niveau"] == "volledig"].set_index("gemeentecode")
    high, low = truth["jeugdhulp"]["outliers"]["high"], truth["jeugdhulp"]["outliers"]["low"]
    assert all(full.loc[g, "signaal"] == "hoger" for g in high)
    assert all(full.loc[g, "signaal"] == "lager" for g in low)
    comp = truth["jeugdhulp"]["composition_only"]
    assert full.loc[comp, "signaal"] == ""
    assert full.loc[comp, "ondergrens"] < 1 < full.loc[comp, "bovengrens"]
    # it does look high on age and sex alone
    age_sex = oe[oe["niveau"] == "leeftijd_geslacht"].set_index("gemeentecode")
    assert age_sex.loc[comp, "ondergrens"] > 1
    # near-zero gemeenten: no signal at all
    near = [g for g, v in truth["jeugdhulp"]["gemeente_effects"].items()
            if v["role"] == "near zero"]
    assert (full.loc[[g for g in near if g in full.index], "signaal"] == "").all()


TRUTH_PARAMS = {"one_parent": "eenouder[ja]", "bijstand": "bijstand[ja]",
                "income_q1": "inkomen_kwintiel[1]", "speciaal_onderwijs": "speciaal_onderwijs[ja]",
                "parent_edu_low": "opleiding_ouders[laag]",
                "parent_edu_mid": "opleiding_ouders[middelbaar]",
                "parent_edu_unknown": "opleiding_ouders[onbekend]"}


def test_planted_odds_ratios_recovered(deepdive_run):
    """The logit with gemeente dummies is the generator's model (quintiles 2-5 share one
    effect, so q1 against q5 estimates the planted q1 effect). Seven intervals: each at
    +- 3 se (99.7%), so the seven together miss by chance with probability < 2%."""
    out, truth = deepdive_run
    p = _csv(out, "effecten_logit").set_index("parameter")
    for key, name in TRUTH_PARAMS.items():
        true = truth["jeugdhulp"]["coefficients"][key]["log_odds"]
        coef, se = p.loc[name, "coef"], p.loc[name, "std_err"]
        assert abs(coef - true) < 3 * se, (key, coef, se, true)
        assert p.loc[name, "odds_ratio"] == pytest.approx(np.exp(coef))
    # and the composition explains part of the raw spread between gemeenten
    spread = _csv(out, "spreiding").set_index("effect")
    assert 0 < spread.loc["aangepast", "verklaard_door_samenstelling"] < 1


def test_wijkteam_panel_effect_recovered(deepdive_run):
    """25 gemeenten x 6 years: the 95% interval must hold the planted beta and the estimate
    must be negative (the realised panel of this seed supports it: truth's own regression
    on the realised probabilities gives -0.200)."""
    out, truth = deepdive_run
    p = _csv(out, "panel").set_index("parameter").loc["wijkteam_aandeel_lag"]
    beta = truth["wijkteam_panel"]["beta"]
    assert p["ci_lower"] < beta < p["ci_upper"]
    assert p["coef"] < 0
    assert p["lag_jaren"] == truth["wijkteam_panel"]["lag_years"]


def test_decomposition_of_composition_only_gemeente(deepdive_run):
    out, _ = deepdive_run
    d = _csv(out, "decompositie").set_index(["methode", "component"])
    assert d.loc[("oaxaca_blinder", "samenstelling"), "ondergrens"] > 0
    for m in ("kitagawa", "oaxaca_blinder"):
        assert d.loc[(m, "samenstelling"), "waarde"] + d.loc[(m, "praktijk"), "waarde"] == \
            pytest.approx(d.loc[(m, "verschil"), "waarde"])


def test_release_blanks_gemeenten_whose_count_is_suppressed(tmp_path):
    """A gemeente with fewer than 10 users: its O is suppressed, so no ratio, interval or
    signal leaves (E and the ratio would give O back); everything written passed the log."""
    from types import SimpleNamespace

    from jeugdkit.deepdive import deep_dive, release_deep_dive
    f = _frame(20_000)
    small = f.iloc[:40].copy()
    small["gemeentecode"] = "0005"
    small["jeugdhulp"] = pd.array([True] * 4 + [False] * 36, dtype="boolean")
    pop = SimpleNamespace(frame=pd.concat([f.iloc[40:], small], ignore_index=True),
                          period=SimpleNamespace(label="2023"))
    dd = deep_dive(pop, covariates=["eenouder", "bijstand"])
    rel = release_deep_dive(dd, tmp_path)
    oe = rel["oe"].set_index(["niveau", "gemeentecode"])
    row = oe.loc[("volledig", "0005")]
    assert pd.isna(row["waargenomen"]) and pd.isna(row["ratio"]) and row["signaal"] == ""
    assert not oe.loc[("volledig", "0001"), ["ratio", "ondergrens"]].isna().any()
    assert "0005" not in set(rel["funnel_tabel"]["gemeentecode"])
    log = json.loads((tmp_path / "log" / "results.json").read_text())
    assert log["results"]["oe_waargenomen"]["files"][0]["sdc"]["summary"]["suppressed"]
    assert (tmp_path / "oe.csv").exists() and (tmp_path / "funnel.png").exists()


def test_a_share_is_blank_wherever_its_observed_count_is(tmp_path):
    """effecten.csv's share times the gemeente's youths (released elsewhere) is its observed
    count: where oe.csv blanks that count, the share must be blank too (on this tree gemeente
    0041 showed its share beside a blank count)."""
    import synthetic
    from jeugdkit.deepdive.release import deep_dive, release_deep_dive
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    synthetic.generate(tmp_path, persons=5_000, gemeenten=8, years=(2019, 2024))
    pop = build_population(Reader(tmp_path / "ra", cache_dir=tmp_path / "cache"), "2023")
    released = release_deep_dive(deep_dive(pop, replicates=0), tmp_path / "uit", write=False)
    observed = released["oe"].drop_duplicates("gemeentecode").set_index("gemeentecode")[
        "waargenomen"]
    share = released["effecten"].set_index("gemeentecode")["aandeel"]
    blank = [c for c in share.index if pd.isna(observed.get(c))]
    assert blank, "the tree should have a gemeente whose observed count is suppressed"
    assert share[blank].isna().all(), share[blank]


def test_a_model_summary_is_judged_and_released_like_the_fit_it_came_from(tmp_path):
    """The period's gemeente effects are fitted once and kept as ModelSummary (the fitted
    AbsorbingLS carries its design). Output control must judge the summary exactly as the
    fit: the same parameter table and properties, and a model blocked for a small dummy or
    fixed-effect level stays blocked."""
    import pickle
    from types import SimpleNamespace

    from jeugdkit.deepdive import deep_dive, release_deep_dive
    from jeugdkit.deepdive.effects import gemeente_effects
    from jeugdkit.errors import DisclosureError
    from jeugdkit.output.models import ModelSummary, model_checks
    from jeugdkit.settings import OutputControl

    f = _frame(8_000)
    mf = model_frame(f, covariates=["eenouder", "bijstand"])
    eff = gemeente_effects(mf)
    for fit in (eff.lpm, for_output_check(eff.logit)):
        slim = ModelSummary.of(fit)
        table, props, rules = model_checks(fit, "m")
        s_table, s_props, s_rules = model_checks(pickle.loads(pickle.dumps(slim)), "m")
        pd.testing.assert_frame_equal(table, s_table)
        assert props == s_props and rules == s_rules
        assert props["binary_regressors_checked"] > 0
        assert bool(props["fixed_effects"]) == (fit is eff.lpm)  # the logit has dummies
        # a threshold above the smallest dummy side blocks both, with the same reason
        smallest = min(min(v) for v in slim.dummies.values())
        strict = OutputControl(min_units=smallest + 1)
        with pytest.raises(DisclosureError) as live:
            model_checks(fit, "m", strict)
        with pytest.raises(DisclosureError) as kept:
            model_checks(slim, "m", strict)
        assert str(live.value) == str(kept.value)
    assert len(pickle.dumps(ModelSummary.of(eff.lpm))) * 50 < len(pickle.dumps(eff.lpm))

    # a deep dive given the kept effects releases what it releases when it fits them itself
    pop = SimpleNamespace(frame=f, period=SimpleNamespace(label="2023"))
    kept = type(eff)(ModelSummary.of(eff.lpm), ModelSummary.of(for_output_check(eff.logit)),
                     eff.table, eff.spread, eff.person_values, eff.notes)
    from jeugdkit.deepdive.oe import model_fit
    kept.logit.fit = model_fit(eff.logit)
    own = release_deep_dive(deep_dive(pop, covariates=["eenouder", "bijstand"], replicates=0),
                            tmp_path / "a")
    given = release_deep_dive(deep_dive(pop, covariates=["eenouder", "bijstand"], replicates=0,
                                        effects=kept), tmp_path / "b")
    for name in ("effecten", "effecten_lpm", "effecten_logit", "modelfit", "spreiding"):
        pd.testing.assert_frame_equal(own[name], given[name], obj=name)
    a = json.loads((tmp_path / "a" / "log" / "results.json").read_text())["results"]
    b = json.loads((tmp_path / "b" / "log" / "results.json").read_text())["results"]
    assert a["effecten_lpm"]["properties"] == b["effecten_lpm"]["properties"]
    assert a["effecten_lpm"]["command"] == b["effecten_lpm"]["command"]
    # effects fitted on another frame are refused, naming both sizes
    with pytest.raises(Exception, match=r"fitted on 8000 youths.*holds 7999"):
        deep_dive(SimpleNamespace(frame=f.iloc[1:], period=pop.period),
                  covariates=["eenouder", "bijstand"], replicates=0, effects=kept)
