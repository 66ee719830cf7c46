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
   (proved by feasible tables found before or by its hypercube, else by the exact LP, kept
   warm in one HiGHS model per ledger). A cell that is too narrow gets one more complement
   from its equations, and the closure runs again. Suppressing more only widens intervals,
   so the loop ends: with every cell protected, or with a :class:`DisclosureError` when
   only locked cells are left.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from jeugdkit.errors import DisclosureError
from jeugdkit.output.audit import feasible_intervals, local_width
from jeugdkit.output.hypercube import TableGeom, certificate_width
from jeugdkit.output.optimal import attack_lp, optimal_pattern
from jeugdkit.output.structure import composite_code

RELEASED, PRIMARY, SECONDARY, STRUCTURAL, HIDDEN = 0, 1, 2, 3, 4
"""Cell status. HIDDEN: a cell no output publishes (a rest category, the inside of a
stock-and-flow table). It is an unknown to the attacker and free to leave unpublished. A hidden
cell below the threshold is *watched*: it gets no hypercube of its own (it is not shown), but
the audit checks that it cannot be derived, and widens its interval like a suppressed cell's
if it can."""
PROTECTED = (PRIMARY, SECONDARY)
SHARED_PENALTY = 1e9
UNKNOWN = (PRIMARY, SECONDARY, HIDDEN)
MAX_OPTIMAL_FREE = 3000
"""The cost optimisation solves at most this many free cells as one problem; more are
optimised in blocks of :data:`OPTIMAL_BLOCK` (the master MILP grows with the free cells)."""
OPTIMAL_BLOCK = 1500
MAX_BLOCKED_FREE = 8000
"""Above this many free cells the greedy pattern stays: every block re-proves every suppressed
cell of the ledger (measured: the national 25,725-cell table, 13,000 free cells, had not
finished its first block in 4 minutes)."""


def known_empty(status: int, upper: float) -> bool:
    """Return whether a cell whose interval is too narrow is protected all the same: a hidden
    cell the outputs pin at 0 rests on no one (as a released 0 does)."""
    return status == HIDDEN and upper < 0.5


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
        self.compositions: dict[tuple[str, str], tuple[str, ...]] = {}
        """Codes that stand for several codes of a dimension (``(dim, code): members``): a
        comparison group, the rest of the country beside one gemeente. A cell with such a
        code equals the sum of its members' cells once those are in the ledger."""
        self.pending: list[tuple[int, str]] = []
        """(cell, dimension) of composite cells whose member cells are not all here yet."""
        self._composites_scanned = 0
        self.pinned: set[int] = set()
        """Cells that earlier outputs' released cells determine exactly: suppressing one hides
        nothing, so none is ever chosen as a complement (see :meth:`_unsuppress_pinned`)."""
        self.checked_eqs = 0
        """Equations up to this index were in the ledger when it was last protected: a locked
        suppressed cell linked to a newer one is checked again (see :meth:`protect`)."""

    def __len__(self) -> int:
        return len(self.value)

    def __getstate__(self):
        # the warm LP (with its feasible tables) and the audit cache are working data of one
        # protection: the period ledger on disk stays small without them
        state = dict(self.__dict__)
        state.pop("_audited", None)
        state.pop("_attack", None)
        return state

    def __setstate__(self, state):
        state.pop("points", None)  # kept by ledgers pickled before the warm LP held them
        self.__dict__.update(state)

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
                        f"{self.population!r} (of this run, or of an earlier output of the "
                        "period in its ledger); tables over one population must agree (pass "
                        "a different population= if they describe different units; a new "
                        "delivery of a period's data needs a new period ledger)"
                    )
                if not self.locked[i] and not h and self.status[i] == HIDDEN:
                    # published here: a plain cell from now on
                    self.status[i] = (PRIMARY if (p or (self.watched[i] and self.value[i] > 0))
                                      else RELEASED)
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
            self._add_eq(idx[p], [idx[k] for k in kids])
        self._link_composites(output)
        return idx

    def _add_eq(self, parent: int, kids: list[int]) -> None:
        sig = (parent, tuple(sorted(kids)))
        if sig in self._eq_seen:
            return
        self._eq_seen.add(sig)
        e = len(self.eqs)
        self.eqs.append((parent, list(kids)))
        for c in (parent, *kids):
            self.cell_eqs[c].append(e)

    # -- composite codes ----------------------------------------------------------------------
    def add_composition(self, dim: str, code: str, members) -> None:
        """Declare that ``code`` of ``dim`` stands for the sum of ``members`` (codes of dim).

        Every cell with that code, now or later, is linked to its members' cells by an
        equation as soon as all of them are in the ledger (an output over every gemeente
        and a gemeente's report with its comparison group then protect each other)."""
        members = tuple(sorted(str(m) for m in members))
        known = self.compositions.get((dim, code))
        if known is not None and known != members:
            raise DisclosureError(
                f"population {self.population!r}: code {code!r} of {dim!r} stands for "
                f"{list(known)} in the ledger and cannot stand for {list(members)} too")
        if known is None:
            self.compositions[(dim, code)] = members
            for c, key in enumerate(self.key_of):
                if (dim, code) in key:
                    self.pending.append((c, dim))

    def _link_composites(self, output: str) -> None:
        if not self.compositions:
            return
        seen = {(c, d) for c, d in self.pending}
        for c in range(len(self.key_of) - 1, -1, -1):
            if c < self._composites_scanned:
                break
            for d, code in self.key_of[c]:
                if (d, code) in self.compositions and (c, d) not in seen:
                    self.pending.append((c, d))
                    seen.add((c, d))
        self._composites_scanned = len(self.key_of)
        still = []
        for c, dim in self.pending:
            key = dict(self.key_of[c])
            members = self.compositions[(dim, key[dim])]
            kids = []
            for m in members:
                mkey = tuple(sorted({**key, dim: m}.items()))
                kids.append(self.keys.get(mkey))
            if all(k is None for k in kids):
                still.append((c, dim))  # nothing to link to yet
                continue
            if any(k is None for k in kids):
                missing = [m for m, k in zip(members, kids) if k is None]
                kids = [k for k in kids if k is not None]
                rest = self._rest_cell(c, dim, missing, kids, output)
                if rest is None:
                    still.append((c, dim))
                    continue
                kids.append(rest)
            total = sum(self.value[k] for k in kids)
            if abs(total - self.value[c]) > 1e-6:
                raise DisclosureError(
                    f"output {output!r}: cell {self._label(c)} is {self.value[c]:g}, but its "
                    f"members {list(members)} of {dim!r} add up to {total:g} over population "
                    f"{self.population!r}; tables with one population name must count the "
                    "same units (give a different population= to different units)")
            self._add_eq(c, kids)
        self.pending = still

    def _rest_cell(self, c: int, dim: str, missing: list, kids: list, output: str):
        """Return the cell for the members of ``c`` (along ``dim``) that no table in the ledger
        holds, so that ``c`` = its present members + this rest; None when that is ``c`` itself.

        A member gemeente with no units in the population has no row in a table of all
        gemeenten, and a gemeente's report names the others only through its groups: either
        way the attacker still knows that the group is the sum of its members, the missing
        ones included. A code that already stands for exactly the missing members (the
        ``rest_groep`` beside a gemeente in its own table) is that rest; otherwise a new cell
        ``rest[...]`` is added, itself a composite, so that it is linked to the missing
        members once they come. The rest is an unknown no output publishes; small or empty,
        it is watched (see :func:`known_empty` for when an empty one counts as protected)."""
        missing = tuple(sorted(str(m) for m in missing))
        key = dict(self.key_of[c])
        for (d, code), members in self.compositions.items():
            if d == dim and members == missing:
                found = self.keys.get(tuple(sorted({**key, dim: code}.items())))
                if found is not None:
                    return None if found == c else found
        code = composite_code("rest", missing)
        self.add_composition(dim, code, missing)
        value = self.value[c] - sum(self.value[k] for k in kids)
        if abs(value) < 1e-6:
            value = 0.0
        if value < -1e-6:
            raise DisclosureError(
                f"output {output!r}: cell {self._label(c)} is {self.value[c]:g}, less than its "
                f"members in the ledger add up to ({self.value[c] - value:g}) over population "
                f"{self.population!r}; tables with one population name must count the same "
                "units (give a different population= to different units)")
        rkey = tuple(sorted({**key, dim: code}.items()))
        i = len(self.value)
        self.keys[rkey] = i
        self.key_of.append(rkey)
        self.value.append(float(value))
        self.status.append(HIDDEN)
        self.reason.append(f"not published (members {list(missing)})")
        # small or empty: no output may let it be derived (an attacker does not know it is
        # empty, so [0, 9] would tell them it is small)
        self.watched.append(bool(value < self.width[c]))
        self.locked.append(False)
        self.width.append(self.width[c])
        self.cell_eqs.append([])
        self.n_tables.append(1)
        return i

    # -- secondary suppression -------------------------------------------------------------
    def _suppressed(self) -> np.ndarray:
        return np.isin(np.asarray(self.status), UNKNOWN)

    def _protected(self) -> np.ndarray:
        """Cells whose interval must be wide: suppressed ones and watched hidden ones."""
        st = np.asarray(self.status)
        return np.isin(st, PROTECTED) | ((st == HIDDEN) & np.asarray(self.watched, dtype=bool))

    def _free(self, c: int) -> bool:
        return self.status[c] == RELEASED and not self.locked[c] and c not in self.pinned

    def _unsuppress_pinned(self, c: int, counts, queue) -> bool:
        """Publish a secondary cell that released cells determine exactly; return whether.

        Its value is known to anyone who holds the outputs, so blanking it protects nothing,
        and it cannot be protected. Publishing it adds nothing an attacker does not have; the
        cells it was meant to hide get other complements (their equations are queued)."""
        if self.status[c] != SECONDARY or self.locked[c]:
            return False
        self.status[c] = RELEASED
        self.reason[c] = ""
        self.pinned.add(c)
        for e in self.cell_eqs[c]:
            counts[e] -= 1
            queue.append(e)
        return True

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
                # the one unknown follows from cells that cannot change: a complement that
                # hides nothing is published again; a primary cell cannot be protected
                if self._unsuppress_pinned(alone, counts, queue):
                    continue
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

    def _counts(self) -> np.ndarray:
        """Return the number of unknown cells in every equation."""
        counts = np.zeros(len(self.eqs), dtype=np.int64)
        sup = self._suppressed()
        for e, (p, kids) in enumerate(self.eqs):
            counts[e] = int(sup[p]) + int(sup[kids].sum())
        return counts

    def _attack_lp(self):
        """Return the attacker's exact LP over every cell in an equation, kept warm in one
        HiGHS model while the ledger's cells and equations stay the same (one protection:
        the settle loop's exact checks and the cost optimisation share it, and every solution
        it finds is a feasible table that proves other cells for free)."""
        key = (len(self.value), len(self.eqs))
        cached = self.__dict__.get("_attack")
        if cached is None or cached[0] != key:
            lp = attack_lp(np.asarray(self.value, dtype=float), self.eqs, self.cell_eqs,
                           np.ones(len(self.value), dtype=bool))
            cached = self._attack = (key, lp)
        return cached[1]

    def _warm_intervals(self, cells, sup) -> dict[int, tuple[float, float, str]]:
        """Return (min, max, how) of each cell's interval under pattern ``sup``, from the
        warm LP (see :meth:`AttackLP.interval <jeugdkit.output.optimal.AttackLP.interval>`)."""
        lp = self._attack_lp()
        lp.set_pattern(sup)
        lp.spread(cells, [self.width[c] for c in cells])
        return {c: lp.interval(c, self.width[c]) for c in cells}

    def protect(self, tables=(), optimise: bool | dict = False) -> dict:
        """Add secondary suppressions until every suppressed cell is protected; return stats.

        ``tables``: (TableGeom, ledger cells in C order) of the tables just added; their
        primary cells get hypercubes first. ``optimise``: after the greedy pattern is found,
        choose the complements of these tables again by cost (:meth:`_optimise`; a dict
        passes limits to :func:`~jeugdkit.output.optimal.optimal_pattern`).
        """
        counts = self._counts()
        queue: deque = deque()
        cubes = sum(self._hypercubes(g, cells, counts, queue) for g, cells in tables)
        queue.extend(int(e) for e in np.flatnonzero(counts == 1))
        self._closure(counts, queue)
        recheck = self._touched_locked()
        stats = {"hypercubes": cubes, "rechecked_locked": len(recheck)}
        self._settle(counts, recheck, stats)
        if optimise and tables:
            stats["complements"] = self._optimise(optimise)
            if stats["complements"].get("applied"):
                counts = self._counts()
                self._settle(counts, self._touched_locked() | recheck, stats)
        st = np.asarray(self.status)
        self.checked_eqs = len(self.eqs)
        stats.update(primary=int((st == PRIMARY).sum()), secondary=int((st == SECONDARY).sum()))
        return stats

    def _optimise(self, limits) -> dict:
        """Choose the complements of the cells this protection may still change by cost.

        The greedy pattern is feasible; :func:`~jeugdkit.output.optimal.optimal_pattern`
        searches the cheapest one (value + 1 per suppressed cell) over the cells that are not
        locked, primary, hidden, structural or pinned, with every cell already released fixed
        known and every suppressed locked cell fixed unknown. A cheaper proved pattern
        replaces the greedy one; otherwise the greedy one stays. More than
        :data:`MAX_OPTIMAL_FREE` free cells are optimised in blocks of consecutive cells (a
        table's cells are in row-major order, so a block is a run of its leading codes), each
        with the others fixed as they are: every block keeps the whole pattern safe and never
        costs more, but the result is no longer proved optimal as a whole. Return what
        happened."""
        st = np.asarray(self.status)
        n = len(st)
        locked = np.asarray(self.locked, dtype=bool)
        pinned = np.zeros(n, dtype=bool)
        pinned[list(self.pinned)] = True
        free = np.isin(st, (RELEASED, SECONDARY)) & ~locked & ~pinned
        unknown = np.isin(st, (PRIMARY, HIDDEN)) | ((st == SECONDARY) & locked)
        values = np.asarray(self.value, dtype=float)
        out = {"method": "greedy", "free_cells": int(free.sum())}
        if not free.any() or not self.eqs:
            return out
        if free.sum() > MAX_BLOCKED_FREE:
            out["reason"] = f"more than {MAX_BLOCKED_FREE} free cells"
            return out
        cells = np.flatnonzero(free)
        blocks = ([cells] if len(cells) <= MAX_OPTIMAL_FREE else
                  np.array_split(cells, -(-len(cells) // OPTIMAL_BLOCK)))
        greedy_cost = float((values[free & (st == SECONDARY)] + 1).sum())
        lp = self._attack_lp()
        kw = limits if isinstance(limits, dict) else {}
        statuses: dict[str, int] = {}
        totals = dict(rounds=0, cuts=0, lps=0, witnessed=0, quick=0)

        def quick(c: int, hidden) -> bool:
            return self._quick_proof(c, values, hidden, 60) is not None

        # the watched unpublished cells (members of a report's composite codes: many, mostly
        # small or empty) are left to the settle loop that follows: a cost-optimal pattern
        # that narrows one gets a complement there, and the optimiser's LPs stay small in
        # number (measured: a gemeente's tables without a national set spent 81% of 145 s in
        # cuts for them)
        st_all = np.asarray(self.status)
        required = self._protected() & ~((st_all == HIDDEN) & np.asarray(self.watched, bool))
        bound = 0.0
        for block in blocks:
            now = np.asarray(self.status)
            mine = np.zeros(n, dtype=bool)
            mine[block] = True
            fixed_unknown = unknown | (free & ~mine & (now == SECONDARY))
            res = optimal_pattern(values, self.eqs, self.cell_eqs, np.asarray(self.width),
                                  free=mine, known=~mine & ~fixed_unknown,
                                  unknown=fixed_unknown, required=required | mine,
                                  incumbent=mine & (now == SECONDARY), lp=lp,
                                  quick=quick if len(blocks) > 1 else None, **kw)
            statuses[res.status] = statuses.get(res.status, 0) + 1
            for k in totals:
                totals[k] += getattr(res, k)
            bound += res.lower_bound
            block_cost = float((values[mine & (now == SECONDARY)] + 1).sum())
            if res.suppress is None or res.cost >= block_cost - 1e-9:
                continue
            for c, sup in zip(block, res.suppress):
                c = int(c)
                if sup and now[c] != SECONDARY:
                    self.status[c] = SECONDARY
                    self.reason[c] = "complement chosen by cost (optimal pattern)"
                elif not sup and now[c] == SECONDARY:
                    self.status[c] = RELEASED
                    self.reason[c] = ""
            out["applied"] = True
        st = np.asarray(self.status)
        cost = float((values[free & (st == SECONDARY)] + 1).sum())
        out.update(blocks=len(blocks), status=statuses, **totals, greedy_cost=greedy_cost,
                   cost=cost)
        if len(blocks) == 1:
            out["lower_bound"] = bound
        if out.get("applied"):
            out["method"] = "optimal" if len(blocks) == 1 else "optimal per block"
        return out

    def _point_bounds(self, sup):
        """Return (lo, hi) over all cells: the span of the true values and of the feasible
        tables the ledger's warm LP kept that are still feasible (no cell or equation added,
        every cell they move unknown)."""
        values = np.asarray(self.value, dtype=float)
        lo, hi = values.copy(), values.copy()
        cached = self.__dict__.get("_attack")
        if cached is not None and cached[0] == (len(self.value), len(self.eqs)):
            lp = cached[1]
            lp.set_pattern(sup)
            lo[lp.cols] = np.minimum(lo[lp.cols], lp.lo)
            hi[lp.cols] = np.maximum(hi[lp.cols], lp.hi)
        return lo, hi

    def _quick_proof(self, c: int, values, sup, check_local: int = 0):
        """Return how cell c is proved wide enough without the exact LP under the pattern
        ``sup`` ("hypercube": its certificate still balances; "local": a neighbourhood LP of
        ``check_local`` cells, when asked for), or None."""
        cert = self.cert.get(c)
        if cert and certificate_width(cert[0], cert[1], values, sup, self.eqs,
                                      self.cell_eqs) >= self.width[c]:
            return "hypercube"
        if check_local and local_width(c, values, self.eqs, self.cell_eqs, sup,
                                       np.where(sup, 0.0, values),
                                       np.where(sup, np.inf, values),
                                       check_local) >= self.width[c]:
            return "local"
        return None

    def _settle(self, counts, recheck, stats: dict) -> None:
        """Check every unverified protected cell (feasible tables, hypercube proof, exact LP)
        and widen the ones too narrow with one more complement each, until all are wide
        enough; add the counts of what it did to ``stats``."""
        n = len(self.value)
        verified: set[int] = {i for i in range(n) if self.locked[i] and i not in recheck}
        rounds = certified = exact = witnessed = 0
        while True:
            rounds += 1
            sup = self._suppressed()
            values = np.asarray(self.value, dtype=float)
            todo = [int(c) for c in np.flatnonzero(self._protected()) if c not in verified]
            if not todo:
                break
            failing = []
            p_lo, p_hi = self._point_bounds(sup)
            for c in todo:
                # no neighbourhood LP here: the warm exact LP below is about as fast per
                # cell, and its solutions prove other cells too (measured: a gemeente's
                # trajectory release 101 s -> 62 s without it, the same pattern)
                how = ("points" if p_hi[c] - p_lo[c] >= self.width[c] - 1e-9 else
                       self._quick_proof(c, values, sup))
                if how is None:
                    failing.append(c)
                    continue
                verified.add(c)
                witnessed += how == "points"
                certified += how == "hypercube"
            if failing:
                bounds = self._warm_intervals(failing, sup)
                widths = {c: hi - lo for c, (lo, hi, _) in bounds.items()}
                exact += len(failing)
                still = [c for c in failing if widths[c] < self.width[c] - 1e-9
                         and not known_empty(self.status[c], bounds[c][1])]
                queue = deque()
                pinned = self._fixed_by_locked([c for c in still if widths[c] < 1e-9], sup)
                pinned = [c for c in pinned if self._unsuppress_pinned(c, counts, queue)]
                if pinned:
                    still = [c for c in still if c not in pinned]
                    self._closure(counts, queue)
                verified.update(c for c in failing if c not in still)
                failing = still
            if not failing:
                continue
            queue = deque()
            widened = False
            for c in failing:
                cands = self._ring_candidates(c)
                if not cands:
                    if widened or pinned:
                        # a complement chosen for another cell this round took its last free
                        # neighbour, or the closure after publishing pinned cells again
                        # suppressed more: that may have protected it too; the next round checks
                        continue
                    raise DisclosureError(self._stuck_message(c))
                m = self._choose(cands, counts, None, self.width[c])
                self._suppress(m, counts, queue, f"widens interval of {self._label(c)}")
                widened = True
            self._closure(counts, queue)
        for k, v in (("rounds", rounds), ("proved_by_hypercube", certified),
                     ("proved_by_feasible_tables", witnessed), ("exact_lp_cells", exact)):
            stats[k] = stats.get(k, 0) + v

    def _fixed_by_locked(self, cells, sup) -> list[int]:
        """Return the secondary cells among ``cells`` that the locked cells alone determine:
        pinned even if every cell this run may still change were suppressed. Only those are
        known whatever this run does (a cell pinned through a cell this run released is
        widened instead)."""
        cells = [c for c in cells if self.status[c] == SECONDARY and not self.locked[c]]
        if not cells:
            return []
        st = np.asarray(self.status)
        loose = (st == RELEASED) & ~np.asarray(self.locked, dtype=bool) & ~np.isin(
            np.arange(len(st)), list(self.pinned))
        # the ledger's warm LP under the looser pattern (every point it holds stays feasible;
        # a point that moves the cell at all settles it without a solve)
        lp = self._attack_lp()
        lp.set_pattern(sup | loose)
        pinned = []
        for c in cells:
            lo, hi, _ = lp.interval(c, 1e-6)
            if hi - lo < 1e-9:
                pinned.append(c)
        return pinned

    def _touched_locked(self) -> set[int]:
        """Return the locked protected cells that equations added since the last protection
        can reach through unknown cells: new tables may narrow them, so they are checked
        again (an earlier output's suppressed cell must stay protected against this one)."""
        new = range(self.checked_eqs, len(self.eqs))
        if not len(new):
            return set()
        unknown = self._suppressed()
        protected = self._protected()
        frontier = [c for e in new for c in (self.eqs[e][0], *self.eqs[e][1]) if unknown[c]]
        seen = set(frontier)
        while frontier:
            nxt = []
            for a in frontier:
                for e in self.cell_eqs[a]:
                    p, kids = self.eqs[e]
                    for m in (p, *kids):
                        if m not in seen and unknown[m]:
                            seen.add(m)
                            nxt.append(m)
            frontier = nxt
        return {c for c in seen if self.locked[c] and protected[c]}

    def lock(self, cells) -> None:
        """Mark cells as released in an output: their status can no longer change."""
        for c in cells:
            self.locked[c] = True

    def audit(self, exact: bool = False, cells=None):
        """Return (min, max, method) of every suppressed cell's LP interval (NaN elsewhere).

        ``cells``: audit only the suppressed cells among these (a session sharing a period
        ledger audits the cells of its own outputs; :meth:`protect` has checked the rest).

        ``exact``: solve both LPs for every cell. Otherwise a cell proved wide enough by the
        feasible tables of the warm LP or by its hypercube gets those (inner, hence safe)
        bounds, and only the rest get the exact LP; ``method`` says which. The answer is kept
        until a table or a suppression changes the ledger: a report writes its log after every
        chapter.
        """
        only = None if cells is None else frozenset(int(c) for c in cells)
        state = (exact, len(self.value), len(self.eqs), bytes(np.asarray(self.status, np.int8)),
                 tuple(self.width), only)
        cached = getattr(self, "_audited", None)
        if cached is not None and cached[0] == state:
            return tuple(a.copy() for a in cached[1])
        result = self._audit(exact, only)
        self._audited = (state, result)
        return tuple(a.copy() for a in result)

    def _audit(self, exact: bool, only=None):
        sup = self._suppressed()
        values = np.asarray(self.value, dtype=float)
        lower = np.where(sup, 0.0, values)
        upper = np.where(sup, np.inf, values)
        n = len(values)
        lo, hi = np.full(n, np.nan), np.full(n, np.nan)
        method = np.full(n, "", dtype=object)
        todo = []
        p_lo, p_hi = self._point_bounds(sup)
        for c in np.flatnonzero(self._protected()):
            c = int(c)
            if only is not None and c not in only:
                continue
            cert = None if exact else self.cert.get(c)
            if not exact and p_hi[c] - p_lo[c] >= self.width[c] - 1e-9:
                lo[c], hi[c], method[c] = p_lo[c], p_hi[c], "feasible tables"
            elif cert and certificate_width(cert[0], cert[1], values, sup, self.eqs,
                                          self.cell_eqs) >= self.width[c]:
                d = dict(zip(*cert))
                up = min((values[m] for m, g in d.items() if g != d[c]), default=np.inf)
                down = min((values[m] for m, g in d.items() if g == d[c]), default=np.inf)
                lo[c], hi[c], method[c] = values[c] - down, values[c] + up, "hypercube"
            else:
                todo.append(c)
        if todo and exact:
            a, b = feasible_intervals(values, self.eqs, lower, upper, targets=todo,
                                      cell_eqs=self.cell_eqs)
            lo[todo], hi[todo] = a[todo], b[todo]
            method[todo] = "exact LP"
        elif todo:
            # the warm exact LP of the ledger: feasible tables its solutions leave prove most
            # cells (inner bounds), the rest get both sides solved
            for c, (a, b, how) in self._warm_intervals(todo, sup).items():
                lo[c], hi[c], method[c] = a, b, how
        return lo, hi, method
