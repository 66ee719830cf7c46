"""Release statistics computed outside the session (e.g. Kaplan-Meier quantiles) with their n.

Some statistics cannot be computed by :meth:`ExportSession.stats_table` from one value per unit:
a Kaplan-Meier median needs durations *and* censoring. The caller computes them per cell and
passes, per cell, the unit counts the statistic rests on (e.g. trajecten and events). A cell's
statistics are released only when every count of the cell reaches ``min_units``; otherwise they
are suppressed (primary). Quantiles are not additive, so there is no secondary suppression
(as for medians in ``stats_table``). Minimum and maximum are refused by name.

Example::

    km = pd.DataFrame({"hulpvorm": ["02", "totaal"], "p50": [180.0, 210.0],
                       "trajecten": [40, 95], "gebeurtenissen": [31, 70]})
    out = run.precomputed_table(km, ["hulpvorm"], values=["p50"],
                                counts=["trajecten", "gebeurtenissen"], name="duur",
                                unit="trajecten", population="trajecten-gestart-2023",
                                method="Kaplan-Meier (statsmodels SurvfuncRight)")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.output.keys import check_no_person_keys


def precomputed_table(session, table: pd.DataFrame, dims, *, values, counts, name: str,
                      unit: str, population: str, method: str = "pre-computed statistic",
                      description: str = "", min_units: int | None = None) -> pd.DataFrame:
    """Return the released statistics: ``dims`` + ``values``, NA where a count is too small.

    ``table`` holds one row per cell (margins coded with the total label, as the caller
    computed them). ``counts`` are columns of unit counts per cell; they are checked, not
    released (release counts with ``freq_table``).
    """
    from jeugdkit.output.session import Output, _tightened

    session._new_name(name)
    rules = _tightened(session.rules, {"min_units": min_units}, f"output {name!r}")
    dims, values, counts = list(dims), list(values), list(counts)
    session._refuse_extremes(name, [*values, *dims])
    missing = [c for c in [*dims, *values, *counts] if c not in table.columns]
    if missing:
        raise JeugdkitError(f"output {name!r}: columns {missing} are not in the table "
                            f"(columns: {list(table.columns)})")
    if table[dims].astype(str).duplicated().any():
        raise JeugdkitError(f"output {name!r}: more than one row per cell of {dims}")
    n = table[counts].apply(pd.to_numeric, errors="raise").fillna(0)
    small = (n < rules.min_units).to_numpy()
    hidden = small.any(axis=1)
    out = table[dims].astype(str).reset_index(drop=True)
    for v in values:
        col = pd.to_numeric(table[v], errors="raise").astype("Float64").reset_index(drop=True)
        col[hidden] = pd.NA
        out[v] = col
    check_no_person_keys(out, name, rules)
    out.attrs.update({"name": name, "dims": dims, "statistic": values,
                      "population": str(population), "unit": unit})
    reasons = [", ".join(f"{c} < {rules.min_units}" for c, s in zip(counts, row) if s)
               for row in small]
    cells = [{**dict(zip(dims, out.loc[i, dims])), "reason": reasons[i]}
             for i in np.flatnonzero(hidden)]
    sdc = {"summary": {"suppressed": bool(hidden.any()), "threshold": len(cells),
                       "secondary": 0, "nk-rule": 0, "p-ratio": 0, "negative": 0,
                       "missing": 0},
           "cells": {"threshold": cells, "secondary": []}, "solver": {"rounds": 0}}
    rules_checked = [f"threshold: every released cell rests on >= {rules.min_units} units in "
                     f"each of {counts}",
                     "no minimum or maximum", "no person keys in names or values",
                     "not additive: no secondary suppression (as medians in stats_table)"]
    props = {"method": method, "unit": unit, "population": str(population), "dims": dims,
             "statistic": values, "counts_checked": counts, "n_cells": len(out),
             "threshold": rules.min_units}
    summary = f"pass; {int(hidden.sum())} cells suppressed" if hidden.any() else "pass"
    session.outputs[name] = Output(name, "table", out, props, rules_checked, sdc, "pass",
                                   summary, f"precomputed_table(dims={dims}, values={values}, "
                                   f"counts={counts})", description)
    return out
