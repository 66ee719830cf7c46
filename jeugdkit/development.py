"""Ontwikkeling: the trap-1 indicators of every year the data root holds, for one gemeente,
its comparison group and NL, each year protected in that year's own period ledger.

A gemeente asks first how its use has developed. Each year Y's numbers are what period Y's own
release shows: the population of Y on Y's own gemeente borders (the default classification of
period Y), the indicator tables under the same population names (``jongeren-0-17-<Y>``,
``jongeren-12-22-<Y>``), protected in the period ledger of Y. A count that period Y's national
set or any other report released shows the same value here, and no combination of the outputs
of period Y reveals a suppressed one.

Today's borders: the gemeente and its group are those of the report's period. Where a gemeente
of today did not exist in year Y (a merger), its row in Y is the sum of the gemeenten it was
made of, a composite code in the ledger like a comparison group (:data:`OWN`), so the attacker's
knowledge that it is their sum is in the audit. Which code of Y became which code of today
follows the address objects (VSLGWBTAB ``gem<Y>`` against ``gem<today>``): each code of Y goes
to the code of today that holds most of its objects.

    data = development_data(reader, years=[2019, ..., 2023], today=2023)   # Study caches it
    dev = release_development(data, gemeente="1938", group=codes, group_label="...",
                              ledger_for=lambda label: PeriodLedger.resolve(None, label),
                              out=export / "ontwikkeling")
    dev.table        # jaar x gebied: the five indicators, NA where suppressed
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.scope import GROUP, NATIONAL
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.tables import (
    COUNTS,
    INDICATOR_COLUMNS,
    NO,
    YES,
    _add_rates,
    _flag,
    indicator_counts,
    nested_codes,
)

OWN = "gemeente"
"""The code of the report's gemeente in a year when it was several gemeenten (before a merger):
a composite of their codes, shown under the gemeente of today."""

BREAKS = {
    2019: "JGDHPERSPECTIEF (tot en met 2018) is vervangen door JGDHCRISIS: het perspectief van "
          "een traject is vanaf 2019 niet meer bekend, wel of het met crisis begon.",
    2020: "Vanaf 2020 vult CBS ontbrekende einddatums zelf in (met reden beëindiging "
          "onbekend): trajecten lopen daardoor eerder af dan in de jaren ervoor.",
    2021: "Vanaf 2021 is de rapportagepopulatie van de aanbieders breder: een deel van de "
          "stijging kan komen doordat er meer wordt geregistreerd.",
}
"""Definition changes in the Beleidsinformatie Jeugd, by the first year they apply: a series
shows them as a break, never hides them."""

@dataclass
class YearCounts:
    """One year's youths counted for the indicator tables (internal, unsuppressed).

    ``counts``: one row per gemeentecode (Y's borders) x age band flags x indicator codes, with
    ``aantal``; ``to_today``: each gemeentecode of Y to its code in the report's classification.
    """

    year: int
    label: str
    classification_year: int
    counts: pd.DataFrame
    codes: list[str]
    to_today: dict[str, str]
    absent: set = field(default_factory=set)


@dataclass
class DevelopmentData:
    """Every year's counts and what was left out (see :func:`development_data`)."""

    today: int
    years: list[YearCounts]
    left_out: dict = field(default_factory=dict)
    """{year: reason} for years of the data root that could not be counted."""


@dataclass
class Development:
    """The released series: ``table`` (one row per jaar x gebied, the indicators), the notes
    for the reader (breaks, mergers, left-out years) and the per-year folders."""

    table: pd.DataFrame
    notes: list[str]
    folders: dict


def year_counts(pop, settings: Settings | None = None) -> pd.DataFrame:
    """Return a population's youths counted by gemeentecode, age band and indicator codes.

    The codes are those of the indicator tables (:mod:`jeugdkit.tables`): ``jeugdhulp`` is
    ``nee``, ``zonder_verblijf`` or ``met_verblijf``; ``jeugdbescherming`` likewise (met
    verblijf: also jeugdhulp met verblijf); ``jeugdreclassering`` ``ja``/``nee``.
    """
    a = (settings or DEFAULT).analysis
    f = pop.frame
    jh = _flag(f, "jeugdhulp")
    verblijf = jh & _flag(f, "jeugdhulp_met_verblijf")
    jb = _flag(f, "jeugdbescherming")
    age = f["leeftijd"].to_numpy()
    data = pd.DataFrame({
        "gemeentecode": f["gemeentecode"].astype(str).to_numpy(),
        "jong": age <= a.minor_age_max,
        "oud": age >= a.jeugdreclassering_age_min,
        "jeugdhulp": nested_codes(jh, verblijf),
        "jeugdbescherming": nested_codes(jb, jb & verblijf),
        "jeugdreclassering": np.where(_flag(f, "jeugdreclassering"), YES, NO),
    })
    return data.groupby(list(data.columns), sort=True, observed=True).size() \
        .rename("aantal").reset_index()


def code_map(reader, year: int, today: int) -> dict[str, str]:
    """Return {gemeentecode in classification ``year``: gemeentecode in ``today``}.

    Each code goes to the code of today holding most of its address objects (a merger moves
    every object; a border correction moves a few and leaves the code where it was)."""
    cols = ["soortobjectnummer", "rinobjectnummer", "gemeente"]
    old = reader.read("VSLGWBTAB", cols, classification_year=year)
    new = reader.read("VSLGWBTAB", cols, classification_year=today)
    both = old.merge(new, on=["soortobjectnummer", "rinobjectnummer"], suffixes=("_y", "_c"))
    both = both.dropna(subset=["gemeente_y", "gemeente_c"])
    pairs = both.groupby(["gemeente_y", "gemeente_c"], observed=True).size().rename("n") \
        .reset_index().sort_values(["gemeente_y", "n", "gemeente_c"],
                                   ascending=[True, False, True])
    first = pairs.drop_duplicates("gemeente_y")
    return {str(y): str(c) for y, c in zip(first["gemeente_y"], first["gemeente_c"])}


def development_data(reader, years, today: int, settings: Settings | None = None,
                     progress=None) -> DevelopmentData:
    """Return every year's counts: the population of year Y on its own borders (as period Y's
    release counts it), with the map of its codes to the classification ``today``.

    A year whose population cannot be built (a file missing for it) is left out with the
    reason; the other years go on."""
    from jeugdkit.population import build_population
    settings = settings or DEFAULT
    out = DevelopmentData(today=int(today), years=[])
    for year in sorted(int(y) for y in years):
        try:
            pop = build_population(reader, str(year), settings=settings)
            mapping = ({} if pop.classification_year == today  # every code is its own
                       else code_map(reader, pop.classification_year, today))
        except JeugdkitError as exc:
            out.left_out[year] = str(exc)
            print(f"note: ontwikkeling {year} left out: {exc}", file=sys.stderr)
            continue
        f = pop.frame
        absent = {n for n in ("jeugdbescherming", "jeugdreclassering")
                  if len(f) and f[n].isna().all()}
        codes = sorted({str(c) for c in f["gemeentecode"].astype(str).unique()})
        out.years.append(YearCounts(year, pop.period.label, pop.classification_year,
                                    year_counts(pop, settings), codes,
                                    {c: mapping.get(c, c) for c in codes}, absent))
        if progress:
            progress(year)
    return out


def _specs(yc: YearCounts, gemeente: str, group, settings: Settings):
    """Return (specs, composition, shown codes) of year ``yc``'s indicator tables."""
    parts = sorted(c for c in yc.codes if yc.to_today[c] == gemeente)
    group_y = sorted(c for c in yc.codes if group is not None and yc.to_today[c] in group)
    own = parts[0] if parts == [gemeente] else OWN
    hierarchy, composition = {}, {}
    if own == OWN:
        hierarchy.update({p: OWN for p in parts})
        composition[OWN] = parts
    if group is not None:
        for c in group_y:
            if c not in parts or own != OWN:
                hierarchy[c] = GROUP
        if own == OWN:
            hierarchy[OWN] = GROUP
        composition[GROUP] = group_y
    total = settings.output_control.total_label
    shown = [own, *([GROUP] if group is not None else []), total]

    def publish(cells):
        # every gemeente's row counts as published, as in the national set of the year:
        # the first report of a year that has no national set yet then decides every
        # gemeente's cells on the whole table, not the other gemeenten's rows as unpublished
        # leftovers that a later report must keep blank (its export holds the shown rows)
        return np.ones(len(cells), dtype=bool)

    counts = yc.counts
    nest = {"zonder_verblijf": YES, "met_verblijf": YES}
    tables = [("jong", f"jongeren-0-17-{yc.label}", "jeugdhulp", nest),
              ("jong", f"jongeren-0-17-{yc.label}", "jeugdbescherming", nest),
              ("oud", f"jongeren-12-22-{yc.label}", "jeugdreclassering", {})]
    specs = []
    for band, population, name, nesting in tables:
        if name in yc.absent:
            continue
        agg = counts[counts[band]].groupby(["gemeentecode", name], observed=True)["aantal"] \
            .sum().reset_index()
        leaves = [NO, *nesting] if nesting else [YES, NO]
        specs.append(dict(
            data=agg, dims=["gemeentecode", name], count="aantal", name=f"ind_{name}",
            unit="jongeren", population=population,
            hierarchies={"gemeentecode": hierarchy, **({name: nesting} if nesting else {})},
            levels={"gemeentecode": yc.codes, name: leaves},
            description=f"indicator counts {name}, {yc.label}, gemeenten of {yc.label}",
            publish=publish))
    return specs, ({"gemeentecode": composition} if composition else {}), shown, parts


def _indicator_rows(tables: dict, shown: list[str], total: str) -> pd.DataFrame:
    """Return the indicator counts and rates of the shown codes from released tables."""
    out = indicator_counts(tables, "ind", total).reindex(shown)
    for c in COUNTS:
        out[c] = out[c].astype("Int64")
    return _add_rates(out)


def release_development(data: DevelopmentData, *, gemeente: str, group=None,
                        group_label: str = "", ledger_for=None, out=None,
                        settings: Settings | None = None, run_timestamp: str | None = None,
                        session_name: str = "ontwikkeling") -> Development:
    """Release the series of one gemeente: one ExportSession per year, each in its period's
    ledger (``ledger_for(label)``; None: no ledger), each written with its own export log to
    ``out/<year>/`` when ``out`` is given. Return the series with the notes for the reader.
    """
    from jeugdkit.output import ExportSession
    settings = settings or DEFAULT
    total = settings.output_control.total_label
    group = None if group is None else {str(c) for c in group}
    rows, notes, folders = [], [], {}
    merged: dict[tuple, list[int]] = {}
    for year, reason in sorted(data.left_out.items()):
        notes.append(f"{year} ontbreekt: {reason}")
    for yc in data.years:
        specs, composition, shown, parts = _specs(yc, gemeente, group, settings)
        if not parts:
            notes.append(f"{yc.year}: de gemeente had dat jaar geen jongeren in de gegevens "
                         "(geen rij)")
        elif parts != [gemeente]:
            merged.setdefault(tuple(parts), []).append(yc.year)
        ledger = ledger_for(yc.label) if ledger_for is not None else None
        run = ExportSession(f"{session_name}-{yc.label}-{gemeente}", settings=settings,
                            run_timestamp=run_timestamp, ledger=ledger)
        run.declare_composition(composition)
        released = dict(zip([s["name"] for s in specs], run.freq_tables(specs))) \
            if specs else {}
        ind = _indicator_rows(released, shown, total)
        ind.index = pd.Index([gemeente if c == shown[0] else (NATIONAL if c == total else c)
                              for c in ind.index], name="gemeentecode")
        frame = ind.reset_index()
        frame.insert(0, "jaar", yc.year)
        frame = run.release_derived(
            frame[["jaar", "gemeentecode", *INDICATOR_COLUMNS]], sources=list(released),
            name="indicatoren", how="counts from the released tables; pct = 100 * teller / "
            "noemer, rounded to 2 decimals")
        if out is not None:
            folder = Path(out) / yc.label
            run.export(folder, {"indicatoren": frame})
            folders[yc.year] = folder
        rows.append(frame)
        for name in sorted(yc.absent):
            notes.append(f"{yc.year}: {name} ontbreekt in de levering (niet berekend)")
    for parts, years in merged.items():
        span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
        notes.append(f"Herindeling: in {span} bestond de gemeente van nu uit de gemeenten "
                     f"{' en '.join(parts)}; haar cijfer is in die jaren dat van die gemeenten "
                     "samen (op de grenzen van nu).")
    years = [y.year for y in data.years]
    notes += [f"Breuk in {year}: {text}" for year, text in BREAKS.items()
              if _within(year, years)]
    cols = ["jaar", "gemeentecode", *INDICATOR_COLUMNS]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    return Development(table[cols], notes, folders)


# ----------------------------------------------------------------------------- the report
def _within(year: int, years) -> bool:
    """Whether a break in ``year`` falls inside the series of ``years`` (after its first)."""
    return bool(years) and min(years) < year <= max(years)


def development_figure(table: pd.DataFrame, gemeente: str, names: dict,
                       breaks=()):
    """Return the figure of a released series: one panel per indicator, the gemeente, its
    group and NL over the years. A suppressed value is marked ``x`` on the year's axis (never
    drawn as 0); a year with a definition change has a dotted line."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from jeugdkit.figures import COLOURS, LABELS, DutchFormatter, style

    cols = [c for c in LABELS if c in table.columns]
    with style():
        fig, axes = plt.subplots(2, 3, figsize=(11, 6.4), sharex=True)
        axes = axes.ravel()
        years = sorted(int(y) for y in table["jaar"].unique())
        handles = {}
        for ax, col in zip(axes, cols):
            top = 0.0
            for code in [gemeente, GROUP, NATIONAL]:
                part = table[table["gemeentecode"].astype(str) == code].sort_values("jaar")
                if part.empty:
                    continue
                colour = COLOURS["gemeente" if code == gemeente else code]
                x = part["jaar"].astype(int).to_numpy()
                y = pd.to_numeric(part[col], errors="coerce").astype(float).to_numpy()
                (line,) = ax.plot(x, y, marker="o", color=colour, lw=2 if code == gemeente
                                  else 1.4, ms=5 if code == gemeente else 4)
                handles.setdefault(names.get(code, code), line)
                if np.isfinite(y).any():
                    top = max(top, float(np.nanmax(y)))
                hidden = x[~np.isfinite(y)]
                for xx in hidden:
                    ax.annotate("x", (xx, 0), xytext=(0, 4), textcoords="offset points",
                                ha="center", va="bottom", color=colour, fontsize=11,
                                fontweight="bold")
            ax.set_ylim(0, top * 1.2 if top > 0 else 1)
            ax.yaxis.set_major_formatter(DutchFormatter("%"))
            ax.yaxis.set_major_locator(MaxNLocator(5))
            ax.set_title(LABELS[col], fontsize=10)
            for year in breaks:
                if _within(year, years):
                    ax.axvline(year - 0.5, color="#999", ls=":", lw=1)
            ax.set_xticks(years)
            ax.set_xticklabels([str(y) for y in years], rotation=45, fontsize=8)
        for ax in axes[len(cols):]:
            ax.axis("off")
        legend_ax = axes[-1] if len(cols) < len(axes) else None
        extra = ["x = onderdrukt (geheim)"]
        if any(_within(y, years) for y in breaks):
            extra.append("stippellijn = breuk in de definities")
        if legend_ax is not None:
            legend_ax.legend(list(handles.values()), list(handles), loc="upper left",
                             frameon=False, title="Gebied")
            legend_ax.text(0.0, 0.25, "\n".join(extra), transform=legend_ax.transAxes,
                           fontsize=9, va="top")
        fig.suptitle(f"Ontwikkeling van de indicatoren: {names.get(gemeente, gemeente)}",
                     fontsize=12)
        fig.tight_layout()
    return fig


def report_development(study, gemeente: str, scope, run, export, names: dict,
                       run_timestamp: str | None = None) -> Development:
    """Release a report's Ontwikkeling: every year in its own period ledger (written to
    ``export/ontwikkeling/<year>/`` with its log), then in the report's run the series
    (``ontwikkeling.csv``) and its figure, imported from those folders."""
    from jeugdkit.output.period import PeriodLedger
    data = study.development()
    export = Path(export)
    dev = release_development(
        data, gemeente=gemeente, group=scope.group, group_label=scope.group_label,
        ledger_for=lambda label: PeriodLedger.resolve(None, label),
        out=export / "ontwikkeling", settings=study.settings,
        run_timestamp=run_timestamp or None, session_name=f"rapport-{study.period.label}")
    before = set(run.outputs)
    for yc in data.years:
        folder = dev.folders.get(yc.year)
        if folder is None:
            continue
        frame = dev.table[dev.table["jaar"] == yc.year].reset_index(drop=True)
        run.release_imported(frame, name=f"ontwikkeling_{yc.year}", origin=folder,
                             file="indicatoren.csv", how=f"the indicators of {yc.label}, "
                             f"released in the period ledger of {yc.label}")
    sources = [o for o in run.outputs if o not in before]
    table = run.release_derived(dev.table, sources=sources, name="ontwikkeling",
                                how="the released indicators of each year, one below the "
                                "other") if sources else dev.table
    if sources:
        # names, not codes, in the figure (the table's names may carry the code)
        shown = {**names, gemeente: scope.title, GROUP: "vergelijkingsgroep",
                 NATIONAL: "Nederland"}
        fig = development_figure(table, gemeente, shown, breaks=tuple(BREAKS))
        run.release_figure(fig, source="ontwikkeling", name="ontwikkeling_figuur",
                           description="indicators per year: gemeente, group, NL")
        run.export(export, {"ontwikkeling": table})
    dev.table = table
    return dev
