"""Discovery on an untidy, hand-built RA tree."""

from __future__ import annotations

import pytest

from jeugdkit.catalog import load_catalog
from jeugdkit.discover import discover
from jeugdkit.errors import DatasetNotFoundError


@pytest.fixture
def inventory(quirky_tree):
    return discover(quirky_tree, load_catalog())


def test_highest_version_and_newest_edition_of_a_cumulative_dataset(inventory):
    persons = inventory["GBAPERSOONTAB"]
    assert list(persons.chosen) == [2023]
    assert persons.chosen[2023].version == 2
    assert persons.chosen[2023].path.name == "GBAPERSOON2023TABV2.sav"
    superseded = sorted(f.path.name for f in persons.superseded)
    assert superseded == ["GBAPERSOON2022TABV1.sav", "GBAPERSOON2023TABV1.sav",
                          "GBAPERSOONTAB2021V1.sav"]  # the name variant is placed too


def test_per_year_dataset_keeps_every_year_and_upper_case_extension(inventory):
    jeugd = inventory["JGDHULPBUS"]
    assert jeugd.years == [2018, 2019]
    assert jeugd.chosen[2019].path.suffix == ".SAV"


def test_year_folders_optional(inventory):
    assert inventory["HOOGSTEOPLTAB"].years == [2021, 2022]  # in year folders
    assert inventory["INHATAB"].years == [2021, 2022]  # flat, sharing a folder
    assert inventory["KOPPELPERSOONHUISHOUDEN"].years == [2021, 2022]


def test_every_unplaced_file_is_reported_with_a_reason(inventory):
    unplaced = {u.path.name: u.reason for u in inventory.unplaced}
    assert set(unplaced) == {"Documentatie JGDHULPBUS.pdf", "JGDHULP_2019_oud.sav",
                             "JGDHULP2017BUSV1.sav"}
    assert "4-digit year folder" in unplaced["JGDHULP2017BUSV1.sav"]
    assert "matches no file pattern of JGDHULPBUS" in unplaced["JGDHULP_2019_oud.sav"]


def test_folder_names_match_case_insensitively(quirky_tree):
    (quirky_tree / "GezondheidWelzijn").rename(quirky_tree / "gezondheidwelzijn")
    inv = discover(quirky_tree, load_catalog())
    assert inv["JGDHULPBUS"].years == [2018, 2019]


def test_missing_dataset_and_year_give_clear_errors(inventory):
    assert inventory["SECMBUS"].folder is None
    with pytest.raises(DatasetNotFoundError, match=r"SECMBUS: no file matching.*SECMBUS"):
        inventory.files("SECMBUS")
    with pytest.raises(DatasetNotFoundError,
                       match=r"no file for year\(s\) \[2020\].*\[2018, 2019\]"):
        inventory.files("JGDHULPBUS", [2020])


def test_data_root_that_is_not_a_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="JEUGDKIT_DATA_ROOT"):
        discover(tmp_path / "nope", load_catalog())


def test_year_folder_mismatch_is_noted(quirky_tree):
    src = quirky_tree / "Onderwijs" / "HOOGSTEOPLTAB" / "2022" / "HOOGSTEOPL2022TABV1.sav"
    src.rename(src.parent.parent / "2021" / "HOOGSTEOPL2022TABV1.sav")
    inv = discover(quirky_tree, load_catalog())
    assert inv["HOOGSTEOPLTAB"].years == [2021, 2022]
    assert any("year folder 2021 holds a file of year 2022" in i
               for i in inv["HOOGSTEOPLTAB"].issues)
