"""Reconciliation: every record read is accounted for, step by step.

A reconciliation is a tidy DataFrame with one row per (eenheid, stap, reden):

| column | meaning |
|---|---|
| `eenheid` | what is counted: `personen`, `trajecten`, `jeugdbescherming`, ... |
| `stap_nr`, `stap` | the order and name of the step |
| `in` | records entering the step (repeated on each row of the step) |
| `reden` | why records left (or were flagged); `""` on the row of a step nobody left |
| `uit` | records that left the step for this reason |
| `behouden` | records kept but counted for this reason (e.g. no household on the peildatum) |
| `over` | records leaving the step to the next one (repeated on each row of the step) |

It closes when, for every step, `in == over + sum(uit)` and each step's `in` equals the previous
step's `over`. `check_reconciliation` asserts that (and, if given, that the last `over` equals
the final frame's length).
"""

from __future__ import annotations

import pandas as pd

from jeugdkit.errors import ReconciliationError

COLUMNS = ["eenheid", "stap_nr", "stap", "in", "reden", "uit", "behouden", "over"]


class Reconciliation:
    """Collects the steps of one or more chains (one chain per eenheid)."""

    def __init__(self):
        self.rows: list[dict] = []
        self._step: dict[str, int] = {}

    def step(self, eenheid: str, stap: str, n_in: int, out: dict[str, int] | None = None,
             flagged: dict[str, int] | None = None) -> int:
        """Record a step; return the records that go on (`n_in` minus everything in `out`)."""
        out = {k: int(v) for k, v in (out or {}).items() if int(v)}
        flagged = {k: int(v) for k, v in (flagged or {}).items() if int(v)}
        n_in = int(n_in)
        n_over = n_in - sum(out.values())
        nr = self._step[eenheid] = self._step.get(eenheid, 0) + 1
        base = {"eenheid": eenheid, "stap_nr": nr, "stap": stap, "in": n_in, "over": n_over}
        reasons = [(r, n, 0) for r, n in out.items()] + [(r, 0, n) for r, n in flagged.items()]
        for reden, uit, behouden in reasons or [("", 0, 0)]:
            self.rows.append({**base, "reden": reden, "uit": uit, "behouden": behouden})
        return n_over

    def flag(self, eenheid: str, stap: str, reden: str, n: int) -> None:
        """Add a *behouden* count to a recorded step (records kept but counted)."""
        base = next((r for r in self.rows if r["eenheid"] == eenheid and r["stap"] == stap),
                    None)
        if base is None:
            raise KeyError(f"reconciliation: no step {stap!r} of {eenheid!r}")
        if int(n):
            self.rows.append({**base, "reden": reden, "uit": 0, "behouden": int(n)})

    def extend(self, other: pd.DataFrame) -> None:
        """Append the rows of another reconciliation frame (its step numbers continue)."""
        for row in other.to_dict("records"):
            self._step[row["eenheid"]] = max(self._step.get(row["eenheid"], 0), row["stap_nr"])
            self.rows.append({c: row[c] for c in COLUMNS})

    def frame(self) -> pd.DataFrame:
        """Return the reconciliation as a tidy DataFrame."""
        out = pd.DataFrame(self.rows, columns=COLUMNS)
        for c in ("stap_nr", "in", "uit", "behouden", "over"):
            out[c] = out[c].astype("int64")
        return out


def check_reconciliation(reconciliation: pd.DataFrame,
                         final: dict[str, int] | None = None) -> None:
    """Raise ReconciliationError unless every chain closes (see the module docstring).

    `final` maps an eenheid to the number of records that must come out of its last step
    (e.g. {"personen": len(population.frame)}).
    """
    problems = []
    for eenheid, chain in reconciliation.groupby("eenheid", sort=False):
        steps = chain.groupby("stap_nr", sort=True).agg(
            stap=("stap", "first"), n_in=("in", "first"), n_in_max=("in", "max"),
            n_over=("over", "first"), n_over_max=("over", "max"), uit=("uit", "sum"))
        for nr, s in steps.iterrows():
            if s.n_in != s.n_in_max or s.n_over != s.n_over_max:
                problems.append(f"{eenheid} step {nr} ({s.stap}): rows disagree on in/over")
            if s.n_in != s.n_over + s.uit:
                problems.append(f"{eenheid} step {nr} ({s.stap}): in {s.n_in} != over "
                                f"{s.n_over} + uit {s.uit}")
        ins, overs = steps["n_in"].to_numpy(), steps["n_over"].to_numpy()
        for i in range(1, len(steps)):
            if ins[i] != overs[i - 1]:
                problems.append(f"{eenheid} step {steps.index[i]}: in {ins[i]} != previous "
                                f"step's over {overs[i - 1]}")
        if final and eenheid in final and overs[-1] != final[eenheid]:
            problems.append(f"{eenheid}: last step leaves {overs[-1]} records, the result "
                            f"holds {final[eenheid]}")
    if final:
        for eenheid in set(final) - set(reconciliation["eenheid"]):
            problems.append(f"{eenheid}: no steps in the reconciliation")
    if problems:
        raise ReconciliationError("reconciliation does not close:\n  " + "\n  ".join(problems))
