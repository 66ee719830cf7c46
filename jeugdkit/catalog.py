"""The dataset catalog: where each RA dataset lives and what its variables are called.

The shipped catalog (`catalog.toml` beside this module) follows the RA data contract. A user
catalog with the same structure overrides entries key by key, so a name the contract marks as
*assumed* can be changed without touching code::

    cat = load_catalog("my_catalog.toml")
    cat["JGDHULPBUS"].variables["verwijzer"].name
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from jeugdkit.errors import CatalogError

SHIPPED_CATALOG = Path(__file__).with_name("catalog.toml")
KINDS = ("code", "id", "date", "number")
HISTORIES = ("cumulative", "per_year")


@dataclass(frozen=True)
class VariableSpec:
    """One logical variable of a dataset and how to read it."""

    key: str
    name: str
    kind: str
    width: int | None = None
    codes: tuple[str, ...] | None = None
    missing_codes: tuple[str, ...] = ()
    open_end: str | None = None
    sentinels: tuple[float, ...] = ()
    negative_missing: bool = False
    first_year: int | None = None
    last_year: int | None = None
    assumed: bool = False

    def expected_in(self, year: int) -> bool:
        """Return whether files of this year should hold the variable."""
        return (self.first_year is None or year >= self.first_year) and (
            self.last_year is None or year <= self.last_year)

    @property
    def is_wide(self) -> bool:
        """True when the RA name depends on a classification year (`gem{C}`)."""
        return "{C}" in self.name

    def ra_name(self, classification_year: int | None = None) -> str:
        """Return the variable's RA name, filling in the classification year if needed."""
        if self.is_wide:
            if classification_year is None:
                raise CatalogError(
                    f"variable '{self.key}' ({self.name}) is wide by classification year: "
                    "pass classification_year"
                )
            return self.name.replace("{C}", str(int(classification_year)))
        return self.name

    def fingerprint(self, classification_year: int | None = None) -> str:
        """Return a short hash of everything that changes how this variable is converted."""
        payload = json.dumps(
            [self.ra_name(classification_year).lower(), self.kind, self.codes,
             self.missing_codes, self.open_end, self.sentinels, self.negative_missing],
            sort_keys=True,
        )
        return hashlib.sha1(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DatasetSpec:
    """One RA dataset: its folder, file patterns, history and variables."""

    name: str
    theme: str
    folder: str
    files: tuple[str, ...]
    history: str
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    variables: dict[str, VariableSpec] = field(default_factory=dict)
    description: str = ""

    @property
    def relative_folder(self) -> Path:
        """Return the dataset folder relative to the data root."""
        return Path(self.theme) / self.folder

    def file_regexes(self) -> list[re.Pattern]:
        """Return compiled, case-insensitive regexes of the file-name patterns."""
        return [pattern_regex(p) for p in self.files]

    def column(self, key: str) -> VariableSpec:
        """Return the spec of a logical variable, with a clear error when unknown."""
        try:
            return self.variables[key]
        except KeyError:
            raise CatalogError(
                f"dataset {self.name} has no logical variable '{key}' in the catalog; "
                f"known: {sorted(self.variables) + sorted(self.keys)}"
            ) from None


def pattern_regex(pattern: str) -> re.Pattern:
    """Return the regex of a file-name pattern: {Y} a 4-digit year, {n} a version number."""
    parts = re.split(r"(\{Y\}|\{n\})", pattern)
    out = []
    for part in parts:
        if part == "{Y}":
            out.append(r"(?P<year>\d{4})")
        elif part == "{n}":
            out.append(r"(?P<version>\d+)")
        else:
            out.append(re.escape(part))
    if "{Y}" not in pattern or "{n}" not in pattern:
        raise CatalogError(f"file pattern '{pattern}' must contain both {{Y}} and {{n}}")
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE)


class Catalog:
    """The merged catalog: shipped entries overridden by a user catalog."""

    def __init__(self, raw: dict, sources: list[str]):
        self.raw = raw
        self.sources = sources
        defaults = raw.get("defaults", {})
        self.missing_codes = tuple(defaults.get("missing_codes", ["", "-"]))
        entries = raw.get("datasets", {})
        self.datasets: dict[str, DatasetSpec] = {
            name: self._parse_dataset(name, entry) for name, entry in entries.items()
        }

    def __getitem__(self, name: str) -> DatasetSpec:
        try:
            return self.datasets[name]
        except KeyError:
            raise CatalogError(
                f"dataset '{name}' is not in the catalog ({', '.join(self.sources)}); "
                f"known: {sorted(self.datasets)}"
            ) from None

    def __iter__(self):
        return iter(self.datasets.values())

    def __contains__(self, name: str) -> bool:
        return name in self.datasets

    def fingerprint(self) -> str:
        """Return a hash of the merged catalog, for provenance."""
        blob = json.dumps(self.raw, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()

    def _parse_dataset(self, name: str, entry: dict) -> DatasetSpec:
        where = f"catalog dataset [{name}] ({', '.join(self.sources)})"
        for required in ("theme", "folder", "files", "history"):
            if required not in entry:
                raise CatalogError(f"{where}: missing '{required}'")
        if entry["history"] not in HISTORIES:
            raise CatalogError(
                f"{where}: history = '{entry['history']}', expected one of {HISTORIES}"
            )
        files = entry["files"]
        if isinstance(files, str):
            files = [files]
        for pattern in files:
            pattern_regex(pattern)
        keys = {}
        for key, pair in (entry.get("keys") or {}).items():
            if not (isinstance(pair, list) and len(pair) == 2):
                raise CatalogError(
                    f"{where}: key '{key}' must be [RINPERSOONS-name, RINPERSOON-name], "
                    f"got {pair!r}"
                )
            keys[key] = (pair[0], pair[1])
        assumed = set(entry.get("assumed", []))
        variables = {}
        for key, spec in (entry.get("variables") or {}).items():
            if isinstance(spec, str):
                spec = {"name": spec, "kind": "code"}
            if "name" not in spec:
                raise CatalogError(f"{where}: variable '{key}' has no 'name'")
            kind = spec.get("kind", "code")
            if kind not in KINDS:
                raise CatalogError(
                    f"{where}: variable '{key}' has kind '{kind}', expected one of {KINDS}"
                )
            codes = spec.get("codes")
            variables[key] = VariableSpec(
                key=key,
                name=spec["name"],
                kind=kind,
                width=spec.get("width"),
                codes=tuple(codes) if codes is not None else None,
                missing_codes=tuple(spec.get("missing_codes", self.missing_codes)),
                open_end=spec.get("open_end"),
                sentinels=tuple(spec.get("sentinels", ())),
                negative_missing=bool(spec.get("negative_missing", False)),
                first_year=spec.get("first_year"),
                last_year=spec.get("last_year"),
                assumed=key in assumed,
            )
        return DatasetSpec(
            name=name,
            theme=entry["theme"],
            folder=entry["folder"],
            files=tuple(files),
            history=entry["history"],
            keys=keys,
            variables=variables,
            description=entry.get("description", ""),
        )


def _merge(base: dict, override: dict) -> dict:
    """Return base updated with override, recursively for tables."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"catalog file {path}: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog file {path}: not valid TOML ({exc})") from exc


def load_catalog(user: str | os.PathLike | None = None) -> Catalog:
    """Return the shipped catalog, overridden by a user catalog (argument or JEUGDKIT_CATALOG)."""
    raw = _read_toml(SHIPPED_CATALOG)
    sources = [str(SHIPPED_CATALOG)]
    if user is None:
        user = os.environ.get("JEUGDKIT_CATALOG") or None
    if user is not None:
        user_path = Path(user)
        raw = _merge(raw, _read_toml(user_path))
        sources.append(str(user_path))
    return Catalog(raw, sources)
