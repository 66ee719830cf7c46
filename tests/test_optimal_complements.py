"""Complements chosen by cost: the cut-generation optimum equals brute force on small tables,
its duals reproduce the exact LP width, and in a run it never loses more than the greedy
pattern while every suppressed cell keeps an exact LP interval of at least the width."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from jeugdkit.output import ExportSession, audit_tables
from jeugdkit.output.audit import cell_equations, feasible_intervals
from jeugdkit.output.optimal import AttackLP, optimal_pattern
from jeugdkit.settings import OutputControl

WIDTH = 10.0


def grid(inner):
    """Return (values, equations) of a 2D table with all margins, cells in row-major order."""
    inner = np.asarray(inner, dtype=float)
    rows, cols = inner.shape
    full = np.zeros((rows + 1, cols + 1))
    full[:rows, :cols] = inner
    full[rows, :cols] = inner.sum(0)
    full[:rows, cols] = inner.sum(1)
    full[rows, cols] = inner.sum()
    idx = np.arange(full.size).reshape(full.shape)
    eqs = [(int(idx[i, cols]), [int(x) for x in idx[i, :cols]]) for i in range(rows + 1)]
    eqs += [(int(idx[rows, j]), [int(x) for x in idx[:rows, j]]) for j in range(cols + 1)]
    return full.ravel(), eqs


def widths(values, eqs, hidden):
    lo, hi = feasible_intervals(values, eqs, np.where(hidden, 0.0, values),
                                np.where(hidden, np.inf, values))
    return hi - lo


def brute_force(values, eqs, primary):
    """Cheapest set of extra cells (cost value + 1) such that every suppressed cell's exact LP
    interval is at least WIDTH wide, by trying every subset."""
    free = [c for c in range(len(values)) if not primary[c]]
    best = np.inf
    for k in range(len(free) + 1):
        for extra in itertools.combinations(free, k):
            cost = sum(values[c] + 1 for c in extra)
            if cost >= best:
                continue
            hidden = primary.copy()
            hidden[list(extra)] = True
            if np.all(widths(values, eqs, hidden)[hidden] >= WIDTH - 1e-7):
                best = cost
    return best


def solve(values, eqs, primary, **kw):
    n = len(values)
    return optimal_pattern(values, eqs, cell_equations(n, eqs), np.full(n, WIDTH),
                           free=~primary, known=np.zeros(n, bool), unknown=primary,
                           required=primary.copy(), **kw)


@pytest.mark.parametrize("inner", [
    [[15, 7, 0], [22, 5, 5]],
    [[25, 7, 4], [7, 7, 2]],
    [[28, 3, 22], [3, 16, 3]],
    [[1, 15, 1], [1, 1, 12], [1, 1, 24]],
    [[4, 12, 23], [1, 17, 1], [1, 1, 1]],
])
def test_the_optimum_equals_brute_force(inner):
    values, eqs = grid(inner)
    primary = (values > 0) & (values < WIDTH)
    res = solve(values, eqs, primary)
    assert res.status == "optimal"
    hidden = primary.copy()
    hidden[~primary] = res.suppress
    # the pattern is safe by an LP the optimiser did not use, and no subset is cheaper
    assert np.all(widths(values, eqs, hidden)[hidden] >= WIDTH - 1e-7)
    assert res.cost == pytest.approx(brute_force(values, eqs, primary))
    assert res.cost == pytest.approx(float((values[hidden & ~primary] + 1).sum()))


def test_the_duals_bound_the_width_and_are_tight_at_their_pattern():
    # (A,x)=3 with its row and column partners: the hypercube pattern, plus a pattern where
    # one corner is released, so the cell is narrow
    values, eqs = grid([[3, 20, 30], [15, 25, 12], [40, 18, 22]])
    n = len(values)
    lp = AttackLP(values, eqs, range(len(eqs)), range(n))
    rng = np.random.default_rng(5)
    for _ in range(12):
        hidden = rng.random(n) < 0.45
        hidden[0] = True
        lp.set_pattern(hidden)
        width, coefs = lp.bound(0)
        exact = widths(values, eqs, hidden)[0]
        assert width == pytest.approx(exact, abs=1e-6)
        if np.isfinite(width):
            # at the pattern the duals came from, the bound is the width itself ...
            at = sum(k for c, k in coefs.items() if hidden[c])
            assert at == pytest.approx(width, abs=1e-6)
            # ... and at any other pattern it is never below that pattern's width
            other = rng.random(n) < 0.5
            other[0] = True
            bound = sum(k for c, k in coefs.items() if other[c])
            assert bound >= widths(values, eqs, other)[0] - 1e-6


def test_feasible_points_kept_by_the_lp_are_tables_the_attacker_cannot_rule_out():
    values, eqs = grid([[3, 20, 30], [15, 25, 12], [40, 18, 22]])
    primary = (values > 0) & (values < WIDTH)
    res = solve(values, eqs, primary)
    hidden = primary.copy()
    hidden[~primary] = res.suppress
    assert res.points
    for cells, x in res.points:
        table = values.copy()
        table[cells] = x
        assert hidden[cells].all() and table.min() >= -1e-9
        for p, kids in eqs:
            assert table[p] == pytest.approx(table[kids].sum(), abs=1e-6)


def table3(n_gem=30, seed=11):
    rng = np.random.default_rng(seed)
    size = np.exp(rng.normal(np.log(60), 1.0, n_gem))
    rows = [(f"G{g:02d}", f"L{a}", f"S{s}", rng.poisson(size[g] * share))
            for g in range(n_gem) for a, share in enumerate([0.1, 0.3, 0.4, 0.2])
            for s in range(2)]
    return pd.DataFrame(rows, columns=["gemeente", "leeftijd", "geslacht", "aantal"])


def protect(data, method, **kw):
    run = ExportSession("t", settings=OutputControl(complements=method), run_timestamp="t",
                        **kw)
    out = run.freq_table(data, ["gemeente", "leeftijd", "geslacht"], count="aantal",
                         name="tabel", unit="jongeren", population="jeugd")
    return run, out


def test_in_a_run_optimal_loses_less_than_greedy_and_passes_the_exact_audit():
    data = table3()
    _, greedy = protect(data, "greedy")
    run, optimal = protect(data, "optimal")
    truth = _truth(data, optimal)
    assert (_truth(data, greedy) == truth).all()
    lost = {m: truth[t["aantal"].isna().to_numpy()].sum() for m, t in
            [("greedy", greedy), ("optimal", optimal)]}
    assert lost["optimal"] < lost["greedy"]
    solver = run.outputs["tabel"].sdc["solver"]["complements"]
    assert solver["method"] == "optimal" and solver["status"] == {"optimal": 1}
    # the same primary cells, and the checker's exact LP over the released table alone
    small = (truth > 0) & (truth < WIDTH)
    assert (greedy["aantal"].isna().to_numpy() >= small).all()
    assert (optimal["aantal"].isna().to_numpy() >= small).all()
    bounds = audit_tables(optimal)
    assert len(bounds) == optimal["aantal"].isna().sum()
    assert (bounds["width"] >= WIDTH - 1e-6).all()
    # the session's own audit (feasible points where they prove it) agrees on every cell
    own = run.audit()
    assert (own["width"] >= WIDTH - 1e-6).all()


def _truth(data, table):
    """True count of every row of a released table (codes or "totaal" per dimension)."""
    dims = ["gemeente", "leeftijd", "geslacht"]
    out = np.zeros(len(table))
    for i, row in enumerate(table[dims].itertuples(index=False)):
        keep = np.ones(len(data), dtype=bool)
        for d, code in zip(dims, row):
            if code != "totaal":
                keep &= (data[d] == code).to_numpy()
        out[i] = data.loc[keep, "aantal"].sum()
    return out


def test_a_rerun_gives_the_same_pattern():
    data = table3(seed=4)
    _, a = protect(data, "optimal")
    _, b = protect(data, "optimal")
    pd.testing.assert_frame_equal(a, b)


def test_a_search_stopped_by_its_limit_keeps_the_greedy_pattern():
    values, eqs = grid([[15, 7, 0], [22, 5, 5]])
    primary = (values > 0) & (values < WIDTH)
    res = solve(values, eqs, primary, max_rounds=1)
    assert res.suppress is None and "not proved" in res.status


def test_the_solver_prints_nothing(capfd):
    # HiGHS writes its banner and some MIP messages straight to file descriptor 1: in a
    # notebook they would land in the cell output
    protect(table3(seed=9), "optimal")
    assert capfd.readouterr().out == ""


def test_a_greedy_pattern_within_the_gap_is_kept_without_further_rounds():
    values, eqs = grid([[15, 7, 0], [22, 5, 5]])
    primary = (values > 0) & (values < WIDTH)
    everything = ~primary                      # a safe but dear incumbent: suppress all
    best = brute_force(values, eqs, primary)
    dear = float((values[everything] + 1).sum())
    # the closure rows' bound is far below the dear pattern: with no gap the search goes on
    # to the optimum; with a gap wider than (dear - bound) / dear it stops at once
    res = solve(values, eqs, primary, incumbent=everything, gap=0.0)
    assert res.status == "optimal" and res.cost == pytest.approx(best)
    res = solve(values, eqs, primary, incumbent=everything, gap=0.999)
    assert res.suppress is None and res.status.startswith("incumbent within")
    assert res.rounds == 1 and res.lower_bound >= 0.001 * dear


def test_the_attack_lp_with_inequalities_agrees_with_the_scipy_audit():
    # two tables of related populations side by side: cell 0 (a part) <= cell 16 (the
    # whole, the same key in the second table), as protect_linked builds them
    a, eqs_a = grid([[3, 20, 30], [15, 25, 12], [40, 18, 22]])
    b, eqs_b = grid([[5, 22, 31], [15, 26, 12], [41, 18, 25]])
    values = np.concatenate([a, b])
    off = len(a)
    eqs = eqs_a + [(p + off, [k + off for k in kids]) for p, kids in eqs_b]
    ineqs = [([0, off], [1.0, -1.0], 0.0), ([5, off + 5], [1.0, -1.0], 0.0)]
    n = len(values)
    lp = AttackLP(values, eqs, range(len(eqs)), range(n), ineqs)
    rng = np.random.default_rng(3)
    for _ in range(8):
        hidden = rng.random(n) < 0.4
        hidden[[0, off]] = True
        lp.set_pattern(hidden)
        lo, hi = feasible_intervals(values, eqs, np.where(hidden, 0.0, values),
                                    np.where(hidden, np.inf, values), ineqs=ineqs)
        for c in np.flatnonzero(hidden)[:6]:
            assert lp.width(int(c)) == pytest.approx(hi[c] - lo[c], abs=1e-6)
        for cells, x in lp.global_points():   # every kept table obeys the inequalities
            table = values.copy()
            table[cells] = x
            for where, coefs, bound in ineqs:
                assert float(np.dot(coefs, table[where])) <= bound + 1e-6
