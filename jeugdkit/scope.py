"""Which gemeenten an output shows: every gemeente and NL, or one gemeente, its group and NL.

Every released table of the kit has a ``gemeentecode`` dimension. A :class:`Scope` says how the
youths' gemeenten become the leaves of that dimension, which hierarchy sits above them, and
which rows are published:

- ``Scope()``: every gemeente is a leaf; the total is published as ``NL``.
- ``Scope(gemeente="0363", group=[...], group_label="stedelijkheid=1")``: three leaves (the
  gemeente, the rest of its group, the rest of the country) under ``groep`` and the total; the
  gemeente, ``groep`` and ``NL`` rows are published. The two rest cells are not published, but
  they follow from published ones (groep - gemeente, NL - groep), so they are protected like
  any other cell: the suppression runs on the whole table, and :meth:`Scope.publish` leaves
  them out of the file. (Treating them as unpublished unknowns was tried: the solver then
  protects small rest cells through the LP audit instead of hypercubes and suppresses more.)
- ``Scope(group=[...])`` (no gemeente): every gemeente is a leaf, the group's gemeenten sit
  under ``groep``; every gemeente, ``groep`` and ``NL`` are published.

Collapsing to three leaves when one gemeente is asked for is what an output checker wants: the
other gemeenten are not released, so their small cells cost no suppression in the gemeente's
rows. A group's numbers are over its pooled units, never a mean of its gemeenten's numbers.

Example::

    scope = Scope("0363", group=codes, group_label="stedelijkheid=1")
    data["gemeentecode"] = scope.leaves(data["gemeentecode"])
    table = run.freq_table(data, ["gemeentecode", "hulpvorm"], hierarchies=scope.hierarchy(),
                           levels=scope.levels(), publish=scope.published,
                           name=..., unit=..., population=...)
    table = scope.publish(table)            # rows: 0363, groep, NL (the total renamed)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.settings import DEFAULT

NATIONAL = "NL"
GROUP = "groep"
REST_OF_GROUP = "rest_groep"
REST_OF_COUNTRY = "rest_nl"
COLUMN = "gemeentecode"


def _code(value) -> str:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 4:
        raise JeugdkitError(f"gemeentecode {value!r}: expected up to 4 digits, e.g. 0363")
    return text.zfill(4)


@dataclass(frozen=True)
class Scope:
    """The gemeenten an output shows (see the module docstring)."""

    gemeente: str | None = None
    group: tuple[str, ...] | None = None
    group_label: str = ""
    total: str = field(default=DEFAULT.output_control.total_label)
    name: str = field(default="", compare=False)
    """The gemeente's name, for titles and legends (the code where empty)."""

    def __post_init__(self):
        if self.gemeente is not None:
            object.__setattr__(self, "gemeente", _code(self.gemeente))
        if self.group is not None:
            codes = tuple(sorted({_code(c) for c in self.group}))
            if not codes:
                raise JeugdkitError("comparison group is empty")
            if self.gemeente is not None and self.gemeente not in codes:
                codes = tuple(sorted((*codes, self.gemeente)))
            object.__setattr__(self, "group", codes)

    @classmethod
    def from_groups(cls, gemeente: str | None, groups: dict | None, **kw) -> Scope:
        """Return the scope for a gemeente and ``{label: codes}`` (at most one group)."""
        if not groups:
            return cls(gemeente, **kw)
        if len(groups) != 1:
            raise JeugdkitError(f"one comparison group per run, got {len(groups)}: "
                                f"{list(groups)}")
        (label, codes), = groups.items()
        return cls(gemeente, tuple(codes), str(label), **kw)

    @property
    def title(self) -> str:
        """The gemeente as a reader knows it: its name, else ``gemeente <code>``."""
        return self.name or f"gemeente {self.gemeente}"

    def leaves(self, codes: pd.Series) -> pd.Series:
        """Return the leaf code of every unit's gemeentecode (4-digit strings)."""
        codes = codes.astype(str)
        if self.gemeente is None:
            return codes
        own = (codes == self.gemeente).to_numpy()
        if self.group is None:
            return pd.Series(np.where(own, self.gemeente, REST_OF_COUNTRY), index=codes.index)
        in_group = codes.isin(self.group).to_numpy()
        return pd.Series(np.where(own, self.gemeente,
                                  np.where(in_group, REST_OF_GROUP, REST_OF_COUNTRY)),
                         index=codes.index)

    def members(self, codes: pd.Series) -> dict | None:
        """Return ``{gemeentecode: code per unit}`` for the session's ``members=`` when the
        leaves include composites (the rest of the group, the rest of the country), else None.

        The period ledger then holds the table over every gemeente as well (unpublished), so
        that the composites of several reports are tied to the same member cells."""
        if self.gemeente is None:
            return None
        return {COLUMN: codes.astype(str).to_numpy()}

    def hierarchy(self, codes=None) -> dict | None:
        """Return ``{gemeentecode: {leaf: parent}}`` for the session's ``hierarchies=``.

        ``codes``: the gemeentecodes present (needed only for a group without a gemeente).
        """
        if self.group is None:
            return None
        if self.gemeente is not None:
            return {COLUMN: {self.gemeente: GROUP, REST_OF_GROUP: GROUP}}
        present = [] if codes is None else sorted({str(c) for c in codes})
        return {COLUMN: {c: GROUP for c in present if c in self.group}}

    def composition(self, codes) -> dict:
        """Return ``{gemeentecode: {code: member gemeentecodes}}`` for every code that stands
        for several gemeenten (``groep``, the rest leaves), given every gemeentecode of the
        population. The export log records it, so that an audit over several outputs can
        link a gemeente's report with the tables of all gemeenten (``jeugdkit audit``)."""
        codes = sorted({str(c) for c in codes})
        if self.gemeente is None and self.group is None:
            return {}
        out = {}
        if self.group is not None:
            group = list(self.group)  # members without youths are members all the same
            out[GROUP] = group
            if self.gemeente is not None:
                out[REST_OF_GROUP] = [c for c in group if c != self.gemeente]
        if self.gemeente is not None:
            inside = set(self.group or ()) | {self.gemeente}
            out[REST_OF_COUNTRY] = [c for c in codes if c not in inside]
        return {COLUMN: out}

    def levels(self) -> dict:
        """Return ``{gemeentecode: leaves}`` so that every shown row exists, even when empty."""
        if self.gemeente is None:
            return {}
        leaves = [self.gemeente] + ([REST_OF_GROUP] if self.group is not None else [])
        return {COLUMN: leaves + [REST_OF_COUNTRY]}

    def published(self, cells: pd.DataFrame, column: str = COLUMN) -> np.ndarray:
        """Return which cells the suppression treats as published (``freq_table(publish=)``).

        Every cell: the rest cells follow from published ones (groep - gemeente, NL - groep),
        so they are protected exactly like published cells (a small one is suppressed and gets
        a hypercube), which is what the solver does best. :meth:`publish` then leaves them out
        of the file.
        """
        return np.ones(len(cells), dtype=bool)

    def publish(self, table: pd.DataFrame, column: str = COLUMN) -> pd.DataFrame:
        """Return the published rows: the rest leaves dropped, the total renamed ``NL``."""
        codes = table[column].astype(str)
        keep = ~codes.isin([REST_OF_GROUP, REST_OF_COUNTRY]).to_numpy()
        out = table[keep].copy()
        out[column] = out[column].astype(str).replace(self.total, NATIONAL)
        return out.reset_index(drop=True)

    def rows(self, present_codes) -> list[str]:
        """Return the published gemeentecodes in display order."""
        if self.gemeente is not None:
            head = [self.gemeente]
        else:
            head = sorted({str(c) for c in present_codes})
        return head + ([GROUP] if self.group is not None else []) + [NATIONAL]

    def describe(self) -> str:
        """Return a one-line description for logs and reports."""
        parts = [f"gemeente {self.gemeente}" if self.gemeente else "alle gemeenten"]
        if self.group is not None:
            parts.append(f"groep {self.group_label or 'opgegeven lijst'} "
                         f"({len(self.group)} gemeenten: {', '.join(self.group)})")
        parts.append("NL")
        return "; ".join(parts)
