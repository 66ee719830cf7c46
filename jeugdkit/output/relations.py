"""Secondary suppression across populations that an attacker knows to be related.

Each population has its own :class:`~jeugdkit.output.suppression.Ledger`, but an attacker knows
more than each table's margins: a youth in two hulpvorm groups counts once in each group's
table and once in the total (``max(groups) <= totaal <= sum(groups)`` cell by cell), two names
may count the same youths, and a first half-year's youths are the year's. The session records
this knowledge (:meth:`~jeugdkit.output.ExportSession.declare_relation`, which ``jeugdkit
audit`` reads back); :func:`protect_linked` makes the suppression respect it.

After every ledger has been protected on its own, the ledgers that relations link are put in
one system: their cells and equations, and the relations as inequalities over cells with the
same key. Every suppressed cell that a relation touches is checked with the exact LP of that
system, kept warm in one HiGHS model (:class:`~jeugdkit.output.optimal.AttackLP`); each LP
solution is a feasible table, and a cell that the tables seen so far already move by the
protection width needs no LP of its own. A cell too narrow gets a
complement among the free cells next to it, through a relation first (the whole, a sibling
part) or an equation; the ledger that got it is protected again, and the check repeats until
every such cell is wide enough. Cells of earlier outputs stay locked; when only locked cells
could hide a cell, the output is refused with the reason.
"""

from __future__ import annotations

import numpy as np

from jeugdkit.errors import DisclosureError
from jeugdkit.output.audit import _root
from jeugdkit.output.optimal import AttackLP
from jeugdkit.output.suppression import SECONDARY, UNKNOWN, Ledger, known_empty


def _links(relations, ledgers: dict) -> list[tuple[str, tuple, tuple]]:
    """Return the relations among ledgers present: (kind, left populations, right ones)."""
    out = []
    for r in relations:
        unit = r.get("unit")
        if r["kind"] == "parts":
            out.append(("parts", unit, (r["whole"],), tuple(r["parts"]), r.get("exclusive")))
        elif r["kind"] == "within":
            out.append(("within", unit, (r["part"],), (r["whole"],), False))
        elif r["kind"] == "alias" and not r.get("dims") and not r.get("codes"):
            out.append(("alias", unit, (r["population"],), (r["same_as"],), False))
    return [link for link in out if (link[2][0], link[1]) in ledgers
            and any((p, link[1]) in ledgers for p in link[3])]


def _components(links, touched, present) -> list[list]:
    """Return the groups of ledger keys (of ``present`` ledgers) that links join, each
    holding a touched ledger."""
    parent: dict = {}

    def find(a):
        parent.setdefault(a, a)
        return _root(parent, a)

    for _, unit, left, right, _ in links:
        keys = [(p, unit) for p in (*left, *right) if (p, unit) in present]
        for a, b in zip(keys, keys[1:]):
            parent[find(a)] = find(b)
    groups: dict = {}
    for key in list(parent):
        groups.setdefault(find(key), []).append(key)
    return [sorted(g) for g in groups.values() if len(g) > 1 and set(g) & set(touched)]


class _System:
    """The cells of several ledgers in one index, with their equations and the relations."""

    def __init__(self, keys, ledgers: dict, links):
        self.keys = keys
        self.ledgers = [ledgers[k] for k in keys]
        self.offset = {}
        n = 0
        for k, led in zip(keys, self.ledgers):
            self.offset[k] = n
            n += len(led)
        self.n = n
        self.values = np.concatenate([np.asarray(led.value, float) for led in self.ledgers])
        self.eqs = []
        for k, led in zip(keys, self.ledgers):
            o = self.offset[k]
            self.eqs.extend((p + o, [c + o for c in kids]) for p, kids in led.eqs)
        self.cell_eqs: list[list[int]] = [[] for _ in range(n)]
        for e, (p, kids) in enumerate(self.eqs):
            for c in (p, *kids):
                self.cell_eqs[c].append(e)
        self.ineqs = []
        for kind, unit, left, right, exclusive in links:
            lkey = (left[0], unit)
            if lkey not in self.offset:
                continue
            rkeys = [(p, unit) for p in right if (p, unit) in self.offset]
            lled = ledgers[lkey]
            for key, i in lled.keys.items():
                a = i + self.offset[lkey]
                others = [ledgers[rk].keys.get(key) for rk in rkeys]
                others = [j + self.offset[rk] for j, rk in zip(others, rkeys) if j is not None]
                if not others:
                    continue
                if kind == "parts":      # left is the whole: part <= whole <= sum(parts)
                    self.ineqs.extend(([b, a], [1.0, -1.0], 0.0) for b in others)
                    if len(rkeys) == len(right):
                        self.ineqs.append(([a, *others], [1.0] + [-1.0] * len(others), 0.0))
                        if exclusive:
                            self.ineqs.append(([a, *others], [-1.0] + [1.0] * len(others),
                                               0.0))
                elif kind == "within":   # left is the part: part <= whole
                    self.ineqs.append(([a, others[0]], [1.0, -1.0], 0.0))
                else:                    # alias: the same quantity
                    self.ineqs.append(([a, others[0]], [1.0, -1.0], 0.0))
                    self.ineqs.append(([a, others[0]], [-1.0, 1.0], 0.0))
        self.cell_ineqs: dict[int, list[int]] = {}
        for e, (cells, _, _) in enumerate(self.ineqs):
            for c in cells:
                self.cell_ineqs.setdefault(c, []).append(e)

    def where(self, g: int) -> tuple[Ledger, int]:
        for k, led in zip(self.keys, self.ledgers):
            o = self.offset[k]
            if o <= g < o + len(led):
                return led, g - o
        raise IndexError(g)

    def state(self):
        status = np.concatenate([np.asarray(led.status) for led in self.ledgers])
        unknown = np.isin(status, UNKNOWN)
        protected = np.concatenate([led._protected() for led in self.ledgers])
        width = np.concatenate([np.asarray(led.width, float) for led in self.ledgers])
        return status, unknown, protected, width

    def neighbours(self, c: int) -> list[int]:
        out = []
        for e in self.cell_ineqs.get(c, ()):
            out.extend(self.ineqs[e][0])
        for e in self.cell_eqs[c]:
            p, kids = self.eqs[e]
            out.extend((p, *kids))
        return [m for m in dict.fromkeys(out) if m != c]


def protect_linked(ledgers: dict, relations, touched, max_rounds: int = 50) -> dict:
    """Suppress more where a relation between populations would narrow a suppressed cell.

    ``ledgers``: ``{(population, unit): Ledger}``; ``relations``: as the session logs them;
    ``touched``: the ledger keys just protected. Return counts of what was checked and added.
    """
    links = _links(relations, ledgers)
    stats = {"linked_cells_checked": 0, "relation_complements": 0, "relation_rounds": 0,
             "proved_by_feasible_tables": 0, "exact_lp_cells": 0}
    if not links:
        return stats
    for keys in _components(links, touched, ledgers):
        system = _System(keys, ledgers, links)
        if not system.ineqs:
            continue
        # the cells and constraints stay the same while the rounds below add complements: one
        # warm LP serves every check, and its solutions (feasible tables) prove most cells
        # without an LP of their own
        lp = AttackLP(system.values, system.eqs, range(len(system.eqs)), range(system.n),
                      system.ineqs)
        for _ in range(max_rounds):
            stats["relation_rounds"] += 1
            status, unknown, protected, width = system.state()
            lp.set_pattern(unknown)
            targets = [c for c in system.cell_ineqs if protected[c]]
            stats["linked_cells_checked"] += len(targets)
            narrow = []
            for c in targets:
                lo, hi, how = lp.interval(c, width[c])
                stats["proved_by_feasible_tables" if how == "feasible tables"
                      else "exact_lp_cells"] += 1
                if hi - lo < width[c] - 1e-9 and not known_empty(status[c], hi):
                    narrow.append(c)
            if not narrow:
                break
            changed = set()
            stuck: list[int] = []
            for c in narrow:
                led, i = system.where(c)
                if any(m in changed for m in system.neighbours(c)):
                    continue  # a complement added this round may have widened it already
                cands = [m for m in system.neighbours(c) if _free(system, m)]
                if not cands:
                    cands = _ring(system, c, unknown)
                if not cands:
                    stuck.append(c)  # a complement chosen for another cell may widen it
                    continue
                need = width[c]
                m = min(cands, key=lambda x: (system.values[x] < need, system.values[x], x))
                mled, j = system.where(m)
                mled.status[j] = SECONDARY
                mled.reason[j] = f"related population: widens interval of {led._label(i)}"
                status[m] = SECONDARY
                changed.add(m)
                stats["relation_complements"] += 1
            if stuck and not changed:
                led, i = system.where(stuck[0])
                raise DisclosureError(
                    f"population {led.population!r}: suppressed cell {led._label(i)} "
                    "cannot be protected against the populations related to it "
                    f"({_names(keys)}): every cell that could hide it "
                    "is released already; coarsen the tables or release them together")
            for led in {id(system.where(m)[0]): system.where(m)[0] for m in changed}.values():
                led.protect()
        else:
            raise DisclosureError(f"populations {[p for p, _ in keys]}: the suppression across "
                                  f"related populations did not settle in {max_rounds} rounds")
    return stats


def _names(keys, show: int = 4) -> str:
    names = [p for p, _ in keys]
    more = f" and {len(names) - show} more" if len(names) > show else ""
    return ", ".join(names[:show]) + more


def _free(system: _System, g: int) -> bool:
    led, i = system.where(g)
    return led._free(i)


def _ring(system: _System, c: int, unknown) -> list[int]:
    """Return the free cells nearest to c through unknown cells (equations and relations)."""
    seen, frontier = {c}, [c]
    while frontier:
        nxt, free = [], set()
        for a in frontier:
            for m in system.neighbours(a):
                if m in seen:
                    continue
                seen.add(m)
                if _free(system, m):
                    free.add(m)
                elif unknown[m]:
                    nxt.append(m)
        if free:
            return sorted(free)
        frontier = nxt
    return []
