"""Reports: display helpers, offline HTML, the chain of notebooks, resume, reproducibility."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pyreadstat
import pytest

from jeugdkit.report import show
from jeugdkit.report.html import ReportError, check_offline, dutch_time, render_report
from jeugdkit.report.show import number, table
from jeugdkit.report.summary import key_messages

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a5e8b80000000049454e44ae426082"
)).decode()
CHAPTERS = ("Samenvatting", "Benchmark (trap 1)", "Ontwikkeling", "Verdieping (trap 2)",
            "Trajecten en uitkomsten", "Verantwoording")


# ----------------------------------------------------------------------------- helpers
def test_numbers_are_written_the_dutch_way_and_suppressed_as_x():
    assert number(1285) == "1.285"
    assert number(np.int64(12)) == "12"
    assert number(14.114) == "14,1"
    assert number(0.5, 2) == "0,50"
    assert number(1234567.891, 1) == "1.234.567,9"
    assert number(np.nan) == "x"
    assert number(pd.NA) == "x"
    assert number("1938") == "1938"  # a code stays a code
    html = table(pd.DataFrame({"gemeentecode": ["1938", "NL"],
                               "aantal": pd.array([pd.NA, 1285], dtype="Int64")}),
                 names={"NL": "Nederland"})._repr_html_()
    assert "<td>1938</td>" in html and "<td>Nederland</td>" in html
    assert '<td class="num">x</td>' in html and '<td class="num">1.285</td>' in html


@pytest.mark.parametrize("bad", [
    '<img src="https://example.org/a.png">',
    "<a href='http://example.org'>x</a>",
    '<img src="//cdn.example.org/a.png">',
    "<style>@import 'x.css';</style>",
    '<div style="background:url(https://example.org/a.png)">',
    "<script>1</script>",
    '<link rel="stylesheet" href="x.css">',
    '<iframe src="x.html"></iframe>',
])
def test_check_offline_refuses_anything_that_fetches_or_runs(bad):
    with pytest.raises(ReportError, match="offline"):
        check_offline(f"<p>tekst</p>{bad}", "test")


def test_check_offline_accepts_embedded_images_and_anchors():
    check_offline(f'<img src="data:image/png;base64,{PNG}"><a href="#sectie">ga</a>'
                  "<p>zie https://www.cbs.nl als tekst</p>")


def _executed_notebook(path: Path, error: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("gemeente = ''")
    params.metadata["tags"] = ["parameters"]
    params.outputs = [nbformat.v4.new_output("stream", name="stdout", text="GEHEIME_PARAM\n")]
    code = nbformat.v4.new_code_cell("secret_code = 1")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="uitvoer 1\n"),
        nbformat.v4.new_output("stream", name="stderr", text="waarschuwing\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>7</td>"
                                                                  "</tr></table>",
                                                     "text/plain": "<tabel>"}),
        nbformat.v4.new_output("display_data", data={"image/png": PNG,
                                                     "text/plain": "<Figure>"}),
    ]
    if error:
        code.outputs.append(nbformat.v4.new_output("error", ename="ValueError",
                                                   evalue="kapot", traceback=[]))
    nb.cells = [nbformat.v4.new_markdown_cell("# Hoofdstuk\n\nInleiding.\n\n## Sectie A\n\n"
                                              "Tekst."), params, code,
                nbformat.v4.new_markdown_cell("## Sectie A\n\nNog een met dezelfde naam.")]
    nbformat.write(nb, path)
    return path


def test_render_report_shows_outputs_and_text_without_code(tmp_path):
    page = render_report([_executed_notebook(tmp_path / "a.ipynb")], title="Titel",
                         subtitle="Onder", run_timestamp="2026-01-01T00:00:00+00:00")
    assert '<h2 id="hoofdstuk">Hoofdstuk</h2>' in page  # chapters one level below the title
    assert 'href="#sectie-a"' in page and 'href="#sectie-a-2"' in page  # unique anchors
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert set(re.findall(r'href="#([^"]+)"', page)) <= ids
    assert "uitvoer 1" in page and "<td>7</td>" in page and f"base64,{PNG}" in page
    for hidden in ("secret_code", "GEHEIME_PARAM", "waarschuwing", "&lt;tabel&gt;"):
        assert hidden not in page
    assert page.count(dutch_time("2026-01-01T00:00:00+00:00")) == 1  # the header, in Dutch


def test_render_report_refuses_a_failed_notebook(tmp_path):
    with pytest.raises(ReportError, match=r"a\.ipynb, cell 3.*ValueError: kapot"):
        render_report([_executed_notebook(tmp_path / "a.ipynb", error=True)], title="T")


def test_a_failing_notebook_names_itself_its_cell_and_the_error(tmp_path, monkeypatch):
    from jeugdkit.report.runner import execute
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                nbformat.v4.new_code_cell("raise ValueError('bestand X mist variabele Y')")]
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(nb, folder / "02_benchmark.ipynb")
    monkeypatch.setenv("JEUGDKIT_NOTEBOOKS", str(folder))
    with pytest.raises(ReportError, match=r"02_benchmark failed in cell 2: ValueError: "
                                          r"bestand X mist variabele Y"):
        execute("02_benchmark", tmp_path / "uit", {})


# ----------------------------------------------------------------------------- the chain
def _timestamp(report_run) -> str:
    return next(o.job.parameters["run_timestamp"] for o in report_run[2].outcomes
                if o.job.kind == "gemeente")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_report_layout_and_index(report_run):
    _, out, summary, codes = report_run
    assert {o.status for o in summary.outcomes} == {"klaar"}
    for code in codes:
        folder = out / "2023" / code
        assert (folder / "rapport.html").exists()
        assert sorted(p.name for p in (folder / "notebooks").glob("*.ipynb")) == [
            "02_benchmark.ipynb", "03_verdieping.ipynb", "04_trajecten.ipynb",
            "05_samenvatting.ipynb"]
        assert (folder / "export" / "log" / "results.json").exists()
    data = (out / "2023" / "data" / "datakwaliteit.html").read_text(encoding="utf-8")
    assert "Intern" in data and "Reconciliatie" in data
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert {f"2023/{c}/rapport.html" for c in codes} | {"2023/data/datakwaliteit.html"} \
        == set(links)
    assert all((out / link).exists() for link in links)
    check_offline(index)


def test_report_html_has_its_chapters_figures_and_no_code_or_urls(report_run):
    _, out, _, codes = report_run
    page = (out / "2023" / codes[0] / "rapport.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2 id=\"[^\"]+\">(.*?)</h2>", page)
    assert headings == list(CHAPTERS)
    nav = page.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert all(f">{h}</a>" in nav for h in ("Samenvatting", "Verantwoording"))
    assert page.count('<img src="data:image/png;base64,') >= 4  # 2 in the summary + chapters
    # figures stand where the narrative puts them, not where a release made them
    summary = page.split('id="samenvatting"', 1)[1].split('id="benchmark-trap-1"', 1)[0]
    assert summary.index("<img") > summary.index('id="de-belangrijkste-figuren"')
    deep = page.split('id="verdieping-trap-2"', 1)[1].split('id="trajecten-en-uitkomsten"')[0]
    assert deep.index("<img") > deep.index('id="funnelplot"')
    # Ontwikkeling: a figure and one row per year and area; a key message near the top
    dev = page.split('id="ontwikkeling"', 1)[1].split('id="verdieping-trap-2"', 1)[0]
    assert "<img" in dev and "<table" in dev
    assert summary.index("Ontwikkeling:") < summary.index("Positie:")
    assert "Kerngetallen" not in page  # the cells that test the notebooks are hidden
    check_offline(page)
    assert not re.search(r"https?://", page)
    for code_text in ("study.session", "import ", "release_tables(", "def "):
        assert code_text not in page
    assert page.count(dutch_time(_timestamp(report_run))) == 1


def test_no_person_keys_anywhere_in_the_output(report_run):
    tree, out, _, _ = report_run
    frame, _ = pyreadstat.read_sav(str(next((tree / "ra").rglob("GBAPERSOON*.sav"))),
                                   usecols=["RINPERSOON"])
    keys = set(frame["RINPERSOON"].astype(str).str.strip())
    assert len(keys) > 1000
    for path in out.rglob("*"):
        if not path.is_file() or "_werk" in path.parts or path.suffix == ".pkl":
            continue  # _werk/ is the internal cache: it holds the population by design
        text = path.read_text(encoding="utf-8", errors="ignore")
        found = keys & set(re.findall(r"(?<![0-9A-Za-z+/])\d{9}(?![0-9A-Za-z+/])", text))
        assert not found, f"{path}: person keys {sorted(found)[:3]}"
        assert "RINPERSOON\"" not in text and "RINPERSOON," not in text, path


def test_export_holds_only_output_controlled_files(report_run):
    _, out, _, codes = report_run
    export = out / "2023" / codes[0] / "export"
    log = json.loads((export / "log" / "results.json").read_text(encoding="utf-8"))
    released = set(log["results"])
    files = [p for p in export.iterdir() if p.is_file()]
    assert len(files) > 15
    assert {p.stem for p in files} <= released, {p.stem for p in files} - released
    assert all(log["results"][p.stem]["status"] in ("pass", "review") for p in files)
    # each year of the Ontwikkeling is a checked run of its own, with its own log, and the
    # report's run imported exactly those files
    years = sorted(p for p in (export / "ontwikkeling").iterdir() if p.is_dir())
    assert len(years) >= 5
    for folder in years:
        ylog = json.loads((folder / "log" / "results.json").read_text(encoding="utf-8"))
        yfiles = [p for p in folder.iterdir() if p.is_file()]
        assert yfiles and {p.stem for p in yfiles} <= set(ylog["results"])
        imported = log["results"][f"ontwikkeling_{folder.name}"]
        assert hashlib.sha256((folder / "indicatoren.csv").read_bytes()).hexdigest() in \
            json.dumps(imported)
    # the key messages quote released numbers only
    ind = pd.read_csv(export / "indicators.csv", dtype={"gemeentecode": str})
    own = ind.set_index("gemeentecode").loc[codes[0], "pct_jeugdhulp"]
    first = key_messages(export, codes[0], {}, "2023")[0]
    assert (f"{number(float(own), 1)}%" in first) if pd.notna(own) else "onderdrukt" in first


def test_provenance_names_inputs_with_checksums_and_versions(report_run):
    tree, out, _, codes = report_run
    log = json.loads((out / "2023" / codes[0] / "export" / "log" / "results.json")
                     .read_text(encoding="utf-8"))
    prov = log["provenance"]
    assert prov["parameters"]["gemeente"] == codes[0] and "report_dir" not in prov["parameters"]
    files = {f["path"]: f for f in prov["invoerbestanden"]}
    jh = next(p for p in files if "JGDHULP2023" in p)
    digest = hashlib.sha256((tree / "ra" / jh).read_bytes()).hexdigest()
    assert files[jh]["sha256"] == digest
    assert prov["pakketten"]["pandas"] == pd.__version__
    page = (out / "2023" / codes[0] / "rapport.html").read_text(encoding="utf-8")
    assert digest in page and jh in page
    summary_md = (out / "2023" / codes[0] / "export" / "log" / "summary.md").read_text()
    assert digest in summary_md


def test_rerun_skips_done_and_regenerates_identically_but_for_the_timestamp(report_run):
    from jeugdkit.report.runner import run_reports
    tree, out, _, codes = report_run
    stamp = _timestamp(report_run)
    folder = out / "2023" / codes[0]
    before_html = (folder / "rapport.html").read_text(encoding="utf-8")
    before_export = _files(folder / "export")
    lines = []
    again = run_reports(tree / "ra", "2023", gemeenten=codes, out=out, cache_dir=tree / "cache",
                        workers=2, log=lines.append)
    assert {o.status for o in again.outcomes} == {"overgeslagen"}, lines
    other = "2026-10-01T06:00:00+00:00"
    redo = run_reports(tree / "ra", "2023", gemeenten=[codes[0]], out=out,
                       cache_dir=tree / "cache", workers=1, force=True, run_timestamp=other,
                       log=lambda *a: None)
    assert [o.status for o in redo.outcomes if o.job.kind == "gemeente"] == ["klaar"]
    after_html = (folder / "rapport.html").read_text(encoding="utf-8")
    assert after_html != before_html
    assert after_html.replace(dutch_time(other), dutch_time(stamp)) == before_html
    after_export = _files(folder / "export")
    assert after_export.keys() == before_export.keys()
    changed = [k for k in after_export if after_export[k] != before_export[k]]
    # only the export logs (the report's and each Ontwikkeling year's) carry the timestamp
    assert all(k.endswith(("log/results.json", "log/summary.md")) for k in changed), changed
    assert {"log/results.json", "log/summary.md"} <= set(changed)
    for name in changed:
        assert (after_export[name].decode().replace(other, stamp)
                == before_export[name].decode())


def _hold_lock(args):
    import time

    from jeugdkit.report.runner import _file_lock
    lock, log, name = args
    with _file_lock(lock):
        with open(log, "a") as f:
            f.write(f"in {name}\n")
        time.sleep(1.5)
        with open(log, "a") as f:
            f.write(f"out {name}\n")


def test_the_kernel_lock_lets_one_process_in_at_a_time(tmp_path):
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context
    log = tmp_path / "log.txt"
    with ProcessPoolExecutor(3, mp_context=get_context("spawn")) as pool:
        list(pool.map(_hold_lock, [(tmp_path / "k.lock", log, i) for i in range(3)]))
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 6
    # every "in" is followed by the "out" of the same process: no two inside at once
    for first, second in zip(lines[::2], lines[1::2]):
        assert first.startswith("in ") and second == "out " + first[3:]


def test_the_notebooks_of_one_report_share_a_kernel_that_starts_clean(tmp_path, monkeypatch):
    """A report runs its notebooks in one kernel (a kernel each cost about 5 s a chapter);
    each notebook after the first must still see a new namespace and number its cells from
    1, as in a kernel of its own."""
    from jeugdkit.report.runner import SharedKernel, execute
    folder = tmp_path / "nb"
    folder.mkdir()
    for name, cells in (("02_benchmark", ["import os\nx = 41", "print(os.getpid())"]),
                        ("03_verdieping", ["import os\nprint('x' in dir(), os.getpid())"])):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nbformat.write(nb, folder / f"{name}.ipynb")
    monkeypatch.setenv("JEUGDKIT_NOTEBOOKS", str(folder))
    out = tmp_path / "uit"
    with SharedKernel(tmp_path, log=out / "kernels.log") as kernel:
        first = nbformat.read(execute("02_benchmark", out, {}, kernel=kernel), as_version=4)
        second = nbformat.read(execute("03_verdieping", out, {}, kernel=kernel), as_version=4)
        alive = kernel.km.has_kernel
    assert alive and kernel.km is None  # one kernel for both, shut down with the report
    pid = first.cells[1].outputs[0]["text"].strip()
    assert second.cells[0].outputs[0]["text"].split() == ["False", pid]
    assert [c.execution_count for c in second.cells if c.cell_type == "code"] == [1]


def test_the_key_message_on_the_gap_names_what_it_compares_with(tmp_path):
    """The first message compares with the whole group (the gemeente included); the
    decomposition with the other gemeenten: the message must say which, give the interval,
    and say when the gap can be chance (it said "Verschil met de vergelijkingsgroep")."""
    pd.DataFrame({"gemeentecode": ["0620", "groep", "NL"],
                  "pct_jeugdhulp": [12.4, 12.0, 11.0]}).to_csv(tmp_path / "indicators.csv",
                                                               index=False)

    def decomposition(versus, lo):
        rows = [("verschil", 0.0061, lo), ("samenstelling", 0.0013, 0.0),
                ("praktijk", 0.0048, 0.0)]
        pd.DataFrame([{"gemeentecode": "0620", "vergelijking": versus, "methode": "kitagawa",
                       "component": c, "waarde": v, "ondergrens": low, "bovengrens": 0.0256}
                      for c, v, low in rows]).to_csv(tmp_path / "decompositie.csv",
                                                     index=False)
        return next(m for m in key_messages(tmp_path, "0620", {"0620": "Veenmond"})
                    if m.startswith("Verschil"))

    group = decomposition("stedelijkheid=5", -0.0122)
    assert group.startswith("Verschil met de andere gemeenten van de vergelijkingsgroep "
                            "samen (zonder Veenmond): 0,6 procentpunt (95%-interval -1,2 tot "
                            "2,6; het verschil kan toeval zijn)"), group
    assert "Kitagawa" in group
    alone = decomposition("rest van Nederland", 0.001)
    assert alone.startswith("Verschil met de rest van Nederland (alle gemeenten behalve "
                            "Veenmond): 0,6 procentpunt (95%-interval 0,1 tot 2,6),"), alone


def test_model_tables_read_in_dutch_with_their_precision_and_years_stay_years():
    """The panel table showed coef "-0,1", std err "0,1", p "0,0" for -0.160, 0.027 and
    0.00000006, under English headings and a variable name; the data page wrote 2024 as
    "2.024"."""
    from jeugdkit.report import show
    panel = pd.DataFrame({"parameter": ["wijkteam_aandeel_lag"], "coef": [-0.1603],
                          "std_err": [0.0272], "p_value": [5.9e-08], "ci_lower": [-0.2143],
                          "ci_upper": [-0.1063], "lag_jaren": [1], "gemeenten": [25]})
    text = show.table(panel, labels={"parameter": show.PARAMETERS},
                      decimals={"coef": 3, "std_err": 3, "p_value": 3, "ci_lower": 3,
                                "ci_upper": 3})._repr_html_()
    for expected in ("<th>Coëfficiënt</th>", "<th>Standaardfout</th>", "<th>p-waarde</th>",
                     ">-0,160<", ">0,027<", ">&lt;0,001<", ">-0,214<",
                     "aandeel jeugdhulp via het wijkteam, jaar ervoor"):
        assert expected in text, (expected, text)
    assert "coef" not in text and "wijkteam_aandeel_lag" not in text
    files = show.table(pd.DataFrame({"jaar": [2024], "records": [12345]}))._repr_html_()
    assert ">2024<" in files and ">12.345<" in files


def test_the_page_says_when_in_dutch_and_shows_no_folders_of_the_machine():
    """The header said "Gemaakt: 2026-12-01T05:05:00+00:00" and the appendix showed the
    researcher's absolute paths; a gemeente reads a date, and the folders stay in the log."""
    from jeugdkit.report.html import appendix_html, dutch_time
    assert dutch_time("2026-12-01T05:05:00+00:00") in ("1 december 2026 om 06:05",
                                                       "1 december 2026 om 05:05 (UTC)")
    assert dutch_time("2026-07-01T05:05:00+00:00").startswith("1 juli 2026 om 0")
    page = appendix_html({"parameters": {"data_root": "/home/onderzoeker/G/ra",
                                         "cache_dir": "C:\\Users\\x\\cache", "period": "2023",
                                         "catalog": ""}})
    assert "…/ra" in page and "…/cache" in page and ">2023<" in page
    assert "/home/onderzoeker" not in page and "Users" not in page
    assert "(leeg: standaard)" in page


def test_figures_name_the_gemeente():
    """The main bar chart was titled "Gemeente 1938" and its legend said "gemeente 1938"."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from jeugdkit.figures import indicator_figures
    from jeugdkit.scope import Scope
    ind = pd.DataFrame({"gemeentecode": ["1938", "groep", "NL"],
                        "pct_jeugdhulp": [22.1, 17.8, 12.0], "pct_met_verblijf": [5.0, 4.0, 3.0],
                        "pct_jeugdbescherming": [1.0, 1.1, 1.2],
                        "pct_jb_met_verblijf": [30.0, 31.0, 32.0],
                        "pct_jeugdreclassering": [0.3, 0.4, 0.5]})
    gem = ind[ind["gemeentecode"] == "1938"].copy()
    run = SimpleNamespace(outputs={"indicators": SimpleNamespace(content=ind),
                                   "indicators_gemeenten": SimpleNamespace(content=gem)},
                          release_figure=lambda fig, **kw: None)
    figs = indicator_figures(run, Scope("1938", group=("1938", "0363"), name="Boswolde"))
    bars = figs["indicatoren_vergelijking"].axes[0]
    assert bars.get_title() == "Boswolde naast vergelijkingsgroep en Nederland"
    assert "Boswolde" in [t.get_text() for t in bars.get_legend().get_texts()]
    assert "Boswolde" in figs["indicatoren_spreiding"]._suptitle.get_text()
    for fig in figs.values():
        plt.close(fig)


def test_tables_use_cbs_signs_with_a_legend_of_the_signs_they_use():
    """x geheim, . niet van toepassing, - nihil (CBS), and a legend of exactly those used."""
    frame = pd.DataFrame({"item": ["cijfer", "zelfstandig"],
                          "gemiddeld_cijfer": [7.9, np.nan],
                          "ja": pd.array([pd.NA, 0], dtype="Int64"),
                          "nee": pd.array([pd.NA, pd.NA], dtype="Int64")})
    text = show.table(frame, not_applicable={
        "gemiddeld_cijfer": lambda t: t["item"] != "cijfer",
        "ja": lambda t: t["item"] == "cijfer"}).text
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", text)
    assert cells == ["cijfer", "7,9", ".", "x", "zelfstandig", ".", "-", "x"]
    legend = re.search(r'<p class="note tekens">(.*?)</p>', text).group(1)
    assert legend.startswith("x = geheim") and ". = niet van toepassing" in legend
    assert "- = nihil" in legend
    plain = show.table(pd.DataFrame({"a": [1, 2]})).text
    assert "tekens" not in plain  # no signs, no legend


def test_a_percentile_over_gemeenten_never_rests_on_the_lowest_or_highest():
    from jeugdkit.tables import position
    rates = pd.DataFrame({"gemeentecode": ["0001"], "pct_jeugdhulp": [53.3]})
    for name in ("pct_met_verblijf", "pct_jeugdbescherming", "pct_jb_met_verblijf",
                 "pct_jeugdreclassering"):
        rates[name] = np.nan
    one = position(rates, "0001").set_index("indicator").loc["pct_jeugdhulp"]
    assert one[["p10", "p25", "mediaan", "p75", "p90"]].isna().all()
    many = pd.concat([rates.assign(gemeentecode=f"{i:04d}", pct_jeugdhulp=float(i))
                      for i in range(1, 9)], ignore_index=True)
    row = position(many, "0001").set_index("indicator").loc["pct_jeugdhulp"]
    # 8 gemeenten: p10 sits at position 0.7 (between the lowest and the next): not shown;
    # p25 at 1.75 and the median are
    assert pd.isna(row["p10"]) and pd.isna(row["p90"])
    assert row["p25"] == pytest.approx(2.75) and row["mediaan"] == pytest.approx(4.5)
    assert row["p25"] > many["pct_jeugdhulp"].min()


def test_the_stand_en_stroom_sentence_says_what_can_still_be_read():
    cols = ["beginstand", "instroom", "uitstroom", "eindstand"]
    detail = pd.DataFrame([["0001", "01", *[pd.NA] * 4], ["0001", "02", 5, pd.NA, pd.NA, 3]],
                          columns=["gemeentecode", "hulpvorm", *cols])
    coarse = pd.DataFrame([["0001", "totaal", pd.NA, 51, 49, pd.NA]],
                          columns=["gemeentecode", "hulpvorm", *cols])
    text = show.stroom_sentence(detail, coarse, "0001", {"0001": "Boswolde"})
    assert text.startswith("Per hulpvorm is 6 van de 8 cijfers van Boswolde geheim")
    assert "had Boswolde een instroom van 51 en een uitstroom van 49 trajecten" in text
    assert "(geheim in het totaal: beginstand, eindstand)" in text


ENGLISH = ("with", "fewer", "than", "left out", "table", "figure", "pass", "review",
           "kitagawa", "oaxaca_blinder", "se bootstrap", "se_bootstrap", "tau2", "coef",
           "std err", "ci lower", "ci upper", "statline", "stedelijkheid=", "grootte=",
           "jeugdregio=", "spiegel", "leeftijd_geslacht", "volledig)", "99.8", "none",
           "nan", "true", "false")
"""Words and raw codes that do not belong in the Dutch text of a report (whole words, case
as written; StatLine and Kitagawa as names are fine)."""


def _visible_text(page: str) -> str:
    """The report's text as a reader sees it: no markup, no style; the appendix's tables of
    files, packages and output names (identifiers by nature) left out."""
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    head, _, appendix = main.partition('id="verantwoording"')
    appendix = re.sub(r"<table.*?</table>", " ", appendix, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", head + appendix)
    return re.sub(r"\s+", " ", text)


def test_the_report_reads_in_dutch_without_english_words_or_raw_codes(report_run):
    _, out, _, codes = report_run
    page = (out / "2023" / codes[0] / "rapport.html").read_text(encoding="utf-8")
    text = _visible_text(page)
    found = _english(text)
    assert not found, [re.search(rf".{{0,60}}{re.escape(w)}.{{0,60}}", text).group(0)
                       for w in found]
    # negative control: the check finds what it looks for
    assert _english(_visible_text(
        "<main><p>spiegel: 19 aanbieders with fewer than 10 left out</p><table><tr><td>"
        "1938</td><td>stedelijkheid=2</td><td>kitagawa</td></tr></table></main>")) == [
        "fewer", "kitagawa", "left out", "spiegel", "stedelijkheid=", "than", "with"]


def _english(text: str) -> list[str]:
    return sorted(w for w in ENGLISH if re.search(
        rf"(?<![\w.]){re.escape(w)}" + (r"(?![\w])" if w[-1].isalnum() else ""), text))


def test_the_gemeente_reference_can_live_elsewhere_than_beside_the_data_root(tmp_path,
                                                                             monkeypatch):
    """Inside the RA the data root's parent is the read-only data drive: the reference table
    comes from JEUGDKIT_REFERENCE (which `jeugdkit report --reference` sets for its kernels)."""
    from jeugdkit.cli import build_parser
    from jeugdkit.report import Study
    from jeugdkit.tables import REFERENCE_ENV, default_reference_path
    root = tmp_path / "G" / "data"
    root.mkdir(parents=True)
    ref = tmp_path / "H" / "mijn-gemeenten.csv"
    ref.parent.mkdir()
    ref.write_text("gemeentecode,gemeentenaam,inwoners,stedelijkheid,jeugdregio,provincie\n"
                   "1938,Boswolde,30000,2,Noord,Drenthe\n", encoding="utf-8")
    monkeypatch.delenv(REFERENCE_ENV, raising=False)
    assert default_reference_path(root) == root.resolve().parent / "gemeenten.csv"
    monkeypatch.setenv(REFERENCE_ENV, str(ref))
    assert default_reference_path(root) == ref
    study = Study(root, "2023", report_dir=tmp_path / "rapporten")
    assert study.gemeentenaam("1938") == "Boswolde"
    args = build_parser().parse_args(["report", "--data-root", str(root), "--gemeente", "1938",
                                      "--reference", str(ref)])
    assert args.reference == str(ref)
