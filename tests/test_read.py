"""The reader: typed columns, missing codes, keys, dates, labels, cache and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jeugdkit.errors import (
    CacheWarning,
    DatasetNotFoundError,
    DataValueError,
    ReadError,
    VariableNotFoundError,
)
from jeugdkit.read import Reader, _source_fingerprint, person_key, split_person_key
from tests.conftest import rin, write_sav


@pytest.fixture
def reader(quirky_tree, tmp_path):
    return Reader(quirky_tree, cache_dir=tmp_path / "cache")


def key(s: str, number: int) -> int:
    return (ord(s) << 30) | number


def test_person_key_is_exact_and_keeps_rinpersoons_apart(reader):
    persons = reader.read("GBAPERSOONTAB", ["geslacht"])
    assert len(persons) == 5  # V2, not V1 (3 rows)
    assert persons["rin"].tolist() == [key("R", 1), key("R", 2), key("R", 3), key("S", 1),
                                       key("R", 40)]
    # R 000000001 and S 000000001 are different persons
    assert persons["rin"].nunique() == 5
    s, r = split_person_key(persons["rin"].to_numpy())
    assert r.tolist() == rin(1, 2, 3, 1, 40) and s.tolist() == ["R", "R", "R", "S", "R"]


@given(st.sampled_from("RSI"), st.integers(0, 999_999_999))
def test_person_key_round_trips(letter, number):
    k = person_key([letter], [f"{number:09d}"])
    s, r = split_person_key(np.asarray(k, dtype=np.int64))
    assert (s[0], r[0]) == (letter, f"{number:09d}")


def test_person_key_rejects_malformed_and_missing_parts():
    k = person_key(["R", "R", "-", "R", "R"],
                   ["000000001", "---------", "000000002", "12345", "00000000x"])
    assert k.isna().tolist() == [False, True, True, True, True]


def test_unknown_parent_is_missing_not_a_link(reader):
    parents = reader.read("KINDOUDERTAB")
    child40 = parents[parents["rin"] == key("R", 40)].iloc[0]
    assert child40["rin_ma"] == key("R", 3)
    assert pd.isna(child40["rin_pa"])
    report = reader.log[-1]
    assert report.columns["rin_pa"] == {"missing": 1}  # a missing code, not malformed


def test_codes_are_stripped_and_missing_codes_are_missing(reader):
    hh = reader.read("GBAHUISHOUDENSBUS", ["plhh", "typhh", "begin", "eind", "huishoudnr"])
    assert hh["plhh"].tolist() == ["1", "5", "7"]
    assert isinstance(hh["plhh"].dtype, pd.CategoricalDtype)
    persons = reader.read("GBAPERSOONTAB", ["geslacht"])
    assert persons["geslacht"].isna().tolist() == [False, False, True, False, False]


def test_dates_and_open_ends(reader):
    hh = reader.read("GBAHUISHOUDENSBUS", ["begin", "eind"])
    assert hh["begin"].tolist()[0] == pd.Timestamp("2010-01-15")
    assert hh["eind"].isna().tolist() == [True, False, True]  # 20501231 = open
    assert hh["eind"].iloc[1] == pd.Timestamp("2015-02-28")
    assert reader.log[-1].columns["eind"]["open_end"] == 2
    jeugd = reader.read("JGDHULPBUS", ["begin", "eind"], years=[2018])
    assert jeugd["eind"].isna().tolist() == [False, True]  # empty = open traject


def test_identifiers_join_across_files(reader):
    hh = reader.read("GBAHUISHOUDENSBUS", ["huishoudnr"])
    assert hh["huishoudnr"].iloc[0] == hh["huishoudnr"].iloc[1]
    assert hh["huishoudnr"].iloc[0] != hh["huishoudnr"].iloc[2]
    assert str(hh["huishoudnr"].dtype) == "Int64"


def test_income_sentinels_are_missing(reader):
    inha = reader.read("INHATAB", ["percentiel", "pct_lage_inkomensgrens"], years=2022)
    assert inha["percentiel"].isna().tolist() == [False, True]  # negative percentile
    assert inha["pct_lage_inkomensgrens"].isna().tolist() == [False, True]  # 999999999
    assert inha["year"].unique().tolist() == [2022]


def test_per_year_stacking_and_case_changing_variable(reader):
    opl = reader.read("HOOGSTEOPLTAB", ["opleidingsniveau"])
    assert opl["year"].tolist() == [2021, 2022, 2022]
    assert opl["opleidingsniveau"].tolist() == ["3111", "3111", "1211"]
    assert isinstance(opl["opleidingsniveau"].dtype, pd.CategoricalDtype)


def test_only_requested_columns_are_read(reader):
    jeugd = reader.read("JGDHULPBUS", ["hulpvorm"])
    assert list(jeugd.columns) == ["year", "rin", "hulpvorm"]


def test_unknown_codes_are_kept_and_counted(reader):
    jeugd = reader.read("JGDHULPBUS", ["hulpvorm"], years=[2019])
    assert jeugd["hulpvorm"].tolist() == ["11", "99"]
    assert reader.log[-1].unknown_codes() == {"hulpvorm": {"99": 1}}


def test_variable_outside_its_years_is_all_missing(reader):
    jeugd = reader.read("JGDHULPBUS", ["perspectief", "crisis"])
    assert jeugd["perspectief"].tolist()[:2] == ["03", "04"]
    assert jeugd["perspectief"].iloc[2:].isna().all()  # gone after 2018
    assert jeugd["crisis"].iloc[:2].isna().all() and jeugd["crisis"].iloc[2:].tolist() == ["0", "1"]


def test_labels_for_display_only(reader):
    assert reader.labels("GBAHUISHOUDENSBUS", "plhh")["1"] == "Thuiswonend kind"
    assert reader.labels("JGDHULPBUS", "hulpvorm")["11"] == "pleegzorg"


def test_wide_variable_in_a_classification_year(reader):
    g22 = reader.read("VSLGWBTAB", ["rinobjectnummer", "gemeente"], classification_year=2022)
    g23 = reader.read("VSLGWBTAB", ["rinobjectnummer", "gemeente"], classification_year=2023)
    assert g22["gemeente"].tolist() == ["0001", "0002"]
    assert g23["gemeente"].tolist() == ["0001", "0001"]  # merged in 2023
    with pytest.raises(VariableNotFoundError, match=r"gem2030.*\['2022', '2023'\]"):
        reader.read("VSLGWBTAB", ["gemeente"], classification_year=2030)


def test_missing_variable_names_the_catalog_key(quirky_tree, tmp_path):
    path = quirky_tree / "GezondheidWelzijn" / "JGDHULPBUS" / "JGDHULP2018BUSV1.sav"
    write_sav(path, {"RINPERSOONS": ["R"], "RINPERSOON": rin(1), "JGDHHULPVORM": ["01"]})
    reader = Reader(quirky_tree, cache_dir=tmp_path / "c")
    # a confirmed name (the begin date) that is lacking stops the read
    with pytest.raises(VariableNotFoundError) as err:
        reader.read("JGDHULPBUS", ["begin"], years=[2018])
    message = str(err.value)
    assert "JGDHULP2018BUSV1.sav" in message and "JGDHGELDIGHEIDBEGINDATUM" in message
    assert "datasets.JGDHULPBUS.variables.begin.name" in message
    # an assumed name (verwijzer) that is lacking is read as missing and recorded
    with pytest.warns(UserWarning, match="datasets.JGDHULPBUS.variables.verwijzer.name"):
        frame = reader.read("JGDHULPBUS", ["verwijzer"], years=[2018])
    assert frame["verwijzer"].isna().all()
    assert reader.gaps[("JGDHULPBUS", "verwijzer")]["bestanden"] == ["JGDHULP2018BUSV1.sav"]


def test_missing_dataset(reader):
    with pytest.raises(DatasetNotFoundError, match="SECMBUS"):
        reader.read("SECMBUS")


def test_unparseable_date_names_file_and_variable(quirky_tree, tmp_path):
    path = quirky_tree / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
    write_sav(path, {"RINPERSOONS": ["R", "R"], "RINPERSOON": rin(1, 2),
                     "DATUMAANVANGHH": ["20230231", "2023-01-01"],
                     "DATUMEINDEHH": ["20501231", "20501231"]})
    reader = Reader(quirky_tree, cache_dir=tmp_path / "c")
    with pytest.raises(DataValueError) as err:
        reader.read("GBAHUISHOUDENSBUS", ["begin"])
    assert "GBAHUISHOUDENS2023BUSV1.sav" in str(err.value)
    assert "DATUMAANVANGHH" in str(err.value) and "20230231" in str(err.value)
    assert not list((tmp_path / "c").glob("*"))  # no half-written cache
    lenient = Reader(quirky_tree, cache_dir=tmp_path / "c", on_bad_value="missing")
    hh = lenient.read("GBAHUISHOUDENSBUS", ["begin"])
    assert hh["begin"].isna().all() and lenient.log[-1].columns["begin"]["invalid"] == 2


def test_truncated_file_gives_read_error_and_no_cache(quirky_tree, tmp_path):
    path = quirky_tree / "Bevolking" / "KINDOUDERTAB" / "KINDOUDER2023TABV1.sav"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    cache = tmp_path / "c"
    with pytest.raises(ReadError, match="KINDOUDER2023TABV1.sav"):
        Reader(quirky_tree, cache_dir=cache).read("KINDOUDERTAB")
    assert not cache.exists() or not list(cache.glob("*"))


def test_warm_read_equals_cold_and_uses_the_cache(quirky_tree, tmp_path):
    cache = tmp_path / "cache"
    cold = Reader(quirky_tree, cache_dir=cache)
    a = cold.read("JGDHULPBUS")
    assert {r.cache for r in cold.log} == {"miss"}
    warm = Reader(quirky_tree, cache_dir=cache)
    b = warm.read("JGDHULPBUS")
    assert {r.cache for r in warm.log} == {"hit"}
    pd.testing.assert_frame_equal(a, b)
    assert warm.log[-1].unknown_codes() == cold.log[-1].unknown_codes()  # stats survive


def test_cache_grows_by_column_and_follows_source_changes(quirky_tree, tmp_path):
    cache = tmp_path / "cache"
    r = Reader(quirky_tree, cache_dir=cache)
    r.read("GBAHUISHOUDENSBUS", ["typhh"])
    r.read("GBAHUISHOUDENSBUS", ["typhh", "plhh"])
    r.read("GBAHUISHOUDENSBUS", ["plhh"])
    assert [x.cache for x in r.log] == ["miss", "partial", "hit"]
    path = quirky_tree / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
    write_sav(path, {"RINPERSOONS": ["R"], "RINPERSOON": rin(9), "DATUMAANVANGHH": ["20200101"],
                     "DATUMEINDEHH": ["20501231"], "PLHH": [" 2"]})
    again = Reader(quirky_tree, cache_dir=cache)
    hh = again.read("GBAHUISHOUDENSBUS", ["plhh"])
    assert again.log[-1].cache == "miss" and hh["plhh"].tolist() == ["2"]


def test_parallel_chunked_read_equals_single_process(tmp_path):
    n = 5000
    rng = np.random.default_rng(3)
    root = tmp_path / "ra"
    write_sav(root / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav", {
        "RINPERSOONS": ["R"] * n, "RINPERSOON": rin(*rng.integers(0, 10**9, n)),
        "DATUMAANVANGHH": ["20200101"] * (n - 1) + ["20230231"],
        "DATUMEINDEHH": rng.choice(["20501231", "20210101", ""], n).tolist(),
        "TYPHH": rng.choice(["1", "5", "6", "9"], n).tolist(),
        "PLHH": rng.choice([" 1", " 7", "10"], n).tolist(),
    })
    columns = ["begin", "eind", "typhh", "plhh"]
    single = Reader(root, use_cache=False, processes=1, on_bad_value="missing")
    multi = Reader(root, use_cache=False, processes=2, chunk_rows=700, parallel_min_rows=1000,
                   on_bad_value="missing")
    a, b = single.read("GBAHUISHOUDENSBUS", columns), multi.read("GBAHUISHOUDENSBUS", columns)
    pd.testing.assert_frame_equal(a, b)
    assert single.log[-1].columns == multi.log[-1].columns
    assert multi.log[-1].columns["typhh"]["unknown"] == {"9": int((a["typhh"] == "9").sum())}
    assert multi.log[-1].columns["begin"]["invalid"] == 1


# ----------------------------------------------------------------------------- cache checks
HH = Path("Bevolking") / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
HH_COLUMNS = ["begin", "eind", "typhh", "plhh"]


def write_households(root, n: int = 2000, seed: int = 5) -> None:
    """Write a GBAHUISHOUDENSBUS file of n rows with random (incompressible) person keys."""
    rng = np.random.default_rng(seed)
    write_sav(root / HH, {
        "RINPERSOONS": ["R"] * n, "RINPERSOON": rin(*rng.integers(0, 10**9, n)),
        "DATUMAANVANGHH": rng.choice(["20200101", "20190315"], n).tolist(),
        "DATUMEINDEHH": rng.choice(["20501231", "20210101"], n).tolist(),
        "TYPHH": rng.choice(["1", "5", "6"], n).tolist(),
        "PLHH": rng.choice([" 1", " 7", "10"], n).tolist(),
    })


@pytest.fixture
def cached(tmp_path):
    """A household file, its correct frame read without cache, and a filled cache folder."""
    root, cache = tmp_path / "ra", tmp_path / "cache"
    write_households(root)
    truth = Reader(root, use_cache=False, processes=1).read("GBAHUISHOUDENSBUS", HH_COLUMNS)
    Reader(root, cache_dir=cache, processes=1).read("GBAHUISHOUDENSBUS", HH_COLUMNS)
    (cache_file,) = cache.glob("*.parquet")
    return root, cache, cache_file, truth


def column_chunk(cache_file, column: str) -> tuple[int, int]:
    """Return (offset, length) of a column's bytes in a Parquet file (one row group)."""
    meta = pq.ParquetFile(cache_file).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    chunk = meta.row_group(0).column(names.index(column))
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    return start, chunk.total_compressed_size


def read_again(root, cache) -> tuple[pd.DataFrame, Reader]:
    reader = Reader(root, cache_dir=cache, processes=1)
    return reader.read("GBAHUISHOUDENSBUS", HH_COLUMNS), reader


def assert_rebuilt(root, cache, cache_file, truth):
    """Assert that a read warns about the bad cache entry, serves the truth and rebuilds it."""
    with pytest.warns(CacheWarning, match=cache_file.name) as caught:
        frame, reader = read_again(root, cache)
    assert "GBAHUISHOUDENS2023BUSV1.sav" in str(caught[0].message)
    pd.testing.assert_frame_equal(frame, truth)
    assert reader.log[-1].cache == "miss"
    return reader


def test_cache_with_flipped_bytes_is_rebuilt_with_a_warning(cached):
    root, cache, cache_file, truth = cached
    data = bytearray(cache_file.read_bytes())
    start, length = column_chunk(cache_file, "rin")
    middle = start + length // 2
    for i in range(middle, middle + 64):  # 64 flipped bytes inside the person keys
        data[i] ^= 0xFF
    cache_file.write_bytes(bytes(data))
    assert_rebuilt(root, cache, cache_file, truth)
    frame, reader = read_again(root, cache)  # the rebuilt entry is a good one
    assert reader.log[-1].cache == "hit"
    pd.testing.assert_frame_equal(frame, truth)


def test_cache_with_valid_metadata_but_half_the_rows_is_rebuilt(cached):
    root, cache, cache_file, truth = cached
    table = pq.read_table(cache_file)
    pq.write_table(table.slice(0, table.num_rows // 2), cache_file)  # keeps the schema metadata
    assert pq.read_schema(cache_file).metadata == table.schema.metadata
    with pytest.warns(CacheWarning, match="rows") as caught:
        frame, reader = read_again(root, cache)
    assert cache_file.name in str(caught[0].message)
    assert len(frame) == len(truth) == 2000
    pd.testing.assert_frame_equal(frame, truth)


def test_cache_with_valid_metadata_but_other_values_is_rebuilt(cached):
    root, cache, cache_file, truth = cached
    table = pq.read_table(cache_file)  # rewritten whole: every page checksum is right
    column = table.schema.get_field_index("rin")
    shuffled = table.column(column).take(np.random.default_rng(2).permutation(table.num_rows))
    pq.write_table(table.set_column(column, "rin", shuffled), cache_file)
    with pytest.warns(CacheWarning, match="column rin"):
        frame, reader = read_again(root, cache)
    pd.testing.assert_frame_equal(frame, truth)
    assert reader.log[-1].cache == "miss"


def test_source_replaced_in_place_with_same_size_and_mtime_is_not_served_stale(cached):
    root, cache, _, truth = cached
    path = root / HH
    before = path.stat()
    write_households(root, seed=6)  # other persons, same widths: same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    frame, reader = read_again(root, cache)
    fresh = Reader(root, use_cache=False, processes=1).read("GBAHUISHOUDENSBUS", HH_COLUMNS)
    assert not frame["rin"].equals(truth["rin"])
    pd.testing.assert_frame_equal(frame, fresh)
    assert reader.log[-1].cache == "miss"


def test_source_fingerprint_samples_a_large_file_and_hashes_a_small_one_whole(tmp_path):
    path = tmp_path / "big.sav"
    size = 5 * 2**20 + 123
    data = bytearray(np.random.default_rng(4).bytes(size))

    def fingerprint(changed_at: int | None = None) -> str:
        copy = bytearray(data)
        if changed_at is not None:
            copy[changed_at] ^= 1
        path.write_bytes(bytes(copy))
        return _source_fingerprint(path, size)

    base = fingerprint()
    block = (size - 2**16) * 31 // 63  # the 32nd of 64 sampled blocks
    for at in (0, 100, block + 2**15, size - 1):  # header, tail, a sampled block
        assert fingerprint(at) != base
    assert fingerprint(2**16 + 10) == base  # between blocks: the sample's known blind spot
    small = tmp_path / "small.sav"
    small.write_bytes(bytes(data[: 2**20]))
    before = _source_fingerprint(small, 2**20)
    small.write_bytes(bytes(data[: 2**20 - 1]) + b"x")
    assert _source_fingerprint(small, 2**20) != before  # a small file is hashed whole


@pytest.mark.parametrize("damage", ["truncated", "garbage page", "garbage file"])
def test_damaged_cache_file_gives_a_warning_and_is_rebuilt(cached, damage):
    root, cache, cache_file, truth = cached
    data = bytearray(cache_file.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "garbage page":  # the footer is intact, one column's pages are not
        start, length = column_chunk(cache_file, "plhh")
        data[start:start + length] = np.random.default_rng(1).bytes(length)
    else:
        data = bytearray(b"not a parquet file at all")
    cache_file.write_bytes(bytes(data))
    assert_rebuilt(root, cache, cache_file, truth)
