"""Benchmark: the kit's secondary cell suppression against tau-Argus (pytauargus) MOD and OPT.

Three frequency tables with all margins, from the synthetic counts of bench_outputcontrol.py
(``national_table``, seed 2023; the first n gemeenten in code order):

a. gemeente (25) x hulpvorm (4), youths aged 18-22 (leeftijd L3): 26 x 5 = 130 cells;
b. gemeente (60) x leeftijd (4) x geslacht (2): 61 x 5 x 3 = 915 cells;
c. gemeente (342) x leeftijd (4) x geslacht (2): 343 x 5 x 3 = 5,145 cells.

Each table is protected by the kit (``ExportSession.freq_table``; with ``OutputControl``'s
``complements`` setting, when the kit has it, once per method) and by tau-Argus's modular
(MOD, HiTaS) and optimal (OPT) secondary suppression through pytauargus (the tau-Argus engine
with the HiGHS solver, driven by a tau-Argus batch file), with the cell value as cost
(tau-Argus's default) and with unity cost (the number of cells). Every method runs in its own
process (peak memory is that process's VmHWM, which includes the Python interpreter, numpy and
pandas, see the baseline line) under a time limit: a method still running after TIME_LIMIT
seconds is stopped and reported as not finished.

tau-Argus settings, chosen to ask at least what the kit asks:

- tabular input (``<OPENTABLEDATA>``: one row per leaf cell with the count as response and as
  frequency, margins recomputed by ``<READTABLE> 1``), the natural route for counts that
  exist already (the microdata route of ``pytauargus.protect`` would need one record per
  youth, and ``<freq>`` as response is not supported there);
- primary rule ``FREQ(10,30)``: a cell with frequency 1..9 is unsafe. A cell with count 0 is
  *empty* for tau-Argus: never unsafe, never a secondary suppression, always published (the
  kit's default, ``suppress_sampling_zeros=False``, also publishes it, but may choose a 0 cell
  as a complement);
- protection levels: the 30% safety range of the FREQ rule is replaced, cell by cell, by
  a-priori protection levels (``<APRIORI>`` file, ``PL`` lines): lower ``min(x, 5)``, upper
  ``10 - min(x, 5)`` for a primary cell of count x. tau-Argus then demands an interval that
  contains ``[x - lower, x + upper]``, which is 10 wide: at least as strict as the kit's rule
  (any interval at least 10 wide) for primary cells. Unlike the kit, tau-Argus asks nothing of
  the interval of a *secondary* cell; the audit below holds both to the kit's rule and counts
  primary and secondary failures apart;
- MOD(1,5,1,1,1): at most 5 minutes per subtable, the two singleton options and the
  minimum-frequency option on (rtauargus's default MOD(1,5,1,0,0) chose 417 cells of value
  5,831 on table c, against 418 of 5,785 here); OPT(1,4): the engine's own limit of 4 minutes
  (on table d it did not end the run within TIME_LIMIT);
- cost: the response (cell value, tau-Argus's default) and ``-2`` (unity: every cell costs 1).
  tau-Argus scales the costs so that the largest cell costs 20,000 and rounds them to whole
  numbers, at least 1 (pytauargus passes the legacy front-end's maximum of 20,000): on table c
  every cell up to 30 costs 1, so OPT is optimal for the rounded costs only and MOD can beat
  it on the suppressed value.

Every pattern is then audited by the same LP, :func:`jeugdkit.output.audit.feasible_intervals`
over the table's additivity equations: published cells at their true values, suppressed cells
unknown and >= 0. Before that, tau-Argus's cells are mapped to the kit's by their codes
(``Total`` is ``totaal``), and the script stops if the cell sets, the values, the grand total,
the primary cells or their protection levels differ. tau-Argus's own audit of its patterns
(``Engine.audit``) is compared with this LP: the largest difference is printed.

Columns: prim/sec = primary and secondary suppressions; sup value / sec value = the sum of the
counts suppressed (all, secondary only); narrowest = narrowest LP interval among suppressed
cells (">=": a lower bound, see Table.audit); <10 p/s = primary/secondary cells whose
interval is narrower than 10; tau req = primary cells whose interval does not hold
``[x - lower, x + upper]`` (tau-Argus's requirement, not the kit's); 0s = cells with count 0
suppressed; seconds = the protection call (tau-Argus: the whole batch, from reading the
table to writing it); peak MB = VmHWM of the method's process.

Run: python benchmarks/bench_tauargus.py [--tables abcd]
(after ``pip install -c constraints.txt -e ".[compare]"``). Tables a-c take about 2 minutes
on a 2-core machine. Table d, the national table of bench_outputcontrol.py (gemeente x leeftijd
x geslacht x hulpvorm, 25,725 cells), is left out by default: tau-Argus MOD and OPT did not
finish it in 300 s each (the unity-cost runs are skipped there), and its audit covers a sample
of the suppressed cells; it takes about 12 minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _memory import vm_hwm_mb  # benchmarks/ is on sys.path
from bench_outputcontrol import national_table

from jeugdkit.output import ExportSession, feasible_intervals
from jeugdkit.output.structure import DimTree, cell_codes, equations, full_array
from jeugdkit.settings import OutputControl

TIME_LIMIT = 300
"""Seconds one method may take on one table (its process is stopped after that)."""
MIN_UNITS = 10
WIDTH = 10
TOL = 1e-6
EXACT_CELLS = 6_000
"""Tables up to this many cells get the exact LP for every suppressed cell (see Table.audit)."""
SAMPLE = 100
"""Larger tables: suppressed cells audited per pattern (a fixed random sample)."""
TABLES = {
    "a": {"title": "gemeente (25) x hulpvorm, ages 18-22", "gemeenten": 25,
          "dims": ["gemeente", "hulpvorm"], "leeftijd": "L3"},
    "b": {"title": "gemeente (60) x leeftijd x geslacht", "gemeenten": 60,
          "dims": ["gemeente", "leeftijd", "geslacht"]},
    "c": {"title": "gemeente (342) x leeftijd x geslacht", "gemeenten": 342,
          "dims": ["gemeente", "leeftijd", "geslacht"]},
    "d": {"title": "gemeente (342) x leeftijd x geslacht x hulpvorm", "gemeenten": 342,
          "dims": ["gemeente", "leeftijd", "geslacht", "hulpvorm"],
          "tau": ["tau MOD", "tau OPT"]},
}
"""Tables: title, the first n gemeenten, dimensions, optionally one age group and the
tau-Argus methods run (default: all of TAU_METHODS)."""
TAU_METHODS = {
    "tau MOD": ("MOD(1,5,1,1,1)", ""),
    "tau MOD unity": ("MOD(1,5,1,1,1)", "-2"),
    "tau OPT": ("OPT(1,4)", ""),
    "tau OPT unity": ("OPT(1,4)", "-2"),
}


def leaf_counts(table: str) -> pd.DataFrame:
    """Return the leaf counts of a table (one row per leaf cell, zeros included)."""
    spec = TABLES[table]
    data = national_table()
    codes = sorted(data["gemeente"].unique())[: spec["gemeenten"]]
    data = data[data["gemeente"].isin(codes)]
    if "leeftijd" in spec:
        data = data[data["leeftijd"] == spec["leeftijd"]]
    return data.groupby(spec["dims"], as_index=False)["aantal"].sum()


def kit_methods() -> list[str]:
    """Return the kit's complement methods (one default run if it has no such setting)."""
    if "complements" in {f.name for f in dataclasses.fields(OutputControl)}:
        return ["greedy", "optimal"]
    return ["default"]


# -- the workers (one process per method and table) ---------------------------------------------
def run_kit(table: str, method: str) -> dict:
    leaf = leaf_counts(table)
    dims = TABLES[table]["dims"]
    settings = OutputControl() if method == "default" else OutputControl(complements=method)
    run = ExportSession(f"bench-{table}", settings=settings, run_timestamp="bench")
    t0 = time.perf_counter()
    frame = run.freq_table(leaf, dims, count="aantal", name=f"tabel_{table}", unit="jongeren",
                           population="jeugd-2023")
    seconds = time.perf_counter() - t0
    summary = run.outputs[f"tabel_{table}"].sdc["summary"]
    return {"codes": frame[dims].astype(str).values.tolist(),
            "value": [None if pd.isna(v) else int(v) for v in frame["aantal"]],
            "suppressed": frame["aantal"].isna().tolist(),
            "primary": summary["threshold"], "secondary": summary["secondary"],
            "seconds": seconds, "peak_mb": vm_hwm_mb()}


def run_tau(table: str, method: str, workdir: Path) -> dict:
    from pytauargus.engine import Engine
    from pytauargus.result import TableResult

    suppress, cost = TAU_METHODS[method]
    leaf = leaf_counts(table)
    dims = TABLES[table]["dims"]
    rows = [";".join([*map(str, r[:-1]), str(r[-1]), str(r[-1])])
            for r in leaf[[*dims, "aantal"]].itertuples(index=False)]
    (workdir / "tabel.tab").write_text("\n".join(rows) + "\n")
    meta = ['<SEPARATOR> ";"']
    for d in dims:
        meta += [d, "  <RECODEABLE>", '  <TOTCODE> "Total"']
    meta += ["aantal", "  <NUMERIC>", "  <DECIMALS> 0", "freq", "  <FREQUENCY>"]
    (workdir / "tabel.rda").write_text("\n".join(meta) + "\n")
    # a-priori protection levels of the primary cells; the parser checks the number of codes
    # on the first line and takes a numeric last field for a value, so the first line is a
    # status line for a cell that does not exist (ignored: ignore-errors is on)
    hst = [";".join(["XX"] * len(dims) + ["S"])]
    cells = Table(table)
    for i in np.flatnonzero(cells.primary):
        codes = ["Total" if c == "totaal" else c for c in cells.codes[i]]
        lower = min(int(cells.values[i]), WIDTH // 2)
        hst.append(";".join([*codes, "PL", str(lower), str(WIDTH - lower)]))
    (workdir / "tabel.hst").write_text("\n".join(hst) + "\n")
    out = workdir / "out.tab"
    spec = "".join(f'"{d}"' for d in dims)
    (workdir / "batch.arb").write_text("\n".join([
        f'<OPENTABLEDATA> "{workdir / "tabel.tab"}"',
        f'<OPENMETADATA> "{workdir / "tabel.rda"}"',
        f'<SPECIFYTABLE> {spec}|"aantal"||{cost}',
        f"<SAFETYRULE> FREQ({MIN_UNITS},30)",
        "<READTABLE> 1",
        f'<APRIORI> "{workdir / "tabel.hst"}",1,";",1,0',
        f"<SUPPRESS> {suppress}",
        f'<WRITETABLE> (1,5,SO+,"{out}")', ""]))
    engine = Engine()
    codes: list[int] = []
    # the engine raises only when OPT's solver fails (code > 1): record its code to report a
    # solution that is not proved optimal (pytauargus 0.6.0 keeps the controller in _hitas)

    class Recorder:
        """The engine's solver controller, recording what the optimal solver returns."""

        def __init__(self, inner):
            self.inner = inner

        def full_jj(self, **kwargs):
            codes.append(self.inner.full_jj(**kwargs))
            return codes[-1]

        def __getattr__(self, name):
            return getattr(self.inner, name)

    engine._hitas = Recorder(engine._hitas)
    t0 = time.perf_counter()
    engine.run_batch(workdir / "batch.arb")
    seconds = time.perf_counter() - t0
    peak = vm_hwm_mb()
    frame = TableResult(out, dims, "aantal").dataframe()
    # tau-Argus's own audit of its pattern (cell numbers are the rows of the written table)
    own = {r["cell"]: (r["min"], r["max"]) for r in engine.audit(0)}
    frame["own_lo"] = [own.get(i, (np.nan, np.nan))[0] for i in range(len(frame))]
    frame["own_hi"] = [own.get(i, (np.nan, np.nan))[1] for i in range(len(frame))]
    note = ""
    if codes and codes[-1] != 0:
        note = f"OPT returned {codes[-1]} ({engine._hitas.error_string(codes[-1])})"
    return {"codes": frame[dims].values.tolist(), "value": frame["aantal"].tolist(),
            "status": frame["status"].tolist(), "lower": frame["lower"].tolist(),
            "upper": frame["upper"].tolist(), "own_lo": frame["own_lo"].tolist(),
            "own_hi": frame["own_hi"].tolist(), "seconds": seconds, "peak_mb": peak,
            "note": note}


def worker(job: dict) -> None:
    if job["method"] == "baseline":
        leaf_counts(job["table"])
        result = {"peak_mb": vm_hwm_mb()}
    elif job["method"].startswith("tau"):
        result = run_tau(job["table"], job["method"], Path(job["workdir"]))
    else:
        result = run_kit(job["table"], job["method"])
    Path(job["result"]).write_text(json.dumps(result))


def run_job(table: str, method: str) -> dict | str:
    """Run one method on one table in its own process; return its result or why not."""
    with tempfile.TemporaryDirectory(prefix="bench-tau-") as tmp:
        job = {"table": table, "method": method, "workdir": tmp,
               "result": str(Path(tmp) / "result.json")}
        try:
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                                   json.dumps(job)], capture_output=True, text=True,
                                  timeout=TIME_LIMIT, cwd=tmp)  # tau-Argus logs to its cwd
        except subprocess.TimeoutExpired:
            return f"did not finish in {TIME_LIMIT} s"
        if proc.returncode != 0 or not Path(job["result"]).exists():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return f"failed: {lines[-1] if lines else proc.returncode}"
        return json.loads(Path(job["result"]).read_text())


# -- the comparison ----------------------------------------------------------------------------
class Table:
    """A table's cells (the kit's order: C order over codes, margins included) and equations."""

    def __init__(self, table: str):
        self.name = table
        self.dims = TABLES[table]["dims"]
        leaf = leaf_counts(table)
        self.trees = [DimTree.build(d, sorted(leaf[d].astype(str).unique())) for d in self.dims]
        arr = np.zeros([len(t.codes) - 1 for t in self.trees])
        index = [leaf[d].astype(str).map({c: i for i, c in enumerate(t.codes)}).to_numpy()
                 for d, t in zip(self.dims, self.trees)]
        np.add.at(arr, tuple(index), leaf["aantal"].to_numpy(dtype=float))
        self.values = full_array(self.trees, arr).ravel()
        self.codes = [tuple(c) for c in cell_codes(self.trees)]
        self.index = {c: i for i, c in enumerate(self.codes)}
        self.eqs = equations(self.trees)
        self.primary = (self.values > 0) & (self.values < MIN_UNITS)
        self.leaf_total = int(leaf["aantal"].sum())
        self.grand_total = self.index[tuple(t.total for t in self.trees)]
        assert self.values[self.grand_total] == self.leaf_total

    def cells_of(self, result: dict, label: str) -> np.ndarray:
        """Return the positions of a method's rows in the table's cells; fail on any mismatch."""
        codes = [tuple("totaal" if c == "Total" else str(c) for c in row)
                 for row in result["codes"]]
        missing = [c for c in codes if c not in self.index]
        pos = np.array([self.index.get(c, -1) for c in codes])
        if missing or len(codes) != len(self.codes) or len(set(pos.tolist())) != len(codes):
            raise SystemExit(f"{label}: {len(codes)} cells, {len(set(pos.tolist()))} distinct, "
                             f"{len(missing)} unknown (e.g. {missing[:3]}); the table has "
                             f"{len(self.codes)} cells")
        return pos

    def pattern_of_kit(self, result: dict, label: str) -> np.ndarray:
        pos = self.cells_of(result, label)
        sup = np.zeros(len(self.codes), dtype=bool)
        sup[pos] = result["suppressed"]
        shown = np.array([v is not None for v in result["value"]])
        if not np.array_equal(np.array(result["value"], dtype=float)[shown],
                              self.values[pos[shown]]):
            raise SystemExit(f"{label}: published counts differ from the table's")
        if (self.primary & ~sup).any():
            raise SystemExit(f"{label}: a cell below {MIN_UNITS} is published")
        if (int((sup & self.primary).sum()), int((sup & ~self.primary).sum())) != (
                result["primary"], result["secondary"]):
            raise SystemExit(f"{label}: its log counts other primary/secondary cells")
        return sup

    def pattern_of_tau(self, result: dict, label: str):
        """Return tau-Argus's suppressed cells and its own audit's (min, max) of each."""
        pos = self.cells_of(result, label)
        values = np.zeros(len(self.codes))
        values[pos] = result["value"]
        if not np.array_equal(values, self.values):
            bad = np.flatnonzero(values != self.values)[:3]
            raise SystemExit(f"{label}: values differ, e.g. {[self.codes[i] for i in bad]}")
        if values[self.grand_total] != self.leaf_total:
            raise SystemExit(f"{label}: grand total {values[self.grand_total]:g}, "
                             f"expected {self.leaf_total}")
        status = np.empty(len(self.codes), dtype=object)
        status[pos] = result["status"]
        if not np.array_equal(status == "U", self.primary):
            raise SystemExit(f"{label}: tau-Argus's unsafe cells are not the cells 1..9 "
                             f"({int((status == 'U').sum())} against {int(self.primary.sum())})")
        if (status[self.values == 0] != "E").any():
            raise SystemExit(f"{label}: a 0 cell is not empty for tau-Argus")
        lower, upper, own_lo, own_hi = (np.zeros(len(self.codes)) for _ in range(4))
        lower[pos], upper[pos] = result["lower"], result["upper"]
        if not (np.array_equal(lower[self.primary], self.lower_pl[self.primary])
                and np.array_equal(upper[self.primary], self.upper_pl[self.primary])):
            raise SystemExit(f"{label}: tau-Argus did not take the a-priori protection levels")
        own_lo[pos], own_hi[pos] = result["own_lo"], result["own_hi"]
        return (status == "U") | (status == "M"), own_lo, own_hi

    @property
    def lower_pl(self) -> np.ndarray:
        """tau-Argus's lower protection level of every primary cell (0 elsewhere)."""
        return np.where(self.primary, np.minimum(self.values, WIDTH // 2), 0.0)

    @property
    def upper_pl(self) -> np.ndarray:
        return np.where(self.primary, WIDTH - self.lower_pl, 0.0)

    def audit(self, sup: np.ndarray):
        """Return (min, max, exact) of the audited suppressed cells' LP intervals (NaN
        elsewhere).

        Up to EXACT_CELLS cells, both LPs are solved for every suppressed cell. Above, for a
        random sample of SAMPLE suppressed cells (the exact LP over ~12,000 unknowns takes
        about a second per cell): a cell whose neighbourhood LP (other unknowns at their true
        values) is already WIDTH wide gets those inner bounds (exact False: its true interval
        holds them), the rest the exact LP.
        """
        lower = np.where(sup, 0.0, self.values)
        upper = np.where(sup, np.inf, self.values)
        targets = np.flatnonzero(sup)
        if len(self.codes) <= EXACT_CELLS:
            lo, hi = feasible_intervals(self.values, self.eqs, lower, upper,
                                        targets=targets.tolist())
            return lo, hi, sup.copy()
        if len(targets) > SAMPLE:
            targets = np.sort(np.random.default_rng(0).choice(targets, SAMPLE, replace=False))
        return feasible_intervals(self.values, self.eqs, lower, upper, targets=targets.tolist(),
                                  need=np.full(len(self.codes), float(WIDTH)))


def figures(table: Table, sup: np.ndarray, audit, result: dict) -> dict:
    lo, hi, exact = audit
    width = hi - lo
    prim = sup & table.primary
    sec = sup & ~table.primary
    narrow = sup & (width < WIDTH - TOL)
    # tau-Argus's requirement: the interval holds [x - lower, x + upper] of every primary cell
    off = prim & ((lo > table.values - table.lower_pl + TOL)
                  | (hi < table.values + table.upper_pl - TOL))
    narrowest = "" if not sup.any() else f"{np.nanmin(width):g}"
    if sup.any() and not exact[np.nanargmin(np.where(sup, width, np.nan))]:
        narrowest = ">=" + narrowest  # inner bounds: the true interval may be wider
    return {"prim": int(prim.sum()), "sec": int(sec.sum()),
            "sup value": int(table.values[sup].sum()), "sec value": int(table.values[sec].sum()),
            "narrowest": narrowest,
            "<10 p/s": f"{int((narrow & prim).sum())}/{int((narrow & sec).sum())}",
            "tau req": int(off.sum()), "0s": int((sup & (table.values == 0)).sum()),
            "seconds": round(result["seconds"], 2), "peak MB": round(result["peak_mb"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", default="abc", help="which tables (default: abc; d is slow)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    try:
        import pytauargus
    except ImportError:
        raise SystemExit('pytauargus is missing: pip install -c constraints.txt -e ".[compare]"'
                         ) from None
    print(f"pytauargus {pytauargus.__version__} (engine {pytauargus.engine_meta()}); "
          f"time limit {TIME_LIMIT} s per method and table")
    pd.set_option("display.width", 160)
    for name in args.tables:
        table = Table(name)
        methods = [f"kit {m}" for m in kit_methods()] + TABLES[name].get("tau", list(TAU_METHODS))
        baseline = run_job(name, "baseline")
        print(f"\n({name}) {TABLES[name]['title']}: {len(table.codes):,} cells, "
              f"{int(table.primary.sum())} below {MIN_UNITS} (primary), "
              f"{int((table.values == 0).sum())} zero, total {table.leaf_total:,}; "
              f"worker baseline (imports + table) {baseline['peak_mb']:.0f} MB")
        rows, notes, audit_seconds, own_diff = [], [], 0.0, None
        for method in methods:
            result = run_job(name, method.removeprefix("kit "))
            if isinstance(result, str):
                rows.append({"method": method, "prim": result})
                continue
            label = f"({name}) {method}"
            if method.startswith("kit"):
                sup = table.pattern_of_kit(result, label)
            else:
                sup, own_lo, own_hi = table.pattern_of_tau(result, label)
                if result["note"]:
                    notes.append(f"{method}: {result['note']}")
            t0 = time.perf_counter()
            audit = table.audit(sup)
            audit_seconds += time.perf_counter() - t0
            if not method.startswith("kit"):
                exact = sup & audit[2]
                own_diff = max(own_diff or 0.0,
                               float(np.abs(audit[0] - own_lo)[exact].max(initial=0)),
                               float(np.abs(audit[1] - own_hi)[exact].max(initial=0)))
            rows.append({"method": method, **figures(table, sup, audit, result)})
        frame = pd.DataFrame(rows).set_index("method")
        counts = [c for c in frame.columns if c not in ("prim", "narrowest", "<10 p/s",
                                                       "seconds")]
        frame[counts] = frame[counts].astype("Int64")  # a row that did not finish: NA
        tau = frame[frame.index.str.startswith("tau") & frame["sec"].notna()]
        print(frame.astype(object).where(frame.notna(), "").to_string())
        if len(tau):
            best = {col: f"{tau[col].min():g} ({tau[col].idxmin()})"
                    for col in ("sec", "sup value", "sec value", "seconds", "peak MB")}
            print("best of tau-Argus: " + "; ".join(f"{k} {v}" for k, v in best.items()))
        for note in notes:
            print(note)
        which = ("every suppressed cell" if len(table.codes) <= EXACT_CELLS else
                 f"a sample of {SAMPLE} suppressed cells per pattern (narrowest, <10 and tau "
                 "req are over the sample)")
        print(f"LP audit of {which}: {audit_seconds:.1f} s")
        if own_diff is not None:
            print(f"largest difference between this LP and tau-Argus's own audit of its "
                  f"patterns: {own_diff:g}")


if __name__ == "__main__":
    main()
