"""Synthetic CBS Remote Access microdata for jeugdkit: same layout, names, codes and quirks.

    from synthetic import generate
    summary = generate("demo", persons=100_000, gemeenten=25, years=(2018, 2024), seed=1)

writes ``demo/ra`` (the data root), ``demo/gemeenten.csv``, ``demo/truth.json`` and
``demo/calibration.md``. ``simulate(...)`` returns the same world in memory without writing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from synthetic.background import Background, build_background
from synthetic.config import DEFAULT_SEED, Options
from synthetic.frame import person_year_frame
from synthetic.geography import Geography, build_geography
from synthetic.jeugd import Jeugd, build_jeugd
from synthetic.population import Population, simulate_population

__all__ = ["generate", "simulate", "write", "World", "Options"]


@dataclass
class World:
    """Everything generated for one run, before it is written."""

    opts: Options
    geo: Geography
    pop: Population
    bg: Background
    jeugd: Jeugd

    @property
    def frame(self) -> pd.DataFrame:
        """The person-year frame (residents 0-22 per year) with covariates and drawn use."""
        return self.jeugd.frame


def _progress(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    def wrap(it, **kw):
        return tqdm(it, leave=False, **kw)
    return wrap


def simulate(persons: int = 100_000, gemeenten: int = 25, years=(2018, 2024),
             seed: int = DEFAULT_SEED, progress: bool = False) -> World:
    """Return a simulated world (population, registers, jeugd records) without writing files."""
    opts = Options(persons=int(persons), gemeenten=int(gemeenten),
                   years=(int(years[0]), int(years[1])), seed=int(seed))
    rng = np.random.default_rng(opts.seed)
    geo = build_geography(opts, rng)
    pop = simulate_population(opts, geo, rng, progress=_progress(progress))
    bg = build_background(opts, pop, rng)
    frame = person_year_frame(opts, geo, pop, bg)
    jeugd = build_jeugd(opts, geo, pop, frame, rng)
    return World(opts=opts, geo=geo, pop=pop, bg=bg, jeugd=jeugd)


def write(world: World, out, progress: bool = False) -> dict:
    """Write the RA tree under ``out/ra`` plus gemeenten.csv, truth.json and calibration.md."""
    from synthetic.report import write_calibration, write_gemeenten, write_truth
    from synthetic.writer import TreeWriter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = TreeWriter(out / "ra", world, progress=_progress(progress)).write_all()
    write_gemeenten(world, out / "gemeenten.csv")
    metrics = write_calibration(world, out / "calibration.md")
    write_truth(world, files, metrics, out / "truth.json")
    return {"files": files, "metrics": metrics}


def generate(out, persons: int = 100_000, gemeenten: int = 25, years=(2018, 2024),
             seed: int = DEFAULT_SEED, progress: bool = False) -> dict:
    """Generate and write a synthetic RA environment; return a small summary."""
    t0 = time.perf_counter()
    world = simulate(persons=persons, gemeenten=gemeenten, years=years, seed=seed,
                     progress=progress)
    written = write(world, out, progress=progress)
    f = world.frame
    last = world.opts.last
    res_last = len(world.pop.snapshots[last]["pid"])
    return {
        "out": str(Path(out)),
        "data_root": str(Path(out) / "ra"),
        "options": world.opts.as_dict(),
        "persons_ever_registered": int(world.pop.n_persons),
        "residents_last_year": int(res_last),
        "youths_0_22_last_year": int((f["year"] == last).sum()),
        "gemeenten_classification_year": int(len(world.geo.class_code)),
        "trajecten": int(len(world.jeugd.trajecten)),
        "files": len(written["files"]),
        "seconds": round(time.perf_counter() - t0, 1),
    }
