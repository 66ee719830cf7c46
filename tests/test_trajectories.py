"""Trajectories and outcome indicators: hand-built edge cases with exact answers, and the
synthetic generator's planted re-entry rate."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from jeugdkit.errors import DisclosureError
from jeugdkit.output import ExportSession
from jeugdkit.population import build_population
from jeugdkit.read import Reader
from jeugdkit.settings import DEFAULT
from jeugdkit.trajectories import (
    NotComputableError,
    build_history,
    duur_units,
    herhaald_beroep,
    herhaald_beroep_units,
    kaplan_meier,
    overgangen,
    overlap_units,
    release_trajectories,
    uitval,
)
from tests import trajectory_tree as tree

KEY = 88046829568  # the kit's int64 key of R000000000: rin n is KEY + n


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trajectories")
    root = tree.build_tree(tmp / "ra")
    reader = Reader(root, cache_dir=tmp / "cache")
    pop = build_population(reader, "2023")
    return reader, pop, build_history(reader, pop.period)


def _by_rin(units, rin, column):
    return units.loc[units["rin"] == KEY + rin, column].tolist()


def test_history_reads_lookback_to_follow_up_and_merges_year_files(hand):
    _, _, hist = hand
    assert hist.years == list(range(2018, 2025)) and hist.missing == []
    t = hist.trajecten
    assert len(t) == len(tree.TRAJECTEN)          # the crossing traject is one, not three
    one = t[t["rin"] == KEY + 1].iloc[0]
    assert (one["eind"], one["reden_einde"]) == (pd.Timestamp("2023-03-31"), "03")
    assert t[t["rin"] == KEY + 6]["begin"].min() == pd.Timestamp("2012-05-01")  # before 2015


def test_uitval_strict_broad_and_onbekend_out_of_denominator(hand):
    _, pop, hist = hand
    nl = uitval(pop, hist).set_index(["gemeentecode", "definitie"]).loc["NL"]
    assert nl.loc["strikt", ["afgesloten", "onbekend", "bekend", "uitval"]].tolist() == \
        [7, 1, 6, 1]
    assert nl.loc["breed", "uitval"] == 3
    assert nl.loc["strikt", "pct_uitval"] == pytest.approx(100 / 6, abs=0.01)
    assert nl.loc["breed", "pct_onbekend"] == pytest.approx(100 / 7, abs=0.01)


def test_herhaald_beroep_statline_reopened_next_day_is_no_repeat(hand):
    _, pop, hist = hand
    units = herhaald_beroep_units(pop, hist, "statline")
    assert len(units) == 9 and units["teller"].sum() == 3
    started = units.set_index(["rin", "begin"])["teller"]
    assert not started[(KEY + 2, pd.Timestamp("2023-03-01"))]     # day after closing
    assert started[(KEY + 3, pd.Timestamp("2023-02-01"))]         # one day between
    assert started[(KEY + 6, pd.Timestamp("2023-11-01"))]         # after a pre-2015 traject
    assert started[(KEY + 7, pd.Timestamp("2023-10-01"))]
    assert not started[(KEY + 9, pd.Timestamp("2023-03-01"))]     # care running the day before
    assert not started[(KEY + 4, pd.Timestamp("2023-05-01"))]     # no earlier care
    row = herhaald_beroep(pop, hist).set_index("gemeentecode").loc["NL"]
    assert (row["noemer"], row["teller"], row["definitie"]) == (9, 3, "statline")


def test_herhaald_beroep_anchor_start_is_a_setting(hand):
    _, pop, hist = hand
    settings = DEFAULT.updated({"analysis": {"herhaald_beroep_anchor": "start"}})
    units = herhaald_beroep_units(pop, hist, "statline", settings)
    assert units["teller"].sum() == 3


def test_herhaald_beroep_uitkomst_no_new_start_up_to_next_half_year(hand):
    _, pop, hist = hand
    units = herhaald_beroep_units(pop, hist, "uitkomst")
    assert len(units) == 7
    assert sorted(units.loc[units["teller"], "rin"] - KEY) == [1, 3, 5]
    # 6's closure (2023-09-30) is followed to 2024-06-30: its new start of 2023-11-01 counts
    assert _by_rin(units, 6, "teller") == [False]
    row = herhaald_beroep(pop, hist, "uitkomst").set_index("gemeentecode").loc["NL"]
    assert (row["noemer"], row["teller"]) == (7, 3)


def test_duration_censoring_and_uncertain_end(hand):
    _, pop, hist = hand
    units = duur_units(pop, hist)
    assert len(units) == 9
    c = units[units["rin"] == KEY + 4].iloc[0]
    assert c["duur_dagen"] == tree.expected_duration("20230501", None) and not c["gebeurtenis"]
    b = units[(units["rin"] == KEY + 3)].iloc[0]
    assert b["duur_dagen"] == tree.expected_duration("20230201", "20230630") and b["gebeurtenis"]
    e = units[units["rin"] == KEY + 5].iloc[0]
    assert e["eind_onzeker"] and e["gebeurtenis"]                  # default: an event
    settings = DEFAULT.updated({"analysis": {"duration_unknown_end": "gecensureerd"}})
    e2 = duur_units(pop, hist, settings).set_index("rin").loc[KEY + 5]
    assert e2["eind_onzeker"] and not e2["gebeurtenis"]


def test_kaplan_meier_percentiles_and_unreached_quantile():
    units = pd.DataFrame({"g": "a", "duur_dagen": np.arange(10, 101, 10.0),
                          "gebeurtenis": True})
    km = kaplan_meier(units, ["g"]).iloc[0]
    assert (km["trajecten"], km["gebeurtenissen"]) == (10, 10)
    # first duration where survival drops below 1 - p
    assert (km["p25"], km["p50"], km["p75"]) == (30.0, 60.0, 80.0)
    censored = units.assign(gebeurtenis=[True] * 3 + [False] * 7)
    km = kaplan_meier(censored, ["g"]).iloc[0]
    assert km["p25"] == 30.0 and math.isnan(km["p50"])             # median not reached


def test_transitions_zonder_to_met_verblijf_within_window(hand):
    _, pop, hist = hand
    row = overgangen(pop, hist).set_index("gemeentecode").loc["NL"]
    assert (row["noemer"], row["teller"]) == (7, 1)
    # person 8 (met verblijf after 13 months) is out; a 14-month window would need 2025
    settings = DEFAULT.updated({"analysis": {"transition_window_months": 14}})
    with pytest.raises(NotComputableError, match="2025"):
        overgangen(pop, hist, settings=settings)


def test_missing_years_are_not_computable_never_silent(tmp_path):
    root = tree.build_tree(tmp_path / "ra", years=range(2018, 2024))   # no 2024 file
    reader = Reader(root, cache_dir=tmp_path / "cache")
    pop = build_population(reader, "2023")
    hist = build_history(reader, pop.period)
    assert hist.missing == [2024]
    with pytest.raises(NotComputableError, match="2024"):
        herhaald_beroep_units(pop, hist, "uitkomst")
    with pytest.raises(NotComputableError, match="2024"):
        overgangen(pop, hist)
    assert len(herhaald_beroep_units(pop, hist, "statline")) == 9   # needs 2018-2023 only
    with pytest.raises(NotComputableError, match="jeugdbescherming"):
        overlap_units(pop, "jeugdbescherming")
    out = release_trajectories(pop, hist, tmp_path / "out")
    hb = pd.read_csv(tmp_path / "out" / "herhaald_beroep.csv", dtype=str)
    assert hb.loc[hb["definitie"] == "uitkomst", "opmerking"].str.contains(
        "niet berekenbaar").all()
    assert any("2024" in n for n in out["_notes"]["note"])


def test_release_hand_tree_suppresses_small_cells(hand, tmp_path):
    _, pop, hist = hand
    release_trajectories(pop, hist, tmp_path)
    for name in ("uitval", "herhaald_beroep", "duur", "overgangen", "overlap",
                 "uitkomstitems", "spiegel"):
        frame = pd.read_csv(tmp_path / f"{name}.csv", dtype=str)
        for c in frame.columns:
            if c in ("afgesloten", "uitval", "noemer", "teller", "aantal", "ingevuld"):
                v = pd.to_numeric(frame[c], errors="coerce").dropna()
                assert ((v == 0) | (v >= 10)).all(), (name, c)
    duur = pd.read_csv(tmp_path / "duur.csv")
    assert duur[["p25", "p50", "p75"]].isna().all().all()       # 9 trajecten: too few
    log = json.loads((tmp_path / "log" / "results.json").read_text())
    assert "duur_kaplan_meier" in log["results"]


def test_precomputed_table_checks_each_count_and_refuses_extremes():
    run = ExportSession("t")
    table = pd.DataFrame({"hulpvorm": ["01", "02", "totaal"], "p50": [10.0, 20.0, 15.0],
                          "trajecten": [40, 12, 52], "gebeurtenissen": [30, 9, 39]})
    out = run.precomputed_table(table, ["hulpvorm"], values=["p50"],
                                counts=["trajecten", "gebeurtenissen"], name="km",
                                unit="trajecten", population="p")
    assert out["p50"].isna().tolist() == [False, True, False]
    sdc = run.outputs["km"].sdc
    assert sdc["cells"]["threshold"][0]["reason"] == "gebeurtenissen < 10"
    with pytest.raises(DisclosureError):
        run.precomputed_table(table.rename(columns={"p50": "max"}), ["hulpvorm"],
                              values=["max"], counts=["trajecten"], name="km2",
                              unit="trajecten", population="p")


# ----------------------------------------------------------------------------- synthetic
@pytest.fixture(scope="module")
def synthetic_tree(tmp_path_factory):
    synthetic = pytest.importorskip("synthetic")
    out = tmp_path_factory.mktemp("synthetic_trajectories")
    synthetic.generate(out, persons=20_000, seed=3)
    reader = Reader(out / "ra", cache_dir=out / "cache")
    pop = build_population(reader, "2023")
    return out, reader, pop, build_history(reader, pop.period)


def test_synthetic_herhaald_beroep_matches_planted_rate(synthetic_tree):
    out, _, pop, hist = synthetic_tree
    truth = json.loads((out / "truth.json").read_text())
    assert truth["calibration"]["year"] == 2023
    planted = truth["calibration"]["herhaald_beroep_pct"] / 100
    # the generator's figure looks back 5 years from each start (our anchor `start`)
    settings = DEFAULT.updated({"analysis": {"herhaald_beroep_anchor": "start"}})
    units = herhaald_beroep_units(pop, hist, "statline", settings)
    n, p = len(units), units["teller"].mean()
    se = math.sqrt(planted * (1 - planted) / n)
    # the kit counts the population's youths (resident, 0-22 on the peildatum), the generator
    # every started traject: a subset, so 3 binomial standard errors is conservative
    assert abs(p - planted) < 3 * se, (p, planted, n)
    default = herhaald_beroep_units(pop, hist, "statline")["teller"].mean()
    assert default >= p - 1e-12          # the period anchor reaches further back


def test_synthetic_release_with_gemeente_and_group(synthetic_tree, tmp_path):
    out, reader, pop, hist = synthetic_tree
    from jeugdkit.cli import main
    code = pop.frame["gemeentecode"].astype(str).value_counts().index[0]
    rc = main(["trajecten", "--data-root", str(out / "ra"), "--cache-dir", str(out / "cache"),
               "--period", "2023", "--gemeente", code, "--compare", "stedelijkheid",
               "--out", str(tmp_path)])
    assert rc == 0
    uit = pd.read_csv(tmp_path / "uitval.csv", dtype={"gemeentecode": str})
    assert set(uit["gemeentecode"]) == {code, "groep", "NL"}
    assert set(uit["definitie"]) == {"strikt", "breed"}
    nl = uit[uit["gemeentecode"] == "NL"].set_index("definitie")
    assert nl.loc["strikt", "uitval"] <= nl.loc["breed", "uitval"] <= nl.loc["breed", "bekend"]
    hb = pd.read_csv(tmp_path / "herhaald_beroep.csv", dtype={"gemeentecode": str})
    assert set(hb["definitie"]) == {"statline", "uitkomst"}
    assert list(hb.columns[:5]) == ["gemeentecode", "definitie", "noemer", "teller", "pct"]
    for name in ("uitval", "herhaald_beroep", "overgangen", "overlap", "uitkomstitems",
                 "spiegel"):
        frame = pd.read_csv(tmp_path / f"{name}.csv", dtype=str)
        for c in ("afgesloten", "uitval", "noemer", "teller", "aantal", "ingevuld", "jeugdhulp"):
            if c in frame:
                v = pd.to_numeric(frame[c], errors="coerce").dropna()
                assert ((v == 0) | (v >= 10)).all(), (name, c)
    spiegel = pd.read_csv(tmp_path / "spiegel.csv", dtype=str)
    assert spiegel["aanbieder"].str.fullmatch(r"A\d{3,}").all()     # never the pseudonym
    duur = pd.read_csv(tmp_path / "duur.csv", dtype={"gemeentecode": str})
    nl = duur[(duur["gemeentecode"] == "NL") & (duur["hulpvorm"] == "totaal")].iloc[0]
    assert nl["p25"] <= nl["p50"] <= nl["p75"]
    assert not any(c in ("min", "max") for c in duur.columns)
    assert (tmp_path / "log" / "results.json").exists()


def test_settings_defaults_are_cbs():
    a = DEFAULT.analysis
    assert dataclasses.asdict(DEFAULT)["analysis"]["herhaald_beroep_anchor"] == "periode"
    assert (a.uitval_strict, a.uitval_broad) == (("03", "04"), ("02", "03", "04", "05"))
    assert a.herhaald_beroep_lookback_years == 5 and a.transition_window_months == 12


def test_a_refused_spiegel_table_is_left_out_and_the_rest_released(synthetic_tree, tmp_path,
                                                                    monkeypatch):
    """Output control may refuse one aanbieder's table (it would reveal a cell the period
    released suppressed before): that table is left out with the reason, every other
    aanbieder's tables are released as without it."""
    _, _, pop, hist = synthetic_tree
    plain = release_trajectories(pop, hist, tmp_path / "gewoon",
                                 run=ExportSession("gewoon", run_timestamp="t"))["spiegel"]
    victim = sorted(plain["aanbieder"].unique())[1]
    real = ExportSession.freq_tables

    def refuse(self, specs):
        if any(s["population"].startswith(f"spiegel-{victim}-in-periode") for s in specs):
            raise DisclosureError(f"test: spiegel {victim} refused")
        return real(self, specs)

    monkeypatch.setattr(ExportSession, "freq_tables", refuse)
    run = ExportSession("geweigerd", run_timestamp="t")
    got = release_trajectories(pop, hist, tmp_path / "geweigerd", run=run)["spiegel"]
    left = [e for e in run.left_out if e["output"] == f"spiegel_{victim}_hulpvorm"]
    assert len(left) == 1 and "refused" in left[0]["reden"]
    assert left[0]["soort"] == "geblokkeerd door outputcontrole"
    assert f"spiegel_{victim}_hulpvorm" not in run.outputs
    gone = (got["aanbieder"] == victim) & (got["kenmerk"] == "hulpvorm")
    assert not gone.any()
    keep = ~((plain["aanbieder"] == victim) & (plain["kenmerk"] == "hulpvorm"))
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  plain[keep].reset_index(drop=True))
