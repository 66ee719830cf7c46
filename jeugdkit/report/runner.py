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
re-read the microdata. Gemeenten run in parallel worker processes (one process per gemeente);
kernel start-ups are serialised by a file lock (two kernels starting at once can pick the same
free port). A gemeente is done when its marker ``.klaar.json`` exists with the same key: a
rerun skips it, so an interrupted batch resumes where it stopped.

Interrupted and concurrent runs:

- One run per output folder: a run holds ``out/.jeugdkit.lock`` (its pid and start time are
  written in it); a second run stops at once (:class:`RunBusyError`) or, with ``wait``, waits.
- A gemeente is built in ``<period>/.<gemeente>.bouw/`` and swapped in as a whole when it is
  complete (old folder renamed away, new one renamed in, old one deleted). An interrupted run
  thus leaves the old complete folder or none; a failed attempt is kept in
  ``<period>/.<gemeente>.mislukt/`` and the old report stays.
- SIGINT (Ctrl-C) and SIGTERM stop the run within seconds: no new gemeente starts, the
  workers stop their kernels, half-built folders are removed and :class:`RunInterrupted`
  says what was finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.connection import wait as wait_for
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from jeugdkit.locks import file_lock
from jeugdkit.output.period import ENV as LEDGER_ENV
from jeugdkit.output.period import PeriodLedger
from jeugdkit.report.html import ReportError, appendix_html, render_report
from jeugdkit.report.study import BUILD_ENV, WORKDIR, Study, _atomic_write, build_dir

PERIOD_NOTEBOOKS = ("00_inventaris", "01_populatie")
GEMEENTE_NOTEBOOKS = ("02_benchmark", "03_verdieping", "04_trajecten", "05_samenvatting")
REPORT_ORDER = ("05_samenvatting", "02_benchmark", "03_verdieping", "04_trajecten")
"""Chapters in the report: the summary first, although it runs last."""
DONE = ".klaar.json"
FAILED = ".mislukt.json"
LOCK = ".jeugdkit.lock"
"""The run lock in the output folder: one run per output folder."""
NATIONAL_DIR = "landelijk"
"""The folder of the period release in ``<out>/<period>/`` (national tables, trajecten)."""
STOP_SECONDS = 5.0
"""How long a worker gets to stop its kernels after SIGTERM before it is killed."""


class RunBusyError(ReportError):
    """Another run holds the output folder (exit code 2)."""


class RunInterrupted(ReportError):
    """The run was stopped by SIGINT or SIGTERM; finished gemeenten are kept (exit code 130)."""

    exit_code = 130

    def __init__(self, message: str, summary: RunSummary | None = None):
        super().__init__(message)
        self.summary = summary


def notebook_dir() -> Path:
    """Return the folder of the notebooks (the repository's ``notebooks/``, or
    ``JEUGDKIT_NOTEBOOKS``)."""
    env = os.environ.get("JEUGDKIT_NOTEBOOKS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "notebooks"


# ----------------------------------------------------------------------------- locks
_file_lock = file_lock


def lock_holder(out) -> str:
    """Return who holds the run lock of ``out`` as text (pid, host, start, command)."""
    try:
        info = json.loads((Path(out) / LOCK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "holder unknown"
    return (f"pid {info.get('pid')} on {info.get('host')}, started {info.get('started')}: "
            f"{info.get('command')}")


@contextlib.contextmanager
def run_lock(out, wait: bool = False, log=print):
    """Hold the output folder for one run: ``out/.jeugdkit.lock`` with this process's pid and
    start time in it. Another run's folder: raise :class:`RunBusyError` at once, or with
    ``wait`` wait until it is free. Check first that ``out`` is a folder that can be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"the report folder {out} is a file, not a folder; pass another "
                          "--out")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create the report folder {out}: "
                          f"{exc.strerror or exc}") from None
    with contextlib.ExitStack() as stack:
        try:
            f = stack.enter_context(_file_lock(out / LOCK, blocking=False))
        except BlockingIOError:
            if not wait:
                raise RunBusyError(f"the report folder {out} is in use by another run "
                                   f"({lock_holder(out)}); wait until it is done, pass "
                                   "--wait, or pass another --out") from None
            log(f"wachten: {out} is in gebruik ({lock_holder(out)}) ...")
            f = stack.enter_context(_file_lock(out / LOCK, blocking=True))
        except OSError as exc:
            raise ReportError(f"cannot write in the report folder {out}: "
                              f"{exc.strerror or exc}") from None
        f.seek(0)
        f.truncate()
        f.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                            "started": datetime.now(UTC).isoformat(timespec="seconds"),
                            "command": " ".join(["jeugdkit", *sys.argv[1:]])
                            if Path(sys.argv[0]).stem == "jeugdkit" else " ".join(sys.argv)})
                .encode("utf-8"))
        f.flush()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                f.seek(0)
                f.truncate()
                f.flush()


# ----------------------------------------------------------------------------- kernels
_KERNELS: set = set()
"""The kernels this process runs, so that a worker told to stop can stop them."""


def _stop_kernels() -> None:
    """Kill every kernel this process started (and the processes those started)."""
    for km in list(_KERNELS):
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None:
            with contextlib.suppress(OSError):
                if os.name == "nt":
                    process.kill()
                else:  # the kernel leads its own session: kill the group
                    os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, TypeError):
            os.remove(km.connection_file)
        _KERNELS.discard(km)


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
            await super().start_kernel(**kw)
            _KERNELS.add(self)
            return
        with _file_lock(Path(self.lock_path)):
            await super().start_kernel(**kw)
            _KERNELS.add(self)
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
            _KERNELS.discard(self)
            log = getattr(self, "_log_file", None)
            if log is not None:
                log.close()


RESET_CODE = """\
get_ipython().run_line_magic("reset", "-f")
import matplotlib.pyplot as _plt
_plt.close("all")
del _plt
get_ipython().execution_count = 1
"""
"""Run in a shared kernel before its next notebook: the namespace as in a new kernel
(imported modules stay loaded, which is what saves the time), no open figures, and the
cells numbered from 1 again."""


SHARED_ENGINE = "jeugdkit-shared"
"""The papermill engine name under which :class:`SharedKernel` registers its engine."""


class SharedKernel:
    """One kernel for the notebooks of one report, run one after another.

    A kernel per notebook costs its start-up, the imports and the first use of every
    library again (measured on the 1M tree: about 5 s a chapter, 20 s of a 64 s report).
    Before each notebook after the first the namespace is reset (:data:`RESET_CODE`), so a
    notebook sees what it would see in a kernel of its own; a researcher in JupyterLab runs
    the same notebooks one kernel each. A notebook that fails leaves the kernel to be shut
    down with the report.

        with SharedKernel(cwd=build, lock=lock, log=build / "notebooks" / "kernels.log") as k:
            execute("02_benchmark", nb_dir, parameters, kernel=k)
    """

    def __init__(self, cwd: Path, lock: Path | None = None, log: Path | None = None):
        self.cwd, self.lock, self.log = Path(cwd), lock, log
        self.km = None
        self.used = False

    def __enter__(self) -> SharedKernel:
        from jupyter_core.utils import run_sync
        from papermill.engines import papermill_engines
        papermill_engines.register(SHARED_ENGINE, _shared_kernel_engine())
        LockedKernelManager.lock_path = self.lock
        LockedKernelManager.log_path = self.log
        self.km = LockedKernelManager(kernel_name="python3")
        run_sync(self.km.start_kernel)(cwd=str(self.cwd))
        return self

    def __exit__(self, *exc) -> None:
        from jupyter_core.utils import run_sync
        if self.km is not None and self.km.has_kernel:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
        self.km = None

    def prepare(self) -> None:
        """Reset the namespace if a notebook ran in this kernel before."""
        if self.used:
            from jupyter_core.utils import run_sync
            run_sync(self._reset)()
        self.used = True

    async def _reset(self) -> None:
        kc = self.km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=120)
            reply = await kc.execute_interactive(RESET_CODE, store_history=False, timeout=120,
                                                 output_hook=lambda msg: None)
        finally:
            kc.stop_channels()
        if reply["content"]["status"] != "ok":
            raise ReportError(f"the report's kernel could not be reset: "
                              f"{reply['content'].get('evalue', '')}")


def _shared_kernel_engine():
    """Return papermill's nbclient engine that runs in a :class:`SharedKernel`'s kernel and
    closes its own connection to it after the notebook (papermill leaves a kernel it did
    not start running, and its client open)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.log import logger

    class SharedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, km=None, **kwargs):
            client = PapermillNotebookClient(
                nb_man, km=km, timeout=execution_timeout, startup_timeout=start_timeout,
                kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file)
            try:
                return client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    return SharedKernelEngine


def execute(notebook: str, out_dir: Path, parameters: dict, lock: Path | None = None,
            cwd: Path | None = None, kernel: SharedKernel | None = None) -> Path:
    """Run one notebook with papermill; return the executed copy's path.

    ``kernel``: run it in that kernel (the notebooks of one report, see
    :class:`SharedKernel`); otherwise in a kernel of its own, whose messages go to
    ``<out_dir>/kernels.log``.
    """
    import papermill as pm
    src = notebook_dir() / f"{notebook}.ipynb"
    if not src.exists():
        raise ReportError(f"notebook {src} not found; set JEUGDKIT_NOTEBOOKS to the folder "
                          "with the jeugdkit notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{notebook}.ipynb"
    if kernel is None:
        LockedKernelManager.lock_path = lock
        LockedKernelManager.log_path = out_dir / "kernels.log"
        how = dict(kernel_manager_class=LockedKernelManager)
    else:
        kernel.prepare()
        how = dict(engine_name=SHARED_ENGINE, km=kernel.km)
    try:
        pm.execute_notebook(str(src), str(target), parameters=parameters, progress_bar=False,
                            kernel_name="python3", cwd=str(cwd or out_dir), **how)
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


def failed_dir(folder: Path) -> Path:
    """Return where a failed attempt at ``folder`` is kept: ``<parent>/.<name>.mislukt``."""
    return folder.parent / f".{folder.name}.mislukt"


def _old_dir(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.oud"


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_done(job: Job) -> bool:
    info = _read_json(job.folder / DONE)
    return bool(info) and info.get("key") == job.key \
        and (job.folder / str(info.get("rapport", ""))).is_file()


def _moved(build: Path, folder: Path) -> None:
    """Point the executed notebooks' papermill metadata (``output_path``) at ``folder``,
    where they will be once ``build`` is moved there."""
    import nbformat
    for path in sorted((build / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        meta = nb.metadata.get("papermill", {})
        if str(meta.get("output_path", "")).startswith(str(build)):
            meta["output_path"] = str(folder) + meta["output_path"][len(str(build)):]
            _atomic_write(path, nbformat.writes(nb).encode("utf-8"))


def _swap_in(new: Path, folder: Path) -> None:
    """Put the complete folder ``new`` in the place of ``folder``: the old one is renamed
    away, the new one renamed in, the old one deleted. Each step is one rename, so an
    interruption leaves the old folder, or the new one, or both aside for
    :func:`recover_folders` (never a mixture)."""
    old = _old_dir(folder)
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    shutil.rmtree(old, ignore_errors=True)


def recover_folders(period_dir: Path) -> None:
    """Finish or undo a swap an interruption cut short, and remove half-built folders.

    Call it only while holding the run lock (no other run is building)."""
    if not period_dir.is_dir():
        return
    for old in period_dir.glob(".*.oud"):
        folder = period_dir / old.name[1:-len(".oud")]
        if not folder.exists():
            new = build_dir(folder)
            if (new / DONE).is_file():  # the new folder was complete: take it
                os.replace(new, folder)
            else:  # put the old one back
                os.replace(old, folder)
        shutil.rmtree(old, ignore_errors=True)
    for new in period_dir.glob(".*.bouw"):
        shutil.rmtree(new, ignore_errors=True)


def _run_job(job: Job) -> Outcome:
    """Run a job, in its own folder beside the final one; never raises (a failure is an
    Outcome). A complete job is swapped in; a failed one is kept as ``.<name>.mislukt``."""
    start = time.perf_counter()
    build = build_dir(job.folder)
    try:
        shutil.rmtree(build, ignore_errors=True)
        build.mkdir(parents=True)
        if job.kind == "periode":
            report = _run_period(job, build)
        else:
            report = _run_gemeente(job, build)
        seconds = time.perf_counter() - start
        _atomic_write(build / DONE, json.dumps(
            {"key": job.key, "seconds": round(seconds, 1), "gemeente": job.gemeente,
             "naam": job.naam, "rapport": report.name,
             "run_timestamp": job.parameters.get("run_timestamp", "")},
            indent=1).encode())
        _moved(build, job.folder)
        _swap_in(build, job.folder)
        shutil.rmtree(failed_dir(job.folder), ignore_errors=True)
        return Outcome(job, "klaar", seconds, job.folder / report.name)
    except Exception as exc:  # report it, go on with the other gemeenten
        seconds = time.perf_counter() - start
        failed = failed_dir(job.folder)
        message = str(exc) if isinstance(exc, ReportError) else \
            f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}"
        message = message.replace(str(build), str(failed))
        with contextlib.suppress(Exception):
            _moved(build, failed)
        with contextlib.suppress(OSError):
            _atomic_write(build / FAILED, json.dumps(
                {"key": job.key, "gemeente": job.gemeente, "naam": job.naam,
                 "fout": message}, indent=1).encode())
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(build, failed)
        return Outcome(job, "mislukt", seconds, None, message)


def _run_period(job: Job, build: Path) -> Path:
    nb_dir = build / "notebooks"
    done = [execute(nb, nb_dir, job.parameters, job.lock, cwd=build)
            for nb in PERIOD_NOTEBOOKS]
    page = render_report(done, title=f"Datakwaliteit periode {job.parameters['period']}",
                         subtitle="Inventaris, populatie en reconciliatie",
                         banner="Intern: deze pagina is niet door outputcontrole gegaan en "
                                "blijft in de RA.",
                         footer="jeugdkit: interne controle")
    target = build / "datakwaliteit.html"
    _atomic_write(target, page.encode("utf-8"))
    return target


def _run_gemeente(job: Job, build: Path) -> Path:
    # the notebooks find the build folder through Study.gemeente_dir
    before = os.environ.get(BUILD_ENV)
    os.environ[BUILD_ENV] = str(build)
    try:
        nb_dir = build / "notebooks"
        with SharedKernel(build, job.lock, nb_dir / "kernels.log") as kernel:
            for nb in GEMEENTE_NOTEBOOKS:
                t = time.perf_counter()
                execute(nb, nb_dir, job.parameters, cwd=build, kernel=kernel)
                if job.progress:
                    print(f"    {job.gemeente} {nb}: {time.perf_counter() - t:.0f} s",
                          flush=True)
    finally:
        if before is None:
            os.environ.pop(BUILD_ENV, None)
        else:
            os.environ[BUILD_ENV] = before
    log_path = build / "export" / "log" / "results.json"
    log = json.loads(log_path.read_text(encoding="utf-8"))
    period = job.parameters["period"]
    page = render_report([nb_dir / f"{nb}.ipynb" for nb in REPORT_ORDER],
                         title=f"Jeugdhulp in {job.naam}",
                         subtitle=f"Gemeente {job.naam} ({job.gemeente}), periode {period}",
                         run_timestamp=log["run"]["timestamp"],
                         appendix=appendix_html(log.get("provenance", {}), log),
                         footer=f"jeugdkit; alle cijfers door outputcontrole "
                                f"(export/log). Periode {period}.")
    target = build / "rapport.html"
    _atomic_write(target, page.encode("utf-8"))
    return target


# ----------------------------------------------------------------------------- workers
def _worker(job: Job, conn) -> None:
    """Run one job in a worker process and send its Outcome to the parent.

    Ctrl-C reaches every process of the terminal: the worker ignores it, the parent decides.
    The parent stops a worker with SIGTERM: the worker kills its kernels and exits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_worker)
    if hasattr(signal, "pthread_sigmask"):  # blocked by the parent while it started us
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    outcome = _run_job(job)
    conn.send(outcome)
    conn.close()


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _stop_worker(signum, frame) -> None:
    _stop_kernels()
    os._exit(128 + signum)


class _Stop:
    """SIGINT and SIGTERM during a run: remember the signal; raise KeyboardInterrupt only
    while ``raise_now`` (the shared data), else the scheduler stops at its next look."""

    def __init__(self):
        self.signal: str | None = None
        self.raise_now = True

    def __call__(self, signum, frame):
        first = self.signal is None
        self.signal = signal.Signals(signum).name
        if first and self.raise_now:
            raise KeyboardInterrupt


@contextlib.contextmanager
def _catch_signals():
    stop = _Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals reach only the main thread
        return
    before = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _start(ctx, job: Job):
    """Start a worker process for ``job``; return (process, connection)."""
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(job, send), daemon=True,
                          name=f"jeugdkit-{job.gemeente or 'data'}")
    # The child inherits an ignored SIGINT, so that a Ctrl-C while it starts up does not
    # print a traceback. On POSIX both signals are blocked meanwhile: one that comes now
    # waits, and reaches the parent's handler (and the child's, once it is ready) after.
    main = threading.current_thread() is threading.main_thread()
    mask = main and hasattr(signal, "pthread_sigmask")
    if mask:
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        process.start()
    finally:
        if main:
            signal.signal(signal.SIGINT, handler)
        if mask:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    send.close()
    return process, receive


def _run_all(todo: list[Job], workers: int, stop: _Stop, log, running: dict):
    """Run the jobs in up to ``workers`` worker processes, one process per job; yield each
    Outcome as it comes.

    Starts no job once ``stop`` has a signal; what still runs is in ``running``
    (connection: (process, job)) for :func:`_halt`."""
    ctx = get_context("spawn")
    pending = list(todo)
    while (pending or running) and stop.signal is None:
        while pending and len(running) < workers and stop.signal is None:
            job = pending.pop(0)
            process, conn = _start(ctx, job)
            running[conn] = (process, job)
            if job.kind == "gemeente":
                log(f"  {job.gemeente} {job.naam}: begonnen")
        for conn in wait_for(list(running), timeout=0.5):
            process, job = running.pop(conn)
            try:
                outcome = conn.recv()
            except (EOFError, OSError):
                process.join(STOP_SECONDS)
                outcome = Outcome(job, "mislukt", message=f"the worker process stopped "
                                  f"(exit code {process.exitcode})")
            conn.close()
            process.join(STOP_SECONDS)
            yield outcome


def _halt(running: dict) -> list[Job]:
    """Stop the running workers (SIGTERM: they kill their kernels; then SIGKILL); return
    their jobs."""
    for process, _ in running.values():
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process, _ in running.values():
        process.join(max(0.1, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(STOP_SECONDS)
    for conn in running:
        conn.close()
    return [job for _, job in running.values()]


# ----------------------------------------------------------------------------- the run
def _requested_codes(study: Study, gemeenten) -> list[str] | None:
    """Return the gemeentecodes asked for (None: all), checked before any work: four digits
    and in the gemeente reference table."""
    if gemeenten == "all":
        return None
    if isinstance(gemeenten, str):
        gemeenten = [g for g in gemeenten.split(",") if g.strip()]
    codes = [study.code(g) for g in gemeenten]
    if not codes:
        raise ReportError("no gemeente given: pass --gemeente CODE[,CODE...] or --all")
    known = list(study.reference()["gemeentecode"])
    unknown = [c for c in codes if c not in set(known)]
    if unknown:
        from jeugdkit.tables import default_reference_path
        ref = study.reference_path or default_reference_path(study.reader.data_root)
        raise ReportError(f"gemeente(n) {', '.join(unknown)} not in the gemeente reference "
                          f"table {ref}; known: {', '.join(known[:12])}"
                          f"{' ...' if len(known) > 12 else ''}")
    return list(dict.fromkeys(codes))


def run_reports(data_root, period=None, *, gemeenten="all", out="rapporten",
                compare: str = "stedelijkheid", groep: str = "", catalog=None, cache_dir=None,
                settings=None, workers: int | None = None, force: bool = False,
                run_timestamp: str | None = None, wait: bool = False, ledger=None,
                log=print) -> RunSummary:
    """Run the notebooks and write the reports of a period; return what happened.

    ``gemeenten``: a list of gemeentecodes or ``"all"`` (every gemeente in the period's
    population). ``workers``: parallel gemeenten (default: the machine's cores).
    ``force``: redo gemeenten that are done. ``run_timestamp``: the one time written into
    every report and log of the run (default: now), so that a rerun with a fixed timestamp
    gives identical files. ``wait``: when another run holds ``out``, wait for it instead of
    raising :class:`RunBusyError`. ``ledger``: the period ledger root (default:
    JEUGDKIT_LEDGER or ./jeugdkit-ledger; ``"none"``: every report protected on its own).

    With ``gemeenten="all"``, the period's national set is released into the ledger first,
    once (:func:`jeugdkit.release.release_period`, in ``<out>/<period>/landelijk``): every
    report then shows the national set's value for a cell they share, whatever the order in
    which the reports run. Reports of chosen gemeenten are protected against whatever the
    ledger holds (run ``jeugdkit release`` first for the same effect).

    The gemeenten asked for are checked before anything is written. SIGINT and SIGTERM stop
    the run within seconds and raise :class:`RunInterrupted` (finished gemeenten are kept,
    a rerun skips them).
    """
    t0 = time.perf_counter()
    out = Path(out).resolve()
    study = Study(data_root, period, catalog=catalog, cache_dir=cache_dir, report_dir=out,
                  settings=settings)
    label = study.period.label
    codes = _requested_codes(study, gemeenten)  # before anything is written
    summary = RunSummary()
    root = PeriodLedger.root(ledger)
    with _catch_signals() as stop, run_lock(out, wait=wait, log=log), \
            _ledger_env(root):
        if study.period_dir.exists() and not study.period_dir.is_dir():
            raise ReportError(f"{study.period_dir} is a file, not a folder; move it away")
        try:
            recover_folders(study.period_dir)
            log(f"periode {label}: gedeelde tussenresultaten (populatie, historie, panel) ...")
            study.prepare()
            log(f"  klaar in {time.perf_counter() - t0:.0f} s ({study.workdir})")
            if root is None:
                log("waarschuwing: geen periodegrootboek (--ledger none): elk rapport is "
                    "alleen tegen zichzelf beschermd")
            elif gemeenten == "all":
                _release_period(study, PeriodLedger.for_period(root, label), run_timestamp,
                                force, log)
            else:
                log(f"periodegrootboek: {PeriodLedger.for_period(root, label).folder}")
            jobs = _jobs(study, codes, out, compare, groep, catalog, settings, run_timestamp,
                         log)
            todo = []
            for job in jobs:
                if not force and _is_done(job):
                    summary.outcomes.append(Outcome(job, "overgeslagen"))
                else:
                    todo.append(job)
        except KeyboardInterrupt:
            raise RunInterrupted(f"interrupted ({stop.signal or 'SIGINT'}) while building the "
                                 f"shared data of {label}; no gemeente was started. Run the "
                                 "same command again to continue.", summary) from None
        skipped = len(jobs) - len(todo)
        if skipped:
            log(f"{skipped} van {len(jobs)} onderdelen waren al klaar (overgeslagen; --force "
                "maakt ze opnieuw)")
        workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
        log(f"{len(todo)} onderdelen, {workers} tegelijk")
        stop.raise_now = False  # from here the scheduler looks at stop.signal
        done = 0
        running: dict = {}
        try:
            for outcome in _run_all(todo, workers, stop, log, running):
                done += 1
                summary.outcomes.append(outcome)
                what = outcome.job.naam if outcome.job.kind == "gemeente" else "datakwaliteit"
                code = f"{outcome.job.gemeente} " if outcome.job.gemeente else ""
                if outcome.status == "klaar":
                    log(f"[{done}/{len(todo)}] {code}{what}: klaar in {outcome.seconds:.0f} s "
                        f"-> {outcome.report}")
                else:
                    log(f"[{done}/{len(todo)}] {code}{what}: MISLUKT na "
                        f"{outcome.seconds:.0f} s: {outcome.message.splitlines()[0]}")
        finally:  # also on an error: no worker outlives the run, no half-built folder
            stopped = _halt(running)
            recover_folders(study.period_dir)
            with contextlib.suppress(OSError, ReportError):
                summary.index = write_index(out)
        if summary.index is None:
            summary.index = write_index(out)  # say why it could not be written
        if stop.signal is not None:
            raise RunInterrupted(_interrupted_message(stop.signal, jobs, summary, stopped, force),
                                 summary)
    log(f"index: {summary.index} ({time.perf_counter() - t0:.0f} s in totaal)")
    return summary


@contextlib.contextmanager
def _ledger_env(root: Path | None):
    """Tell the notebooks (through the environment their kernels inherit) which period
    ledger root to use; restore the variable after the run."""
    before = os.environ.get(LEDGER_ENV)
    os.environ[LEDGER_ENV] = "none" if root is None else str(root)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LEDGER_ENV, None)
        else:
            os.environ[LEDGER_ENV] = before


def _release_period(study: Study, ledger: PeriodLedger, run_timestamp, force: bool,
                    log) -> None:
    """Release the period's national set into the ledger, unless done for this data."""
    from jeugdkit.release import release_period
    folder = study.period_dir / NATIONAL_DIR
    key = _job_key(study, {"release": study.period.label, "ledger": str(ledger.folder)})
    done = _read_json(folder / DONE)
    if not force and done and done.get("key") == key:
        log(f"landelijke set van {study.period.label}: al in het grootboek ({ledger.folder})")
        return
    t = time.perf_counter()
    log(f"landelijke set van {study.period.label} in het periodegrootboek {ledger.folder} ...")
    release_period(study.population(), study.history(), folder, ledger=ledger,
                   settings=study.settings, run_timestamp=run_timestamp, log=log)
    _atomic_write(folder / DONE, json.dumps({"key": key, "grootboek": str(ledger.folder)},
                                            indent=1).encode())
    log(f"  klaar in {time.perf_counter() - t:.0f} s")


def _interrupted_message(signame: str, jobs: list[Job], summary: RunSummary,
                         stopped: list[Job], force: bool) -> str:
    """Return the one line an interrupted run ends with: what is done, how to go on."""
    def codes(items):
        items = list(items)
        return ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
    done = [o.job.gemeente for o in summary.outcomes
            if o.job.kind == "gemeente" and o.status in ("klaar", "overgeslagen")]
    asked = [j for j in jobs if j.kind == "gemeente"]
    text = f"interrupted ({signame}): {len(done)} of {len(asked)} gemeenten done"
    if done:
        text += f" ({codes(done)})"
    if stopped:
        text += f"; stopped: {codes(j.gemeente or 'datakwaliteit' for j in stopped)}"
    again = "the same command without --force" if force else "the same command again"
    return text + f"; run {again} to continue (done gemeenten are skipped)"


def _jobs(study: Study, codes, out: Path, compare, groep, catalog, settings, run_timestamp,
          log) -> list[Job]:
    label = study.period.label
    timestamp = run_timestamp or datetime.now(UTC).isoformat(timespec="seconds")
    # absolute paths: the notebooks run in the gemeente's folder
    base = {"data_root": str(study.reader.data_root.resolve()), "period": label,
            "report_dir": str(out),
            "catalog": str(Path(catalog).resolve()) if catalog else "",
            "cache_dir": str(Path(study.reader.cache_dir).resolve()),
            "settings": str(Path(settings).resolve()) if settings else ""}
    lock = study.workdir / "kernel.lock"
    available = study.gemeenten()
    if codes is None:
        codes = list(available["gemeentecode"])
    else:
        unknown = sorted(set(codes) - set(available["gemeentecode"]))
        if unknown:
            raise ReportError(f"gemeente(n) {unknown} not in the population of {label} "
                              f"(data root {study.reader.data_root}); known: "
                              f"{', '.join(available['gemeentecode'][:12])} ...")
    jobs = [Job("periode", "", base, study.period_dir / "data", "", lock, "datakwaliteit")]
    for code in codes:
        params = {**base, "gemeente": code, "compare": compare, "groep": groep,
                  "run_timestamp": timestamp}
        jobs.append(Job("gemeente", code, params, study.period_dir / code, "", lock,
                        study.gemeentenaam(code)))
    for job in jobs:
        keyed = {k: v for k, v in job.parameters.items() if k != "run_timestamp"}
        job.key = _job_key(study, keyed)
        job.progress = log is print  # per-notebook lines from the workers on the console
    return jobs


def write_index(out) -> Path:
    """Write ``out/index.html``: every period's data page and gemeente reports, with status.

    Only complete folders are linked (their ``.klaar.json`` names a report that exists); a
    failed attempt (``.<gemeente>.mislukt/``) is shown with its first error line."""
    out = Path(out)
    sections = []
    for period_dir in sorted((p for p in out.iterdir() if p.is_dir()
                              and not p.name.startswith(".")), reverse=True):
        rows = []
        subdirs = [p for p in period_dir.iterdir() if p.is_dir()]
        names = {p.name for p in subdirs if not p.name.startswith(".")}
        names |= {p.name[1:-len(".mislukt")] for p in subdirs
                  if p.name.startswith(".") and p.name.endswith(".mislukt")}
        names -= {"data", WORKDIR, NATIONAL_DIR}
        for name in sorted(names):
            folder = period_dir / name
            done = _read_json(folder / DONE)
            if done and not (folder / str(done.get("rapport", ""))).is_file():
                done = None
            failed = _read_json(failed_dir(folder) / FAILED) or _read_json(folder / FAILED)
            if not done and not failed:
                continue
            naam = (done or failed).get("naam", "")
            first = (failed.get("fout") or "").splitlines()[0] if failed and \
                failed.get("fout") else ""
            if done:
                link = f'<a href="{period_dir.name}/{name}/{done["rapport"]}">rapport</a>'
                note = html.escape(done.get("run_timestamp", ""))
                if failed:
                    note += f"; laatste poging mislukt: {html.escape(first)}"
            else:
                link, note = "mislukt", html.escape(first)
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(naam)}</td>"
                        f"<td>{link}</td><td>{note}</td></tr>")
        data = period_dir / "data" / "datakwaliteit.html"
        data_failed = _read_json(failed_dir(period_dir / "data") / FAILED)
        if not rows and not data.exists() and not data_failed:
            continue
        data_link = (f'<p><a href="{period_dir.name}/data/datakwaliteit.html">Datakwaliteit '
                     f"(intern)</a></p>" if data.exists() else "")
        if data_failed:
            first = (data_failed.get("fout") or "").splitlines()[:1]
            data_link += f"<p>Datakwaliteit mislukt: {html.escape(''.join(first))}</p>"
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
    if args.reference:
        # the notebooks' kernels and the workers read it from the environment they inherit
        from jeugdkit.tables import REFERENCE_ENV
        reference = Path(args.reference).resolve()
        if not reference.is_file():
            raise ReportError(f"--reference {args.reference}: no such file")
        os.environ[REFERENCE_ENV] = str(reference)
    summary = run_reports(args.data_root, args.period, gemeenten=gemeenten, out=args.out,
                          compare=args.compare, groep=args.groep or "", catalog=args.catalog,
                          cache_dir=args.cache_dir, settings=args.settings,
                          workers=args.workers, force=args.force,
                          run_timestamp=args.run_timestamp, wait=args.wait,
                          ledger=args.ledger)
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
