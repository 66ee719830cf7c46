"""A period's shared intermediates for the notebooks and the report runner.

Every notebook opens the same Study; what it needs (population, history, panel, inventory)
is computed once per period and kept in ``<report_dir>/<period>/_werk/`` (internal: it holds
person keys and never leaves the RA). The cache is valid while the key holds: the period,
the settings, the catalog, the chosen input files (path, size, modification time) and the
jeugdkit version. The batch runner computes the intermediates before it starts the
per-gemeente notebooks, so no gemeente re-reads the microdata.

    study = Study(data_root="G:/", period="2023", report_dir="rapporten")
    pop = study.population()                 # built once, then read from _werk/
    scope = study.scope("0363")              # the gemeente, its comparison group and NL
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import pickle
import platform
import sys
from importlib import metadata
from pathlib import Path

import pandas as pd

from jeugdkit import __version__
from jeugdkit.catalog import SHIPPED_CATALOG
from jeugdkit.errors import JeugdkitError
from jeugdkit.periods import Period
from jeugdkit.settings import Settings

CHAPTERS = ("02", "03", "04", "05")
"""The notebooks that add to a gemeente's one export session, in order."""

PACKAGES = ("jeugdkit", "pandas", "numpy", "pyarrow", "pyreadstat", "scipy", "highspy",
            "statsmodels", "linearmodels", "matplotlib", "seaborn", "papermill", "nbconvert",
            "ipykernel")
"""Package versions recorded in the provenance of every report."""

WORKDIR = "_werk"
"""Name of the internal folders (intermediates, session snapshots): never export them."""

BUILD_ENV = "JEUGDKIT_BUILD_DIR"
"""Set by the report runner: the folder a gemeente's report is being built in, beside its
final folder (see :func:`build_dir`); the runner swaps it in when it is complete."""


def build_dir(folder: Path) -> Path:
    """Return the folder in which ``folder`` is built: ``<parent>/.<name>.bouw``."""
    folder = Path(folder)
    return folder.parent / f".{folder.name}.bouw"


def _env(value, name: str) -> str:
    value = "" if value is None else str(value).strip()
    return value or os.environ.get(name, "").strip()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks (also for multi-gigabyte files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk or an interrupt: leave no torn temporary file
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class Study:
    """Return-once access to one period's data for a report (see the module docstring).

    Parameters are the notebooks' parameters; an empty value falls back to the environment
    (``JEUGDKIT_DATA_ROOT``, ``JEUGDKIT_PERIOD``, ``JEUGDKIT_CATALOG``,
    ``JEUGDKIT_CACHE_DIR``, ``JEUGDKIT_REPORT_DIR``, ``JEUGDKIT_SETTINGS``) and then to the
    default: the newest period whose follow-up year files are all present, and the folder
    ``rapporten``.
    """

    def __init__(self, data_root=None, period=None, *, catalog=None, cache_dir=None,
                 report_dir=None, settings=None, reference=None):
        from jeugdkit.read import Reader
        data_root = _env(data_root, "JEUGDKIT_DATA_ROOT")
        if not data_root:
            raise JeugdkitError("no data root: set the notebook parameter data_root, pass "
                                "--data-root or set JEUGDKIT_DATA_ROOT")
        self.settings_path = _env(settings if not isinstance(settings, Settings) else None,
                                  "JEUGDKIT_SETTINGS") or None
        self.settings = (settings if isinstance(settings, Settings)
                         else Settings.load(self.settings_path))
        bad = self.settings.analysis.on_bad_value
        self.reader = Reader(data_root, catalog=_env(catalog, "JEUGDKIT_CATALOG") or None,
                             cache_dir=_env(cache_dir, "JEUGDKIT_CACHE_DIR") or None,
                             on_bad_value=None if bad == "raise" else bad)
        if not self.reader.data_root.is_dir():
            raise JeugdkitError(f"data root {self.reader.data_root} is not a folder")
        self.period = Period.parse(_env(period, "JEUGDKIT_PERIOD") or self.default_period())
        self.report_dir = Path(_env(report_dir, "JEUGDKIT_REPORT_DIR") or "rapporten")
        self.period_dir = self.report_dir / self.period.label
        self.workdir = self.period_dir / WORKDIR
        self.reference_path = Path(reference) if reference else None
        self._memo: dict = {}

    # -- where things are -----------------------------------------------------------------
    def default_period(self) -> str:
        """Return the newest year whose look-back and follow-up year files are all present
        (else the newest year with a JGDHULPBUS file)."""
        from jeugdkit.trajectories import history_years
        years = self.reader.inventory["JGDHULPBUS"].years
        if not years:
            raise JeugdkitError(f"data root {self.reader.data_root}: no JGDHULPBUS file, so no "
                                "period to report on")
        complete = [y for y in years if set(history_years(str(y), self.settings))
                    <= set(years)]
        return str(max(complete or years))

    def gemeente_dir(self, gemeente: str) -> Path:
        """Return ``<report_dir>/<period>/<gemeente>``, or the folder the report runner is
        building it in (``JEUGDKIT_BUILD_DIR``, ``<period>/.<gemeente>.bouw``)."""
        final = self.period_dir / self.code(gemeente)
        building = os.environ.get(BUILD_ENV, "").strip()
        if building and Path(building).resolve() == build_dir(final).resolve():
            return Path(building)
        return final

    def export_dir(self, gemeente: str) -> Path:
        """Return the gemeente's export folder: only output-controlled files and their log."""
        return self.gemeente_dir(gemeente) / "export"

    @staticmethod
    def code(gemeente) -> str:
        """Return a gemeentecode as four digits (empty: ``JEUGDKIT_GEMEENTE``); refuse none."""
        code = _env(gemeente, "JEUGDKIT_GEMEENTE")
        if not code:
            raise JeugdkitError("no gemeente: set the notebook parameter gemeente (a "
                                "gemeentecode such as 0363) or JEUGDKIT_GEMEENTE")
        if not code.isdigit() or len(code) > 4:
            raise JeugdkitError(f"gemeente {code!r}: expected a gemeentecode of at most four "
                                "digits, such as 0363")
        return code.zfill(4)

    # -- the cache --------------------------------------------------------------------------
    def key(self) -> dict:
        """Return what the cached intermediates depend on (JSON-ready)."""
        if "key" not in self._memo:
            inv = self.reader.inventory
            files = []
            for name, entry in sorted(inv.datasets.items()):
                for found in entry.chosen.values():
                    st = found.path.stat()
                    files.append([name, str(found.path.relative_to(inv.root)), st.st_size,
                                  st.st_mtime_ns])
            catalog = hashlib.sha256("\n".join(
                Path(s).read_text(encoding="utf-8") for s in self.reader.catalog.sources
                if Path(s).is_file()).encode()).hexdigest()
            self._memo["key"] = {
                "period": self.period.label, "jeugdkit": __version__, "catalog": catalog,
                "settings": json.loads(json.dumps(dataclasses.asdict(self.settings),
                                                  default=str)),
                "files": files}
        return self._memo["key"]

    def _key_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.key(), sort_keys=True).encode()).hexdigest()

    def _cached(self, name: str, compute):
        if name in self._memo:
            return self._memo[name]
        path = self.workdir / f"{name}.pkl"
        key = self._key_hash()
        if path.exists():
            try:
                with open(path, "rb") as f:
                    stored_key, value = pickle.load(f)
                if stored_key == key:
                    self._memo[name] = value
                    return value
            except Exception:  # a torn or foreign file: recompute it
                pass
        value = compute()
        _atomic_write(path, pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))
        self._memo[name] = value
        return value

    def prepare(self) -> None:
        """Compute every shared intermediate now (the batch runner calls this once)."""
        self.inventory()
        self.population()
        self.history()
        self.panel()
        self.effects()
        self.development()
        self.input_files()

    # -- the intermediates ------------------------------------------------------------------
    def inventory(self) -> dict:
        """Return the data root's inventory (see :func:`jeugdkit.inventory.inventory_report`)."""
        from jeugdkit.inventory import inventory_report
        return self._cached("inventory", lambda: inventory_report(self.reader))

    def population(self):
        """Return the period's Population (see :func:`jeugdkit.population.build_population`)."""
        from jeugdkit.population import build_population

        def compute():
            pop = build_population(self.reader, self.period.label, settings=self.settings)
            pop.check()
            return pop
        return self._cached("population", compute)

    def history(self):
        """Return the trajecten of every year the trajectory indicators look at."""
        from jeugdkit.trajectories import build_history
        return self._cached("history", lambda: build_history(self.reader, self.period,
                                                             self.settings))

    def panel(self) -> pd.DataFrame:
        """Return the gemeente x year panel up to the period's year (for the wijkteam panel)."""
        from jeugdkit.deepdive.panel import build_panel

        def compute():
            pop = self.population()
            years = [y for y in self.reader.inventory["JGDHULPBUS"].years
                     if y <= pop.period.peildatum.year]
            return build_panel(self.reader, years, classification_year=pop.classification_year,
                               settings=self.settings)
        return self._cached("panel", compute)

    def development(self):
        """Return every year's indicator counts up to the period, on each year's own borders
        (see :func:`jeugdkit.development.development_data`): the Ontwikkeling chapter.

        A year period counts every year up to and including its own; a half-year period the
        years before its own (its own year is not complete)."""
        from jeugdkit.development import development_data

        def compute():
            pop = self.population()
            last = self.period.year if self.period.half is None else self.period.year - 1
            years = [y for y in self.reader.inventory["JGDHULPBUS"].years if y <= last]
            return development_data(self.reader, years, pop.classification_year,
                                    self.settings)
        return self._cached("ontwikkeling", compute)

    def effects(self):
        """Return the period's gemeente effects (the deep dive's defaults: outcome, ages,
        covariates and cluster from the settings), fitted once for every report of the period.

        The LPM and the logit are kept as :class:`~jeugdkit.output.models.ModelSummary`
        (what output control checks and the report releases), not as fitted results with
        their designs (on the 1M tree: 79 MB, 1.5 s to read, against 7 MB)."""
        from dataclasses import replace

        from jeugdkit.deepdive.effects import gemeente_effects
        from jeugdkit.deepdive.model import model_frame
        from jeugdkit.deepdive.oe import for_output_check, model_fit
        from jeugdkit.output.models import ModelSummary

        def compute():
            mf = model_frame(self.population().frame, settings=self.settings)
            eff = gemeente_effects(mf, settings=self.settings)
            logit = eff.logit
            if logit is not None:
                logit = ModelSummary.of(for_output_check(logit))
                logit.fit = model_fit(eff.logit)
            return replace(eff, lpm=ModelSummary.of(eff.lpm), logit=logit)
        return self._cached("effecten", compute)

    def input_files(self) -> list[dict]:
        """Return every chosen input file with dataset, year, version, bytes and sha256."""
        def compute():
            inv = self.reader.inventory
            rows = []
            for name, entry in sorted(inv.datasets.items()):
                for _, found in sorted(entry.chosen.items(), key=lambda kv: str(kv[0])):
                    rows.append({"dataset": name, "year": found.year, "version": found.version,
                                 "path": found.path.relative_to(inv.root).as_posix(),
                                 "bytes": found.size, "sha256": sha256_file(found.path)})
            return rows
        return self._cached("input_files", compute)

    def reference(self) -> pd.DataFrame:
        """Return the gemeente reference table (names, stedelijkheid, jeugdregio, inwoners)."""
        from jeugdkit.tables import default_reference_path, read_reference
        if "reference" not in self._memo:
            self._memo["reference"] = read_reference(
                self.reference_path or default_reference_path(self.reader.data_root))
        return self._memo["reference"]

    def synthetic_truth(self) -> dict | None:
        """Return the generator's truth.json beside a synthetic data root (None for RA data).

        The notebooks' check cells print a key number next to the generator's own figure, so
        that a changed stored number says whether the generator or the kit changed."""
        path = self.reader.data_root.parent / "truth.json"
        if not path.is_file():
            return None
        truth = json.loads(path.read_text(encoding="utf-8"))
        return truth if str(truth.get("generator", "")).startswith("synthetic") else None

    def truth_note(self, what: str) -> str:
        """Return the generator's figure for a key number as Dutch text ('' without one).

        ``what``: ``jongeren`` (the population, exact), ``pct_jeugdhulp_0_17`` (exact),
        ``herhaald_beroep`` (the generator counts every traject, the kit only those of the
        population: close, not equal) or ``uitschieters`` (the planted outliers)."""
        truth = self.synthetic_truth()
        year = str(self.period.peildatum.year)
        if truth is None or self.period.label != year:
            return ""
        calibration = truth.get("calibration", {})
        if what == "jongeren":
            n = truth.get("population", {}).get("youths_0_22_by_year", {}).get(year)
            return "" if n is None else f"generator (truth.json): {n} jongeren"
        if what == "pct_jeugdhulp_0_17":
            pct = calibration.get("jeugdhulp_pct_under18_by_year", {}).get(year)
            return "" if pct is None else f"generator (truth.json): {pct:.2f}%"
        if what == "herhaald_beroep":
            if str(calibration.get("year")) != year:
                return ""
            return (f"generator (truth.json, alle trajecten): "
                    f"{calibration['herhaald_beroep_pct']:.1f}%")
        if what == "uitschieters":
            out = truth["jeugdhulp"]["outliers"]
            return ("geplant (truth.json): " + ", ".join(
                [f"{c} lager" for c in sorted(out["low"])]
                + [f"{c} hoger" for c in sorted(out["high"])]))
        raise ValueError(f"truth_note: unknown key number {what!r}")

    def gemeenten(self) -> pd.DataFrame:
        """Return the gemeenten of the period's population (code, naam), sorted by code."""
        codes = sorted(self.population().frame["gemeentecode"].astype(str).unique())
        names = self.reference().set_index("gemeentecode")["gemeentenaam"]
        return pd.DataFrame({"gemeentecode": codes,
                             "gemeentenaam": [names.get(c, c) for c in codes]})

    def gemeentenaam(self, gemeente) -> str:
        """Return a gemeente's name from the reference table (its code when absent)."""
        code = self.code(gemeente)
        names = self.reference().set_index("gemeentecode")["gemeentenaam"]
        return str(names.get(code, code))

    def scope(self, gemeente, compare: str = "stedelijkheid", groep: str = ""):
        """Return the Scope of a gemeente's report: itself, its comparison group and NL.

        ``groep``: a comma-separated list of gemeentecodes (overrides ``compare``).
        """
        from jeugdkit.scope import Scope
        from jeugdkit.tables import comparison_group
        code = self.code(gemeente)
        names = self.reference().set_index("gemeentecode")["gemeentenaam"]
        name = str(names.get(code, "") or "")
        listed = [c.strip().zfill(4) for c in str(groep or "").split(",") if c.strip()]
        if listed:
            return Scope(code, group=tuple(listed), group_label="lijst", name=name)
        groups = comparison_group(self.reference(), code, by=compare or "stedelijkheid",
                                  settings=self.settings)
        return Scope.from_groups(code, groups, name=name)

    def ledger(self):
        """Return the period ledger the report's session protects against (see
        :mod:`jeugdkit.output.period`): JEUGDKIT_LEDGER (the report runner sets it) or
        ``./jeugdkit-ledger``; None when it says ``none``."""
        from jeugdkit.output.period import PeriodLedger
        return PeriodLedger.resolve(None, self.period.label)

    # -- one export session per report --------------------------------------------------
    def session(self, gemeente, chapter: str, run_timestamp: str = ""):
        """Return the gemeente's ExportSession as the chapter before ``chapter`` left it.

        A report is one run of output control, spread over notebooks 02-05, so that counts
        released in one chapter are protected together with those of another. Chapter 02
        starts a new session; every later chapter continues the snapshot of the one before
        (rerunning a chapter is safe: it starts again from the same snapshot).
        """
        from jeugdkit.output import ExportSession
        if chapter not in CHAPTERS:
            raise JeugdkitError(f"chapter {chapter!r}: expected one of {CHAPTERS}")
        code = self.code(gemeente)
        i = CHAPTERS.index(chapter)
        if i == 0:
            return ExportSession(f"rapport-{self.period.label}-{code}", settings=self.settings,
                                 run_timestamp=run_timestamp or None, ledger=self.ledger())
        prev = self._snapshot(code, CHAPTERS[i - 1])
        if not prev.exists():
            raise JeugdkitError(f"{prev} not found: run notebook {CHAPTERS[i - 1]} for gemeente "
                                f"{code} and period {self.period.label} before {chapter}")
        with open(prev, "rb") as f:
            run = pickle.load(f)
        if "matplotlib.pyplot" in sys.modules:
            # unpickled figures join pyplot, and an inline backend would show them all again
            sys.modules["matplotlib.pyplot"].close("all")
        return run

    def save_session(self, run, gemeente, chapter: str) -> None:
        """Keep the session as this chapter leaves it (internal: cells before suppression)."""
        _atomic_write(self._snapshot(self.code(gemeente), chapter),
                      pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL))

    def _snapshot(self, code: str, chapter: str) -> Path:
        # beside the period's other intermediates, never inside the gemeente's folder that a
        # user hands on: one internal place per period
        return self.workdir / code / f"sessie_{chapter}.pkl"

    # -- provenance -------------------------------------------------------------------------
    def provenance(self, parameters: dict | None = None) -> dict:
        """Return the report's provenance: parameters, input files with version and sha256,
        package versions and the catalog used."""
        versions = {}
        for name in PACKAGES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = "niet geïnstalleerd"
        catalogs = []
        for source in self.reader.catalog.sources:
            p = Path(source)
            shipped = p.resolve() == Path(SHIPPED_CATALOG).resolve()
            catalogs.append({"bestand": "jeugdkit/catalog.toml (meegeleverd)" if shipped
                             else str(p), "sha256": sha256_file(p) if p.is_file() else None})
        return {
            # where the report is written is not an input: left out, so that a report
            # regenerated elsewhere is identical
            "parameters": {k: ("" if v is None else str(v))
                           for k, v in sorted((parameters or {}).items())
                           if k != "report_dir"},
            "periode": self.period.label,
            "peildatum": str(self.period.peildatum.date()),
            "invoerbestanden": self.input_files(),
            "pakketten": versions,
            "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
            "catalogus": catalogs,
            "instellingen": self.settings_path or "standaard (CBS)",
        }
