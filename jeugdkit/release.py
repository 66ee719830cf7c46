"""The period release: a period's national set, computed and protected once, first.

``jeugdkit release --period P --out DIR`` (and the first step of ``jeugdkit report``) releases
the trap-1 indicators and standard tables and the trajectory indicators of every gemeente and
NL into the period ledger (:mod:`jeugdkit.output.period`). Every later output of the period (a
gemeente's report, a maatwerk question, another comparison group) is protected against it: a
cell it shares with the national set shows the national set's value, or is blank where the
national set suppressed it, and what is new (a comparison group, wijken) is suppressed where it
would reveal a cell the national set suppressed.

Releasing the national set first makes the outcome independent of the order in which the
gemeenten's reports run: they each add only what is their own.

Writes ``<out>/tabellen/`` (see :func:`jeugdkit.tables.release_tables`) and
``<out>/trajecten/`` (see :func:`jeugdkit.trajectories.release_trajectories`), each with its
export log.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jeugdkit.scope import Scope
from jeugdkit.settings import DEFAULT, Settings


def release_period(pop, history, out, *, ledger, settings: Settings | None = None,
                   run_timestamp: str | None = None, log=print) -> dict:
    """Release the national set of ``pop``'s period into ``ledger``; return the frames by
    part (``tabellen``, ``trajecten``) and file name."""
    from jeugdkit.tables import release_tables
    from jeugdkit.trajectories import release_trajectories
    settings = settings or DEFAULT
    out = Path(out)
    label = pop.period.label
    parts = {}
    parts["tabellen"] = release_tables(
        pop, out / "tabellen", scope=Scope(), settings=settings, figures=False,
        run_name=f"periode-{label}-tabellen", run_timestamp=run_timestamp, ledger=ledger)
    log(f"  landelijke tabellen: {out / 'tabellen'}")
    if history is not None:
        parts["trajecten"] = release_trajectories(
            pop, history, out / "trajecten", scope=Scope(), settings=settings,
            run_name=f"periode-{label}-trajecten", ledger=ledger,
            run_timestamp=run_timestamp)
        log(f"  landelijke trajectindicatoren: {out / 'trajecten'}")
    return parts


def cli_release(args) -> int:
    """Run `jeugdkit release`: the national set of a period, into the period ledger."""
    from jeugdkit.population import build_population
    from jeugdkit.read import reader_from_args
    from jeugdkit.tables import ledger_from_args
    from jeugdkit.trajectories import build_history
    settings = Settings.load(getattr(args, "settings", None))
    reader = reader_from_args(args, settings)
    pop = build_population(reader, args.period, settings=settings)
    ledger = ledger_from_args(args, pop.period.label)
    history = build_history(reader, pop.period, settings)
    release_period(pop, history, args.out, ledger=ledger, settings=settings,
                   log=lambda text: print(text, file=sys.stderr))
    if ledger is not None:
        info = ledger.summary()
        print(f"period ledger {ledger.folder}: {info['outputs']} tables of {info['runs']} runs, "
              f"{info['cells']} cells of which {info['suppressed']} suppressed")
    print(f"export logs in {Path(args.out) / 'tabellen' / 'log'} and "
          f"{Path(args.out) / 'trajecten' / 'log'} (keep them in the RA for the checker)")
    return 0
