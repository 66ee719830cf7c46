"""A partial RA delivery degrades instead of stopping: a JGDHULPBUS file without the variables
whose RA names are only assumed (the outcome items, verwijzer, reden, aanbieder) still gives
the population and every output that does not need them; the outputs that do are left out
with a 'niet berekenbaar' note naming the variable and file, on the console and in the log."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

import synthetic
from jeugdkit.errors import VariableNotFoundError
from jeugdkit.population import build_population
from jeugdkit.read import MissingVariableWarning, Reader
from jeugdkit.tables import release_tables
from jeugdkit.trajectories import build_history, release_trajectories

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""

PERIOD = "2023"


def _rewrite(path: Path, drop=(), rename=None) -> None:
    """Rewrite a .sav without some variables (or with others renamed), labels kept."""
    df, meta = pyreadstat.read_sav(str(path))
    rename = rename or {}
    df = df.drop(columns=[c for c in drop if c in df.columns]).rename(columns=rename)
    labels = {rename.get(k, k): v for k, v in zip(meta.column_names, meta.column_labels)}
    values = {rename.get(k, k): v for k, v in meta.variable_value_labels.items()}
    pyreadstat.write_sav(df, str(path),
                         column_labels={k: v for k, v in labels.items() if k in df.columns},
                         variable_value_labels={k: v for k, v in values.items()
                                                if k in df.columns})


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    """The same small tree twice: complete, and with assumed JGDHULPBUS variables cut out."""
    tmp = tmp_path_factory.mktemp("partial")
    synthetic.generate(tmp / "full", persons=4_000, gemeenten=8, years=(2018, 2024))
    synthetic.generate(tmp / "part", persons=4_000, gemeenten=8, years=(2018, 2024))
    for f in sorted((tmp / "part" / "ra").rglob("JGDHULP*.sav")):
        _rewrite(f, drop=("JGDHZELFSTANDIG", "JGDHVERWIJZER"),
                 rename={"JGDHCIJFERNUT": "JGDHCIJFERNUTTIG"})
    return tmp


def _reader(trees, which):
    return Reader(trees / which / "ra", cache_dir=trees / f"cache-{which}")


def test_assumed_variable_lacking_is_read_as_missing_and_recorded(trees):
    reader = _reader(trees, "part")
    with pytest.warns(MissingVariableWarning, match="JGDHZELFSTANDIG"):
        jh = reader.read("JGDHULPBUS", ["hulpvorm", "zelfstandig", "cijfer"], years=[2023])
    assert jh["zelfstandig"].isna().all() and jh["cijfer"].isna().all()
    assert jh["hulpvorm"].notna().all() and len(jh) > 100
    gap = reader.gaps[("JGDHULPBUS", "cijfer")]
    used = reader.files("JGDHULPBUS", [2023])[0].path.name  # the highest version (V2 here)
    assert gap["variabele"] == "JGDHCIJFERNUT" and gap["bestanden"] == [used]
    # the renamed variable is offered as the likely RA name
    assert gap["suggesties"] == ["JGDHCIJFERNUTTIG"]
    assert reader.gaps[("JGDHULPBUS", "zelfstandig")]["suggesties"] == []


def test_confirmed_variable_lacking_is_still_an_error(trees, tmp_path):
    src = _reader(trees, "part").files("JGDHULPBUS", [2023])[0].path
    root = tmp_path / "ra" / src.relative_to(trees / "part" / "ra").parent
    root.mkdir(parents=True)
    target = root / src.name
    target.write_bytes(src.read_bytes())
    _rewrite(target, drop=("JGDHHULPVORM",))
    reader = Reader(tmp_path / "ra", cache_dir=tmp_path / "cache")
    with pytest.raises(VariableNotFoundError, match=rf"{src.name}: variable "
                                                    r"JGDHHULPVORM .*catalog key"):
        reader.read("JGDHULPBUS", ["hulpvorm"], years=[2023])


@pytest.fixture(scope="module")
def released(trees):
    out = {}
    for which in ("full", "part"):
        reader = _reader(trees, which)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingVariableWarning)
            pop = build_population(reader, PERIOD)
            history = build_history(reader, PERIOD)
        tables = release_tables(pop, trees / f"out-{which}" / "tables", figures=False)
        traj = release_trajectories(pop, history, trees / f"out-{which}" / "trajecten",
                                    spiegel=False)
        out[which] = (pop, tables, traj)
    return out


def test_population_is_the_same_without_the_assumed_variables(released):
    full, part = released["full"][0], released["part"][0]
    assert len(part.frame) == len(full.frame)
    pd.testing.assert_series_equal(part.frame["jeugdhulp"], full.frame["jeugdhulp"])
    lacking = {g["catalogus"] for g in part.notes["missing_variables"]}
    assert lacking == {"cijfer", "zelfstandig", "verwijzer"}
    assert full.notes["missing_variables"] == []
    assert "JGDHVERWIJZER" in part.lacking("JGDHULPBUS", "verwijzer")
    assert part.lacking("JGDHULPBUS", "hulpvorm", "reden_einde") == ""


def test_tables_leave_out_only_instroom_by_verwijzer(released, trees):
    (_, full, _), (_, part, _) = released["full"], released["part"]
    assert "instroom_verwijzer" in full and "instroom_verwijzer" not in part
    for name in ("indicators", "gebruik_leeftijd_geslacht", "stroom"):
        pd.testing.assert_frame_equal(part[name], full[name])
    assert not (trees / "out-part" / "tables" / "instroom_verwijzer.csv").exists()
    log = (trees / "out-part" / "tables" / "log" / "summary.md").read_text(encoding="utf-8")
    assert "**instroom_verwijzer** (niet berekenbaar): variabele JGDHVERWIJZER ontbreekt in " \
           "JGDHULP2023BUSV" in log


def test_trajectories_leave_out_only_the_outcome_items(released, trees):
    (_, _, full), (_, _, part) = released["full"], released["part"]
    note = part["uitkomstitems"]["opmerking"].iloc[0]
    assert note.startswith("niet berekenbaar: ") and "JGDHCIJFERNUT" in note \
        and "JGDHZELFSTANDIG" in note and "JGDHCIJFERNUTTIG" in note
    assert "gemiddeld_cijfer" in full["uitkomstitems"]
    # these tables share the population of closed trajecten with the outcome items, which
    # are protected jointly with uitval in the full delivery: the cheapest joint pattern may
    # differ (and what later tables find locked with it), the counts may not
    for name in ("uitval", "herhaald_beroep", "duur", "overgangen"):
        a, b = part[name], full[name]
        assert a.shape == b.shape and (a.columns == b.columns).all(), name
        assert (a.notna() & b.notna()).to_numpy().any(), name
        for col in a.columns:
            both = a[col].notna() & b[col].notna()
            assert (a.loc[both, col].astype(str) == b.loc[both, col].astype(str)).all(), \
                (name, col)
    notes = part["_notes"]["note"].tolist()
    assert any(n.startswith("cijfer niet berekenbaar: variabele JGDHCIJFERNUT") for n in notes)
    log = (trees / "out-part" / "trajecten" / "log" / "summary.md").read_text(encoding="utf-8")
    assert "**zelfstandig** (niet berekenbaar)" in log and "**cijfer** (niet berekenbaar)" in log
    assert "Not made" not in (trees / "out-full" / "trajecten" / "log" / "summary.md").read_text(
        encoding="utf-8")


# ------------------------------------------------------------------ deep dive on thin data
@pytest.fixture(scope="module")
def one_year(tmp_path_factory):
    """A delivery with the jeugd files of one year only, and one gemeente alone in its
    stedelijkheid class."""
    tmp = tmp_path_factory.mktemp("one_year")
    synthetic.generate(tmp, persons=4_000, gemeenten=8, years=(2021, 2023))
    for f in (tmp / "ra").rglob("JGD*.sav"):
        if "2023" not in f.name:
            f.unlink()
    ref = pd.read_csv(tmp / "gemeenten.csv", dtype=str)
    largest = ref.loc[ref["inwoners"].astype(int).idxmax(), "gemeentecode"]
    ref.loc[ref["gemeentecode"] == largest, "stedelijkheid"] = "1"
    ref.loc[ref["gemeentecode"] != largest, "stedelijkheid"] = "4"
    ref.to_csv(tmp / "gemeenten.csv", index=False)
    return tmp, largest


def test_deepdive_with_one_year_leaves_out_the_panel_and_says_why(one_year, tmp_path, capsys):
    from jeugdkit.cli import main
    tree, _ = one_year
    out = tmp_path / "dd"
    rc = main(["deepdive", "--data-root", str(tree / "ra"), "--period", "2023", "--out",
               str(out), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert rc == 0
    assert (out / "oe.csv").exists() and not (out / "panel.csv").exists()
    assert "note: panel niet berekenbaar: panel with lag 1: fewer than two" in err
    log = (out / "log" / "summary.md").read_text(encoding="utf-8")
    assert "- **panel** (niet berekenbaar): panel with lag 1" in log


def test_gemeente_alone_in_its_class_is_compared_with_the_rest_of_the_country(
        one_year, tmp_path, capsys):
    from jeugdkit.cli import main
    tree, alone = one_year
    out = tmp_path / "dd"
    rc = main(["deepdive", "--data-root", str(tree / "ra"), "--period", "2023", "--gemeente",
               alone, "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-panel"])
    assert rc == 0, capsys.readouterr().err
    assert f"alleen {alone}: de decompositie vergelijkt met de rest van Nederland" in \
        capsys.readouterr().err
    dec = pd.read_csv(out / "decompositie.csv", dtype={"gemeentecode": str})
    assert set(dec["vergelijking"]) == {"rest van Nederland"}


# ------------------------------------------------------------------ inventory suggestions
def test_inventory_suggests_a_user_catalog_entry_that_works(trees, tmp_path):
    from jeugdkit.inventory import format_inventory, inventory_report
    report = inventory_report(_reader(trees, "part"))
    newest = report["datasets"]["JGDHULPBUS"]["files"][-1]
    sug = {s["catalog_key"]: s for s in newest["suggestions"]}
    assert set(sug) == {"cijfer", "zelfstandig", "verwijzer"}
    assert sug["cijfer"]["closest"] == ["JGDHCIJFERNUTTIG"] and sug["cijfer"]["assumed"]
    assert sug["zelfstandig"]["closest"] == [] and 'name = "?"' in sug["zelfstandig"][
        "catalog_entry"]
    assert "JGDHCIJFERNUT (assumed name) lacking; closest: JGDHCIJFERNUTTIG" in \
        format_inventory(report)
    # the suggested entry, copied into a user catalog, makes the variable readable again
    catalog = tmp_path / "eigen.toml"
    catalog.write_text(sug["cijfer"]["catalog_entry"] + "\n", encoding="utf-8")
    reader = Reader(trees / "part" / "ra", catalog=catalog, cache_dir=tmp_path / "cache")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingVariableWarning)
        jh = reader.read("JGDHULPBUS", ["cijfer"], years=[2023])
    assert jh["cijfer"].notna().sum() > 0 and ("JGDHULPBUS", "cijfer") not in reader.gaps


# ------------------------------------------------------------------ bad values
@pytest.fixture(scope="module")
def bad_tree(trees, tmp_path_factory):
    """The complete tree with three end dates 20231345 in the newest JGDHULPBUS file."""
    import shutil
    tmp = tmp_path_factory.mktemp("bad")
    shutil.copytree(trees / "full" / "ra", tmp / "ra")
    shutil.copy(trees / "full" / "gemeenten.csv", tmp / "gemeenten.csv")
    path = Reader(tmp / "ra").files("JGDHULPBUS", [2023])[0].path
    df, meta = pyreadstat.read_sav(str(path))
    closed = df.index[df["JGDHGELDIGHEIDEINDDATUM"].str.strip() != ""][:3]
    df.loc[closed, "JGDHGELDIGHEIDEINDDATUM"] = "20231345"
    pyreadstat.write_sav(df, str(path), column_labels=dict(zip(meta.column_names,
                                                               meta.column_labels)),
                         variable_value_labels=meta.variable_value_labels)
    return tmp, path


def test_bad_value_stops_with_the_remedy_and_missing_counts_it(bad_tree, tmp_path, capsys,
                                                               monkeypatch):
    from jeugdkit.cli import main
    tree, path = bad_tree
    monkeypatch.setenv("JEUGDKIT_ON_BAD_VALUE", "raise")
    common = ["--data-root", str(tree / "ra"), "--period", PERIOD,
              "--cache-dir", str(tmp_path / "cache")]
    assert main(["population", *common, "--out", str(tmp_path / "a.parquet")]) == 2
    err = capsys.readouterr().err
    assert f"{path}, variable JGDHGELDIGHEIDEINDDATUM: 3 value(s) are not dates" in err
    assert "--on-bad-value missing" in err and "on_bad_value" in err
    # read as missing and counted in the reconciliation
    assert main(["population", *common, "--out", str(tmp_path / "b.parquet"),
                 "--on-bad-value", "missing"]) == 0
    rec = pd.read_csv(tmp_path / "b.reconciliation.csv")
    row = rec[rec["reden"].astype(str).str.startswith("ongeldige waarde")]
    assert row[["eenheid", "stap", "behouden"]].values.tolist() == [
        ["trajecten", "records gelezen", 3]]
    assert path.name in row["reden"].iloc[0]
    # the cache filled while reading them as missing does not hide them afterwards (and the
    # option set for one command is not left behind in the process)
    assert os.environ["JEUGDKIT_ON_BAD_VALUE"] == "raise"
    assert main(["population", *common, "--out", str(tmp_path / "c.parquet")]) == 2
    # and the same from a settings file
    settings = tmp_path / "instellingen.toml"
    settings.write_text('[analysis]\non_bad_value = "missing"\n', encoding="utf-8")
    assert main(["population", *common, "--out", str(tmp_path / "d.parquet"),
                 "--settings", str(settings)]) == 0


def test_report_on_one_year_for_a_gemeente_alone_in_its_class(one_year, tmp_path, capsys):
    """The whole report runs; what the data cannot give is named in its text."""
    from jeugdkit.cli import main
    tree, alone = one_year
    out = tmp_path / "rapporten"
    rc = main(["report", "--data-root", str(tree / "ra"), "--gemeente", alone, "--out",
               str(out), "--cache-dir", str(tmp_path / "cache"), "--workers", "1"])
    assert rc == 0, capsys.readouterr()
    html = (out / "2023" / alone / "rapport.html").read_text(encoding="utf-8")
    assert f"bevat alleen {alone}: de decompositie vergelijkt met de rest van Nederland" in html
    assert "panel niet berekenbaar" in html and "overgangen niet berekenbaar" in html
