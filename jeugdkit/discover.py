"""Discovery: which RA file to read for each dataset and year.

RA researchers find files by pattern, never by a fixed list: per dataset and year the highest
version `V{n}` counts, and of a cumulative dataset only the newest year. Real trees are untidy, so
folder names match case-insensitively, a year folder is optional for every dataset, and every file
under a dataset folder that the catalog cannot place is reported, never silently skipped::

    inv = discover("G:/", load_catalog())
    inv["JGDHULPBUS"].chosen        # {2022: FoundFile(...), 2023: FoundFile(...)}
    inv.unplaced                    # files no pattern matches, with the reason
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from jeugdkit.catalog import Catalog, DatasetSpec
from jeugdkit.errors import DatasetNotFoundError

YEAR_FOLDER = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class FoundFile:
    """A file that a catalog pattern placed: dataset, year, version."""

    dataset: str
    year: int
    version: int
    path: Path
    pattern: str

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass
class DatasetFiles:
    """What discovery found for one dataset."""

    spec: DatasetSpec
    folder: Path | None
    candidates: list[FoundFile] = field(default_factory=list)
    chosen: dict[int, FoundFile] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)

    @property
    def superseded(self) -> list[FoundFile]:
        """Return files that were placed but not chosen (older versions or editions)."""
        chosen = set(self.chosen.values())
        return [f for f in self.candidates if f not in chosen]

    @property
    def years(self) -> list[int]:
        return sorted(self.chosen)


@dataclass(frozen=True)
class UnplacedFile:
    """A file under a dataset folder that no catalog pattern placed."""

    path: Path
    folder: str
    reason: str


@dataclass
class Inventory:
    """The files of a data root, per dataset, as the catalog sees them."""

    root: Path
    datasets: dict[str, DatasetFiles]
    unplaced: list[UnplacedFile]

    def __getitem__(self, name: str) -> DatasetFiles:
        return self.datasets[name]

    def files(self, name: str, years: list[int] | None = None) -> list[FoundFile]:
        """Return the chosen files of a dataset for the given years (all when None).

        Raises DatasetNotFoundError naming the folder searched and the years available.
        """
        entry = self.datasets[name]
        if not entry.chosen:
            where = entry.folder or self.root / entry.spec.relative_folder
            raise DatasetNotFoundError(
                f"dataset {name}: no file matching {list(entry.spec.files)} under {where}. "
                f"Check the data root ({self.root}) or the catalog entry [datasets.{name}]."
            )
        if years is None:
            return [entry.chosen[y] for y in entry.years]
        missing = [y for y in years if y not in entry.chosen]
        if missing:
            placed = sorted({f.year for f in entry.candidates})
            raise DatasetNotFoundError(
                f"dataset {name}: no file for year(s) {missing} under {entry.folder}; "
                f"chosen years: {entry.years}"
                + (f" (older editions of a cumulative dataset exist for {placed})"
                   if entry.spec.history == "cumulative" else "")
            )
        return [entry.chosen[y] for y in years]


def _find_child(parent: Path, name: str) -> Path | None:
    """Return the child of `parent` whose name equals `name` case-insensitively."""
    exact = parent / name
    if exact.is_dir():
        return exact
    try:
        with os.scandir(parent) as entries:
            for entry in entries:
                if entry.is_dir() and entry.name.casefold() == name.casefold():
                    return Path(entry.path)
    except OSError:
        return None
    return None


def _files_under(folder: Path) -> list[tuple[Path, str | None]]:
    """Return (path, year-folder name or None) for files in a dataset folder and one level down."""
    out = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_file():
            out.append((Path(entry.path), None))
        elif entry.is_dir():
            for sub in sorted(Path(entry.path).rglob("*")):
                if sub.is_file():
                    depth = len(sub.relative_to(entry.path).parts)
                    out.append((sub, entry.name if depth == 1 else f"{entry.name}/..."))
    return out


def discover(root: str | os.PathLike, catalog: Catalog) -> Inventory:
    """Return the inventory of a data root: chosen files per dataset and unplaced files."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"data root {root} is not a folder. Pass --data-root or set JEUGDKIT_DATA_ROOT."
        )
    datasets: dict[str, DatasetFiles] = {}
    by_folder: dict[Path, list[DatasetSpec]] = {}
    for spec in catalog:
        theme = _find_child(root, spec.theme)
        folder = _find_child(theme, spec.folder) if theme else None
        datasets[spec.name] = DatasetFiles(spec=spec, folder=folder)
        if folder is None:
            datasets[spec.name].issues.append(
                f"folder {spec.relative_folder} not found under {root}"
            )
        else:
            by_folder.setdefault(folder, []).append(spec)

    unplaced: list[UnplacedFile] = []
    for folder, specs in by_folder.items():
        regexes = [(spec, pattern, rx) for spec in specs
                   for pattern, rx in zip(spec.files, spec.file_regexes())]
        rel_folder = str(folder.relative_to(root))
        for path, year_folder in _files_under(folder):
            if year_folder is not None and not YEAR_FOLDER.match(year_folder):
                unplaced.append(UnplacedFile(
                    path, rel_folder,
                    f"in subfolder '{year_folder}', expected the file directly in the dataset "
                    "folder or in a 4-digit year folder",
                ))
                continue
            placed = False
            for spec, pattern, rx in regexes:
                m = rx.match(path.name)
                if not m:
                    continue
                year, version = int(m["year"]), int(m["version"])
                found = FoundFile(spec.name, year, version, path, pattern)
                datasets[spec.name].candidates.append(found)
                if year_folder is not None and int(year_folder) != year:
                    datasets[spec.name].issues.append(
                        f"{path.relative_to(root)}: year folder {year_folder} holds a file of "
                        f"year {year}; placed by the year in the file name"
                    )
                placed = True
                break
            if not placed:
                unplaced.append(UnplacedFile(
                    path, rel_folder,
                    "matches no file pattern of "
                    + ", ".join(f"{s.name} {list(s.files)}" for s in specs),
                ))

    for entry in datasets.values():
        _choose(entry)
    return Inventory(root=root, datasets=datasets, unplaced=unplaced)


def _choose(entry: DatasetFiles) -> None:
    """Pick per year the highest version; of a cumulative dataset only the newest year."""
    best: dict[int, FoundFile] = {}
    pattern_rank = {p: i for i, p in enumerate(entry.spec.files)}
    for found in sorted(entry.candidates,
                        key=lambda f: (f.year, f.version, -pattern_rank[f.pattern], str(f.path))):
        current = best.get(found.year)
        if current is not None and current.version == found.version:
            entry.issues.append(
                f"year {found.year} V{found.version}: two files ({current.path.name}, "
                f"{found.path.name}); chose {found.path.name} (first catalog pattern)"
            )
        best[found.year] = found
    if entry.spec.history == "cumulative" and best:
        newest = max(best)
        best = {newest: best[newest]}
    entry.chosen = best
