"""`jeugdkit audit` across populations: relations declared in the export log.

An attacker knows more than each population's own tables: a part population counts a subset of
the whole's units (a hulpvorm group of the youths with jeugdhulp, a first half-year of its
year), exclusive parts add up. Hand-built tables where such a relation pins a suppressed cell
(each with its negative control: without the declared relation the audit passes), a
hand-computed multi-response interval, and soundness on the synthetic tree: over a year and
its first half every interval holds the true count from the sessions' ledgers."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

import synthetic
from jeugdkit.errors import DisclosureError, JeugdkitError
from jeugdkit.output import ExportSession
from jeugdkit.output.union import audit_exports, find_logs
from jeugdkit.periods import Period
from jeugdkit.population import build_population
from jeugdkit.read import Reader
from jeugdkit.tables import _declare_relations, release_tables
from tests.conftest import ledger_truth

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""

UNIT = "jongeren"


def _table(run: ExportSession, population: str, counts: dict, name: str | None = None):
    """Release one table gemeente x count over `population` (counts per gemeente)."""
    data = pd.DataFrame({"gemeente": list(counts), "aantal": list(counts.values())})
    return run.freq_table(data, ["gemeente"], count="aantal", name=name or population,
                          unit=UNIT, population=population)


def _suppressed(frame) -> list[str]:
    return sorted(frame.loc[frame["aantal"].isna(), "gemeente"])


def _cell(bounds, population: str, gemeente: str):
    rows = bounds[(bounds["population"] == population)
                  & bounds["cell"].apply(lambda c: c == {"gemeente": gemeente})]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# A: g1 small (primary), B and W = A + B published in full
A = {"g1": 3, "g2": 20, "g3": 30}
B = {"g1": 15, "g2": 12, "g3": 40}


def _exclusive_run(folder, declare: bool):
    run = ExportSession("delen", run_timestamp="2026-01-01T00:00:00")
    a = _table(run, "a", A)
    _table(run, "b", B)
    _table(run, "w", {g: A[g] + B[g] for g in A})
    if declare:
        run.declare_relation("parts", whole="w", parts=["a", "b"], unit=UNIT, exclusive=True)
    run.write(folder)
    return a


def test_exclusive_parts_pin_a_suppressed_part_cell(tmp_path):
    a = _exclusive_run(tmp_path / "los", declare=False)
    assert "g1" in _suppressed(a)       # precondition: the small part cell is suppressed
    # negative control: the audit is blind to the relation unless the log declares it
    blind = audit_exports([tmp_path / "los"])
    assert bool(blind["ok"].all()) and _cell(blind, "a", "g1")["width"] >= 10

    _exclusive_run(tmp_path / "samen", declare=True)
    log = json.loads((tmp_path / "samen" / "results.json").read_text(encoding="utf-8"))
    assert log["relations"] == [{"kind": "parts", "unit": UNIT, "whole": "w",
                                 "parts": ["a", "b"], "exclusive": True}]
    bounds = audit_exports([tmp_path / "samen"])
    g1 = _cell(bounds, "a", "g1")
    # a = w - b: the published whole and other part give it back
    assert not g1["ok"] and g1["width"] == pytest.approx(0, abs=1e-6)
    assert g1["lower"] == pytest.approx(A["g1"])


def test_multi_response_parts_bound_a_cell_by_max_and_sum(tmp_path):
    """Non-exclusive parts: max(parts) <= whole <= sum(parts), cell by cell."""
    a_counts = {"g1": 8, "g2": 20, "g3": 30}
    b_counts = {"g1": 12, "g2": 22, "g3": 30}
    w_counts = {"g1": 15, "g2": 26, "g3": 50}       # youths in A or B (or both)
    for g in a_counts:
        assert max(a_counts[g], b_counts[g]) <= w_counts[g] <= a_counts[g] + b_counts[g]
    out = {}
    for declare in (False, True):
        run = ExportSession("meervoudig", run_timestamp="2026-01-01T00:00:00")
        a = _table(run, "a", a_counts)
        _table(run, "b", b_counts)
        _table(run, "w", w_counts)
        if declare:
            run.declare_relation("parts", whole="w", parts=["a", "b"], unit=UNIT)
        run.write(tmp_path / str(declare))
        out[declare] = audit_exports([tmp_path / str(declare)])
    assert _suppressed(a) == ["g1", "g2"]           # precondition of the hand computation
    s = a_counts["g1"] + a_counts["g2"]             # the published total less g3
    # x1 + x2 = s; each x <= w; each x >= w - b; x >= 0
    lower = max(0, w_counts["g1"] - b_counts["g1"], s - w_counts["g2"])
    upper = min(w_counts["g1"], s - max(0, w_counts["g2"] - b_counts["g2"]), s)
    g1 = _cell(out[True], "a", "g1")
    assert (g1["lower"], g1["upper"]) == pytest.approx((lower, upper))
    assert (lower, upper) != (0, s)                 # the relation narrows it
    g1_blind = _cell(out[False], "a", "g1")
    assert (g1_blind["lower"], g1_blind["upper"]) == pytest.approx((0, s))


def _publish_in_full(folder, name: str, counts: dict, dim: str = "gemeente") -> None:
    """Write every count of a checked table into its copy, as an output under other rules
    (or a careless one) would show them."""
    path = folder / f"{name}.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for i, g in table[dim].items():
        table.at[i, "aantal"] = str(sum(counts.values()) if g == "totaal" else counts[g])
    table.to_csv(path, index=False, lineterminator="\n")


def test_a_first_half_year_within_its_year(tmp_path):
    year = {"g1": 3, "g2": 25, "g3": 40}
    half = {"g1": 2, "g2": 14, "g3": 30}
    run = ExportSession("jaar", run_timestamp="2026-01-01T00:00:00")
    _table(run, "gebruik-2023", year, name="gebruik")
    run.write(tmp_path / "jaar")
    _publish_in_full(tmp_path / "jaar", "gebruik", year)
    for declare in (False, True):
        run = ExportSession("half", run_timestamp="2026-01-01T00:00:00")
        h1 = _table(run, "gebruik-2023H1", half, name="gebruik")
        if declare:
            run.declare_relation("within", part="gebruik-2023H1", whole="gebruik-2023",
                                 unit=UNIT)
        run.write(tmp_path / f"half{declare}")
        assert "g1" in _suppressed(h1)
        bounds = audit_exports([tmp_path / "jaar", tmp_path / f"half{declare}"])
        g1 = _cell(bounds, "gebruik-2023H1", "g1")
        if declare:
            # H1 <= year = 3: an upper bound below the width (and above 0.5) is caught
            assert g1["upper"] == pytest.approx(year["g1"]) and not g1["ok"]
            assert 0.5 < g1["upper"] < g1["required"]
        else:
            assert g1["ok"] and g1["width"] >= 10


def test_a_relation_the_counts_contradict_is_reported(tmp_path):
    """A within relation declared the wrong way round (the year within its half) cannot hold
    for the published counts: the audit says so instead of returning intervals."""
    run = ExportSession("fout", run_timestamp="2026-01-01T00:00:00")
    _table(run, "p-2023", {"g1": 3, "g2": 25, "g3": 40}, name="jaar")
    _table(run, "p-2023H1", {"g1": 2, "g2": 14, "g3": 30}, name="half")
    run.declare_relation("within", part="p-2023", whole="p-2023H1", unit=UNIT)
    run.write(tmp_path)
    with pytest.raises(DisclosureError, match=r"contradict a declared relation"):
        audit_exports([tmp_path])
    # also where only published cells contradict it (no LP touches them)
    run = ExportSession("fout", run_timestamp="2026-01-01T00:00:00")
    _table(run, "q-2023", {"g1": 30, "g2": 25}, name="jaar")
    _table(run, "q-2023H1", {"g1": 20, "g2": 14}, name="half")
    run.declare_relation("within", part="q-2023", whole="q-2023H1", unit=UNIT)
    run.write(tmp_path / "gepubliceerd")
    with pytest.raises(DisclosureError, match=r"in 3 place\(s\)"):
        audit_exports([tmp_path / "gepubliceerd"])


def test_declare_relation_refuses_what_it_cannot_log():
    run = ExportSession("x")
    with pytest.raises(JeugdkitError, match="unknown kind"):
        run.declare_relation("subset", part="a", whole="b", unit=UNIT)
    with pytest.raises(JeugdkitError, match=r"\['parts'\] missing"):
        run.declare_relation("parts", whole="w", unit=UNIT)
    with pytest.raises(JeugdkitError, match="distinct"):
        run.declare_relation("parts", whole="w", parts=["w", "a"], unit=UNIT)
    with pytest.raises(JeugdkitError, match="part and whole"):
        run.declare_relation("within", part="a", whole="a", unit=UNIT)
    with pytest.raises(JeugdkitError, match="not a bool"):
        run.declare_relation("parts", whole="w", parts=["a"], unit=UNIT, exclusive="ja")
    assert run.log()["relations"] == []
    run.declare_relation("alias", population="a", same_as="b", unit=UNIT,
                         codes={"g": {"1": "01"}})
    run.declare_relation("alias", population="a", same_as="b", unit=UNIT,
                         codes={"g": {"1": "01"}})
    assert run.log()["relations"] == [{"kind": "alias", "unit": UNIT, "population": "a",
                                       "same_as": "b", "dims": {}, "codes": {"g": {"1": "01"}}}]


def test_an_alias_merges_renamed_cells(tmp_path):
    """Two populations declared the same: a cell one suppresses and the other publishes (under
    another code) is known exactly."""
    counts = {"g1": 4, "g2": 30, "g3": 30}
    upper = {g.upper(): v for g, v in counts.items()}
    for declare in (False, True):
        run = ExportSession("alias", run_timestamp="2026-01-01T00:00:00")
        a = _table(run, "a", counts)
        data = pd.DataFrame({"gem": list(upper), "aantal": list(upper.values())})
        run.freq_table(data, ["gem"], count="aantal", name="b", unit=UNIT, population="b")
        if declare:
            run.declare_relation("alias", population="a", same_as="b", unit=UNIT,
                                 dims={"gemeente": "gem"},
                                 codes={"gemeente": {g: g.upper() for g in counts}})
        run.write(tmp_path / str(declare))
        _publish_in_full(tmp_path / str(declare), "b", upper, dim="gem")
        assert "g1" in _suppressed(a)
        g1 = _cell(audit_exports([tmp_path / str(declare)]), "a", "g1")
        if declare:
            assert not g1["ok"] and g1["width"] == 0 and g1["lower"] == counts["g1"]
        else:
            assert g1["ok"]


def test_release_tables_declares_within_only_where_it_holds():
    """A first half-year is within its year except its eindstand; a second half-year (its own
    peildatum) is within nothing."""
    for label, expect_within in (("2023H1", True), ("2023H2", False), ("2023", False)):
        run = ExportSession("x")
        _declare_relations(run, Period.parse(label), "totaal", gebruik=["wijkteam", "met_verblijf"],
                           instroom=(["01", "02"], ["wijkteam", "met_verblijf"]),
                           stroom=["hv1", "hv2"])
        relations = run.log()["relations"]
        within = [r for r in relations if r["kind"] == "within"]
        assert bool(within) == expect_within, label
        assert all(r["whole"] == r["part"].replace(label, "2023") for r in within)
        assert not any("eindstand" in r["part"] for r in within)
        assert {"gebruik_totaal-2023H1", "stroom_beginstand_hv1-2023H1",
                "instroom_01_wijkteam-2023H1"} <= {r["part"] for r in within} or not within
        wholes = {r["whole"] for r in relations if r["kind"] == "parts"}
        assert {f"gebruik_totaal-{label}", f"instroom_01_totaal-{label}",
                f"instroom_totaal_met_verblijf-{label}",
                f"stroom_eindstand_totaal-{label}"} <= wholes


# ---------------------------------------------------------------------- the synthetic tree
@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The tables of 2023 and of 2023H1 (default units, and every table in unit jongeren)."""
    tmp = tmp_path_factory.mktemp("relations")
    synthetic.generate(tmp, persons=2_000, gemeenten=8, years=(2021, 2024))
    runs = {}
    for label in ("2023", "2023H1"):
        pop = build_population(Reader(tmp / "ra", cache_dir=tmp / "cache"), label)
        for unit in ("jongeren",):  # the default units' relations are a subset of these
            key = (unit or "standaard", label)
            runs[key] = ExportSession(f"{key[0]}-{label}", run_timestamp="2026-01-01T00:00:00")
            release_tables(pop, tmp / key[0] / label, run=runs[key], unit=unit, figures=False)
    return tmp, runs


def _without_relations(folder, dest):
    """Return a copy of the export folders with the relations left out of every log."""
    shutil.copytree(folder, dest)
    for path in find_logs([dest]):
        log = json.loads(path.read_text(encoding="utf-8"))
        log["relations"] = []
        path.write_text(json.dumps(log), encoding="utf-8")
    return dest


@pytest.mark.parametrize("units", ["jongeren"])
def test_over_a_year_and_its_first_half_every_interval_holds_the_true_count(halves, units,
                                                                           tmp_path):
    tmp, runs = halves
    mine = {k: r for k, r in runs.items() if k[0] == units}
    relations = [r for run in mine.values() for r in run.log()["relations"]]
    assert {r["kind"] for r in relations} == (
        {"within", "parts", "alias"} if units == "jongeren" else {"within", "parts"})
    # the populations the relations link (in the default units: the gebruik tables)
    linked = sorted({p for r in relations for p in
                     ([r["whole"], *r["parts"]] if r["kind"] == "parts" else
                      [r["part"], r["whole"]] if r["kind"] == "within" else
                      [r["population"], r["same_as"]])})
    folders = [tmp / units / "2023", tmp / units / "2023H1"]
    bounds = audit_exports(folders, populations=linked, exact=True)
    checked = 0
    for row in bounds.itertuples(index=False):
        true = ledger_truth(mine, row.population, row.unit, row.cell)
        assert true is not None, row
        assert row.lower - 1e-6 <= true <= row.upper + 1e-6, (row, true)
        checked += 1
    assert checked > 100 and {p.rsplit("-", 1)[1] for p in bounds["population"]} == {
        "2023", "2023H1"}
    plain = _without_relations(tmp / units, tmp_path / "los")
    blind = audit_exports([plain / "2023", plain / "2023H1"], populations=linked, exact=True)
    both = blind.assign(c=blind["cell"].astype(str)).merge(
        bounds.assign(c=bounds["cell"].astype(str)), on=["population", "output", "c"],
        suffixes=("_los", "_samen"))
    assert len(both) == len(bounds) == len(blind)
    # the relations only add knowledge: never a wider interval, and here some narrower
    assert (both["width_samen"] <= both["width_los"] + 1e-6).all()
    narrower = int((both["width_samen"] < both["width_los"] - 1e-6).sum())
    assert narrower > 0
    flagged = both[both["ok_los"] & ~both["ok_samen"]]
    # a finding, not a failure: cells protected per population that the relations narrow
    print(f"\n{units}: {len(bounds)} cells over {len(linked)} linked populations, "
          f"{narrower} narrower with the relations, {len(flagged)} newly too narrow")
    for row in flagged.itertuples(index=False):
        print(f"  {row.population} {row.c}: [{row.lower_los:g}, {row.upper_los:g}] -> "
              f"[{row.lower_samen:g}, {row.upper_samen:g}]")
