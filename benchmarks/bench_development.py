"""Benchmark the Ontwikkeling: the counts of every year, then the series of many gemeenten.

    python benchmarks/bench_development.py --data-root demo/ra [--cache-dir D]
                                           [--period 2023] [--gemeenten N]

Counts every year up to the period once (one population per year, as ``Study.development``
does; warm Parquet cache: run once before), then releases the series of the first N gemeenten
one after another into one fresh set of period ledgers (as ``jeugdkit report --all`` does), and
prints: the counting time with youths per second, the release time per gemeente (first, median,
last five), whether it grows with the ledgers, and this process's peak memory (VmHWM).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _memory import vm_hwm_mb  # benchmarks/ is on sys.path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--period", default="2023")
    ap.add_argument("--gemeenten", type=int, default=25)
    args = ap.parse_args()

    from jeugdkit.development import development_data, release_development
    from jeugdkit.output.period import PeriodLedger
    from jeugdkit.read import Reader
    from jeugdkit.tables import comparison_group, default_reference_path, read_reference

    reader = Reader(args.data_root, cache_dir=args.cache_dir)
    year = int(args.period[:4])
    years = [y for y in reader.inventory["JGDHULPBUS"].years if y <= year]
    t0 = time.perf_counter()
    data = development_data(reader, years, today=year)
    counting = time.perf_counter() - t0
    youths = sum(int(y.counts["aantal"].sum()) for y in data.years)
    print(f"counting {len(data.years)} years ({years[0]}-{years[-1]}): {counting:.1f} s, "
          f"{youths:,} youth-years, {youths / counting:,.0f} youth-years/s")

    ref = read_reference(default_reference_path(args.data_root))
    codes = sorted(ref["gemeentecode"])[: args.gemeenten]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for code in codes:
            (label, group), = comparison_group(ref, code).items()
            t = time.perf_counter()
            dev = release_development(
                data, gemeente=code, group=group, group_label=label,
                ledger_for=lambda lab: PeriodLedger.for_period(Path(tmp) / "ledger", lab),
                out=Path(tmp) / code)
            times.append(time.perf_counter() - t)
            assert len(dev.table)
    last = times[-5:]
    print(f"series of {len(times)} gemeenten into one set of ledgers: total {sum(times):.1f} s; "
          f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s, "
          f"last five {statistics.mean(last):.2f} s on average")
    print(f"peak memory (VmHWM): {vm_hwm_mb():.0f} MB")


if __name__ == "__main__":
    main()
