"""Benchmark: reading a GBAHUISHOUDENSBUS-shaped .sav of N rows.

Compares plain `pyreadstat.read_sav` of the same columns with the kit's cold read (conversion
to typed columns plus writing the Parquet cache) and warm read (from the cache). Each phase runs in
a fresh process so peak memory is its own (parent plus worker processes); imports are not timed.

The warm read checks that the cache matches its source (sampled fingerprint of the .sav, row
count, Parquet page checksums, a digest per column). `warm-nocheck` is the same read with those
checks patched out; both run --warm-runs times (5), alternating, and the fastest of each is
shown, with the medians. The check
breakdown times each part on its own (best of five, in one process), beside a full SHA-256 of the
.sav that the kit does not do.

    python benchmarks/bench_read.py                 # 2,000,000 rows
    python benchmarks/bench_read.py --rows 500000 --workdir /tmp/jk-bench

Targets (issue 2): cold no slower than plain pyreadstat; warm at least 10 times faster than cold.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from _memory import vm_hwm_mb  # benchmarks/ is on sys.path

COLUMNS = ["RINPERSOONS", "RINPERSOON", "DATUMAANVANGHH", "DATUMEINDEHH", "HUISHOUDNR", "TYPHH",
           "PLHH", "AANTALPERSHH", "AANTALKINDHH"]
LOGICAL = ["begin", "eind", "huishoudnr", "typhh", "plhh", "aantalpershh", "aantalkindhh"]


def write_file(path: Path, rows: int, seed: int = 1) -> None:
    """Write a household-spell file shaped like GBAHUISHOUDENSBUS."""
    rng = np.random.default_rng(seed)
    persons = rng.integers(0, 10**9, rows // 4 + 1)
    rin = np.char.zfill(np.repeat(persons, 4)[:rows].astype(str), 9)
    begin = pd.Timestamp("1995-01-01") + pd.to_timedelta(rng.integers(0, 10000, rows), "D")
    length = pd.to_timedelta(rng.integers(1, 4000, rows), "D")
    end = (begin + length).strftime("%Y%m%d").to_numpy(dtype=object)
    end[rng.random(rows) < 0.3] = "20501231"
    frame = pd.DataFrame({
        "RINPERSOONS": np.where(rng.random(rows) < 0.999, "R", "S").astype(object),
        "RINPERSOON": rin.astype(object),
        "DATUMAANVANGHH": begin.strftime("%Y%m%d").to_numpy(dtype=object),
        "DATUMEINDEHH": end,
        "HUISHOUDNR": np.char.zfill(rng.integers(0, 10**11, rows).astype(str), 12).astype(object),
        "TYPHH": rng.integers(1, 9, rows).astype(str).astype(object),
        "PLHH": np.char.rjust(rng.integers(1, 11, rows).astype(str), 2).astype(object),
        "AANTALPERSHH": rng.integers(1, 8, rows).astype(float),
        "AANTALKINDHH": rng.integers(0, 5, rows).astype(float),
    })
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_sav(frame, path)


def peak_mb() -> float:
    """Return the peak resident memory of this process plus its live worker processes, in MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its
    parent's peak.
    """
    from jeugdkit import read
    workers = [pid for pool in read._POOLS.values() for pid in pool._processes]
    return vm_hwm_mb() + sum(vm_hwm_mb(pid) for pid in workers)


def _without_checks(cache: Path) -> None:
    """Patch the reader back to trusting its cache: stored fingerprint, no verification."""
    import pyarrow.parquet as pq

    from jeugdkit import read
    (cache_file,) = cache.glob("*.parquet")
    stored = json.loads(pq.read_schema(cache_file).metadata[read._META_KEY])["fingerprint"]
    read._source_fingerprint = lambda path, size: stored
    read._load_cache = lambda cache_file, columns, meta, rows: pq.read_table(
        cache_file, columns=columns).to_pandas()


def best(run, times: int = 5) -> float:
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def check_parts(path: Path, cache: Path) -> dict:
    """Return the seconds of each part of the cache check, and of a full SHA-256 of the .sav."""
    import pyarrow.parquet as pq

    from jeugdkit import read
    (cache_file,) = cache.glob("*.parquet")
    frame = pq.read_table(cache_file).to_pandas()

    def full_sha256():
        with open(path, "rb") as fh:
            hashlib.file_digest(fh, "sha256")
    return {
        "sampled fingerprint of the .sav (kit)": best(lambda: read._source_id(path)),
        "full SHA-256 of the .sav (not used)": best(full_sha256),
        "Parquet read, no page checksums": best(lambda: pq.read_table(cache_file).to_pandas()),
        "Parquet read, page checksums verified": best(
            lambda: pq.read_table(cache_file, page_checksum_verification=True).to_pandas()),
        "digest of every column's values": best(
            lambda: [read._column_digest(frame[c]) for c in frame.columns]),
    }


def phase(name: str, root: Path, cache: Path) -> dict:
    """Run one phase in this process and return its figures."""
    path = root / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
    if name == "check":
        return {"phase": name, "parts": check_parts(path, cache)}
    if name != "plain":  # imported before the clock starts, as pyreadstat is for plain
        from jeugdkit.read import Reader, _shutdown_pools
    if name == "warm-nocheck":
        _without_checks(cache)
    start = time.perf_counter()
    if name == "plain":
        frame, _ = pyreadstat.read_sav(str(path), usecols=COLUMNS)
    else:
        reader = Reader(root, cache_dir=cache)
        frame = reader.read("GBAHUISHOUDENSBUS", LOGICAL)
    seconds = time.perf_counter() - start
    result = {"phase": name, "rows": len(frame), "seconds": seconds, "peak_mb": peak_mb(),
              "frame_mb": frame.memory_usage(deep=True).sum() / 2**20}
    if name != "plain":
        _shutdown_pools()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.gettempdir()) / f"jeugdkit-bench-read-{args.rows}"
    root, cache = workdir / "ra", workdir / "cache"
    if args.phase:
        print(json.dumps(phase(args.phase, root, cache)))
        return

    path = root / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
    if not path.exists():
        start = time.perf_counter()
        write_file(path, args.rows)
        print(f"wrote {path} ({args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MB) "
              f"in {time.perf_counter() - start:.1f} s")
    for leftover in cache.glob("*"):
        leftover.unlink()

    def run(name: str) -> dict:
        out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--workdir",
                              str(workdir), "--phase", name], check=True, capture_output=True,
                             text=True, env={**os.environ})
        return json.loads(out.stdout.strip().splitlines()[-1])

    results = [run("plain"), run("cold")]
    warm_runs: dict[str, list] = {"warm": [], "warm-nocheck": []}
    for _ in range(args.warm_runs):
        for name in warm_runs:
            warm_runs[name].append(run(name))
    results += [min(runs, key=lambda r: r["seconds"]) for runs in warm_runs.values()]
    print(f"\n{'phase':<14}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'peak MB':>10}"
          f"{'frame MB':>10}")
    for r in results:
        rate = r["rows"] / r["seconds"]
        print(f"{r['phase']:<14}{r['rows']:>12,}{r['seconds']:>10.2f}{rate:>14,.0f}"
              f"{r['peak_mb']:>10.0f}{r['frame_mb']:>10.0f}")
    plain, cold, warm, nocheck = (r["seconds"] for r in results)
    print(f"\ncold / plain = {cold / plain:.2f} (target <= 1.0); "
          f"cold / warm = {cold / warm:.1f} (target >= 10)")
    medians = {n: float(np.median([r["seconds"] for r in runs])) for n, runs in warm_runs.items()}
    print(f"cache check, fastest: warm {warm:.3f} s against {nocheck:.3f} s without it "
          f"({warm - nocheck:+.3f} s); medians {medians['warm']:.3f} s against "
          f"{medians['warm-nocheck']:.3f} s ({medians['warm'] - medians['warm-nocheck']:+.3f} s)")
    for n, runs in warm_runs.items():
        print(f"  {n} runs: " + ", ".join(f"{r['seconds']:.3f}" for r in runs))
    print("\ncheck part                                    seconds")
    for part, seconds in run("check")["parts"].items():
        print(f"{part:<44}{seconds:>9.3f}")
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, pandas {pd.__version__}, "
          f"pyreadstat {pyreadstat.__version__}")


if __name__ == "__main__":
    main()
