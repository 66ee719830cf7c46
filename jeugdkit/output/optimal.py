"""Complements chosen by cost: the optimal cell-suppression model, solved by cut generation.

Given the cells and additivity equations of a ledger, some cells fixed (released in an earlier
output, structural zeros: known; primary, hidden, suppressed earlier: unknown) and the rest
free, choose the free cells to suppress (``y = 1``) at the least total cost such that every
unknown cell that must be protected has an attacker interval at least its width wide.

This is the model of Fischetti and Salazar-Gonzalez (the one behind tau-Argus's *optimal*
method), for a width requirement on every suppressed cell, primary and secondary alike:

- The attacker's interval of cell p for a pattern y is two LPs: max and min of x_p over
  ``A x = 0`` with known cells at their value and unknown cells in [0, inf).
- LP duality turns each into a linear bound in y: with reduced costs r of an optimal basis for
  one pattern, for every pattern ``max x_p - a_p <= sum_j y_j (r_j^+ a_j + r_j^- * inf)``:
  freeing cell j lets it move down by at most a_j and up without limit. Adding the bounds of
  the max and the min LP gives ``width_p(y) <= sum_j k_j y_j``, so every feasible pattern
  satisfies the cut ``sum_j min(k_j, W_p) y_j >= W_p y_p``, and the pattern the duals came
  from violates it (strong duality).
- The master problem (a MILP, HiGHS through :func:`scipy.optimize.milp`) minimises the cost
  under the cuts found so far and the closure rows (no equation may hold a protected cell as
  its only unknown). Its solution is checked with the LPs; violated cells add cuts; repeat.
  A master solution that passes every check is optimal: the cuts only remove infeasible
  patterns, so the master is a relaxation of the true problem.

Every limit is deterministic (rounds, branch-and-bound nodes, problem size), never wall time,
so a rerun on the same data gives the same pattern. When a limit stops the search, the caller
keeps its own (greedy) pattern.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

TOL = 1e-7
SPREAD_PAIRS = 3
"""Pairs of random-sign LPs :meth:`AttackLP.spread` solves at most before the per-cell ones."""
SPREAD_MIN = 8
"""Fewer open cells than this: the per-cell LPs are as cheap as a spread."""


@dataclass
class OptimalResult:
    """The outcome of :func:`optimal_pattern`."""

    suppress: np.ndarray | None
    """Boolean over the free cells (in the order given): suppress; None when not proved."""
    cost: float
    """Cost of the pattern found (inf when none)."""
    lower_bound: float
    """The master problem's last optimum: no feasible pattern costs less."""
    rounds: int
    cuts: int
    lps: int
    status: str
    """``optimal`` (proved), or why the search stopped."""
    points: list = field(default_factory=list)
    """Feasible tables of the attacker under the pattern returned, as (cells, values): each
    proves the interval of every cell it moves at least that wide (see :class:`AttackLP`)."""
    witnessed: int = 0
    """Checks settled by a feasible table seen before (no LP needed)."""
    quick: int = 0
    """Checks settled by the caller's quick proof."""


def optimal_pattern(values, eqs, cell_eqs, width, *, free, known, unknown, required,
                    cost=None, incumbent=None, max_rounds: int = 60,
                    node_limit: int = 20_000, lp: AttackLP | None = None,
                    quick=None, gap: float = 0.02) -> OptimalResult:
    """Return the cheapest set of free cells to suppress (see the module docstring).

    ``values``: true values; ``eqs``: ``(parent, kids)`` additivity equations;
    ``cell_eqs``: equations per cell; ``width``: the required width per cell. Masks over all
    cells: ``free`` (the decision), ``known`` (fixed published), ``unknown`` (fixed
    unknown); every cell is in exactly one. ``required``: cells whose interval must be at
    least their width when they are unknown (fixed unknown cells among them always, free cells
    when suppressed). ``cost``: per cell (default value + 1: less value first, then fewer
    cells). ``incumbent``: a known feasible pattern (mask over all cells, e.g. the greedy
    one); the search stops early when the master's optimum reaches its cost, or comes within
    ``gap`` (a fraction) of it: the incumbent stays, proved that close to the optimum (the
    master's last rounds are its slowest, and a pattern a few per cent cheaper is not worth
    minutes per table). ``lp``: an
    :class:`AttackLP` over every cell that can be unknown here (and the known cells next to
    them), reused across calls (see :func:`attack_lp`). ``quick(cell, hidden)``: a cheap
    sound proof that a cell is wide enough under a pattern (a hypercube, a neighbourhood LP),
    tried before the exact LP.
    """
    values = np.asarray(values, dtype=float)
    width = np.asarray(width, dtype=float)
    free = np.asarray(free, dtype=bool)
    known = np.asarray(known, dtype=bool)
    unknown = np.asarray(unknown, dtype=bool)
    required = np.asarray(required, dtype=bool)
    n = len(values)
    if np.any(free.astype(int) + known + unknown != 1):
        raise ValueError("every cell must be exactly one of free, known, unknown")
    cost = values + 1.0 if cost is None else np.asarray(cost, dtype=float)
    var = np.flatnonzero(free)
    col = np.full(n, -1)
    col[var] = np.arange(len(var))
    inc_cost = np.inf if incumbent is None else float(cost[var][incumbent[var]].sum())

    rows: list[tuple[dict[int, float], float]] = []    # sum coef*y_var >= rhs
    seen_rows: set = set()

    def add_row(coefs: dict[int, float], target: int) -> bool:
        """Add ``sum_j coefs[j] y_j >= W_t y_t`` with fixed cells substituted."""
        need = width[target]
        terms: dict[int, float] = {}
        rhs = 0.0
        for j, k in coefs.items():
            k = min(k, need)
            if k <= TOL:
                continue
            if free[j]:
                terms[int(col[j])] = terms.get(int(col[j]), 0.0) + k
            elif unknown[j]:
                rhs -= k
        if free[target]:
            terms[int(col[target])] = terms.get(int(col[target]), 0.0) - need
        else:
            rhs += need
        if rhs <= TOL and all(v >= -TOL for v in terms.values()):
            return False                    # always satisfied
        sig = (tuple(sorted((j, round(v, 9)) for j, v in terms.items())), round(rhs, 9))
        if sig in seen_rows:
            return False
        seen_rows.add(sig)
        rows.append((terms, rhs))
        return True

    # closure rows: an equation with a protected cell as its only unknown pins it (only
    # equations with a free cell can change)
    near = free.copy()
    for c in var:
        for e in cell_eqs[c]:
            near[eqs[e][0]] = True
            near[eqs[e][1]] = True
    cand = np.flatnonzero(required & (free | unknown) & near)
    for c in cand:
        for e in cell_eqs[c]:
            p, kids = eqs[e]
            others = [m for m in (p, *kids) if m != c and not known[m]]
            add_row({m: width[c] for m in others}, int(c))
    res = OptimalResult(None, np.inf, 0.0, 0, 0, 0, "")
    if any(not terms and rhs > TOL for terms, rhs in rows):
        res.status = "infeasible: a fixed unknown cell is pinned by fixed cells"
        return res
    if len(var) == 0:
        res.status = "nothing to choose"
        return res

    # a cell the free cells cannot reach through unknown cells keeps its interval whatever
    # the pattern: only the reachable ones are checked (a period ledger holds every earlier
    # output's cells; a step's choice touches a part of them)
    reach = free.copy()
    frontier = list(var)
    while frontier:
        nxt = []
        for a in frontier:
            for e in cell_eqs[a]:
                p, kids = eqs[e]
                for m in (p, *kids):
                    if not reach[m] and not known[m]:
                        reach[m] = True
                        nxt.append(m)
        frontier = nxt
    required = required & reach
    c_var = cost[var]
    if lp is None:
        lp = attack_lp(values, eqs, cell_eqs, ~known)
    for rnd in range(1, max_rounds + 1):
        res.rounds = rnd
        y = _master(c_var, rows, len(var), node_limit)
        if y is None:
            res.status = f"master stopped in round {rnd} (node limit {node_limit})"
            return res
        res.lower_bound = float(c_var @ y)
        if res.lower_bound >= inc_cost - TOL:
            res.status = "incumbent proved optimal"
            return res
        if res.lower_bound >= (1.0 - gap) * inc_cost:
            res.status = f"incumbent within {gap:.0%} of optimal"
            return res
        hidden = unknown.copy()
        hidden[var] = y > 0.5
        added = _cuts(lp, width, hidden, required, add_row, res, quick)
        if not added:
            res.suppress = y > 0.5
            res.cost = res.lower_bound
            res.status = "optimal"
            res.points = lp.global_points()
            return res
        res.cuts += added
    res.status = f"not proved within {max_rounds} rounds"
    return res


def attack_lp(values, eqs, cell_eqs, maybe_unknown) -> AttackLP:
    """Return the attacker's LP over every cell that may be unknown (a mask) and the known
    cells next to them."""
    lp_rows = sorted({e for c in np.flatnonzero(maybe_unknown) for e in cell_eqs[c]})
    cols = sorted({m for e in lp_rows for m in (eqs[e][0], *eqs[e][1])})
    return AttackLP(np.asarray(values, dtype=float), eqs, lp_rows, cols)


def _master(c, rows, nvar, node_limit):
    """Solve the master MILP; return y (0/1 floats) or None."""
    if rows:
        r_idx, c_idx, data, lb = [], [], [], []
        for r, (terms, rhs) in enumerate(rows):
            for j, k in terms.items():
                r_idx.append(r)
                c_idx.append(j)
                data.append(k)
            lb.append(rhs)
        a = sparse.csr_matrix((data, (r_idx, c_idx)), shape=(len(rows), nvar))
        cons = [LinearConstraint(a, np.asarray(lb), np.inf)]
    else:
        cons = []
    with _quiet_stdout():
        out = milp(c, constraints=cons, integrality=np.ones(nvar), bounds=Bounds(0, 1),
                   options={"node_limit": node_limit, "mip_rel_gap": 0.0, "presolve": True})
    if out.status != 0 or out.x is None:
        return None
    return np.round(out.x)


@contextlib.contextmanager
def _quiet_stdout():
    """Send the process's stdout (file descriptor 1) to /dev/null for a moment: HiGHS prints
    a licence banner on its first construction and, from its MIP solver, an occasional debug
    line straight to the descriptor, which would land in notebooks, reports' logs and the
    console."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _highs():
    """Return a silent HiGHS instance."""
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def primal_highs(matrix, col_lower, col_upper, row_lower, row_upper):
    """Return (a silent HiGHS model of ``row_lower <= matrix x <= row_upper``, ``col_lower <=
    x <= col_upper`` with a zero objective, HiGHS's infinity); infinite bounds as +-np.inf.

    Presolve off and the primal simplex: a new target changes only the objective, so the last
    basis stays feasible and the primal simplex goes on from it (measured on a 2,808-cell
    stock-and-flow ledger: 12 ms a solve against 44 ms with HiGHS's default, the dual
    simplex)."""
    full = sparse.csc_matrix(matrix)
    h = _highs()
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 4)
    inf = h.getInfinity()

    def finite(a):
        return np.clip(np.asarray(a, dtype=float), -inf, inf)

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = full.shape[1], full.shape[0]
    lp.col_cost_ = np.zeros(full.shape[1])
    lp.col_lower_, lp.col_upper_ = finite(col_lower), finite(col_upper)
    lp.row_lower_, lp.row_upper_ = finite(row_lower), finite(row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = full.indptr
    lp.a_matrix_.index_ = full.indices
    lp.a_matrix_.value_ = full.data
    h.passModel(lp)
    return h, inf


class AttackLP:
    """The attacker's LP over a fixed set of cells, kept in one HiGHS model.

    Columns are cells, rows their additivity equations and any further knowledge as
    inequalities ``(cells, coefficients, bound)``: ``sum(coefficient * cell) <= bound`` (a
    relation between populations); a pattern is a choice of bounds
    (unknown: [0, inf), known: its value), so a new pattern changes bounds only and every
    solve starts from the last basis. One target's max and min are two re-solves with a new
    objective: much cheaper than building an LP per cell.
    """

    def __init__(self, values, eqs, rows, cols, ineqs=()):
        self.values = values
        self.cols = np.asarray(cols, dtype=np.int64)
        self.pos = {int(c): i for i, c in enumerate(self.cols)}
        r_idx, c_idx, data = [], [], []
        for r, e in enumerate(rows):
            a, kids = eqs[e]
            r_idx.append(r)
            c_idx.append(self.pos[a])
            data.append(1.0)
            for k in kids:
                r_idx.append(r)
                c_idx.append(self.pos[k])
                data.append(-1.0)
        a = sparse.csc_matrix((data, (r_idx, c_idx)), shape=(len(rows), len(cols)))
        self.a = a
        u_idx, uc_idx, u_data, b_ub = [], [], [], []
        for r, (cells, coefs, bound) in enumerate(ineqs):
            for cell, coef in zip(cells, coefs):
                u_idx.append(r)
                uc_idx.append(self.pos[int(cell)])
                u_data.append(float(coef))
            b_ub.append(float(bound))
        self.a_ub = sparse.csc_matrix((u_data, (u_idx, uc_idx)), shape=(len(b_ub), len(cols)))
        self.b_ub = np.asarray(b_ub, dtype=float)
        v = values[self.cols]
        h, inf = primal_highs(sparse.vstack([a, self.a_ub]), v, v,
                              np.concatenate([np.zeros(len(rows)), np.full(len(b_ub), -np.inf)]),
                              np.concatenate([np.zeros(len(rows)), self.b_ub]))
        self.h = h
        self.hidden = np.zeros(len(cols), dtype=bool)
        self.inf = inf
        self.points: list[tuple[np.ndarray, np.ndarray]] = []
        """Feasible tables seen (columns where they differ from the true one, and there)."""
        self.lo = v.copy()
        self.hi = v.copy()
        """Per column, the smallest and largest value over the true table and the points still
        feasible: the attacker's interval holds at least [lo, hi] (a free proof)."""
        self._status = highspy.HighsModelStatus

    def set_pattern(self, hidden) -> None:
        """Make the cells where ``hidden`` (over all cells) is True unknown; keep the points
        that are still feasible (they move only cells that are still unknown)."""
        want = np.asarray(hidden, dtype=bool)[self.cols]
        change = np.flatnonzero(want != self.hidden)
        if len(change):
            v = self.values[self.cols[change]]
            lo = np.where(want[change], 0.0, v)
            up = np.where(want[change], self.inf, v)
            self.h.changeColsBounds(len(change), change.astype(np.int32), lo, up)
            self.hidden = want
            points, self.points = self.points, []
            self.lo = self.values[self.cols].copy()
            self.hi = self.lo.copy()
            for where, x in points:
                if want[where].all():
                    self._add_point(where, x)

    def witness(self, x) -> None:
        """Record a feasible table (a solution of one of the LPs), after checking it: every
        equation and inequality holds, no cell is negative, and only unknown cells moved."""
        base = self.values[self.cols]
        where = np.flatnonzero(np.abs(x - base) > 1e-9)
        if (np.abs(self.a @ x).max(initial=0.0) > 1e-6 or x.min(initial=0.0) < -1e-9
                or (self.a_ub @ x - self.b_ub).max(initial=0.0) > 1e-6
                or not self.hidden[where].all()):
            return
        self._add_point(where, x[where])

    def global_points(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Return the feasible points kept, as (cells, values) over ledger cell numbers."""
        return [(self.cols[where], x) for where, x in self.points]

    def _add_point(self, where, x) -> None:
        self.points.append((where, x))
        self.lo[where] = np.minimum(self.lo[where], x)
        self.hi[where] = np.maximum(self.hi[where], x)

    def proved(self, cell: int) -> float:
        """Return a lower bound on ``cell``'s width from the points seen (no LP)."""
        j = self.pos[cell]
        return float(self.hi[j] - self.lo[j])

    def side(self, cell: int, sign: float):
        """Return (distance, reduced costs) of ``sign * x_cell`` minimised: sign -1 gives
        max - value, sign +1 value - min; distance inf when unbounded."""
        j = self.pos[cell]
        self.h.changeColCost(j, sign)
        self.h.run()
        status = self.h.getModelStatus()
        if status == self._status.kOptimal:
            dist = abs(self.h.getInfo().objective_function_value - sign * self.values[cell])
            sol = self.h.getSolution()
            red = np.asarray(sol.col_dual)
            self.witness(np.asarray(sol.col_value))
        elif status in (self._status.kUnbounded, self._status.kUnboundedOrInfeasible):
            dist, red = np.inf, None
        else:
            self.h.changeColCost(j, 0.0)
            raise RuntimeError(f"attacker LP for cell {cell}: {self.h.modelStatusToString(status)}")
        self.h.changeColCost(j, 0.0)
        return dist, red

    def spread(self, cells, need, pairs: int = SPREAD_PAIRS) -> int:
        """Look for feasible tables that move many of ``cells`` at once; return the LPs solved.

        Each pair of LPs pushes the cells not yet proved (span of the points below ``need``,
        per cell or one number) up and down with random signs (a fixed seed, so a rerun
        solves the same LPs), then with the signs reversed; every solution is kept as a
        feasible table (:meth:`witness`). The unknown cells get a temporary upper bound
        (value + ``need`` + 1) so that no push runs off to infinity; a table within those
        bounds is a table of the attacker's LP all the same. Only points come out of it: a
        cell it does not prove is solved exactly later (:meth:`interval`), so the outcome is
        the same with or without it, only faster (measured on a report's 202 spiegel
        ledgers, 1M tree: LP solves 24,000 -> 17,600, their protection 9.0 s -> 8.0 s)."""
        if not len(self.cols) or not len(cells):
            return 0
        need = np.broadcast_to(np.asarray(need, dtype=float), (len(cells),))
        idx = np.array([self.pos.get(int(c), -1) for c in cells], dtype=np.int64)
        keep = (idx >= 0) & self.hidden[np.maximum(idx, 0)]
        idx, need = idx[keep], need[keep]
        if len(idx) < SPREAD_MIN:
            return 0
        rng = np.random.default_rng(len(idx))
        hidden = np.flatnonzero(self.hidden).astype(np.int32)
        base = self.values[self.cols]
        cap = base[hidden] + float(need.max()) + 1.0
        self.h.changeColsBounds(len(hidden), hidden, np.zeros(len(hidden)), cap)
        solved = 0
        try:
            for _ in range(pairs):
                open_ = self.hi[idx] - self.lo[idx] < need - 1e-9
                if open_.sum() < SPREAD_MIN:
                    break
                cols = idx[open_].astype(np.int32)
                signs = rng.choice([-1.0, 1.0], len(cols))
                for s in (signs, -signs):
                    self.h.changeColsCost(len(cols), cols, s)
                    self.h.run()
                    solved += 1
                    if self.h.getModelStatus() == self._status.kOptimal:
                        self.witness(np.asarray(self.h.getSolution().col_value))
                self.h.changeColsCost(len(cols), cols, np.zeros(len(cols)))
        finally:
            self.h.changeColsBounds(len(hidden), hidden, np.zeros(len(hidden)),
                                    np.full(len(hidden), self.inf))
        return solved

    def width(self, cell: int) -> float:
        """Return the exact width of ``cell``'s interval under the current pattern (two warm
        solves; their solutions are kept as feasible tables)."""
        return self.side(cell, -1.0)[0] + self.side(cell, 1.0)[0]

    def interval(self, cell: int, need: float):
        """Return (min, max, how) of ``cell``'s interval under the current pattern: the span
        of the feasible tables seen when that is at least ``need`` wide (``how`` "feasible
        tables": inner bounds, no LP), else both sides solved ("exact LP")."""
        j = self.pos.get(int(cell))
        if j is None:
            return 0.0, np.inf, "exact LP"  # in no equation: nothing bounds it
        if self.hi[j] - self.lo[j] >= need - 1e-9:
            return float(self.lo[j]), float(self.hi[j]), "feasible tables"
        up = self.side(cell, -1.0)[0]
        # no cell is below 0: an empty cell's minimum is 0 without a solve
        down = self.side(cell, 1.0)[0] if self.values[cell] > 0 else 0.0
        return self.values[cell] - down, self.values[cell] + up, "exact LP"

    def bound(self, cell: int):
        """Return (width, {cell: k}): the exact width of ``cell``'s interval under the current
        pattern, and the cut coefficients of every cell from both LPs' reduced costs."""
        coefs: dict[int, float] = {}
        total = 0.0
        for sign in (-1.0, 1.0):
            dist, red = self.side(cell, sign)
            total += dist
            if red is None:
                return np.inf, {}
            vals = self.values[self.cols]
            k = np.where(red > TOL, red * vals, 0.0) + np.where(red < -TOL, np.inf, 0.0)
            for i in np.flatnonzero(k > 0):
                c = int(self.cols[i])
                coefs[c] = coefs.get(c, 0.0) + float(k[i])
        return total, coefs


def _cuts(lp: AttackLP, width, hidden, required, add_row, res, quick=None) -> int:
    """Check every required unknown cell of pattern ``hidden``; add a cut for each that is too
    narrow; return how many were added."""
    lp.set_pattern(hidden)
    added = 0
    for c in np.flatnonzero(hidden & required):
        c = int(c)
        if lp.proved(c) >= width[c] - TOL:
            res.witnessed += 1
            continue
        if quick is not None and quick(c, hidden):
            res.quick += 1
            continue
        w, coefs = lp.bound(c)
        res.lps += 2
        if w >= width[c] - TOL:
            continue
        added += add_row(coefs, c)
    return added
