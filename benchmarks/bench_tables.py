"""Benchmark the trap-1 release: time and peak memory for one gemeente and for all gemeenten.

    python benchmarks/bench_tables.py --data-root /tmp/syn/ra [--cache-dir D] [--period 2023]
                                      [--gemeente CODE] [--all]

Builds the population (warm cache: run once before), then times ``release_tables`` for one
gemeente with its stedelijkheid group (default: the largest gemeente) and, with ``--all``, for
every gemeente. Peak memory is VmHWM from /proc/self/status. Prints figures and the share of
suppressed counts in the published files.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from _memory import vm_hwm_mb  # benchmarks/ is on sys.path


def suppressed_share(released: dict) -> str:
    parts = []
    for name, frame in released.items():
        cols = [c for c in frame.columns if c == "aantal" or c.endswith(("_0_17", "_12_22"))
                or c in ("beginstand", "instroom", "uitstroom", "eindstand")]
        if cols:
            values = pd.concat([frame[c] for c in cols])
            parts.append(f"{name} {values.isna().mean():.0%}")
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--cache-dir")
    ap.add_argument("--period", default="2023")
    ap.add_argument("--gemeente")
    ap.add_argument("--all", action="store_true", help="also release every gemeente")
    args = ap.parse_args()
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    from jeugdkit.scope import Scope
    from jeugdkit.tables import (
        comparison_group,
        default_reference_path,
        read_reference,
        release_tables,
    )
    reader = Reader(args.data_root, cache_dir=args.cache_dir)
    t0 = time.perf_counter()
    pop = build_population(reader, args.period)
    t_pop = time.perf_counter() - t0
    n = len(pop.frame)
    code = args.gemeente or str(pop.frame["gemeentecode"].astype(str).value_counts().index[0])
    ref = read_reference(default_reference_path(reader.data_root))
    scope = Scope.from_groups(code, comparison_group(ref, code, by="stedelijkheid"))
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        rel = release_tables(pop, Path(tmp) / "one", scope=scope)
        t_one = time.perf_counter() - t1
        print(f"population {args.period}: {n:,} youths in {t_pop:.1f} s")
        print(f"release one gemeente ({code} + group + NL): {t_one:.1f} s, "
              f"{n / t_one:,.0f} youths/s; suppressed: {suppressed_share(rel)}")
        if args.all:
            t2 = time.perf_counter()
            rel = release_tables(pop, Path(tmp) / "all")
            t_all = time.perf_counter() - t2
            print(f"release every gemeente: {t_all:.1f} s; suppressed: {suppressed_share(rel)}")
    print(f"peak memory (VmHWM): {vm_hwm_mb():.0f} MB")


if __name__ == "__main__":
    main()
