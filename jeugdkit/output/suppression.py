"""Primary and secondary cell suppression over all tables of one population in a run.

A :class:`Ledger` holds every cell released (or suppressed) so far over one population and
unit, with the additivity equations of every table. Adding a table links it to the earlier
ones through shared cells (see :mod:`jeugdkit.output.structure`). Cells of earlier outputs
are *locked*: their status cannot change any more, because they may already have left.

Secondary suppression (:meth:`Ledger.protect`) is our own, in two stages that repeat until
the LP audit is satisfied:

1. *Closure*: an equation with exactly one suppressed cell pins it, so another cell of that
   equation is suppressed too. The complement is chosen greedily: first the cell that creates
   the fewest new such equations (it closes a cycle with cells already suppressed), then a
   cell at least the protection width large, then the smallest (least information lost).
2. *Audit*: every suppressed cell must have an LP interval at least ``protection width`` wide
   (:func:`jeugdkit.output.audit.local_width`, a sound under-estimate; cells that fail it get
   the exact LP). A cell that is too narrow gets one more complement from its equations, and
   the closure runs again. Suppressing more only widens intervals, so the loop ends: with
   every cell protected, or with a :class:`DisclosureError` when only locked cells are left.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from jeugdkit.errors import DisclosureError
from jeugdkit.output.audit import feasible_intervals, local_width
from jeugdkit.output.hypercube import TableGeom, certificate_width

RELEASED, PRIMARY, SECONDARY, STRUCTURAL, HIDDEN = 0, 1, 2, 3, 4
"""Cell status. HIDDEN: a cell no output publishes (a rest category, the inside of a
stock-and-flow table). It is an unknown to the attacker and free to leave unpublished. A hidden
cell below the threshold is *watched*: it gets no hypercube of its own (it is not shown), but
the audit checks that it cannot be derived, and widens its interval like a suppressed cell's
if it can."""
PROTECTED = (PRIMARY, SECONDARY)
SHARED_PENALTY = 1e9
UNKNOWN = (PRIMARY, SECONDARY, HIDDEN)


class Ledger:
    """The cells of every table over one population and unit, with their status."""

    def __init__(self, population: str, unit: str):
        self.population = population
        self.unit = unit
        self.keys: dict = {}
        self.key_of: list = []
        self.value: list[float] = []
        self.status: list[int] = []
        self.locked: list[bool] = []
        self.width: list[float] = []
        self.reason: list[str] = []
        self.eqs: list[tuple[int, list[int]]] = []
        self.cell_eqs: list[list[int]] = []
        self._eq_seen: set = set()
        self.cert: dict[int, tuple[list[int], list[int]]] = {}
        self.watched: list[bool] = []
        self.n_tables: list[int] = []
        """How many tables hold each cell: a hypercube corner on a shared cell unbalances the
        other tables' equations, so its certificate fails and the slow LP must decide."""

    def __len__(self) -> int:
        return len(self.value)

    def add_table(self, keys, values, structural, equations, primary, width: float,
                  output: str, hidden=None) -> list[int]:
        """Register a table's cells and equations; return their ledger indices.

        ``hidden``: cells this table does not publish (see :data:`HIDDEN`).
        """
        idx = []
        if hidden is None:
            hidden = np.zeros(len(values), dtype=bool)
        for key, v, s, p, h in zip(keys, values, structural, primary, hidden):
            v = float(v)
            if key in self.keys:
                i = self.keys[key]
                if self.value[i] != v:
                    raise DisclosureError(
                        f"output {output!r}: cell {dict(key) or 'totaal'} is {v:g} here but "
                        f"{self.value[i]:g} in an earlier table over population "
                        f"{self.population!r}; tables over one population must agree "
                        "(pass a different population= if they describe different units)"
                    )
                if not self.locked[i] and not h and self.status[i] == HIDDEN:
                    # published here: a plain cell from now on
                    self.status[i] = PRIMARY if (p or self.watched[i]) else RELEASED
                    self.reason[i] = f"below threshold in {output}" if p else ""
                    self.watched[i] = False
                elif not self.locked[i] and p and self.status[i] == RELEASED:
                    self.status[i] = PRIMARY
                    self.reason[i] = f"below threshold in {output}"
                elif p and self.status[i] == HIDDEN:
                    self.watched[i] = True
                self.width[i] = max(self.width[i], width)
                self.n_tables[i] += 1
            else:
                i = len(self.value)
                self.keys[key] = i
                self.key_of.append(key)
                self.value.append(v)
                self.status.append(STRUCTURAL if s else HIDDEN if h else
                                   PRIMARY if p else RELEASED)
                self.reason.append("" if s else "not published" if h else
                                   f"below threshold in {output}" if p else "")
                self.watched.append(bool(h and p and not s))
                self.locked.append(False)
                self.width.append(width)
                self.cell_eqs.append([])
                self.n_tables.append(1)
            idx.append(i)
        for p, kids in equations:
            sig = (idx[p], tuple(sorted(idx[k] for k in kids)))
            if sig in self._eq_seen:
                continue
            self._eq_seen.add(sig)
            e = len(self.eqs)
            self.eqs.append((idx[p], [idx[k] for k in kids]))
            for c in (idx[p], *[idx[k] for k in kids]):
                self.cell_eqs[c].append(e)
        return idx

    # -- secondary suppression -------------------------------------------------------------
    def _suppressed(self) -> np.ndarray:
        return np.isin(np.asarray(self.status), UNKNOWN)

    def _protected(self) -> np.ndarray:
        """Cells whose interval must be wide: suppressed ones and watched hidden ones."""
        st = np.asarray(self.status)
        return np.isin(st, PROTECTED) | ((st == HIDDEN) & np.asarray(self.watched, dtype=bool))

    def _free(self, c: int) -> bool:
        return self.status[c] == RELEASED and not self.locked[c]

    def _choose(self, candidates, counts, skip_eq: int | None, need: float):
        best, best_score = None, None
        for c in candidates:
            new_single = 0
            for e in self.cell_eqs[c]:
                if e == skip_eq:
                    continue
                if counts[e] == 0:
                    new_single += 1
                elif counts[e] == 1:
                    new_single -= 1
            v = self.value[c]
            score = (new_single, v < need, v, c)
            if best_score is None or score < best_score:
                best, best_score = c, score
        return best

    def _suppress(self, c: int, counts, queue, why: str) -> None:
        self.status[c] = SECONDARY
        self.reason[c] = why
        for e in self.cell_eqs[c]:
            counts[e] += 1
            queue.append(e)

    def _closure(self, counts, queue) -> None:
        while queue:
            e = queue.popleft()
            if counts[e] != 1:
                continue
            p, kids = self.eqs[e]
            members = (p, *kids)
            alone = next((c for c in members if self.status[c] in PROTECTED), None)
            if alone is None:       # the one unknown is a hidden cell: it needs no protection
                continue
            cands = [c for c in members if self._free(c)]
            if not cands:
                raise DisclosureError(self._stuck_message(alone))
            c = self._choose(cands, counts, e, self.width[alone])
            self._suppress(c, counts, queue, f"complement of {self._label(alone)}")

    def _label(self, c: int) -> str:
        key = self.key_of[c]
        return ", ".join(f"{d}={v}" for d, v in key) or "totaal"

    def _stuck_message(self, c: int) -> str:
        return (
            f"population {self.population!r}: suppressed cell {self._label(c)} cannot be "
            "protected: every cell that could hide it is released already (in an earlier "
            "output of this run) or is a structural zero; release linked tables in one call "
            "(ExportSession.freq_tables), or coarsen the table"
        )

    def _hypercubes(self, geom: TableGeom, cells: list[int], counts, queue) -> int:
        """Choose a hypercube for every uncertified primary cell of a table; return how many."""
        cells = np.asarray(cells)
        value = np.asarray(self.value, dtype=float)[cells].reshape(geom.shape)
        st = np.asarray(self.status)[cells]
        locked = np.asarray(self.locked)[cells]
        free = (st == RELEASED) & ~locked
        sup = np.isin(st, UNKNOWN)
        # price of suppressing: its value plus one (fewer cells first), never a margin for free
        cost = np.where(sup, 0.0, np.where(free, value.ravel() + 1.0, np.inf))
        # corners on cells other tables share break the certificate: only when nothing else
        shared = np.asarray(self.n_tables)[cells] > 1
        cost = np.where(shared & free, cost + SHARED_PENALTY, cost)
        cost = cost.reshape(geom.shape)
        done = 0
        for flat in np.flatnonzero(st == PRIMARY):
            c = int(cells[flat])
            if c in self.cert:
                continue
            pos = np.unravel_index(flat, geom.shape)
            found = geom.best(tuple(int(i) for i in pos), value, cost, self.width[c])
            if found is None:
                continue
            corners, signs, _, _ = found
            for local in corners:
                m = int(cells[local])
                if self.status[m] == RELEASED:
                    self._suppress(m, counts, queue, f"hypercube of {self._label(c)}")
                    cost.flat[local] = 0.0
            glob = [int(cells[i]) for i in corners]
            for m in glob:
                self.cert.setdefault(m, (glob, signs))
            done += 1
        return done

    def _ring_candidates(self, c: int) -> list[int]:
        """Return the free cells nearest to c (through equations over suppressed cells)."""
        seen = {c}
        frontier = [c]
        while frontier:
            nxt, free = [], set()
            for a in frontier:
                for e in self.cell_eqs[a]:
                    p, kids = self.eqs[e]
                    for m in (p, *kids):
                        if m in seen:
                            continue
                        seen.add(m)
                        if self._free(m):
                            free.add(m)
                        elif self.status[m] in UNKNOWN:
                            nxt.append(m)
            if free:
                return sorted(free)
            frontier = nxt
        return []

    def protect(self, tables=(), check_local: int = 60) -> dict:
        """Add secondary suppressions until every suppressed cell is protected; return stats.

        ``tables``: (TableGeom, ledger cells in C order) of the tables just added; their
        primary cells get hypercubes first.
        """
        n = len(self.value)
        counts = np.zeros(len(self.eqs), dtype=np.int64)
        sup = self._suppressed()
        for e, (p, kids) in enumerate(self.eqs):
            counts[e] = int(sup[p]) + int(sup[kids].sum())
        queue: deque = deque()
        cubes = sum(self._hypercubes(g, cells, counts, queue) for g, cells in tables)
        queue.extend(int(e) for e in np.flatnonzero(counts == 1))
        self._closure(counts, queue)
        verified: set[int] = {i for i in range(n) if self.locked[i]}
        rounds = certified = local = exact = 0
        while True:
            rounds += 1
            sup = self._suppressed()
            values = np.asarray(self.value, dtype=float)
            lower = np.where(sup, 0.0, values)
            upper = np.where(sup, np.inf, values)
            todo = [int(c) for c in np.flatnonzero(self._protected()) if c not in verified]
            if not todo:
                break
            failing = []
            for c in todo:
                cert = self.cert.get(c)
                if cert and certificate_width(cert[0], cert[1], values, sup, self.eqs,
                                              self.cell_eqs) >= self.width[c]:
                    verified.add(c)
                    certified += 1
                elif local_width(c, values, self.eqs, self.cell_eqs, sup, lower, upper,
                                 check_local) >= self.width[c]:
                    verified.add(c)
                    local += 1
                else:
                    failing.append(c)
            if failing:
                lo, hi = feasible_intervals(values, self.eqs, lower, upper, targets=failing,
                                            cell_eqs=self.cell_eqs)
                exact += len(failing)
                still = [c for c in failing if hi[c] - lo[c] < self.width[c]]
                verified.update(c for c in failing if c not in still)
                failing = still
            if not failing:
                continue
            queue = deque()
            for c in failing:
                cands = self._ring_candidates(c)
                if not cands:
                    raise DisclosureError(self._stuck_message(c))
                m = self._choose(cands, counts, None, self.width[c])
                self._suppress(m, counts, queue, f"widens interval of {self._label(c)}")
            self._closure(counts, queue)
        st = np.asarray(self.status)
        return {"hypercubes": cubes, "rounds": rounds, "proved_by_hypercube": certified,
                "proved_by_local_lp": local, "exact_lp_cells": exact,
                "primary": int((st == PRIMARY).sum()), "secondary": int((st == SECONDARY).sum())}

    def lock(self, cells) -> None:
        """Mark cells as released in an output: their status can no longer change."""
        for c in cells:
            self.locked[c] = True

    def audit(self, exact: bool = False):
        """Return (min, max, method) of every suppressed cell's LP interval (NaN elsewhere).

        ``exact``: solve both LPs for every cell. Otherwise a cell proved wide enough by its
        hypercube or by a neighbourhood LP gets those (inner, hence safe) bounds, and only
        the rest get the exact LP; ``method`` says which. The answer is kept until a table or
        a suppression changes the ledger: a report writes its log after every chapter.
        """
        state = (exact, len(self.value), len(self.eqs), bytes(np.asarray(self.status, np.int8)),
                 tuple(self.width))
        cached = getattr(self, "_audited", None)
        if cached is not None and cached[0] == state:
            return tuple(a.copy() for a in cached[1])
        result = self._audit(exact)
        self._audited = (state, result)
        return tuple(a.copy() for a in result)

    def _audit(self, exact: bool):
        sup = self._suppressed()
        values = np.asarray(self.value, dtype=float)
        lower = np.where(sup, 0.0, values)
        upper = np.where(sup, np.inf, values)
        n = len(values)
        lo, hi = np.full(n, np.nan), np.full(n, np.nan)
        method = np.full(n, "", dtype=object)
        todo = []
        for c in np.flatnonzero(self._protected()):
            c = int(c)
            cert = None if exact else self.cert.get(c)
            if cert and certificate_width(cert[0], cert[1], values, sup, self.eqs,
                                          self.cell_eqs) >= self.width[c]:
                d = dict(zip(*cert))
                up = min((values[m] for m, g in d.items() if g != d[c]), default=np.inf)
                down = min((values[m] for m, g in d.items() if g == d[c]), default=np.inf)
                lo[c], hi[c], method[c] = values[c] - down, values[c] + up, "hypercube"
            else:
                todo.append(c)
        if todo:
            a, b = feasible_intervals(values, self.eqs, lower, upper, targets=todo,
                                      cell_eqs=self.cell_eqs)
            lo[todo], hi[todo] = a[todo], b[todo]
            method[todo] = "exact LP"
        return lo, hi, method
