"""Benchmark: reading a GBAHUISHOUDENSBUS-shaped .sav of N rows.

Compares plain `pyreadstat.read_sav` of the same columns with the kit's cold read (conversion
to typed columns plus writing the Parquet cache) and warm read (from the cache). Each phase runs in
a fresh process so peak memory is its own (parent plus worker processes).

    python benchmarks/bench_read.py                 # 2,000,000 rows
    python benchmarks/bench_read.py --rows 500000 --workdir /tmp/jk-bench

Targets (issue 2): cold no slower than plain pyreadstat; warm at least 10 times faster than cold.
"""

from __future__ import annotations

import argparse
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


def phase(name: str, root: Path, cache: Path) -> dict:
    """Run one phase in this process and return its figures."""
    path = root / "Bevolking" / "GBAHUISHOUDENSBUS" / "GBAHUISHOUDENS2023BUSV1.sav"
    start = time.perf_counter()
    if name == "plain":
        frame, _ = pyreadstat.read_sav(str(path), usecols=COLUMNS)
    else:
        from jeugdkit.read import Reader, _shutdown_pools
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
    results = []
    for name in ("plain", "cold", "warm"):
        out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--workdir",
                              str(workdir), "--phase", name], check=True, capture_output=True,
                             text=True, env={**os.environ})
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\n{'phase':<8}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'peak MB':>10}{'frame MB':>10}")
    for r in results:
        rate = r["rows"] / r["seconds"]
        print(f"{r['phase']:<8}{r['rows']:>12,}{r['seconds']:>10.2f}{rate:>14,.0f}"
              f"{r['peak_mb']:>10.0f}{r['frame_mb']:>10.0f}")
    plain, cold, warm = (r["seconds"] for r in results)
    print(f"\ncold / plain = {cold / plain:.2f} (target <= 1.0); "
          f"cold / warm = {cold / warm:.1f} (target >= 10)")
    print(f"cores: {os.cpu_count()}, python {sys.version.split()[0]}, pandas {pd.__version__}, "
          f"pyreadstat {pyreadstat.__version__}")


if __name__ == "__main__":
    main()
