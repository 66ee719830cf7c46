"""Analysis defaults and output-control thresholds, in one place.

Every threshold the kit applies lives here. A user config (TOML) can tighten them, e.g.::

    [output_control]
    min_units = 100          # income figures

`Settings.load(path)` returns the defaults updated with that file.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from jeugdkit.errors import JeugdkitError


@dataclass(frozen=True)
class OutputControl:
    """Output-control rules of the CBS RA (analysis-spec.md, output control)."""

    min_units: int = 10
    """Every count and every statistic rests on at least this many units."""
    min_model_df: int = 10
    """Models need at least this many residual degrees of freedom."""
    max_dominance: float = 0.5
    """Magnitude tables: the largest contributor holds at most this share of a cell."""
    rounding_base: int | None = None
    """Round released counts to this base (None: no rounding)."""
    key_pattern: str = r"^\d{9}$"
    """Values that look like a person key block an export."""
    key_column_pattern: str = r"(?i)(rinpersoon|^rin$|^rin_|_rin$|persoon_?id|huishoudnr|rinobject)"
    """Column names that look like a linking key block an export."""


@dataclass(frozen=True)
class Analysis:
    """Defaults of the analyses (CBS definitions where CBS has one)."""

    age_min: int = 0
    age_max: int = 22
    age_groups: tuple[tuple[int, int], ...] = ((0, 3), (4, 11), (12, 17), (18, 22))
    person_code: str = "R"
    """RINPERSOONS value of a person registered in the BRP (the only ones that link to GBA)."""
    uitval_strict: tuple[str, ...] = ("03", "04")
    uitval_broad: tuple[str, ...] = ("02", "03", "04", "05")
    herhaald_beroep_lookback_years: int = 5
    transition_window_months: int = 12


@dataclass(frozen=True)
class Settings:
    """All settings of a run."""

    output_control: OutputControl = field(default_factory=OutputControl)
    analysis: Analysis = field(default_factory=Analysis)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Settings:
        """Return the defaults, updated with the sections of a user TOML file if given."""
        if path is None:
            path = os.environ.get("JEUGDKIT_SETTINGS")
        if not path:
            return cls()
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise JeugdkitError(f"settings file {path}: cannot read it ({exc})") from exc
        return cls().updated(data, source=str(path))

    def updated(self, data: dict, source: str = "settings") -> Settings:
        """Return a copy with the given {section: {field: value}} applied."""
        sections = {}
        for section, values in data.items():
            current = getattr(self, section, None)
            if current is None or not dataclasses.is_dataclass(current):
                raise JeugdkitError(
                    f"{source}: unknown settings section [{section}]; "
                    f"expected one of {[f.name for f in dataclasses.fields(self)]}"
                )
            known = {f.name for f in dataclasses.fields(current)}
            unknown = set(values) - known
            if unknown:
                raise JeugdkitError(
                    f"{source}: unknown setting(s) {sorted(unknown)} in [{section}]; "
                    f"expected some of {sorted(known)}"
                )
            values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
            sections[section] = dataclasses.replace(current, **values)
        return dataclasses.replace(self, **sections)


DEFAULT = Settings()
