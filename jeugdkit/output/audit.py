"""LP audit: the interval an attacker can derive for every suppressed cell.

The attacker knows every released cell of every table over the same population, that margins
add up, and that counts are non-negative. For a suppressed cell, the smallest and largest value
it can take over all non-negative tables consistent with that knowledge are two linear
programmes (``scipy.optimize.linprog``, HiGHS). A cell is *pinned* when the two coincide; it is
*protected* when the interval is at least the protection width wide (default: the cell
threshold, so an attacker cannot tell a suppressed count from a safe one).

The LP relaxation is the standard audit of official statistics (tau-Argus's audit is the same
LP); integer bounds can be slightly narrower in tables of three or more dimensions.

Two entry points:

- :func:`audit_tables`: the checker's audit, from released tidy tables only (as written by
  :class:`~jeugdkit.output.ExportSession`), independent of how the suppression was chosen.
- :func:`feasible_intervals`: the engine, on cells and additivity equations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from jeugdkit.errors import DisclosureError
from jeugdkit.output.optimal import primal_highs
from jeugdkit.output.structure import DimTree, canonical_key, cell_codes, equations


def _root(parent: list[int], a: int) -> int:
    """Return the root of ``a`` in a union-find forest (halving the path on the way)."""
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def _components(n: int, eqs, hidden: np.ndarray, ineqs=()) -> list[list[int]]:
    """Return groups of hidden cells linked by equations or inequalities (union-find)."""
    parent = list(range(n))

    def find(a: int) -> int:
        return _root(parent, a)

    for cells in itertools.chain(((p, *kids) for p, kids in eqs), (c for c, _, _ in ineqs)):
        members = [c for c in cells if hidden[c]]
        for a, b in zip(members, members[1:]):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    groups: dict[int, list[int]] = {}
    for c in np.flatnonzero(hidden):
        groups.setdefault(find(int(c)), []).append(int(c))
    return list(groups.values())


def _ub_system(cols: list[int], ineqs, cell_ineqs, values):
    """Return (A_ub, b_ub) of the inequalities touching the given hidden cells, or (None,
    None) when there are none. Cells not in ``cols`` are fixed at ``values``."""
    pos = {c: i for i, c in enumerate(cols)}
    touched = sorted({e for c in cols for e in cell_ineqs.get(c, ())})
    if not touched:
        return None, None
    rows, cidx, data, rhs = [], [], [], []
    for r, e in enumerate(touched):
        cells, coefs, bound = ineqs[e]
        const = 0.0
        for cell, coef in zip(cells, coefs):
            if cell in pos:
                rows.append(r)
                cidx.append(pos[cell])
                data.append(float(coef))
            else:
                const += coef * values[cell]
        rhs.append(bound - const)
    a_ub = sparse.csr_matrix((data, (rows, cidx)), shape=(len(touched), len(cols)))
    return a_ub, np.asarray(rhs)


def _lp_system(cols: list[int], eqs, cell_eqs, lower, upper, values):
    """Return (A_eq, b_eq, bounds) of the equations touching the given hidden cells.

    Cells not in ``cols`` are fixed at ``values``.
    """
    pos = {c: i for i, c in enumerate(cols)}
    rows, cidx, data, rhs = [], [], [], []
    seen: set[int] = set()
    r = 0
    for c in cols:
        for e in cell_eqs[c]:
            if e in seen:
                continue
            seen.add(e)
            p, kids = eqs[e]
            const = 0.0
            for cell, coef in [(p, 1.0)] + [(k, -1.0) for k in kids]:
                if cell in pos:
                    rows.append(r)
                    cidx.append(pos[cell])
                    data.append(coef)
                else:
                    const += coef * values[cell]
            rhs.append(-const)
            r += 1
    a_eq = sparse.csr_matrix((data, (rows, cidx)), shape=(r, len(cols)))
    bounds = [(lower[c], None if np.isinf(upper[c]) else upper[c]) for c in cols]
    return a_eq, np.asarray(rhs), bounds


def _solve(a_eq, b_eq, bounds, j: int, sense: float, a_ub=None, b_ub=None) -> float:
    cost = np.zeros(a_eq.shape[1])
    cost[j] = sense
    res = linprog(cost, A_eq=a_eq if a_eq.shape[0] else None,
                  b_eq=b_eq if a_eq.shape[0] else None, A_ub=a_ub, b_ub=b_ub, bounds=bounds,
                  method="highs")
    if res.status == 3:  # unbounded
        return -np.inf if sense > 0 else np.inf
    if res.status != 0:
        raise DisclosureError(
            f"LP audit: the released tables are inconsistent (linprog: {res.message}); "
            "were tables of different populations passed together?"
        )
    return float(res.x[j])


def cell_equations(n: int, eqs) -> list[list[int]]:
    """Return for every cell the indices of the equations it appears in."""
    out: list[list[int]] = [[] for _ in range(n)]
    for e, (p, kids) in enumerate(eqs):
        out[p].append(e)
        for k in kids:
            out[k].append(e)
    return out


def feasible_intervals(values, eqs, lower, upper, targets=None, cell_eqs=None, ineqs=None,
                       need=None):
    """Return (min, max) arrays: the attacker's LP bounds of every target cell.

    ``values`` are the true values (used only for cells whose bounds coincide, i.e. released
    exactly); ``lower``/``upper`` the attacker's knowledge of each cell (released: both equal
    the value; suppressed: 0 and inf; rounded: the rounding interval). ``targets`` defaults to
    every cell whose bounds do not coincide. ``ineqs``: further knowledge as inequalities
    ``(cells, coefficients, bound)``, meaning ``sum(coefficient * cell) <= bound`` (e.g. a
    part population's cell at most the whole's, see :func:`audit_linked`).

    Each linked component of unknown cells is one HiGHS model, kept warm: a target's min and
    max are two re-solves with a new objective (primal simplex from the last basis), and
    every solution is a feasible table. ``need``: the width each cell must have (an array over
    all cells). A target whose feasible tables seen so far already span that width gets
    those *inner* bounds (the true interval holds them and may be wider) and no LP of its
    own; ``need`` then returns a third array, True where the bounds are exact.
    """
    values = np.asarray(values, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    n = len(values)
    hidden = lower < upper
    if cell_eqs is None:
        cell_eqs = cell_equations(n, eqs)
    targets = set(np.flatnonzero(hidden).tolist() if targets is None else targets)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    # a hidden cell's value never enters an LP (it is a variable); fill it so fixed-cell
    # arithmetic stays finite
    fixed_values = np.where(hidden, 0.0, values)
    ineqs = list(ineqs or [])
    cell_ineqs: dict[int, list[int]] = {}
    for e, (cells, _, _) in enumerate(ineqs):
        for c in cells:
            cell_ineqs.setdefault(int(c), []).append(e)
    exact = np.zeros(n, dtype=bool)
    for comp in _components(n, eqs, hidden, ineqs):
        wanted = [c for c in comp if c in targets]
        if not wanted:
            continue
        a_eq, b_eq, bounds = _lp_system(comp, eqs, cell_eqs, lower, upper, fixed_values)
        a_ub, b_ub = _ub_system(comp, ineqs, cell_ineqs, fixed_values)
        lp = _WarmLP(a_eq, b_eq, bounds, a_ub, b_ub)
        pos = {c: i for i, c in enumerate(comp)}
        for c in wanted:
            j = pos[c]
            if need is not None and lp.hi[j] - lp.lo[j] >= need[c] - 1e-9:
                lo[c], hi[c] = lp.lo[j], lp.hi[j]
                continue
            lo[c], hi[c] = lp.solve(j, 1.0), lp.solve(j, -1.0)
            exact[c] = True
    if need is not None:
        return lo, hi, exact
    return lo, hi


class _WarmLP:
    """The attacker's LP over one component, in one HiGHS model: min or max of one cell is a
    re-solve with a new objective from the last basis. The span of the solutions seen
    (``lo``, ``hi`` per column) holds inner bounds of every cell's interval for free."""

    def __init__(self, a_eq, b_eq, bounds, a_ub=None, b_ub=None):
        import highspy
        ncol = a_eq.shape[1]
        a_ub = sparse.csr_matrix((0, ncol)) if a_ub is None else sparse.csr_matrix(a_ub)
        b_ub = np.zeros(0) if b_ub is None else np.asarray(b_ub, dtype=float)
        b_eq = np.asarray(b_eq, dtype=float)
        h, _ = primal_highs(sparse.vstack([sparse.csr_matrix(a_eq), a_ub]),
                            [b[0] for b in bounds],
                            [np.inf if b[1] is None else b[1] for b in bounds],
                            np.concatenate([b_eq, np.full(len(b_ub), -np.inf)]),
                            np.concatenate([b_eq, b_ub]))
        self.h = h
        self._status = highspy.HighsModelStatus
        h.run()  # one feasible table (zero objective): also proves the tables consistent
        if h.getModelStatus() != self._status.kOptimal:
            raise DisclosureError(
                "LP audit: the released tables are inconsistent (HiGHS: "
                f"{h.modelStatusToString(h.getModelStatus())}); were tables of different "
                "populations passed together?")
        x = np.asarray(h.getSolution().col_value)
        self.lo, self.hi = x.copy(), x.copy()

    def solve(self, j: int, sense: float) -> float:
        """Return min (sense 1) or max (sense -1) of column j; -inf/inf when unbounded."""
        h = self.h
        h.changeColCost(j, sense)
        h.run()
        status = h.getModelStatus()
        h.changeColCost(j, 0.0)
        if status in (self._status.kUnbounded, self._status.kUnboundedOrInfeasible):
            return -np.inf if sense > 0 else np.inf
        if status != self._status.kOptimal:
            raise DisclosureError(
                "LP audit: the released tables are inconsistent (HiGHS: "
                f"{h.modelStatusToString(status)}); were tables of different populations "
                "passed together?")
        x = np.asarray(h.getSolution().col_value)
        np.minimum(self.lo, x, out=self.lo)
        np.maximum(self.hi, x, out=self.hi)
        return float(x[j])


def local_width(j: int, values, eqs, cell_eqs, hidden, lower, upper, max_cells: int = 120):
    """Return a lower bound on the width of cell j's interval, from a neighbourhood LP.

    Hidden cells outside a neighbourhood of j are fixed at their true values, which shrinks
    the feasible set: the width found is never larger than the true width, so a cell that is
    wide enough here is protected (used to speed up the suppression search).
    """
    lo, hi = local_bounds(j, values, eqs, cell_eqs, hidden, lower, upper, max_cells)
    return hi - lo


def local_bounds(j: int, point, eqs, cell_eqs, hidden, lower, upper, max_cells: int = 60):
    """Return inner (min, max) bounds of cell j: the LP over a neighbourhood of j with every
    other unknown fixed at ``point`` (a feasible point of the whole system, so the restricted
    set is a non-empty part of the attacker's set: its interval lies inside the true one)."""
    cols = [j]
    seen = {j}
    i = 0
    while i < len(cols) and len(cols) < max_cells:
        for e in cell_eqs[cols[i]]:
            p, kids = eqs[e]
            for c in (p, *kids):
                if hidden[c] and c not in seen:
                    seen.add(c)
                    cols.append(c)
        i += 1
    a_eq, b_eq, bounds = _lp_system(cols, eqs, cell_eqs, lower, upper, point)
    return _solve(a_eq, b_eq, bounds, 0, 1.0), _solve(a_eq, b_eq, bounds, 0, -1.0)


def audit_tables(tables, *, count: str | None = None, dims=None, hierarchies=None,
                 rounding_base: int | None = None, total: str = "totaal",
                 required: float | None = None) -> pd.DataFrame:
    """Return the attacker's LP bounds for every suppressed cell of released tables.

    Pass every table released over one population (tidy frames: one row per cell, dimension
    columns with codes or the total label, the count empty where suppressed). Tables written
    by :class:`~jeugdkit.output.ExportSession` carry their dims, count column and hierarchies
    in ``DataFrame.attrs`` (and ``codes``, every code of each dimension, when some cells were
    not published: those are unknowns); otherwise pass them. Cells shared by several tables
    (the same codes, other dimensions at their total) are one quantity.

    Returns one row per suppressed or unpublished cell: ``table``, ``cell`` (the codes),
    ``published`` (False: a cell the tables do not show, such as the rest of the country beside
    one gemeente), ``lower``, ``upper``, ``width``. A suppressed cell is protected when its
    width is at least the protection width; an unpublished one also when its lower bound is
    at least the threshold (all that can be derived is that it is large). With
    ``rounding_base`` the released counts are taken as rounded to that base.

    ``required``: the protection width. A cell that the feasible tables seen so far (the
    solutions of earlier cells' LPs) already prove that wide gets those inner bounds
    (``method`` "feasible tables": the true interval holds them and may be wider) instead
    of its own LPs; the others get the exact LP (``method`` "exact LP").

    Example::

        bounds = audit_tables([by_age_sex, by_age_hulpvorm])
        assert (bounds["width"] >= 10).all()
    """
    if isinstance(tables, pd.DataFrame):
        tables = [tables]
    cells = _released_cells(tables, count=count, dims=dims, hierarchies=hierarchies,
                            rounding_base=rounding_base, total=total)
    lower_a = np.asarray(cells.lower)
    upper_a = np.asarray(cells.upper)
    values = np.where(np.isinf(upper_a), 0.0, lower_a)
    targets = sorted(cells.owners)
    if required is None:
        lo, hi = feasible_intervals(values, cells.eqs, lower_a, upper_a, targets=targets)
        exact = np.ones(len(values), dtype=bool)
    else:
        lo, hi, exact = feasible_intervals(values, cells.eqs, lower_a, upper_a,
                                           targets=targets,
                                           need=np.full(len(values), float(required)))
    # a cell one table suppresses and another publishes is known exactly (no LP needed)
    known = np.asarray(targets, dtype=int)
    known = known[lower_a[known] >= upper_a[known]]
    lo[known], hi[known] = lower_a[known], upper_a[known]
    exact[known] = True
    inverse = {v: k for k, v in cells.keys.items()}
    rows = [{"table": cells.owners[c], "cell": dict(inverse[c]) or "totaal",
             "published": cells.shown[c], "lower": lo[c], "upper": hi[c],
             "width": hi[c] - lo[c],
             "method": "exact LP" if exact[c] else "feasible tables"}
            for c in targets]
    return pd.DataFrame(rows, columns=["table", "cell", "published", "lower", "upper",
                                       "width", "method"])


@dataclass
class _Cells:
    """The attacker's knowledge of the released tables of one population and unit."""

    keys: dict = field(default_factory=dict)
    """Canonical key -> cell index."""
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    eqs: list[tuple[int, list[int]]] = field(default_factory=list)
    owners: dict[int, str] = field(default_factory=dict)
    """Suppressed or unpublished cell -> the table that hides it."""
    shown: dict[int, bool] = field(default_factory=dict)


def _released_cells(tables, *, count=None, dims=None, hierarchies=None, rounding_base=None,
                    total: str = "totaal") -> _Cells:
    """Return the cells, bounds and additivity equations of released tidy tables."""
    out = _Cells()
    keys, lower, upper, eqs, owners, shown = (out.keys, out.lower, out.upper, out.eqs,
                                              out.owners, out.shown)
    eq_seen: set = set()
    for t_no, table in enumerate(tables):
        t_dims = list(dims or table.attrs.get("dims") or [])
        t_count = count or table.attrs.get("count")
        if not t_dims or t_count is None:
            raise DisclosureError(
                f"audit_tables: table {t_no} carries no dims/count in attrs; pass dims= and count="
            )
        hier = hierarchies or table.attrs.get("hierarchies") or {}
        base = rounding_base if rounding_base is not None else table.attrs.get("rounding_base")
        name = table.attrs.get("name", f"table_{t_no}")
        trees = []
        all_codes = table.attrs.get("codes") or {}
        for d in t_dims:
            codes = [str(c) for c in pd.unique(table[d].astype(str)) if str(c) != total]
            codes += [str(c) for c in all_codes.get(d, []) if str(c) not in codes
                      and str(c) != total]       # unpublished codes: unknowns in the LP
            parents = {str(v) for v in hier.get(d, {}).values()}
            leaves = [c for c in codes if c not in parents]
            trees.append(DimTree.build(d, leaves, hier.get(d), total))
        lookup = {tuple(str(v) for v in row[:-1]): row[-1]
                  for row in table[t_dims + [t_count]].itertuples(index=False, name=None)}
        local = []
        for codes in cell_codes(trees):
            key = canonical_key(trees, codes)
            v = lookup.get(codes, None)
            if key not in keys:
                keys[key] = len(lower)
                lower.append(0.0)
                upper.append(np.inf)
            idx = keys[key]
            if v is not None and not pd.isna(v):
                v = float(v)
                half = (base / 2.0) if base else 0.0
                lo_v, hi_v = max(0.0, v - half), v + half
                lower[idx] = max(lower[idx], lo_v)
                upper[idx] = min(upper[idx], hi_v)
            elif idx not in owners or not shown.get(idx, True):
                owners[idx] = name
                shown[idx] = codes in lookup
            local.append(idx)
        for p, kids in equations(trees):
            sig = (local[p], tuple(sorted(local[k] for k in kids)))
            if sig not in eq_seen:
                eq_seen.add(sig)
                eqs.append((local[p], [local[k] for k in kids]))
    return out


def _relation_sides(rel: dict) -> list[str]:
    """Return every population a relation names."""
    if rel["kind"] == "parts":
        return [rel["whole"], *rel["parts"]]
    if rel["kind"] == "alias":
        return [rel["population"], rel["same_as"]]
    if rel["kind"] == "within":
        return [rel["part"], rel["whole"]]
    raise DisclosureError(f"relation {rel!r}: unknown kind {rel.get('kind')!r}; expected "
                          "parts, alias or within")


def relation_components(groups, relations) -> list[list[tuple[str, str]]]:
    """Return the (population, unit) groups linked by relations, as components (sorted).

    A group no relation links to another present group is a component of its own; only
    populations present in ``groups`` are linked (a relation to a population no output holds
    adds nothing)."""
    groups = sorted(set(groups))
    parent = {g: g for g in groups}

    def find(g):
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for rel in relations:
        present = [(p, rel["unit"]) for p in _relation_sides(rel) if (p, rel["unit"]) in parent]
        for a, b in zip(present, present[1:]):
            parent[find(a)] = find(b)
    comps: dict = {}
    for g in groups:
        comps.setdefault(find(g), []).append(g)
    return sorted(comps.values())


def _alias_key(key, rel: dict):
    """Return the key of a cell of ``rel['population']`` in ``rel['same_as']``."""
    codes, dims = rel.get("codes") or {}, rel.get("dims") or {}
    return tuple(sorted((dims.get(d, d), codes.get(d, {}).get(c, c)) for d, c in key))


def audit_linked(groups: dict, relations, total: str = "totaal") -> pd.DataFrame:
    """Return the attacker's LP bounds of every suppressed cell of populations linked by
    relations (as :meth:`ExportSession.declare_relation` records them), in one LP.

    ``groups``: ``{(population, unit): [released tables]}``. Cells are keyed by population
    and canonical key; within a population the tables are linked as in :func:`audit_tables`.
    Between populations: an ``alias`` makes the renamed cells one quantity; ``within`` adds
    ``part <= whole`` for every key both populations have; ``parts`` adds ``part <= whole``
    for every part and key, and for every key that the whole and all parts have ``whole <=
    sum(parts)`` (``whole = sum(parts)`` when exclusive). Returns the columns of
    :func:`audit_tables` with ``population`` and ``unit`` in front.
    """
    offsets: dict = {}
    systems: dict = {}
    n = 0
    for g in sorted(groups):
        systems[g] = _released_cells(groups[g], total=total)
        offsets[g] = n
        n += len(systems[g].lower)
    # aliases merge cells (union-find over the global cell index)
    parent = list(range(n))

    def find(a: int) -> int:
        return _root(parent, a)

    def cell(population: str, unit: str, key):
        g = (population, unit)
        if g not in systems or key not in systems[g].keys:
            return None
        return offsets[g] + systems[g].keys[key]

    for rel in relations:
        if rel["kind"] != "alias":
            continue
        src = (rel["population"], rel["unit"])
        if src not in systems or (rel["same_as"], rel["unit"]) not in systems:
            continue
        for key in systems[src].keys:
            a, b = cell(*src, key), cell(rel["same_as"], rel["unit"], _alias_key(key, rel))
            if b is not None:
                parent[find(a)] = find(b)
    roots = sorted({find(i) for i in range(n)})
    index = {r: i for i, r in enumerate(roots)}
    merged = [index[find(i)] for i in range(n)]
    lower = np.zeros(len(roots))
    upper = np.full(len(roots), np.inf)
    eqs: list[tuple[int, list[int]]] = []
    for g, sys_ in systems.items():
        o = offsets[g]
        for i, (lo_i, hi_i) in enumerate(zip(sys_.lower, sys_.upper)):
            m = merged[o + i]
            lower[m], upper[m] = max(lower[m], lo_i), min(upper[m], hi_i)
        eqs += [(merged[o + p], [merged[o + k] for k in kids]) for p, kids in sys_.eqs]
    clash = np.flatnonzero(lower > upper + 1e-9)
    if len(clash):
        raise DisclosureError(
            f"audit: {len(clash)} cell(s) of populations declared the same (alias) are "
            f"published with different counts (e.g. lower {lower[clash[0]]:g} > upper "
            f"{upper[clash[0]]:g}); the alias relation or the outputs are wrong")
    ineqs: list[tuple[list[int], list[float], float]] = []

    def m_cell(population, unit, key):
        c = cell(population, unit, key)
        return None if c is None else merged[c]

    for rel in relations:
        unit = rel["unit"]
        if rel["kind"] == "within":
            pairs = [(rel["part"], rel["whole"])]
        elif rel["kind"] == "parts":
            pairs = [(p, rel["whole"]) for p in rel["parts"]]
        else:
            continue
        for part, whole in pairs:
            if (part, unit) not in systems or (whole, unit) not in systems:
                continue
            for key in systems[(part, unit)].keys:
                a, b = m_cell(part, unit, key), m_cell(whole, unit, key)
                if b is not None and a != b:
                    ineqs.append(([a, b], [1.0, -1.0], 0.0))
        if rel["kind"] != "parts" or (rel["whole"], unit) not in systems:
            continue
        for key in systems[(rel["whole"], unit)].keys:
            w = m_cell(rel["whole"], unit, key)
            ps = [m_cell(p, unit, key) for p in rel["parts"]]
            if any(p is None for p in ps):
                continue  # a part without the key: nothing is known of its count here
            if rel["exclusive"]:
                eqs.append((w, ps))
            else:
                ineqs.append(([w, *ps], [1.0] + [-1.0] * len(ps), 0.0))
    values = np.where(np.isinf(upper), 0.0, lower)
    fixed = lower >= upper
    broken = [(cells, coefs) for cells, coefs, bound in ineqs if fixed[cells].all()
              and float(np.dot(coefs, values[cells])) > bound + 1e-6]
    if broken:
        cells, coefs = broken[0]
        raise DisclosureError(
            f"audit of populations {sorted(p for p, _ in groups)} linked by relations: the "
            f"published counts contradict a declared relation in {len(broken)} place(s), e.g. "
            f"{' + '.join(f'{c:g} * {values[i]:g}' for i, c in zip(cells, coefs))} > 0")
    targets = sorted({merged[offsets[g] + c] for g, sys_ in systems.items()
                      for c in sys_.owners})
    try:
        lo, hi = feasible_intervals(values, eqs, lower, upper, targets=targets, ineqs=ineqs)
    except DisclosureError as exc:
        raise DisclosureError(
            f"audit of populations {sorted(p for p, _ in groups)} linked by relations: the "
            f"published counts contradict a declared relation (or each other): {exc}") from exc
    known = np.asarray(targets, dtype=int)
    known = known[lower[known] >= upper[known]]
    lo[known], hi[known] = lower[known], upper[known]
    rows = []
    for g, sys_ in sorted(systems.items()):
        inverse = {v: k for k, v in sys_.keys.items()}
        for c in sorted(sys_.owners):
            m = merged[offsets[g] + c]
            rows.append({"population": g[0], "unit": g[1], "table": sys_.owners[c],
                         "cell": dict(inverse[c]) or "totaal", "published": sys_.shown[c],
                         "lower": lo[m], "upper": hi[m], "width": hi[m] - lo[m]})
    return pd.DataFrame(rows, columns=["population", "unit", "table", "cell", "published",
                                       "lower", "upper", "width"])
