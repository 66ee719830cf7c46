"""Trajectories and outcome indicators of a period: uitval, herhaald beroep, duration,
transitions, overlap with jeugdbescherming/-reclassering, outcome items and the spiegel.

::

    pop = build_population(reader, "2023")
    hist = build_history(reader, pop.period)          # year files 2018-2024, read once
    uitval(pop)                                       # exact, per gemeente and NL (internal)
    herhaald_beroep(pop, hist, definitie="statline")
    duur(pop, hist)                                   # Kaplan-Meier quartiles by hulpvorm
    release_trajectories(pop, hist, "export/", scope=Scope("0363", group=codes))

The functions without ``release_`` give exact internal numbers (never export them); the release
goes through one ExportSession. A traject or youth belongs to the gemeente where the youth
lives on the peildatum (``pop.frame``), as in the trap-1 tables. Definitions and every choice:
docs/trajectories.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.errors import DisclosureError, JeugdkitError
from jeugdkit.periods import Period
from jeugdkit.population import IN_POPULATION
from jeugdkit.scope import Scope
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.spells import _end_ns, _ns, within
from jeugdkit.trajecten import build_trajecten

DAY = np.int64(86_400 * 10**9)
UNKNOWN_REASON = "onbekend"
YES_NO = ["ja", "nee"]
MAATREGEL_STATUS = ["geen", "niet_gelijktijdig", "gelijktijdig"]
HB_DEFINITIONS = ("statline", "uitkomst")


class NotComputableError(JeugdkitError):
    """An indicator needs year files the data root does not hold."""


# ----------------------------------------------------------------------------- history
@dataclass
class History:
    """Jeugdhulp trajecten of several year files, built once for a batch of analyses.

    ``trajecten`` is ``build_trajecten`` over ``years`` (every RINPERSOONS; linking to the
    population happens per indicator). ``missing`` lists the wanted years without a file.
    """

    trajecten: pd.DataFrame
    years: list[int]
    missing: list[int] = field(default_factory=list)
    reconciliation: pd.DataFrame | None = None

    @property
    def first_day(self) -> pd.Timestamp:
        """Return the first day of the oldest year file read."""
        return pd.Timestamp(min(self.years), 1, 1)

    @property
    def last_day(self) -> pd.Timestamp:
        """Return the last day of the newest year file read (the end of follow-up)."""
        return pd.Timestamp(max(self.years), 12, 31)

    def require(self, start: pd.Timestamp, stop: pd.Timestamp, what: str) -> None:
        """Raise NotComputableError unless every year file from start to stop was read."""
        need = range(pd.Timestamp(start).year, pd.Timestamp(stop).year + 1)
        absent = [y for y in need if y not in self.years]
        if absent:
            raise NotComputableError(
                f"{what} needs JGDHULPBUS year files {list(need)}; absent: {absent} "
                f"(read: {self.years}). Add the files, choose another period, or shorten the "
                "window in the settings ([analysis] herhaald_beroep_lookback_years, "
                "transition_window_months)")


def history_years(period: str | Period, settings: Settings | None = None) -> list[int]:
    """Return the year files the indicators of a period look at (look-back to follow-up)."""
    a = (settings or DEFAULT).analysis
    p = Period.parse(period)
    first = (p.peildatum - pd.DateOffset(years=a.herhaald_beroep_lookback_years)).year
    follow = max(_next_half_end(p.einde),
                 p.einde + pd.DateOffset(months=a.transition_window_months))
    return list(range(first, follow.year + 1))


def build_history(reader, period: str | Period, settings: Settings | None = None,
                  years: list[int] | None = None) -> History:
    """Return the History of a period: the trajecten of every year file its indicators need.

    Years without a file are skipped and listed in ``missing``; an indicator that needs them
    raises NotComputableError (never a silently short window).

    Example
    -------
    >>> hist = build_history(Reader("G:/"), "2023")      # reads JGDHULP2018 ... 2024
    """
    settings = settings or DEFAULT
    wanted = list(years) if years is not None else history_years(period, settings)
    available = set(reader.inventory["JGDHULPBUS"].years)
    read = [y for y in wanted if y in available]
    if not read:
        raise NotComputableError(f"no JGDHULPBUS year file among {wanted} "
                                 f"(available: {sorted(available)})")
    trajecten, rec = build_trajecten(reader, read, settings)
    return History(trajecten, read, [y for y in wanted if y not in available], rec)


# ----------------------------------------------------------------------------- helpers
def _next_half_end(date: pd.Timestamp) -> pd.Timestamp:
    """Return the last day of the half-year after the one holding `date`."""
    if date.month <= 6:
        return pd.Timestamp(date.year, 12, 31)
    return pd.Timestamp(date.year + 1, 6, 30)


def _residence(pop) -> pd.Series:
    """Return gemeentecode (str) by rin: the youth's residence on the peildatum."""
    return pd.Series(pop.frame["gemeentecode"].astype(str).to_numpy(),
                     index=pd.Index(pop.frame["rin"]))


def _attach(frame: pd.DataFrame, pop) -> pd.DataFrame:
    """Return the rows of youths in the population with their gemeentecode."""
    gem = _residence(pop)
    pos = gem.index.get_indexer(frame["rin"])
    out = frame[pos >= 0].copy()
    out["gemeentecode"] = gem.to_numpy()[pos[pos >= 0]]
    return out.reset_index(drop=True)


def _period_trajecten(pop) -> pd.DataFrame:
    """Return the trajecten overlapping the period of youths in the population."""
    t = pop.trajecten
    keep = (t["in_periode"].fillna(False).to_numpy(dtype=bool)
            & (t["koppeling"].astype(str) == IN_POPULATION).to_numpy())
    return _attach(t[keep], pop)


def _history_trajecten(pop, history: History) -> pd.DataFrame:
    """Return every traject of the history of youths in the population."""
    return _attach(history.trajecten, pop)


def _codes(column: pd.Series, unknown: str) -> pd.Series:
    return column.astype(object).where(column.notna(), unknown).astype(str)


def reden_leaf(reden: pd.Series, settings: Settings = DEFAULT) -> pd.Series:
    """Return the uitval category of each end reason: the strict codes joined (``03_04``),
    other codes as they are, a missing reason ``onbekend``."""
    a = settings.analysis
    strict = "_".join(a.uitval_strict)
    codes = reden.astype(object)
    out = codes.where(~codes.isin(a.uitval_strict), strict)
    return out.where(codes.notna(), UNKNOWN_REASON).astype(str)


def reden_hierarchy(leaves, settings: Settings = DEFAULT) -> dict:
    """Return ``{leaf: parent}``: uitval codes under ``breed``, known codes under ``bekend``."""
    a = settings.analysis
    strict = "_".join(a.uitval_strict)
    out = {}
    for leaf in leaves:
        if leaf == UNKNOWN_REASON:
            continue
        in_broad = leaf == strict or leaf in a.uitval_broad
        out[leaf] = "breed" if in_broad else "bekend"
    out["breed"] = "bekend"
    return out


def _scope_rows(table: pd.DataFrame, scope: Scope | None) -> pd.DataFrame:
    return scope.publish(table) if scope is not None else table


def _exact(units: pd.DataFrame, column: str, scope: Scope | None,
           settings: Settings) -> pd.DataFrame:
    """Return exact counts of `column`'s categories per gemeentecode leaf, group and total."""
    total = settings.output_control.total_label
    scope = scope or Scope()
    leaves = scope.leaves(units["gemeentecode"])
    hier = (scope.hierarchy(units["gemeentecode"]) or {}).get("gemeentecode", {})
    parts = [pd.DataFrame({"gemeentecode": leaves.to_numpy(), column: units[column].to_numpy()})]
    ups = leaves.map(hier)
    if ups.notna().any():
        m = ups.notna().to_numpy()
        parts.append(pd.DataFrame({"gemeentecode": ups[m].to_numpy(),
                                   column: units.loc[m, column].to_numpy()}))
    parts.append(pd.DataFrame({"gemeentecode": total, column: units[column].to_numpy()}))
    long = pd.concat(parts, ignore_index=True)
    out = long.groupby(["gemeentecode", column]).size().unstack(column, fill_value=0)
    out = out.reset_index()
    out.columns.name = None
    return scope.publish(out)


# ----------------------------------------------------------------------------- units
def uitval_units(pop, history: History | None = None,
                 settings: Settings | None = None) -> pd.DataFrame:
    """Return the trajecten closed in the period (youths of the population), with `reden`.

    With a history its trajecten are used (the newest file's end date and reason), so that
    every indicator of a run counts the same closed trajecten.
    """
    settings = settings or DEFAULT
    t = _period_trajecten(pop) if history is None else _history_trajecten(pop, history)
    t = t[within(t["eind"], pop.period.peildatum, pop.period.einde)].copy()
    t["reden"] = reden_leaf(t["reden_einde"], settings).to_numpy()
    return t.reset_index(drop=True)


def herhaald_beroep_units(pop, history: History, definitie: str = "statline",
                          settings: Settings | None = None) -> pd.DataFrame:
    """Return the units of herhaald beroep with a boolean `teller`.

    ``statline``: trajecten started in the period; teller = herhaald beroep (earlier jeugdhulp
    ended in the look-back window at least two days before the start, and no jeugdhulp on the
    day before the start). ``uitkomst``: trajecten closed in the period; teller = no new
    start of the youth from the closing day up to the end of the next half-year.
    """
    settings = settings or DEFAULT
    a = settings.analysis
    p = pop.period
    if definitie not in HB_DEFINITIONS:
        raise JeugdkitError(f"herhaald beroep definitie {definitie!r}: expected one of "
                            f"{HB_DEFINITIONS}")
    t = _history_trajecten(pop, history).reset_index(drop=True)
    t["_i"] = np.arange(len(t))
    if definitie == "statline":
        if a.herhaald_beroep_anchor not in ("periode", "start"):
            raise JeugdkitError(f"herhaald_beroep_anchor {a.herhaald_beroep_anchor!r}: "
                                "expected 'periode' or 'start'")
        back = pd.DateOffset(years=a.herhaald_beroep_lookback_years)
        history.require(p.peildatum - back, p.einde, "herhaald beroep (statline)")
        units = t[within(t["begin"], p.peildatum, p.einde)].copy()
        s = _ns(units["begin"])
        if a.herhaald_beroep_anchor == "periode":
            lo = np.full(len(units), (p.peildatum - back).value, dtype=np.int64)
        else:
            lo = _ns(units["begin"] - back)
        pairs = units[["_i", "rin"]].assign(_s=s, _lo=lo).merge(
            t[["rin", "begin", "eind", "_i"]].rename(columns={"_i": "_j"}), on="rin")
        b, e = _ns(pairs["begin"]), _end_ns(pairs["eind"])
        eve = pairs["_s"].to_numpy() - DAY
        covers_eve = (b <= eve) & (e >= eve)
        earlier = (e <= eve - DAY) & (e >= pairs["_lo"].to_numpy())
        cont = set(pairs.loc[covers_eve, "_i"])
        back_ids = set(pairs.loc[earlier, "_i"]) - cont
        units["teller"] = units["_i"].isin(back_ids).to_numpy()
        units["aansluitend"] = units["_i"].isin(cont).to_numpy()
    else:
        stop = _next_half_end(p.einde)
        history.require(p.peildatum, stop, "herhaald beroep (uitkomst)")
        units = t[within(t["eind"], p.peildatum, p.einde)].copy()
        units["_stop"] = [_next_half_end(d).value for d in units["eind"]]
        pairs = units[["_i", "rin", "eind", "_stop"]].merge(
            t[["rin", "begin", "_i"]].rename(columns={"_i": "_j"}), on="rin")
        b = _ns(pairs["begin"])
        new = ((pairs["_j"] != pairs["_i"]).to_numpy() & (b >= _ns(pairs["eind"]))
               & (b <= pairs["_stop"].to_numpy()))
        units["teller"] = ~units["_i"].isin(set(pairs.loc[new, "_i"])).to_numpy()
        units = units.drop(columns="_stop")
    return units.drop(columns="_i").reset_index(drop=True)


def duur_units(pop, history: History, settings: Settings | None = None) -> pd.DataFrame:
    """Return the trajecten started in the period with `duur_dagen` and `gebeurtenis`.

    Duration counts days from begin to end inclusive; an open traject (or one ending after the
    newest year file) is censored at the history's last day. A closed traject with reason
    onbekend from ``imputed_end_from`` on is an event unless ``duration_unknown_end`` says
    ``gecensureerd``.
    """
    settings = settings or DEFAULT
    a = settings.analysis
    p = pop.period
    history.require(p.peildatum, p.einde, "duur")
    t = _history_trajecten(pop, history)
    t = t[within(t["begin"], p.peildatum, p.einde)].copy()
    last = history.last_day
    closed = t["eind"].notna().to_numpy() & (t["eind"] <= last).to_numpy()
    end = t["eind"].where(closed, last)
    t["duur_dagen"] = ((end - t["begin"]).dt.days + 1).astype(float)
    onzeker = closed & t["reden_einde"].isna().to_numpy() & (
        t["eind"].dt.year.fillna(0).to_numpy() >= a.imputed_end_from)
    t["eind_onzeker"] = onzeker
    if a.duration_unknown_end not in ("gebeurtenis", "gecensureerd"):
        raise JeugdkitError(f"duration_unknown_end {a.duration_unknown_end!r}: expected "
                            "'gebeurtenis' or 'gecensureerd'")
    event = closed & ~(onzeker & (a.duration_unknown_end == "gecensureerd"))
    t["gebeurtenis"] = event
    t["afgesloten"] = np.where(closed, "ja", "nee")
    return t.reset_index(drop=True)


def overgang_units(pop, history: History, settings: Settings | None = None) -> pd.DataFrame:
    """Return one row per youth who started hulp zonder verblijf in the period without met
    verblijf running that day; `teller`: a met-verblijf traject began after that first start,
    within the window (``transition_window_months``)."""
    settings = settings or DEFAULT
    a = settings.analysis
    p = pop.period
    window = pd.DateOffset(months=a.transition_window_months)
    history.require(p.peildatum, p.einde + window, "overgangen")
    groups = dict(a.hulpvorm_groups)
    met = [c for c in groups.get("met_verblijf", ())]
    t = _history_trajecten(pop, history)
    is_met = t["hulpvorm"].astype(object).isin(met).to_numpy()
    zonder = t[~is_met & (t["hulpvorm_groep"].astype(str) != a.unknown_label).to_numpy()
               & within(t["begin"], p.peildatum, p.einde)]
    # stable: among trajecten with the same begin the first in file order wins on every CPU
    first = zonder.sort_values("begin", kind="mergesort").drop_duplicates("rin")
    first = first[["rin", "gemeentecode", "begin"]]
    mv = t[is_met][["rin", "begin", "eind"]].rename(columns={"begin": "mb", "eind": "me"})
    pairs = first.merge(mv, on="rin")
    s = _ns(pairs["begin"])
    b, e = _ns(pairs["mb"]), _end_ns(pairs["me"])
    running = (b <= s) & (e >= s)
    hit = (b > s) & (b <= _ns(pairs["begin"] + window))
    first = first[~first["rin"].isin(pairs.loc[running, "rin"])].copy()
    first["teller"] = first["rin"].isin(pairs.loc[hit, "rin"]).to_numpy()
    return first.reset_index(drop=True)


def overlap_units(pop, maatregel: str) -> pd.DataFrame:
    """Return one row per youth with jeugdhulp in the period and `status` of the maatregel:
    ``geen``, ``niet_gelijktijdig`` (both in the period, never on one day) or
    ``gelijktijdig`` (a day in the period with a traject and a maatregel running)."""
    if maatregel not in pop.maatregelen:
        raise NotComputableError(f"{maatregel}: dataset absent for {pop.period.label} "
                                 f"({pop.notes.get('messages', [])})")
    t = _period_trajecten(pop)
    m = pop.maatregelen[maatregel]
    m = m[(m["in_periode"].fillna(False).to_numpy(dtype=bool)
           & (m["koppeling"].astype(str) == IN_POPULATION).to_numpy())]
    youths = t.drop_duplicates("rin")[["rin", "gemeentecode"]].copy()
    lo, hi = pop.period.peildatum.value, pop.period.einde.value
    pairs = t[["rin", "begin", "eind"]].merge(
        m[["rin", "begin", "eind"]].rename(columns={"begin": "mb", "eind": "me"}), on="rin")
    start = np.maximum(np.maximum(_ns(pairs["begin"]), _ns(pairs["mb"])), lo)
    stop = np.minimum(np.minimum(_end_ns(pairs["eind"]), _end_ns(pairs["me"])), hi)
    both = set(pairs.loc[start <= stop, "rin"])
    status = np.where(youths["rin"].isin(both), "gelijktijdig",
                      np.where(youths["rin"].isin(set(m["rin"])), "niet_gelijktijdig", "geen"))
    youths["status"] = status
    return youths.reset_index(drop=True)


def uitkomstitem_units(pop, history: History | None = None,
                       settings: Settings | None = None) -> pd.DataFrame:
    """Return the trajecten closed in the period with `cijfer_ingevuld` and `zelfstandig`
    (``1`` ja, ``2`` nee, ``9`` onbekend, ``niet_ingevuld``)."""
    t = uitval_units(pop, history, settings)
    t["cijfer_ingevuld"] = np.where(t["cijfer"].notna(), "ja", "nee")
    t["zelfstandig"] = _codes(t["zelfstandig"], "niet_ingevuld").to_numpy()
    return t


# ----------------------------------------------------------------------------- exact API
def uitval(pop, history: History | None = None, scope: Scope | None = None,
           settings: Settings | None = None) -> pd.DataFrame:
    """Return exact uitval per gemeentecode and NL: one row per gemeente x definitie.

    Columns gemeentecode, definitie (``strikt``/``breed``), afgesloten, onbekend, bekend,
    uitval, pct_uitval (of bekend: onbekend stays out of the denominator), pct_onbekend.
    Internal (unchecked): release with :func:`release_trajectories`.

    Example
    -------
    >>> uitval(pop).query("gemeentecode == 'NL'")
    """
    settings = settings or DEFAULT
    units = uitval_units(pop, history, settings)
    counts = _exact(units, "reden", scope, settings)
    return _uitval_rows(counts, settings)


def _uitval_rows(counts: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    a = settings.analysis
    strict = "_".join(a.uitval_strict)

    def col(name):
        return counts[name] if name in counts else pd.Series(0, index=counts.index)

    known = [c for c in counts.columns if c not in ("gemeentecode", UNKNOWN_REASON)]
    broad = [c for c in known if c == strict or c in a.uitval_broad]
    afgesloten = counts[known + ([UNKNOWN_REASON] if UNKNOWN_REASON in counts else [])].sum(axis=1)
    rows = []
    for definitie, cols in (("strikt", [strict]), ("breed", broad)):
        rows.append(pd.DataFrame({
            "gemeentecode": counts["gemeentecode"], "definitie": definitie,
            "afgesloten": afgesloten, "onbekend": col(UNKNOWN_REASON),
            "bekend": afgesloten - col(UNKNOWN_REASON),
            "uitval": sum((col(c) for c in cols), start=pd.Series(0, index=counts.index))}))
    out = pd.concat(rows, ignore_index=True)
    return _add_pct(out, {"pct_uitval": ("uitval", "bekend"),
                          "pct_onbekend": ("onbekend", "afgesloten")})


def _add_pct(frame: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Add percentages (NA when numerator or denominator is NA or the denominator is 0)."""
    for name, (num, den) in spec.items():
        n = pd.to_numeric(frame[num], errors="coerce").astype("Float64")
        d = pd.to_numeric(frame[den], errors="coerce").astype("Float64")
        frame[name] = (100 * n / d.where(d > 0)).round(2)
    return frame


def herhaald_beroep(pop, history: History, definitie: str = "statline",
                    scope: Scope | None = None, settings: Settings | None = None
                    ) -> pd.DataFrame:
    """Return exact herhaald beroep per gemeentecode: noemer, teller, pct.

    ``statline``: teller = started trajecten with herhaald beroep; ``uitkomst``: teller =
    closed trajecten without a new start up to the end of the next half-year.
    """
    settings = settings or DEFAULT
    units = herhaald_beroep_units(pop, history, definitie, settings)
    units = units.assign(_t=np.where(units["teller"], "ja", "nee"))
    c = _exact(units, "_t", scope, settings)
    out = pd.DataFrame({"gemeentecode": c["gemeentecode"], "definitie": definitie,
                        "noemer": c.get("ja", 0) + c.get("nee", 0), "teller": c.get("ja", 0)})
    return _add_pct(out, {"pct": ("teller", "noemer")})


def kaplan_meier(units: pd.DataFrame, by: list[str], quantiles=(25, 50, 75)) -> pd.DataFrame:
    """Return Kaplan-Meier percentiles of `duur_dagen` per group, with trajecten and events.

    A percentile p is the first duration at which the survival curve drops below 1 - p/100
    (statsmodels ``SurvfuncRight.quantile``); NA when the curve does not get there (too much
    censoring).
    """
    from statsmodels.duration.survfunc import SurvfuncRight
    rows = []
    for key, g in units.groupby(by, sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row["trajecten"] = len(g)
        row["gebeurtenissen"] = int(g["gebeurtenis"].sum())
        if row["gebeurtenissen"]:
            sf = SurvfuncRight(g["duur_dagen"].to_numpy(float),
                               g["gebeurtenis"].to_numpy(float))
            for q in quantiles:
                row[f"p{q}"] = float(sf.quantile(q / 100))
        else:
            row.update({f"p{q}": np.nan for q in quantiles})
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "trajecten", "gebeurtenissen",
                                       *[f"p{q}" for q in quantiles]])


def _with_margins(units: pd.DataFrame, scope: Scope, total: str,
                  dims: dict) -> pd.DataFrame:
    """Return units repeated for every ancestor of their gemeentecode and `dims` codes."""
    scope_hier = (scope.hierarchy(units["gemeentecode"]) or {}).get("gemeentecode", {})
    leaves = scope.leaves(units["gemeentecode"])
    chains = leaves.map(lambda c: [c, *([scope_hier[c]] if c in scope_hier else []), total])
    out = units.assign(gemeentecode=chains.to_numpy()).explode("gemeentecode")
    for d in dims:
        out = out.assign(**{d: out[d].map(lambda c: [c, total])}).explode(d)
    return out


def duur(pop, history: History, scope: Scope | None = None, by: str = "hulpvorm",
         settings: Settings | None = None) -> pd.DataFrame:
    """Return exact Kaplan-Meier duration percentiles per gemeentecode x `by` (and totals).

    Columns gemeentecode, `by`, trajecten, gebeurtenissen, p25, p50, p75 (days). Internal.

    Example
    -------
    >>> duur(pop, hist).query("gemeentecode == 'NL'")
    """
    settings = settings or DEFAULT
    scope = scope or Scope()
    total = settings.output_control.total_label
    units = duur_units(pop, history, settings)
    units[by] = _codes(units[by], settings.analysis.unknown_label)
    long = _with_margins(units, scope, total, [by])
    km = kaplan_meier(long, ["gemeentecode", by], settings.analysis.duration_quantiles)
    return scope.publish(km)


def overgangen(pop, history: History, scope: Scope | None = None,
               settings: Settings | None = None) -> pd.DataFrame:
    """Return exact transitions zonder -> met verblijf per gemeentecode: noemer, teller, pct."""
    settings = settings or DEFAULT
    units = overgang_units(pop, history, settings)
    c = _exact(units.assign(_t=np.where(units["teller"], "ja", "nee")), "_t", scope, settings)
    out = pd.DataFrame({"gemeentecode": c["gemeentecode"],
                        "noemer": c.get("ja", 0) + c.get("nee", 0), "teller": c.get("ja", 0)})
    return _add_pct(out, {"pct": ("teller", "noemer")})


# ----------------------------------------------------------------------------- release
def _aanbieder_labels(codes: pd.Series) -> pd.Series:
    """Return run-local provider labels A001, A002, ... (largest first; the pseudonymised
    JGDHAANBIEDER code never leaves the RA)."""
    order = codes.astype(str).value_counts(sort=True)
    order = order.sort_index(kind="mergesort").sort_values(ascending=False, kind="mergesort")
    width = max(3, len(str(len(order))))
    mapping = {c: f"A{i + 1:0{width}d}" for i, c in enumerate(order.index)}
    return codes.astype(str).map(mapping)


@dataclass
class _Release:
    run: object
    scope: Scope
    settings: Settings
    label: str
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> str:
        return self.settings.output_control.total_label

    def spec(self, units: pd.DataFrame, dims: list[str], name: str, population: str,
             **kw) -> dict:
        data = units[dims].copy()
        data["gemeentecode"] = self.scope.leaves(units["gemeentecode"]).to_numpy()
        levels = {**self.scope.levels(), **kw.pop("levels", {})}
        hier = {**(self.scope.hierarchy(units["gemeentecode"]) or {}), **kw.pop("hier", {})}
        return dict(data=data, dims=dims, name=name, unit=kw.pop("unit", "trajecten"),
                    population=f"{population}-{self.label}", hierarchies=hier or None,
                    levels=levels, members=self.scope.members(units["gemeentecode"]), **kw)

    def pick(self, table: pd.DataFrame, **codes) -> pd.Series:
        m = np.ones(len(table), dtype=bool)
        for d, v in codes.items():
            m &= (table[d].astype(str) == v).to_numpy()
        return self.scope.publish(table[m]).set_index("gemeentecode")["aantal"]


def _frame(columns: dict, rows) -> pd.DataFrame:
    out = pd.DataFrame(columns)
    out.index.name = "gemeentecode"
    out = out.reset_index()
    order = {c: i for i, c in enumerate(rows)}
    out = out.sort_values("gemeentecode", key=lambda s: s.map(order).fillna(len(order)),
                          kind="mergesort")
    return out.reset_index(drop=True)


def release_trajectories(pop, history: History, out, *, scope: Scope | None = None,
                         settings: Settings | None = None, run_name: str | None = None,
                         spiegel: bool = True, run=None, ledger=None,
                         run_timestamp: str | None = None) -> dict[str, pd.DataFrame]:
    """Release every trajectory indicator through one ExportSession; return the tables.

    Writes ``uitval.csv``, ``herhaald_beroep.csv``, ``duur.csv``, ``overgangen.csv``,
    ``overlap.csv``, ``uitkomstitems.csv``, ``spiegel.csv`` and the export log in
    ``out/log``. Counts are empty when suppressed; a percentage is empty when its numerator or
    denominator is. An indicator that needs absent year files is reported in the table's
    ``opmerking`` column (and on stderr by the CLI), never silently left out. ``run``: an
    ExportSession to add to (see :func:`jeugdkit.tables.release_tables`). ``ledger``: the
    period ledger of a new session (see :mod:`jeugdkit.output.period`).
    """
    from jeugdkit.output import ExportSession
    settings = settings or DEFAULT
    scope = scope or Scope()
    a = settings.analysis
    label = pop.period.label
    run = run or ExportSession(run_name or f"trajecten-{label}", settings=settings,
                               ledger=ledger, run_timestamp=run_timestamp)
    run.declare_composition(scope.composition(pop.frame["gemeentecode"].astype(str).unique()))
    before = set(run.outputs)
    r = _Release(run, scope, settings, label)
    total = r.total
    released: dict[str, pd.DataFrame] = {}

    def rows_of(units):
        return scope.rows(units["gemeentecode"].astype(str).unique())

    # ---- trajecten closed in the period: uitval, uitkomst, outcome items (one population)
    closed = uitkomstitem_units(pop, history, settings)
    reden_leaves = sorted(set(closed["reden"]) | set(a.uitval_broad) - set(a.uitval_strict)
                          | {"_".join(a.uitval_strict), UNKNOWN_REASON})
    # an output whose (assumed) variable the delivery lacks is not made: a note says why
    lacking = {name: pop.lacking("JGDHULPBUS", variable) for name, variable in
               (("uitval", "reden_einde"), ("cijfer", "cijfer"), ("zelfstandig", "zelfstandig"),
                ("spiegel", "aanbieder"))}
    for name, reason in lacking.items():
        if reason:
            r.notes.append(run.leave_out(name, reason))
    specs = []
    if not lacking["uitval"]:
        specs.append(r.spec(closed, ["gemeentecode", "reden"], "uitval", "trajecten-afgesloten",
                            hier={"reden": reden_hierarchy(reden_leaves, settings)},
                            levels={"reden": reden_leaves},
                            description="trajecten closed in the period by end reason"))
    if not lacking["cijfer"]:
        specs.append(r.spec(closed, ["gemeentecode", "cijfer_ingevuld"], "cijfer_respons",
                            "trajecten-afgesloten", levels={"cijfer_ingevuld": YES_NO},
                            description="closed trajecten with the mark for the use of the "
                                        "help filled"))
    if not lacking["zelfstandig"]:
        specs.append(r.spec(closed, ["gemeentecode", "zelfstandig"], "zelfstandig",
                            "trajecten-afgesloten",
                            levels={"zelfstandig": ["1", "2", "9", "niet_ingevuld"]},
                            hier={"zelfstandig": {"1": "ingevuld", "2": "ingevuld",
                                                  "9": "ingevuld"}},
                            description="closed trajecten by 'can carry on without help'"))
    uitkomst_note = ""
    try:
        hb_u = herhaald_beroep_units(pop, history, "uitkomst", settings)
        hb_u["nieuwe_start"] = np.where(hb_u["teller"], "nee", "ja")
        specs.append(r.spec(hb_u, ["gemeentecode", "nieuwe_start"], "herhaald_beroep_uitkomst",
                            "trajecten-afgesloten", levels={"nieuwe_start": YES_NO},
                            description="closed trajecten: new start of the youth up to the "
                                        "end of the next half-year"))
    except NotComputableError as exc:
        uitkomst_note = f"niet berekenbaar: {exc}"
        r.notes.append(run.leave_out("herhaald_beroep_uitkomst", str(exc)))
    t_closed = dict(zip([sp["name"] for sp in specs], run.freq_tables(specs))) if specs else {}

    rows = rows_of(closed)
    if lacking["uitval"]:
        released["uitval"] = _not_computable(lacking["uitval"])
    else:
        t_uitval = t_closed["uitval"]
        counts = pd.DataFrame({c: r.pick(t_uitval, reden=c) for c in
                               [total, UNKNOWN_REASON, "bekend", "breed",
                                "_".join(a.uitval_strict)]})
        uit = []
        for definitie, code in (("strikt", "_".join(a.uitval_strict)), ("breed", "breed")):
            uit.append(_frame({"definitie": definitie, "afgesloten": counts[total],
                               "onbekend": counts[UNKNOWN_REASON], "bekend": counts["bekend"],
                               "uitval": counts[code]}, rows))
        released["uitval"] = _add_pct(pd.concat(uit, ignore_index=True),
                                      {"pct_uitval": ("uitval", "bekend"),
                                       "pct_onbekend": ("onbekend", "afgesloten")})

    # ---- trajecten started in the period: herhaald beroep (statline) and duration
    started_specs = []
    statline_note = ""
    try:
        hb_s = herhaald_beroep_units(pop, history, "statline", settings)
        hb_s["herhaald_beroep"] = np.where(hb_s["teller"], "ja", "nee")
        started_specs.append(r.spec(hb_s, ["gemeentecode", "herhaald_beroep"],
                                    "herhaald_beroep_statline", "trajecten-gestart",
                                    levels={"herhaald_beroep": YES_NO},
                                    description="started trajecten: herhaald beroep "
                                                "(StatLine look-back)"))
    except NotComputableError as exc:
        statline_note = f"niet berekenbaar: {exc}"
        r.notes.append(run.leave_out("herhaald_beroep_statline", str(exc)))
    du = duur_units(pop, history, settings)
    du["hulpvorm"] = _codes(du["hulpvorm"], a.unknown_label).to_numpy()
    t_started = run.freq_tables(started_specs) if started_specs else []

    hb_parts = []
    if not statline_note:
        t_hb = t_started[0]
        hb_parts.append(_frame({
            "definitie": "statline", "periode": label,
            "noemer": r.pick(t_hb, herhaald_beroep=total), "teller": r.pick(t_hb,
                                                                            herhaald_beroep="ja"),
            "omschrijving": f"gestarte trajecten met eerdere jeugdhulp in "
                            f"{a.herhaald_beroep_lookback_years} jaar ervoor (anker: "
                            f"{a.herhaald_beroep_anchor}), minstens 1 dag ertussen",
            "opmerking": ""}, rows))
    else:
        hb_parts.append(pd.DataFrame({"gemeentecode": [""], "definitie": ["statline"],
                                      "periode": [label], "opmerking": [statline_note]}))
    if not uitkomst_note:
        t_hu = t_closed["herhaald_beroep_uitkomst"]
        hb_parts.append(_frame({
            "definitie": "uitkomst", "periode": label,
            "noemer": r.pick(t_hu, nieuwe_start=total), "teller": r.pick(t_hu, nieuwe_start="nee"),
            "omschrijving": "afgesloten trajecten zonder nieuwe start t/m einde volgend halfjaar",
            "opmerking": ""}, rows))
    else:
        hb_parts.append(pd.DataFrame({"gemeentecode": [""], "definitie": ["uitkomst"],
                                      "periode": [label], "opmerking": [uitkomst_note]}))
    # reindexed: with neither definition computable there are no counts at all
    hb = pd.concat(hb_parts, ignore_index=True).reindex(
        columns=["gemeentecode", "definitie", "noemer", "teller", "periode", "omschrijving",
                 "opmerking"])
    released["herhaald_beroep"] = _add_pct(hb, {"pct": ("teller", "noemer")})[
        ["gemeentecode", "definitie", "noemer", "teller", "pct", "periode", "omschrijving",
         "opmerking"]]

    # ---- Kaplan-Meier percentiles, checked on trajecten and events per cell
    long = _with_margins(du, scope, total, ["hulpvorm"])
    km = kaplan_meier(long, ["gemeentecode", "hulpvorm"], a.duration_quantiles)
    qcols = [f"p{q}" for q in a.duration_quantiles]
    t_km = run.precomputed_table(
        km, ["gemeentecode", "hulpvorm"], values=qcols, counts=["trajecten", "gebeurtenissen"],
        name="duur_kaplan_meier", unit="trajecten", population=f"trajecten-gestart-{label}",
        method="Kaplan-Meier percentiles (statsmodels SurvfuncRight), censored at "
               f"{history.last_day.date()}",
        description="duration in days of trajecten started in the period")
    # the counts per cell are not released here (as in stats_table): releasing started
    # trajecten by gemeente x hulpvorm next to herhaald beroep forces the solver to suppress
    # national totals; the cohort's size per gemeente is the statline noemer
    d = scope.publish(t_km)
    d["gevolgd_tot"] = str(history.last_day.date())
    released["duur"] = d[["gemeentecode", "hulpvorm", *qcols, "gevolgd_tot"]]

    # ---- transitions zonder -> met verblijf
    try:
        ov = overgang_units(pop, history, settings)
        ov["naar_verblijf"] = np.where(ov["teller"], "ja", "nee")
        t_ov = run.freq_table(**r.spec(ov, ["gemeentecode", "naar_verblijf"], "overgangen",
                                       "jongeren-instroom-zonder-verblijf", unit="jongeren",
                                       levels={"naar_verblijf": YES_NO},
                                       description="youths starting zonder verblijf: met "
                                                   "verblijf within the window"))
        o = _frame({"noemer": r.pick(t_ov, naar_verblijf=total),
                    "teller": r.pick(t_ov, naar_verblijf="ja"),
                    "venster_maanden": a.transition_window_months, "opmerking": ""},
                   rows_of(ov))
        released["overgangen"] = _add_pct(o, {"pct": ("teller", "noemer")})
    except NotComputableError as exc:
        r.notes.append(run.leave_out("overgangen", str(exc)))
        released["overgangen"] = _not_computable(str(exc))

    # ---- overlap with jeugdbescherming and jeugdreclassering
    ol_specs, ol_names = [], []
    for m in ("jeugdbescherming", "jeugdreclassering"):
        try:
            units = overlap_units(pop, m)
        except NotComputableError as exc:
            r.notes.append(run.leave_out(f"samenloop met {m}", str(exc)))
            continue
        units = units.rename(columns={"status": m})
        ol_specs.append(r.spec(units, ["gemeentecode", m], f"overlap_{m}",
                               "jongeren-jeugdhulp", unit="jongeren",
                               levels={m: MAATREGEL_STATUS},
                               hier={m: {"niet_gelijktijdig": "met_maatregel",
                                         "gelijktijdig": "met_maatregel"}},
                               description=f"youths with jeugdhulp by {m} in the period"))
        ol_names.append(m)
    parts = []
    for m, table in zip(ol_names, run.freq_tables(ol_specs) if ol_specs else []):
        parts.append(_frame({"maatregel": m, "jeugdhulp": r.pick(table, **{m: total}),
                             "met_maatregel": r.pick(table, **{m: "met_maatregel"}),
                             "gelijktijdig": r.pick(table, **{m: "gelijktijdig"})},
                            rows_of(_period_trajecten(pop))))
    ol = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["gemeentecode", "maatregel", "jeugdhulp", "met_maatregel", "gelijktijdig"])
    released["overlap"] = _add_pct(ol, {"pct_met_maatregel": ("met_maatregel", "jeugdhulp"),
                                        "pct_gelijktijdig": ("gelijktijdig", "jeugdhulp")})

    # ---- outcome items
    filled = closed[closed["cijfer"].notna()].copy()
    filled["gemeentecode"] = scope.leaves(filled["gemeentecode"]).to_numpy()
    mean = pd.Series(dtype="Float64")
    if len(filled) and not lacking["cijfer"]:
        mean = run.stats_table(filled, ["gemeentecode"], value="cijfer", stat="mean",
                               name="cijfer_gemiddeld", unit="trajecten",
                               population=f"trajecten-afgesloten-cijfer-{label}",
                               hierarchies=scope.hierarchy(closed["gemeentecode"]),
                               levels=scope.levels(),
                               description="mean mark (1-10) for the use of the help, where filled")
        mean = scope.publish(mean).set_index("gemeentecode")["mean_cijfer"].round(2)
    items = []
    if not lacking["cijfer"]:
        t_cijfer = t_closed["cijfer_respons"]
        items.append(_frame({"item": "cijfer",
                             "afgesloten": r.pick(t_cijfer, cijfer_ingevuld=total),
                             "ingevuld": r.pick(t_cijfer, cijfer_ingevuld="ja"),
                             "gemiddeld_cijfer": mean}, rows))
    if not lacking["zelfstandig"]:
        t_zelf = t_closed["zelfstandig"]
        items.append(_frame({"item": "zelfstandig", "afgesloten": r.pick(t_zelf, zelfstandig=total),
                             "ingevuld": r.pick(t_zelf, zelfstandig="ingevuld"),
                             "ja": r.pick(t_zelf, zelfstandig="1"),
                             "nee": r.pick(t_zelf, zelfstandig="2"),
                             "onbekend": r.pick(t_zelf, zelfstandig="9")}, rows))
    item_columns = ["gemeentecode", "item", "afgesloten", "ingevuld", "pct_ingevuld",
                    "gemiddeld_cijfer", "ja", "nee", "onbekend", "pct_ja"]
    if items:
        it = pd.concat(items, ignore_index=True).reindex(
            columns=[c for c in item_columns if c not in ("pct_ingevuld", "pct_ja")])
        it["ja_nee"] = it["ja"] + it["nee"]
        it = _add_pct(it, {"pct_ingevuld": ("ingevuld", "afgesloten"),
                           "pct_ja": ("ja", "ja_nee")})
        released["uitkomstitems"] = it[item_columns]
    else:
        released["uitkomstitems"] = _not_computable(
            "; ".join([lacking["cijfer"], lacking["zelfstandig"]]))

    # ---- spiegel: per aanbieder its trajecten per gemeente
    if spiegel and not lacking["spiegel"]:
        released["spiegel"] = _release_spiegel(r, pop, closed)

    for frame in released.values():
        for c in frame.columns:
            if c in ("afgesloten", "onbekend", "bekend", "uitval", "noemer", "teller", "gestart",
                     "beeindigd", "jeugdhulp", "met_maatregel", "gelijktijdig", "ingevuld",
                     "ja", "nee", "aantal"):
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("Int64")
    released = run.release_assembled(
        released, since=before, how="the published cells of the trajectory tables, "
        "percentages from released counts, quartiles from released Kaplan-Meier tables")
    run.export(out, released)
    released["_notes"] = pd.DataFrame({"note": r.notes})
    return released


def _not_computable(reason: str) -> pd.DataFrame:
    """Return the one-row table that stands in for an output the data cannot give."""
    return pd.DataFrame({"gemeentecode": [""], "opmerking": [f"niet berekenbaar: {reason}"]})


def _release_spiegel(r: _Release, pop, closed: pd.DataFrame) -> pd.DataFrame:
    """Release per aanbieder: trajecten in the period by hulpvorm and closed ones by reden,
    per gemeente. One pair of tables per aanbieder (its own population), as CBS sends each
    provider its own report; aanbieders with fewer than min_units trajecten are left out."""
    settings = r.settings
    t = _period_trajecten(pop)
    t["hulpvorm"] = _codes(t["hulpvorm"], settings.analysis.unknown_label).to_numpy()
    labels = _aanbieder_labels(_codes(t["aanbieder"], settings.analysis.unknown_label))
    t["aanbieder_label"] = labels.to_numpy()
    lab_of = dict(zip(_codes(t["aanbieder"], settings.analysis.unknown_label), labels))
    closed = closed.assign(aanbieder_label=_codes(closed["aanbieder"],
                                                  settings.analysis.unknown_label).map(lab_of))
    specs = []
    small = 0
    for lab, sub in t.groupby("aanbieder_label", sort=True):
        if len(sub) < settings.output_control.min_units:
            small += 1
            continue
        for kenmerk, units, dim, pop_name in (
                ("hulpvorm", sub, "hulpvorm", "in-periode"),
                ("reden_einde", closed[closed["aanbieder_label"] == lab], "reden",
                 "afgesloten")):
            if not units.empty:
                specs.append((lab, kenmerk, dim, r.spec(
                    units, ["gemeentecode", dim], f"spiegel_{lab}_{kenmerk}",
                    f"spiegel-{lab}-{pop_name}", description=f"spiegel {lab}: {kenmerk}")))
    # every aanbieder is its own population: one protection step for all of them (one
    # hold of the period ledger instead of one per table); when output control refuses one,
    # the step left no trace, and the batch is halved until the refused tables are found and
    # left out
    refused: list[str] = []

    def release(batch) -> list:
        # a refused batch left no trace: halve it until the refused tables stand alone
        try:
            return r.run.freq_tables([spec for *_, spec in batch])
        except DisclosureError as exc:
            if len(batch) == 1:
                lab, kenmerk = batch[0][:2]
                refused.append(r.run.leave_out(f"spiegel_{lab}_{kenmerk}", str(exc),
                                               kind="geblokkeerd door outputcontrole"))
                return [None]
            half = len(batch) // 2
            return release(batch[:half]) + release(batch[half:])

    tables = release(specs) if specs else []
    parts = []
    for (lab, kenmerk, dim, _), table in zip(specs, tables):
        if table is not None:
            table = r.scope.publish(table).rename(columns={dim: "code"})
            parts.append(table.assign(aanbieder=lab, kenmerk=kenmerk))
    if small:
        r.notes.append(r.run.leave_out(
            f"spiegel van {small} aanbieders",
            f"minder dan {settings.output_control.min_units} trajecten in de periode",
            kind="weggelaten"))
    if refused:
        r.notes.append(f"spiegel: {len(refused)} tabellen van aanbieders geblokkeerd door "
                       "outputcontrole (ze zouden een eerder onderdrukte cel van deze periode "
                       "onthullen); de reden per tabel staat in het exportlog")
    if not parts:
        return pd.DataFrame(columns=["aanbieder", "gemeentecode", "kenmerk", "code", "aantal"])
    out = pd.concat(parts, ignore_index=True)
    return out[["aanbieder", "gemeentecode", "kenmerk", "code", "aantal"]]


# ----------------------------------------------------------------------------- CLI
def cli_trajecten(args) -> int:
    """Run `jeugdkit trajecten`: population, history, and the released trajectory tables."""
    import sys

    from jeugdkit.population import build_population
    from jeugdkit.read import reader_from_args
    from jeugdkit.tables import ledger_from_args, scope_from_args
    settings = Settings.load(getattr(args, "settings", None))
    reader = reader_from_args(args, settings)
    # --gemeente alone compares with its stedelijkheid group, as `jeugdkit tables` does
    scope = scope_from_args(args, reader.data_root, settings)
    pop = build_population(reader, args.period, settings=settings)
    history = build_history(reader, pop.period, settings)
    released = release_trajectories(pop, history, args.out, scope=scope, settings=settings,
                                    ledger=ledger_from_args(args, pop.period.label))
    notes = released.pop("_notes")["note"].tolist()
    for name, frame in released.items():
        print(f"wrote {Path(args.out) / (name + '.csv')} ({len(frame)} rows)")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"export log in {Path(args.out) / 'log'} (keep it in the RA for the checker)")
    return 0
