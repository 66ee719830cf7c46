"""Benchmark of output control: secondary suppression and LP audit of a national table.

gemeente (342 + Nederland) x leeftijd (4 + totaal) x geslacht (2 + totaal) x hulpvorm
(4 + totaal), all margins: 25,725 cells. Gemeenten from 1,000 to 930,000 inhabitants
(log-normal, like the real distribution), about 25% youths, about 10% of them in youth care.

Run: python benchmarks/bench_outputcontrol.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from jeugdkit.output import ExportSession, feasible_intervals

SAMPLE = 20


def national_table(seed: int = 2023) -> pd.DataFrame:
    """Return leaf counts gemeente x leeftijd x geslacht x hulpvorm (one row per leaf cell)."""
    rng = np.random.default_rng(seed)
    inhabitants = np.exp(rng.normal(np.log(28_000), 1.0, 342)).clip(1_000, 930_000)
    inhabitants[0], inhabitants[1] = 1_000, 930_000
    age_share = np.array([0.17, 0.35, 0.27, 0.21])
    age_rate = np.array([0.04, 0.10, 0.14, 0.08])
    hulpvorm = np.array([0.55, 0.25, 0.12, 0.08])
    rows = []
    for g, inh in enumerate(inhabitants):
        youths = inh * 0.25
        for a in range(4):
            for s in range(2):
                for h in range(4):
                    mean = youths * age_share[a] * 0.5 * age_rate[a] * hulpvorm[h]
                    rows.append((f"GM{g:04d}", f"L{a}", f"G{s}", f"H{h}", rng.poisson(mean)))
    return pd.DataFrame(rows, columns=["gemeente", "leeftijd", "geslacht", "hulpvorm", "aantal"])


def main() -> None:
    data = national_table()
    run = ExportSession("bench", run_timestamp="bench")
    t0 = time.perf_counter()
    table = run.freq_table(data, ["gemeente", "leeftijd", "geslacht", "hulpvorm"],
                           count="aantal", name="gebruik", unit="jongeren",
                           population="jeugd-2023")
    t1 = time.perf_counter()
    sdc = run.outputs["gebruik"].sdc["summary"]
    print(f"cells: {len(table):,}; youths in care: {int(data['aantal'].sum()):,}")
    print(f"primary suppressions: {sdc['threshold']:,}; secondary: {sdc['secondary']:,}")
    print(f"secondary suppression: {t1 - t0:.1f} s "
          f"(solver: {run.outputs['gebruik'].sdc['solver']})")
    t2 = time.perf_counter()
    bounds = run.audit()
    t3 = time.perf_counter()
    print(f"LP audit of {len(bounds):,} suppressed cells (hypercube proofs, exact LP for the "
          f"rest): {t3 - t2:.1f} s; methods {bounds['method'].value_counts().to_dict()}; "
          f"narrowest interval {bounds['width'].min():g} (required "
          f"{bounds['required'].max():g}); pinned: {int((bounds['width'] < 1e-9).sum())}")
    # exact LPs (min and max over the whole linked system) for a sample of suppressed cells
    ledger = run._ledgers[("jeugd-2023", "jongeren")]
    sup = ledger._suppressed()
    values = np.asarray(ledger.value, dtype=float)
    sample = np.random.default_rng(0).choice(np.flatnonzero(sup), SAMPLE, replace=False)
    t4 = time.perf_counter()
    lo, hi = feasible_intervals(values, ledger.eqs, np.where(sup, 0.0, values),
                                np.where(sup, np.inf, values), targets=sample.tolist(),
                                cell_eqs=ledger.cell_eqs)
    t5 = time.perf_counter()
    widths = hi[sample] - lo[sample]
    print(f"exact LP audit of {SAMPLE} sampled cells: {t5 - t4:.1f} s "
          f"({(t5 - t4) / SAMPLE:.2f} s per cell, two LPs each); narrowest {widths.min():g}")


if __name__ == "__main__":
    main()
