"""Benchmark `jeugdkit report`: one gemeente's report and every gemeente of a period.

    python benchmarks/bench_report.py --data-root /tmp/syn/ra [--cache-dir D] [--period 2023]
                                      [--gemeente CODE | --all] [--workers N] [--out DIR]

Runs :func:`jeugdkit.report.runner.run_reports` into a fresh folder and prints: the time of
the shared intermediates (population, history, panel; warm Parquet cache: run once before),
the time per gemeente (min, median, max over gemeenten), the wall time, gemeenten per hour,
youths per second, and memory: this process's peak (VmHWM), the largest peak of one
descendant (a worker or a notebook kernel) and the largest total resident memory of all
processes at once, sampled every 0.5 s from /proc (Linux).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _memory import vm_hwm_mb  # benchmarks/ is on sys.path


class ProcessSampler(threading.Thread):
    """Sample the memory of this process and all its descendants until stopped."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.stop = threading.Event()
        self.peak_one = 0.0
        self.peak_total = 0.0

    @staticmethod
    def _tree() -> list[int]:
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        me, found, frontier = os.getpid(), [], [os.getpid()]
        while frontier:
            p = frontier.pop()
            kids = [c for c, pp in parents.items() if pp == p]
            found += kids
            frontier += kids
        return [me, *found]

    @staticmethod
    def _rss(pid: int) -> tuple[float, float]:
        rss = hwm = 0.0
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
        except OSError:
            pass
        return rss, hwm

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0.0
            for pid in self._tree():
                rss, hwm = self._rss(pid)
                total += rss
                self.peak_one = max(self.peak_one, hwm)
            self.peak_total = max(self.peak_total, total)
            self.stop.wait(self.interval)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--cache-dir")
    ap.add_argument("--period", default="2023")
    which = ap.add_mutually_exclusive_group()
    which.add_argument("--gemeente", help="default: the largest gemeente")
    which.add_argument("--all", action="store_true", help="every gemeente of the period")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", help="report folder (default: a fresh temporary folder)")
    args = ap.parse_args()

    from jeugdkit.report import Study
    from jeugdkit.report.runner import run_reports

    out = Path(args.out or tempfile.mkdtemp(prefix="bench-report-"))
    study = Study(args.data_root, args.period, cache_dir=args.cache_dir, report_dir=out)
    t = time.perf_counter()
    study.prepare()
    prepare = time.perf_counter() - t
    youths = len(study.population().frame)
    if args.all:
        gemeenten = "all"
    elif args.gemeente:
        gemeenten = [args.gemeente]
    else:
        counts = study.population().frame["gemeentecode"].astype(str).value_counts()
        gemeenten = [counts.index[0]]
    sampler = ProcessSampler()
    sampler.start()
    t = time.perf_counter()
    summary = run_reports(args.data_root, args.period, gemeenten=gemeenten, out=out,
                          cache_dir=args.cache_dir, workers=args.workers,
                          ledger=out / "jeugdkit-ledger",  # a fresh period ledger
                          log=lambda *a: print(*a, flush=True))
    wall = time.perf_counter() - t
    sampler.stop.set()
    sampler.join()
    per = [o.seconds for o in summary.outcomes if o.job.kind == "gemeente"
           and o.status == "klaar"]
    n = len(per)
    print()
    print(f"data root              {args.data_root} (period {study.period.label}, "
          f"{youths:,} youths 0-22)")
    print(f"shared intermediates   {prepare:8.1f} s (first Study.prepare; run_reports finds "
          "them cached)")
    print(f"gemeenten              {n} done, {len(summary.failed)} failed, "
          f"workers {args.workers or os.cpu_count()}")
    if per:
        print(f"per gemeente           min {min(per):.0f} s, median "
              f"{statistics.median(per):.0f} s, max {max(per):.0f} s (notebooks 02-05 and "
              "the HTML)")
    print(f"wall time              {wall:8.1f} s ({3600 * n / wall:.0f} gemeenten per hour)")
    print(f"youths per second      {youths * n / wall:,.0f} (youths x gemeenten / wall time)")
    print(f"peak memory            this process {vm_hwm_mb():.0f} MB; largest descendant "
          f"{sampler.peak_one:.0f} MB; all processes at once {sampler.peak_total:.0f} MB")
    print(f"reports in             {out}")
    if summary.failed:
        for o in summary.failed:
            print(f"FAILED {o.job.gemeente}: {o.message.splitlines()[0]}")


if __name__ == "__main__":
    main()
