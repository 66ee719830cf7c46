"""The period ledger: every cell any output of one period released, in one place on disk.

An output checker judges a period's outputs together: the national tables, the report of every
gemeente, trajectories, a maatwerk question, exported over weeks, can be laid side by side. A
:class:`PeriodLedger` makes the kit protect them together. It holds the suppression ledgers
(:class:`~jeugdkit.output.suppression.Ledger`, one per population and unit) of every output
released for a period, and a register of those outputs. An :class:`~jeugdkit.output.ExportSession`
opened with ``ledger=`` protects each new table inside it:

- a cell released earlier (by any run) is *locked*: a later table shows the same value, or
  blanks it when it was suppressed;
- a later table that would narrow an earlier suppressed cell suppresses more of itself, and
  is refused with the reason when it cannot (:class:`~jeugdkit.errors.DisclosureError`);
- codes that stand for several gemeenten (a comparison group, the rest of the country) are
  linked to their members' cells, so a gemeente's report and the national tables protect
  each other.

A year and its half-years share one ledger (the folder is named after the year). Each
protection step (one ``freq_table`` or ``freq_tables`` call) holds a file lock, reads the newest
ledger, protects, locks its cells and writes the ledger back: parallel reports of one period
take turns only for that step. Cells of a run that fails later stay locked: that can only
suppress more, never less.

The ledger holds the true value of every suppressed cell: it is internal, like ``_werk``, and
never leaves the RA.

Example::

    from jeugdkit.output import ExportSession, PeriodLedger

    ledger = PeriodLedger.for_period("jeugdkit-ledger", "2023")
    run = ExportSession("tabellen-2023", ledger=ledger)
"""

from __future__ import annotations

import contextlib
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path

from jeugdkit.errors import JeugdkitError
from jeugdkit.locks import file_lock

FORMAT = 1
"""Version of the ledger file; a ledger of another format is refused, never guessed at."""

ENV = "JEUGDKIT_LEDGER"
"""Environment variable with the ledger root (the report runner passes it to the notebooks)."""

DEFAULT_ROOT = "jeugdkit-ledger"
"""The ledger root when neither ``--ledger`` nor :data:`ENV` names one: in the current folder,
so that every command run from one project folder shares it."""

README = """Period ledger of jeugdkit (internal: holds the true values of suppressed cells).

Never export this folder. Every output of the period is protected against the cells in it;
delete it only together with every output it protects (they were protected against it).
"""


_STATES: dict[Path, tuple[tuple, dict]] = {}
"""Per ledger file: the stamp (inode, mtime, size) and the state this process last read or
wrote (see :meth:`PeriodLedger.read`)."""


_EPOCH = [0]
"""Counts failed steps in this process: a session whose ledgers were read before one takes
them from the file again (a failed step may have changed shared objects half-way)."""


def epoch() -> int:
    """Return the number of failed ledger steps in this process so far."""
    return _EPOCH[0]


class PeriodLedger:
    """The ledgers of every output released for one period (see the module docstring).

    ``folder``: the folder of this period's ledger (created on first use).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / "ledger.pkl"
        self.lock_path = self.folder / ".ledger.lock"

    @classmethod
    def for_period(cls, root, period) -> PeriodLedger:
        """Return the ledger of ``period`` under ``root``: one folder per year (a year and
        its half-years count the same youths and are protected together)."""
        from jeugdkit.periods import Period
        return cls(Path(root) / str(Period.parse(period).year))

    @staticmethod
    def root(ledger=None) -> Path | None:
        """Return the ledger root a command uses: ``ledger`` (a folder, or ``"none"`` for no
        ledger), else :data:`ENV`, else :data:`DEFAULT_ROOT` (absolute; None for none)."""
        text = str(ledger or os.environ.get(ENV, "") or DEFAULT_ROOT).strip()
        if text.lower() == "none":
            return None
        return Path(text).absolute()

    @classmethod
    def resolve(cls, ledger, period) -> PeriodLedger | None:
        """Return the ledger of ``period``: ``ledger`` itself when it is a PeriodLedger, else
        the period's folder under :meth:`root` (None for ``"none"``)."""
        if isinstance(ledger, PeriodLedger):
            return ledger
        root = cls.root(ledger)
        return None if root is None else cls.for_period(root, period)

    def __repr__(self) -> str:
        return f"PeriodLedger({str(self.folder)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, PeriodLedger) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)

    # -- reading and writing -------------------------------------------------------------------
    def _stamp(self) -> tuple:
        st = os.stat(self.path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def read(self) -> dict:
        """Return the stored state: ``{"format", "version", "ledgers", "outputs"}``.

        The state this process last read or wrote is kept in memory while the file on disk
        is the same one (inode, modification time and size): a run that releases many small
        tables in a row does not unpickle the whole ledger for each. Another process's
        write replaces the file (a new inode), so it is always read."""
        if not self.path.is_file():
            return {"format": FORMAT, "version": 0, "ledgers": {}, "outputs": []}
        try:
            stamp = self._stamp()
        except OSError:
            stamp = None
        hit = _STATES.get(self.path)
        if hit is not None and stamp is not None and hit[0] == stamp:
            return hit[1]
        try:
            with open(self.path, "rb") as f:
                state = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise JeugdkitError(
                f"period ledger {self.path} cannot be read ({exc}); it is written atomically, "
                "so this is not a half-written file: restore it from a backup, or start a new "
                "ledger folder together with new outputs for the whole period") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else "?"
            raise JeugdkitError(
                f"period ledger {self.path} has format {found}, "
                f"this jeugdkit writes format {FORMAT}; use the jeugdkit version that made it, "
                "or a new ledger folder together with new outputs for the whole period")
        if stamp is not None:
            _STATES[self.path] = (stamp, state)
        return state

    def version(self) -> int:
        """Return how many protection steps the ledger has seen (0: empty)."""
        return int(self.read()["version"]) if self.path.is_file() else 0

    def _write(self, state: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        readme = self.folder / "LEESMIJ.txt"
        if not readme.is_file():
            readme.write_text(README, encoding="utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, self.path)
            _STATES[self.path] = (self._stamp(), state)
        except BaseException:
            _STATES.pop(self.path, None)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    @contextlib.contextmanager
    def step(self):
        """Hold the ledger for one protection step; yield the state to change in place.

        The state is written back when the block ends without an exception (a version
        more); after an exception nothing is written: the ledger stays as it was."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JeugdkitError(f"cannot create the period ledger folder {self.folder}: "
                                f"{exc.strerror or exc}") from None
        with file_lock(self.lock_path):
            state = self.read()
            try:
                yield state
            except BaseException:
                # the state in memory may be half changed: the next step reads the file, and
                # sessions of this process that share its ledgers take them from there too
                _STATES.pop(self.path, None)
                _EPOCH[0] += 1
                raise
            state["version"] = int(state["version"]) + 1
            self._write(state)

    def summary(self) -> dict:
        """Return what the ledger holds: outputs, populations, cells, suppressed cells."""
        state = self.read()
        from jeugdkit.output.suppression import PRIMARY, SECONDARY
        cells = sum(len(led) for led in state["ledgers"].values())
        suppressed = sum(sum(1 for s in led.status if s in (PRIMARY, SECONDARY))
                         for led in state["ledgers"].values())
        return {"folder": str(self.folder), "version": state["version"],
                "outputs": len(state["outputs"]), "runs": len({o["run"] for o in
                                                               state["outputs"]}),
                "populations": len(state["ledgers"]), "cells": cells,
                "suppressed": suppressed}


def register_entry(run: str, output: str, population: str, unit: str) -> dict:
    """Return the register line of one released table."""
    return {"run": run, "output": output, "population": population, "unit": unit,
            "time": datetime.now(UTC).isoformat(timespec="seconds")}


__all__ = ["PeriodLedger", "ENV", "DEFAULT_ROOT"]
