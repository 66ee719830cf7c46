"""Property: over random small tables and linked table pairs, nothing below the threshold is
released (zeros aside, by design) and no suppressed cell can be pinned by the LP audit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jeugdkit.output import ExportSession, audit_tables

THRESHOLD = 10


@st.composite
def unit_tables(draw):
    """Return leaf counts over dims a (2-4 codes), b (2-3 codes), c (1-2 codes)."""
    sizes = [draw(st.integers(2, 4)), draw(st.integers(2, 3)), draw(st.integers(1, 2))]
    n = int(np.prod(sizes))
    counts = draw(st.lists(st.one_of(st.integers(0, 12), st.integers(0, 60)),
                           min_size=n, max_size=n))
    rows = [(f"a{i}", f"b{j}", f"c{k}", counts[(i * sizes[1] + j) * sizes[2] + k])
            for i in range(sizes[0]) for j in range(sizes[1]) for k in range(sizes[2])]
    return pd.DataFrame(rows, columns=["a", "b", "c", "n"])


def check(tables):
    for t in tables:
        shown = t["n"].dropna()
        assert ((shown >= THRESHOLD) | (shown == 0)).all()
    bounds = audit_tables(tables)
    assert (bounds["width"] >= THRESHOLD - 1e-6).all(), bounds.sort_values("width").head()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_tables())
def test_single_tables_are_protected(data):
    run = ExportSession("prop", run_timestamp="fixed")
    table = run.freq_table(data, ["a", "b", "c"], count="n", name="t", unit="j",
                           population="p")
    check([table])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit_tables(), st.booleans())
def test_linked_table_pairs_are_protected(data, joint):
    run = ExportSession("prop", run_timestamp="fixed")
    specs = [{"data": data, "dims": ["a", "b"], "count": "n", "name": "ab", "unit": "j",
              "population": "p"},
             {"data": data, "dims": ["a", "c"], "count": "n", "name": "ac", "unit": "j",
              "population": "p"}]
    if joint:
        tables = run.freq_tables(specs)
    else:
        tables = []
        for s in specs:
            s = dict(s)
            tables.append(run.freq_table(s.pop("data"), s.pop("dims"), **s))
    check(tables)
