"""The catalog: shipped entries follow the contract; a user catalog overrides them."""

from __future__ import annotations

import pytest

from jeugdkit.catalog import load_catalog, pattern_regex
from jeugdkit.errors import CatalogError


def test_shipped_catalog_covers_every_contract_dataset():
    cat = load_catalog()
    expected = {"GBAPERSOONTAB", "GBAADRESOBJECTBUS", "GBAHUISHOUDENSBUS", "KINDOUDERTAB",
                "VSLGWBTAB", "INHATAB", "KOPPELPERSOONHUISHOUDEN", "SECMBUS", "HOOGSTEOPLTAB",
                "INSCHRWPOTAB", "JGDHULPBUS", "JGDBESCHERMBUS", "JGDRECLASSERINGBUS"}
    assert expected <= set(cat.datasets)
    assert cat["JGDHULPBUS"].variables["hulpvorm"].name == "JGDHHULPVORM"
    assert cat["JGDRECLASSERINGBUS"].variables["maatregel"].assumed
    assert not cat["JGDHULPBUS"].variables["hulpvorm"].assumed
    assert cat["INHATAB"].history == "per_year" and cat["SECMBUS"].history == "cumulative"


def test_user_catalog_overrides_an_assumed_name(tmp_path, monkeypatch):
    user = tmp_path / "mine.toml"
    user.write_text('[datasets.JGDRECLASSERINGBUS.variables.maatregel]\nname = "JGDRMAATR"\n')
    cat = load_catalog(user)
    var = cat["JGDRECLASSERINGBUS"].variables["maatregel"]
    assert var.name == "JGDRMAATR"
    assert var.codes == ("41", "42", "50", "51", "61", "62", "63")  # the rest of the entry stays
    monkeypatch.setenv("JEUGDKIT_CATALOG", str(user))
    assert load_catalog()["JGDRECLASSERINGBUS"].variables["maatregel"].name == "JGDRMAATR"


def test_malformed_catalog_names_the_entry(tmp_path):
    user = tmp_path / "bad.toml"
    user.write_text('[datasets.JGDHULPBUS]\nhistory = "sometimes"\n')
    with pytest.raises(CatalogError, match=r"JGDHULPBUS.*history = 'sometimes'"):
        load_catalog(user)
    user.write_text("[datasets.JGDHULPBUS\n")
    with pytest.raises(CatalogError, match="not valid TOML"):
        load_catalog(user)


def test_unknown_dataset_and_variable_are_clear():
    cat = load_catalog()
    with pytest.raises(CatalogError, match="'JGDHULP' is not in the catalog"):
        cat["JGDHULP"]
    with pytest.raises(CatalogError, match="no logical variable 'hulp'"):
        cat["JGDHULPBUS"].column("hulp")


def test_pattern_regex_reads_year_and_version_case_insensitively():
    rx = pattern_regex("JGDHULP{Y}BUSV{n}.sav")
    m = rx.match("JGDHULP2023BUSV12.SAV")
    assert m and m["year"] == "2023" and m["version"] == "12"
    assert not rx.match("JGDHULP23BUSV1.sav")
    with pytest.raises(CatalogError):
        pattern_regex("JGDHULPBUS.sav")
