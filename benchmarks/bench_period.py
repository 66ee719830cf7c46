"""The period ledger: what the union of a period's outputs reveals, with and without it.

Releases, as separate runs of one period, the tables of every gemeente and the tables of a
gemeente with its comparison group (by stedelijkheid and by jeugdregio) and of a second
gemeente; once with every run protected on its own, once with the period ledger. For each it
prints the seconds and peak memory of every run, the cells suppressed, and the attacker's LP
over the union of the export folders (``jeugdkit audit``): cells audited, cells narrower than
the protection width, seconds.

    python benchmarks/bench_period.py                       # 20,000 persons, 25 gemeenten, seed 3
    python benchmarks/bench_period.py --persons 5000 --gemeenten 8 --seed 7

Figures are printed, never asserted (CI does not run this).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import pandas as pd

import synthetic
from jeugdkit.output import ExportSession, PeriodLedger
from jeugdkit.output.union import audit_exports
from jeugdkit.population import build_population
from jeugdkit.read import Reader
from jeugdkit.tables import comparison_group, release_tables


def suppressed(folder: Path) -> int:
    n = 0
    for csv in (folder / "log").glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "aantal" in frame.columns:
            n += int((frame["aantal"] == "").sum())
    return n


def run(pop, ref, codes, out: Path, ledger) -> list[dict]:
    rows = []
    plan = [("alle", None, None), (f"{codes[0]}-stedelijkheid", codes[0], "stedelijkheid"),
            (f"{codes[0]}-jeugdregio", codes[0], "jeugdregio"),
            (f"{codes[1]}-stedelijkheid", codes[1], "stedelijkheid")]
    for name, code, by in plan:
        tracemalloc.start()
        t = time.perf_counter()
        session = ExportSession(name, ledger=ledger, run_timestamp="bench")
        if code is None:
            release_tables(pop, out / name, run=session, figures=False)
        else:
            release_tables(pop, out / name, gemeente=code,
                           groups=comparison_group(ref, code, by=by), run=session,
                           figures=False)
        seconds = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows.append({"run": name, "seconds": round(seconds, 1), "peak MB": round(peak),
                     "suppressed cells in files": suppressed(out / name)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--gemeenten", type=int, default=25)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--work", default=None, help="folder for the tree (default: a temp folder)")
    ap.add_argument("--population", action="append", default=None,
                    help="audit only this population (repeatable; default: all)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-period-"))
    if not (work / "ra").exists():
        synthetic.generate(work, persons=args.persons, gemeenten=args.gemeenten,
                           years=(2021, 2024), seed=args.seed)
    pop = build_population(Reader(work / "ra", cache_dir=work / "cache"), "2023")
    ref = pd.read_csv(work / "gemeenten.csv", dtype=str)
    codes = list(pop.frame["gemeentecode"].astype(str).value_counts().index[[3, 10]])
    print(f"tree: {args.persons} persons, {args.gemeenten} gemeenten, seed {args.seed}; "
          f"period 2023; gemeenten {codes}")
    for mode in ("alone", "ledger"):
        out = work / f"out-{mode}"
        shutil.rmtree(out, ignore_errors=True)
        ledger = PeriodLedger(out / "_ledger") if mode == "ledger" else None
        rows = run(pop, ref, codes, out, ledger)
        how = "protected on its own" if mode == "alone" else "against the period ledger"
        print(f"\n== every run {how}")
        print(pd.DataFrame(rows).to_string(index=False))
        t = time.perf_counter()
        bounds = audit_exports([out], populations=args.population)
        seconds = time.perf_counter() - t
        print(f"union audit: {len(bounds)} cells, {int((~bounds['ok']).sum())} narrower than "
              f"the protection width, {seconds:.1f} s ({len(bounds) / max(seconds, 1e-9):.0f} "
              "cells/s)")
        if ledger is not None:
            info = ledger.summary()
            print(f"ledger: {info['cells']} cells, {info['suppressed']} suppressed, "
                  f"{info['outputs']} tables of {info['runs']} runs, "
                  f"{ledger.path.stat().st_size / 2**20:.1f} MB on disk")


if __name__ == "__main__":
    main()
