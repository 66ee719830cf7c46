"""Scope (which gemeenten an output shows) and unpublished cells in output control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdkit.errors import JeugdkitError
from jeugdkit.output import ExportSession, audit_tables
from jeugdkit.scope import GROUP, NATIONAL, REST_OF_COUNTRY, REST_OF_GROUP, Scope


def _units(counts: dict) -> pd.DataFrame:
    """Return one row per unit from {(gemeentecode, category): n}."""
    rows = [(g, c) for (g, c), n in counts.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=["gemeentecode", "cat"])


def test_leaves_hierarchy_and_rows():
    codes = pd.Series(["0363", "0344", "0014", "0363"])
    s = Scope("363", group=["0344"], group_label="stedelijkheid=1")
    assert s.gemeente == "0363" and s.group == ("0344", "0363")   # the gemeente joins its group
    assert list(s.leaves(codes)) == ["0363", REST_OF_GROUP, REST_OF_COUNTRY, "0363"]
    assert s.hierarchy() == {"gemeentecode": {"0363": GROUP, REST_OF_GROUP: GROUP}}
    assert s.rows(codes) == ["0363", GROUP, NATIONAL]
    assert list(Scope().leaves(codes)) == list(codes)
    assert Scope().rows(codes) == ["0014", "0344", "0363", NATIONAL]
    with pytest.raises(JeugdkitError, match="4 digits"):
        Scope("GM0363")
    with pytest.raises(JeugdkitError, match="one comparison group"):
        Scope.from_groups("0363", {"a": ["0363"], "b": ["0344"]})


def test_small_rest_of_group_is_protected_though_not_published():
    # groep - gemeente = rest_groep: its 3 units in category b must not be derivable
    data = _units({("0001", "a"): 50, ("0001", "b"): 40, ("0002", "a"): 30, ("0002", "b"): 3,
                   ("0003", "a"): 60, ("0003", "b"): 70})
    s = Scope("0001", group=["0002"])
    data["gemeentecode"] = s.leaves(data["gemeentecode"])
    run = ExportSession()
    t = run.freq_table(data, ["gemeentecode", "cat"], name="t", unit="u", population="p",
                       hierarchies=s.hierarchy(), levels=s.levels(), publish=s.published)
    shown = s.publish(t)
    assert list(shown["gemeentecode"].unique()) == ["0001", GROUP, NATIONAL]
    cell = shown.set_index(["gemeentecode", "cat"])["aantal"]
    # either the gemeente's or the group's b is hidden, else 43 - 40 = 3 is out
    assert pd.isna(cell[("0001", "b")]) or pd.isna(cell[(GROUP, "b")])
    # the checker's audit from the published rows alone: nothing narrower than 10
    bounds = audit_tables([shown.rename(columns={}).pipe(_with_attrs, t)])
    assert not bounds.empty
    assert (bounds.loc[bounds["published"], "width"] >= 10).all()
    rest = bounds[~bounds["published"]]
    assert ((rest["width"] >= 10) | (rest["lower"] >= 10)).all()


def _with_attrs(frame: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Return the published rows with the source's audit attrs, the total as the checker
    sees it (`NL` back to the total label) and every code listed."""
    out = frame.copy()
    out["gemeentecode"] = out["gemeentecode"].replace(NATIONAL, "totaal")
    out.attrs.update(source.attrs)
    out.attrs["codes"] = {"gemeentecode": ["0001", REST_OF_GROUP, REST_OF_COUNTRY, GROUP,
                                           "totaal"], "cat": ["a", "b", "totaal"]}
    return out


def test_unpublished_cells_are_unknowns_for_the_solver():
    # a small inner cell the table does not publish costs no suppression in the shown margins
    data = _units({("0001", "a"): 50, ("0001", "b"): 3, ("0002", "a"): 30, ("0002", "b"): 30})
    margins = ExportSession().freq_table(
        data, ["gemeentecode", "cat"], name="t", unit="u", population="p",
        publish=lambda c: ((c["gemeentecode"] == "totaal") | (c["cat"] == "totaal")).to_numpy())
    assert len(margins) == 5 and margins["aantal"].notna().all()
    full = ExportSession().freq_table(data, ["gemeentecode", "cat"], name="t", unit="u",
                                      population="p")
    assert full["aantal"].isna().sum() >= 4         # published, the 3 needs a hypercube


def test_hidden_cell_published_later_in_a_linked_table():
    # an inner cell hidden in one table stays consistent when a linked table shows it
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x": rng.choice(["p", "q"], 400), "y": rng.choice(["u", "v"], 400)})
    run = ExportSession()
    only_margins = run.freq_table(data, ["x", "y"], name="m", unit="u", population="p",
                                  publish=lambda f: ((f["x"] == "totaal") |
                                                     (f["y"] == "totaal")).to_numpy())
    assert len(only_margins) == 5
    assert only_margins["aantal"].notna().all()
    again = run.freq_table(data, ["x"], name="x", unit="u", population="p")
    assert again["aantal"].notna().all()
