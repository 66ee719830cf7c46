"""Benchmark `jeugdkit trajecten`: time, peak memory and rows/s of a full run, warm cache.

    python benchmarks/bench_trajectories.py [--data-root /tmp/syn/ra] [--period 2023]
                                            [--gemeente CODE] [--out /tmp/jeugdkit-bench-traj]

Runs the whole command (population, history of year files, every indicator, output control
and the export log) in this process after one warm-up run that fills the Parquet cache. Peak
memory is VmHWM from /proc/self/status (Linux). Rows/s counts the JGDHULPBUS records read.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _memory import vm_hwm_mb  # benchmarks/ is on sys.path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", default="/tmp/syn/ra")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--period", default="2023")
    parser.add_argument("--gemeente", default=None)
    parser.add_argument("--out", default="/tmp/jeugdkit-bench-traj")
    args = parser.parse_args()
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    from jeugdkit.scope import Scope
    from jeugdkit.trajectories import build_history, release_trajectories

    cache = args.cache_dir or str(Path(args.data_root).parent / "cache")
    figures = {}
    for label in ("warm-up", "timed"):
        reader = Reader(args.data_root, cache_dir=cache)
        t0 = time.perf_counter()
        pop = build_population(reader, args.period)
        t1 = time.perf_counter()
        hist = build_history(reader, pop.period)
        t2 = time.perf_counter()
        release_trajectories(pop, hist, args.out, scope=Scope(args.gemeente))
        t3 = time.perf_counter()
        rows = sum(r.rows for r in reader.log if r.dataset == "JGDHULPBUS")
        figures[label] = {
            "population_s": round(t1 - t0, 2), "history_s": round(t2 - t1, 2),
            "release_s": round(t3 - t2, 2), "total_s": round(t3 - t0, 2),
            "jgdhulpbus_rows_read": rows, "trajecten_history": len(hist.trajecten),
            "years": hist.years, "youths": len(pop.frame),
            "rows_per_s": round(rows / max(t3 - t0, 1e-9)),
        }
    figures["peak_mb"] = round(vm_hwm_mb(), 1)
    t = figures["timed"]
    print(f"jeugdkit trajecten {args.period} on {args.data_root}: {t['total_s']} s "
          f"(population {t['population_s']} s, history {t['history_s']} s, release "
          f"{t['release_s']} s), peak {figures['peak_mb']} MB, "
          f"{t['jgdhulpbus_rows_read']:,} JGDHULPBUS rows ({t['rows_per_s']:,} rows/s), "
          f"{t['trajecten_history']:,} trajecten in {t['years']}")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
