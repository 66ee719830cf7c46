"""A partial RA delivery degrades instead of stopping: a JGDHULPBUS file without the variables
whose RA names are only assumed (the outcome items, verwijzer, reden, aanbieder) still gives
the population and every output that does not need them; the outputs that do are left out
with a 'niet berekenbaar' note naming the variable and file, on the console and in the log."""

from __future__ import annotations

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
    for name in ("uitval", "herhaald_beroep", "duur", "overgangen"):
        pd.testing.assert_frame_equal(part[name], full[name])
    notes = part["_notes"]["note"].tolist()
    assert any(n.startswith("cijfer niet berekenbaar: variabele JGDHCIJFERNUT") for n in notes)
    log = (trees / "out-part" / "trajecten" / "log" / "summary.md").read_text(encoding="utf-8")
    assert "**zelfstandig** (niet berekenbaar)" in log and "**cijfer** (niet berekenbaar)" in log
    assert "Not made" not in (trees / "out-full" / "trajecten" / "log" / "summary.md").read_text(
        encoding="utf-8")
