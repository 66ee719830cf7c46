"""Person keys in output: any column name, label or value that looks like one blocks an export."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from jeugdkit.errors import DisclosureError
from jeugdkit.settings import OutputControl


def _as_text(value) -> str | None:
    """Return the decimal text of a label or an integral number, else None."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return str(abs(int(value)))
    if isinstance(value, (float, np.floating)):
        if np.isfinite(value) and float(value).is_integer():
            return str(abs(int(value)))
        return None
    if isinstance(value, str):
        return value
    return str(value)


def find_person_keys(obj, rules: OutputControl | None = None,
                     names: Iterable[str] = ()) -> list[str]:
    """Return descriptions of everything in ``obj`` that looks like a person key.

    ``obj`` is a DataFrame, Series, or an iterable of labels; ``names`` are extra names
    (parameter names of a model, axis labels of a figure) to check.
    """
    rules = rules or OutputControl()
    col_re = re.compile(rules.key_column_pattern)
    val_re = re.compile(rules.key_pattern)
    found: list[str] = []

    def check_name(what: str, name) -> None:
        text = str(name)
        if col_re.search(text) or val_re.search(text):
            found.append(f"{what} {text!r}")

    def check_values(what: str, values) -> None:
        values = pd.Series(values)
        if pd.api.types.is_float_dtype(values.dtype):
            v = values.to_numpy(dtype=float, na_value=np.nan)
            v = v[np.isfinite(v)]
            v = v[v == np.round(v)]
            texts = pd.Series(np.abs(v).astype(np.int64).astype(str))
        elif pd.api.types.is_integer_dtype(values.dtype):
            texts = values.dropna().astype("int64").abs().astype(str)
        else:
            texts = values.dropna().map(_as_text).dropna().astype(str)
        if texts.empty:
            return
        hits = texts[texts.str.contains(val_re)]
        if not hits.empty:
            found.append(f"{what}: {len(hits)} value(s) like a person key, e.g. "
                         f"{hits.iloc[0][:3]}... (9 or 11 digits)")

    if isinstance(obj, pd.Series):
        obj = obj.to_frame()
    if isinstance(obj, pd.DataFrame):
        for name in [*obj.columns, *[n for n in obj.index.names if n is not None]]:
            check_name("column", name)
        for col in obj.columns:
            check_values(f"column {col!r}", obj[col])
        if not isinstance(obj.index, pd.RangeIndex):
            for level in range(obj.index.nlevels):
                check_values("index", obj.index.get_level_values(level))
    elif obj is not None:
        check_values("values", list(obj))
    for name in names:
        check_name("name", name)
    return found


def check_no_person_keys(obj, output: str, rules: OutputControl | None = None,
                         names: Iterable[str] = ()) -> None:
    """Raise DisclosureError when ``obj`` (or ``names``) holds anything like a person key."""
    found = find_person_keys(obj, rules, names)
    if found:
        raise DisclosureError(
            f"output {output!r} is blocked: it holds what looks like a person key "
            f"({'; '.join(found[:5])}). Drop key columns (RINPERSOON, rin, ...) and "
            "aggregate before export; report amounts in thousands if they have 9 or 11 digits"
        )
