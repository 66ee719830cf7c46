"""Hypercubes: cheap protection patterns and cheap proofs of protection in one table.

For a cell of a k-dimensional table with margins, choose in every dimension a partner code:
a sibling (same parent; the pair moves in opposite directions) or, for a code directly under
the total, the total itself (both move together); a total's partner is one of its children.
The 2^k cells on the corners form a pattern whose +-t change keeps every margin of the table
unchanged. When all corners are suppressed, an attacker cannot tell the table from the one
moved by t, for t between -(smallest positive corner) and +(smallest negative corner): the
cell's LP interval is at least that wide. This is the classic hypercube method (GHMITER of
tau-Argus); here it chooses complements fast, and proves most cells protected without an LP.
"""

from __future__ import annotations

import itertools

import numpy as np

from jeugdkit.output.structure import DimTree


class TableGeom:
    """Partner codes and signs of every code of every dimension of a table."""

    def __init__(self, trees: list[DimTree]):
        self.shape = tuple(len(t.codes) for t in trees)
        self.partners: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for t in trees:
            index = {c: i for i, c in enumerate(t.codes)}
            kids = t.children()
            per_code = []
            for code in t.codes:
                idx, sign = [], []
                if code == t.total:
                    for k in kids.get(code, []):
                        idx.append(index[k])
                        sign.append(1)
                else:
                    par = t.parent[code]
                    for s in kids[par]:
                        if s != code:
                            idx.append(index[s])
                            sign.append(-1)
                    if par == t.total:
                        idx.append(index[par])
                        sign.append(1)
                per_code.append((np.asarray(idx, dtype=np.int64), np.asarray(sign, np.int8)))
            self.partners.append(per_code)
        self.k = len(trees)

    def best(self, pos: tuple[int, ...], value: np.ndarray, cost: np.ndarray, need: float):
        """Return the best hypercube through cell ``pos``, or None.

        ``value``/``cost`` are arrays of the table's shape; cost is 0 for a suppressed cell,
        inf for a cell that may not be suppressed, else the price of suppressing it. Returns
        (flat corner indices, signs, width, cost): the cheapest hypercube at least ``need``
        wide, else the widest one of finite cost.
        """
        parts = [self.partners[d][pos[d]] for d in range(self.k)]
        if any(len(p[0]) == 0 for p in parts):
            return None
        full = tuple(len(p[0]) for p in parts)
        total_cost = np.zeros(full)
        min_pos = np.full(full, np.inf)
        min_neg = np.full(full, np.inf)
        for subset in itertools.product((False, True), repeat=self.k):
            index = []
            sign = np.ones((1,) * self.k, dtype=np.int8)
            for d, use in enumerate(subset):
                shape = [1] * self.k
                if use:
                    shape[d] = full[d]
                    index.append(parts[d][0].reshape(shape))
                    sign = sign * parts[d][1].reshape(shape)
                else:
                    index.append(np.full(shape, pos[d], dtype=np.int64))
            idx = tuple(index)
            total_cost = total_cost + cost[idx]
            v = value[idx]
            min_pos = np.minimum(min_pos, np.where(sign > 0, v, np.inf))
            min_neg = np.minimum(min_neg, np.where(sign < 0, v, np.inf))
        width = min_pos + min_neg
        finite = np.isfinite(total_cost)
        if not finite.any():
            return None
        ok = finite & (width >= need)
        if ok.any():
            flat = int(np.argmin(np.where(ok, total_cost, np.inf)))
        else:
            flat = int(np.argmax(np.where(finite, width, -np.inf)))
        choice = np.unravel_index(flat, full)
        corners, signs = [], []
        for subset in itertools.product((False, True), repeat=self.k):
            cell, sgn = [], 1
            for d, use in enumerate(subset):
                if use:
                    cell.append(int(parts[d][0][choice[d]]))
                    sgn *= int(parts[d][1][choice[d]])
                else:
                    cell.append(pos[d])
            corners.append(int(np.ravel_multi_index(cell, self.shape)))
            signs.append(sgn)
        return corners, signs, float(width[choice]), float(total_cost[choice])


def certificate_width(corners, signs, values, hidden, eqs, cell_eqs) -> float:
    """Return the width a +-t pattern proves for its cells (0 if it is no valid pattern).

    Valid: every corner is hidden and the pattern keeps every equation touching it balanced
    (this also covers equations of linked tables).
    """
    if not all(hidden[c] for c in corners):
        return 0.0
    d = dict(zip(corners, signs))
    for e in {e for c in corners for e in cell_eqs[c]}:
        p, kids = eqs[e]
        if d.get(p, 0) - sum(d.get(k, 0) for k in kids) != 0:
            return 0.0
    up = min((values[c] for c, s in d.items() if s < 0), default=np.inf)
    down = min((values[c] for c, s in d.items() if s > 0), default=np.inf)
    return float(up + down)
