"""The period ledger: outputs of one period, made by different runs, protected together.

Hand-built tables whose leak is known: the national table suppresses a small gemeente cell,
and a gemeente's run publishes its comparison group, whose other members the national table
publishes. Without a ledger the union of the two outputs pins the cell (the negative control:
the audit catches it); with the ledger the second run suppresses more of itself."""

from __future__ import annotations

import multiprocessing
import pickle

import numpy as np
import pandas as pd
import pytest

from jeugdkit.errors import DisclosureError
from jeugdkit.output import ExportSession, PeriodLedger
from jeugdkit.output.union import audit_exports
from jeugdkit.scope import Scope

# youths per gemeente with (ja) and without (nee) jeugdhulp; 0001 has 4 with: a primary cell
COUNTS = {"0001": (4, 40), "0002": (40, 50), "0003": (30, 60), "0004": (12, 70),
          "0005": (50, 80)}
GROUP = ("0001", "0002", "0003")


def youths() -> pd.DataFrame:
    rows = [(g, f, n) for g, (ja, nee) in COUNTS.items() for f, n in (("ja", ja), ("nee", nee))]
    return pd.DataFrame(rows, columns=["gemeentecode", "jeugdhulp", "aantal"])


def national(folder, ledger=None, name="alle") -> pd.DataFrame:
    run = ExportSession(name, ledger=ledger, run_timestamp="t")
    table = run.freq_table(youths(), ["gemeentecode", "jeugdhulp"], count="aantal",
                           name="jeugdhulp", unit="jongeren", population="jongeren-2023")
    run.write(folder)
    return table


def gemeente(folder, ledger=None, code="0001", group=GROUP, name="gemeente") -> pd.DataFrame:
    """The table of one gemeente beside its group and NL (the rest cells unpublished)."""
    scope = Scope(code, group=group, group_label="lijst")
    data = youths()
    run = ExportSession(name, ledger=ledger, run_timestamp="t")
    run.declare_composition(scope.composition(data["gemeentecode"]))
    data["gemeentecode"] = scope.leaves(data["gemeentecode"])
    data = data.groupby(["gemeentecode", "jeugdhulp"], as_index=False)["aantal"].sum()
    table = run.freq_table(data, ["gemeentecode", "jeugdhulp"], count="aantal",
                           name="jeugdhulp", unit="jongeren", population="jongeren-2023",
                           hierarchies=scope.hierarchy(), levels=scope.levels(),
                           publish=scope.published)
    run.write(folder)
    return scope.publish(table)


def cell(table, code, flag):
    row = table[(table["gemeentecode"] == code) & (table["jeugdhulp"] == flag)]
    assert len(row) == 1
    return row["aantal"].iloc[0]


def test_without_a_ledger_the_union_of_two_outputs_pins_the_cell(tmp_path):
    """The negative control: each output passes alone, their union does not."""
    alle = national(tmp_path / "alle")
    gem = gemeente(tmp_path / "gemeente")
    assert pd.isna(cell(alle, "0001", "ja")) and pd.isna(cell(gem, "0001", "ja"))
    assert cell(gem, "groep", "ja") == 74            # 4 + 40 + 30: published by the run
    for name in ("alle", "gemeente"):
        assert audit_exports([tmp_path / name])["ok"].all()
    bounds = audit_exports([tmp_path / "alle", tmp_path / "gemeente"])
    pinned = bounds[(~bounds["ok"]) & bounds["cell"].map(
        lambda c: c == {"gemeentecode": "0001", "jeugdhulp": "ja"})]
    assert len(pinned) == 1 and pinned["width"].iloc[0] < 1e-6  # 74 - 40 - 30 = 4


def test_with_the_ledger_the_later_output_suppresses_more_of_itself(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    alle = national(tmp_path / "alle", ledger)
    gem = gemeente(tmp_path / "gemeente", ledger)
    bounds = audit_exports([tmp_path / "alle", tmp_path / "gemeente"])
    assert len(bounds) and bounds["ok"].all(), bounds[~bounds["ok"]]
    assert pd.isna(cell(gem, "groep", "ja"))
    # what both outputs show, they show alike: the same value, or blank in both
    for code in ("0001",):
        for flag in ("ja", "nee", "totaal"):
            a, b = cell(alle, code, flag), cell(gem, code, flag)
            assert (pd.isna(a) and pd.isna(b)) or a == b, (code, flag, a, b)
    assert cell(gem, "NL", "totaal") == cell(alle, "totaal", "totaal")
    info = ledger.summary()
    assert info["outputs"] == 2 and info["runs"] == 2


def test_the_order_of_the_outputs_does_not_open_a_leak(tmp_path):
    """The gemeente's run first, the national table second: the national table is the one
    that has to give way (its cells are free, the gemeente's are locked)."""
    ledger = PeriodLedger(tmp_path / "ledger")
    gem = gemeente(tmp_path / "gemeente", ledger)
    alle = national(tmp_path / "alle", ledger)
    bounds = audit_exports([tmp_path / "alle", tmp_path / "gemeente"])
    assert bounds["ok"].all(), bounds[~bounds["ok"]]
    shown = gem["aantal"].notna().sum()
    assert shown >= 3 and alle["aantal"].notna().sum() >= 6


def test_two_comparison_groups_and_two_gemeenten_in_one_ledger(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    gemeente(tmp_path / "g1", ledger, group=GROUP, name="g1")
    gemeente(tmp_path / "g2", ledger, group=("0001", "0004"), name="g2")
    gemeente(tmp_path / "g3", ledger, code="0002", group=("0002", "0005"), name="g3")
    bounds = audit_exports([tmp_path / "alle", tmp_path / "g1", tmp_path / "g2",
                            tmp_path / "g3"])
    assert bounds["ok"].all(), bounds[~bounds["ok"]]
    # without the ledger the same four outputs leak
    (tmp_path / "los").mkdir()
    national(tmp_path / "los" / "alle")
    gemeente(tmp_path / "los" / "g1", group=GROUP, name="g1")
    gemeente(tmp_path / "los" / "g2", group=("0001", "0004"), name="g2")
    gemeente(tmp_path / "los" / "g3", code="0002", group=("0002", "0005"), name="g3")
    assert not audit_exports([tmp_path / "los"])["ok"].all()


def test_the_same_output_again_gives_the_same_table(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    first = gemeente(tmp_path / "g1", ledger)
    again = gemeente(tmp_path / "g1-opnieuw", ledger, name="opnieuw")
    pd.testing.assert_frame_equal(first, again)


def test_other_data_under_a_population_name_of_the_ledger_is_refused(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    before = ledger.version()
    run = ExportSession("nieuwe-levering", ledger=ledger)
    data = youths()
    data.loc[data["gemeentecode"] == "0005", "aantal"] += 1
    with pytest.raises(DisclosureError, match="earlier table over population 'jongeren-2023'"):
        run.freq_table(data, ["gemeentecode", "jeugdhulp"], count="aantal", name="jeugdhulp",
                       unit="jongeren", population="jongeren-2023")
    assert ledger.version() == before  # a refused step leaves no trace
    assert ledger.summary()["outputs"] == 1


def test_a_group_whose_sum_differs_from_its_members_is_refused(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    run = ExportSession("fout", ledger=ledger)
    run.declare_composition({"gemeentecode": {"groep": list(GROUP),
                                              "rest": ["0004", "0005"]}})
    # the totals agree with the ledger (75 + 61 = 136 ja), the parts do not: the group is
    # 4 + 40 + 30 = 74, the rest 12 + 50 = 62 in the national table
    data = pd.DataFrame({"gemeentecode": ["groep", "rest", "groep", "rest"],
                         "jeugdhulp": ["ja", "ja", "nee", "nee"],
                         "aantal": [75, 61, 150, 150]})
    with pytest.raises(DisclosureError, match=r"its members \[.*\] of 'gemeentecode' add up"):
        run.freq_table(data, ["gemeentecode", "jeugdhulp"], count="aantal", name="groep",
                       unit="jongeren", population="jongeren-2023")


def test_a_pickled_session_continues_with_the_newest_ledger(tmp_path):
    """A report's chapters continue a pickled session; other runs may have added meanwhile."""
    ledger = PeriodLedger(tmp_path / "ledger")
    run = ExportSession("rapport", ledger=ledger)
    run.freq_table(youths(), ["gemeentecode"], count="aantal", name="per_gemeente",
                   unit="jongeren", population="jongeren-2023")
    snapshot = pickle.dumps(run)
    assert len(snapshot) < 20_000  # the ledgers stay in the ledger, not in every snapshot
    national(tmp_path / "alle", ledger)          # another run, between two chapters
    later = pickle.loads(snapshot)
    later.freq_table(youths(), ["jeugdhulp"], count="aantal", name="per_hulp",
                     unit="jongeren", population="jongeren-2023")
    later.write(tmp_path / "rapport")
    assert ledger.summary()["outputs"] == 3
    assert audit_exports([tmp_path])["ok"].all()


def _release_in_process(args):
    folder, ledger_dir, code = args
    gemeente(folder, PeriodLedger(ledger_dir), code=code, group=(code, "0005"), name=code)
    return code


def test_parallel_runs_take_turns_and_lose_nothing(tmp_path):
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    jobs = [(tmp_path / f"g{c}", tmp_path / "ledger", c) for c in ("0001", "0002", "0003",
                                                                 "0004")]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert sorted(pool.map(_release_in_process, jobs)) == ["0001", "0002", "0003", "0004"]
    info = ledger.summary()
    assert info["outputs"] == 5 and info["runs"] == 5
    assert audit_exports([tmp_path])["ok"].all()


def test_a_year_and_its_half_years_share_one_ledger(tmp_path):
    year = PeriodLedger.for_period(tmp_path, "2023")
    assert PeriodLedger.for_period(tmp_path, "2023H1") == year
    assert PeriodLedger.for_period(tmp_path, "2023h2").folder == tmp_path / "2023"
    assert PeriodLedger.for_period(tmp_path, "2024") != year


def test_resolve_follows_option_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("JEUGDKIT_LEDGER", str(tmp_path / "env"))
    assert PeriodLedger.resolve(None, "2023").folder == tmp_path / "env" / "2023"
    assert PeriodLedger.resolve(tmp_path / "opt", "2023").folder == tmp_path / "opt" / "2023"
    assert PeriodLedger.resolve("none", "2023") is None
    monkeypatch.delenv("JEUGDKIT_LEDGER")
    monkeypatch.chdir(tmp_path)
    assert PeriodLedger.resolve(None, "2023").folder == tmp_path / "jeugdkit-ledger" / "2023"


def test_a_ledger_of_another_format_is_refused(tmp_path):
    ledger = PeriodLedger(tmp_path)
    ledger.path.write_bytes(pickle.dumps({"format": 99}))
    with pytest.raises(Exception, match="format 99"):
        ExportSession("x", ledger=ledger).freq_table(
            youths(), ["jeugdhulp"], count="aantal", name="t", unit="jongeren",
            population="jongeren-2023")


def test_locked_cells_are_checked_again_when_a_new_table_links_to_them(tmp_path):
    """The suppression of a later table is checked against the earlier tables' suppressed
    cells, not only its own: every suppressed cell of the ledger stays wide."""
    ledger = PeriodLedger(tmp_path / "ledger")
    national(tmp_path / "alle", ledger)
    gemeente(tmp_path / "g", ledger)
    led = ledger.read()["ledgers"][("jongeren-2023", "jongeren")]
    lo, hi, _ = led.audit(exact=True)
    width = hi - lo
    suppressed = ~np.isnan(width)
    assert suppressed.sum() >= 4
    assert (width[suppressed] >= 10 - 1e-6).all()


def test_a_new_equation_over_two_earlier_suppressed_cells_is_caught():
    """No equation of the new table has a single unknown, so only the LP sees the leak: the
    earlier 2 x 2 pattern (a1 + t, a2 - t, b1 - t, b2 + t) is pinned by V = a1 + b2."""
    from jeugdkit.output.suppression import PRIMARY, RELEASED, SECONDARY, Ledger

    led = Ledger("p", "u")
    names = ["a1", "a2", "b1", "b2", "a", "b", "1", "2", "t"]
    keys = [(("c", n),) for n in names]
    values = [4, 40, 12, 70, 44, 82, 16, 110, 126]
    eqs = [(4, [0, 1]), (5, [2, 3]), (6, [0, 2]), (7, [1, 3]), (8, [4, 5]), (8, [6, 7])]
    primary = [v < 10 for v in values]
    cells = led.add_table(keys, values, [False] * 9, eqs, primary, 10, "eerste")
    led.protect()
    led.lock(cells)
    assert [led.status[c] for c in cells[:4]] == [PRIMARY, SECONDARY, SECONDARY, SECONDARY]
    v = led.add_table([(("c", "V"),), keys[0], keys[3]], [74, 4, 70], [False] * 3,
                      [(0, [1, 2])], [False, False, False], 10, "tweede")
    assert led.status[v[0]] == RELEASED
    led.protect()
    assert led.status[v[0]] == SECONDARY  # V = a1 + b2 would pin a1
    lo, hi, _ = led.audit(exact=True)
    assert hi[cells[0]] - lo[cells[0]] >= 10


# ---------------------------------------------------------------------------- relations
def _parts_tables():
    """A whole W that is exactly A + B per gemeente; B is small everywhere (all primary)."""
    rows = {"W": {"g1": 40, "g2": 50}, "A": {"g1": 35, "g2": 46}, "B": {"g1": 5, "g2": 4}}
    return {k: pd.DataFrame({"gemeentecode": list(v), "aantal": list(v.values())})
            for k, v in rows.items()}


def _release_parts(folder, names, ledger=None, declare=True, name="run"):
    run = ExportSession(name, ledger=ledger, run_timestamp="t")
    if declare:
        run.declare_relation("parts", whole="W", parts=["A", "B"], unit="jongeren",
                             exclusive=True)
    data = _parts_tables()
    out = run.freq_tables([dict(data=data[n], dims=["gemeentecode"], count="aantal", name=n,
                                unit="jongeren", population=n) for n in names])
    run.write(folder)
    return dict(zip(names, out))


def test_a_relation_between_populations_is_protected(tmp_path, monkeypatch):
    """B = W - A cell by cell: publishing W and A would give B back. The negative control
    (the relation step switched off) is caught by the audit; with it, nothing is."""
    monkeypatch.setattr(ExportSession, "_protect_relations", lambda self, touched: {})
    _release_parts(tmp_path / "los", ["W", "A", "B"])
    bad = audit_exports([tmp_path / "los"])
    assert (~bad["ok"]).sum() >= 2  # B's cells pinned
    monkeypatch.undo()
    tables = _release_parts(tmp_path / "samen", ["W", "A", "B"])
    bounds = audit_exports([tmp_path / "samen"])
    assert bounds["ok"].all(), bounds[~bounds["ok"]]
    shown = {n: t["aantal"].notna().sum() for n, t in tables.items()}
    assert shown["W"] + shown["A"] < 6  # W or A gave up cells for B


def test_a_relation_in_the_ledger_protects_a_later_run_that_does_not_declare_it(tmp_path):
    """The first run declares the relation and releases the whole; the second releases the
    parts and declares nothing: the ledger's relation still makes it hide B."""
    ledger = PeriodLedger(tmp_path / "ledger")
    _release_parts(tmp_path / "eerst", ["W"], ledger, name="eerst")
    tables = _release_parts(tmp_path / "later", ["A", "B"], ledger, declare=False,
                            name="later")
    assert tables["B"]["aantal"].isna().all()
    assert tables["A"]["aantal"].isna().sum() >= 2  # A hides B (B = W - A)
    bounds = audit_exports([tmp_path / "eerst", tmp_path / "later"])
    assert bounds["ok"].all(), bounds[~bounds["ok"]]
    assert {"A", "B"} <= set(bounds["population"])


@pytest.mark.parametrize("with_ledger", [False, True])
def test_a_refused_table_leaves_no_trace_and_the_run_goes_on(tmp_path, with_ledger):
    """A chapter may leave out one table that output control refuses (e.g. one aanbieder's
    spiegel) and go on: the refused table's cells, register line and audit cells are gone,
    with or without a period ledger, and what the run releases next is as without it."""
    ledger = PeriodLedger(tmp_path / "ledger") if with_ledger else None
    run = ExportSession("rapport", ledger=ledger, run_timestamp="t")
    run.freq_table(youths(), ["gemeentecode", "jeugdhulp"], count="aantal", name="jeugdhulp",
                   unit="jongeren", population="jongeren-2023")
    key = ("jongeren-2023", "jongeren")

    def cells():  # with a period ledger its file holds the truth between steps
        return len((ledger.read()["ledgers"] if with_ledger else run._ledgers)[key])

    before = cells()
    bad = youths()
    bad.loc[bad["gemeentecode"] == "0005", "aantal"] += 1  # other data, same population
    bad["leeftijd"] = "0-11"
    with pytest.raises(DisclosureError):
        run.freq_table(bad, ["leeftijd", "gemeentecode"], count="aantal", name="fout",
                       unit="jongeren", population="jongeren-2023")
    assert cells() == before
    run.freq_table(youths(), ["jeugdhulp"], count="aantal", name="per_hulp",
                   unit="jongeren", population="jongeren-2023")
    run.write(tmp_path / "rapport")
    assert set(run.outputs) == {"jeugdhulp", "per_hulp"}
    assert audit_exports([tmp_path / "rapport"])["ok"].all()
    if with_ledger:
        assert [o["output"] for o in ledger.read()["outputs"]] == ["jeugdhulp", "per_hulp"]



# ------------------------------------------------------------------- members without units
# trajecten of one aanbieder by gemeente and hulpvorm (the shape of a spiegel table that
# leaked): 0355 is a member of 0080's group with none of them, so no table of all gemeenten
# has a row for it; 0318 has none either and is in the rest of the country
SPIEGEL = [("0067", "02", 1), ("0080", "02", 1), ("0171", "02", 1), ("0171", "12", 1),
           ("0188", "02", 1), ("0228", "02", 3), ("0468", "02", 11), ("0468", "03", 1),
           ("0468", "04", 8), ("0468", "11", 1), ("0468", "13", 1), ("0525", "02", 3),
           ("0657", "02", 1), ("0858", "02", 1), ("0898", "03", 1), ("0898", "04", 1),
           ("0948", "02", 1), ("1028", "04", 1), ("1148", "02", 9), ("1148", "03", 1),
           ("1148", "04", 1), ("1369", "02", 5), ("1369", "03", 1), ("1369", "04", 3),
           ("1369", "14", 1), ("1455", "04", 2), ("1594", "11", 1)]
SPIEGEL_GROUP = ("0080", "0171", "0355", "0525", "1369")


def _spiegel(folder, ledger=None, code=None, name="alle"):
    data = pd.DataFrame(SPIEGEL, columns=["gemeentecode", "hulpvorm", "aantal"])
    run = ExportSession(name, ledger=ledger, run_timestamp="t")
    kw = {}
    if code is not None:
        scope = Scope(code, group=SPIEGEL_GROUP, group_label="stedelijkheid=3")
        run.declare_composition(scope.composition([*data["gemeentecode"], "0318", "0355"]))
        data["gemeentecode"] = scope.leaves(data["gemeentecode"])
        data = data.groupby(["gemeentecode", "hulpvorm"], as_index=False)["aantal"].sum()
        kw = dict(hierarchies=scope.hierarchy(), levels=scope.levels(), publish=scope.published)
    table = run.freq_table(data, ["gemeentecode", "hulpvorm"], count="aantal", name="spiegel",
                           unit="trajecten", population="spiegel-A003", **kw)
    run.write(folder)
    return table


@pytest.mark.parametrize("national_first", [True, False])
def test_a_group_member_without_units_does_not_break_the_link(tmp_path, national_first):
    """A member of the comparison group with no units in the population is in no table of
    all gemeenten, yet it is a member of ``groep``: the attacker still knows groep = its
    members. Without the link (negative control, no ledger) the report's groep total minus
    the national table's published members pins 0080's suppressed cells (11 cells, the leak
    the union audit found in the trajectories' spiegel); with the ledger nothing is pinned."""
    _spiegel(tmp_path / "los" / "alle")
    _spiegel(tmp_path / "los" / "gemeente", code="0080", name="gemeente")
    assert (~audit_exports([tmp_path / "los"])["ok"]).sum() >= 5
    ledger = PeriodLedger(tmp_path / "ledger")
    steps = [lambda: _spiegel(tmp_path / "alle", ledger),
             lambda: _spiegel(tmp_path / "gemeente", ledger, code="0080", name="gemeente")]
    for step in (steps if national_first else steps[::-1]):
        step()
    bounds = audit_exports([tmp_path / "alle", tmp_path / "gemeente"])
    assert len(bounds) and bounds["ok"].all(), bounds[~bounds["ok"]]
    led = ledger.read()["ledgers"][("spiegel-A003", "trajecten")]
    assert not led.pending  # every composite cell of the report is linked to its members


def test_a_member_that_no_table_shows_stays_an_unknown_part_of_its_group(tmp_path):
    """Two gemeenten's reports and no national table: groep (0001, 0002, 0003) has two
    members that the reports show (0001 in its own, 0002 in the other) and one that no
    output shows (0003). The ledger links groep to the two it holds plus an unknown rest
    (0003's cells, not published and positive), as an attacker with both reports knows it;
    the other report's rest of the country (0001, 0003, 0005) gets its own rest beside 0001."""
    from jeugdkit.output.suppression import HIDDEN

    ledger = PeriodLedger(tmp_path / "ledger")
    gemeente(tmp_path / "g1", ledger, code="0001", group=GROUP, name="g1")
    gemeente(tmp_path / "g2", ledger, code="0002", group=("0002", "0004"), name="g2")
    bounds = audit_exports([tmp_path / "g1", tmp_path / "g2"])
    assert len(bounds) and bounds["ok"].all(), bounds[~bounds["ok"]]
    led = ledger.read()["ledgers"][("jongeren-2023", "jongeren")]
    code = next(c for (d, c), members in led.compositions.items() if members == ("0003",))
    rest = {dict(k).get("jeugdhulp", "totaal"): i for i, k in enumerate(led.key_of)
            if ("gemeentecode", code) in k}
    assert {f: led.value[i] for f, i in rest.items()} == {"ja": 30, "nee": 60, "totaal": 90}
    assert all(led.status[i] == HIDDEN for i in rest.values())


# units per gemeente and kenmerk (0006 has none); four reports, each gemeente with its own
# group: their groups and rests overlap, and no table of all gemeenten is in the ledger
UNITS = {("0001", "a"): 5, ("0001", "b"): 8, ("0002", "a"): 8, ("0002", "b"): 2,
         ("0002", "c"): 2, ("0003", "a"): 3, ("0003", "b"): 1, ("0003", "c"): 15,
         ("0004", "b"): 1, ("0004", "c"): 1, ("0005", "a"): 3, ("0005", "b"): 1,
         ("0007", "b"): 15, ("0008", "a"): 3, ("0008", "b"): 5, ("0008", "c"): 1,
         ("0009", "a"): 1, ("0009", "b"): 1, ("0009", "c"): 1, ("0010", "a"): 15,
         ("0010", "c"): 15}
REPORTS = {"0001": ("0001", "0002", "0007", "0008"), "0002": ("0002", "0004", "0006", "0007"),
           "0003": ("0003", "0006", "0008", "0010"), "0004": ("0001", "0002", "0004", "0008")}
EVERY = [f"{i:04d}" for i in range(1, 11)]


def _report(folder, code, ledger=None, members=True, units=UNITS, reports=REPORTS):
    units = pd.DataFrame([k for k, n in units.items() for _ in range(n)],
                         columns=["gemeentecode", "kenmerk"])
    scope = Scope(code, group=reports[code], group_label="lijst")
    run = ExportSession(f"rapport-{code}", ledger=ledger, run_timestamp="t")
    run.declare_composition(scope.composition(EVERY))
    data = units.assign(gemeentecode=scope.leaves(units["gemeentecode"]).to_numpy())
    table = run.freq_table(data, ["gemeentecode", "kenmerk"], name="kenmerk", unit="jongeren",
                           population="kenmerk-2023", hierarchies=scope.hierarchy(),
                           levels={**scope.levels(), "kenmerk": ["a", "b", "c"]},
                           publish=scope.published,
                           members=scope.members(units["gemeentecode"]) if members else None)
    run.write(folder)
    return scope.publish(table)


def test_reports_with_overlapping_groups_are_protected_through_their_members(tmp_path):
    """Four reports and no national table: each report's groep and rest leaves are sums of
    gemeenten that other reports' leaves also hold. An attacker with the four reports solves
    for member gemeenten (the audit adds them as unknowns); the ledger holds each table over
    its members too (unpublished), so it sees the same system. Negative control: without the
    members in the ledger the same four reports leak (at least one cell too narrow)."""
    ledger = PeriodLedger(tmp_path / "los" / "ledger")
    for code in REPORTS:
        _report(tmp_path / "los" / code, code, ledger, members=False)
    leak = audit_exports([tmp_path / "los"])
    assert (~leak["ok"]).sum() >= 1, leak[~leak["ok"]]
    ledger = PeriodLedger(tmp_path / "leden" / "ledger")
    tables = {code: _report(tmp_path / "leden" / code, code, ledger) for code in REPORTS}
    bounds = audit_exports([tmp_path / "leden"])
    assert len(bounds) and bounds["ok"].all(), bounds[~bounds["ok"]]
    # each report still shows its own totals: protection did not blank everything
    assert all(t["aantal"].notna().sum() >= 4 for t in tables.values())
    led = ledger.read()["ledgers"][("kenmerk-2023", "jongeren")]
    empty = led.keys[(("gemeentecode", "0005"), ("kenmerk", "c"))]
    assert led.value[empty] == 0 and led.watched[empty]  # unpublished and empty: watched


# found by the random four-report search: 0008 has no units at all and sits in the group of
# 0001 and in the rest of the country of 0004
EMPTY_UNITS = {(g, k): n for g, ns in {
    "0001": (5, 1, 0), "0002": (5, 5, 8), "0003": (15, 5, 8), "0004": (0, 15, 15),
    "0005": (5, 8, 5), "0006": (8, 15, 2), "0007": (8, 15, 1), "0009": (1, 0, 1),
    "0010": (1, 5, 1)}.items() for k, n in zip("abc", ns) if n}
EMPTY_REPORTS = {"0001": ("0001", "0002", "0008", "0010"),
                 "0002": ("0001", "0002", "0003", "0006"),
                 "0003": ("0001", "0003", "0007", "0010"),
                 "0004": ("0003", "0004", "0006", "0010")}


def test_a_member_without_units_is_not_taken_as_known_to_be_empty(tmp_path):
    """The table over the members must have every member, also one without units: left
    out, the total was tied to the other members alone, so the ledger took 0008 as known
    to be 0 (nothing to protect) while no output says so, and the audit of the four reports
    found 0008's cell in [0, 7]. The member cell is in the ledger with its zero and watched,
    and the union of the four reports leaves no cell too narrow."""
    from jeugdkit.output.suppression import HIDDEN
    ledger = PeriodLedger(tmp_path / "ledger")
    for code in EMPTY_REPORTS:
        _report(tmp_path / code, code, ledger, units=EMPTY_UNITS, reports=EMPTY_REPORTS)
    bounds = audit_exports([tmp_path])
    assert len(bounds) and bounds["ok"].all(), bounds[~bounds["ok"]]
    led = ledger.read()["ledgers"][("kenmerk-2023", "jongeren")]
    cell = led.keys[(("gemeentecode", "0008"), ("kenmerk", "a"))]
    assert led.value[cell] == 0 and led.status[cell] == HIDDEN and led.watched[cell]
