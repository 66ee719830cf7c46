"""The report chain: notebooks run with papermill, one offline HTML per gemeente and period.

    run_reports("G:/", "2023", gemeenten=["0363"], out="rapporten")
    run_reports("G:/", "2023", gemeenten="all", out="rapporten", workers=2)

Layout of ``out``::

    index.html                          every period and gemeente, with status
    <period>/_werk/                     shared intermediates (INTERNAL: person keys)
    <period>/data/datakwaliteit.html    inventory and reconciliation (internal, notebooks 00-01)
    <period>/<gemeente>/rapport.html    the report: no code, table of contents, offline
    <period>/<gemeente>/notebooks/      the executed notebooks 02-05
    <period>/<gemeente>/export/         only output-controlled tables and figures + export log
    <period>/_werk/<gemeente>/          session snapshots (INTERNAL: cells before suppression)

The period's intermediates are computed once, before any gemeente starts, so gemeenten never
re-read the microdata. Gemeenten run in parallel worker processes; kernel start-ups are
serialised by a file lock (two kernels starting at once can pick the same free port). A
gemeente is done when its marker ``.klaar.json`` exists with the same key: a rerun skips it,
so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from jeugdkit.report.html import ReportError, appendix_html, render_report
from jeugdkit.report.study import WORKDIR, Study, _atomic_write

PERIOD_NOTEBOOKS = ("00_inventaris", "01_populatie")
GEMEENTE_NOTEBOOKS = ("02_benchmark", "03_verdieping", "04_trajecten", "05_samenvatting")
REPORT_ORDER = ("05_samenvatting", "02_benchmark", "03_verdieping", "04_trajecten")
"""Chapters in the report: the summary first, although it runs last."""
DONE = ".klaar.json"
FAILED = ".mislukt.json"


def notebook_dir() -> Path:
    """Return the folder of the notebooks (the repository's ``notebooks/``, or
    ``JEUGDKIT_NOTEBOOKS``)."""
    env = os.environ.get("JEUGDKIT_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "notebooks"


# ----------------------------------------------------------------------------- kernels
@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        if os.name == "nt":  # the RA runs Windows
            import msvcrt
            while True:
                try:
                    f.seek(0)
                    msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.2)
            try:
                yield
            finally:
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


class LockedKernelManager(AsyncKernelManager):
    """A kernel manager that starts one kernel at a time across processes.

    jupyter_client picks free ports by binding and releasing them, and the kernel binds them
    a moment later; two kernels starting together in two processes can pick the same port.
    Holding a file lock from the choice of ports until the kernel answers closes that gap.
    """

    lock_path: Path | None = None
    log_path: Path | None = None
    """Where the kernel process's own messages go (its start-up notices, the interrupt at
    shutdown); None: the console. Notebook output is in the notebook either way."""

    async def start_kernel(self, **kw):
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - lives as the kernel
            kw.setdefault("stdout", self._log_file)
            kw.setdefault("stderr", self._log_file)
        if self.lock_path is None:
            return await super().start_kernel(**kw)
        with _file_lock(Path(self.lock_path)):
            await super().start_kernel(**kw)
            client = self.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=120)
            finally:
                client.stop_channels()

    async def shutdown_kernel(self, *args, **kw):
        try:
            return await super().shutdown_kernel(*args, **kw)
        finally:
            log = getattr(self, "_log_file", None)
            if log is not None:
                log.close()


def execute(notebook: str, out_dir: Path, parameters: dict, lock: Path | None = None,
            cwd: Path | None = None) -> Path:
    """Run one notebook with papermill; return the executed copy's path.

    The kernel's own messages go to ``<out_dir>/kernels.log``.
    """
    import papermill as pm
    LockedKernelManager.lock_path = lock
    LockedKernelManager.log_path = out_dir / "kernels.log"
    src = notebook_dir() / f"{notebook}.ipynb"
    if not src.exists():
        raise ReportError(f"notebook {src} not found; set JEUGDKIT_NOTEBOOKS to the folder "
                          "with the jeugdkit notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{notebook}.ipynb"
    try:
        pm.execute_notebook(str(src), str(target), parameters=parameters, progress_bar=False,
                            kernel_name="python3", cwd=str(cwd or out_dir),
                            kernel_manager_class=LockedKernelManager)
    except pm.PapermillExecutionError as exc:
        raise ReportError(f"notebook {notebook} failed in cell {exc.exec_count}: {exc.ename}: "
                          f"{exc.evalue} (executed copy: {target})") from None
    return target


# ----------------------------------------------------------------------------- jobs
@dataclass
class Job:
    """One unit of the batch: the period's data notebooks, or one gemeente's report."""

    kind: str  # "periode" or "gemeente"
    gemeente: str
    parameters: dict
    folder: Path
    key: str
    lock: Path
    naam: str = ""
    progress: bool = False


@dataclass
class Outcome:
    """What a job gave: status (klaar, overgeslagen, mislukt), seconds, report, message."""

    job: Job
    status: str
    seconds: float = 0.0
    report: Path | None = None
    message: str = ""


@dataclass
class RunSummary:
    """Every job's outcome and the index page of a run."""

    outcomes: list[Outcome] = field(default_factory=list)
    index: Path | None = None

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "mislukt"]


def _job_key(study: Study, parameters: dict) -> str:
    text = json.dumps({"study": study.key(), "parameters": parameters,
                       "notebooks": _notebook_hash()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _notebook_hash() -> str:
    h = hashlib.sha256()
    for name in PERIOD_NOTEBOOKS + GEMEENTE_NOTEBOOKS:
        h.update((notebook_dir() / f"{name}.ipynb").read_bytes())
    return h.hexdigest()


def _is_done(job: Job) -> bool:
    marker = job.folder / DONE
    if not marker.exists():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("key") == job.key
    except (OSError, ValueError):
        return False


def _run_job(job: Job) -> Outcome:
    """Run a job in a worker process; never raises (a failure is an Outcome)."""
    start = time.perf_counter()
    try:
        for stale in (job.folder / DONE, job.folder / FAILED):
            stale.unlink(missing_ok=True)
        if job.kind == "periode":
            report = _run_period(job)
        else:
            report = _run_gemeente(job)
        seconds = time.perf_counter() - start
        _atomic_write(job.folder / DONE, json.dumps(
            {"key": job.key, "seconds": round(seconds, 1), "gemeente": job.gemeente,
             "naam": job.naam, "rapport": report.name,
             "run_timestamp": job.parameters.get("run_timestamp", "")},
            indent=1).encode())
        return Outcome(job, "klaar", seconds, report)
    except Exception as exc:  # report it, go on with the other gemeenten
        seconds = time.perf_counter() - start
        message = str(exc) if isinstance(exc, ReportError) else \
            f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        with contextlib.suppress(OSError):
            _atomic_write(job.folder / FAILED, json.dumps(
                {"key": job.key, "gemeente": job.gemeente, "naam": job.naam,
                 "fout": message}, indent=1).encode())
        return Outcome(job, "mislukt", seconds, None, message)


def _run_period(job: Job) -> Path:
    nb_dir = job.folder / "notebooks"
    done = [execute(nb, nb_dir, job.parameters, job.lock, cwd=job.folder)
            for nb in PERIOD_NOTEBOOKS]
    page = render_report(done, title=f"Datakwaliteit periode {job.parameters['period']}",
                         subtitle="Inventaris, populatie en reconciliatie",
                         banner="Intern: deze pagina is niet door outputcontrole gegaan en "
                                "blijft in de RA.",
                         footer="jeugdkit: interne controle")
    target = job.folder / "datakwaliteit.html"
    _atomic_write(target, page.encode("utf-8"))
    return target


def _run_gemeente(job: Job) -> Path:
    # start clean: a rerun with other parameters must not leave files of the last one
    for sub in ("export", "notebooks", WORKDIR):
        shutil.rmtree(job.folder / sub, ignore_errors=True)
    nb_dir = job.folder / "notebooks"
    for nb in GEMEENTE_NOTEBOOKS:
        t = time.perf_counter()
        execute(nb, nb_dir, job.parameters, job.lock, cwd=job.folder)
        if job.progress:
            print(f"    {job.gemeente} {nb}: {time.perf_counter() - t:.0f} s", flush=True)
    log_path = job.folder / "export" / "log" / "results.json"
    log = json.loads(log_path.read_text(encoding="utf-8"))
    period = job.parameters["period"]
    page = render_report([nb_dir / f"{nb}.ipynb" for nb in REPORT_ORDER],
                         title=f"Jeugdhulp in {job.naam}",
                         subtitle=f"Gemeente {job.naam} ({job.gemeente}), periode {period}",
                         run_timestamp=log["run"]["timestamp"],
                         appendix=appendix_html(log.get("provenance", {}), log),
                         footer=f"jeugdkit; alle cijfers door outputcontrole "
                                f"(export/log). Periode {period}.")
    target = job.folder / "rapport.html"
    _atomic_write(target, page.encode("utf-8"))
    return target


# ----------------------------------------------------------------------------- the run
def run_reports(data_root, period=None, *, gemeenten="all", out="rapporten",
                compare: str = "stedelijkheid", groep: str = "", catalog=None, cache_dir=None,
                settings=None, workers: int | None = None, force: bool = False,
                run_timestamp: str | None = None, log=print) -> RunSummary:
    """Run the notebooks and write the reports of a period; return what happened.

    ``gemeenten``: a list of gemeentecodes or ``"all"`` (every gemeente in the period's
    population). ``workers``: parallel gemeenten (default: the machine's cores).
    ``force``: redo gemeenten that are done. ``run_timestamp``: the one time written into
    every report and log of the run (default: now), so that a rerun with a fixed timestamp
    gives identical files.
    """
    t0 = time.perf_counter()
    out = Path(out).resolve()
    study = Study(data_root, period, catalog=catalog, cache_dir=cache_dir, report_dir=out,
                  settings=settings)
    label = study.period.label
    log(f"periode {label}: gedeelde tussenresultaten (populatie, historie, panel) ...")
    study.prepare()
    log(f"  klaar in {time.perf_counter() - t0:.0f} s ({study.workdir})")
    timestamp = run_timestamp or datetime.now(UTC).isoformat(timespec="seconds")
    # absolute paths: the notebooks run in the gemeente's folder
    base = {"data_root": str(study.reader.data_root.resolve()), "period": label,
            "report_dir": str(out),
            "catalog": str(Path(catalog).resolve()) if catalog else "",
            "cache_dir": str(Path(study.reader.cache_dir).resolve()),
            "settings": str(Path(settings).resolve()) if settings else ""}
    lock = study.workdir / "kernel.lock"
    available = study.gemeenten()
    if gemeenten == "all":
        codes = list(available["gemeentecode"])
    else:
        codes = [study.code(g) for g in gemeenten]
        unknown = sorted(set(codes) - set(available["gemeentecode"]))
        if unknown:
            raise ReportError(f"gemeente(n) {unknown} not in the population of {label} "
                              f"(data root {study.reader.data_root}); known: "
                              f"{', '.join(available['gemeentecode'][:12])} ...")
    jobs = [Job("periode", "", base, study.period_dir / "data", "", lock, "datakwaliteit")]
    for code in codes:
        params = {**base, "gemeente": code, "compare": compare, "groep": groep,
                  "run_timestamp": timestamp}
        jobs.append(Job("gemeente", code, params, study.gemeente_dir(code), "", lock,
                        study.gemeentenaam(code)))
    for job in jobs:
        keyed = {k: v for k, v in job.parameters.items() if k != "run_timestamp"}
        job.key = _job_key(study, keyed)
        job.progress = log is print  # per-notebook lines from the workers on the console
    summary = RunSummary()
    todo = []
    for job in jobs:
        if not force and _is_done(job):
            summary.outcomes.append(Outcome(job, "overgeslagen"))
        else:
            todo.append(job)
    skipped = len(jobs) - len(todo)
    if skipped:
        log(f"{skipped} van {len(jobs)} onderdelen waren al klaar (overgeslagen; --force "
            "maakt ze opnieuw)")
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    log(f"{len(todo)} onderdelen, {workers} tegelijk")
    done = 0
    if workers == 1:
        results = (_run_job(job) for job in todo)
    else:
        pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
        futures = [pool.submit(_run_job, job) for job in todo]
        results = (f.result() for f in as_completed(futures))
    try:
        for outcome in results:
            done += 1
            summary.outcomes.append(outcome)
            what = outcome.job.naam if outcome.job.kind == "gemeente" else "datakwaliteit"
            code = f"{outcome.job.gemeente} " if outcome.job.gemeente else ""
            if outcome.status == "klaar":
                log(f"[{done}/{len(todo)}] {code}{what}: klaar in {outcome.seconds:.0f} s -> "
                    f"{outcome.report}")
            else:
                log(f"[{done}/{len(todo)}] {code}{what}: MISLUKT na {outcome.seconds:.0f} s: "
                    f"{outcome.message.splitlines()[0]}")
    finally:
        if workers > 1:
            pool.shutdown(cancel_futures=True)
    summary.index = write_index(out)
    log(f"index: {summary.index} ({time.perf_counter() - t0:.0f} s in totaal)")
    return summary


def write_index(out) -> Path:
    """Write ``out/index.html``: every period's data page and gemeente reports, with status."""
    out = Path(out)
    sections = []
    for period_dir in sorted((p for p in out.iterdir() if p.is_dir()), reverse=True):
        rows = []
        data = period_dir / "data" / "datakwaliteit.html"
        for folder in sorted(p for p in period_dir.iterdir() if p.is_dir()
                             and p.name not in ("data", WORKDIR)):
            done, failed = folder / DONE, folder / FAILED
            if done.exists():
                info = json.loads(done.read_text(encoding="utf-8"))
                link = f'<a href="{period_dir.name}/{folder.name}/{info["rapport"]}">rapport</a>'
                rows.append(f"<tr><td>{html.escape(folder.name)}</td><td>"
                            f"{html.escape(info.get('naam', ''))}</td><td>{link}</td><td>"
                            f"{html.escape(info.get('run_timestamp', ''))}</td></tr>")
            elif failed.exists():
                info = json.loads(failed.read_text(encoding="utf-8"))
                first = info.get("fout", "").splitlines()[0] if info.get("fout") else ""
                rows.append(f"<tr><td>{html.escape(folder.name)}</td><td>"
                            f"{html.escape(info.get('naam', ''))}</td><td>mislukt</td><td>"
                            f"{html.escape(first)}</td></tr>")
        if not rows and not data.exists():
            continue
        data_link = (f'<p><a href="{period_dir.name}/data/datakwaliteit.html">Datakwaliteit '
                     f"(intern)</a></p>" if data.exists() else "")
        sections.append(f"<h2>Periode {html.escape(period_dir.name)}</h2>{data_link}"
                        '<table class="tabel"><thead><tr><th>Code</th><th>Gemeente</th>'
                        "<th>Rapport</th><th>Gemaakt / fout</th></tr></thead><tbody>"
                        + "".join(rows) + "</tbody></table>")
    from jeugdkit.report.html import CSS, check_offline
    page = ("<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>Rapporten jeugdhulp</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            "<header><h1>Rapporten jeugdhulp</h1><p>Per periode en gemeente</p></header>\n"
            f"<main>{''.join(sections) or '<p>Nog geen rapporten.</p>'}</main>\n"
            "</body>\n</html>\n")
    check_offline(page, "index")
    target = out / "index.html"
    _atomic_write(target, page.encode("utf-8"))
    return target


def cli_report(args) -> int:
    """Run `jeugdkit report`: the notebooks and HTML reports of a period."""
    if not args.all and not args.gemeente:
        raise ReportError("pass --gemeente CODE[,CODE...] or --all")
    gemeenten = "all" if args.all else [g for g in args.gemeente.split(",") if g.strip()]
    summary = run_reports(args.data_root, args.period, gemeenten=gemeenten, out=args.out,
                          compare=args.compare, groep=args.groep or "", catalog=args.catalog,
                          cache_dir=args.cache_dir, settings=args.settings,
                          workers=args.workers, force=args.force,
                          run_timestamp=args.run_timestamp)
    reports = [o.report for o in summary.outcomes if o.report and o.job.kind == "gemeente"]
    for o in summary.outcomes:
        if o.status == "overgeslagen" and o.job.kind == "gemeente":
            reports.append(o.job.folder / "rapport.html")
    if len(reports) == 1:
        print(f"\nRapport: {reports[0]}")
    print(f"Overzicht: {summary.index}")
    if summary.failed:
        print(f"{len(summary.failed)} onderdeel/onderdelen mislukt; zie {summary.index}",
              file=sys.stderr)
        return 1
    return 0
