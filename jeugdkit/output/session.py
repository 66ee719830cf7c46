"""ExportSession: the one door every output of a run goes through, and its log.

Example::

    from jeugdkit.output import ExportSession

    run = ExportSession("gebruik-2023")
    gebruik = run.freq_table(persons, dims=["gemeente", "leeftijd", "geslacht"],
                             name="gebruik", unit="jongeren", population="jeugd-2023")
    per_hulpvorm = run.freq_table(persons, dims=["leeftijd", "hulpvorm"],
                                  name="hulpvorm", unit="jongeren", population="jeugd-2023")
    run.write("export/")          # csv files, results.json, summary.md, checksums
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import pickle
import re
import sys
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit import __version__
from jeugdkit.errors import DisclosureError, JeugdkitError
from jeugdkit.output.hypercube import TableGeom
from jeugdkit.output.keys import check_no_person_keys
from jeugdkit.output.period import PeriodLedger, register_entry
from jeugdkit.output.period import epoch as ledger_epoch
from jeugdkit.output.structure import (
    DimTree,
    canonical_key,
    cell_codes,
    composite_code,
    equations,
    full_array,
)
from jeugdkit.output.suppression import HIDDEN, PRIMARY, SECONDARY, STRUCTURAL, Ledger
from jeugdkit.settings import OutputControl, Settings

_PERCENTILE = re.compile(r"^p(\d{1,2})$")


@dataclass
class Output:
    """One output of a run and everything the checker needs to know about it."""

    uid: str
    type: str
    content: object
    properties: dict
    rules: list[str]
    sdc: dict = field(default_factory=dict)
    status: str = "pass"
    summary: str = ""
    command: str = ""
    description: str = ""
    files: list[dict] = field(default_factory=list)


@dataclass
class _FreqSpec:
    name: str
    dims: list[str]
    trees: list[DimTree]
    count: str
    values: np.ndarray
    structural: np.ndarray
    primary: np.ndarray
    rules: OutputControl
    ledger: Ledger
    cells: list[int] = field(default_factory=list)
    properties: dict = field(default_factory=dict)
    command: str = ""
    description: str = ""
    published: np.ndarray | None = None
    members: dict | None = None
    """``{dim: code per data row}``: what each row stands for inside a composite leaf."""
    data: pd.DataFrame | None = None
    weights: np.ndarray | None = None


def _tightened(base: OutputControl, overrides: dict, what: str) -> OutputControl:
    """Return base with overrides applied; refuse any override that loosens a rule."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    new = dataclasses.replace(base, **overrides)
    if new.complements not in ("optimal", "greedy"):
        raise JeugdkitError(f"{what}: output_control.complements is {new.complements!r}; "
                            "expected 'optimal' or 'greedy'")
    floor = OutputControl()
    loose = []
    for key in ("min_units", "min_model_df"):
        if getattr(new, key) < getattr(base, key):
            loose.append(f"{key}={getattr(new, key)} < the run's {getattr(base, key)}")
    if new.max_dominance > base.max_dominance:
        loose.append(f"max_dominance={new.max_dominance} > the run's {base.max_dominance}")
    if new.min_units < floor.min_units:
        loose.append(f"min_units={new.min_units} < {floor.min_units}")
    if new.min_model_df < floor.min_model_df:
        loose.append(f"min_model_df={new.min_model_df} < {floor.min_model_df}")
    if new.max_dominance > floor.max_dominance:
        loose.append(f"max_dominance={new.max_dominance} > {floor.max_dominance}")
    if new.protection_width is not None and new.protection_width < new.min_units:
        loose.append(f"protection_width={new.protection_width} < min_units={new.min_units}")
    if loose:
        raise DisclosureError(
            f"{what}: output-control settings may only be tightened, not loosened "
            f"({'; '.join(loose)}); remove these overrides"
        )
    return new


def _round_to(values: pd.Series, base: int | None) -> pd.Series:
    """Return counts rounded half up to the nearest multiple of base (NA stays NA)."""
    if not base or base <= 1:
        return values
    arr = values.astype("Float64")
    return (np.floor(arr / base + 0.5) * base).astype("Int64")


class ExportSession:
    """One run's output control: tables, models and figures checked, suppressed and logged.

    Parameters
    ----------
    name:
        Name of the run (appears in the log).
    settings:
        :class:`~jeugdkit.settings.Settings` or its ``output_control`` part; defaults to the
        CBS defaults. Settings may only be tighter than the defaults.
    run_timestamp:
        The one wall-clock time in the log (kept apart from the compared content). Defaults
        to now; pass a fixed string for reproducible logs.
    ledger:
        A :class:`~jeugdkit.output.period.PeriodLedger` (or its folder): protect every table
        together with everything released for the period before, by any run, and register
        it there. Without one, the run is protected on its own.
    """

    def __init__(self, name: str = "run", settings: Settings | OutputControl | None = None,
                 run_timestamp: str | None = None, ledger=None):
        if isinstance(settings, Settings):
            settings = settings.output_control
        self.name = name
        self.rules = _tightened(settings or OutputControl(), {}, f"run {name!r}")
        self.run_timestamp = run_timestamp or datetime.now(UTC).isoformat(
            timespec="seconds")
        self.outputs: dict[str, Output] = {}
        self._ledgers: dict[tuple[str, str], Ledger] = {}
        if ledger is not None and not isinstance(ledger, PeriodLedger):
            ledger = PeriodLedger(ledger)
        self.period_ledger: PeriodLedger | None = ledger
        self._ledger_version: int | None = None
        self._own: dict[tuple[str, str], set[int]] = {}
        """Ledger cells of this run's tables (the audit of a run covers these)."""
        self.composition: dict[str, dict[str, list[str]]] = {}
        """Codes that stand for several units' codes (a comparison group, the rest of the
        country), per dimension (``declare_composition``): recorded with every table."""
        self.left_out: list[dict] = []
        """Outputs not made, each with the reason (``leave_out``): in the log and the report."""
        self.provenance: dict = {}
        """What the run rests on (parameters, input files with checksums, package versions,
        catalog): written into the log for the checker (see ``Study.provenance``)."""

    # -- the period ledger -----------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        if state.get("period_ledger") is not None:
            # the ledgers live in the period ledger: a snapshot reads them again from there
            state["_ledgers"] = {}
            state["_ledger_version"] = None
        return state

    @contextlib.contextmanager
    def _step(self, keys=()):
        """One protection step: with a period ledger, hold it, bring the run's ledgers up to
        date, and write them back when the step succeeds. A refused step leaves no trace: the
        period ledger is not written, and without one the ledgers of ``keys`` (population,
        unit) are put back as they were; the run goes on as if the step had not been tried."""
        own = {k: set(v) for k, v in self.__dict__.get("_own", {}).items()}
        registered = len(self.__dict__.get("_registered", []))

        def undo():
            self._own = own
            del self.__dict__.setdefault("_registered", [])[registered:]

        store = self.__dict__.get("period_ledger")
        if store is None:
            keys = [(str(p), str(u)) for p, u in keys]
            saved = {k: pickle.dumps(self._ledgers[k], protocol=pickle.HIGHEST_PROTOCOL)
                     for k in keys if k in self._ledgers}
            try:
                yield
            except BaseException:
                for k in keys:
                    if k in saved:
                        self._ledgers[k] = pickle.loads(saved[k])
                    else:
                        self._ledgers.pop(k, None)
                undo()
                raise
            return
        with store.step() as state:
            if (state["version"], ledger_epoch()) != self._ledger_version:
                self._ledgers = state["ledgers"]
            else:
                state["ledgers"] = self._ledgers
            self._ledger_relations = state.setdefault("relations", [])
            self._ledger_version = None  # until written: an exception leaves it stale
            try:
                yield
            except BaseException:
                undo()
                raise
            state["outputs"].extend(self.__dict__.pop("_registered", []))
            for r in self.__dict__.get("relations", []):
                if r not in state["relations"]:
                    state["relations"].append(r)
        self._ledger_version = (state["version"], ledger_epoch())

    def _refresh(self) -> None:
        """Read the period ledger if it changed since this run last held it (for the audit)."""
        store = self.__dict__.get("period_ledger")
        if store is None:
            return
        state = store.read()
        if (state["version"], ledger_epoch()) != self._ledger_version:
            self._ledgers = state["ledgers"]
            self._ledger_version = (state["version"], ledger_epoch())

    # -- helpers ----------------------------------------------------------------------------
    def _new_name(self, name: str) -> None:
        if not name or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise JeugdkitError(f"output name {name!r}: use letters, digits, '_', '-', '.'")
        if name in self.outputs:
            raise JeugdkitError(f"output {name!r} exists already in run {self.name!r}")

    def _refuse_extremes(self, output: str, names) -> None:
        bad = [n for n in names if str(n).strip().lower() in self.rules.forbidden_statistics
               or re.search(r"(?i)(^|_)(min|max|minimum|maximum)($|_)", str(n))]
        if bad:
            raise DisclosureError(
                f"output {output!r} is blocked: {bad} is a minimum or maximum, which CBS never "
                "releases (they rest on one unit); use percentiles such as p10/p90 instead"
            )

    def _ledger(self, population: str, unit: str) -> Ledger:
        key = (str(population), str(unit))
        if key not in self._ledgers:
            self._ledgers[key] = Ledger(*key)
        return self._ledgers[key]

    @staticmethod
    def _trees(data, dims, hierarchies, levels, total) -> list[DimTree]:
        trees = []
        for d in dims:
            if d not in data.columns:
                raise JeugdkitError(f"dimension {d!r} is not a column of the data "
                                    f"(columns: {list(data.columns)})")
            if data[d].isna().any():
                raise JeugdkitError(f"dimension {d!r} has missing values; make 'onbekend' an "
                                    "explicit category before tabulating")
            leaves = list(dict.fromkeys(str(v) for v in (levels or {}).get(d, [])))
            present = sorted({str(v) for v in data[d].unique()})
            leaves += [c for c in present if c not in leaves]
            trees.append(DimTree.build(d, leaves, (hierarchies or {}).get(d), total))
        return trees

    @staticmethod
    def _leaf_array(data, dims, trees, weights) -> np.ndarray:
        shape = tuple(len(t.codes) - len(set(t.parent.values())) for t in trees)
        arr = np.zeros(shape, dtype=float)
        codes = [data[d].astype(str).map({c: i for i, c in enumerate(t.codes[:n])})
                 for d, t, n in zip(dims, trees, shape)]
        np.add.at(arr, tuple(c.to_numpy(dtype=np.int64) for c in codes), weights)
        return arr

    # -- frequency tables ---------------------------------------------------------------------
    def _prepare_freq(self, data, dims, *, name, unit, population, count=None,
                      hierarchies=None, levels=None, structural=None, description="",
                      min_units=None, rounding_base=None, protection_width=None,
                      publish=None, members=None) -> _FreqSpec:
        self._new_name(name)
        rules = _tightened(self.rules, {"min_units": min_units, "rounding_base": rounding_base,
                                        "protection_width": protection_width}, f"output {name!r}")
        dims = list(dims)
        if not dims:
            raise JeugdkitError(f"output {name!r}: give at least one dimension")
        count_col = count or "aantal"
        self._refuse_extremes(name, [count_col, *dims])
        if count is not None:
            w = pd.to_numeric(data[count], errors="raise").to_numpy(dtype=float)
            if (w < 0).any() or not np.all(w == np.round(w)):
                raise JeugdkitError(f"output {name!r}: count column {count!r} must hold "
                                    "non-negative whole numbers")
        else:
            w = np.ones(len(data))
        trees = self._trees(data, dims, hierarchies, levels, rules.total_label)
        leaf = self._leaf_array(data, dims, trees, w)
        mask = np.zeros(leaf.shape, dtype=bool)
        if structural is not None:
            for row in pd.DataFrame(structural).astype(str).to_dict("records"):
                sl = []
                for d, t, n in zip(dims, trees, leaf.shape):
                    if d in row:
                        leaves = list(t.codes[:n])
                        if row[d] not in leaves:
                            sl.append([])
                        else:
                            sl.append([leaves.index(row[d])])
                    else:
                        sl.append(slice(None))
                mask[np.ix_(*[np.arange(n)[s] if isinstance(s, slice) else np.array(s, int)
                              for s, n in zip(sl, leaf.shape)])] = True
            if (leaf[mask] != 0).any():
                raise DisclosureError(
                    f"output {name!r}: a cell marked as a structural zero holds units; "
                    "structural zeros are combinations that cannot occur (e.g. jeugdreclassering "
                    "under age 12)")
        values = full_array(trees, leaf)
        struct = full_array(trees, (~mask).astype(float)) == 0
        flat_v = values.ravel()
        flat_s = struct.ravel()
        low = flat_v < rules.min_units
        zero = flat_v == 0
        primary = ~flat_s & low & (~zero | rules.suppress_sampling_zeros)
        ledger = self._ledger(population, unit)
        spec = _FreqSpec(name, dims, trees, count_col, flat_v, flat_s, primary, rules, ledger,
                         description=description)
        if publish is not None:
            frame = pd.DataFrame(cell_codes(trees), columns=dims)
            shown = np.asarray(publish(frame), dtype=bool)
            if shown.shape != (len(frame),):
                raise JeugdkitError(f"output {name!r}: publish= must return one bool per cell")
            spec.published = shown
        spec.properties = {
            "method": "frequency table", "unit": unit, "population": str(population),
            "dims": dims, "count": count_col, "total_label": rules.total_label,
            "hierarchies": {d: dict(t.parent) for d, t in zip(dims, trees)
                            if set(t.parent.values()) != {t.total}},
            "n_cells": int(flat_v.size), "threshold": rules.min_units,
            "protection_width": rules.protection_width or rules.min_units,
            "rounding_base": rules.rounding_base,
            "structural_zero_cells": int(flat_s.sum()),
        }
        composition = {}
        for d, t in zip(dims, trees):
            parts = {c: list(m) for c, m in self.__dict__.get("composition", {}).get(d, {})
                     .items() if c in t.codes}
            if parts:
                composition[d] = parts
        if composition:
            spec.properties["composition"] = composition
        if members:
            members = {d: data[m] if isinstance(m, str) else m for d, m in members.items()}
            for d, m in members.items():
                if d not in dims or len(m) != len(data):
                    raise JeugdkitError(f"output {name!r}: members= gives one code per data "
                                        f"row for a dimension of the table; got {d!r}")
            spec.members = {d: np.asarray(m).astype(str) for d, m in members.items()}
            spec.data, spec.weights = data[dims], w
        if spec.published is not None:
            # the checker needs every code, published or not, to rebuild the equations
            spec.properties["codes"] = {d: list(t.codes) for d, t in zip(dims, trees)}
            spec.properties["hierarchies"] = {d: dict(t.parent) for d, t in zip(dims, trees)}
            spec.properties["unpublished_cells"] = int((~spec.published).sum())
        spec.command = (f"freq_table(dims={dims}, count={count!r}, name={name!r}, unit={unit!r}, "
                        f"population={population!r})")
        return spec

    def _register_members(self, spec: _FreqSpec, rename: dict) -> None:
        """Register the table over the members of its composite leaves, unpublished.

        A gemeente's table shows the gemeente, ``groep`` and ``NL`` over three leaves; the
        attacker knows each composite is the sum of its member gemeenten, and two reports
        with other groups share those members. With the members' own cells in the ledger
        (the table as if every gemeente were a leaf, none of it published: a cell that some
        other output publishes keeps its status), every composite is tied to them by an
        equation, so overlapping groups of several reports are protected together, also
        before or without the national set. A member cell below the threshold is watched:
        no output may let it be derived.

        Every member of the composites is a leaf, also one without units (a zero row): the
        table's total is the sum of all members, as the attacker knows it. Leaving out the
        empty ones would tie the total to the others alone, and the ledger would take the
        empty members as known to be 0 while no output says so (found by the random
        four-report test: an empty member the audit saw in [0, 7] was not protected)."""
        dims = [d for d in spec.members if any((d, c) in rename for c in spec.trees[
            spec.dims.index(d)].codes)]
        if not dims:
            return
        data = spec.data.copy()
        for d in dims:
            data[d] = spec.members[d]
        composition = spec.properties.get("composition", {})
        trees = []
        for d, t in zip(spec.dims, spec.trees):
            if d in dims:
                named = {str(m) for members in composition.get(d, {}).values()
                         for m in members}
                leaves = sorted(set(data[d]) | named)
                trees.append(DimTree.build(d, leaves, None, t.total))
            else:
                trees.append(t)
        leaf = self._leaf_array(data, spec.dims, trees, spec.weights)
        values = full_array(trees, leaf).ravel()
        keys = [canonical_key(trees, c) for c in cell_codes(trees)]
        # small or empty member cells are watched: an attacker who does not know a member
        # is empty learns from [0, 9] that it is small
        low = values < spec.rules.min_units
        spec.ledger.add_table(keys, values, np.zeros(len(values), dtype=bool), equations(trees),
                              low, spec.rules.protection_width or spec.rules.min_units,
                              f"{spec.name} (leden van de samengestelde codes)",
                              hidden=np.ones(len(values), dtype=bool))
        spec.data = spec.weights = None  # the units are not needed any more

    def _register(self, spec: _FreqSpec) -> None:
        keys = [canonical_key(spec.trees, c) for c in cell_codes(spec.trees)]
        rename = {}
        for dim, parts in spec.properties.get("composition", {}).items():
            for code, members in parts.items():
                new = composite_code(code, members)
                rename[(dim, code)] = (dim, new)
                spec.ledger.add_composition(dim, new, members)
        if spec.members:
            self._register_members(spec, rename)
        if rename:
            # a composite code is named after its members in the ledger: two comparison
            # groups never share a ``groep`` cell, and each is linked to its members' cells
            keys = [tuple(sorted(rename.get(pair, pair) for pair in key)) for key in keys]
        width = spec.rules.protection_width or spec.rules.min_units
        hidden = None if spec.published is None else ~spec.published
        spec.cells = spec.ledger.add_table(keys, spec.values, spec.structural,
                                           equations(spec.trees), spec.primary, width,
                                           spec.name, hidden=hidden)
        self.__dict__.setdefault("_own", {}).setdefault(
            (spec.ledger.population, spec.ledger.unit), set()).update(spec.cells)
        if self.__dict__.get("period_ledger") is not None:
            self.__dict__.setdefault("_registered", []).append(register_entry(
                self.name, spec.name, spec.ledger.population, spec.ledger.unit))

    def _finish(self, spec: _FreqSpec, stats: dict) -> pd.DataFrame:
        ledger = spec.ledger
        status = np.asarray([ledger.status[i] for i in spec.cells])
        codes = cell_codes(spec.trees)
        frame = pd.DataFrame(codes, columns=spec.dims)
        counts = pd.Series(spec.values, dtype="Float64").round().astype("Int64")
        shown = (np.ones(len(status), dtype=bool) if spec.published is None
                 else spec.published)
        hidden = (status == PRIMARY) | (status == SECONDARY) | (status == HIDDEN)
        counts[hidden] = pd.NA
        counts = _round_to(counts, spec.rules.rounding_base)
        frame[spec.count] = counts
        ledger.lock(spec.cells)
        frame = frame[shown].reset_index(drop=True)
        check_no_person_keys(frame, spec.name, spec.rules)
        frame.attrs.update({"name": spec.name, "dims": spec.dims, "count": spec.count,
                            "hierarchies": spec.properties["hierarchies"],
                            "rounding_base": spec.rules.rounding_base,
                            "population": spec.properties["population"],
                            "unit": spec.properties["unit"]})
        if "codes" in spec.properties:
            frame.attrs["codes"] = spec.properties["codes"]

        def cells(which):
            return [{**dict(zip(spec.dims, codes[i])), "reason": ledger.reason[spec.cells[i]]}
                    for i in np.flatnonzero(which & shown)]

        n_prim = int(((status == PRIMARY) & shown).sum())
        n_sec = int((((status == SECONDARY) | (status == HIDDEN)) & shown).sum())
        sdc = {
            "summary": {"suppressed": bool((hidden & shown).any()), "threshold": n_prim,
                        "secondary": n_sec, "structural_zero": int((status == STRUCTURAL).sum()),
                        "rounded": spec.rules.rounding_base, "p-ratio": 0, "nk-rule": 0,
                        "negative": 0, "missing": 0},
            "cells": {"threshold": cells(status == PRIMARY),
                      "secondary": cells((status == SECONDARY) | (status == HIDDEN))},
            # with a period ledger the solver's work depends on what other runs released
            # before (a rerun finds its own cells locked): left out, so that a rerun with
            # the same data writes the same log
            "solver": {"method": "jeugdkit closure + LP audit", **(
                {"period_ledger": True} if self.__dict__.get("period_ledger") else stats)},
        }
        rules = [f"threshold: every released count rests on >= {spec.rules.min_units} units "
                 "(0 counts released unless suppress_sampling_zeros)",
                 "secondary suppression over all tables of population "
                 f"{ledger.population!r}, unit {ledger.unit!r}: LP interval of every "
                 f"suppressed cell >= {spec.properties['protection_width']} wide",
                 "structural zeros shown as 0",
                 "no person keys in names or values"]
        if spec.rules.rounding_base:
            rules.append(f"released counts rounded to base {spec.rules.rounding_base}")
        summary = (f"pass; threshold: {n_prim} cells suppressed; secondary: {n_sec} cells "
                   "suppressed" if (hidden & shown).any() else "pass")
        if spec.published is not None:
            summary += (f"; {int((~shown).sum())} cells not published (protected with the "
                        "table, their codes in the log)")
        self.outputs[spec.name] = Output(spec.name, "table", frame, spec.properties, rules, sdc,
                                         "pass", summary, spec.command, spec.description)
        return frame

    def freq_table(self, data: pd.DataFrame, dims, *, name: str, unit: str, population: str,
                   count: str | None = None, hierarchies: dict | None = None,
                   levels: dict | None = None, structural: pd.DataFrame | None = None,
                   description: str = "", min_units: int | None = None,
                   rounding_base: int | None = None,
                   protection_width: int | None = None, publish=None,
                   members: dict | None = None) -> pd.DataFrame:
        """Return the released frequency table (tidy: one row per cell, margins included).

        ``data`` holds one row per unit, or one row per combination with a ``count`` column.
        Dimension columns of the result hold codes or ``"totaal"``; suppressed counts are NA.
        Tables with the same ``population`` and ``unit`` in one run are linked: secondary
        suppression protects every suppressed cell against all of them together.

        ``hierarchies``: ``{dim: {code: parent code}}`` for intermediate levels (e.g. gemeente
        -> jeugdregio); the top is always the total. ``levels``: ``{dim: codes}`` to include
        categories absent in the data (as 0). ``structural``: rows of dimension codes (any
        subset of dims) that mark leaf cells which cannot occur; they are shown as 0 and never
        suppressed. ``min_units``/``rounding_base``/``protection_width`` tighten the run's
        settings for this output. ``publish``: a function of the frame of all cells (one
        column per dimension, codes or the total) returning which cells to publish; the other
        cells are protected with the table (a small one is suppressed as usual) but left out
        of the result, e.g. the rest of the country beside one gemeente (see
        :class:`jeugdkit.scope.Scope`) or the inside of a stock-and-flow table.
        ``members``: ``{dim: code per data row}`` (or the name of a column of ``data``
        holding them) where ``data`` holds composite leaves
        (``rest_groep``, ``rest_nl`` of a scope): the gemeentecode each unit really has. The
        table over those members is then put in the ledger unpublished, so every composite is
        tied to its members (see :meth:`Scope.members`).

        Example::

            table = run.freq_table(persons, dims=["leeftijd", "geslacht"], name="gebruik",
                                   unit="jongeren", population="jeugd-2023")
        """
        with self._step([(population, unit)]):
            spec = self._prepare_freq(data, dims, name=name, unit=unit, population=population,
                                      count=count, hierarchies=hierarchies, levels=levels,
                                      structural=structural, description=description,
                                      min_units=min_units, rounding_base=rounding_base,
                                      protection_width=protection_width, publish=publish,
                                      members=members)
            self._register(spec)
            stats = spec.ledger.protect([(TableGeom(spec.trees), spec.cells)],
                                        optimise=spec.rules.complements == "optimal")
            stats.update(self._protect_relations({(spec.ledger.population, spec.ledger.unit)}))
            return self._finish(spec, stats)

    def freq_tables(self, specs: list[dict]) -> list[pd.DataFrame]:
        """Return several frequency tables suppressed jointly (a list of freq_table kwargs).

        Use this when linked tables are released together: the suppression may then choose
        complements in any of them, which a table released earlier no longer allows.
        """
        with self._step([(s["population"], s["unit"]) for s in specs]):
            prepared = []
            for s in specs:
                s = dict(s)
                prepared.append(self._prepare_freq(s.pop("data"), s.pop("dims"), **s))
                self._register(prepared[-1])
            stats = {}
            for p in prepared:
                if id(p.ledger) not in stats:
                    stats[id(p.ledger)] = p.ledger.protect(
                        [(TableGeom(q.trees), q.cells) for q in prepared
                         if q.ledger is p.ledger],
                        optimise=p.rules.complements == "optimal")
            linked = self._protect_relations({(p.ledger.population, p.ledger.unit)
                                              for p in prepared})
            for s in stats.values():
                s.update(linked)
            return [self._finish(p, stats[id(p.ledger)]) for p in prepared]

    def _protect_relations(self, touched) -> dict:
        """Suppress more where a declared relation between populations (this run's, or any
        run's of the period in its ledger) would narrow a suppressed cell."""
        from jeugdkit.output.relations import protect_linked
        relations = []
        for r in [*self.__dict__.get("_ledger_relations", []),
                  *self.__dict__.get("relations", [])]:
            if r not in relations:
                relations.append(r)
        if not relations:
            return {}
        return protect_linked(self._ledgers, relations, touched)

    # -- statistics tables ----------------------------------------------------------------------
    def stats_table(self, data: pd.DataFrame, dims, *, value: str, stat: str = "mean",
                    name: str, unit: str, population: str, hierarchies: dict | None = None,
                    levels: dict | None = None, description: str = "",
                    min_units: int | None = None,
                    max_dominance: float | None = None) -> pd.DataFrame:
        """Return a released table of a statistic per cell (margins included).

        ``data`` holds one row per unit. ``stat`` is ``"mean"``, ``"sum"``, ``"share"``
        (``value`` is 0/1 or boolean: the share of units with 1), ``"median"`` or a percentile
        ``"p10"`` ... ``"p90"``; minimum and maximum are refused. A cell is suppressed when it
        rests on fewer than ``min_units`` units; a share also when its numerator is; a mean or
        sum also when its largest contributor holds more than ``max_dominance`` of the cell
        total. Means, sums and shares add up over margins, so secondary suppression is applied
        to them as to the units' frequency table. The units per cell are not released here
        (release them with :meth:`freq_table`).

        Example::

            duur = run.stats_table(trajecten, dims=["hulpvorm"], value="duur_dagen",
                                   stat="median", name="duur", unit="trajecten",
                                   population="trajecten-2023")
        """
        self._new_name(name)
        rules = _tightened(self.rules, {"min_units": min_units, "max_dominance": max_dominance},
                           f"output {name!r}")
        self._refuse_extremes(name, [stat, value, *dims])
        m = _PERCENTILE.match(stat)
        if stat not in ("mean", "sum", "share", "median") and not m:
            raise JeugdkitError(f"output {name!r}: unknown stat {stat!r}; use mean, sum, share, "
                                "median or p1..p99")
        if m and not 1 <= int(m.group(1)) <= 99:
            raise DisclosureError(f"output {name!r}: {stat} is an extreme; use p1..p99")
        dims = list(dims)
        x = pd.to_numeric(data[value], errors="raise").astype(float)
        if x.isna().any():
            raise JeugdkitError(f"output {name!r}: {value!r} has missing values; filter the "
                                "units first, the denominator must be explicit")
        trees = self._trees(data, dims, hierarchies, levels, rules.total_label)
        # every unit counts in each ancestor of its codes: explode over the ancestor chains
        # (of the leaf cells' sums when the statistic adds up; of the units for a quantile)
        frame = pd.DataFrame({d: data[d].astype(str).to_numpy() for d in dims})
        frame["_x"] = x.to_numpy()
        frame["_a"] = np.abs(frame["_x"].to_numpy())
        quantile = stat not in ("mean", "sum", "share")
        per_unit = dict(n=("_x", "size"), total=("_x", "sum"), largest=("_a", "max"),
                        abs_total=("_a", "sum"))
        if not quantile:
            frame = frame.groupby(dims, sort=False).agg(**per_unit).reset_index()
        for d, t in zip(dims, trees):
            chains = {}
            for code in pd.unique(frame[d]):
                chain, c = [code], code
                while c != t.total:
                    c = t.parent[c]
                    chain.append(c)
                chains[code] = chain
            frame[d] = frame[d].map(chains)
            frame = frame.explode(d)
        if quantile:
            agg = frame.groupby(dims, sort=False).agg(**per_unit)
        else:
            agg = frame.groupby(dims, sort=False).agg(
                n=("n", "sum"), total=("total", "sum"), largest=("largest", "max"),
                abs_total=("abs_total", "sum"))
        if stat == "mean":
            agg["stat"] = agg["total"] / agg["n"]
        elif stat == "sum":
            agg["stat"] = agg["total"]
        elif stat == "share":
            agg["stat"] = agg["total"] / agg["n"]
        else:
            q = 0.5 if stat == "median" else int(m.group(1)) / 100
            agg["stat"] = frame.groupby(dims, sort=False)["_x"].quantile(q)
        full = pd.DataFrame(cell_codes(trees), columns=dims)
        full = full.merge(agg.reset_index().astype({d: str for d in dims}), on=dims,
                          how="left")
        full["n"] = full["n"].fillna(0)
        reasons = pd.Series("", index=full.index)
        reasons[full["n"] < rules.min_units] = f"rests on fewer than {rules.min_units} units"
        if stat == "share":
            if not x.isin([0.0, 1.0]).all():
                raise JeugdkitError(f"output {name!r}: a share needs a 0/1 column, {value!r} "
                                    "has other values")
            small = (full["total"] < rules.min_units) & (full["n"] >= rules.min_units)
            reasons[small] = f"numerator below {rules.min_units} units"
        dominated = pd.Series(False, index=full.index)
        if stat in ("mean", "sum"):
            dominated = (full["abs_total"] > 0) & (
                full["largest"] > rules.max_dominance * full["abs_total"])
            reasons[dominated & (reasons == "")] = (
                f"dominance: largest contributor > {rules.max_dominance:.0%} of the cell")
        primary = (reasons != "").to_numpy()
        ledger = Ledger(str(population), f"{unit}|{stat}:{value}")
        idx = ledger.add_table([canonical_key(trees, c) for c in cell_codes(trees)],
                               full["n"].to_numpy(), np.zeros(len(full), bool),
                               equations(trees), primary, rules.protection_width
                               or rules.min_units, name)
        additive = stat in ("mean", "sum", "share")
        stats = (ledger.protect([(TableGeom(trees), idx)],
                                optimise=rules.complements == "optimal")
                 if additive else {"rounds": 0})
        status = np.asarray([ledger.status[i] for i in idx])
        if not additive:
            status[status == SECONDARY] = 0
        for i in np.flatnonzero(status == SECONDARY):
            reasons[i] = ledger.reason[idx[i]]
        hidden = (status == PRIMARY) | (status == SECONDARY)
        col = f"{stat}_{value}"
        out = full[dims].copy()
        out[col] = full["stat"].astype("Float64")
        out.loc[hidden, col] = pd.NA
        check_no_person_keys(out, name, rules)
        out.attrs.update({"name": name, "dims": dims, "statistic": stat, "value": value,
                          "population": str(population), "unit": unit})
        cells = {k: [{**dict(zip(dims, map(str, full.loc[i, dims]))), "reason": reasons[i]}
                     for i in np.flatnonzero(w)] for k, w in
                 [("threshold", (status == PRIMARY) & ~dominated.to_numpy()),
                  ("nk-rule", (status == PRIMARY) & dominated.to_numpy()),
                  ("secondary", status == SECONDARY)]}
        sdc = {"summary": {"suppressed": bool(hidden.any()),
                           "threshold": len(cells["threshold"]),
                           "nk-rule": len(cells["nk-rule"]),
                           "secondary": len(cells["secondary"]), "p-ratio": 0,
                           "negative": 0, "missing": 0},
               "cells": cells, "solver": stats}
        rules_checked = [f"threshold: every cell rests on >= {rules.min_units} units",
                         "no minimum or maximum", "no person keys in names or values"]
        if stat == "share":
            rules_checked.append(f"share: numerator >= {rules.min_units} units")
        if stat in ("mean", "sum"):
            rules_checked.append(f"dominance: largest contributor <= {rules.max_dominance:.0%}")
        if additive:
            rules_checked.append("secondary suppression over the table's margins")
        props = {"method": f"statistics table ({stat})", "unit": unit,
                 "population": str(population), "dims": dims, "value": value, "statistic": stat,
                 "n_cells": len(out), "threshold": rules.min_units}
        summary = (f"pass; {int(hidden.sum())} cells suppressed" if hidden.any() else "pass")
        self.outputs[name] = Output(name, "table", out, props, rules_checked, sdc, "pass",
                                    summary, f"stats_table(dims={dims}, value={value!r}, "
                                    f"stat={stat!r})", description)
        return out

    def precomputed_table(self, table: pd.DataFrame, dims, **kwargs) -> pd.DataFrame:
        """Return released statistics computed elsewhere, checked on their counts per cell.

        See :func:`jeugdkit.output.precomputed.precomputed_table` (e.g. Kaplan-Meier
        quantiles with the trajecten and events each cell rests on).
        """
        from jeugdkit.output.precomputed import precomputed_table
        return precomputed_table(self, table, dims, **kwargs)

    # -- models and figures -----------------------------------------------------------------------
    def check_model(self, result, *, name: str, unit: str, population: str,
                    n_per_level: dict | None = None, description: str = "",
                    min_units: int | None = None, min_model_df: int | None = None
                    ) -> pd.DataFrame:
        """Return the releasable parameter table of a fitted model, or raise DisclosureError.

        See :func:`jeugdkit.output.models.model_checks` for the rules. ``n_per_level`` maps a
        fixed-effect or dummy name to the units per level: a Series of counts indexed by level,
        or a Series of labels per observation (counted here).

        Example::

            res = AbsorbingLS(y, x, absorb=pd.DataFrame({"gemeente": gem})).fit()
            params = run.check_model(res, name="lpm", unit="jongeren",
                                     population="jeugd-2023", n_per_level={"gemeente": gem})
        """
        from jeugdkit.output.models import model_checks

        self._new_name(name)
        rules = _tightened(self.rules, {"min_units": min_units, "min_model_df": min_model_df},
                           f"output {name!r}")
        table, props, rules_checked = model_checks(result, name, rules, n_per_level)
        check_no_person_keys(table, name, rules, names=table.index)
        props.update({"unit": unit, "population": str(population)})
        self.outputs[name] = Output(name, "regression", table, props, rules_checked,
                                    {"summary": {"suppressed": False}, "cells": {}}, "pass",
                                    "pass", "check_model("
                                    f"{getattr(result, 'result_type', type(result).__name__)})",
                                    description)
        return table

    def release_derived(self, frame: pd.DataFrame, *, sources, name: str, how: str,
                        description: str = "") -> pd.DataFrame:
        """Register a table computed only from tables released earlier in this run.

        Percentages from released counts, a ranking of released rates, a wide view of a
        released tidy table: nothing new about persons, so no new suppression, but it is
        logged with its sources and checked for person keys and extremes. ``how`` says how
        it was computed (for the checker).

        Example::

            pct = counts.assign(pct=100 * counts["teller"] / counts["noemer"])
            run.release_derived(pct, sources=["ind_jeugdhulp"], name="indicatoren",
                                how="teller / noemer of the released counts")
        """
        self._new_name(name)
        sources = [sources] if isinstance(sources, str) else list(sources)
        missing = [s for s in sources if s not in self.outputs
                   or self.outputs[s].type not in ("table", "regression")]
        if missing:
            raise DisclosureError(
                f"derived table {name!r} is blocked: {missing} are not tables or models "
                "released in this run; derive only from released output")
        self._refuse_extremes(name, list(frame.columns))
        check_no_person_keys(frame, name, self.rules)
        frame = frame.reset_index(drop=True)
        frame.attrs.update({"name": name, "derived_from": sources})
        props = {"method": "derived from released tables", "sources": sources, "how": how,
                 "n_rows": len(frame)}
        self.outputs[name] = Output(name, "table", frame, props,
                                    [f"computed only from released tables {sources}: {how}",
                                     "no minimum or maximum", "no person keys"],
                                    {"summary": {"suppressed": False}}, "pass", "pass",
                                    "release_derived", description)
        return frame

    def release_imported(self, frame: pd.DataFrame, *, name: str, origin, file: str,
                         how: str = "") -> pd.DataFrame:
        """Register a table that another run released and exported, so that this run may
        derive from it (e.g. one year of a series, protected in that year's period ledger).

        ``origin`` is that run's export folder and ``file`` the file name there: the file
        must be listed in its export log (``log/checksums.sha256``) with these exact bytes,
        else the import is refused. The log records the origin and the checksum.
        """
        self._new_name(name)
        origin = Path(origin)
        path = origin / file
        data = _csv_bytes(frame.reset_index(drop=True))
        sums = origin / "log" / "checksums.sha256"
        logged = _logged_checksums(origin / "log")
        digest = hashlib.sha256(data).hexdigest()
        if file not in logged or not path.is_file() or _sha256(path) != digest \
                or logged[file] != digest:
            raise DisclosureError(
                f"imported table {name!r} is blocked: {path} is not a file of that run's "
                f"export log ({sums}) with these exact contents; import only released output")
        check_no_person_keys(frame, name, self.rules)
        frame = frame.reset_index(drop=True)
        props = {"method": "released by another run", "origin": str(path), "sha256": digest,
                 "how": how, "n_rows": len(frame)}
        self.outputs[name] = Output(name, "table", frame, props,
                                    [f"released and logged by another run: {path} "
                                     f"(sha256 {digest[:12]}...)", "no person keys"],
                                    {"summary": {"suppressed": False}}, "pass", "pass",
                                    "release_imported", how)
        return frame

    def release_assembled(self, frames: dict, *, since, how: str) -> dict:
        """Log every frame that is about to be written but is no output yet as derived.

        A release function often writes files assembled from several released outputs (a
        wide view, percentages, a join of counts and statistics). Each such file is logged
        under its own name, derived from the tables and models released since ``since`` (the
        output names that existed before), so that every exported file is in the log.
        """
        since = set(since)
        sources = [o for o, out in self.outputs.items()
                   if o not in since and out.type in ("table", "regression")]
        out = {}
        for name, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                out[name] = frame
                continue
            have = self.outputs.get(name)
            if have is not None and have.type != "figure" and \
                    _file_of(have)[1] == _csv_bytes(frame):
                out[name] = frame
                continue
            here = sources
            if have is not None and have.type == "figure":
                raise DisclosureError(f"{name!r} names a released figure ({name}.png): give "
                                      "the table another name")
            if have is not None:
                # the file that leaves differs from the checked output of its name (odds
                # ratios added, a join): that output stays in the log as <name>_bron and the
                # file is logged as derived from it, so the folder is exactly its log
                have.uid = f"{name}_bron"
                self.outputs = {(have.uid if k == name else k): v
                                for k, v in self.outputs.items()}
                here = [have.uid if s == name else s for s in sources]
            out[name] = self.release_derived(frame, sources=here, name=name, how=how)
        return out

    def release_figure(self, fig, *, source: str, name: str, description: str = "") -> Output:
        """Register a figure drawn from a released table; refuse anything else.

        ``source`` is the name of a table output released earlier in this run. The figure
        may not draw more points than the source has cells (person-level scatter), and its
        texts may not hold person keys.

        Example::

            ax = sns.barplot(data=table, x="leeftijd", y="aantal")
            run.release_figure(ax.figure, source="gebruik", name="gebruik_fig")
        """
        self._new_name(name)
        src = self.outputs.get(source)
        if src is None or src.type != "table":
            tables = [k for k, o in self.outputs.items() if o.type == "table"]
            raise DisclosureError(
                f"figure {name!r} is blocked: source {source!r} is not a table released in this "
                f"run (released tables: {tables}); draw figures from released tables only, "
                "never from person-level data")
        n_cells = len(src.content)
        texts, points = [], 0
        for ax in fig.get_axes():
            texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
            texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
            texts += [t.get_text() for t in ax.texts]
            for line in ax.get_lines():
                points = max(points, len(line.get_xdata()))
            for coll in ax.collections:
                offsets = coll.get_offsets()
                points = max(points, len(offsets) if offsets is not None else 0)
        if points > n_cells:
            raise DisclosureError(
                f"figure {name!r} is blocked: it draws {points} points, more than the {n_cells} "
                f"cells of its source table {source!r}; that looks like person-level data")
        check_no_person_keys(None, name, self.rules, names=[t for t in texts if t])
        out = Output(name, "figure", fig, {"method": "figure", "source": source,
                                           "unit": src.properties.get("unit"),
                                           "population": src.properties.get("population")},
                     [f"drawn from released table {source!r}",
                      f"at most {n_cells} points (the source's cells)",
                      "no person keys in texts"], {"summary": {"suppressed": False}},
                     "pass", "pass", "release_figure", description)
        self.outputs[name] = out
        if "matplotlib.pyplot" in sys.modules:
            # the run owns the figure now; closed, a notebook's inline backend does not show
            # it where it was made (savefig still works)
            sys.modules["matplotlib.pyplot"].close(fig)
        return out

    # -- audit and log --------------------------------------------------------------------------
    def audit(self, exact: bool = False) -> pd.DataFrame:
        """Return the LP audit of every suppressed cell of the run's frequency tables.

        One row per suppressed cell: population, unit, cell, lower, upper, width, required,
        method. With ``exact`` both LPs are solved for every cell (slow on national tables);
        otherwise a cell whose hypercube proves it wide enough reports the hypercube's bounds
        (inside the exact ones, so the check stays sound) and the rest get the exact LP.
        """
        rows = []
        self._refresh()
        own = self.__dict__.get("_own")
        for (pop, unit), ledger in self._ledgers.items():
            if own is not None and (pop, unit) not in own:
                continue  # another run's population in the period ledger
            lo, hi, method = ledger.audit(exact=exact, cells=None if own is None
                                          else own[(pop, unit)])
            for c in np.flatnonzero(~np.isnan(lo)):
                rows.append({"population": pop, "unit": unit,
                             "cell": dict(ledger.key_of[c]) or "totaal",
                             "lower": lo[c], "upper": hi[c], "width": hi[c] - lo[c],
                             "required": ledger.width[c], "method": method[c]})
        return pd.DataFrame(rows, columns=["population", "unit", "cell", "lower", "upper",
                                           "width", "required", "method"])

    def write(self, folder, audit: bool = True) -> Path:
        """Write every output, ``results.json``, ``summary.md`` and checksums; return the folder.

        With ``audit`` the exact LP audit runs first and the run is refused if any suppressed
        cell is narrower than required (it never should be).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        audit_summary = {}
        if audit:
            bounds = self.audit()
            # too narrow, unless known to be empty (a zero rests on no one)
            bad = bounds[(bounds["width"] < bounds["required"] - 1e-6)
                         & (bounds["upper"] >= 0.5)]
            if not bad.empty:
                raise DisclosureError(f"LP audit failed for {len(bad)} suppressed cells, e.g. "
                                      f"{bad.iloc[0].to_dict()}; nothing was written")
            ledger = self.__dict__.get("period_ledger") is not None
            for (pop, unit), g in bounds.groupby(["population", "unit"], sort=True):
                empty = g["upper"] < 0.5
                # cells known to be empty count as wide enough (they rest on no one)
                narrowest = (float(g.loc[~empty, "width"].min()) if (~empty).any()
                             else float(g["required"].max()))
                if ledger:
                    # the proof's inner bounds depend on the other outputs in the ledger:
                    # the log says what holds whatever they are (at least the width)
                    narrowest = min(narrowest, float(g["required"].max()))
                audit_summary[f"{pop}|{unit}"] = {
                    # rounded: the last bits of an LP bound depend on the solver's path, and a
                    # rerun must write the same log
                    "suppressed_cells": len(g), "narrowest_interval": round(narrowest, 6),
                    "required_width": float(g["required"].max()), "pinned_cells": 0,
                    "known_empty_cells": int(empty.sum())}
        for out in self.outputs.values():
            fname, data = _file_of(out)
            (folder / fname).write_bytes(data)
            out.files = [{"name": fname, "sha256": hashlib.sha256(data).hexdigest(),
                          "sdc": out.sdc}]
        log = self.log(audit_summary)
        text = json.dumps(log, indent=2, ensure_ascii=False, default=str)
        (folder / "results.json").write_text(text + "\n", encoding="utf-8")
        (folder / "summary.md").write_text(self._markdown(log), encoding="utf-8")
        (folder / "checksums.sha256").write_text(
            "".join(f"{f['sha256']}  {f['name']}\n" for o in self.outputs.values()
                    for f in o.files), encoding="utf-8")
        return folder

    write_log = write

    def export(self, folder, frames: dict) -> Path:
        """Write the export folder: the log in ``folder/log`` and beside it, for each frame
        released, the file of its logged output byte for byte, and every released figure.

        A frame that is not the content of a logged output of its name is refused (the folder
        must be exactly its log). Files that an earlier run of the kit wrote here (listed in
        the earlier log) and that this session does not release are removed; any other file
        is reported as not in the log. Return the folder."""
        folder = Path(folder)
        previous = _logged_files(folder / "log")
        for name, frame in frames.items():
            out = self.outputs.get(name)
            if out is None or out.type == "figure" or _file_of(out)[1] != _csv_bytes(frame):
                raise DisclosureError(
                    f"export {folder}: {name!r} is not the content of a logged output of that "
                    "name; release it (release_derived / release_assembled) before exporting")
        log = self.write(folder / "log")
        # write() rendered every output once: the export copies its bytes from the log
        logged = {f["name"]: f["sha256"] for o in self.outputs.values() for f in o.files}
        keep = {o.files[0]["name"] for o in self.outputs.values()
                if o.uid in frames or o.type == "figure"}
        foreign = []
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            same = path.name in logged and _sha256(path) == logged[path.name]
            if same:
                continue  # written now or released earlier in this session (an earlier chapter)
            if path.name in previous or path.name in logged:
                path.unlink()  # left by an earlier run of the kit: not in this log
            else:
                foreign.append(path.name)
        for fname in keep:
            if not (folder / fname).is_file():
                (folder / fname).write_bytes((log / fname).read_bytes())
        if foreign:
            warnings.warn(f"export {folder}: {foreign} are not in the export log; remove them "
                          "before handing the folder on", stacklevel=2)
        return folder

    def declare_composition(self, composition: dict) -> None:
        """Record which codes stand for several codes (``{dim: {code: [member codes]}}``, as
        :meth:`jeugdkit.scope.Scope.composition` gives): every later table with such a code
        carries it in its log, so that an audit over several outputs links them."""
        current = self.__dict__.setdefault("composition", {})
        for dim, parts in (composition or {}).items():
            for code, members in parts.items():
                known = current.setdefault(dim, {}).get(code)
                if known is not None and sorted(known) != sorted(members):
                    raise DisclosureError(
                        f"code {code!r} of {dim!r} stands for {known} in this session and "
                        f"cannot stand for {sorted(members)} too: use one scope per session")
                current[dim][code] = sorted(str(m) for m in members)

    def declare_relation(self, kind: str, **fields) -> dict:
        """Record what an attacker knows between populations (returned as logged).

        The log's ``relations`` let ``jeugdkit audit`` link the populations' tables in one LP
        (cells with the same key, see :func:`~jeugdkit.output.structure.canonical_key`):

        - ``parts``: ``whole``, ``parts`` (population names), ``unit``, ``exclusive``: every
          unit of a part is in the whole and every unit of the whole in some part, so per cell
          ``max(parts) <= whole <= sum(parts)``; with ``exclusive`` each unit is in exactly one
          part and ``whole = sum(parts)``.
        - ``alias``: ``population``, ``same_as``, ``unit``, optional ``dims`` (``{dim of
          population: dim of same_as}``) and ``codes`` (``{dim of population: {code: code of
          same_as}}``): the two count the same units, so renamed cells are one quantity.
        - ``within``: ``part``, ``whole``, ``unit``: every unit of the part is in the whole with
          the same codes (``part <= whole`` per cell), e.g. a first half-year in its year.

        Example::

            run.declare_relation("parts", whole="gebruik_totaal-2023", unit="jongeren",
                                 parts=["gebruik_wijkteam-2023", "gebruik_met_verblijf-2023"],
                                 exclusive=False)
        """
        spec = {"parts": {"whole": str, "parts": list, "unit": str, "exclusive": bool},
                "alias": {"population": str, "same_as": str, "unit": str, "dims": dict,
                          "codes": dict},
                "within": {"part": str, "whole": str, "unit": str}}
        optional = {"exclusive", "dims", "codes"}
        what = f"declare_relation({kind!r}) in run {self.name!r}"
        if kind not in spec:
            raise JeugdkitError(f"{what}: unknown kind; expected one of {sorted(spec)}")
        unknown = sorted(set(fields) - set(spec[kind]))
        missing = sorted(set(spec[kind]) - set(fields) - optional)
        if unknown or missing:
            raise JeugdkitError(f"{what}: fields {unknown} unknown, {missing} missing; "
                                f"expected {sorted(spec[kind])}")
        for name, typ in spec[kind].items():
            if name in fields and not isinstance(fields[name], typ):
                raise JeugdkitError(f"{what}: {name}={fields[name]!r} is not a {typ.__name__}")
        entry: dict = {"kind": kind, "unit": fields["unit"]}
        if kind == "parts":
            parts = [str(p) for p in fields["parts"]]
            if not parts or len(set(parts)) != len(parts) or fields["whole"] in parts:
                raise JeugdkitError(f"{what}: parts={parts} must be distinct population "
                                    f"names other than the whole {fields['whole']!r}")
            entry.update(whole=fields["whole"], parts=parts,
                         exclusive=bool(fields.get("exclusive", False)))
        elif kind == "alias":
            dims = {str(k): str(v) for k, v in (fields.get("dims") or {}).items()}
            codes = fields.get("codes") or {}
            if not all(isinstance(m, dict) for m in codes.values()):
                raise JeugdkitError(f"{what}: codes={codes!r}: expected {{dim: {{code: code}}}}")
            if fields["population"] == fields["same_as"]:
                raise JeugdkitError(f"{what}: population and same_as are both "
                                    f"{fields['population']!r}")
            entry.update(population=fields["population"], same_as=fields["same_as"], dims=dims,
                         codes={str(d): {str(a): str(b) for a, b in m.items()}
                                for d, m in codes.items()})
        else:
            if fields["part"] == fields["whole"]:
                raise JeugdkitError(f"{what}: part and whole are both {fields['part']!r}")
            entry.update(part=fields["part"], whole=fields["whole"])
        relations = self.__dict__.setdefault("relations", [])  # sessions pickled before it
        if entry not in relations:
            relations.append(entry)
        return entry

    def leave_out(self, output: str, reason: str, kind: str = "niet berekenbaar") -> str:
        """Record that an output is not made and why; return the note as one Dutch line.

        ``kind``: ``niet berekenbaar`` (the data lack what it needs) or ``geblokkeerd door
        outputcontrole`` (made, but not releasable). The note goes into the export log (JSON
        and Markdown) so that the checker and the reader see what is missing and why."""
        entry = {"output": output, "soort": kind, "reden": reason}
        left_out = self.__dict__.setdefault("left_out", [])  # sessions pickled before it
        if entry not in left_out:
            left_out.append(entry)
        return f"{output} {kind}: {reason}"

    def log(self, audit_summary: dict | None = None) -> dict:
        """Return the run's log (the content of results.json)."""
        results = {}
        for out in self.outputs.values():
            results[out.uid] = {
                "uid": out.uid, "status": out.status, "type": out.type,
                "properties": out.properties, "files": out.files or
                [{"name": None, "sha256": None, "sdc": out.sdc}],
                "outcome": {}, "command": out.command, "summary": out.summary,
                "rules_checked": out.rules, "description": out.description,
                "comments": [], "exception": "",
            }
        return {
            "version": f"jeugdkit {__version__}",
            "release": "the outputs listed; this log is for the output checker "
                       "(it tells primary from secondary suppressions: DO NOT RELEASE)",
            "settings": dataclasses.asdict(self.rules),
            "results": results,
            "audit": audit_summary or {},
            "run": {"name": self.name, "timestamp": self.run_timestamp},
            "left_out": list(getattr(self, "left_out", [])),
            "relations": list(getattr(self, "relations", [])),
            "provenance": getattr(self, "provenance", {}),
        }

    def _markdown(self, log: dict) -> str:
        lines = [f"# Output-control log: run {self.name}", "",
                 f"jeugdkit {__version__}; run timestamp {self.run_timestamp} "
                 "(the only time in the log)", "",
                 "| output | file | type | unit | population | status | suppressed | sha256 |",
                 "|---|---|---|---|---|---|---|---|"]
        for uid, r in log["results"].items():
            s = r["files"][0]["sdc"].get("summary", {})
            sup = ", ".join(f"{k}: {v}" for k, v in s.items()
                            if k in ("threshold", "secondary", "nk-rule") and v)
            f = r["files"][0]
            lines.append(f"| {uid} | {f['name']} | {r['type']} | {r['properties'].get('unit')} "
                         f"| {r['properties'].get('population')} | {r['status']} | "
                         f"{sup or '-'} | {str(f['sha256'])[:16]} |")
        lines += ["", "## Rules checked", ""]
        for uid, r in log["results"].items():
            lines.append(f"- **{uid}**: " + "; ".join(r["rules_checked"]))
        if log["audit"]:
            lines += ["", "## LP audit (per population and unit)", "",
                      "| population, unit | suppressed cells | narrowest interval | required |",
                      "|---|---|---|---|"]
            for k, a in log["audit"].items():
                lines.append(f"| {k} | {a['suppressed_cells']} | {a['narrowest_interval']:g} | "
                             f"{a['required_width']:g} |")
        if log.get("left_out"):
            lines += ["", "## Not made (left out, with the reason)", ""]
            lines += [f"- **{e['output']}** ({e['soort']}): {e['reden']}"
                      for e in log["left_out"]]
        prov = log.get("provenance") or {}
        if prov:
            lines += ["", "## Provenance", ""]
            for k, v in prov.get("parameters", {}).items():
                lines.append(f"- parameter {k}: {v or '(leeg)'}")
            for f in prov.get("invoerbestanden", []):
                lines.append(f"- input {f['path']} (version {f['version']}, {f['bytes']} bytes, "
                             f"sha256 {f['sha256']})")
            for k, v in prov.get("pakketten", {}).items():
                lines.append(f"- package {k} {v}")
            for c in prov.get("catalogus", []):
                lines.append(f"- catalog {c['bestand']} (sha256 {c['sha256']})")
        return "\n".join(lines) + "\n"


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    """Return a table as the bytes every exported CSV has (UTF-8, \\n on every platform)."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _file_of(out: Output) -> tuple[str, bytes]:
    """Return the file name and bytes of an output, as the log and the export write them."""
    if out.type == "figure":
        buf = io.BytesIO()
        out.content.savefig(buf, format="png", metadata={"Software": None})
        return f"{out.uid}.png", buf.getvalue()
    content = out.content.copy()
    if out.type == "regression":
        content = content.reset_index()
    return f"{out.uid}.csv", _csv_bytes(content)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _logged_checksums(log_folder: Path) -> dict[str, str]:
    """Return {file name: sha256} of the files a log in this folder listed (none without)."""
    path = Path(log_folder) / "checksums.sha256"
    if not path.is_file():
        return {}
    pairs = (line.split("  ", 1) for line in path.read_text(encoding="utf-8").splitlines()
             if "  " in line)
    return {name.strip(): digest.strip() for digest, name in pairs}


def _logged_files(log_folder: Path) -> set[str]:
    """Return the file names an earlier log in this folder listed (none without one)."""
    return set(_logged_checksums(log_folder))


__all__ = ["ExportSession", "Output"]
