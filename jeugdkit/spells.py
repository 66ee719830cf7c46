"""Spell logic in one place: active on a date, overlapping a period, choosing one, merging.

A spell is a closed interval of days: it covers every day from its begin up to and including its
end. An end of NaT means "still open" (the reader turns 20501231 and empty ends into NaT). A spell
without a begin date covers no day: callers count and drop such records before using these
functions (they are never active and never overlap).

    active = active_on(adres["begin"], adres["eind"], peildatum)
    chosen, n_multiple = choose_one(adres[active], by="rin")
    merged, n_away = merge_overlapping(records, by=["rin", "hulpvorm", "aanbieder"],
                                       first=["verwijzer"], last=["reden_einde"])

All functions are vectorised: no Python loop runs per person or per spell.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

_OPEN = np.iinfo(np.int64).max
"""An open end, as an integer nanosecond: later than any real date."""


def _ns(values) -> np.ndarray:
    """Return datetime values as int64 nanoseconds (NaT as numpy's NaT integer)."""
    return np.asarray(pd.Series(values).to_numpy("datetime64[ns]")).view("i8")


def _end_ns(values) -> np.ndarray:
    """Return end dates as int64 nanoseconds with an open end (NaT) as +infinity."""
    out = _ns(values).copy()
    out[out == np.iinfo(np.int64).min] = _OPEN
    return out


def active_on(begin, end, date) -> np.ndarray:
    """Return a boolean mask: the spell covers `date` (begin <= date <= end, NaT end = open)."""
    date = pd.Timestamp(date).as_unit("ns").value
    b = _ns(begin)
    e = _end_ns(end)
    return (b != np.iinfo(np.int64).min) & (b <= date) & (e >= date)


def overlaps(begin, end, start, stop) -> np.ndarray:
    """Return a boolean mask: the spell shares at least one day with [start, stop] (inclusive)."""
    start = pd.Timestamp(start).as_unit("ns").value
    stop = pd.Timestamp(stop).as_unit("ns").value
    b = _ns(begin)
    e = _end_ns(end)
    return (b != np.iinfo(np.int64).min) & (b <= stop) & (e >= start)


def within(dates, start, stop) -> np.ndarray:
    """Return a boolean mask: the date lies in [start, stop] (NaT is never within)."""
    d = _ns(dates)
    start = pd.Timestamp(start).as_unit("ns").value
    stop = pd.Timestamp(stop).as_unit("ns").value
    return (d != np.iinfo(np.int64).min) & (d >= start) & (d <= stop)


def choose_one(frame: pd.DataFrame, by: str | Sequence[str], begin: str = "begin",
               end: str = "eind", tiebreak: Sequence[str] = ()) -> tuple[pd.DataFrame, int]:
    """Return (one row per `by` key, number of keys that had more than one candidate).

    The rule, applied to spells that are all active on one date: the spell with the latest
    begin wins (the most recent registration); on equal begins the one that ends latest (open
    last); then the largest values of `tiebreak` columns; then the row that comes last in the
    frame. The count says how often the rule had to decide.
    """
    by = [by] if isinstance(by, str) else list(by)
    if frame.empty:
        return frame, 0
    work = pd.DataFrame({"_b": _ns(frame[begin]), "_e": _end_ns(frame[end])}, index=frame.index)
    keys = [frame[c] for c in by] + [work["_b"], work["_e"]] + [frame[c] for c in tiebreak]
    order_frame = pd.concat(keys, axis=1, keys=range(len(keys)))
    # a stable sort, so the frame's order breaks the last ties
    order = order_frame.sort_values(list(range(len(keys))), kind="mergesort",
                                    na_position="first").index
    ordered = frame.loc[order]
    last = ~ordered.duplicated(by, keep="last")
    multiple = ordered.duplicated(by, keep=False)
    n_multiple = int((multiple & last).sum())
    return ordered[last.to_numpy()], n_multiple


def merge_overlapping(frame: pd.DataFrame, by: str | Sequence[str], begin: str = "begin",
                      end: str = "eind", first: Sequence[str] = (),
                      last: Sequence[str] = ()) -> tuple[pd.DataFrame, int]:
    """Return (merged spells, number of records merged away).

    Within each `by` group, spells that share at least one day are merged into one spell from
    the first begin to the last end (open if any is open), transitively. A spell that begins the
    day after another ends does not share a day: it stays a separate spell. Columns in `first`
    come from the record that begins first (ties: the one ending first), columns in `last` from
    the record that ends last (ties: the one beginning last); the frame's order breaks remaining
    ties. The result has the `by` columns, begin, end, `first` and `last` columns and `n_records`
    (records merged into the spell). Rows without a begin must be removed before.
    """
    by = [by] if isinstance(by, str) else list(by)
    n = len(frame)
    columns = by + [begin, end] + [c for c in (*first, *last) if c not in by]
    if n == 0:
        out = frame[columns].iloc[:0].copy()
        out["n_records"] = pd.Series(dtype="int64")
        return out.reset_index(drop=True), 0
    b = _ns(frame[begin])
    if (b == np.iinfo(np.int64).min).any():
        raise ValueError(f"merge_overlapping: column {begin!r} has missing begin dates; "
                         "count and drop them first")
    e = _end_ns(frame[end])
    group = frame.groupby(by, dropna=False, sort=False, observed=True).ngroup().to_numpy()
    order = np.lexsort((e, b, group))
    g, bs, es = group[order], b[order], e[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    running = pd.Series(es).groupby(g).cummax().to_numpy()
    previous = np.r_[np.iinfo(np.int64).min, running[:-1]]
    start = new_group | (bs > previous)
    cluster = np.cumsum(start) - 1
    n_clusters = int(cluster[-1]) + 1
    first_pos = order[start]
    # the record that ends last: sort by (cluster, end, begin) and take each cluster's last
    order2 = np.lexsort((bs, es, cluster))
    is_last = np.r_[cluster[order2][1:] != cluster[order2][:-1], True]
    last_pos = order[order2[is_last]]
    max_end = np.maximum.reduceat(es, np.flatnonzero(start))
    out = frame.iloc[first_pos][by].reset_index(drop=True)
    out[begin] = frame[begin].to_numpy()[first_pos]
    ends = max_end.copy()
    open_ = ends == _OPEN
    ends[open_] = 0
    out[end] = np.where(open_, np.datetime64("NaT"), ends.astype("datetime64[ns]"))
    for col in first:
        if col not in by:
            out[col] = frame[col].iloc[first_pos].reset_index(drop=True)
    for col in last:
        if col not in by and col not in first:
            out[col] = frame[col].iloc[last_pos].reset_index(drop=True)
    out["n_records"] = np.bincount(cluster, minlength=n_clusters)
    return out, n - n_clusters
