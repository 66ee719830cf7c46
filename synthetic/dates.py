"""Dates as integer day numbers (days since 1970-01-01) and their RA string form."""

from __future__ import annotations

import numpy as np

OPEN_END = "20501231"
"""End date of an open GBA or SECM spell."""


def day(year: int, month: int = 1, dom: int = 1) -> int:
    """Return the day number of a calendar date."""
    return int(np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D").astype(np.int64))


OPEN_DAY = day(2050, 12, 31)


def year_start(years) -> np.ndarray:
    """Return the day numbers of 1 January of each year."""
    years = np.asarray(years, dtype=np.int64)
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def year_of(days) -> np.ndarray:
    """Return the calendar year of each day number."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[Y]").astype(
        np.int64
    ) + 1970


def ymd(days) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return year, month and day of month of each day number."""
    dt = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    months = dt.astype("datetime64[M]")
    y = months.astype(np.int64) // 12 + 1970
    m = months.astype(np.int64) % 12 + 1
    d = (dt - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, d


def to_str(days, missing=None) -> np.ndarray:
    """Return YYYYMMDD strings; entries where `missing` is True become empty strings."""
    y, m, d = ymd(days)
    out = (y * 10000 + m * 100 + d).astype("U8")
    if missing is not None:
        out = np.where(missing, "", out)
    return out.astype(object)


def age_at(birth, when) -> np.ndarray:
    """Return completed years of age on day `when` for people born on `birth`."""
    by, bm, bd = ymd(birth)
    wy, wm, wd = ymd(np.broadcast_to(when, np.shape(birth)))
    return wy - by - ((wm * 100 + wd) < (bm * 100 + bd)).astype(np.int64)


def add_years(days, years) -> np.ndarray:
    """Return the date `years` calendar years later (29 February maps to 1 March)."""
    y, m, d = ymd(days)
    y2 = y + np.asarray(years)
    months = ((y2 - 1970) * 12 + m - 1).astype("datetime64[M]")
    base = months.astype("datetime64[D]").astype(np.int64)
    return base + d - 1


def uniform_days(rng, lo, hi) -> np.ndarray:
    """Return a uniform random day in [lo, hi] (inclusive) per element; hi < lo gives lo."""
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    return lo + np.floor(rng.random(np.broadcast(lo, hi).shape) * (hi - lo + 1)).astype(np.int64)
