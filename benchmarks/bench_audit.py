"""Benchmark `jeugdkit audit`: the exact LP over one run's export log and over the union of two.

Releases the trap-1 tables of all gemeenten and of one gemeente (with its stedelijkheid group)
into two folders, then audits each alone and both together. Prints time, peak memory (VmHWM)
and audited cells per second, and how many cells the union finds too narrow.

    python benchmarks/bench_audit.py [--persons 5000] [--gemeenten 8] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _memory import vm_hwm_mb  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5_000)
    parser.add_argument("--gemeenten", type=int, default=8)
    parser.add_argument("--workdir", help="keep the tree and outputs here (default: temporary)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import synthetic
    from jeugdkit.output.union import audit_exports
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    from jeugdkit.tables import comparison_group, release_tables

    work = Path(args.workdir or tempfile.mkdtemp(prefix="jeugdkit-bench-audit-"))
    if not (work / "truth.json").is_file():
        synthetic.generate(work, persons=args.persons, gemeenten=args.gemeenten,
                           years=(2019, 2024))
    pop = build_population(Reader(work / "ra", cache_dir=work / "cache"), "2023")
    code = pop.frame["gemeentecode"].astype(str).value_counts().index[len(
        pop.frame["gemeentecode"].unique()) // 2]
    group = comparison_group(pd.read_csv(work / "gemeenten.csv", dtype=str), code)
    release_tables(pop, work / "alle", figures=False)
    release_tables(pop, work / "gemeente", gemeente=code, groups=group, figures=False)
    print(f"tree: {args.persons:,} persons, {args.gemeenten} gemeenten; gemeente {code}, "
          f"group {next(iter(group))} ({len(next(iter(group.values())))} gemeenten)")
    print(f"{'audited':<28} {'cells':>7} {'too narrow':>10} {'seconds':>8} {'cells/s':>8} "
          f"{'peak MB':>8}")
    for label, folders in (("all gemeenten", ["alle"]), (f"gemeente {code}", ["gemeente"]),
                           ("union of both", ["alle", "gemeente"])):
        start = time.perf_counter()
        bounds = audit_exports([work / f for f in folders])
        seconds = time.perf_counter() - start
        print(f"{label:<28} {len(bounds):>7,} {int((~bounds['ok']).sum()):>10,} "
              f"{seconds:>8.1f} {len(bounds) / seconds:>8.0f} {vm_hwm_mb():>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
