"""Output control: suppression closes leaks through margins and linked tables, the LP audit
agrees with hand-computed bounds, and models, figures and person keys are checked."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from jeugdkit.errors import DisclosureError, JeugdkitError  # noqa: E402
from jeugdkit.output import ExportSession, audit_tables, find_person_keys  # noqa: E402
from jeugdkit.settings import OutputControl, Settings  # noqa: E402


def released(rows, dims, count="n"):
    """Return a released tidy table as a checker would receive it."""
    frame = pd.DataFrame(rows, columns=[*dims, count])
    frame[count] = frame[count].astype("Float64")
    frame.attrs.update({"dims": dims, "count": count})
    return frame


def cells_2x3():
    """Rows A, B, C x columns x, y, z: one cell (A, x) below 10."""
    values = {"A": [3, 20, 30], "B": [15, 25, 12], "C": [40, 18, 22]}
    return pd.DataFrame([(r, c, v) for r, row in values.items() for c, v in zip("xyz", row)],
                        columns=["r", "c", "n"])


def test_lp_audit_matches_hand_computed_bounds():
    # 2x2 with all margins released and every inner cell hidden:
    #   a + b = 10, c + d = 20, a + c = 11, b + d = 19, all >= 0
    #   a in [0, 10], b in [0, 10], c in [1, 11], d in [9, 19]
    table = released([("r1", "k1", None), ("r1", "k2", None), ("r1", "totaal", 10),
                      ("r2", "k1", None), ("r2", "k2", None), ("r2", "totaal", 20),
                      ("totaal", "k1", 11), ("totaal", "k2", 19), ("totaal", "totaal", 30)],
                     ["r", "k"])
    bounds = audit_tables(table).set_index(bounds_key := "cell", drop=False)
    got = {(c["r"], c["k"]): (lo, hi) for c, lo, hi in
           zip(bounds[bounds_key], bounds["lower"], bounds["upper"])}
    assert got == {("r1", "k1"): (0, 10), ("r1", "k2"): (0, 10),
                   ("r2", "k1"): (1, 11), ("r2", "k2"): (9, 19)}


def test_primary_suppression_alone_leaks_through_margins():
    data = cells_2x3()
    full = data.pivot(index="r", columns="c", values="n")
    rows = []
    for r in "ABC":
        for c in "xyz":
            v = full.loc[r, c]
            rows.append((r, c, None if v < 10 else v))
        rows.append((r, "totaal", full.loc[r].sum()))
    for c in "xyz":
        rows.append(("totaal", c, full[c].sum()))
    rows.append(("totaal", "totaal", full.values.sum()))
    bounds = audit_tables(released(rows, ["r", "c"]))
    assert len(bounds) == 1 and bounds["width"].iloc[0] == 0  # (A, x) = 53 - 20 - 30 = 3


def test_secondary_suppression_closes_the_leak():
    run = ExportSession("t", run_timestamp="fixed")
    table = run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="jongeren",
                           population="p")
    assert table.loc[(table.r == "A") & (table.c == "x"), "n"].isna().all()
    assert table["n"].isna().sum() >= 4
    bounds = audit_tables(table)
    assert (bounds["width"] >= 10).all()
    assert (run.audit(exact=True)["width"] >= 10).all()
    shown = table["n"].dropna()
    assert ((shown >= 10) | (shown == 0)).all()


def test_three_dimensional_table_with_hierarchy_passes_the_audit():
    rng = np.random.default_rng(5)
    rows = [(g, a, s, int(rng.poisson(lam)))
            for g, lam in [("G1", 2), ("G2", 30), ("G3", 8), ("G4", 60)]
            for a in ("0-3", "4-11", "12-17") for s in ("m", "v")]
    data = pd.DataFrame(rows, columns=["gemeente", "leeftijd", "geslacht", "n"])
    hier = {"gemeente": {"G1": "R1", "G2": "R1", "G3": "R2", "G4": "R2"}}
    run = ExportSession("t", run_timestamp="fixed")
    table = run.freq_table(data, ["gemeente", "leeftijd", "geslacht"], count="n", name="t",
                           unit="jongeren", population="p", hierarchies=hier)
    assert set(table["gemeente"]) == {"G1", "G2", "G3", "G4", "R1", "R2", "totaal"}
    bounds = audit_tables(table)
    assert len(bounds) > 0 and (bounds["width"] >= 10).all()
    shown = table["n"].dropna()
    assert ((shown >= 10) | (shown == 0)).all()


def test_audit_sees_a_leak_across_two_linked_tables():
    # each table alone is safe, together they pin L1: 88 - 45 - 40 = 3
    by_age = released([("L1", None), ("L2", None), ("L3", 45), ("totaal", 88)], ["leeftijd"])
    by_age_sex = released(
        [("L1", "m", None), ("L1", "v", None), ("L1", "totaal", None),
         ("L2", "m", None), ("L2", "v", None), ("L2", "totaal", 40),
         ("L3", "m", None), ("L3", "v", None), ("L3", "totaal", None),
         ("totaal", "m", 41), ("totaal", "v", 47), ("totaal", "totaal", 88)],
        ["leeftijd", "geslacht"])
    assert audit_tables(by_age)["width"].min() >= 10
    assert audit_tables(by_age_sex)["width"].min() >= 10
    joint = audit_tables([by_age, by_age_sex])
    assert joint["width"].min() == 0


def test_linked_tables_in_one_run_are_protected_jointly():
    persons = pd.DataFrame({
        "leeftijd": ["L1"] * 3 + ["L2"] * 40 + ["L3"] * 45,
        "geslacht": ["m", "v", "v"] + ["m", "v"] * 20 + ["m"] * 20 + ["v"] * 25,
        "hulpvorm": ["h1"] * 2 + ["h2"] + ["h1", "h2"] * 20 + ["h1"] * 30 + ["h2"] * 15,
    })
    run = ExportSession("t", run_timestamp="fixed")
    a = run.freq_table(persons, ["leeftijd"], name="age", unit="jongeren", population="p")
    b = run.freq_table(persons, ["leeftijd", "geslacht"], name="age_sex", unit="jongeren",
                       population="p")
    c = run.freq_table(persons, ["geslacht", "hulpvorm"], name="sex_hv", unit="jongeren",
                       population="p")
    joint = audit_tables([a, b, c])
    assert (joint["width"] >= 10).all()
    # the shared cell L1 is suppressed in both tables that hold it
    assert a.loc[a.leeftijd == "L1", "aantal"].isna().all()
    assert b.loc[(b.leeftijd == "L1") & (b.geslacht == "totaal"), "aantal"].isna().all()
    # joint release through freq_tables gives the same guarantee
    run2 = ExportSession("t2", run_timestamp="fixed")
    outs = run2.freq_tables([
        {"data": persons, "dims": ["leeftijd"], "name": "age", "unit": "j", "population": "p"},
        {"data": persons, "dims": ["leeftijd", "geslacht"], "name": "as", "unit": "j",
         "population": "p"}])
    assert (audit_tables(outs)["width"] >= 10).all()


def test_tables_of_one_population_must_agree():
    run = ExportSession("t", run_timestamp="fixed")
    run.freq_table(pd.DataFrame({"g": ["a"] * 20}), ["g"], name="one", unit="j",
                   population="p")
    with pytest.raises(DisclosureError, match="must agree"):
        run.freq_table(pd.DataFrame({"g": ["a"] * 21}), ["g"], name="two", unit="j",
                       population="p")


def test_rounding_releases_multiples_of_the_base():
    run = ExportSession("t", run_timestamp="fixed")
    table = run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="j",
                           population="p", rounding_base=5)
    shown = table["n"].dropna()
    assert (shown % 5 == 0).all()
    assert table.loc[(table.r == "A") & (table.c == "x"), "n"].isna().all()
    assert (audit_tables(table, rounding_base=5)["width"] >= 10).all()
    assert run.outputs["t"].sdc["summary"]["rounded"] == 5


def test_structural_zeros_stay_visible():
    data = pd.DataFrame({"leeftijd": ["0-11", "0-11", "12-17", "12-17"],
                         "maatregel": ["ots", "jr", "ots", "jr"], "n": [50, 0, 40, 30]})
    run = ExportSession("t", run_timestamp="fixed")
    table = run.freq_table(data, ["leeftijd", "maatregel"], count="n", name="t", unit="j",
                           population="p",
                           structural=pd.DataFrame({"leeftijd": ["0-11"], "maatregel": ["jr"]}))
    cell = table[(table.leeftijd == "0-11") & (table.maatregel == "jr")]
    assert cell["aantal" if "aantal" in table else "n"].iloc[0] == 0
    assert table["n"].notna().all()
    with pytest.raises(DisclosureError, match="structural zero"):
        run.freq_table(data.assign(n=[50, 3, 40, 30]), ["leeftijd", "maatregel"], count="n",
                       name="t2", unit="j", population="q",
                       structural=pd.DataFrame({"maatregel": ["jr"], "leeftijd": ["0-11"]}))


def test_stats_table_threshold_share_and_dominance():
    rng = np.random.default_rng(1)
    units = pd.DataFrame({"groep": ["a"] * 30 + ["b"] * 5 + ["c"] * 25,
                          "duur": rng.integers(10, 20, 60).astype(float),
                          "verblijf": [1] * 12 + [0] * 18 + [1] * 5 + [1] * 3 + [0] * 22})
    units.loc[35, "duur"] = 10_000  # one dominant contributor in group c
    run = ExportSession("t", run_timestamp="fixed")
    mean = run.stats_table(units, ["groep"], value="duur", stat="mean", name="duur",
                           unit="trajecten", population="p")
    assert mean.set_index("groep")["mean_duur"].isna()[["b", "c"]].all()
    # group c and the total are dominated by the one long traject
    assert run.outputs["duur"].sdc["summary"]["nk-rule"] == 2
    assert mean["mean_duur"].isna().sum() >= 3
    share = run.stats_table(units, ["groep"], value="verblijf", stat="share", name="verblijf",
                            unit="jongeren", population="p")
    s = share.set_index("groep")["share_verblijf"]
    assert pd.notna(s["a"]) and s[["b", "c"]].isna().all()  # b: 5 units; c: numerator 3
    with pytest.raises(DisclosureError, match="minimum or maximum"):
        run.stats_table(units, ["groep"], value="duur", stat="max", name="m", unit="t",
                        population="p")
    with pytest.raises(DisclosureError, match="minimum or maximum"):
        run.stats_table(units.rename(columns={"duur": "max_duur"}), ["groep"],
                        value="max_duur", stat="median", name="m2", unit="t", population="p")


def test_fixed_effect_model_with_a_small_gemeente_is_blocked():
    from linearmodels import AbsorbingLS

    rng = np.random.default_rng(3)
    gem = pd.Series(["GM1"] * 200 + ["GM2"] * 150 + ["GM3"] * 4, name="gemeente")
    x = pd.DataFrame({"leeftijd": rng.normal(size=len(gem))})
    y = pd.Series(rng.binomial(1, 0.1, len(gem)).astype(float), name="jeugdhulp")
    res = AbsorbingLS(y, x, absorb=pd.DataFrame({"gemeente": gem.astype("category")})).fit()
    run = ExportSession("t", run_timestamp="fixed")
    with pytest.raises(DisclosureError, match="GM3"):
        run.check_model(res, name="lpm", unit="jongeren", population="p",
                        n_per_level={"gemeente": gem})
    keep = gem != "GM3"
    res = AbsorbingLS(y[keep], x[keep],
                      absorb=pd.DataFrame({"gemeente": gem[keep].astype("category")})).fit()
    params = run.check_model(res, name="lpm", unit="jongeren", population="p",
                             n_per_level={"gemeente": gem[keep]})
    assert list(params.index) == ["leeftijd"] and "std_err" in params


def test_statsmodels_logit_and_degrees_of_freedom():
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    x = sm.add_constant(pd.DataFrame({"a": rng.normal(size=11)}))
    y = (rng.random(11) < 0.5).astype(float)
    res = sm.OLS(y, x).fit()
    run = ExportSession("t", run_timestamp="fixed")
    with pytest.raises(DisclosureError, match="degrees of freedom"):
        run.check_model(res, name="ols", unit="j", population="p")
    x = sm.add_constant(pd.DataFrame({"a": rng.normal(size=300),
                                      "d": (np.arange(300) < 5).astype(float)}))
    y = (rng.random(300) < 0.5).astype(float)
    res = sm.Logit(y, x).fit(disp=0)
    with pytest.raises(DisclosureError, match="dummy 'd'"):
        run.check_model(res, name="logit", unit="j", population="p")


def test_person_keys_block_every_output():
    run = ExportSession("t", run_timestamp="fixed")
    data = pd.DataFrame({"RINPERSOON": ["000123456"] * 20, "g": ["a"] * 20})
    with pytest.raises(DisclosureError, match="person key"):
        run.freq_table(data, ["RINPERSOON"], name="keys", unit="j", population="p")
    with pytest.raises(DisclosureError, match="person key"):
        run.freq_table(pd.DataFrame({"wie": [88046829312] * 20}), ["wie"], name="int_keys",
                       unit="j", population="q")
    assert find_person_keys(pd.DataFrame({"rin_ma": [1]}))
    assert find_person_keys(pd.DataFrame({"x": [88046829312.0]}))
    assert not find_person_keys(pd.DataFrame({"gemeente": ["GM0363"], "n": [12]}))


def test_figures_only_from_released_tables():
    run = ExportSession("t", run_timestamp="fixed")
    table = run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="j",
                           population="p")
    fig, ax = plt.subplots()
    shown = table.dropna()
    ax.bar(shown["r"] + shown["c"], shown["n"].astype(float))
    run.release_figure(fig, source="t", name="t_fig")
    fig2, ax2 = plt.subplots()
    ax2.scatter(np.arange(500), np.arange(500))
    with pytest.raises(DisclosureError, match="person-level"):
        run.release_figure(fig2, source="t", name="scatter")
    with pytest.raises(DisclosureError, match="not a table released"):
        run.release_figure(fig, source="microdata", name="other")
    plt.close("all")


def test_settings_only_tighten():
    with pytest.raises(DisclosureError, match="tightened"):
        ExportSession("t", settings=OutputControl(min_units=5))
    run = ExportSession("t", settings=Settings().updated({"output_control": {"min_units": 20}}),
                        run_timestamp="fixed")
    table = run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="j",
                           population="p")
    assert ((table["n"].dropna() >= 20) | (table["n"].dropna() == 0)).all()
    with pytest.raises(DisclosureError, match="tightened"):
        run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t2", unit="j",
                       population="q", min_units=10)
    income = run.freq_table(cells_2x3(), ["r", "c"], count="n", name="inkomen", unit="j",
                            population="r", min_units=100)
    assert income["n"].dropna().ge(100).all()


def test_log_is_deterministic_and_acro_like(tmp_path):
    def make(folder, stamp):
        run = ExportSession("run", run_timestamp=stamp)
        run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="jongeren",
                       population="p")
        return run.write(folder)

    a = make(tmp_path / "a", "2024-01-01T00:00:00")
    b = make(tmp_path / "b", "2025-06-01T12:00:00")
    la = json.loads((a / "results.json").read_text())
    lb = json.loads((b / "results.json").read_text())
    assert la["run"]["timestamp"] != lb["run"]["timestamp"]
    la.pop("run")
    lb.pop("run")
    assert la == lb
    rec = la["results"]["t"]
    assert {"uid", "status", "type", "properties", "files", "outcome", "command", "summary",
            "comments", "exception"} <= set(rec)
    f = rec["files"][0]
    assert f["name"] == "t.csv" and len(f["sha256"]) == 64
    assert f["sdc"]["summary"]["threshold"] == 1 and f["sdc"]["cells"]["threshold"]
    assert la["audit"]["p|jongeren"]["narrowest_interval"] >= 10
    assert "t.csv" in (a / "summary.md").read_text()
    assert (a / "checksums.sha256").read_text() == (b / "checksums.sha256").read_text()


def test_output_names_are_unique():
    run = ExportSession("t", run_timestamp="fixed")
    run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="j", population="p")
    with pytest.raises(JeugdkitError, match="exists already"):
        run.freq_table(cells_2x3(), ["r", "c"], count="n", name="t", unit="j", population="p")
