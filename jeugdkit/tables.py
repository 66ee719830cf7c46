"""Benchmark indicators and standard tables of a period (trap 1), and their release.

::

    pop = build_population(Reader("G:/"), "2023")
    indicators(pop)                                   # per gemeente and NL, with teller/noemer
    instroom(pop)                                     # verwijzer x hulpvorm_groep (trajecten)
    gebruik(pop)                                      # leeftijdsgroep x geslacht x hulpvorm_groep
    stroom(pop)                                       # beginstand/instroom/uitstroom/eindstand
    groups = comparison_group(read_reference(path), "0363", by="stedelijkheid")
    release_tables(pop, "export/", groups=groups)     # through one ExportSession

Definitions: docs/tables.md. In unit ``jongeren`` a cell counts distinct persons: a youth counts
once in every cell where they have a qualifying traject, and once in a total, so totals are not
sums of cells. In unit ``trajecten`` every traject counts once and totals are sums.
"""

from __future__ import annotations

import os
import sys
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.population import IN_POPULATION
from jeugdkit.scope import GROUP, NATIONAL, Scope
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.spells import within

UNITS = ("jongeren", "trajecten")
STROOM = ("beginstand", "instroom", "uitstroom", "eindstand")
REFERENCE_COLUMNS = ("gemeentecode", "gemeentenaam", "inwoners", "stedelijkheid", "jeugdregio",
                     "provincie")
INDICATORS = (
    # (name, numerator, denominator)
    ("pct_jeugdhulp", "jeugdhulp_0_17", "jongeren_0_17"),
    ("pct_met_verblijf", "met_verblijf_0_17", "jeugdhulp_0_17"),
    ("pct_jeugdbescherming", "jeugdbescherming_0_17", "jongeren_0_17"),
    ("pct_jb_met_verblijf", "jb_met_verblijf_0_17", "jeugdbescherming_0_17"),
    ("pct_jeugdreclassering", "jeugdreclassering_12_22", "jongeren_12_22"),
)
COUNTS = ("jongeren_0_17", "jeugdhulp_0_17", "met_verblijf_0_17", "jeugdbescherming_0_17",
          "jb_met_verblijf_0_17", "jongeren_12_22", "jeugdreclassering_12_22")
INDICATOR_COLUMNS = ("jongeren_0_17", "jeugdhulp_0_17", "pct_jeugdhulp", "met_verblijf_0_17",
                     "pct_met_verblijf", "jeugdbescherming_0_17", "pct_jeugdbescherming",
                     "jb_met_verblijf_0_17", "pct_jb_met_verblijf", "jongeren_12_22",
                     "jeugdreclassering_12_22", "pct_jeugdreclassering")


# ----------------------------------------------------------------------------- helpers
def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Return a boolean column as numpy (NA, an absent source, counts as False)."""
    return frame[column].fillna(False).to_numpy(dtype=bool)


def _person_counts(frame: pd.DataFrame, a) -> pd.DataFrame:
    """Return one row per youth with the 0/1 indicator counts."""
    age = frame["leeftijd"].to_numpy()
    minor = age <= a.minor_age_max
    older = age >= a.jeugdreclassering_age_min
    hulp, verblijf = _flag(frame, "jeugdhulp"), _flag(frame, "jeugdhulp_met_verblijf")
    jb = _flag(frame, "jeugdbescherming")
    return pd.DataFrame({
        "gemeentecode": frame["gemeentecode"].astype(str).to_numpy(),
        "jongeren_0_17": minor,
        "jeugdhulp_0_17": minor & hulp,
        "met_verblijf_0_17": minor & hulp & verblijf,
        "jeugdbescherming_0_17": minor & jb,
        "jb_met_verblijf_0_17": minor & jb & verblijf,
        "jongeren_12_22": older,
        "jeugdreclassering_12_22": older & _flag(frame, "jeugdreclassering"),
    }).astype({c: np.int64 for c in COUNTS})


def _add_rates(out: pd.DataFrame) -> pd.DataFrame:
    """Add the percentages; NA where the numerator or denominator is NA or the denominator 0."""
    for name, num, den in INDICATORS:
        n = pd.to_numeric(out[num], errors="coerce").astype(float)
        d = pd.to_numeric(out[den], errors="coerce").astype(float)
        out[name] = (100 * n / d.where(d > 0)).round(2)
    return out


def _rows_with_groups(counts: pd.DataFrame, groups: dict | None) -> pd.DataFrame:
    """Return counts per gemeente, NL and (pooled) comparison group."""
    per = counts.groupby("gemeentecode", sort=True)[list(COUNTS)].sum().reset_index()
    nl = counts[list(COUNTS)].sum().to_frame().T.assign(gemeentecode=NATIONAL)
    parts = [per.assign(groep=""), nl.assign(groep="")]
    for label, codes in (groups or {}).items():
        sel = counts[counts["gemeentecode"].isin([str(c) for c in codes])]
        row = sel[list(COUNTS)].sum().to_frame().T
        parts.append(row.assign(gemeentecode="", groep=str(label)))
    out = pd.concat(parts, ignore_index=True)
    if not groups:
        out = out.drop(columns="groep")
    return out


def indicators(pop, groups: dict | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """Return the benchmark indicators per gemeente and NL (and per comparison group).

    One row per ``gemeentecode`` (4 digits, or ``NL``); with ``groups`` ({label: gemeentecodes},
    see :func:`comparison_group`) one more row per group (``groep`` = label, gemeentecode
    empty). Each percentage stands beside its numerator and denominator; a group's rate is
    over its pooled population, not a mean of its gemeenten's rates. Internal: release with
    :func:`release_tables`.

    Example
    -------
    >>> indicators(pop).set_index("gemeentecode").loc["NL", "pct_jeugdhulp"]
    """
    a = (settings or DEFAULT).analysis
    out = _rows_with_groups(_person_counts(pop.frame, a), groups)
    out = _add_rates(out)
    first = ["gemeentecode", "groep"] if groups else ["gemeentecode"]
    return out[first + list(INDICATOR_COLUMNS)]


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise JeugdkitError(f"unit {unit!r}: expected one of {UNITS}")


def period_trajecten(pop, gemeente: str | None = None) -> pd.DataFrame:
    """Return the trajecten of the population in the period, with the person's columns."""
    t = pop.trajecten
    t = t[(t["in_periode"].fillna(False).to_numpy(dtype=bool)
           & (t["koppeling"].astype(str) == IN_POPULATION).to_numpy())]
    persons = pop.frame[["rin", "gemeentecode", "leeftijdsgroep", "geslacht"]].copy()
    persons["gemeentecode"] = persons["gemeentecode"].astype(str)
    t = t.drop(columns=[c for c in ("gemeentecode", "leeftijdsgroep", "geslacht")
                        if c in t.columns])
    t = t.merge(persons, on="rin", how="inner", sort=False)
    if gemeente is not None:
        t = t[t["gemeentecode"] == str(gemeente)]
    for col in ("hulpvorm", "hulpvorm_groep", "verwijzer", "leeftijdsgroep", "geslacht"):
        if col in t.columns:
            t[col] = t[col].astype(object).where(t[col].notna(), DEFAULT.analysis.unknown_label
                                                 ).astype(str)
    return t.reset_index(drop=True)


def _tabulate(data: pd.DataFrame, dims: list[str], unit: str, total: str,
              levels: dict | None = None) -> pd.DataFrame:
    """Return counts for every cell and margin (dims at `total`), distinct rin per cell in unit
    jongeren, rows in unit trajecten."""
    parts = []
    for keep in product([True, False], repeat=len(dims)):
        kept = [d for d, k in zip(dims, keep) if k]
        if kept:
            g = data.groupby(kept, sort=True, observed=True)
            n = g["rin"].nunique() if unit == "jongeren" else g.size()
            part = n.rename("aantal").reset_index()
        else:
            n = data["rin"].nunique() if unit == "jongeren" else len(data)
            part = pd.DataFrame({"aantal": [n]})
        for d, k in zip(dims, keep):
            if not k:
                part[d] = total
        parts.append(part[dims + ["aantal"]])
    out = pd.concat(parts, ignore_index=True)
    # every level combination present, absent ones as 0
    codes = []
    for d in dims:
        present = [str(v) for v in (levels or {}).get(d, [])]
        present += sorted(c for c in out[d].astype(str).unique() if c not in present and
                          c != total)
        codes.append(present + [total])
    full = pd.DataFrame(list(product(*codes)), columns=dims)
    out[dims] = out[dims].astype(str)
    out = full.merge(out, on=dims, how="left")
    out["aantal"] = out["aantal"].fillna(0).astype("Int64")
    return out


def _groep_levels(settings: Settings) -> list[str]:
    return [g for g, _ in settings.analysis.hulpvorm_groups]


def instroom(pop, unit: str = "trajecten", gemeente: str | None = None,
             settings: Settings | None = None) -> pd.DataFrame:
    """Return instroom (trajecten begun in the period) by verwijzer x hulpvorm_groep.

    Columns verwijzer (code or ``totaal``), hulpvorm_groep (``totaal``, ``wijkteam``,
    ``overig_zonder_verblijf``, ``met_verblijf``), aantal. ``unit="jongeren"`` counts distinct
    youths per cell (totals are then not sums of cells).

    Example
    -------
    >>> instroom(pop).query("verwijzer == 'totaal' and hulpvorm_groep == 'totaal'")
    """
    settings = settings or DEFAULT
    _check_unit(unit)
    t = period_trajecten(pop, gemeente)
    t = t[within(t["begin"], pop.period.peildatum, pop.period.einde)]
    total = settings.output_control.total_label
    return _tabulate(t, ["verwijzer", "hulpvorm_groep"], unit, total,
                     {"hulpvorm_groep": _groep_levels(settings)})


def gebruik(pop, unit: str = "jongeren", gemeente: str | None = None,
            settings: Settings | None = None) -> pd.DataFrame:
    """Return jeugdhulp use in the period by leeftijdsgroep x geslacht x hulpvorm_groep.

    Example
    -------
    >>> gebruik(pop).query("hulpvorm_groep == 'totaal'")
    """
    settings = settings or DEFAULT
    _check_unit(unit)
    t = period_trajecten(pop, gemeente)
    total = settings.output_control.total_label
    return _tabulate(t, ["leeftijdsgroep", "geslacht", "hulpvorm_groep"], unit, total,
                     {"hulpvorm_groep": _groep_levels(settings)})


def stroom_flags(t: pd.DataFrame, period) -> dict[str, np.ndarray]:
    """Return the CBS stock-and-flow membership of trajecten overlapping the period.

    beginstand: begun before the peildatum (and not ended before it); instroom: begun in the
    period; uitstroom: ended in the period; eindstand: not ended by the period's last day
    (ends later, or open). Every traject of the period is in exactly one of beginstand and
    instroom, and in exactly one of uitstroom and eindstand, so in unit trajecten
    eindstand = beginstand + instroom - uitstroom.
    """
    begin, eind = t["begin"], t["eind"]
    before = (begin < period.peildatum).to_numpy()
    ended = np.asarray(within(eind, period.peildatum, period.einde), dtype=bool)
    return {"beginstand": before, "instroom": ~before, "uitstroom": ended,
            "eindstand": ~ended}


def stroom(pop, unit: str = "trajecten", gemeente: str | None = None,
           settings: Settings | None = None) -> pd.DataFrame:
    """Return stock and flow by hulpvorm (CBS definitions, see :func:`stroom_flags`).

    Columns hulpvorm (code or ``totaal``), beginstand, instroom, uitstroom, eindstand. In unit
    jongeren a youth counts once per hulpvorm and once in ``totaal`` for each stroom.

    Example
    -------
    >>> stroom(pop).set_index("hulpvorm").loc["totaal"]
    """
    settings = settings or DEFAULT
    _check_unit(unit)
    total = settings.output_control.total_label
    t = period_trajecten(pop, gemeente)
    flags = stroom_flags(t, pop.period)
    columns = {}
    for name, mask in flags.items():
        sub = t[mask]
        g = sub.groupby("hulpvorm", sort=True)
        per = g["rin"].nunique() if unit == "jongeren" else g.size()
        per[total] = sub["rin"].nunique() if unit == "jongeren" else len(sub)
        columns[name] = per
    out = pd.DataFrame(columns).fillna(0).astype("Int64")
    codes = sorted(c for c in out.index if c != total) + [total]
    out = out.reindex(codes).rename_axis("hulpvorm").reset_index()
    return out[["hulpvorm", *STROOM]]


# ----------------------------------------------------------------------------- comparison
def read_reference(path) -> pd.DataFrame:
    """Return the gemeente reference table (gemeentecode as 4-digit strings)."""
    path = Path(path)
    try:
        ref = pd.read_csv(path, dtype={"gemeentecode": str, "jeugdregio": str,
                                       "stedelijkheid": str, "provincie": str})
    except OSError as exc:
        raise JeugdkitError(f"gemeente reference {path}: cannot read it ({exc}); pass "
                            "--reference or put gemeenten.csv beside the data root") from exc
    missing = [c for c in REFERENCE_COLUMNS if c not in ref.columns]
    if missing:
        raise JeugdkitError(f"gemeente reference {path}: columns {missing} missing; expected "
                            f"{list(REFERENCE_COLUMNS)}")
    ref["gemeentecode"] = ref["gemeentecode"].str.zfill(4)
    return ref


REFERENCE_ENV = "JEUGDKIT_REFERENCE"
"""The gemeente reference CSV when no ``--reference`` is given (inside the RA the data root's
parent is the read-only data drive, so the file must be elsewhere: on the project drive)."""


def default_reference_path(data_root) -> Path:
    """Return the default gemeente reference file: ``JEUGDKIT_REFERENCE``, else gemeenten.csv
    beside the data root."""
    if os.environ.get(REFERENCE_ENV, "").strip():
        return Path(os.environ[REFERENCE_ENV].strip())
    return Path(data_root).resolve().parent / "gemeenten.csv"


def size_class(inwoners, settings: Settings | None = None) -> pd.Series:
    """Return the size class label of each inwoners value, e.g. ``20000-49999``."""
    bounds = list((settings or DEFAULT).analysis.size_classes)
    edges = [0, *bounds]
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges, edges[1:])] + [f"{edges[-1]}+"]
    idx = np.searchsorted(np.asarray(bounds), np.asarray(inwoners, dtype=float), side="right")
    index = inwoners.index if isinstance(inwoners, pd.Series) else None
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=index)


def comparison_group(ref: pd.DataFrame, gemeente: str, by="stedelijkheid",
                     settings: Settings | None = None) -> dict[str, list[str]]:
    """Return {label: gemeentecodes} of the gemeenten like `gemeente` (itself included).

    ``by``: ``stedelijkheid``, ``grootte`` (size class on inwoners, see
    ``Analysis.size_classes``), ``jeugdregio`` or a list of them (all must match).

    Example
    -------
    >>> comparison_group(ref, "0363", by="grootte")
    {'grootte=250000+': ['0344', '0363', ...]}
    """
    keys = [by] if isinstance(by, str) else list(by)
    ref = ref.copy()
    ref["grootte"] = size_class(ref["inwoners"], settings).to_numpy()
    allowed = ("stedelijkheid", "grootte", "jeugdregio")
    bad = [k for k in keys if k not in allowed]
    if bad:
        raise JeugdkitError(f"comparison group by {bad}: expected some of {allowed}")
    code = str(gemeente).zfill(4)
    row = ref[ref["gemeentecode"] == code]
    if row.empty:
        raise JeugdkitError(f"gemeente {code} is not in the gemeente reference table; check the "
                            "code and the classification year of gemeenten.csv")
    mask = np.ones(len(ref), dtype=bool)
    parts = []
    for k in keys:
        value = row[k].iloc[0]
        mask &= (ref[k] == value).to_numpy()
        parts.append(f"{k}={value}")
    return {",".join(parts): sorted(ref.loc[mask, "gemeentecode"])}


# ----------------------------------------------------------------------------- release
YES, NO = "ja", "nee"
UNKNOWN_GROUP = "groep_onbekend"
"""Dimension code of the hulpvorm group `onbekend` in the linked trajecten tables (a hulpvorm
code `onbekend` sits below it, so the two need different codes)."""


def nested_codes(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Return the codes of an indicator with a part: ``nee`` | ja -> {``zonder_verblijf``,
    ``met_verblijf``} in one dimension, so that a small met-verblijf cell is paired with its
    zonder-verblijf sibling, not with the total."""
    return np.where(~outer, NO, np.where(inner, "met_verblijf", "zonder_verblijf"))


def _yn(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, YES, NO)


MEMBER = "_lid"
"""The column with each unit's own gemeentecode, where the gemeentecode column holds a scope's
leaves: the session puts the table over the members in the ledger too (``members=``)."""


def _aggregate(data: pd.DataFrame, dims: list[str]) -> pd.DataFrame:
    """Return one row per combination with its count (freq_table's ``count=`` input); with a
    :data:`MEMBER` column, one row per combination and member."""
    by = [*dims, MEMBER] if MEMBER in data.columns else dims
    return data.groupby(by, sort=False, observed=True).size().rename("aantal").reset_index()


def _with_members(data: pd.DataFrame, scope: Scope, codes) -> pd.DataFrame:
    """Return ``data`` with a :data:`MEMBER` column (each unit's own gemeentecode, ``codes``)
    when the scope's leaves include composites (:meth:`Scope.members`), else unchanged."""
    members = scope.members(pd.Series(codes))
    if members is None:
        return data
    (_, own), = members.items()
    return data.assign(**{MEMBER: own})


def _members(data: pd.DataFrame) -> dict | None:
    """Return freq_table's ``members=`` for data with a :data:`MEMBER` column."""
    return {"gemeentecode": MEMBER} if MEMBER in data.columns else None


def _publish_where(scope: Scope, rule):
    """Return a publish function: the scope's rows and the cells `rule(frame)` allows."""
    def publish(cells: pd.DataFrame) -> np.ndarray:
        return scope.published(cells) & np.asarray(rule(cells), dtype=bool)
    return publish


def _at(cells: pd.DataFrame, **codes) -> np.ndarray:
    m = np.ones(len(cells), dtype=bool)
    for d, v in codes.items():
        m &= (cells[d].astype(str) == v).to_numpy()
    return m


class _Release:
    """The trap-1 release of one population: every table through one ExportSession.

    Populations (docs/tables.md, "Release"): the 0-17s (the jeugdhulp and jeugdbescherming
    indicator tables, protected jointly), the 12-22s (jeugdreclassering), the wijk versions of
    both, ``trajecten-<period>`` (trajecten overlapping the period: gebruik and stroom in unit
    trajecten, linked through their shared margins), the trajecten begun in the period
    (instroom), and in unit jongeren one population per table (the youths with that hulpvorm
    group, verwijzer or stroom).
    """

    INDICATOR_TABLES = ("jeugdhulp", "jeugdbescherming", "jeugdreclassering")

    def __init__(self, pop, run, scope: Scope, settings: Settings):
        self.pop, self.run, self.scope, self.settings = pop, run, scope, settings
        self.total = settings.output_control.total_label
        self.label = pop.period.label
        self.p_trajecten = f"trajecten-{self.label}"
        unknown = settings.analysis.unknown_label
        f = pop.frame

        def text(col):
            return f[col].astype(object).where(f[col].notna(), unknown).astype(str).to_numpy()

        self.persons = pd.DataFrame({
            "rin": f["rin"].to_numpy(),
            "gemeente": f["gemeentecode"].astype(str).to_numpy(),
            "wijk": text("wijkcode") if "wijkcode" in f.columns else unknown,
            "leeftijdsgroep": text("leeftijdsgroep"),
            "geslacht": text("geslacht"),
        })
        self.age = f["leeftijd"].to_numpy()
        self.flags = {name: _flag(f, name) for name in
                      ("jeugdhulp", "jeugdhulp_wijkteam", "jeugdhulp_overig_zonder_verblijf",
                       "jeugdhulp_met_verblijf", "jeugdbescherming", "jeugdreclassering")}
        # a maatregel flag that is NA for everyone: its dataset is absent or unusable, so its
        # indicator is unknown (never 0%) and its table is not made
        self.absent = {name for name in ("jeugdbescherming", "jeugdreclassering")
                       if len(f) and f[name].isna().all()}
        self.age_levels = [f"{lo}-{hi}" for lo, hi in settings.analysis.age_groups]
        self.groups = [g for g, _ in settings.analysis.hulpvorm_groups]
        self.specs: list[dict] = []

    # -- youth-count tables -----------------------------------------------------------------
    def _geo(self, scope: Scope, wijk: bool):
        """Return (leaf codes per youth, hierarchies, levels, rows-to-publish function)."""
        p = self.persons
        if wijk:
            own = (p["gemeente"] == scope.gemeente).to_numpy()
            geo = np.where(own, p["wijk"].to_numpy(dtype=object),
                           scope.leaves(p["gemeente"]).to_numpy())
            wijken = sorted(set(p.loc[own, "wijk"]))
            hier = {"gemeentecode": {**{w: scope.gemeente for w in wijken},
                                     **(scope.hierarchy() or {}).get("gemeentecode", {})}}

            def rows(cells):
                return cells["gemeentecode"].astype(str).isin(wijken).to_numpy()
            return geo, hier, {}, rows
        geo = scope.leaves(p["gemeente"]).to_numpy()
        return geo, dict(scope.hierarchy(pd.unique(geo)) or {}), scope.levels(), \
            scope.published

    def youth_spec(self, mask: np.ndarray, name: str, what: str, *, ages: bool = False,
                   sex: bool = False) -> None:
        """Queue a table of the youths with `mask`: gemeentecode [x leeftijdsgroep x geslacht].

        Its own population (the youths with `mask`): a youth counts once per cell.
        """
        geo, hier, levels, rows = self._geo(self.scope, False)
        p = self.persons
        data = _with_members(pd.DataFrame({"gemeentecode": geo}), self.scope,
                             p["gemeente"].to_numpy())
        dims = ["gemeentecode"]
        if ages:
            data["leeftijdsgroep"] = p["leeftijdsgroep"].to_numpy()
            levels = {**levels, "leeftijdsgroep": self.age_levels}
            dims.append("leeftijdsgroep")
        if sex:
            data["geslacht"] = p["geslacht"].to_numpy()
            levels = {**levels, "geslacht": ["1", "2"]}
            dims.append("geslacht")
        agg = _aggregate(data[mask], dims)
        self.specs.append(dict(
            data=agg, dims=dims, count="aantal", name=name,
            unit="jongeren", population=f"{name}-{self.label}", hierarchies=hier,
            levels=levels, description=what, publish=rows, members=_members(agg)))

    def indicator_specs(self, scope: Scope, prefix: str, wijk: bool = False) -> None:
        """Queue the indicator tables: gemeentecode x flag x flag over the 0-17s (one
        population: protected jointly) and gemeentecode x flag over the 12-22s."""
        geo, hier, levels, rows = self._geo(scope, wijk)
        f = self.flags
        minor = self.age <= self.settings.analysis.minor_age_max
        older = self.age >= self.settings.analysis.jeugdreclassering_age_min
        # the wijk tables count the same youths as the gemeente tables (wijken sit under their
        # gemeente): one population, protected together, so a gemeente with one wijk never
        # shows in its wijk row what its own row suppresses
        pop0 = f"jongeren-0-17-{self.label}"
        pop12 = f"jongeren-12-22-{self.label}"
        verblijf = f["jeugdhulp"] & f["jeugdhulp_met_verblijf"]

        nest = {"zonder_verblijf": YES, "met_verblijf": YES}
        tables = [
            (minor, pop0, "jeugdhulp", nested_codes(f["jeugdhulp"], verblijf), nest,
             "0-17: youths, with jeugdhulp (ja), of whom met verblijf"),
            (minor, pop0, "jeugdbescherming",
             nested_codes(f["jeugdbescherming"], f["jeugdbescherming"] & verblijf), nest,
             "0-17: with jeugdbescherming (ja), of whom also jeugdhulp met verblijf"),
            (older, pop12, "jeugdreclassering", _yn(f["jeugdreclassering"]), {},
             "12-22: youths, with jeugdreclassering"),
        ]
        for sel, population, name, codes, nesting, what in tables:
            if name in self.absent:
                continue
            data = _with_members(pd.DataFrame({"gemeentecode": geo[sel], name: codes[sel]}),
                                 scope, self.persons["gemeente"].to_numpy()[sel])
            dims = ["gemeentecode", name]
            leaves = [NO, *nesting] if nesting else [YES, NO]
            agg = _aggregate(data, dims)
            self.specs.append(dict(
                data=agg, dims=dims, count="aantal", members=_members(agg),
                name=f"{prefix}_{name}", unit="jongeren", population=population,
                hierarchies={**hier, **({name: nesting} if nesting else {})},
                levels={**levels, name: leaves}, description=f"indicator counts {what}",
                publish=rows))

    def release(self) -> dict[str, pd.DataFrame]:
        """Suppress every queued youth table jointly; return them by name."""
        names = [s["name"] for s in self.specs]
        tables = self.run.freq_tables(self.specs) if self.specs else []
        self.specs = []
        return dict(zip(names, tables))

    def indicators(self, tables: dict, prefix: str, column: str = "gemeentecode"
                   ) -> pd.DataFrame:
        """Return the indicator frame (one row per published gemeente) from released tables."""
        tot = self.total
        out = indicator_counts(tables, prefix, tot)
        out.index = out.index.astype(str).where(out.index.astype(str) != tot, NATIONAL)
        out = out.rename_axis(column).reset_index()
        for c in COUNTS:
            out[c] = out[c].astype("Int64")
        out = _add_rates(out)
        return out[[column, *INDICATOR_COLUMNS]]

    def youths_with(self, t: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
        """Return a per-youth mask: the youth has at least one traject of `t[mask]`."""
        rins = pd.unique(t.loc[mask, "rin"])
        return self.persons["rin"].isin(rins).to_numpy()

    # -- trajecten ----------------------------------------------------------------------------
    def trajecten(self) -> pd.DataFrame:
        """Return the period's trajecten with the youth's gemeente leaf and group codes."""
        t = period_trajecten(self.pop)
        t["gemeente"] = t["gemeentecode"].astype(str)
        t["gemeentecode"] = self.scope.leaves(t["gemeente"]).to_numpy()
        unknown = self.settings.analysis.unknown_label
        t["groep"] = t["hulpvorm_groep"].replace(unknown, UNKNOWN_GROUP)
        flags = stroom_flags(t, self.pop.period)
        t["start"] = np.where(flags["instroom"], "in", "voor")
        t["afloop"] = np.where(flags["uitstroom"], "in", "na")
        return t


def indicator_counts(tables: dict, prefix: str, total: str) -> pd.DataFrame:
    """Return the indicator counts (:data:`COUNTS`) by gemeentecode from the released
    indicator tables ``<prefix>_jeugdhulp``, ``_jeugdbescherming``, ``_jeugdreclassering``
    (an absent table: unknown for every gemeente)."""
    def pick(name, **codes) -> pd.Series:
        t = tables.get(f"{prefix}_{name}")
        if t is None:
            return pd.Series(dtype="Int64")
        return t[_at(t, **codes)].set_index("gemeentecode")["aantal"]

    return pd.DataFrame({
        "jongeren_0_17": pick("jeugdhulp", jeugdhulp=total),
        "jeugdhulp_0_17": pick("jeugdhulp", jeugdhulp=YES),
        "met_verblijf_0_17": pick("jeugdhulp", jeugdhulp="met_verblijf"),
        "jeugdbescherming_0_17": pick("jeugdbescherming", jeugdbescherming=YES),
        "jb_met_verblijf_0_17": pick("jeugdbescherming", jeugdbescherming="met_verblijf"),
        "jongeren_12_22": pick("jeugdreclassering", jeugdreclassering=total),
        "jeugdreclassering_12_22": pick("jeugdreclassering", jeugdreclassering=YES),
    })


def _rename_group(frame: pd.DataFrame, column: str, unknown: str) -> pd.DataFrame:
    frame[column] = frame[column].astype(str).replace(UNKNOWN_GROUP, unknown)
    return frame


def _declare_relations(run, period, total: str, gebruik=None, instroom=None,
                       stroom=None) -> None:
    """Declare in the run's log how the youth populations of the period relate (see
    ExportSession.declare_relation), so that an audit over several outputs links them.

    A youth is in the gebruik table of every hulpvorm group they have a traject of, and in
    the total when in any: the groups are (overlapping) parts of the total. Likewise instroom
    per verwijzer and per group, stroom per hulpvorm, and the gebruik total with the stroom
    totals (every traject of the period is in beginstand or instroom, and in uitstroom or
    eindstand). The stroom instroom total and the instroom total count the same youths.

    A first half-year has the year's peildatum, so the same youths with the same gemeente,
    age and sex; its trajecten are the year's that overlap the half: each of its populations
    is within the year's of the same name, except eindstand (a traject ending in the second
    half is in the first half's eindstand, not the year's). A second half-year has its own
    peildatum (youths who moved, aged or were born by 1 July): no cellwise relation holds,
    and none is declared.
    """
    label = period.label
    names: list[str] = []

    def parts(whole: str, members: list[str]) -> None:
        if members:
            run.declare_relation("parts", whole=f"{whole}-{label}", unit="jongeren",
                                 parts=[f"{m}-{label}" for m in members], exclusive=False)

    if gebruik is not None:
        parts(f"gebruik_{total}", [f"gebruik_{g}" for g in gebruik])
        names += [f"gebruik_{g}" for g in [*gebruik, total]]
    if instroom is not None:
        verwijzers, groups = instroom
        for v in [*verwijzers, total]:
            parts(f"instroom_{v}_{total}", [f"instroom_{v}_{g}" for g in groups])
        for g in [*groups, total]:
            parts(f"instroom_{total}_{g}", [f"instroom_{v}_{g}" for v in verwijzers])
        names += [f"instroom_{v}_{g}" for v in [*verwijzers, total] for g in [*groups, total]]
    if stroom is not None:
        for name in STROOM:
            parts(f"stroom_{name}_{total}", [f"stroom_{name}_{h}" for h in stroom])
        names += [f"stroom_{name}_{h}" for h in [*stroom, total] for name in STROOM
                  if name != "eindstand"]
        if gebruik is not None:
            parts(f"gebruik_{total}", [f"stroom_beginstand_{total}", f"stroom_instroom_{total}"])
            parts(f"gebruik_{total}", [f"stroom_uitstroom_{total}", f"stroom_eindstand_{total}"])
        if instroom is not None:
            run.declare_relation("alias", population=f"stroom_instroom_{total}-{label}",
                                 same_as=f"instroom_{total}_{total}-{label}", unit="jongeren")
    if period.half == 1:
        for name in names:
            run.declare_relation("within", part=f"{name}-{label}",
                                 whole=f"{name}-{period.year}", unit="jongeren")


def release_tables(pop, out, *, scope: Scope | None = None, groups: dict | None = None,
                   gemeente: str | None = None, unit: str | None = None,
                   settings: Settings | None = None, run_name: str | None = None,
                   wijken: bool = True, figures: bool = True,
                   run_timestamp: str | None = None, run=None,
                   ledger=None) -> dict[str, pd.DataFrame]:
    """Release the trap-1 indicators and standard tables through one ExportSession.

    ``scope`` (or ``gemeente`` and ``groups``, see :class:`jeugdkit.scope.Scope`): which
    gemeenten the files show: every gemeente and NL, or one gemeente, its comparison group
    (``gemeentecode`` = ``groep``) and NL. `unit` overrides the default unit of the standard
    tables (instroom and stroom: trajecten; gebruik: jongeren).

    Writes to `out`: ``indicators.csv``, ``instroom_verwijzer.csv``,
    ``gebruik_leeftijd_geslacht.csv``, ``stroom.csv``; with a gemeente also
    ``indicators_gemeenten.csv`` (every gemeente, for the distribution), ``positie.csv``,
    ``indicators_wijk.csv`` (wijken of the gemeente) and two figures; and the export log in
    ``out/log``. Suppressed counts are empty; a percentage is empty when its numerator or
    denominator is. Returns the frames by file name (without ``.csv``). ``run``: an
    ExportSession to add to (a report's one session, so that later releases are protected
    together with these counts); the log written then covers the whole run so far.
    ``ledger``: the period ledger a new session protects against and registers in (see
    :mod:`jeugdkit.output.period`); ignored with ``run``.
    """
    from jeugdkit.output import ExportSession
    settings = settings or DEFAULT
    scope = scope or Scope.from_groups(gemeente, groups)
    total = settings.output_control.total_label
    unknown = settings.analysis.unknown_label
    run = run or ExportSession(run_name or f"tables-{pop.period.label}", settings=settings,
                               run_timestamp=run_timestamp, ledger=ledger)
    run.declare_composition(scope.composition(pop.frame["gemeentecode"].astype(str).unique()))
    before = set(run.outputs)
    rel = _Release(pop, run, scope, settings)
    released: dict[str, pd.DataFrame] = {}
    u_ins, u_geb, u_str = unit or "trajecten", unit or "jongeren", unit or "trajecten"
    for u in (u_ins, u_geb, u_str):
        _check_unit(u)
    t = rel.trajecten()
    groep_levels = [*rel.groups]
    all_groups = [*groep_levels, *sorted(set(t["groep"]) - set(groep_levels))]
    ins_mask = (t["start"] == "in").to_numpy()
    # instroom by verwijzer needs an assumed variable the delivery may lack: then only that
    # table is left out, with the reason
    no_verwijzer = pop.lacking("JGDHULPBUS", "verwijzer")
    stroom_masks = {"beginstand": ~ins_mask, "instroom": ins_mask,      # set by rel.trajecten()
                    "uitstroom": (t["afloop"] == "in").to_numpy(),
                    "eindstand": (t["afloop"] == "na").to_numpy()}

    # ---- unit jongeren: one population, every table queued and suppressed jointly
    wide = Scope(group=scope.group, group_label=scope.group_label)
    rel.indicator_specs(wide, "ind")
    if scope.gemeente is not None and wijken:
        rel.indicator_specs(scope, "wijk", wijk=True)
    gebruik_flags = {"wijkteam": "jeugdhulp_wijkteam",
                     "overig_zonder_verblijf": "jeugdhulp_overig_zonder_verblijf",
                     "met_verblijf": "met_verblijf", total: "jeugdhulp"}
    if u_geb == "jongeren":
        for g in [*all_groups, total]:
            flag = gebruik_flags.get(g, f"jeugdhulp_{g}")
            if flag == "met_verblijf":
                mask = rel.flags["jeugdhulp"] & rel.flags["jeugdhulp_met_verblijf"]
            elif flag in rel.flags:
                mask = rel.flags[flag]
            else:
                mask = rel.youths_with(t, (t["groep"] == g).to_numpy())
            rel.youth_spec(mask, f"gebruik_{g}", f"youths with jeugdhulp, group {g}",
                           ages=True, sex=True)
    if u_ins == "jongeren" and not no_verwijzer:
        for v in [*sorted(set(t.loc[ins_mask, "verwijzer"])), total]:
            for g in [*all_groups, total]:
                m = ins_mask.copy()
                if v != total:
                    m &= (t["verwijzer"] == v).to_numpy()
                if g != total:
                    m &= (t["groep"] == g).to_numpy()
                rel.youth_spec(rel.youths_with(t, m), f"instroom_{v}_{g}",
                               f"youths with instroom, verwijzer {v}, {g}")
    if u_str == "jongeren":
        for h in [*sorted(set(t["hulpvorm"])), total]:
            for name, mask in stroom_masks.items():
                m = mask if h == total else mask & (t["hulpvorm"] == h).to_numpy()
                rel.youth_spec(rel.youths_with(t, m), f"stroom_{name}_{h}",
                               f"youths in {name}, hulpvorm {h}")
    _declare_relations(run, pop.period, total,
                       gebruik=all_groups if u_geb == "jongeren" else None,
                       instroom=(sorted(set(t.loc[ins_mask, "verwijzer"])), all_groups)
                       if u_ins == "jongeren" and not no_verwijzer else None,
                       stroom=sorted(set(t["hulpvorm"])) if u_str == "jongeren" else None)
    youth = rel.release()

    # ---- unit trajecten: one population, linked through gemeentecode and hulpvorm codes
    specs = []
    geo_hier = scope.hierarchy(t["gemeentecode"].unique()) or {}
    geo_levels = scope.levels()
    t = _with_members(t, scope, t["gemeente"].to_numpy())
    t_members = _members(t)
    if u_ins == "trajecten" and not no_verwijzer:
        dims = ["gemeentecode", "verwijzer", "hulpvorm"]
        specs.append(dict(
            data=_aggregate(t[ins_mask].assign(hulpvorm=t.loc[ins_mask, "groep"]), dims),
            dims=dims, count="aantal", name="tr_instroom", unit="trajecten",
            members=t_members,
            population=f"{rel.p_trajecten}-instroom", hierarchies=geo_hier,
            levels={**geo_levels, "hulpvorm": groep_levels}, publish=scope.published,
            description="trajecten begun in the period by verwijzer x hulpvorm group"))
    if u_geb == "trajecten":
        dims = ["gemeentecode", "leeftijdsgroep", "geslacht", "hulpvorm"]
        specs.append(dict(
            data=_aggregate(t.assign(hulpvorm=t["groep"]), dims), dims=dims, count="aantal",
            members=t_members,
            name="tr_gebruik", unit="trajecten", population=rel.p_trajecten,
            hierarchies=geo_hier, levels={**geo_levels, "hulpvorm": groep_levels},
            publish=scope.published,
            description="trajecten in the period by age group x sex x hulpvorm group"))
    if u_str == "trajecten":
        dims = ["gemeentecode", "hulpvorm", "start", "afloop"]
        codes = sorted(set(t["hulpvorm"]))
        group_of = dict(zip(t["hulpvorm"], t["groep"]))
        specs.append(dict(
            data=_aggregate(t, dims), dims=dims, count="aantal", name="tr_stroom",
            members=t_members,
            unit="trajecten", population=rel.p_trajecten,
            hierarchies={**geo_hier, "hulpvorm": {c: group_of[c] for c in codes
                                                   if group_of[c] != c}},
            levels={**geo_levels, "hulpvorm": codes, "start": ["voor", "in"],
                    "afloop": ["in", "na"]},
            # the hulpvorm groups are published too: where the hulpvormen of a small
            # gemeente are mostly suppressed, the coarser rows still read
            publish=_publish_where(scope, lambda c: (
                _at(c, afloop=total) ^ _at(c, start=total))),
            description="trajecten in the period by hulpvorm and hulpvorm group: begun "
                        "before/in the period x ended in/after the period"))
    traj = dict(zip([s["name"] for s in specs], run.freq_tables(specs))) if specs else {}

    # ---- indicators
    for name in sorted(rel.absent):
        reasons = [m for m in pop.notes.get("messages", []) if name in m] or [
            f"{name} is onbekend voor iedereen"]
        print("note: " + run.leave_out(f"indicator {name}", "; ".join(reasons)), file=sys.stderr)
    ind_sources = [f"ind_{name}" for name in _Release.INDICATOR_TABLES
                   if name not in rel.absent]
    how = "counts from the released tables; pct = 100 * teller / noemer, rounded to 2 decimals"
    all_ind = rel.indicators(youth, "ind")
    shown = scope.rows(pop.frame["gemeentecode"].astype(str).unique())
    ind = all_ind.set_index("gemeentecode").reindex(shown).rename_axis("gemeentecode")
    released["indicators"] = run.release_derived(ind.reset_index(), sources=ind_sources,
                                                 name="indicators", how=how)
    if scope.gemeente is not None:
        gem = all_ind[~all_ind["gemeentecode"].isin([NATIONAL, GROUP])]
        released["indicators_gemeenten"] = run.release_derived(
            gem, sources=ind_sources, name="indicators_gemeenten", how=how,
            description="every gemeente, for the distribution and the position")
        released["positie"] = run.release_derived(
            position(gem, scope.gemeente), sources=["indicators_gemeenten"], name="positie",
            how="rank and percentiles over the gemeenten whose rate is released")
        if wijken:
            wijk = rel.indicators(youth, "wijk", column="wijkcode")
            wijk = wijk[wijk["wijkcode"] != NATIONAL]
            released["indicators_wijk"] = run.release_derived(
                wijk, sources=[f"wijk_{name}" for name in _Release.INDICATOR_TABLES
                               if name not in rel.absent],
                name="indicators_wijk", how=how,
                description=f"wijken of gemeente {scope.gemeente}")

    # ---- instroom_verwijzer
    if no_verwijzer:
        note = run.leave_out("instroom_verwijzer", no_verwijzer)
        print(f"note: {note}", file=sys.stderr)
    elif u_ins == "trajecten":
        tab = traj["tr_instroom"].rename(columns={"hulpvorm": "hulpvorm_groep"})
        frame = scope.publish(tab)
    else:
        parts = []
        for v in [*sorted(set(t.loc[ins_mask, "verwijzer"])), total]:
            for g in [*all_groups, total]:
                part = scope.publish(youth[f"instroom_{v}_{g}"])
                parts.append(part.assign(verwijzer=v, hulpvorm_groep=g))
        frame = pd.concat(parts, ignore_index=True)
    if not no_verwijzer:
        frame = frame[["gemeentecode", "verwijzer", "hulpvorm_groep", "aantal"]].copy()
        released["instroom_verwijzer"] = _rename_group(frame, "hulpvorm_groep", unknown)

    # ---- gebruik_leeftijd_geslacht
    if u_geb == "trajecten":
        frame = scope.publish(traj["tr_gebruik"].rename(columns={"hulpvorm": "hulpvorm_groep"}))
    else:
        parts = []
        for g in [*all_groups, total]:
            part = scope.publish(youth[f"gebruik_{g}"])
            parts.append(part.assign(hulpvorm_groep=g))
        frame = pd.concat(parts, ignore_index=True)
    frame = frame[["gemeentecode", "leeftijdsgroep", "geslacht", "hulpvorm_groep",
                   "aantal"]].copy()
    released["gebruik_leeftijd_geslacht"] = _rename_group(frame, "hulpvorm_groep", unknown)

    # ---- stroom (wide)
    if u_str == "trajecten":
        tab = traj["tr_stroom"]
        pick = {"beginstand": dict(start="voor", afloop=total),
                "instroom": dict(start="in", afloop=total),
                "uitstroom": dict(start=total, afloop="in"),
                "eindstand": dict(start=total, afloop="na")}
        cols = [tab[_at(tab, **codes)].set_index(["gemeentecode", "hulpvorm"])["aantal"]
                .rename(name) for name, codes in pick.items()]
        frame = scope.publish(pd.concat(cols, axis=1).reset_index())
    else:
        rows = []
        for h in [*sorted(set(t["hulpvorm"])), total]:
            cols = [scope.publish(youth[f"stroom_{name}_{h}"])
                    .set_index("gemeentecode")["aantal"].rename(name) for name in STROOM]
            rows.append(pd.concat(cols, axis=1).rename_axis("gemeentecode").reset_index()
                        .assign(hulpvorm=h))
        frame = pd.concat(rows, ignore_index=True)
    frame = frame[["gemeentecode", "hulpvorm", *STROOM]].copy()
    for c in STROOM:
        frame[c] = frame[c].astype("Int64")
    released["stroom"] = frame

    order = {c: i for i, c in enumerate(shown)}
    for name in ("instroom_verwijzer", "gebruik_leeftijd_geslacht", "stroom"):
        if name not in released:
            continue
        f = released[name]
        f["gemeentecode"] = f["gemeentecode"].astype(str)
        f = f.sort_values("gemeentecode", key=lambda s: s.map(order), kind="stable")
        released[name] = run.release_derived(
            f, sources=[o for o in run.outputs if run.outputs[o].type == "table"
                        and o not in released and o not in before
                        and not o.startswith(("ind_", "wijk_"))],
            name=name, how="the published rows of the released tables (tidy, codes as in "
            "the spec)")

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if figures and scope.gemeente is not None:
        from jeugdkit.figures import indicator_figures
        indicator_figures(run, scope)  # released figures: export writes them with the tables
    run.export(out, released)
    return released


def position(gemeenten: pd.DataFrame, gemeente: str) -> pd.DataFrame:
    """Return the gemeente's position per indicator among the gemeenten with a released rate.

    Columns: indicator, waarde, rang (1 = highest), aantal_gemeenten, percentielrang (share of
    the other gemeenten below it, 0-100), p10, p25, mediaan, p75, p90 (over gemeenten; empty
    where the percentile would rest on the lowest or highest gemeente: fewer than one other
    gemeente on either side of its position). Rank empty when the gemeente's own rate is
    suppressed.
    """
    rows = []
    for name, _, _ in INDICATORS:
        rates = gemeenten.set_index("gemeentecode")[name].astype(float).dropna()
        row = {"indicator": name, "waarde": np.nan, "rang": pd.NA,
               "aantal_gemeenten": len(rates)}
        qs = np.array([10, 25, 50, 75, 90])
        q = np.percentile(rates, qs) if len(rates) else np.full(5, np.nan)
        # a percentile rests on one gemeente when it is the minimum or the maximum (or
        # interpolates towards it): shown only with another gemeente on both sides
        at = qs / 100 * (len(rates) - 1)
        q = np.where((at >= 1) & (len(rates) - 1 - at >= 1), q, np.nan)
        row.update(dict(zip(["p10", "p25", "mediaan", "p75", "p90"], np.round(q, 2))))
        if gemeente in rates.index:
            v = rates[gemeente]
            others = rates.drop(gemeente)
            row["waarde"] = v
            row["rang"] = int((rates > v).sum()) + 1
            row["percentielrang"] = (round(100 * float((others < v).mean()), 1)
                                     if len(others) else np.nan)
        rows.append(row)
    out = pd.DataFrame(rows, columns=["indicator", "waarde", "rang", "aantal_gemeenten",
                                      "percentielrang", "p10", "p25", "mediaan", "p75",
                                      "p90"])
    out["rang"] = out["rang"].astype("Int64")
    return out


# ----------------------------------------------------------------------------- CLI
def cli_tables(args) -> int:
    """Run `jeugdkit tables`: build the period's population and release the trap-1 tables."""
    from jeugdkit.population import build_population
    from jeugdkit.read import reader_from_args
    settings = Settings.load(getattr(args, "settings", None))
    reader = reader_from_args(args, settings)
    scope = scope_from_args(args, reader.data_root, settings)
    pop = build_population(reader, args.period, settings=settings)
    ledger = ledger_from_args(args, pop.period.label)
    released = release_tables(pop, args.out, scope=scope, unit=args.unit, settings=settings,
                              ledger=ledger)
    for name, frame in released.items():
        print(f"wrote {Path(args.out) / (name + '.csv')} ({len(frame)} rows)")
    print(f"export log in {Path(args.out) / 'log'} (keep it in the RA for the checker)")
    return 0


def ledger_from_args(args, period):
    """Return the period ledger of a CLI run (``--ledger``, JEUGDKIT_LEDGER or the default
    ``./jeugdkit-ledger``; ``none``: this run alone, with a warning); say which on stderr."""
    from jeugdkit.output.period import PeriodLedger
    ledger = PeriodLedger.resolve(getattr(args, "ledger", None), period)
    if ledger is None:
        print("warning: no period ledger (--ledger none): this run is protected on its own; "
              "an output checker judges it together with every other output of the period",
              file=sys.stderr)
    else:
        info = ledger.summary()
        print(f"period ledger: {ledger.folder} ({info['outputs']} tables of {info['runs']} "
              "runs so far)", file=sys.stderr)
    return ledger


def scope_from_args(args, data_root, settings: Settings | None = None) -> Scope:
    """Return the Scope of a CLI run: --gemeente with --compare KEY or --groep CODES."""
    gemeente = getattr(args, "gemeente", None)
    compare = getattr(args, "compare", None)
    codes = getattr(args, "groep", None)
    if (compare or codes) and not gemeente:
        raise JeugdkitError("--compare/--groep need --gemeente CODE")
    if gemeente is None:
        return Scope()
    if codes:
        listed = [c.strip() for c in str(codes).split(",") if c.strip()]
        return Scope(gemeente, group=tuple(listed), group_label="lijst")
    ref_path = getattr(args, "reference", None) or default_reference_path(data_root)
    groups = comparison_group(read_reference(ref_path), gemeente, by=compare or "stedelijkheid",
                              settings=settings)
    return Scope.from_groups(gemeente, groups)
