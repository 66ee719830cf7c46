"""Benchmark the synthetic generator: persons per second and peak memory per size.

    python benchmarks/bench_synthetic.py                    # 100,000 and 1,000,000 persons
    python benchmarks/bench_synthetic.py --sizes 100000     # one size

Each size runs in a fresh Python process so that its peak resident memory (ru_maxrss) is its own.
Targets: 100,000 persons in under 60 s, 1,000,000 in under 10 minutes, memory at most linear.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time, tempfile
import synthetic
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    world = synthetic.simulate(persons=n, seed=1)
    t1 = time.perf_counter()
    written = synthetic.write(world, out)
    t2 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"persons": n, "simulate_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0,
                  "files": len(written["files"]), "peak_rss_mb": rss_mb,
                  "persons_ever": int(world.pop.n_persons),
                  "trajecten": int(len(world.jeugd.trajecten))}))
"""


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = p.parse_args(argv)
    rows = []
    for n in args.sizes:
        r = run(n)
        r["persons_per_s"] = n / r["total_s"]
        r["rss_mb_per_1000_persons"] = r["peak_rss_mb"] / (n / 1000)
        rows.append(r)
        print(f"{n:>10,} persons: simulate {r['simulate_s']:6.1f} s, write {r['write_s']:6.1f} s, "
              f"total {r['total_s']:6.1f} s, {r['persons_per_s']:8,.0f} persons/s, "
              f"peak RSS {r['peak_rss_mb']:7.0f} MB ({r['rss_mb_per_1000_persons']:.1f} MB per "
              f"1,000 persons), {r['files']} files, {r['trajecten']:,} trajecten", flush=True)
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
