"""Benchmark the full deep dive of one period: time per stage and peak memory.

    python benchmarks/bench_deepdive.py --data-root R [--cache-dir C] [--period 2023]
                                        [--gemeente CODE] [--replicates 200] [--no-panel]
                                        [--out /tmp/jeugdkit-bench-deepdive]

A 1,000,000-person tree: ``python -m synthetic --out /tmp/syn1m --persons 1000000`` (about 5
minutes, 5 GB), then ``--data-root /tmp/syn1m/ra``. Run with a warm Parquet cache (run once
first) to time the analysis rather than the .sav conversion. Stages: population of the period,
panel populations (one per year), model frame, O/E (two logits), funnels, gemeente effects
(AbsorbingLS + logit), decomposition (bootstrap), panel (PanelOLS), release (output control and
files). Peak memory is VmHWM from /proc/self/status (the whole process).
"""

from __future__ import annotations

import argparse
import json
import time

from _memory import vm_hwm_mb  # benchmarks/ is on sys.path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--cache-dir")
    ap.add_argument("--period", default="2023")
    ap.add_argument("--gemeente", help="default: the largest gemeente")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--no-panel", action="store_true")
    ap.add_argument("--out", default="/tmp/jeugdkit-bench-deepdive")
    args = ap.parse_args()

    from jeugdkit.deepdive import build_panel, release_deep_dive
    from jeugdkit.deepdive.decompose import decompose
    from jeugdkit.deepdive.effects import gemeente_effects
    from jeugdkit.deepdive.funnel import funnel
    from jeugdkit.deepdive.model import LEVELS, model_frame
    from jeugdkit.deepdive.oe import observed_vs_expected
    from jeugdkit.deepdive.panel import wijkteam_panel
    from jeugdkit.deepdive.release import DeepDive
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader

    times = {}
    t = time.perf_counter()

    def lap(name):
        nonlocal t
        now = time.perf_counter()
        times[name] = round(now - t, 2)
        t = now

    reader = Reader(args.data_root, cache_dir=args.cache_dir)
    pop = build_population(reader, args.period)
    lap("population")
    panel = None
    if not args.no_panel:
        years = [y for y in reader.inventory["JGDHULPBUS"].years
                 if y <= pop.period.peildatum.year]
        panel = build_panel(reader, years, classification_year=pop.classification_year)
        lap("panel_populations")
    t_analysis = time.perf_counter()
    mf = model_frame(pop.frame)
    lap("model_frame")
    gemeente = args.gemeente or mf.data["gemeentecode"].value_counts().index[0]
    oe = observed_vs_expected(mf)
    lap("observed_expected")
    funnels = {lv: funnel(oe.table[(oe.table["niveau"] == lv)
                                   & (oe.table["gemeentecode"] != "NL")])
               for lv in LEVELS.values()}
    lap("funnels")
    eff = gemeente_effects(mf)
    lap("gemeente_effects")
    dec = decompose(mf, gemeente, replicates=args.replicates)
    lap("decomposition")
    pres = wijkteam_panel(panel) if panel is not None else None
    lap("panel_model")
    dd = DeepDive(pop.period.label, mf, oe, funnels, eff, dec, pres, gemeente, None)
    release_deep_dive(dd, args.out)
    lap("release")
    analysis = time.perf_counter() - t_analysis
    youths = len(mf.data)
    result = {"persons_in_population_0_22": len(pop.frame), "youths_modelled": youths,
              "gemeenten": int(mf.data["gemeentecode"].nunique()), "gemeente": gemeente,
              "replicates": args.replicates, "seconds": times,
              "analysis_seconds": round(analysis, 2),
              "youths_per_second": round(youths / analysis),
              "peak_mb": round(vm_hwm_mb(), 1)}
    print(f"deep dive {args.period}: {youths:,} youths ({len(pop.frame):,} aged 0-22), "
          f"{result['gemeenten']} gemeenten; analysis + release {analysis:.1f} s "
          f"({result['youths_per_second']:,} youths/s); peak {result['peak_mb']:,.0f} MB")
    for k, v in times.items():
        print(f"  {k:20s} {v:8.2f} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
