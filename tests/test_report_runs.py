"""Interrupted and concurrent report runs, OS errors and wrong arguments (fast: stand-in
notebooks that only write a file or two, on a 5,000-person tree).

The stand-in notebooks have the real notebooks' parameters and find their gemeente's folder
through ``Study.export_dir``, as the real ones do. The environment steers them:
``FAKE_SLOW="03:0041"`` makes notebook 03 of gemeente 0041 sleep for two minutes,
``FAKE_FAIL="03:*"`` makes notebook 03 of every gemeente raise.
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from jeugdkit.cli import main
from jeugdkit.report.runner import (
    DONE,
    LOCK,
    RunBusyError,
    RunInterrupted,
    recover_folders,
    run_lock,
    run_reports,
)

PARAMETERS = ('data_root = ""\nperiod = ""\nreport_dir = ""\ncatalog = ""\ncache_dir = ""\n'
              'settings = ""\ngemeente = ""\ncompare = ""\ngroep = ""\nrun_timestamp = ""\n')
BODY = '''
import os, json, time

GREEDY_COMPLEMENTS = True
"""Greedy complements here (see conftest._module_complements)."""
nb, code = "{nb}", gemeente or "data"
def asked(var):
    return any(x in (f"{{nb}}:{{code}}", f"{{nb}}:*") for x in os.environ.get(var, "").split(","))
if asked("FAKE_SLOW"):
    time.sleep(120)
if asked("FAKE_FAIL"):
    raise ValueError("kapot in " + nb)
if gemeente:
    from jeugdkit.report.study import Study
    study = Study(data_root, period, cache_dir=cache_dir, report_dir=report_dir)
    export = study.export_dir(gemeente)
    (export / "log").mkdir(parents=True, exist_ok=True)
    (export / f"tabel_{{nb}}.csv").write_text("a\\n1\\n")
    if nb == "05":
        (export / "log" / "results.json").write_text(json.dumps(
            {{"run": {{"timestamp": run_timestamp}}, "results": {{}}}}))
print("# hoofdstuk", nb)
'''
NOTEBOOKS = ("00_inventaris", "01_populatie", "02_benchmark", "03_verdieping", "04_trajecten",
             "05_samenvatting")
STAMP = "2026-04-01T06:00:00+00:00"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A 5,000-person synthetic tree with 8 gemeenten and a warm Parquet cache."""
    import synthetic
    from jeugdkit.report.study import Study
    tmp = tmp_path_factory.mktemp("runs")
    synthetic.generate(tmp, persons=5000, gemeenten=8, years=(2020, 2024))
    Study(tmp / "ra", "2023", cache_dir=tmp / "cache", report_dir=tmp / "warm").prepare()
    return tmp


@pytest.fixture
def fake_notebooks(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in NOTEBOOKS:
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell(PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Hoofdstuk {name}"), params,
                    nbformat.v4.new_code_cell(BODY.format(nb=name[:2]))]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    monkeypatch.setenv("JEUGDKIT_NOTEBOOKS", str(folder))
    for var in ("FAKE_SLOW", "FAKE_FAIL"):
        monkeypatch.delenv(var, raising=False)
    return folder


def _codes(tree: Path) -> list[str]:
    return sorted(line.split(",")[0] for line in
                  (tree / "gemeenten.csv").read_text().splitlines()[1:])


def _report_args(tree: Path, out: Path, *more: str) -> list[str]:
    return ["report", "--data-root", str(tree / "ra"), "--cache-dir", str(tree / "cache"),
            "--period", "2023", "--out", str(out), *more]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(tree, out, codes, **kw):
    return run_reports(tree / "ra", "2023", gemeenten=codes, out=out, cache_dir=tree / "cache",
                       workers=kw.pop("workers", 1), run_timestamp=STAMP,
                       log=kw.pop("log", lambda *a: None), **kw)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------- 1. one run per folder
def test_a_second_run_into_the_same_folder_stops_at_once_naming_the_holder(tree, tmp_path,
                                                                             capsys):
    out = tmp_path / "rapporten"
    code = _codes(tree)[0]
    holder = subprocess.Popen(  # another run, in another process, holds the folder
        [sys.executable, "-c", "import sys, time\nfrom jeugdkit.report.runner import run_lock\n"
         f"with run_lock({str(out)!r}):\n    print('held', flush=True)\n"
         "    sys.stdin.read()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        info = json.loads((out / LOCK).read_text())
        assert info["pid"] == holder.pid and info["started"]
        t = time.perf_counter()
        assert main(_report_args(tree, out, "--gemeente", code)) == 2
        assert time.perf_counter() - t < 10
    finally:
        holder.communicate("", timeout=30)
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"jeugdkit report: the report folder {out.resolve()} is in use by "
                           f"another run (pid {holder.pid} on ")
    assert info["started"] in line and "--wait" in line
    assert not (out / "2023").exists()  # the second run wrote nothing
    assert (out / LOCK).read_text() == ""  # released: the holder line is gone
    with run_lock(out):  # and free again
        pass


def test_wait_waits_for_the_other_run(tmp_path):
    out = tmp_path / "rapporten"
    held, released = threading.Event(), threading.Event()

    def other_run():
        with run_lock(out):
            held.set()
            time.sleep(1.0)
            released.set()
    thread = threading.Thread(target=other_run)
    thread.start()
    held.wait(10)
    with pytest.raises(RunBusyError):
        with run_lock(out):
            pass
    lines = []
    with run_lock(out, wait=True, log=lines.append):
        assert released.is_set()
    thread.join()
    assert lines and lines[0].startswith(f"wachten: {out} is in gebruik (pid {os.getpid()}")


# ------------------------------------------------------------------- 2. swap as a whole
def test_a_failed_forced_rerun_keeps_the_old_report_and_shows_the_failure(
        tree, tmp_path, fake_notebooks, monkeypatch):
    out = tmp_path / "rapporten"
    code = _codes(tree)[0]
    first = _run(tree, out, [code])
    assert {o.status for o in first.outcomes} == {"klaar"}
    folder = out / "2023" / code
    before = _files(folder)
    assert "rapport.html" in before and "export/tabel_02.csv" in before
    assert "export/tabel_05.csv" in before and DONE in before
    monkeypatch.setenv("FAKE_FAIL", "03:*")
    again = _run(tree, out, [code], force=True)
    assert [o.status for o in again.outcomes if o.job.kind == "gemeente"] == ["mislukt"]
    assert _files(folder) == before  # the old complete folder, untouched
    failed = out / "2023" / f".{code}.mislukt"
    info = json.loads((failed / ".mislukt.json").read_text())
    assert "03_verdieping failed in cell 3: ValueError: kapot in 03" in info["fout"]
    assert str(failed / "notebooks" / "03_verdieping.ipynb") in info["fout"]
    executed = nbformat.read(failed / "notebooks" / "03_verdieping.ipynb", as_version=4)
    assert executed.metadata.papermill.output_path == str(failed / "notebooks" /
                                                          "03_verdieping.ipynb")
    assert not (folder / ".mislukt.json").exists()
    assert sorted(p.name for p in (out / "2023").iterdir()) == sorted(
        ["data", "_werk", code, f".{code}.mislukt"])
    index = (out / "index.html").read_text()
    assert f'href="2023/{code}/rapport.html"' in index
    assert "laatste poging mislukt: notebook 03_verdieping failed in cell 3" in index
    # a good rerun replaces the report and forgets the failure
    monkeypatch.delenv("FAKE_FAIL")
    third = _run(tree, out, [code], force=True)
    assert [o.status for o in third.outcomes if o.job.kind == "gemeente"] == ["klaar"]
    assert not failed.exists() and _files(folder).keys() == before.keys()
    for path in (folder / "notebooks").glob("*.ipynb"):  # no trace of the build folder
        assert ".bouw" not in path.read_text(), path
    assert "mislukt" not in (out / "index.html").read_text()


def test_an_interrupted_swap_is_finished_or_undone_on_the_next_run(tmp_path):
    period = tmp_path / "2023"

    def folder(path: Path, marker: str, done: bool):
        (path / "export").mkdir(parents=True)
        (path / "export" / "t.csv").write_text(marker)
        if done:
            (path / DONE).write_text("{}")
    # cut between "old away" and "new in": the new one is complete, take it
    folder(period / ".0001.oud", "oud", True)
    folder(period / ".0001.bouw", "nieuw", True)
    # the old one away and the new one not complete (a torn build never wins): the old one
    # comes back
    folder(period / ".0002.oud", "oud", True)
    folder(period / ".0002.bouw", "half", False)
    # a half-built folder beside a complete one: removed, the complete one stays
    folder(period / "0003", "oud", True)
    folder(period / ".0003.bouw", "half", False)
    recover_folders(period)
    assert sorted(p.name for p in period.iterdir()) == ["0001", "0002", "0003"]
    assert (period / "0001" / "export" / "t.csv").read_text() == "nieuw"
    assert (period / "0002" / "export" / "t.csv").read_text() == "oud"
    assert (period / "0003" / "export" / "t.csv").read_text() == "oud"


# ------------------------------------------------------------------- 3. Ctrl-C
def _kernel_processes(tag: str) -> list[int]:
    """Return the pids of live processes whose environment holds ``tag``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if tag.encode() in env and state != "Z":
            pids.append(int(proc.name))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_batch_stops_within_seconds_and_keeps_what_was_done(
        tree, tmp_path, fake_notebooks, how):
    """Ctrl-C: SIGINT to the whole process group, as a terminal sends it (the workers get it
    too); SIGTERM: to the runner only, as a scheduler or ``kill`` sends it."""
    out = tmp_path / "rapporten"
    codes = _codes(tree)
    done = codes[0]
    env = {k: v for k, v in os.environ.items() if k not in ("FAKE_SLOW", "FAKE_FAIL")}
    # the first gemeente is done before the batch
    subprocess.run([sys.executable, "-m", "jeugdkit.cli",
                    *_report_args(tree, out, "--gemeente", done)], env=env, check=True,
                   capture_output=True, timeout=300)
    before = _files(out / "2023" / done)
    tag = f"JEUGDKIT_TEST_TAG={uuid.uuid4().hex}"
    env.update({"FAKE_SLOW": "03:*", tag.split("=")[0]: tag.split("=")[1]})
    # without the national set first (its own test below): this test is about stopping
    proc = subprocess.Popen([sys.executable, "-m", "jeugdkit.cli",
                             *_report_args(tree, out, "--all", "--force", "--workers", "2",
                                           "--ledger", "none")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        # wait until two gemeenten are in notebook 03 (its kernel running the sleep)
        deadline = time.monotonic() + 240
        while len(list((out / "2023").glob(".*.bouw/notebooks/03_verdieping.ipynb"))) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no gemeente reached notebook 03"
            time.sleep(0.2)
        time.sleep(1.0)
        assert _kernel_processes(tag), "the kernels should be running"
        t = time.monotonic()
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
        seconds = time.monotonic() - t
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert seconds < 10, seconds
    line = _one_error_line(stderr)
    name = "SIGINT" if how == "ctrl-c" else "SIGTERM"
    assert re.fullmatch(rf"jeugdkit report: interrupted \({name}\): 0 of {len(codes)} gemeenten "
                        r"done; stopped: \d{4}, \d{4}; run the same command without --force to "
                        r"continue \(done gemeenten are skipped\)", line), line
    assert stdout.count(": begonnen") == 2  # no gemeente started after the signal
    period = out / "2023"
    assert not [p.name for p in period.iterdir() if p.name.startswith(".")]  # no half-builds
    assert _files(period / done) == before  # the done one is still whole
    for folder in (p for p in period.iterdir() if p.name not in ("_werk", "data",
                                                                 "landelijk")):
        assert (folder / DONE).exists() and (folder / "rapport.html").exists(), folder
    time.sleep(2)
    assert not _kernel_processes(tag), "kernels left running"
    index = (out / "index.html").read_text()
    assert re.findall(r'href="2023/(\d{4})/rapport.html"', index) == [done]


def test_run_reports_raises_run_interrupted_when_the_shared_data_is_interrupted(
        tree, tmp_path, monkeypatch):
    from jeugdkit.report.study import Study

    def interrupted(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    monkeypatch.setattr(Study, "prepare", interrupted)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(RunInterrupted, match=r"interrupted \(SIGINT\) while building the "
                                             r"shared data of 2023; no gemeente was started"):
        _run(tree, tmp_path / "rapporten", [_codes(tree)[0]])
    assert signal.getsignal(signal.SIGINT) is handler  # the caller's handler is back
    assert not (tmp_path / "rapporten" / "2023" / "0041").exists()


# ------------------------------------------------------------------- 4. OS errors
def test_out_that_is_a_file_is_one_line_and_nothing_is_built(tree, tmp_path, capsys):
    out = tmp_path / "rapporten"
    out.write_text("geen map")
    assert main(_report_args(tree, out, "--gemeente", _codes(tree)[0])) == 2
    assert _one_error_line(capsys.readouterr().err) == (
        f"jeugdkit report: the report folder {out.resolve()} is a file, not a folder; pass "
        "another --out")
    # a file where the period's folder should be
    out2 = tmp_path / "rapporten2"
    out2.mkdir()
    (out2 / "2023").write_text("geen map")
    assert main(_report_args(tree, out2, "--gemeente", _codes(tree)[0])) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"jeugdkit report: {out2.resolve() / '2023'} is a file, not a folder; move " \
                   "it away"


def test_an_out_that_cannot_be_written_is_one_line_before_any_work(tree, tmp_path, capsys):
    if os.geteuid() == 0:  # root writes anywhere but in /sys
        if not Path("/sys/kernel").is_dir():
            pytest.skip("needs a folder root cannot write in")
        cannot_create, read_only = Path("/sys/jeugdkit-test/rapporten"), Path("/sys/kernel")
    else:
        locked = tmp_path / "alleen-lezen"
        locked.mkdir()
        locked.chmod(0o555)
        cannot_create, read_only = locked / "rapporten", locked
    code = _codes(tree)[0]
    assert main(_report_args(tree, cannot_create, "--gemeente", code)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"jeugdkit report: cannot create the report folder {cannot_create}: ")
    assert main(_report_args(tree, read_only, "--gemeente", code)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"jeugdkit report: cannot write in the report folder {read_only}: ")


def test_a_full_disk_is_one_line_and_leaves_no_torn_file(tree, tmp_path, capsys, monkeypatch):
    real = Path.write_bytes

    def full(self, data):
        real(self, data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
    monkeypatch.setattr(Path, "write_bytes", full)
    out = tmp_path / "rapporten"
    assert main(_report_args(tree, out, "--gemeente", _codes(tree)[0])) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert re.fullmatch(rf"jeugdkit report: No space left on device: {re.escape(str(out))}"
                        r"/2023/_werk/\.inventory\.pkl\.\d+\.tmp", line), line
    assert not list(out.rglob("*.tmp"))


def test_an_interrupt_in_any_command_is_one_line(quirky_tree, capsys, monkeypatch):
    import jeugdkit.inventory

    def interrupted(reader):
        raise KeyboardInterrupt
    monkeypatch.setattr(jeugdkit.inventory, "inventory_report", interrupted)
    assert main(["inventory", "--data-root", str(quirky_tree)]) == 130
    assert _one_error_line(capsys.readouterr().err) == "jeugdkit inventory: interrupted"


# ------------------------------------------------------------------- 5. arguments
@pytest.mark.parametrize("gemeente, message", [
    ("9999", r"gemeente\(n\) 9999 not in the gemeente reference table .*gemeenten\.csv; known: "),
    ("03a3", r"gemeente '03a3': expected a gemeentecode of at most four digits"),
    ("0041,", None),
])
def test_the_gemeente_is_checked_before_anything_is_written(tree, tmp_path, capsys, gemeente,
                                                            message, fake_notebooks):
    out = tmp_path / "rapporten"
    code = main(_report_args(tree, out, "--gemeente", gemeente, "--run-timestamp", STAMP))
    err = capsys.readouterr().err
    if message is None:  # a trailing comma is no typo
        assert code == 0, err
        assert (out / "2023" / "0041" / "rapport.html").exists()
        return
    assert code == 2
    assert re.fullmatch(f"jeugdkit report: {message}.*", _one_error_line(err))
    assert not out.exists()  # no pickle with person keys in a new folder


def test_inventory_and_cache_exit_non_zero_when_nothing_is_found(tmp_path, capsys):
    empty = tmp_path / "leeg"
    empty.mkdir()
    assert main(["inventory", "--data-root", str(empty)]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith(
        f"jeugdkit inventory: no file of any dataset found under {empty}")
    cache = tmp_path / "cache"
    assert main(["cache", "--data-root", str(empty), "--cache-dir", str(cache)]) == 2
    assert "nothing to cache" in _one_error_line(capsys.readouterr().err)
    assert main(["cache", "--data-root", str(empty), "--cache-dir", str(cache),
                 "--datasets", "GEENSET"]) == 2
    assert _one_error_line(capsys.readouterr().err).startswith(
        "jeugdkit cache: dataset(s) GEENSET not in the catalog; known: ")


def test_inventory_and_cache_exit_1_when_a_file_cannot_be_read(quirky_tree, tmp_path, capsys):
    bad = next(quirky_tree.rglob("JGDHULP2018BUSV1.sav"))
    bad.write_bytes(b"geen SPSS-bestand" * 10)
    assert main(["inventory", "--data-root", str(quirky_tree), "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # the inventory is still printed
    assert "cannot read header" in report["datasets"]["JGDHULPBUS"]["files"][0]["error"]
    assert _one_error_line(captured.err) == (
        "jeugdkit inventory: 1 file(s) could not be read: "
        f"{bad.relative_to(quirky_tree)}")
    cache = tmp_path / "cache"
    assert main(["cache", "--data-root", str(quirky_tree), "--cache-dir", str(cache),
                 "--datasets", "JGDHULPBUS", "VSLGWBTAB"]) == 1
    err = capsys.readouterr().err
    assert f"jeugdkit cache: not cached: {bad}: " in err
    assert len(list(cache.glob("*.parquet"))) == 2  # the readable files are cached


def test_report_all_releases_the_national_set_first_and_once(tmp_path, fake_notebooks):
    """`report --all` releases the period's national set into the ledger before any gemeente
    (tables and trajectories of every gemeente, each with its export log); a rerun finds it
    in the ledger and does not release it again."""
    import synthetic
    from jeugdkit.output import PeriodLedger
    from jeugdkit.report.runner import run_reports
    synthetic.generate(tmp_path / "boom", persons=2_000, gemeenten=8, years=(2021, 2024))
    out, root = tmp_path / "rapporten", tmp_path / "grootboek"
    lines: list[str] = []
    summary = run_reports(tmp_path / "boom" / "ra", "2023", gemeenten="all", out=out,
                          cache_dir=tmp_path / "cache", workers=2, ledger=root,
                          log=lines.append)
    assert not summary.failed, [o.message for o in summary.failed]
    national = out / "2023" / "landelijk"
    assert (national / DONE).exists()
    for part in ("tabellen", "trajecten"):
        log = json.loads((national / part / "log" / "results.json").read_text())
        assert log["run"]["name"] == f"periode-2023-{part}" and log["results"]
    ledger = PeriodLedger.for_period(root, "2023")
    info = ledger.summary()
    assert info["runs"] == 2 and info["outputs"] > 10
    first = next(i for i, line in enumerate(lines) if "landelijke set" in line)
    assert first < next(i for i, line in enumerate(lines) if ": begonnen" in line)
    again: list[str] = []
    run_reports(tmp_path / "boom" / "ra", "2023", gemeenten="all", out=out,
                cache_dir=tmp_path / "cache", workers=2, ledger=root, log=again.append)
    assert any("al in het grootboek" in line for line in again), again
    assert ledger.summary()["version"] == info["version"]
    assert "landelijk" not in (out / "index.html").read_text()
