"""Reading RA datasets into typed pandas frames, with a Parquet cache.

`Reader.read(dataset, columns, years)` returns one DataFrame per dataset:

- key columns (catalog `keys`, e.g. `rin`, `rin_ma`) hold the exact person key as an integer,
  `(ord(RINPERSOONS) << 30) | int(RINPERSOON)`: RINPERSOON has 9 digits (< 2**30), so the key is
  reversible, links only when both parts agree, and joins as fast as an integer can. A missing or
  malformed key (`---------` for an unknown parent) is <NA>. Use `split_person_key` to recover the
  two parts inside the RA; never export either.
- `code` variables are pandas categoricals of the codes with padding stripped; missing codes are
  NaN; codes the catalog does not list are kept and counted (`Reader.log`).
- `id` variables (address objects, household numbers) are stable 64-bit hashes of the stripped
  string: joinable across files, never displayed.
- `date` variables are datetime64; an open end (empty, or the catalog's `open_end` such as
  20501231) is NaT. Every spell rule in the kit reads NaT at the end as "still open".
- `number` variables are float64 with sentinels (999999999, negative percentiles) as NaN.
- per-year datasets are stacked with a `year` column; of a cumulative dataset only the newest year
  is read.

Value labels are available through `Reader.labels()` for display; logic uses codes only.
"""

from __future__ import annotations

import atexit
import difflib
import hashlib
import json
import logging
import os
import re
import sys
import time
import warnings
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
from pandas.api.types import union_categoricals

from jeugdkit.catalog import Catalog, DatasetSpec, VariableSpec, load_catalog
from jeugdkit.discover import FoundFile, Inventory, discover
from jeugdkit.errors import (
    CacheWarning,
    CatalogError,
    DataValueError,
    JeugdkitError,
    ReadError,
    VariableNotFoundError,
)

log = logging.getLogger(__name__)

CACHE_FORMAT = 2  # 2: source fingerprint, per column digests, page checksums
KEY_SHIFT = 30
RIN_DIGITS = 9
_META_KEY = b"jeugdkit"
_META_CRC_KEY = b"jeugdkit.crc32"  # of the metadata itself: the page checksums do not cover it
# The source fingerprint hashes this many blocks of this size, evenly spaced from the first
# byte to the last (all of a file up to 4 MiB).
_SAMPLE_BLOCK = 1 << 16
_SAMPLE_BLOCKS = 64


def person_key(rinpersoons, rinpersoon) -> pd.array:
    """Return the integer person key of RINPERSOONS/RINPERSOON arrays (<NA> where malformed)."""
    key, valid, _ = _person_key(np.asarray(rinpersoons, dtype=object),
                                np.asarray(rinpersoon, dtype=object))
    return pd.arrays.IntegerArray(np.where(valid, key, 0), ~valid)


def split_person_key(key) -> tuple[np.ndarray, np.ndarray]:
    """Return (RINPERSOONS, RINPERSOON) arrays of integer person keys (inside the RA only)."""
    key = np.asarray(key, dtype=np.int64)
    letters = np.array([chr(c) for c in (key >> KEY_SHIFT)], dtype=object)
    numbers = np.char.zfill((key & ((1 << KEY_SHIFT) - 1)).astype(str), RIN_DIGITS)
    return letters, numbers.astype(object)


# ----------------------------------------------------------------------------- conversion
def _as_bytes(values: np.ndarray, width: int) -> np.ndarray:
    """Return an (n, width) uint8 matrix of ASCII strings (shorter strings padded with 0)."""
    try:
        fixed = values.astype(f"S{width}")
    except (UnicodeEncodeError, ValueError, TypeError):
        fixed = np.array([str(v).encode("ascii", "replace")[:width] if v is not None else b""
                          for v in values], dtype=f"S{width}")
    return fixed.view(np.uint8).reshape(len(values), width)


def _person_key(s: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Return (key, valid mask, number of malformed non-missing keys)."""
    if s.dtype.kind == "f" or r.dtype.kind == "f":
        raise DataValueError("person key parts must be strings (RINPERSOON width 9, leading zeros)")
    rb = _as_bytes(r, RIN_DIGITS + 1)
    digits = rb[:, :RIN_DIGITS].astype(np.int64) - 48
    valid = ((digits >= 0) & (digits <= 9)).all(axis=1) & (rb[:, RIN_DIGITS] == 0)
    number = digits @ (10 ** np.arange(RIN_DIGITS - 1, -1, -1, dtype=np.int64))
    sb = _as_bytes(s, 2)
    letter = sb[:, 0].astype(np.int64)
    valid &= (letter >= 65) & (letter <= 90) & (sb[:, 1] == 0)
    key = (letter << KEY_SHIFT) | np.where(valid, number, 0)
    # blank or dash-only parts are missing codes, anything else that fails is malformed
    blank_r = np.isin(rb, (0, 32, 45)).all(axis=1)
    blank_s = np.isin(sb, (0, 32, 45)).all(axis=1)
    malformed = int((~valid & ~(blank_r | blank_s)).sum())
    return key, valid, malformed


def _strip_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (integer codes, stripped uniques) of a string or numeric array."""
    if values.dtype.kind in "fiu":
        numeric = values.astype(float)
        codes, uniques = pd.factorize(numeric, use_na_sentinel=True)
        uniques = np.array([str(int(u)) if float(u).is_integer() else str(u) for u in uniques],
                           dtype=object)
        return codes, uniques
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = np.array(["" if u is None else str(u).strip() for u in uniques], dtype=object)
    return codes, uniques


def _convert_code(values: np.ndarray, spec: VariableSpec, stats: dict) -> pd.Categorical:
    codes, uniques = _strip_codes(values)
    if values.dtype.kind in "fiu" and spec.codes:
        lengths = {len(c) for c in spec.codes}
        if len(lengths) == 1:  # numeric storage of zero-padded codes: 1 -> "01"
            width = lengths.pop()
            uniques = np.array([u.zfill(width) for u in uniques], dtype=object)
    missing = np.isin(uniques, spec.missing_codes)
    kept = uniques[~missing]
    categories, inverse = np.unique(kept.astype(str), return_inverse=True) if len(kept) else (
        np.array([], dtype=str), np.array([], dtype=np.int64))
    remap = np.full(len(uniques) + 1, -1, dtype=np.int64)
    remap[np.flatnonzero(~missing)] = inverse
    new_codes = remap[codes]  # codes == -1 (NA) picks remap[-1] == -1
    stats["missing"] = int((new_codes < 0).sum())
    if spec.codes is not None and len(categories):
        counts = np.bincount(new_codes[new_codes >= 0], minlength=len(categories))
        allowed = set(spec.codes)
        stats["unknown"] = {str(c): int(n) for c, n in zip(categories, counts)
                            if c not in allowed and n}
    return pd.Categorical.from_codes(new_codes, categories=list(categories.astype(object)))


def _convert_id(values: np.ndarray, spec: VariableSpec, stats: dict) -> pd.array:
    codes, uniques = _strip_codes(values)
    missing = np.isin(uniques, spec.missing_codes)
    hashed = pd.util.hash_array(uniques.astype(object), categorize=False).view(np.int64)
    out = hashed[codes] if len(uniques) else np.zeros(len(codes), dtype=np.int64)
    na = (codes < 0) | (missing[codes] if len(uniques) else True)
    stats["missing"] = int(na.sum())
    return pd.arrays.IntegerArray(out, na)


def _convert_date(values: np.ndarray, spec: VariableSpec, stats: dict, on_bad: str,
                  context: str) -> np.ndarray:
    n = len(values)
    if values.dtype.kind == "M":
        out = values.astype("datetime64[ns]")
        stats["missing"] = int(np.isnat(out).sum())
        return out
    if values.dtype.kind in "fiu":
        numeric = np.asarray(values, dtype=float)
        text = np.where(np.isnan(numeric), "", np.nan_to_num(numeric).astype(np.int64).astype(str))
        values = text.astype(object)
    raw = _as_bytes(values, 9)
    blank = np.isin(raw, (0, 32, 45)).all(axis=1)
    open_end = np.zeros(n, dtype=bool)
    if spec.open_end:
        target = np.frombuffer(spec.open_end.encode().ljust(9, b"\0"), dtype=np.uint8)
        open_end = (raw == target).all(axis=1)
    digits = raw[:, :8].astype(np.int16) - 48
    looks = ((digits >= 0) & (digits <= 9)).all(axis=1) & (raw[:, 8] == 0)
    y = digits[:, :4] @ np.array([1000, 100, 10, 1], dtype=np.int16).astype(np.int32)
    m = digits[:, 4:6].astype(np.int32) @ np.array([10, 1])
    d = digits[:, 6:8].astype(np.int32) @ np.array([10, 1])
    ok = looks & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31) & (y >= 1800)
    months = (np.where(ok, y, 1970) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (
        np.where(ok, m, 1) - 1)
    days = months.astype("datetime64[D]") + (np.where(ok, d, 1) - 1)
    ok &= days.astype("datetime64[M]") == months  # rejects 20230231
    bad = ~ok & ~blank & ~open_end
    if bad.any():
        examples = sorted({str(v) for v in values[bad][:1000]})[:5]
        message = (f"{context}: {int(bad.sum())} value(s) are not dates YYYYMMDD "
                   f"(e.g. {examples}); expected 8 digits of a real date, empty, or "
                   f"{spec.open_end or 'nothing else'} for an open end")
        if on_bad == "raise":
            raise DataValueError(message + ". To read them as missing and count them, use "
                                 "--on-bad-value missing (or JEUGDKIT_ON_BAD_VALUE=missing, or "
                                 "on_bad_value = \"missing\" under [analysis] in the settings).")
        stats["invalid"] = int(bad.sum())
        log.warning(message + " (read as missing)")
    out = days.astype("datetime64[ns]")
    out[~ok | open_end] = np.datetime64("NaT")
    stats["missing"] = int(blank.sum())
    if spec.open_end:
        stats["open_end"] = int(open_end.sum())
    return out


def _convert_number(values: np.ndarray, spec: VariableSpec, stats: dict, context: str):
    if values.dtype == object:
        stripped = pd.Series(values, dtype=object).str.strip()
        numeric = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float)
        missing_code = stripped.isin(list(spec.missing_codes)).to_numpy()
        bad = np.isnan(numeric) & ~missing_code
        if bad.any():
            stats["invalid"] = int(bad.sum())
            log.warning("%s: %d non-numeric value(s) read as missing", context, int(bad.sum()))
    else:
        numeric = np.asarray(values, dtype=float).copy()
    for sentinel in spec.sentinels:
        numeric[numeric == sentinel] = np.nan
    if spec.negative_missing:
        numeric[numeric < 0] = np.nan
    stats["missing"] = int(np.isnan(numeric).sum())
    return numeric


def reader_from_args(args, settings=None) -> Reader:
    """Return the Reader of a command: --data-root, --catalog, --cache-dir and how to treat
    bad values (--on-bad-value, else the settings' [analysis] on_bad_value when not the
    default, else JEUGDKIT_ON_BAD_VALUE, else stop)."""
    mode = getattr(args, "on_bad_value", None)
    if mode is None and settings is not None and settings.analysis.on_bad_value != "raise":
        mode = settings.analysis.on_bad_value
    return Reader(args.data_root, catalog=args.catalog, cache_dir=args.cache_dir,
                  on_bad_value=mode)


class MissingVariableWarning(UserWarning):
    """An assumed variable is not in a file: it is read as all missing."""


def closest_names(name: str, candidates, n: int = 3) -> list[str]:
    """Return up to ``n`` of a file's variable names that look most like ``name``."""
    upper = {c.upper(): c for c in candidates}
    return [upper[m] for m in difflib.get_close_matches(name.upper(), list(upper), n, 0.6)]


def _absent(spec: VariableSpec, n: int):
    """Return an all-missing column of a variable a file does not hold in its year."""
    if spec.kind == "code":
        return pd.Categorical.from_codes(np.full(n, -1), categories=[])
    if spec.kind == "id":
        return pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool))
    if spec.kind == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, np.nan)


def _normalise(frame: pd.DataFrame, plans: list) -> None:
    """Give every column the dtype of its kind, whether it came from the .sav or the cache."""
    for plan in plans:
        kind = plan.spec.kind if plan.kind == "absent" else plan.kind
        column = frame[plan.out]
        if kind == "code":
            if not isinstance(column.dtype, pd.CategoricalDtype):
                column = column.astype("category")
            cats = column.cat.categories
            if cats.dtype != object:
                column = column.cat.set_categories(cats.astype(object))
        elif kind in ("key", "id") and column.dtype != "Int64":
            column = column.astype("Int64")
        elif kind == "date" and column.dtype != "datetime64[ns]":
            column = column.astype("datetime64[ns]")
        elif kind == "number" and column.dtype != "float64":
            column = column.astype("float64")
        frame[plan.out] = column


@dataclass(frozen=True)
class ColumnPlan:
    """How to make one output column from one or two RA variables (picklable for workers)."""

    out: str
    kind: str  # key, code, id, date, number, absent
    sources: tuple[str, ...]
    spec: VariableSpec | None
    fingerprint: str


def _convert(plan: ColumnPlan, data: dict, on_bad: str, context: str):
    stats: dict = {}
    where = f"{context}, variable {'/'.join(plan.sources)}"
    if plan.kind == "key":
        try:
            key, valid, malformed = _person_key(data[plan.sources[0]], data[plan.sources[1]])
        except DataValueError as exc:
            raise DataValueError(f"{where}: {exc}") from None
        stats["missing"] = int((~valid).sum())
        if malformed:
            stats["invalid"] = malformed  # never show values: they are person keys
            log.warning("%s: %d malformed person key(s) read as missing", where, malformed)
        return pd.arrays.IntegerArray(key, ~valid), stats
    if plan.kind == "absent":
        return _absent(plan.spec, len(next(iter(data.values())))), {"absent": 1}
    values = data[plan.sources[0]]
    if plan.kind == "code":
        return _convert_code(values, plan.spec, stats), stats
    if plan.kind == "id":
        return _convert_id(values, plan.spec, stats), stats
    if plan.kind == "date":
        return _convert_date(values, plan.spec, stats, on_bad, where), stats
    return _convert_number(values, plan.spec, stats, where), stats


def _read_part(path: str, plans: list[ColumnPlan], offset: int, limit: int, on_bad: str,
               context: str) -> tuple[dict, dict]:
    """Read rows [offset, offset+limit) of a .sav and convert them (runs in worker processes)."""
    usecols = sorted({s for p in plans for s in p.sources if p.kind != "absent"})
    raw, meta = pyreadstat.read_sav(path, usecols=usecols, row_offset=offset, row_limit=limit,
                                    output_format="dict", disable_datetime_conversion=True)
    types = meta.readstat_variable_types
    data = {name: np.array(values, dtype=object if types.get(name) == "string" else float)
            for name, values in raw.items()}
    del raw
    columns, stats = {}, {}
    for plan in plans:
        columns[plan.out], stats[plan.out] = _convert(plan, data, on_bad, context)
    return columns, stats


def _read_part_args(args: tuple) -> tuple[dict, dict]:
    return _read_part(*args)


def _merge_stats(parts: list[dict]) -> dict:
    out: dict = {}
    for part in parts:
        for column, stats in part.items():
            merged = out.setdefault(column, {})
            for name, value in stats.items():
                if isinstance(value, dict):
                    merged[name] = dict(Counter(merged.get(name, {})) + Counter(value))
                else:
                    merged[name] = merged.get(name, 0) + value
    return out


def _concat_columns(parts: list) -> pd.Series:
    """Concatenate converted column chunks, unifying categoricals."""
    if len(parts) == 1:
        return pd.Series(parts[0])
    if isinstance(parts[0], pd.Categorical):
        return pd.Series(union_categoricals(parts, sort_categories=True))
    return pd.Series(pd.concat([pd.Series(p) for p in parts], ignore_index=True))


# ----------------------------------------------------------------------------- reports
@dataclass
class FileReport:
    """What reading one file gave: rows, cache use, and per column missing/unknown/invalid."""

    dataset: str
    year: int
    version: int
    path: str
    rows: int
    cache: str  # hit, miss, partial, off
    seconds: float
    columns: dict = field(default_factory=dict)

    def unknown_codes(self) -> dict:
        return {c: s["unknown"] for c, s in self.columns.items() if s.get("unknown")}


def default_cache_dir() -> Path:
    """Return JEUGDKIT_CACHE_DIR or the user's cache folder (Windows and POSIX)."""
    env = os.environ.get("JEUGDKIT_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "jeugdkit" / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "jeugdkit"


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(processes: int) -> ProcessPoolExecutor:
    """Return a process pool kept for the session (workers keep their imports warm)."""
    if processes not in _POOLS:
        import multiprocessing as mp
        method = "spawn" if sys.platform.startswith("win") else "forkserver"
        _POOLS[processes] = ProcessPoolExecutor(processes, mp_context=mp.get_context(method))
    return _POOLS[processes]


@atexit.register
def _shutdown_pools() -> None:
    for pool in _POOLS.values():
        pool.shutdown(cancel_futures=True)
    _POOLS.clear()


# ----------------------------------------------------------------------------- reader
class Reader:
    """Reads RA datasets of one data root through the catalog, with a Parquet cache.

    Parameters
    ----------
    data_root : the RA `G:` drive or a synthetic tree (default JEUGDKIT_DATA_ROOT).
    catalog : a Catalog, a path to a user catalog, or None (shipped + JEUGDKIT_CATALOG).
    cache_dir : where Parquet copies go (default `default_cache_dir()`); `use_cache=False` skips it.
    on_bad_value : "raise" (default) or "missing" for values that are not what the contract allows
        (unparseable dates); with "missing" they are counted in `log`.
    processes : worker processes for large files (default JEUGDKIT_READ_PROCESSES or min(cores, 4)).
    parallel_min_rows : files with fewer rows are read in this process.
    chunk_rows : rows per read task; bounds the memory a read needs beyond its result.

    Example
    -------
    >>> reader = Reader("G:/")
    >>> jh = reader.read("JGDHULPBUS", ["hulpvorm", "begin", "eind"], years=[2022, 2023])
    >>> reader.labels("JGDHULPBUS", "hulpvorm")["11"]
    'pleegzorg'
    """

    def __init__(self, data_root: str | os.PathLike | None = None,
                 catalog: Catalog | str | os.PathLike | None = None,
                 cache_dir: str | os.PathLike | None = None, use_cache: bool = True,
                 on_bad_value: str | None = None, processes: int | None = None,
                 parallel_min_rows: int = 500_000, chunk_rows: int = 250_000):
        if data_root is None:
            data_root = os.environ.get("JEUGDKIT_DATA_ROOT")
            if not data_root:
                raise JeugdkitError("no data root: pass --data-root or set JEUGDKIT_DATA_ROOT")
        self.data_root = Path(data_root)
        self.catalog = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.use_cache = use_cache
        on_bad_value = on_bad_value or os.environ.get("JEUGDKIT_ON_BAD_VALUE") or "raise"
        if on_bad_value not in ("raise", "missing"):
            raise JeugdkitError(f"on_bad_value {on_bad_value!r}: expected 'raise' or 'missing' "
                                "(--on-bad-value, JEUGDKIT_ON_BAD_VALUE or [analysis] "
                                "on_bad_value in the settings)")
        self.on_bad_value = on_bad_value
        if processes is None:
            processes = int(os.environ.get("JEUGDKIT_READ_PROCESSES", min(os.cpu_count() or 1, 4)))
        self.processes = max(1, processes)
        self.parallel_min_rows = parallel_min_rows
        self.chunk_rows = chunk_rows
        self.log: list[FileReport] = []
        self.gaps: dict[tuple[str, str], dict] = {}
        """Assumed variables a file lacks, by (dataset, logical name): read as all missing."""
        self._inventory: Inventory | None = None
        self._labels: dict[tuple[str, str], dict] = {}

    @property
    def inventory(self) -> Inventory:
        """Return the discovered files of the data root (computed once)."""
        if self._inventory is None:
            self._inventory = discover(self.data_root, self.catalog)
        return self._inventory

    def files(self, dataset: str, years: list[int] | None = None) -> list[FoundFile]:
        """Return the files `read` would use for a dataset and years."""
        spec = self.catalog[dataset]
        if spec.history == "cumulative":
            if years is not None and len(years) != 1:
                raise JeugdkitError(
                    f"dataset {dataset} is cumulative: read one edition (its newest year holds "
                    f"all history), not years {years}")
            if years is None:
                return self.inventory.files(dataset)[-1:]
            entry = self.inventory[dataset]
            editions = {f.year: f for f in sorted(entry.candidates, key=lambda f: f.version)}
            if years[0] not in editions:
                return self.inventory.files(dataset, years)
            return [editions[years[0]]]
        return self.inventory.files(dataset, years)

    def read(self, dataset: str, columns: list[str] | None = None,
             years: list[int] | int | None = None,
             classification_year: int | None = None) -> pd.DataFrame:
        """Return a dataset as a typed DataFrame: key columns, the requested logical columns,
        and `year` for per-year datasets.

        `columns` are logical names from the catalog (all when None; key columns always come).
        `years`: per-year datasets default to every year found; a cumulative dataset reads its
        newest edition unless one year is given. `classification_year` fills `{C}` in wide
        variable names (VSLGWBTAB `gem{C}`).
        """
        spec = self.catalog[dataset]
        if isinstance(years, int):
            years = [years]
        if columns is None:
            columns = [c for c in spec.variables
                       if not spec.variables[c].is_wide or classification_year is not None]
        for c in columns:
            spec.column(c)
        frames = []
        for found in self.files(dataset, years):
            frame = self._read_file(spec, found, columns, classification_year)
            if spec.history == "per_year":
                frame.insert(0, "year", np.int16(found.year))
            frames.append(frame)
        if len(frames) == 1:
            return frames[0]
        return pd.DataFrame({name: _concat_columns([f[name].array for f in frames])
                             for name in frames[0].columns})

    def classification_years(self, dataset: str = "VSLGWBTAB", column: str = "gemeente",
                             year: int | None = None) -> list[int]:
        """Return the classification years C for which a wide variable (`gem{C}`) is present
        in the newest file of a dataset (or a given edition)."""
        var = self.catalog[dataset].column(column)
        if not var.is_wide:
            raise CatalogError(f"{dataset}.{column} ({var.name}) is not wide by year")
        found = self.files(dataset, [year] if year is not None else None)[-1]
        prefix, _, suffix = var.name.partition("{C}")
        rx = re.compile("^" + re.escape(prefix.lower()) + r"(\d{4})" + re.escape(suffix.lower())
                        + "$")
        return sorted(int(m[1]) for c in self._metadata(found).column_names
                      if (m := rx.match(c.lower())))

    def labels(self, dataset: str, column: str, year: int | None = None) -> dict[str, str]:
        """Return {code: label} of a logical variable, from the newest file (or a given year)."""
        files = self.files(dataset, [year] if year is not None and
                           self.catalog[dataset].history == "per_year" else None)
        found = files[-1]
        key = (str(found.path), column)
        if key not in self._labels:
            spec = self.catalog[dataset]
            meta = self._metadata(found)
            source = self._resolve(spec, found, meta, column, None, required=False)
            raw = meta.variable_value_labels.get(source, {}) if source else {}
            var = spec.variables.get(column)
            out = {}
            for value, label in raw.items():
                code = str(int(value)) if isinstance(value, float) and value.is_integer() \
                    else str(value).strip()
                if var is not None and var.codes and len({len(c) for c in var.codes}) == 1:
                    code = code.zfill(len(var.codes[0]))
                out[code] = label
            self._labels[key] = out
        return dict(self._labels[key])

    # ------------------------------------------------------------------ internals
    def _metadata(self, found: FoundFile):
        try:
            _, meta = pyreadstat.read_sav(str(found.path), metadataonly=True)
        except Exception as exc:  # pyreadstat raises its own types and OSErrors
            raise ReadError(
                f"{found.path}: cannot read it as an SPSS .sav file ({type(exc).__name__}: {exc}). "
                "Is it truncated or still being copied?"
            ) from exc
        return meta

    def _resolve(self, spec: DatasetSpec, found: FoundFile, meta, logical: str,
                 classification_year: int | None, required: bool = True) -> str | None:
        """Return the file's actual name of a logical variable (case-insensitive)."""
        by_lower = {c.lower(): c for c in meta.column_names}
        if logical in spec.keys:
            raise CatalogError(f"'{logical}' is a key of {spec.name}, not a variable")
        var = spec.column(logical)
        name = var.ra_name(classification_year)
        actual = by_lower.get(name.lower())
        if actual is None and required:
            extra = ""
            if var.is_wide:
                years = sorted(c[len(name) - 4:] for c in meta.column_names
                               if c.lower().startswith(name[:-4].lower()))
                extra = f" Classification years in the file: {years}."
            raise VariableNotFoundError(
                f"{found.path}: variable {name} (catalog key "
                f"datasets.{spec.name}.variables.{logical}.name) not found.{extra} "
                f"The file has: {sorted(meta.column_names)}. If the RA uses another name, set it "
                "in a user catalog (--catalog or JEUGDKIT_CATALOG)."
            )
        return actual

    def _plans(self, spec: DatasetSpec, found: FoundFile, meta, columns: list[str],
               classification_year: int | None) -> list[ColumnPlan]:
        by_lower = {c.lower(): c for c in meta.column_names}
        plans = []
        for key, (s_name, r_name) in spec.keys.items():
            actual = [by_lower.get(n.lower()) for n in (s_name, r_name)]
            if None in actual:
                missing = [n for n, a in zip((s_name, r_name), actual) if a is None]
                raise VariableNotFoundError(
                    f"{found.path}: key variable(s) {missing} (catalog key "
                    f"datasets.{spec.name}.keys.{key}) not found. The file has: "
                    f"{sorted(meta.column_names)}."
                )
            fp = hashlib.sha1(f"key:{s_name.lower()}:{r_name.lower()}".encode()).hexdigest()[:12]
            plans.append(ColumnPlan(key, "key", tuple(actual), None, fp))
        for logical in columns:
            var = spec.column(logical)
            expected = var.expected_in(found.year)
            # a variable whose RA name is assumed (not publicly confirmed) may be lacking in a
            # real delivery: it is read as all missing and recorded, so that only the outputs
            # that need it are left out; a confirmed variable that is lacking is an error
            actual = self._resolve(spec, found, meta, logical, classification_year,
                                   required=expected and not var.assumed)
            if actual is None:  # outside the variable's years, or an assumed one lacking
                if expected:
                    self._record_gap(spec, found, meta, logical, classification_year)
                plans.append(ColumnPlan(logical, "absent", (), var, "absent"))
                continue
            # a wide variable is cached per classification year: gemeente@2023
            out = f"{logical}@{classification_year}" if var.is_wide else logical
            plans.append(ColumnPlan(out, var.kind, (actual,), var,
                                    var.fingerprint(classification_year)))
        return plans

    def _record_gap(self, spec: DatasetSpec, found: FoundFile, meta, logical: str,
                    classification_year: int | None) -> None:
        name = spec.column(logical).ra_name(classification_year)
        gap = self.gaps.setdefault((spec.name, logical), {
            "dataset": spec.name, "variabele": name, "catalogus": logical, "bestanden": [],
            "suggesties": closest_names(name, meta.column_names)})
        if found.path.name not in gap["bestanden"]:
            gap["bestanden"].append(found.path.name)
            warnings.warn(f"{found.path}: assumed variable {name} (catalog key datasets."
                          f"{spec.name}.variables.{logical}.name) not found; read as missing, "
                          "outputs that need it are left out. Closest names in the file: "
                          f"{gap['suggesties'] or 'none'}", MissingVariableWarning, stacklevel=4)

    def lacks(self, dataset: str, *logical: str) -> list[dict]:
        """Return the gaps (see ``gaps``) among the given variables of a dataset read so far."""
        return [self.gaps[(dataset, name)] for name in logical if (dataset, name) in self.gaps]

    def _cache_path(self, found: FoundFile) -> Path:
        digest = hashlib.sha256(str(found.path.resolve()).encode()).hexdigest()[:16]
        return self.cache_dir / f"{found.path.stem}-{digest}.parquet"

    def _read_file(self, spec: DatasetSpec, found: FoundFile, columns: list[str],
                   classification_year: int | None) -> pd.DataFrame:
        start = time.perf_counter()
        cached_meta, cache_file = None, None
        if self.use_cache:
            # taken before the .sav is read: a file replaced during the read leaves a cache that
            # names the old file, so the next read is a miss rather than stale
            source_id = _source_id(found.path)
            cache_file = self._cache_path(found)
            try:
                cached_meta = _read_cache_meta(cache_file, source_id)
            except _BadCache as bad:
                _discard_cache(cache_file, found.path, str(bad))

        meta = self._metadata(found)
        rows = meta.number_rows
        plans = self._plans(spec, found, meta, columns, classification_year)
        if cached_meta and rows is not None and cached_meta["rows"] != rows:
            _discard_cache(cache_file, found.path, f"holds {cached_meta['rows']} rows where the "
                           f".sav header says {rows}")
            cached_meta = None
        have = cached_meta["columns"] if cached_meta else {}
        # a column cached while bad values were read as missing is read again when they must
        # stop the run: the cache never hides a bad value
        todo = [p for p in plans if have.get(p.out, {}).get("fingerprint") != p.fingerprint
                or (self.on_bad_value == "raise"
                    and have.get(p.out, {}).get("stats", {}).get("invalid"))]
        reuse = [p.out for p in plans if p not in todo]
        cached = _load_intact(cache_file, reuse, cached_meta, rows, found.path) if reuse \
            else None
        if reuse and cached is None:
            have, todo, reuse = {}, plans, []
        new_columns, new_stats = (self._read_sav(found, meta, todo, str(found.path)) if todo
                                  else ({}, {}))
        frame = pd.DataFrame({p.out: new_columns[p.out] if p in todo else cached[p.out]
                              for p in plans})
        stats = {p.out: new_stats[p.out] if p in todo else have[p.out]["stats"] for p in plans}
        _normalise(frame, plans)

        state = "off"
        if self.use_cache:
            state = "hit" if not todo else ("partial" if reuse else "miss")
            if todo:  # rewrite the cache with these columns plus those cached before
                columns_meta = {p.out: {"fingerprint": p.fingerprint, "stats": stats[p.out],
                                        "digest": _column_digest(frame[p.out])} if p in todo
                                else have[p.out] for p in plans}
                others = [c for c in have if c not in columns_meta]
                frame_all = frame
                if others:
                    # carried forward only once proven intact, or a damaged column would be
                    # written again under its old digest
                    kept = _load_intact(cache_file, others, cached_meta, rows, found.path)
                    if kept is not None:
                        frame_all = pd.concat([frame, kept], axis=1)
                        columns_meta.update({c: have[c] for c in others})
                _write_cache(cache_file, frame_all,
                             {**source_id, "rows": len(frame), "columns": columns_meta})
        frame.columns = [c.split("@")[0] for c in frame.columns]
        report = FileReport(spec.name, found.year, found.version, str(found.path), len(frame),
                            state, round(time.perf_counter() - start, 3), stats)
        self.log.append(report)
        for column, unknown in report.unknown_codes().items():
            log.warning("%s: variable %s has %d value(s) with codes the catalog does not list: %s",
                        found.path, column, sum(unknown.values()), sorted(unknown))
        return frame

    def _read_sav(self, found: FoundFile, meta, plans: list[ColumnPlan],
                  context: str) -> tuple[dict, dict]:
        rows = meta.number_rows
        try:
            # Bounded chunks keep memory flat: a worker holds at most chunk_rows rows of
            # Python strings at a time, whatever the file's size.
            if rows is not None and rows > self.chunk_rows:
                bounds = list(range(0, rows, self.chunk_rows)) + [rows]
                tasks = [(str(found.path), plans, a, b - a, self.on_bad_value, context)
                         for a, b in zip(bounds[:-1], bounds[1:])]
                if self.processes > 1 and rows >= self.parallel_min_rows:
                    pool = _pool(self.processes)
                    parts = list(pool.map(_read_part_args, tasks))
                else:
                    parts = [_read_part(*task) for task in tasks]
            else:
                parts = [_read_part(str(found.path), plans, 0, 0, self.on_bad_value, context)]
        except JeugdkitError:
            raise
        except Exception as exc:
            raise ReadError(
                f"{found.path}: reading failed ({type(exc).__name__}: {exc}). The file may be "
                "truncated or damaged; ask for a fresh copy."
            ) from exc
        columns = {p.out: _concat_columns([part[0][p.out] for part in parts]) for p in plans}
        stats = _merge_stats([part[1] for part in parts])
        n = {len(c) for c in columns.values()}
        if rows is not None and n and n != {rows}:
            raise ReadError(f"{found.path}: header says {rows} rows, read {n}; file truncated?")
        return columns, stats


def _load_intact(cache_file: Path, columns: list[str], meta: dict, rows, source: Path):
    """Return cached columns proven intact, or None once a bad entry is discarded (warned)."""
    try:
        return _load_cache(cache_file, columns, meta, rows)
    except _BadCache as bad:
        _discard_cache(cache_file, source, str(bad))
        return None


class _BadCache(Exception):
    """A cache entry that cannot be read or does not prove it holds what was written."""


def _source_fingerprint(path: Path, size: int) -> str:
    """Return a SHA-256 of a .sav's first and last 64 KiB and 62 blocks evenly spaced between
    (of the whole file up to 4 MiB).

    Size and mtime miss a file rewritten in place that got its old mtime back (a restore, a copy
    tool that keeps times). Hashing all of a multi-GB file on a network drive at every read would
    cost much of what the cache saves; the sample reads 4 MiB. The first block holds the .sav
    header (row count, creation date and time, variable dictionary), which every rewrite by SPSS
    or pyreadstat changes; the others catch data rewritten in the same shape.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        if size <= _SAMPLE_BLOCK * _SAMPLE_BLOCKS:
            digest.update(fh.read())
        else:
            for i in range(_SAMPLE_BLOCKS):
                fh.seek((size - _SAMPLE_BLOCK) * i // (_SAMPLE_BLOCKS - 1))
                digest.update(fh.read(_SAMPLE_BLOCK))
    return digest.hexdigest()


def _source_id(path: Path) -> dict:
    """Return what a cache entry must match of its source: path, size, mtime and fingerprint."""
    try:
        stat = path.stat()
        fingerprint = _source_fingerprint(path, stat.st_size)
    except OSError as exc:
        raise ReadError(f"{path}: cannot read it ({type(exc).__name__}: {exc})") from exc
    return {"source": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "fingerprint": fingerprint, "format": CACHE_FORMAT}


def _column_digest(column: pd.Series) -> str:
    """Return a CRC-32 of a column's values that survives the round trip through Parquet.

    It hashes values, not storage: a hash of a category's value rather than its code (the order
    of categories may change), 0 under a missing value (the bytes under a mask are arbitrary) and
    one NaN. CRC-32 rather than SHA-256 because it runs at every warm read and only has to
    catch damage, not an adversary: about 4 ms per column of 2 million rows against 25 ms.
    """
    missing = column.isna().to_numpy()
    if missing.all():  # an all-missing column may come back from Parquet as nulls of any type
        return f"{zlib.crc32(missing.view(np.uint8)):08x}"
    if isinstance(column.dtype, pd.CategoricalDtype):
        hashed = pd.util.hash_array(column.cat.categories.to_numpy(dtype=object))
        # a missing value (code -1) picks the appended 0
        data = np.append(hashed, np.uint64(0))[column.cat.codes.to_numpy()]
    elif column.dtype.kind == "M":
        data = column.to_numpy().view(np.int64)  # NaT is one fixed integer
    elif column.dtype.kind == "f":
        data = column.to_numpy()
        data = np.where(missing, np.nan, data)
    else:
        data = column.to_numpy(dtype=np.int64, na_value=0)
    crc = zlib.crc32(np.ascontiguousarray(data).view(np.uint8))
    return f"{zlib.crc32(missing.view(np.uint8), crc):08x}"


def _read_cache_meta(cache_file: Path, source_id: dict) -> dict | None:
    """Return the cache's metadata if it belongs to this exact source file, else None.

    Raises _BadCache if the file exists but is not a cache entry of the kit (truncated, garbage,
    no metadata).
    """
    if not cache_file.exists():
        return None
    try:
        raw = pq.read_schema(cache_file).metadata or {}
    except Exception as exc:  # Arrow raises OSError, ArrowInvalid and others
        raise _BadCache(f"is unreadable ({_one_line(exc)})") from None
    if _META_KEY not in raw or _META_CRC_KEY not in raw:
        raise _BadCache("has no jeugdkit metadata")
    if raw[_META_CRC_KEY] != _crc32(raw[_META_KEY]):
        raise _BadCache("has metadata that do not match their checksum")
    try:
        meta = json.loads(raw[_META_KEY])
    except ValueError as exc:
        raise _BadCache(f"has unreadable metadata ({_one_line(exc)})") from None
    if any(meta.get(k) != v for k, v in source_id.items()):
        return None  # an older source, catalog or format: rebuilt as a plain miss
    return meta


def _load_cache(cache_file: Path, columns: list[str], meta: dict, rows: int | None) -> pd.DataFrame:
    """Return cached columns once they prove they are what was written from the source.

    Raises _BadCache if a page fails its checksum, the file does not decode, it does not hold
    `rows` rows (the .sav header's count; the recorded one if the header has none) or a column's
    values do not match their digest.
    """
    try:
        table = pq.read_table(cache_file, columns=columns, page_checksum_verification=True)
        frame = table.to_pandas()
    except Exception as exc:  # Arrow raises OSError, ArrowInvalid and others
        raise _BadCache(f"is unreadable ({_one_line(exc)})") from None
    expected, source = (rows, "the .sav header") if rows is not None else (meta["rows"],
                                                                           "its metadata")
    if len(frame) != expected:
        raise _BadCache(f"holds {len(frame)} rows where {source} says {expected}")
    if list(frame.columns) != columns:
        raise _BadCache(f"holds columns {list(frame.columns)} where {columns} were asked for")
    for name in columns:
        try:
            digest = _column_digest(frame[name])
        except Exception as exc:  # a column that came back as another type than was written
            raise _BadCache(f"has column {name} in another form than written "
                            f"({_one_line(exc)})") from None
        if digest != meta["columns"][name].get("digest"):
            raise _BadCache(f"has values in column {name} that do not match its digest")
    return frame


def _crc32(data: bytes) -> bytes:
    return f"{zlib.crc32(data):08x}".encode()


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _discard_cache(cache_file: Path, source: Path, problem: str) -> None:
    """Warn that a cache entry is bad and remove it; the caller reads the .sav instead."""
    warnings.warn(f"cache {cache_file} of {source} {problem}: removed it and read the .sav again",
                  CacheWarning, stacklevel=4)
    try:
        cache_file.unlink(missing_ok=True)
    except OSError:  # open elsewhere (Windows): the rewrite replaces it or warns
        pass


def _write_cache(cache_file: Path, frame: pd.DataFrame, meta: dict) -> None:
    """Write the Parquet cache atomically: a failed write leaves no half-written file."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_name(cache_file.name + f".{os.getpid()}.tmp")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        encoded = json.dumps(meta).encode()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               _META_KEY: encoded,
                                               _META_CRC_KEY: _crc32(encoded)})
        pq.write_table(table, tmp, compression="zstd", write_page_checksum=True)
        os.replace(tmp, cache_file)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        warnings.warn(f"could not write cache {cache_file}: {exc}", stacklevel=3)


def report_frame(reports: list[FileReport]) -> pd.DataFrame:
    """Return the read log as a tidy frame (one row per file and column)."""
    rows = []
    for r in reports:
        base = {k: v for k, v in asdict(r).items() if k != "columns"}
        for column, stats in r.columns.items():
            rows.append({**base, "column": column, "missing": stats.get("missing", 0),
                         "invalid": stats.get("invalid", 0),
                         "unknown": sum(stats.get("unknown", {}).values())})
    return pd.DataFrame(rows)
