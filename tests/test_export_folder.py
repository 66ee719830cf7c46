"""The export folder is exactly its log: every file that can leave is byte-identical to a
logged, checked output, nothing else is in the folder, files of an earlier run are removed, and
the bytes do not depend on the platform's line separator."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

import synthetic
from jeugdkit.deepdive.release import deep_dive, release_deep_dive
from jeugdkit.errors import DisclosureError
from jeugdkit.output import ExportSession
from jeugdkit.population import build_population
from jeugdkit.read import Reader
from jeugdkit.tables import comparison_group, release_tables
from jeugdkit.trajectories import build_history, release_trajectories

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""


def folder_matches_log(folder: Path) -> None:
    """Assert that every top-level file of an export folder is in its log with its sha256."""
    logged = {}
    for line in (folder / "log" / "checksums.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        logged[name] = digest
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert files, f"{folder} is empty"
    for path in files:
        assert path.name in logged, f"{path.name} is not in the log"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == logged[path.name], \
            f"{path.name} differs from its logged copy"
        assert path.read_bytes() == (folder / "log" / path.name).read_bytes()


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    synthetic.generate(tmp, persons=6_000, gemeenten=10, years=(2017, 2024))
    reader = Reader(tmp / "ra", cache_dir=tmp / "cache")
    pop = build_population(reader, "2023")
    return tmp, reader, pop, build_history(reader, "2023")


def _gemeente(pop) -> str:
    return pop.frame["gemeentecode"].astype(str).value_counts().index[0]


def test_one_session_over_every_release_is_exactly_its_log(study, tmp_path, monkeypatch):
    """As a report does: tables, deep dive and trajectories into one folder and one log;
    with a Windows line separator, as pandas would use by default there."""
    tmp, _, pop, history = study
    monkeypatch.setattr(os, "linesep", "\r\n")
    code = _gemeente(pop)
    ref = pd.read_csv(tmp / "gemeenten.csv", dtype=str)
    group = comparison_group(ref, code, by="stedelijkheid")
    run = ExportSession("rapport")
    out = tmp_path / "export"
    release_tables(pop, out, gemeente=code, run=run, figures=True)
    dd = deep_dive(pop, gemeente=code, groups=group, replicates=20)
    release_deep_dive(dd, out, run=run)
    release_trajectories(pop, history, out, run=run)
    folder_matches_log(out)
    names = {p.name for p in out.iterdir() if p.is_file()}
    # the files the issue found differing from their log entries are there and identical
    assert {"oe.csv", "effecten_logit.csv", "oe_model_volledig.csv", "funnel_tabel.csv",
            "uitval.csv", "overgangen.csv", "indicators.csv"} <= names
    assert not any(b"\r\n" in (out / n).read_bytes() for n in names if n.endswith(".csv"))
    # the checked model stays in the log beside the file with odds ratios derived from it
    log = (out / "log" / "results.json").read_text(encoding="utf-8")
    assert '"oe_model_volledig_bron"' in log
    assert "odds_ratio" in (out / "oe_model_volledig.csv").read_text(encoding="utf-8")


def test_reused_folder_keeps_nothing_of_an_earlier_run(study, tmp_path):
    tmp, _, pop, _ = study
    code = _gemeente(pop)
    out = tmp_path / "tables"
    release_tables(pop, out, gemeente=code, figures=True)
    assert (out / "indicators_wijk.csv").exists()
    (out / "eigen_aantekeningen.txt").write_text("van de onderzoeker", encoding="utf-8")
    earlier = {p.name for p in out.iterdir() if p.is_file()}
    with pytest.warns(UserWarning, match="eigen_aantekeningen.txt"):
        release_tables(pop, out, gemeente=code, figures=False, wijken=False)  # fewer files
    now = {p.name for p in out.iterdir() if p.is_file()}
    assert "indicators_wijk.csv" in earlier and "indicators_wijk.csv" not in now
    assert any(n.endswith(".png") for n in earlier)
    assert not any(n.endswith(".png") for n in now)
    # a file the kit did not write is left alone, but named
    assert "eigen_aantekeningen.txt" in now
    (out / "eigen_aantekeningen.txt").unlink()
    folder_matches_log(out)


def test_export_refuses_a_frame_that_is_not_its_logged_output(study, tmp_path):
    _, _, pop, _ = study
    run = ExportSession("r")
    table = run.freq_table(pop.frame, dims=["gemeentecode"], name="jongeren", unit="jongeren",
                           population="p")
    with pytest.raises(DisclosureError, match="'jongeren' is not the content of a logged"):
        run.export(tmp_path / "e", {"jongeren": table.assign(extra=1)})
    with pytest.raises(DisclosureError, match="'niet_gelogd' is not the content"):
        run.export(tmp_path / "e", {"niet_gelogd": table})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run.export(tmp_path / "e", {"jongeren": table})
    folder_matches_log(tmp_path / "e")
