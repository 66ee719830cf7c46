"""Damage a cache entry at random and count what the reader serves.

Builds a 2,000-row GBAHUISHOUDENSBUS file, caches it, then per trial overwrites random bytes of
the cache file (one byte, or a run of 64) with random values and reads again. Each outcome is
counted: the right frame and report from the cache (the damage hit bytes a read does not use),
the right frame after a rebuild with or without a warning, a wrong frame or report served
(silently wrong), or an exception.

    python benchmarks/fuzz_cache.py                 # 500 trials of each kind
    python benchmarks/fuzz_cache.py --trials 2000 --seed 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ for the tree builder
from jeugdkit.read import Reader  # noqa: E402
from tests.test_read import HH_COLUMNS, write_households  # noqa: E402


def trial(root: Path, cache: Path, truth: pd.DataFrame, stats: dict) -> str:
    reader = Reader(root, cache_dir=cache, processes=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = reader.read("GBAHUISHOUDENSBUS", HH_COLUMNS)
        except Exception as exc:  # noqa: BLE001 - counting every kind is the point
            return f"exception ({type(exc).__name__})"
    if not frame.equals(truth) or reader.log[-1].columns != stats:
        return "WRONG frame or report served"
    state = reader.log[-1].cache
    if state == "hit":
        return "right, from the cache"
    return f"right, rebuilt {'with' if caught else 'without'} a warning"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="jeugdkit-fuzz-"))
    root, cache = tmp / "ra", tmp / "cache"
    write_households(root)
    plain = Reader(root, use_cache=False, processes=1)
    truth = plain.read("GBAHUISHOUDENSBUS", HH_COLUMNS)
    stats = plain.log[-1].columns
    Reader(root, cache_dir=cache, processes=1).read("GBAHUISHOUDENSBUS", HH_COLUMNS)
    (cache_file,) = cache.glob("*.parquet")
    good = cache_file.read_bytes()
    start = time.perf_counter()
    for width in (1, 64):
        counts: Counter = Counter()
        for _ in range(args.trials):
            data = bytearray(good)
            at = int(rng.integers(0, len(data) - width))
            data[at:at + width] = rng.bytes(width)
            if data == good:
                continue
            cache_file.write_bytes(bytes(data))
            counts[trial(root, cache, truth, stats)] += 1
        print(f"\n{args.trials} trials, {width} random byte(s) overwritten in a "
              f"{len(good):,}-byte cache file")
        for outcome, n in sorted(counts.items()):
            print(f"  {outcome:<40}{n:>6}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
