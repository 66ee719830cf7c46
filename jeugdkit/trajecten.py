"""Jeugdhulp trajecten and jeugdbescherming/-reclassering maatregelen, built across year files.

CBS publishes one file per year with every traject active in that year, so a traject that spans
years stands in each year's file with the same begin date. Building trajecten, as CBS counts:

1. read the records of the requested years; a record without a begin date or ending before it
   begins covers no day and is counted out;
2. the same traject in several year files (same rin, hulpvorm, aanbieder and begin) is one
   traject: the record of the newest file is kept (it has the latest end date and reason);
3. overlapping trajecten of the same hulpvorm at the same aanbieder are merged (first begin, last
   end; verwijzer, crisis and perspectief of the first record, reden_einde, gemeente and the
   outcome items of the last). A traject that begins the day after another ends is a separate
   traject (it matters for herhaald beroep).

::

    trajecten, rec = build_trajecten(reader, years=[2021, 2022, 2023])
    bescherming, rec_b = build_maatregelen(reader, "JGDBESCHERMBUS", years=[2023])

The reconciliation (see `jeugdkit.reconciliation`) accounts for every record read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from jeugdkit.reconciliation import Reconciliation
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.spells import _end_ns, _ns, merge_overlapping

TRAJECT_FIRST = ("verwijzer", "crisis", "perspectief")
"""Traject attributes taken from the first record (they describe the start)."""
TRAJECT_LAST = ("reden_einde", "gemeente", "cijfer", "zelfstandig")
"""Traject attributes taken from the last record (they describe the end or the latest state)."""
EENHEID = {"JGDHULPBUS": "trajecten", "JGDBESCHERMBUS": "jeugdbescherming",
           "JGDRECLASSERINGBUS": "jeugdreclassering"}
GEMEENTE_WIDTH = 4


def pad_codes(column: pd.Series, width: int) -> pd.Series:
    """Return a categorical with its (stripped) codes left-padded with zeros to `width`."""
    column = column.astype("category")
    cats = column.cat.categories
    if len(cats) == 0:
        return column
    padded = pd.Index([str(c).zfill(width) for c in cats])
    if padded.equals(cats):
        return column
    if padded.is_unique:
        return column.cat.rename_categories(padded)
    return column.astype(object).map(lambda c: c if pd.isna(c) else str(c).zfill(width)).astype(
        "category")


def hulpvorm_groep(hulpvorm: pd.Series, settings: Settings = DEFAULT) -> pd.Series:
    """Return the hulpvorm group of each code (`onbekend` for an unknown or missing code)."""
    mapping = {code: group for group, codes in settings.analysis.hulpvorm_groups for code in codes}
    groups = [g for g, _ in settings.analysis.hulpvorm_groups] + [settings.analysis.unknown_label]
    out = hulpvorm.astype(object).map(mapping)
    out = out.where(out.notna(), settings.analysis.unknown_label)
    return pd.Series(pd.Categorical(out, categories=groups), index=hulpvorm.index)


def _build(reader, dataset: str, years: Sequence[int], group: Sequence[str],
           first: Sequence[str], last: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read, drop records that cover no day, dedupe across year files and merge overlaps."""
    eenheid = EENHEID.get(dataset, dataset)
    spec = reader.catalog[dataset]
    columns = [*group, "begin", "eind", *first, *last]
    for c in columns:
        spec.column(c)
    records = reader.read(dataset, columns, years=list(years))
    rec = Reconciliation()

    b, e = _ns(records["begin"]), _end_ns(records["eind"])
    no_begin = b == np.iinfo(np.int64).min
    end_before = ~no_begin & (e < b)
    n = rec.step(eenheid, "records gelezen", len(records),
                 {"geen begindatum": int(no_begin.sum()),
                  "einde voor begin": int(end_before.sum())})
    records = records[~(no_begin | end_before)]

    # the newest file's record of a traject wins; a stable sort keeps the file order otherwise
    key = ["rin", *group, "begin"]
    records = records.sort_values("year", ascending=False, kind="mergesort")
    dup = records.duplicated(key, keep="first").to_numpy()
    newest = records.groupby(key, dropna=False, observed=True, sort=False)["year"].transform(
        "max").to_numpy()
    same_file = dup & (records["year"].to_numpy() == newest)
    n = rec.step(eenheid, "zelfde record in meer jaarbestanden", n, {
        "zelfde traject in ouder jaarbestand": int((dup & ~same_file).sum()),
        "dubbel record in zelfde jaarbestand": int(same_file.sum())})
    records = records[~dup]

    merged, n_away = merge_overlapping(records, by=["rin", *group], first=first, last=last)
    n = rec.step(eenheid, "overlappende samenvoegen", n,
                 {"samengevoegd met overlappend traject": n_away})
    assert n == len(merged)
    if "gemeente" in merged:
        merged["gemeente"] = pad_codes(merged["gemeente"], GEMEENTE_WIDTH)
    return merged, rec.frame()


def build_trajecten(reader, years: Sequence[int] | int,
                    settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (trajecten, reconciliation): one row per jeugdhulp traject in the given year files.

    Columns: rin, hulpvorm, hulpvorm_groep, aanbieder, begin, eind (NaT = open), verwijzer (of
    the first record), reden_einde (of the last), gemeente (woonplaats, JGDHGEMEENTE), crisis,
    perspectief, cijfer, zelfstandig, n_records (records merged into the traject). Trajecten
    are counted as CBS does (module docstring); records of every RINPERSOONS are kept: linking
    to persons is the population's step.

    Example
    -------
    >>> trajecten, rec = build_trajecten(Reader("G:/"), years=[2022, 2023])
    >>> trajecten.groupby("hulpvorm_groep", observed=True).size()
    """
    settings = settings or DEFAULT
    years = [years] if isinstance(years, int) else list(years)
    merged, rec = _build(reader, "JGDHULPBUS", years, group=["hulpvorm", "aanbieder"],
                         first=list(TRAJECT_FIRST), last=list(TRAJECT_LAST))
    merged.insert(merged.columns.get_loc("hulpvorm") + 1, "hulpvorm_groep",
                  hulpvorm_groep(merged["hulpvorm"], settings))
    order = ["rin", "hulpvorm", "hulpvorm_groep", "aanbieder", "begin", "eind", "verwijzer",
             "reden_einde", "gemeente", "crisis", "perspectief", "cijfer", "zelfstandig",
             "n_records"]
    return merged[order], rec


def build_maatregelen(reader, dataset: str, years: Sequence[int] | int,
                      settings: Settings | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (maatregelen, reconciliation) of JGDBESCHERMBUS or JGDRECLASSERINGBUS.

    The same rules as trajecten, with the maatregel in place of hulpvorm and aanbieder: a
    maatregel in several year files is one; overlapping maatregelen of the same kind for one
    youth are merged. Columns: rin, maatregel, begin, eind (NaT = open), then every other
    catalog variable of the dataset, taken from the last record, and n_records.

    Example
    -------
    >>> ots, rec = build_maatregelen(Reader("G:/"), "JGDBESCHERMBUS", years=[2023])
    """
    years = [years] if isinstance(years, int) else list(years)
    spec = reader.catalog[dataset]
    rest = [c for c in spec.variables if c not in ("maatregel", "begin", "eind")]
    merged, rec = _build(reader, dataset, years, group=["maatregel"], first=[], last=rest)
    return merged[["rin", "maatregel", "begin", "eind", *rest, "n_records"]], rec
