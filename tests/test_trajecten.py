"""Tests of jeugdkit.trajecten: one traject across year files, merging, reconciliation."""

from __future__ import annotations

import pandas as pd
import pytest

from jeugdkit.read import Reader, split_person_key
from jeugdkit.reconciliation import check_reconciliation
from jeugdkit.trajecten import build_maatregelen, build_trajecten
from tests.population_tree import build_tree, write_jeugdhulp


@pytest.fixture
def reader(tmp_path):
    return Reader(build_tree(tmp_path / "ra"), use_cache=False)


def _nr(frame):
    return split_person_key(frame["rin"].fillna(0))[1].astype(int)


def test_traject_spanning_three_year_files_is_one(reader):
    t, rec = build_trajecten(reader, [2021, 2022, 2023])
    mine = t[(_nr(t) == 1) & (t["aanbieder"] == "P1").to_numpy()]
    assert len(mine) == 1
    row = mine.iloc[0]
    # the newest file's record: closed in 2023 with reason 01
    assert row["begin"] == pd.Timestamp("2021-03-01")
    assert row["eind"] == pd.Timestamp("2023-02-15") and row["reden_einde"] == "01"
    steps = rec.set_index(["stap_nr", "reden"])["uit"]
    assert steps[(2, "zelfde traject in ouder jaarbestand")] == 3  # 2x child 1, 1x child 4
    check_reconciliation(rec, {"trajecten": len(t)})


def test_overlap_merged_but_touching_kept_apart(reader):
    t, _ = build_trajecten(reader, [2023])
    c4 = t[(_nr(t) == 4) & (t["hulpvorm"] == "02").to_numpy()].sort_values("begin")
    assert c4["begin"].dt.strftime("%Y%m%d").tolist() == ["20220501", "20230501"]
    assert c4["eind"].dt.strftime("%Y%m%d").tolist() == ["20230430", "20230630"]
    first = c4.iloc[0]
    assert (first["verwijzer"], first["reden_einde"], first["n_records"]) == ("01", "03", 2)
    assert first["gemeente"] == "0001"  # of the last record
    assert set(t["hulpvorm_groep"].astype(str)) <= {
        "wijkteam", "overig_zonder_verblijf", "met_verblijf", "onbekend"}
    # other provider, same hulpvorm, overlapping: not merged
    assert ((_nr(t) == 1) & (t["hulpvorm"] == "02").to_numpy()).sum() == 2


def test_v2_is_used_not_v1(reader):
    t, _ = build_trajecten(reader, [2023])
    assert 15 not in set(_nr(t))     # only in the wrong V1
    assert 7 in set(_nr(t))


def test_records_without_begin_or_ending_before_begin_are_counted(tmp_path):
    root = build_tree(tmp_path / "ra")
    write_jeugdhulp(root, 2024, [
        ("R", 1, "01", "P1", "", "", "01", "", "0001"),
        ("R", 1, "01", "P1", "20240301", "20240201", "01", "", "0001"),
        ("R", 1, "01", "P1", "20240301", "", "01", "", "0001"),
        ("R", 1, "01", "P1", "20240301", "", "01", "", "0001"),   # same record twice
        ("R", 1, "99", "P1", "20240301", "", "01", "", "0001"),   # unknown hulpvorm
    ])
    t, rec = build_trajecten(Reader(root, use_cache=False), 2024)
    out = rec.set_index("reden")["uit"]
    assert out["geen begindatum"] == 1 and out["einde voor begin"] == 1
    assert out["dubbel record in zelfde jaarbestand"] == 1
    assert len(t) == 2
    assert t.set_index("hulpvorm")["hulpvorm_groep"].astype(str).to_dict() == {
        "01": "wijkteam", "99": "onbekend"}
    check_reconciliation(rec, {"trajecten": len(t)})


def test_maatregelen(reader):
    m, rec = build_maatregelen(reader, "JGDBESCHERMBUS", [2023])
    assert len(m) == 2 and set(m["maatregel"].astype(str)) == {"11"}
    assert {"reden_einde", "gemeente", "n_records"} <= set(m.columns)
    assert m["eind"].isna().all()
    check_reconciliation(rec, {"jeugdbescherming": 2})
