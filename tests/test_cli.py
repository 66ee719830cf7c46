"""The command line: inventory (text and JSON), cache, and clear errors."""

from __future__ import annotations

import json

from jeugdkit.cli import main


def test_inventory_json_lists_files_variables_and_unplaced(quirky_tree, tmp_path, capsys):
    code = main(["inventory", "--data-root", str(quirky_tree), "--cache-dir",
                 str(tmp_path / "c"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    persons = report["datasets"]["GBAPERSOONTAB"]
    assert [(f["year"], f["version"], f["rows"]) for f in persons["files"]] == [(2023, 2, 5)]
    opl = report["datasets"]["HOOGSTEOPLTAB"]["files"]
    assert opl[1]["case_differs"] == ["OPLNIVSOI2021AGG4HBMETNIRWO "
                                      "(catalog: OPLNIVSOI2021AGG4HBmetNIRWO)"]
    jeugd = report["datasets"]["JGDHULPBUS"]["files"]
    assert "JGDHCRISIS (variables.crisis)" not in jeugd[0]["missing_variables"]  # 2018: not due
    assert jeugd[1]["missing_variables"] == []
    assert len(report["unplaced"]) == 3
    assert report["datasets"]["SECMBUS"]["files"] == []


def test_inventory_text_and_cache(quirky_tree, tmp_path, capsys):
    assert main(["inventory", "--data-root", str(quirky_tree)]) == 0
    text = capsys.readouterr().out
    assert "SECMBUS: NOT FOUND" in text and "Files the catalog cannot place" in text
    cache = tmp_path / "cache"
    assert main(["cache", "--data-root", str(quirky_tree), "--cache-dir", str(cache),
                 "--datasets", "JGDHULPBUS", "VSLGWBTAB"]) == 0
    assert len(list(cache.glob("*.parquet"))) == 3


def test_errors_are_reported_without_traceback(tmp_path, capsys):
    assert main(["inventory", "--data-root", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_demo_generates_the_tree_and_writes_the_report_of_a_planted_gemeente(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--persons", "5000", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    truth = json.loads((tmp_path / "demo" / "truth.json").read_text())
    high = truth["jeugdhulp"]["outliers"]["high"][0]
    report = tmp_path / "demo" / "rapporten" / "2023" / high / "rapport.html"
    assert f"Rapport van gemeente {high}: {report.resolve()}" in out
    assert report.exists() and (report.parent / "export" / "log" / "results.json").exists()
