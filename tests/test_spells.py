"""Tests of jeugdkit.spells on the edges: open ends, one-day spells, boundaries, overlaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jeugdkit.spells import active_on, choose_one, merge_overlapping, overlaps, within

T = pd.Timestamp
NaT = pd.NaT


def spells(rows, by="rin"):
    frame = pd.DataFrame(rows, columns=[by, "begin", "eind", "x"])
    frame["begin"] = pd.to_datetime(frame["begin"]).astype("datetime64[ns]")
    frame["eind"] = pd.to_datetime(frame["eind"]).astype("datetime64[ns]")
    return frame


def test_active_on_edges():
    f = spells([
        (1, "2023-01-01", "2023-01-01", "a"),   # one day, on the date
        (2, "2022-01-01", None, "b"),           # open
        (3, "2022-01-01", "2022-12-31", "c"),   # ends the day before
        (4, "2023-01-02", None, "d"),           # begins the day after
        (5, None, None, "e"),                   # no begin: covers no day
    ])
    assert active_on(f["begin"], f["eind"], "2023-01-01").tolist() == [
        True, True, False, False, False]


def test_overlaps_and_within_period_boundaries():
    f = spells([
        (1, "2022-01-01", "2023-01-01", "a"),   # ends on the first day
        (2, "2023-06-30", None, "b"),           # begins on the last day
        (3, "2022-01-01", "2022-12-31", "c"),   # ends the day before
        (4, "2023-07-01", None, "d"),           # begins the day after
        (5, "2020-01-01", None, "e"),           # open, covers all
    ])
    assert overlaps(f["begin"], f["eind"], "2023-01-01", "2023-06-30").tolist() == [
        True, True, False, False, True]
    assert within(f["eind"], "2023-01-01", "2023-06-30").tolist() == [
        True, False, False, False, False]


def test_choose_one_latest_begin_then_open_end_then_tiebreak():
    f = spells([
        (1, "2020-01-01", None, "old"), (1, "2021-01-01", None, "new"),
        (2, "2021-01-01", "2023-12-31", "closed"), (2, "2021-01-01", None, "open"),
        (3, "2021-01-01", None, "a"), (3, "2021-01-01", None, "b"),
        (4, "2021-01-01", None, "only"),
    ])
    chosen, n = choose_one(f, "rin", tiebreak=["x"])
    assert dict(zip(chosen["rin"], chosen["x"])) == {1: "new", 2: "open", 3: "b", 4: "only"}
    assert n == 3
    # deterministic whatever the input order
    again, _ = choose_one(f.iloc[::-1], "rin", tiebreak=["x"])
    assert dict(zip(again["rin"], again["x"])) == dict(zip(chosen["rin"], chosen["x"]))


def test_choose_one_empty():
    out, n = choose_one(spells([]), "rin")
    assert out.empty and n == 0


def test_merge_overlapping_rules():
    f = spells([
        (1, "2022-01-01", "2022-03-31", "first"),
        (1, "2022-03-31", "2022-05-31", "mid"),    # shares 31 March: merged
        (1, "2022-05-01", "2022-04-30", "x"),      # inside the merged spell (odd, but merged)
        (1, "2022-06-01", "2022-06-01", "touch"),  # begins the day after: separate
        (2, "2022-01-01", None, "open"),
        (2, "2023-01-01", "2023-02-01", "inside"),  # inside an open spell: merged, stays open
        (3, "2022-01-01", "2022-01-01", "one"),
    ])
    f = f[f["x"] != "x"]
    merged, away = merge_overlapping(f.assign(x2=f["x"]), "rin", first=["x"], last=["x2"])
    got = {(r.rin, str(r.begin.date())): (None if pd.isna(r.eind) else str(r.eind.date()), r.x,
                                          r.x2, r.n_records) for r in merged.itertuples()}
    assert got == {
        (1, "2022-01-01"): ("2022-05-31", "first", "mid", 2),
        (1, "2022-06-01"): ("2022-06-01", "touch", "touch", 1),
        (2, "2022-01-01"): (None, "open", "open", 2),
        (3, "2022-01-01"): ("2022-01-01", "one", "one", 1),
    }
    assert away == 2


def test_merge_overlapping_transitive_chain_and_groups():
    f = spells([
        (1, "2022-01-01", "2022-02-01", "a"), (1, "2022-03-01", "2022-04-01", "c"),
        (1, "2022-01-15", "2022-03-05", "b"),  # bridges a and c
    ])
    f["g"] = ["p", "p", "p"]
    merged, away = merge_overlapping(f, ["rin", "g"], first=["x"], last=[])
    assert len(merged) == 1 and away == 2
    assert merged.loc[0, "eind"] == T("2022-04-01") and merged.loc[0, "x"] == "a"
    f["g"] = ["p", "p", "q"]  # another group: nothing bridges
    merged, away = merge_overlapping(f, ["rin", "g"])
    assert len(merged) == 3 and away == 0


def test_merge_overlapping_requires_begin():
    with pytest.raises(ValueError, match="missing begin"):
        merge_overlapping(spells([(1, None, None, "a")]), "rin")
    empty, away = merge_overlapping(spells([]), "rin")
    assert empty.empty and away == 0 and "n_records" in empty


def test_merge_overlapping_nullable_keys_group_together():
    f = spells([(1, "2022-01-01", "2022-02-01", "a"), (1, "2022-01-15", None, "b")])
    f["rin"] = pd.array([pd.NA, pd.NA], dtype="Int64")
    merged, away = merge_overlapping(f, "rin")
    assert len(merged) == 1 and pd.isna(merged.loc[0, "eind"]) and away == 1
    assert np.all(merged["n_records"] == 2)
