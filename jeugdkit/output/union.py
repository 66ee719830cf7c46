"""Audit from disk: what an attacker who holds several outputs at once can work out.

An output checker receives export folders over weeks: the tables of all gemeenten, the report of
one gemeente, its trajectories, a maatwerk question. Each was protected on its own; the attacker
puts them side by side. :func:`audit_exports` reads the export logs of any number of folders
(any runs, gemeenten, units, periods), rebuilds every released frequency table from the checked
copy in the log, and computes for every suppressed cell the attacker's interval over the union
of all tables over the same population and unit (an exact LP: margins are sums, cells >= 0,
every published count known).

Codes that stand for several gemeenten (a comparison group, the rest of the group, the rest of
the country beside one gemeente) are expanded to their member gemeenten, as the log records them
(``properties.composition``), so that a gemeente's report and the table of all gemeenten are
linked through the gemeenten they share. Each composite code is renamed after its members, so
two reports with different comparison groups do not share a ``groep`` by name.

Example::

    bounds = audit_exports(["uit/tabellen", "rapporten/2023/0363/export"])
    bounds[~bounds["ok"]]           # cells an attacker can narrow below the protection width
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.output.audit import audit_linked, audit_tables, relation_components
from jeugdkit.output.structure import composite_code

COLUMNS = ["population", "unit", "output", "cell", "published", "lower", "upper", "width",
           "required", "ok", "method"]


def find_logs(folders) -> list[Path]:
    """Return every ``results.json`` of an export log under the given folders (sorted)."""
    logs = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_file() and folder.name == "results.json":
            logs.append(folder)
        elif folder.is_dir():
            logs.extend(sorted(folder.rglob("results.json")))
        else:
            raise JeugdkitError(f"{folder}: no such folder")
    return sorted(set(logs))


def load_tables(logs) -> list[pd.DataFrame]:
    """Return every frequency table of the logs, read from the checked copies, with the attrs
    :func:`~jeugdkit.output.audit.audit_tables` needs and composite codes expanded."""
    tables = []
    for log_path in logs:
        log = json.loads(Path(log_path).read_text(encoding="utf-8"))
        run = log.get("run", {}).get("name", Path(log_path).parent.name)
        for uid, result in log.get("results", {}).items():
            props = result.get("properties", {})
            if result.get("type") != "table" or props.get("method") != "frequency table":
                continue  # derived tables and statistics add no count of their own
            name = result["files"][0]["name"]
            path = Path(log_path).parent / name
            if not path.is_file():
                raise JeugdkitError(f"{log_path}: output {uid} names {name}, which is not in "
                                    f"{path.parent}")
            dims = list(props["dims"])
            frame = pd.read_csv(path, dtype={d: str for d in dims}, keep_default_na=False,
                                na_values={props["count"]: [""]})
            frame[props["count"]] = pd.to_numeric(frame[props["count"]])
            frame.attrs.update({
                "name": f"{run}/{uid}", "dims": dims, "count": props["count"],
                "hierarchies": {d: dict(h) for d, h in (props.get("hierarchies") or {}).items()},
                "codes": {d: list(c) for d, c in (props.get("codes") or {}).items()},
                "rounding_base": props.get("rounding_base"),
                "population": str(props["population"]), "unit": str(props["unit"]),
                "required": float(props.get("protection_width") or props.get("threshold")),
                "threshold": float(props.get("threshold") or 0),
                "total": props.get("total_label", "totaal"),
            })
            tables.append(_expand(frame, props.get("composition") or {}))
    return tables


def load_relations(logs) -> list[dict]:
    """Return every relation between populations the logs declare (``relations``, see
    :meth:`~jeugdkit.output.ExportSession.declare_relation`), each once, in log order."""
    out: list[dict] = []
    for log_path in logs:
        log = json.loads(Path(log_path).read_text(encoding="utf-8"))
        for rel in log.get("relations") or []:
            if not isinstance(rel, dict) or rel.get("kind") not in _RELATION_FIELDS or \
                    not _RELATION_FIELDS[rel["kind"]] <= set(rel):
                raise JeugdkitError(
                    f"{log_path}: relation {rel!r} is not one the kit writes; expected kind "
                    f"parts, alias or within with {_RELATION_FIELDS}")
            if rel not in out:
                out.append(rel)
    return out


_RELATION_FIELDS = {"parts": {"whole", "parts", "unit", "exclusive"},
                    "alias": {"population", "same_as", "unit"},
                    "within": {"part", "whole", "unit"}}


def _expand(frame: pd.DataFrame, composition: dict) -> pd.DataFrame:
    """Return the table (changed in place: it was just read) with every composite code renamed
    after its members, and the members of a composite leaf added as unknown leaves under it."""
    hier = frame.attrs["hierarchies"]
    codes = frame.attrs["codes"]
    for dim, parts in composition.items():
        rename = {c: composite_code(c, m) for c, m in parts.items()}
        frame[dim] = frame[dim].astype(str).replace(rename)
        h = {rename.get(k, k): rename.get(v, v) for k, v in hier.get(dim, {}).items()}
        present = [rename.get(c, c) for c in codes.get(dim, [])] or \
            [c for c in pd.unique(frame[dim]) if c != frame.attrs["total"]]
        parents = set(h.values())
        for code, members in parts.items():
            new = rename[code]
            if new in parents:
                continue  # an internal code (groep): its children are in the table already
            for member in members:
                h[member] = new
                if member not in present:
                    present.append(member)
        hier[dim] = h
        codes[dim] = present
    return frame


def audit_exports(folders, populations=None, exact: bool = False) -> pd.DataFrame:
    """Return the attacker's interval of every suppressed cell over the union of the outputs
    in ``folders`` (one row per cell and population; see :data:`COLUMNS`). ``populations``:
    audit only these population names (default: all).

    A cell that the feasible tables seen so far (solutions of earlier cells' LPs over the
    same linked system) already prove wide enough gets those inner bounds (``method``
    "feasible tables": the attacker's interval holds them and may be wider); the others get
    the exact LP over their whole linked system (``method`` "exact LP"). ``exact``: the
    exact LP for every cell (slow on a period's outputs).

    ``ok`` is False where a cell can be narrowed below the protection width (for a cell the
    outputs do not show, also where its lower bound stays below the threshold)."""
    logs = find_logs(folders)
    if not logs:
        raise JeugdkitError(f"no export log (results.json) under {[str(f) for f in folders]}")
    groups: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for table in load_tables(logs):
        if populations is not None and table.attrs["population"] not in populations:
            continue
        groups.setdefault((table.attrs["population"], table.attrs["unit"]), []).append(table)
    relations = load_relations(logs)
    parts = []
    for component in relation_components(groups, relations):
        tables = [t for g in component for t in groups[g]]
        if len(component) == 1:  # no relation to another population: as before
            (population, unit), = component
            bounds = audit_tables(tables, total=tables[0].attrs["total"], required=None
                                  if exact else max(t.attrs["required"] for t in tables))
            bounds.insert(0, "unit", unit)
            bounds.insert(0, "population", population)
        else:
            bounds = audit_linked({g: groups[g] for g in component}, relations,
                                  total=tables[0].attrs["total"])
            bounds["method"] = "exact LP"
        if bounds.empty:
            continue
        bounds = bounds.rename(columns={"table": "output"})
        required = {g: max(t.attrs["required"] for t in groups[g]) for g in component}
        threshold = {g: max(t.attrs["threshold"] for t in groups[g]) for g in component}
        pops = list(zip(bounds["population"], bounds["unit"]))
        bounds["required"] = [required[g] for g in pops]
        threshold = pd.Series([threshold[g] for g in pops], index=bounds.index)
        # protected: at least the width wide; or, for a cell the outputs do not show, known
        # to be large; or known to be empty (a zero rests on no one: zeros are released as 0)
        bounds["ok"] = ((bounds["width"] >= bounds["required"] - 1e-6)
                        | (~bounds["published"] & (bounds["lower"] >= threshold - 1e-6))
                        | (bounds["upper"] < 0.5))
        parts.append(bounds)
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(parts, ignore_index=True)[COLUMNS]


def format_audit(bounds: pd.DataFrame, logs: int) -> str:
    """Return the audit as text: one line per population, then every cell that fails."""
    lines = [f"{logs} export log(s); {len(bounds)} suppressed or unpublished cell(s) audited"]
    for (population, unit), g in bounds.groupby(["population", "unit"], sort=True):
        lines.append(f"  {population} ({unit}): {len(g)} cells, narrowest interval "
                     f"{g['width'].min() + 0.0:g} (required {g['required'].max():g}), "
                     f"{int((~g['ok']).sum())} too narrow")
    bad = bounds[~bounds["ok"]]
    if len(bad):
        lines.append("")
        lines.append("Too narrow (the attacker's interval over the union of these outputs):")
        for row in bad.itertuples(index=False):
            cell = row.cell if isinstance(row.cell, str) else ", ".join(
                f"{k}={v}" for k, v in row.cell.items())
            lines.append(f"  {row.population} | {row.output} | {cell}: "
                         f"[{row.lower + 0.0:g}, {row.upper + 0.0:g}] width {row.width + 0.0:g}")
    else:
        lines.append("No suppressed cell can be narrowed below the protection width.")
    return "\n".join(lines)
