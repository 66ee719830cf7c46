"""Inventory of a data root: per dataset the chosen files, rows, and variables found vs expected.

Reads only file headers (fast, also on multi-gigabyte files)::

    report = inventory_report(Reader("G:/"))
    print(format_inventory(report))
"""

from __future__ import annotations

import re

import pyreadstat

from jeugdkit.read import Reader, closest_names


def inventory_report(reader: Reader) -> dict:
    """Return a JSON-ready dict: datasets (chosen files, variables found/missing/extra) and
    unplaced files."""
    inv = reader.inventory
    datasets = {}
    for name, entry in inv.datasets.items():
        spec = entry.spec
        files = []
        for found in entry.chosen.values():
            item = {"year": found.year, "version": found.version,
                    "path": str(found.path.relative_to(inv.root)), "bytes": found.size}
            try:
                _, meta = pyreadstat.read_sav(str(found.path), metadataonly=True)
            except Exception as exc:
                item["error"] = f"cannot read header: {type(exc).__name__}: {exc}"
                files.append(item)
                continue
            present = {c.lower(): c for c in meta.column_names}
            expected, missing, case = [], [], []
            for key, pair in spec.keys.items():
                for ra in pair:
                    expected.append(ra.lower())
                    _check(ra, present, missing, case, f"keys.{key}")
            for var in spec.variables.values():
                if var.is_wide:
                    rx = re.compile("^" + re.escape(var.name.lower()).replace(r"\{c\}", r"\d{4}")
                                    + "$")
                    hits = [c for c in present if rx.match(c)]
                    expected.extend(hits)
                    if not hits:
                        missing.append(f"{var.name} (variables.{var.key})")
                    continue
                expected.append(var.name.lower())
                if var.expected_in(found.year):
                    _check(var.name, present, missing, case, f"variables.{var.key}")
            item["suggestions"] = _suggestions(spec, missing, meta.column_names)
            item.update({
                "rows": meta.number_rows,
                "variables": len(meta.column_names),
                "missing_variables": missing,
                "extra_variables": sorted(present[c] for c in present if c not in expected),
                "case_differs": case,
            })
            files.append(item)
        datasets[name] = {
            "folder": str(entry.folder.relative_to(inv.root)) if entry.folder else None,
            "history": spec.history,
            "files": files,
            "superseded": [str(f.path.relative_to(inv.root)) for f in entry.superseded],
            "issues": entry.issues,
        }
    return {
        "data_root": str(inv.root),
        "catalog": reader.catalog.sources,
        "datasets": datasets,
        "unplaced": [{"path": str(u.path.relative_to(inv.root)), "reason": u.reason}
                     for u in inv.unplaced],
    }


def _suggestions(spec, missing: list[str], columns: list[str]) -> list[dict]:
    """Return, per lacking catalog variable, the file's closest names and a user-catalog
    entry to copy (the closest name filled in; a question mark when none is close)."""
    out = []
    for entry in missing:
        name, _, where = entry.partition(" (")
        where = where.rstrip(")")
        if not where.startswith("variables."):
            continue  # keys are confirmed names: no guess
        key = where.removeprefix("variables.")
        close = closest_names(name.replace("{C}", ""), columns)
        guess = close[0] if close else "?"
        out.append({"variable": name, "catalog_key": key,
                    "assumed": bool(spec.variables[key].assumed), "closest": close,
                    "catalog_entry": f'[datasets.{spec.name}.variables.{key}]\nname = "{guess}"'})
    return out


def unreadable_files(report: dict) -> list[str]:
    """Return the paths of the files whose header could not be read."""
    return [f["path"] for entry in report["datasets"].values() for f in entry["files"]
            if "error" in f]


def _check(name: str, present: dict, missing: list, case: list, where: str) -> None:
    actual = present.get(name.lower())
    if actual is None:
        missing.append(f"{name} ({where})")
    elif actual != name:
        case.append(f"{actual} (catalog: {name})")


def format_inventory(report: dict) -> str:
    """Return the inventory as readable text."""
    lines = [f"Data root: {report['data_root']}"]
    for name, entry in report["datasets"].items():
        if not entry["files"]:
            lines.append(f"\n{name}: NOT FOUND ({'; '.join(entry['issues'])})")
            continue
        lines.append(f"\n{name} ({entry['history']}, {entry['folder']})")
        for f in entry["files"]:
            if "error" in f:
                lines.append(f"  {f['year']} V{f['version']} {f['path']}: {f['error']}")
                continue
            rows = f"{f['rows']:,}" if f["rows"] is not None else "?"
            lines.append(f"  {f['year']} V{f['version']}  {rows:>12} rows  {f['path']}")
            for label, key in (("missing variables", "missing_variables"),
                               ("case differs", "case_differs"),
                               ("extra variables", "extra_variables")):
                if f[key]:
                    lines.append(f"      {label}: {', '.join(f[key])}")
            for sug in f.get("suggestions", []):
                kind = "assumed name" if sug["assumed"] else "confirmed name"
                close = ", ".join(sug["closest"]) or "no close name in the file"
                lines.append(f"      {sug['variable']} ({kind}) lacking; closest: {close}; "
                             "user-catalog entry:")
                lines.extend(f"          {line}" for line in sug["catalog_entry"].splitlines())
        if entry["superseded"]:
            lines.append(f"  superseded: {', '.join(entry['superseded'])}")
        for issue in entry["issues"]:
            lines.append(f"  note: {issue}")
    if report["unplaced"]:
        lines.append("\nFiles the catalog cannot place:")
        lines.extend(f"  {u['path']}: {u['reason']}" for u in report["unplaced"])
    else:
        lines.append("\nEvery file under the dataset folders was placed.")
    return "\n".join(lines)
