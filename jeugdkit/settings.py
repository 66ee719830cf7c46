"""Analysis defaults and output-control thresholds, in one place.

Every threshold the kit applies lives here. A user config (TOML) can tighten them, e.g.::

    [output_control]
    min_units = 100          # income figures

`Settings.load(path)` returns the defaults updated with that file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from jeugdkit.errors import JeugdkitError


@dataclass(frozen=True)
class OutputControl:
    """Output-control rules of the CBS RA (docs/output-control.md)."""

    min_units: int = 10
    """Every count and every statistic rests on at least this many units."""
    min_model_df: int = 10
    """Models need at least this many residual degrees of freedom."""
    max_dominance: float = 0.5
    """Magnitude tables: the largest contributor holds at most this share of a cell."""
    rounding_base: int | None = None
    """Round released counts to this base (None: no rounding)."""
    key_pattern: str = r"(?<!\d)(?:\d{9}|\d{11})(?!\d)"
    """Values, labels and names containing a run of exactly 9 digits (RINPERSOON) or 11 digits
    (the kit's int64 person key, ``(ord(RINPERSOONS) << 30) | RINPERSOON``) block an export.
    Integral numbers are checked through their decimal form, so report money in thousands."""
    key_column_pattern: str = r"(?i)(rinpersoon|^rin$|^rin_|_rin$|persoon_?id|huishoudnr|rinobject)"
    """Column names that look like a linking key block an export."""
    protection_width: int | None = None
    """Secondary suppression: the interval [min, max] an attacker can derive by linear
    programming for a suppressed cell must be at least this wide (None: ``min_units``)."""
    complements: str = "optimal"
    """How secondary suppression chooses complements: ``optimal`` (the cheapest pattern by
    cost, value + 1 per cell, proved by cut generation over a MILP; the greedy pattern when
    the problem is too large or the proof does not finish within its limits) or ``greedy``."""
    suppress_sampling_zeros: bool = False
    """Treat a count of 0 that is not a structural zero as unsafe (CBS practice: 0 is safe)."""
    forbidden_statistics: tuple[str, ...] = ("min", "max", "minimum", "maximum", "minimaal",
                                             "maximaal", "range", "amin", "amax")
    """Statistic or column names that are refused outright (CBS: no minimum or maximum)."""
    total_label: str = "totaal"
    """Code of the total of a dimension in released tables."""


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
    # ---- trajectories and outcomes (jeugdkit.trajectories, docs/trajectories.md)
    herhaald_beroep_anchor: str = "periode"
    """StatLine herhaald beroep looks back `herhaald_beroep_lookback_years` from the period's
    first day (`periode`, CBS wording) or from each traject's start (`start`)."""
    imputed_end_from: int = 2020
    """From this year CBS imputes missing end dates (reason then empty: `onbekend`)."""
    duration_unknown_end: str = "gebeurtenis"
    """Kaplan-Meier: a closed traject with end reason onbekend from `imputed_end_from` on
    (possibly a CBS-imputed end) is an event (`gebeurtenis`) or censored (`gecensureerd`)."""
    duration_quantiles: tuple[int, ...] = (25, 50, 75)
    """Kaplan-Meier duration percentiles released (never 0 or 100: no minimum or maximum)."""
    # ---- population and linked background (jeugdkit.population, docs/population.md)
    hulpvorm_groups: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("wijkteam", ("01",)),
        ("overig_zonder_verblijf", ("02", "03", "04")),
        ("met_verblijf", ("11", "12", "13", "14")),
    )
    """JGDHHULPVORM codes per hulpvorm group (CBS); other codes get the group `onbekend`."""
    one_parent_typhh: tuple[str, ...] = ("6",)
    """TYPHH codes of a one-parent household."""
    bijstand_secm: tuple[str, ...] = ("22",)
    """SECM codes that count as bijstand for a parent on the peildatum."""
    education_levels: tuple[tuple[str, str], ...] = (("1", "laag"), ("2", "middelbaar"),
                                                     ("3", "hoog"))
    """First digit of the OPLNIVSOI code -> level, lowest first (the higher parent counts)."""
    special_school_types: tuple[str, ...] = ("SBO", "SO")
    """WPOTYPEPO codes of speciaal (basis)onderwijs."""
    low_income_percent: float = 100.0
    """Below the lage-inkomensgrens: INHARMLAG below this percentage."""
    income_groups: int = 5
    """Income percentile 1-100 -> this many groups (5: quintiles `1`-`5`)."""
    migration_generations: tuple[tuple[str, str], ...] = (
        ("0", "nederlandse_achtergrond"), ("1", "eerste_generatie"), ("2", "tweede_generatie"))
    """GBAGENERATIE code -> migratieachtergrond category."""
    unknown_label: str = "onbekend"
    """The explicit category of an unknown background value."""
    # ---- indicators and standard tables (jeugdkit.tables, docs/tables.md)
    minor_age_max: int = 17
    """Indicators "0-17": ages up to and including this one."""
    jeugdreclassering_age_min: int = 12
    """Indicator jeugdreclassering: ages from this one up to age_max (12-22)."""
    size_classes: tuple[int, ...] = (20_000, 50_000, 100_000, 250_000)
    """Comparison group `grootte`: class bounds on inwoners (lower bound inclusive)."""
    optional_sources: tuple[str, ...] = (
        "GBAHUISHOUDENSBUS", "KINDOUDERTAB", "HOOGSTEOPLTAB", "INHATAB",
        "KOPPELPERSOONHUISHOUDEN", "SECMBUS", "INSCHRWPOTAB", "JGDBESCHERMBUS",
        "JGDRECLASSERINGBUS")
    """Datasets whose absence (or absent year) gives an `onbekend`/NA column and a note instead of
    an error. GBAPERSOONTAB, GBAADRESOBJECTBUS, VSLGWBTAB and JGDHULPBUS are always required."""
    # ---- trap 2: the deep dive (jeugdkit.deepdive, docs/deepdive.md)
    deepdive_outcome: str = "jeugdhulp"
    """Default outcome of the deep dive (a boolean column of the population frame)."""
    deepdive_covariates: tuple[str, ...] = ("eenouder", "bijstand", "inkomen_kwintiel",
                                            "speciaal_onderwijs", "opleiding_ouders")
    """Background of the full-composition model, on top of the age x sex cells."""
    deepdive_references: tuple[tuple[str, str], ...] = (
        ("eenouder", "nee"), ("bijstand", "nee"), ("inkomen_kwintiel", "5"),
        ("speciaal_onderwijs", "nee"), ("opleiding_ouders", "hoog"),
        ("migratieachtergrond", "nederlandse_achtergrond"), ("typhh", "5"))
    """Reference level of each covariate (the others get a dummy)."""
    oe_interval: float = 0.95
    """Coverage of the exact Poisson interval of O/E."""
    funnel_limits: tuple[float, ...] = (0.95, 0.998)
    """Funnel-plot control limits (two-sided coverage)."""
    funnel_signal: float = 0.998
    """A gemeente gets signaal hoger/lager outside the funnel limit of this coverage (the
    99.8% "alarm" limit: at 95% about 17 of 342 gemeenten would signal by chance)."""
    funnel_winsor: float = 0.1
    """Share of z-scores winsorised at each end when estimating over-dispersion."""
    funnel_overdispersion_alpha: float = 0.05
    """The over-dispersion test's level: below it the funnel limits are widened."""
    deepdive_cluster: str = "huishouden"
    """Clusters for standard errors and the bootstrap: `huishouden` or `gemeentecode`."""
    bootstrap_replicates: int = 200
    """Replicates of the decomposition's cluster bootstrap."""
    decompose_cells: tuple[str, ...] = ("leeftijdsgroep", "geslacht", "typhh")
    """Cells of the Kitagawa decomposition."""
    panel_lag_years: int = 1
    """Panel: wijkteam share in Y - lag against the met-verblijf share in Y."""
    on_bad_value: str = "raise"
    """A value the contract does not allow (a date 20231345, a key that is not digits):
    ``raise`` stops with the file, variable and examples; ``missing`` reads it as missing and
    counts it (reconciliation, notes). Also ``--on-bad-value`` and JEUGDKIT_ON_BAD_VALUE."""


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
