"""Benchmark build_population: time and peak memory for one period, warm cache, fresh process.

    python benchmarks/bench_population.py [--sizes 100000 1000000] [--period 2023]
                                          [--work /tmp/jeugdkit-bench-pop]

Per size: generate the synthetic tree once into the work dir (if absent), warm the Parquet cache
with one build, then time build_population in a fresh process. Peak memory is that process's
VmHWM from /proc/self/status (Linux; ru_maxrss would carry across exec). Prints one line of
figures per size and a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from _memory import vm_hwm_mb  # benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent.parent


def child(root: str, cache: str, period: str) -> None:
    """Build once and print figures as JSON (runs in a fresh process)."""
    t0 = time.perf_counter()
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    t_import = time.perf_counter() - t0
    reader = Reader(root, cache_dir=cache)
    t1 = time.perf_counter()
    pop = build_population(reader, period)
    seconds = time.perf_counter() - t1
    f = pop.frame
    print(json.dumps({
        "seconds": round(seconds, 2), "import_seconds": round(t_import, 2),
        "peak_mb": round(vm_hwm_mb(), 1), "youths": len(f),
        "frame_mb": round(f.memory_usage(deep=True).sum() / 2**20, 1),
        "bytes_per_row": round(f.memory_usage(deep=True).sum() / max(len(f), 1), 1),
        "trajecten": len(pop.trajecten),
        "rows_read": {r.dataset: r.rows for r in reader.log},
        "cache": sorted({r.cache for r in reader.log}),
    }))


def run_child(root: Path, cache: Path, period: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(root), str(cache), period],
                         capture_output=True, text=True, cwd=HERE, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--period", default="2023")
    parser.add_argument("--work", default="/tmp/jeugdkit-bench-pop")
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "CACHE", "PERIOD"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = {}
    for size in args.sizes:
        base = Path(args.work) / f"p{size}"
        root, cache = base / "ra", base / "cache"
        if not root.exists():
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import synthetic; "
                            f"synthetic.generate({str(base)!r}, persons={size}, seed=1)"],
                           cwd=HERE, check=True)
            print(f"generated {size:,} persons in {time.perf_counter() - t0:.0f} s", flush=True)
        warm = run_child(root, cache, args.period)   # fills the cache
        res = run_child(root, cache, args.period)    # timed, warm cache, fresh process
        res["cold_seconds"] = warm["seconds"]
        results[size] = res
        print(f"{size:>9,} persons: {res['youths']:,} youths, build {res['seconds']} s "
              f"(cold {warm['seconds']} s), peak {res['peak_mb']:,} MB, frame "
              f"{res['frame_mb']} MB ({res['bytes_per_row']} B/row), cache {res['cache']}",
              flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
