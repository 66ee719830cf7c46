"""The cells and additivity equations of a table with margins (and hierarchies).

A table has dimensions; each dimension is a tree of codes: the leaves are the codes found in
the data, optional intermediate codes come from a hierarchy (``{child: parent}``), and the root
is the total (``"totaal"``). Every cell of the table is one combination of codes, one per
dimension, at any level. For every internal code ``p`` of a dimension and every combination of
the other dimensions' codes there is one equation ``cell(p, rest) = sum cell(c, rest)`` over the
children ``c`` of ``p``.

A cell is identified across tables by its *canonical key*: the sorted ``(dimension, code)`` pairs
without the dimensions that sit at their total. The count of 0-3-year-olds in an age x sex
table (sex = totaal) is the same quantity as the count of 0-3-year-olds in an age x hulpvorm
table; both tables are then linked through that cell.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

import numpy as np

from jeugdkit.errors import DisclosureError

Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DimTree:
    """The codes of one dimension: leaves (data codes), internal codes and the total."""

    name: str
    codes: tuple[str, ...]
    """All codes in display order: leaves, then intermediate codes, then the total."""
    parent: dict[str, str]
    """Parent of every code except the total."""
    total: str

    @classmethod
    def build(cls, name: str, leaves, hierarchy: dict | None = None,
              total: str = "totaal") -> DimTree:
        """Return the tree of a dimension from its leaf codes and an optional {child: parent}."""
        leaves = [str(c) for c in leaves]
        hierarchy = {str(k): str(v) for k, v in (hierarchy or {}).items()}
        if total in leaves:
            raise DisclosureError(
                f"dimension {name!r}: the data hold the code {total!r}, which is the kit's total "
                "label; pass data without margins (the kit computes them)"
            )
        parent: dict[str, str] = {}
        internal: list[str] = []
        frontier = list(leaves)
        seen = set(leaves)
        while frontier:
            code = frontier.pop(0)
            up = hierarchy.get(code, total)
            parent[code] = up
            if up != total and up not in seen:
                seen.add(up)
                internal.append(up)
                frontier.append(up)
        return cls(name, tuple(leaves) + tuple(internal) + (total,), parent, total)

    def children(self) -> dict[str, list[str]]:
        """Return {internal code: child codes} (the total included)."""
        out: dict[str, list[str]] = {}
        for code in self.codes:
            if code in self.parent:
                out.setdefault(self.parent[code], []).append(code)
        return out

    def aggregation(self, n_leaves: int) -> np.ndarray:
        """Return the 0/1 matrix (codes x leaves): which leaves each code sums."""
        index = {c: i for i, c in enumerate(self.codes)}
        mat = np.zeros((len(self.codes), n_leaves), dtype=np.int64)
        for j in range(n_leaves):
            code = self.codes[j]
            while True:
                mat[index[code], j] = 1
                if code == self.total:
                    break
                code = self.parent[code]
        return mat


def canonical_key(dims: list[DimTree], codes: tuple[str, ...]) -> Key:
    """Return the key of a cell, shared by every table over the same population."""
    return tuple(sorted((d.name, c) for d, c in zip(dims, codes) if c != d.total))


def full_array(dims: list[DimTree], leaf_array: np.ndarray) -> np.ndarray:
    """Return the array over all codes (margins included) from the array over leaf codes."""
    out = leaf_array
    for axis, d in enumerate(dims):
        agg = d.aggregation(out.shape[axis])
        out = np.moveaxis(np.tensordot(agg, out, axes=([1], [axis])), 0, axis)
    return out


def cell_codes(dims: list[DimTree]) -> list[tuple[str, ...]]:
    """Return every cell's codes in C order of the full array."""
    return list(itertools.product(*[d.codes for d in dims]))


def equations(dims: list[DimTree]) -> list[tuple[int, list[int]]]:
    """Return the additivity equations as (parent cell, child cells), in flat C-order indices."""
    shape = tuple(len(d.codes) for d in dims)
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    out: list[tuple[int, list[int]]] = []
    for axis, d in enumerate(dims):
        index = {c: i for i, c in enumerate(d.codes)}
        moved = np.moveaxis(flat, axis, 0)
        for parent, kids in d.children().items():
            p = moved[index[parent]].ravel()
            ks = np.stack([moved[index[k]].ravel() for k in kids], axis=1)
            out.extend((int(a), [int(x) for x in b]) for a, b in zip(p, ks))
    return out


def composite_code(code: str, members) -> str:
    """Return the ledger's name of a code that stands for several codes (a comparison group,
    the rest of the country): the code with a digest of its members, e.g. ``groep[1a2b3c4d]``.
    The export log and ``jeugdkit audit`` name it the same way."""
    digest = hashlib.sha1(",".join(sorted(map(str, members))).encode()).hexdigest()[:8]
    return f"{code}[{digest}]"
