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

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.errors import JeugdkitError
from jeugdkit.population import IN_POPULATION
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.spells import active_on, within

NATIONAL = "NL"
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


def _stroom_long(pop, gemeente: str | None) -> pd.DataFrame:
    """Return one row per (traject, stroom) it belongs to."""
    t = period_trajecten(pop, gemeente)
    p = pop.period
    masks = {"beginstand": active_on(t["begin"], t["eind"], p.peildatum),
             "instroom": within(t["begin"], p.peildatum, p.einde),
             "uitstroom": within(t["eind"], p.peildatum, p.einde),
             "eindstand": active_on(t["begin"], t["eind"], p.einde)}
    return pd.concat([t[m].assign(stroom=s) for s, m in masks.items()], ignore_index=True)


def stroom(pop, unit: str = "trajecten", gemeente: str | None = None,
           settings: Settings | None = None) -> pd.DataFrame:
    """Return stock and flow by hulpvorm: beginstand (active on the peildatum), instroom (begun
    in the period), uitstroom (ended in the period), eindstand (active on the last day).

    Columns hulpvorm (code or ``totaal``), stroom, aantal.
    """
    settings = settings or DEFAULT
    _check_unit(unit)
    long = _stroom_long(pop, gemeente)
    out = _tabulate(long, ["stroom", "hulpvorm"], unit, settings.output_control.total_label,
                    {"stroom": list(STROOM)})
    out = out[out["stroom"] != settings.output_control.total_label]
    return out[["hulpvorm", "stroom", "aantal"]].reset_index(drop=True)


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


def default_reference_path(data_root) -> Path:
    """Return the default gemeente reference file: gemeenten.csv beside the data root."""
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
def _yes_no(values: np.ndarray) -> np.ndarray:
    return np.where(values, "ja", "nee")


def _released_indicators(run, pop, groups, settings, label) -> pd.DataFrame:
    """Return indicators from counts released through `run` (NA where suppressed)."""
    a = settings.analysis
    total = settings.output_control.total_label
    c = _person_counts(pop.frame, a)
    minors = c[c["jongeren_0_17"] == 1]
    older = c[c["jongeren_12_22"] == 1]
    hier = None
    if groups:
        group_of = {}
        for g, codes in groups.items():
            group_of.update({str(code): f"groep:{g}" for code in codes})
        hier = {"gemeentecode": {code: group_of.get(code, "groep:overig")
                                 for code in sorted(c["gemeentecode"].unique())}}
    d_hulp = pd.DataFrame({"gemeentecode": minors["gemeentecode"],
                           "jeugdhulp": _yes_no(minors["jeugdhulp_0_17"] == 1),
                           "met_verblijf": _yes_no(minors["met_verblijf_0_17"] == 1)})
    d_jb = pd.DataFrame({"gemeentecode": minors["gemeentecode"],
                         "jeugdbescherming": _yes_no(minors["jeugdbescherming_0_17"] == 1),
                         "jb_met_verblijf": _yes_no(minors["jb_met_verblijf_0_17"] == 1)})
    d_jr = pd.DataFrame({"gemeentecode": older["gemeentecode"],
                         "jeugdreclassering": _yes_no(older["jeugdreclassering_12_22"] == 1)})
    yn = ["ja", "nee"]
    pop0 = f"jongeren-0-17-{label}"
    t_hulp, t_jb = run.freq_tables([
        dict(data=d_hulp, dims=["gemeentecode", "jeugdhulp", "met_verblijf"],
             name="ind_jeugdhulp", unit="jongeren", population=pop0,
             hierarchies=hier, levels={"jeugdhulp": yn, "met_verblijf": yn},
             structural=pd.DataFrame({"jeugdhulp": ["nee"], "met_verblijf": ["ja"]}),
             description="indicator counts: jeugdhulp and met verblijf, 0-17"),
        dict(data=d_jb, dims=["gemeentecode", "jeugdbescherming", "jb_met_verblijf"],
             name="ind_jeugdbescherming", unit="jongeren", population=pop0,
             hierarchies=hier, levels={"jeugdbescherming": yn, "jb_met_verblijf": yn},
             structural=pd.DataFrame({"jeugdbescherming": ["nee"], "jb_met_verblijf": ["ja"]}),
             description="indicator counts: jeugdbescherming, also met verblijf, 0-17"),
    ])
    t_jr = run.freq_table(d_jr, ["gemeentecode", "jeugdreclassering"], name="ind_jeugdreclassering",
                          unit="jongeren", population=f"jongeren-12-22-{label}",
                          hierarchies=hier, levels={"jeugdreclassering": yn},
                          description="indicator counts: jeugdreclassering, 12-22")

    def pick(table, **codes) -> pd.Series:
        m = np.ones(len(table), dtype=bool)
        for d, v in codes.items():
            m &= (table[d].astype(str) == v).to_numpy()
        return table[m].set_index("gemeentecode")["aantal"]

    cols = {
        "jongeren_0_17": pick(t_hulp, jeugdhulp=total, met_verblijf=total),
        "jeugdhulp_0_17": pick(t_hulp, jeugdhulp="ja", met_verblijf=total),
        "met_verblijf_0_17": pick(t_hulp, jeugdhulp="ja", met_verblijf="ja"),
        "jeugdbescherming_0_17": pick(t_jb, jeugdbescherming="ja", jb_met_verblijf=total),
        "jb_met_verblijf_0_17": pick(t_jb, jeugdbescherming="ja", jb_met_verblijf="ja"),
        "jongeren_12_22": pick(t_jr, jeugdreclassering=total),
        "jeugdreclassering_12_22": pick(t_jr, jeugdreclassering="ja"),
    }
    out = pd.DataFrame(cols)
    out.index = out.index.astype(str)
    out = out.reset_index().rename(columns={"index": "gemeentecode"})
    out = out[out["gemeentecode"] != "groep:overig"]
    is_group = out["gemeentecode"].str.startswith("groep:")
    out["groep"] = np.where(is_group, out["gemeentecode"].str.removeprefix("groep:"), "")
    out["gemeentecode"] = np.where(is_group, "", out["gemeentecode"].replace(total, NATIONAL))
    out = _add_rates(out)
    first = ["gemeentecode", "groep"] if groups else ["gemeentecode"]
    return out[first + list(INDICATOR_COLUMNS)]


def _release_by_person(run, data, dims, split, *, name, label, settings, levels):
    """Release a unit-jongeren table in which `split` does not partition the youths: one
    freq_table per value of `split` (and its total), each over its own population."""
    total = settings.output_control.total_label
    parts = []
    values = [*levels, *sorted(set(data[split].astype(str)) - set(levels)), total]
    for value in values:
        sub = data if value == total else data[data[split].astype(str) == value]
        persons = sub.drop_duplicates(["rin", *dims])
        if persons.empty:
            if not dims:
                parts.append(pd.DataFrame({"aantal": [0], split: [value]}))
            continue
        if dims:
            persons = persons[["rin", *dims]]
            table = run.freq_table(persons.drop(columns="rin"), dims,
                                   name=f"{name}_{value}", unit="jongeren",
                                   population=f"{name}-{label}-{split}={value}",
                                   description=f"{name}, {split} = {value}")
        else:
            table = run.freq_table(pd.DataFrame({"alle": ["alle"] * len(persons)}), ["alle"],
                                   name=f"{name}_{value}", unit="jongeren",
                                   population=f"{name}-{label}-{split}={value}")
            table = table[table["alle"] == total].drop(columns="alle")
        parts.append(table.assign(**{split: value}))
    return pd.concat(parts, ignore_index=True)


def release_tables(pop, out, *, groups: dict | None = None, gemeente: str | None = None,
                   unit: str | None = None, settings: Settings | None = None,
                   run_name: str | None = None) -> dict[str, pd.DataFrame]:
    """Release indicators and the standard tables through one ExportSession; return them.

    Writes ``indicators.csv``, ``instroom_verwijzer.csv``, ``gebruik_leeftijd_geslacht.csv``,
    ``stroom.csv`` and the export log (results.json, summary.md, checksums) to `out`.
    `unit` overrides the default unit of the standard tables (instroom and stroom:
    trajecten; gebruik: jongeren). Suppressed counts are empty; a percentage is empty when
    its numerator or denominator is.
    """
    from jeugdkit.output import ExportSession
    settings = settings or DEFAULT
    label = pop.period.label
    run = ExportSession(run_name or f"tables-{label}", settings=settings)
    released = {"indicators": _released_indicators(run, pop, groups, settings, label)}

    t = period_trajecten(pop, gemeente)
    groep_levels = _groep_levels(settings)
    p = pop.period
    ins = t[within(t["begin"], p.peildatum, p.einde)]
    u_ins = unit or "trajecten"
    u_geb = unit or "jongeren"
    u_str = unit or "trajecten"
    for u in (u_ins, u_geb, u_str):
        _check_unit(u)
    if u_ins == "trajecten":
        released["instroom_verwijzer"] = run.freq_table(
            ins, ["verwijzer", "hulpvorm_groep"], name="instroom", unit="trajecten",
            population=f"trajecten-instroom-{label}", levels={"hulpvorm_groep": groep_levels})
    else:
        parts = []
        total = settings.output_control.total_label
        for v in [*sorted(set(ins["verwijzer"])), total]:
            sub = ins if v == total else ins[ins["verwijzer"] == v]
            part = _release_by_person(run, sub, [], "hulpvorm_groep",
                                      name=f"instroom_v{v}", label=label, settings=settings,
                                      levels=groep_levels)
            parts.append(part.assign(verwijzer=v))
        released["instroom_verwijzer"] = pd.concat(parts, ignore_index=True)
    if u_geb == "jongeren":
        released["gebruik_leeftijd_geslacht"] = _release_by_person(
            run, t, ["leeftijdsgroep", "geslacht"], "hulpvorm_groep", name="gebruik",
            label=label, settings=settings, levels=groep_levels)
    else:
        released["gebruik_leeftijd_geslacht"] = run.freq_table(
            t, ["leeftijdsgroep", "geslacht", "hulpvorm_groep"], name="gebruik",
            unit="trajecten", population=f"trajecten-{label}",
            levels={"hulpvorm_groep": groep_levels})
    long = _stroom_long(pop, gemeente)
    parts = []
    for s in STROOM:
        sub = long[long["stroom"] == s]
        if u_str == "trajecten":
            table = run.freq_table(sub, ["hulpvorm"], name=f"stroom_{s}", unit="trajecten",
                                   population=f"trajecten-{s}-{label}")
        else:
            table = run.freq_table(sub.drop_duplicates(["rin", "hulpvorm"])
                                   .drop(columns="rin"), ["hulpvorm"], name=f"stroom_{s}",
                                   unit="jongeren", population=f"jongeren-{s}-{label}")
        parts.append(table.assign(stroom=s))
    released["stroom"] = pd.concat(parts, ignore_index=True)

    columns = {"instroom_verwijzer": ["verwijzer", "hulpvorm_groep", "aantal"],
               "gebruik_leeftijd_geslacht": ["leeftijdsgroep", "geslacht", "hulpvorm_groep",
                                             "aantal"],
               "stroom": ["hulpvorm", "stroom", "aantal"]}
    for name, cols in columns.items():
        frame = released[name][cols].copy()
        frame["aantal"] = frame["aantal"].astype("Int64")
        released[name] = frame.reset_index(drop=True)

    out = Path(out)
    run.write(out / "log")
    for name, frame in released.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    return released


# ----------------------------------------------------------------------------- CLI
def cli_tables(args) -> int:
    """Run `jeugdkit tables`: build the period's population and release the trap-1 tables."""
    from jeugdkit.population import build_population
    from jeugdkit.read import Reader
    settings = Settings.load(getattr(args, "settings", None))
    reader = Reader(args.data_root, catalog=args.catalog, cache_dir=args.cache_dir)
    pop = build_population(reader, args.period, settings=settings)
    groups = None
    if args.compare:
        if not args.gemeente:
            raise JeugdkitError("--compare needs --gemeente CODE")
        ref_path = args.reference or default_reference_path(reader.data_root)
        groups = comparison_group(read_reference(ref_path), args.gemeente, by=args.compare,
                                  settings=settings)
    released = release_tables(pop, args.out, groups=groups, unit=args.unit,
                              gemeente=args.gemeente, settings=settings)
    for name, frame in released.items():
        print(f"wrote {Path(args.out) / (name + '.csv')} ({len(frame)} rows)")
    print(f"export log in {Path(args.out) / 'log'} (keep it in the RA for the checker)")
    return 0
