"""The study population of a period: one row per youth, with linked background and jeugd use.

::

    pop = build_population(Reader("G:/"), "2023H1")
    pop.frame            # one row per youth 0-22 resident on the peildatum
    pop.reconciliation   # every record read, accounted for (jeugdkit.reconciliation)
    pop.trajecten        # the trajecten built for the period, with their link to the population
    pop.notes            # files and years used, fallbacks taken, how often a rule had to choose

Definitions and choices: docs/population.md. All linking is vectorised on the Int64 person key;
a missing key (an unknown parent) never links to anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.errors import DatasetNotFoundError, JeugdkitError
from jeugdkit.periods import Period
from jeugdkit.read import KEY_SHIFT
from jeugdkit.reconciliation import Reconciliation, check_reconciliation
from jeugdkit.settings import DEFAULT, Settings
from jeugdkit.spells import active_on, choose_one, overlaps, within
from jeugdkit.trajecten import EENHEID, build_maatregelen, build_trajecten, pad_codes

IN_POPULATION = "populatie"
NOT_IN_GBA = "niet in GBAPERSOONTAB"
REQUIRED = ("GBAPERSOONTAB", "GBAADRESOBJECTBUS", "VSLGWBTAB", "JGDHULPBUS")


@dataclass
class Population:
    """The population of one period: frame, reconciliation, trajecten and notes."""

    period: Period
    classification_year: int
    frame: pd.DataFrame
    reconciliation: pd.DataFrame
    trajecten: pd.DataFrame
    maatregelen: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def lacking(self, dataset: str, *variables: str) -> str:
        """Return why an output that needs these (logical) variables cannot be made: a Dutch
        'niet berekenbaar' note naming each variable the delivery lacks and its files, or ''
        when all are there. Only assumed variables can be lacking (see Reader.gaps)."""
        gaps = [g for g in self.notes.get("missing_variables", [])
                if g["dataset"] == dataset and g["catalogus"] in variables]
        return "; ".join(
            f"variabele {g['variabele']} ontbreekt in {', '.join(g['bestanden'])} ({dataset}); "
            f"lijkt op: {', '.join(g['suggesties']) or 'niets'}; zet de naam in een eigen "
            f"catalogus (datasets.{dataset}.variables.{g['catalogus']}.name)" for g in gaps)

    def check(self) -> None:
        """Raise ReconciliationError unless the reconciliation closes on this population."""
        final = {"personen": len(self.frame)}
        for eenheid, frame in {"trajecten": self.trajecten, **self.maatregelen}.items():
            final[eenheid] = int((frame["in_periode"] & (frame["koppeling"] == IN_POPULATION)
                                  ).sum())
        check_reconciliation(self.reconciliation, final)


# ----------------------------------------------------------------------------- helpers
def resolve_classification_year(reader, period: Period,
                                requested: int | None = None) -> tuple[int, str | None]:
    """Return (classification year, note): the requested one, else the period's year if
    VSLGWBTAB has it, else the newest it has (with a note saying so)."""
    present = reader.classification_years()
    if not present:
        raise JeugdkitError(f"VSLGWBTAB ({reader.files('VSLGWBTAB')[-1].path}): no gem{{C}} "
                            "columns found; check datasets.VSLGWBTAB.variables.gemeente.name")
    if requested is not None:
        if int(requested) not in present:
            raise JeugdkitError(
                f"classification year {requested}: VSLGWBTAB ({reader.files('VSLGWBTAB')[-1].path})"
                f" has no gem{requested}; years present: {present}. Pass one of them.")
        return int(requested), None
    if period.year in present:
        return period.year, None
    chosen = max(present)
    return chosen, (f"classification year {period.year} is not in VSLGWBTAB (present: {present});"
                    f" used {chosen}, the newest present")


def _lookup(keys: pd.Series, table: pd.Series) -> np.ndarray:
    """Return positions of `keys` in `table.index` (-1 where absent or the key is NA)."""
    pos = table.index.get_indexer(keys.astype("Int64"))
    pos[keys.isna().to_numpy()] = -1
    return pos


def _take(table: pd.Series, pos: np.ndarray, fill=np.nan) -> np.ndarray:
    values = table.to_numpy()
    out = values[np.where(pos >= 0, pos, 0)] if len(values) else np.full(len(pos), fill)
    out = out.astype(object if values.dtype == object else float)
    out[pos < 0] = fill
    return out


def _cat_numbers(column: pd.Series) -> np.ndarray:
    """Return a categorical of digit codes as float (NaN where missing or not a number)."""
    column = column.astype("category")
    numbers = pd.to_numeric(pd.Series(column.cat.categories.astype(str)), errors="coerce")
    numbers = np.r_[numbers.to_numpy(dtype=float), np.nan]
    return numbers[column.cat.codes.to_numpy()]  # code -1 picks the trailing NaN


def _categorical(values, categories: list[str], unknown: str) -> pd.Categorical:
    """Return a categorical over `categories` + unknown; anything else becomes unknown."""
    cats = list(dict.fromkeys([*categories, unknown]))
    series = pd.Series(values, dtype=object)
    series = series.where(series.isin(cats), unknown)
    return pd.Categorical(series, categories=cats)


def _code_categorical(column: pd.Series, unknown: str, width: int | None = None) -> pd.Categorical:
    """Return a code categorical with missing as the explicit `unknown` category."""
    column = column.astype("category")
    if width:
        column = pad_codes(column, width)
    cats = [str(c) for c in column.cat.categories if c != unknown]
    out = column.cat.set_categories(cats + [unknown])
    return out.fillna(unknown).array


def _boolean(values: np.ndarray, na: np.ndarray | None = None) -> pd.arrays.BooleanArray:
    values = np.asarray(values, dtype=bool)
    mask = np.zeros(len(values), dtype=bool) if na is None else np.asarray(na, dtype=bool)
    return pd.arrays.BooleanArray(values, mask)


class _Run:
    """State of one build: reader, settings, notes and the reconciliation under way."""

    def __init__(self, reader, period: Period, settings: Settings):
        self.reader = reader
        self.period = period
        self.settings = settings
        self.a = settings.analysis
        self.rec = Reconciliation()
        self.messages: list[str] = []
        self.overlap_rule: dict[str, int] = {}
        self.missing_sources: list[str] = []

    def read(self, dataset: str, columns: list[str], years=None, **kw) -> pd.DataFrame | None:
        """Read a dataset; None (with a note) if it is absent and optional."""
        try:
            return self.reader.read(dataset, columns, years=years, **kw)
        except DatasetNotFoundError as exc:
            if dataset in REQUIRED or dataset not in self.a.optional_sources:
                raise
            self.missing_sources.append(dataset)
            self.messages.append(f"{dataset} absent ({exc}); its columns are "
                                 f"'{self.a.unknown_label}' or NA")
            return None


# ----------------------------------------------------------------------------- persons
def _persons(run: _Run, C: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (population frame with person, address and gemeente columns, person fates)."""
    a, pdat = run.a, run.period.peildatum
    persons = run.read("GBAPERSOONTAB", ["geslacht", "geboortejaar", "geboortemaand",
                                         "geboortedag", "herkomst", "generatie"])
    n_read = len(persons)
    reasons: list[str] = [IN_POPULATION]
    status = np.zeros(n_read, dtype=np.int16)

    def drop(mask: np.ndarray, reason: str) -> None:
        reasons.append(reason)
        status[mask] = len(reasons) - 1

    key = persons["rin"]
    no_key = key.isna().to_numpy()
    letter = key.fillna(0).to_numpy(dtype=np.int64) >> KEY_SHIFT
    not_r = ~no_key & (letter != ord(a.person_code))
    dup = ~no_key & ~not_r & persons["rin"].duplicated(keep="first").to_numpy()
    drop(no_key, "sleutel ontbreekt of ongeldig")
    drop(not_r, f"RINPERSOONS niet {a.person_code}")
    n = run.rec.step("personen", "GBAPERSOONTAB gelezen", n_read, {
        "sleutel ontbreekt of ongeldig": no_key.sum(),
        f"RINPERSOONS niet {a.person_code}": not_r.sum(),
        "dubbel record (eerste gehouden)": dup.sum()})
    # duplicates keep status 0 but are not part of any fate: the first record speaks for the key
    fate_rows = ~dup

    y = _cat_numbers(persons["geboortejaar"])
    m = _cat_numbers(persons["geboortemaand"])
    d = _cat_numbers(persons["geboortedag"])
    ok = ~(np.isnan(y) | np.isnan(m) | np.isnan(d))
    ok &= (y >= 1800) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= 31)
    yi, mi, di = (np.where(ok, v, 1).astype(np.int64) for v in (np.where(ok, y, 1970), m, d))
    months = (yi - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (mi - 1)
    born = months.astype("datetime64[D]") + (di - 1)
    ok &= born.astype("datetime64[M]") == months  # 20230231 is not a date
    age = pdat.year - yi - ((mi > pdat.month) | ((mi == pdat.month) & (di > pdat.day)))
    alive = status == 0
    stage = alive & ~dup
    no_birth = stage & ~ok
    unborn = stage & ok & (age < 0)
    too_young = stage & ok & (age >= 0) & (age < a.age_min)
    too_old = stage & ok & (age > a.age_max)
    drop(no_birth, "geen (geldige) geboortedatum")
    drop(unborn, "geboren na peildatum")
    drop(too_young, f"jonger dan {a.age_min}")
    drop(too_old, f"ouder dan {a.age_max}")
    n = run.rec.step("personen", f"leeftijd {a.age_min}-{a.age_max} op peildatum", n, {
        "geen (geldige) geboortedatum": no_birth.sum(), "geboren na peildatum": unborn.sum(),
        f"jonger dan {a.age_min}": too_young.sum(), f"ouder dan {a.age_max}": too_old.sum()})

    keep = (status == 0) & ~dup
    pos = np.flatnonzero(keep)
    youth = pd.DataFrame({
        "_pos": pos,
        "rin": persons["rin"].to_numpy()[pos],
        "geboortedatum": born[pos].astype("datetime64[ns]"),
        "leeftijd": age[pos].astype(np.int16),
        "geslacht": persons["geslacht"].array[pos],
        "generatie": persons["generatie"].array[pos],
        "herkomst": persons["herkomst"].array[pos],
    })
    del persons

    # ---- resident on the peildatum: an address spell covers it
    adres = run.read("GBAADRESOBJECTBUS", ["begin", "eind", "soortobjectnummer",
                                           "rinobjectnummer"])
    no_begin = int(adres["begin"].isna().sum())
    if no_begin:
        run.messages.append(f"GBAADRESOBJECTBUS: {no_begin} address spell(s) without a begin "
                            "date cover no day (ignored)")
    adres = adres[adres["rin"].isin(youth["rin"]).to_numpy()]
    adres = adres[active_on(adres["begin"], adres["eind"], pdat)]
    adres, n_multi = choose_one(adres, "rin", tiebreak=["rinobjectnummer"])
    run.overlap_rule["adres: meerdere adressen op peildatum"] = n_multi
    youth = youth.merge(adres[["rin", "soortobjectnummer", "rinobjectnummer"]], on="rin",
                        how="left", sort=False)
    no_address = ~youth["rin"].isin(adres["rin"]).to_numpy()
    drop(youth["_pos"].to_numpy()[no_address], "niet ingezetene op peildatum")
    n = run.rec.step("personen", "ingezetene op peildatum", n,
                     {"niet ingezetene op peildatum": no_address.sum()},
                     {"meerdere adressen op peildatum (laatste begin gekozen)": n_multi})
    youth = youth[~no_address]
    del adres

    # ---- gemeente and wijk in the classification year
    vslgwb = run.read("VSLGWBTAB", ["soortobjectnummer", "rinobjectnummer", "gemeente", "wijk"],
                      classification_year=C)
    vslgwb = vslgwb[vslgwb["rinobjectnummer"].notna().to_numpy()]
    soorts = sorted({str(c) for c in (*youth["soortobjectnummer"].cat.categories,
                                      *vslgwb["soortobjectnummer"].cat.categories)})
    for frame in (youth, vslgwb):
        frame["_soort"] = frame["soortobjectnummer"].cat.set_categories(soorts).cat.codes
    n_dup_obj = int(vslgwb.duplicated(["_soort", "rinobjectnummer"]).sum())
    if n_dup_obj:
        run.messages.append(f"VSLGWBTAB: {n_dup_obj} duplicate address object row(s); the first "
                            "is used")
        vslgwb = vslgwb.drop_duplicates(["_soort", "rinobjectnummer"])
    youth = youth.merge(vslgwb[["_soort", "rinobjectnummer", "gemeente", "wijk"]],
                        on=["_soort", "rinobjectnummer"], how="left", sort=False,
                        indicator="_in_vslgwb")
    not_in = (youth.pop("_in_vslgwb") == "left_only").to_numpy()
    no_gem = ~not_in & youth["gemeente"].isna().to_numpy()
    drop(youth["_pos"].to_numpy()[not_in], "adresobject niet in VSLGWBTAB")
    drop(youth["_pos"].to_numpy()[no_gem], f"geen gemeentecode in gem{C}")
    n = run.rec.step("personen", f"gemeente in classificatiejaar {C}", n, {
        "adresobject niet in VSLGWBTAB": not_in.sum(),
        f"geen gemeentecode in gem{C}": no_gem.sum()})
    youth = youth[~(not_in | no_gem)].reset_index(drop=True)
    assert n == len(youth)

    fates = pd.DataFrame({"rin": key.to_numpy()[fate_rows],
                          "koppeling": pd.Categorical.from_codes(status[fate_rows], reasons)})
    fates = fates[fates["rin"].notna().to_numpy()]
    return youth, fates


# ----------------------------------------------------------------------------- background
def _background(run: _Run, youth: pd.DataFrame) -> pd.DataFrame:
    """Return the youth frame with household, parents, education, income, bijstand, school."""
    a, p, pdat = run.a, run.period, run.period.peildatum
    unknown = a.unknown_label
    n = len(youth)
    flagged: dict[str, int] = {}

    # ---- household on the peildatum
    hh = run.read("GBAHUISHOUDENSBUS", ["begin", "eind", "huishoudnr", "typhh", "plhh",
                                        "aantalpershh"])
    if hh is not None:
        hh = hh[hh["rin"].isin(youth["rin"]).to_numpy()]
        hh = hh[active_on(hh["begin"], hh["eind"], pdat)]
        hh, n_multi = choose_one(hh, "rin", tiebreak=["huishoudnr"])
        run.overlap_rule["huishouden: meerdere huishoudens op peildatum"] = n_multi
        flagged["meerdere huishoudens op peildatum (laatste begin gekozen)"] = n_multi
        hid = pd.util.hash_pandas_object(hh[["huishoudnr", "begin"]], index=False).to_numpy()
        hh["huishouden_id"] = pd.arrays.IntegerArray(hid.view(np.int64),
                                                     hh["huishoudnr"].isna().to_numpy())
        youth = youth.merge(hh[["rin", "huishouden_id", "typhh", "plhh", "aantalpershh"]],
                            on="rin", how="left", sort=False)
        has_hh = youth["rin"].isin(hh["rin"]).to_numpy()
    else:
        youth["huishouden_id"] = pd.array([pd.NA] * n, dtype="Int64")
        youth["typhh"] = pd.Categorical([None] * n)
        youth["plhh"] = pd.Categorical([None] * n)
        youth["aantalpershh"] = np.nan
        has_hh = np.zeros(n, dtype=bool)
    flagged["geen huishouden op peildatum"] = int((~has_hh).sum())
    typhh = youth["typhh"].astype(object)
    youth["eenouder"] = _boolean(typhh.isin(a.one_parent_typhh).to_numpy(),
                                 typhh.isna().to_numpy())
    youth["typhh"] = _code_categorical(youth["typhh"], unknown)
    youth["plhh"] = _code_categorical(youth["plhh"], unknown)
    youth["huishoudgrootte"] = pd.array(youth.pop("aantalpershh").round(), dtype="Int64")

    # ---- legal parents (an unknown parent is NA and never links)
    ko = run.read("KINDOUDERTAB", [])
    if ko is not None:
        ko = ko[ko["rin"].isin(youth["rin"]).to_numpy()]
        n_dup = int(ko.duplicated("rin").sum())
        if n_dup:
            run.messages.append(f"KINDOUDERTAB: {n_dup} child(ren) with more than one row; the "
                                "first is used")
            ko = ko.drop_duplicates("rin")
        table = ko.set_index("rin")
        pos = _lookup(youth["rin"], table["rin_ma"])
        for col in ("rin_ma", "rin_pa"):
            values = table[col].to_numpy(dtype="int64", na_value=0)
            mask = table[col].isna().to_numpy()
            picked = values[np.where(pos >= 0, pos, 0)] if len(values) else np.zeros(n, "int64")
            miss = (pos < 0) | (mask[np.where(pos >= 0, pos, 0)] if len(mask) else True)
            youth[col] = pd.arrays.IntegerArray(picked, miss)
    else:
        youth["rin_ma"] = pd.array([pd.NA] * n, dtype="Int64")
        youth["rin_pa"] = pd.array([pd.NA] * n, dtype="Int64")
    known = youth["rin_ma"].notna().to_numpy().astype(int) + youth["rin_pa"].notna().to_numpy()
    youth["ouders_bekend"] = known.astype(np.int8)
    flagged["geen ouder bekend"] = int((known == 0).sum())
    flagged["een ouder bekend"] = int((known == 1).sum())
    parents = pd.concat([youth["rin_ma"], youth["rin_pa"]]).dropna().drop_duplicates()

    # ---- parents' highest education: HOOGSTEOPLTAB of the latest 1 October before the peildatum
    levels = [label for _, label in a.education_levels]
    opl = run.read("HOOGSTEOPLTAB", ["opleidingsniveau"], years=[p.education_year])
    if opl is not None:
        opl = opl[opl["rin"].isin(parents).to_numpy()]
        cats = opl["opleidingsniveau"].cat.categories.astype(str)
        rank_of = {digit: i for i, (digit, _) in enumerate(a.education_levels)}
        cat_rank = np.r_[[rank_of.get(c[:1], -1) for c in cats], -1]
        rank = cat_rank[opl["opleidingsniveau"].cat.codes.to_numpy()]
        best = pd.Series(rank, index=opl["rin"].to_numpy()).groupby(level=0).max()
        best = best[best >= 0]
        r_ma = _take(best, _lookup(youth["rin_ma"], best), -1)
        r_pa = _take(best, _lookup(youth["rin_pa"], best), -1)
        r = np.maximum(r_ma, r_pa).astype(int)
        labels = np.array(levels + [unknown], dtype=object)[np.where(r >= 0, r, len(levels))]
    else:
        labels = np.full(n, unknown, dtype=object)
    youth["opleiding_ouders"] = _categorical(labels, levels, unknown)
    flagged["opleiding ouders onbekend"] = int((youth["opleiding_ouders"] == unknown).sum())

    # ---- household income of the year before the peildatum's year
    iy = p.income_year
    koppel = run.read("KOPPELPERSOONHUISHOUDEN", [], years=[iy])
    inha = run.read("INHATAB", ["percentiel", "pct_lage_inkomensgrens"], years=[iy]) \
        if koppel is not None else None
    percentile = np.full(n, np.nan)
    low_pct = np.full(n, np.nan)
    if koppel is not None and inha is not None:
        koppel = koppel[koppel["rin"].isin(youth["rin"]).to_numpy()].drop_duplicates("rin")
        hkw = koppel.set_index("rin")["rin_hkw"]
        hkw_of = _take(hkw.astype("float64"), _lookup(youth["rin"], hkw))
        hkw_of = pd.Series(pd.array(hkw_of, dtype="Float64")).astype("Int64")
        inha = inha[inha["rin_hkw"].notna().to_numpy()].drop_duplicates("rin_hkw")
        inha = inha.set_index("rin_hkw")
        pos = _lookup(hkw_of, inha["percentiel"])
        percentile = _take(inha["percentiel"], pos)
        low_pct = _take(inha["pct_lage_inkomensgrens"], pos)
    groups = a.income_groups
    group = np.ceil(percentile * groups / 100.0)
    group = np.clip(group, 1, groups)
    glabels = [str(i) for i in range(1, groups + 1)]
    youth["inkomen_percentiel"] = percentile
    youth["inkomen_kwintiel"] = _categorical(
        np.where(np.isnan(group), unknown, np.nan_to_num(group).astype(int).astype(str)),
        glabels, unknown)
    youth["laag_inkomen"] = _boolean(low_pct < a.low_income_percent, np.isnan(low_pct))
    flagged["inkomen onbekend"] = int(np.isnan(percentile).sum())

    # ---- bijstand: a legal parent has a SECM spell with a bijstand code on the peildatum
    secm = run.read("SECMBUS", ["begin", "eind", "secm"])
    no_parent = known == 0
    if secm is not None:
        secm = secm[secm["rin"].isin(parents).to_numpy()]
        secm = secm[secm["secm"].isin(a.bijstand_secm).to_numpy()
                    & active_on(secm["begin"], secm["eind"], pdat)]
        on_bijstand = pd.Index(secm["rin"].dropna().unique())
        hit = np.zeros(n, dtype=bool)
        for col in ("rin_ma", "rin_pa"):
            hit |= youth[col].isin(on_bijstand).fillna(False).to_numpy(dtype=bool) & \
                youth[col].notna().to_numpy()
        youth["bijstand"] = _boolean(hit, no_parent)
    else:
        youth["bijstand"] = _boolean(np.zeros(n, bool), np.ones(n, bool))

    # ---- primary school type in the school year covering the peildatum
    types = list(run.reader.catalog["INSCHRWPOTAB"].column("typepo").codes or [])
    special = list(a.special_school_types)
    not_enrolled = "niet_ingeschreven"
    school = run.read("INSCHRWPOTAB", ["typepo"], years=[p.school_year])
    if school is not None:
        school = school[school["rin"].isin(youth["rin"]).to_numpy()]
        # more than one enrolment: the special one counts (SO before SBO before BO)
        priority = {t: i for i, t in enumerate([*reversed(special), *types])}
        school = school.assign(_prio=school["typepo"].astype(object).map(priority).fillna(99))
        school = school.sort_values(["rin", "_prio"], kind="mergesort")
        n_multi = int(school.duplicated("rin").sum())
        run.overlap_rule["school: meerdere inschrijvingen"] = n_multi
        school = school.drop_duplicates("rin").set_index("rin")
        pos = _lookup(youth["rin"], school["typepo"])
        values = _take(school["typepo"].astype(object), pos, not_enrolled)
        values = np.where(pd.isna(values), unknown, values)
        stype = _categorical(values, [*types, not_enrolled], unknown)
        na = np.asarray(stype == unknown)
        youth["speciaal_onderwijs"] = _boolean(np.isin(np.asarray(stype, dtype=object), special),
                                               na)
    else:
        stype = _categorical(np.full(n, unknown, dtype=object), [*types, not_enrolled], unknown)
        youth["speciaal_onderwijs"] = _boolean(np.zeros(n, bool), np.ones(n, bool))
    youth["schooltype"] = stype
    flagged["schooltype onbekend"] = int((youth["schooltype"] == unknown).sum())

    run.rec.step("personen", "achtergrond koppelen", n, {}, flagged)
    return youth


# ----------------------------------------------------------------------------- jeugd
def _link_spells(run: _Run, eenheid: str, spells: pd.DataFrame,
                 fates: pd.DataFrame) -> pd.DataFrame:
    """Add `in_periode` and `koppeling` to trajecten/maatregelen and continue their chain."""
    p = run.period
    in_period = overlaps(spells["begin"], spells["eind"], p.peildatum, p.einde)
    n = run.rec.step(eenheid, f"overlapt periode {p.label}", len(spells),
                     {"niet in periode": int((~in_period).sum())})
    f = fates[fates["rin"].isin(spells["rin"]).to_numpy()].set_index("rin")["koppeling"]
    reasons = _take(f.astype(object), _lookup(spells["rin"], f), NOT_IN_GBA)
    key = spells["rin"]
    letter = key.fillna(0).to_numpy(dtype=np.int64) >> KEY_SHIFT
    reasons = np.where(letter != ord(run.a.person_code), f"RINPERSOONS niet {run.a.person_code}",
                       reasons)
    reasons = np.where(key.isna().to_numpy(), "sleutel ontbreekt of ongeldig", reasons)
    koppeling = pd.Series(reasons, dtype="category")
    counts = koppeling[in_period].value_counts()
    out = {r: int(c) for r, c in counts.items() if r != IN_POPULATION and c}
    run.rec.step(eenheid, "koppeling aan populatie", n, out)
    spells = spells.assign(in_periode=in_period, koppeling=koppeling.to_numpy())
    return spells


def _jeugd(run: _Run, youth: pd.DataFrame, fates: pd.DataFrame, years: list[int]
           ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Return (youth with jeugd flags, trajecten, maatregelen)."""
    a, p = run.a, run.period
    n = len(youth)
    index = pd.Index(youth["rin"])

    trajecten, rec = build_trajecten(run.reader, years, run.settings)
    run.rec.extend(rec)
    trajecten = _link_spells(run, "trajecten", trajecten, fates)
    sel = trajecten[(trajecten["in_periode"] & (trajecten["koppeling"] == IN_POPULATION)
                     ).to_numpy()]
    pos = index.get_indexer(sel["rin"])
    assert (pos >= 0).all()

    def flag(mask) -> pd.arrays.BooleanArray:
        out = np.zeros(n, dtype=bool)
        out[pos[np.asarray(mask, dtype=bool)]] = True
        return _boolean(out)

    youth["jeugdhulp"] = flag(np.ones(len(sel), bool))
    for group, _ in a.hulpvorm_groups:
        youth[f"jeugdhulp_{group}"] = flag(sel["hulpvorm_groep"] == group)
    for _, codes in a.hulpvorm_groups:
        for code in codes:
            youth[f"jeugdhulp_hv{code}"] = flag(sel["hulpvorm"] == code)
    youth["n_trajecten"] = np.bincount(pos, minlength=n).astype(np.int32)
    youth["instroom_jeugdhulp"] = flag(within(sel["begin"], p.peildatum, p.einde))
    youth["uitstroom_jeugdhulp"] = flag(within(sel["eind"], p.peildatum, p.einde))
    latest, n_multi = choose_one(sel, "rin", tiebreak=["hulpvorm", "aanbieder"])
    gem = pd.Series(latest["gemeente"].astype(object).to_numpy(), index=latest["rin"].to_numpy())
    youth["gemeente_jeugdhulp"] = pd.Categorical(_take(gem, _lookup(youth["rin"], gem), None))
    run.overlap_rule["jeugdhulp: gemeente_jeugdhulp van het laatst begonnen traject"] = n_multi

    maatregelen = {}
    for dataset in ("JGDBESCHERMBUS", "JGDRECLASSERINGBUS"):
        eenheid = EENHEID[dataset]
        try:
            spells, rec = build_maatregelen(run.reader, dataset, years, run.settings)
        except DatasetNotFoundError as exc:
            if dataset not in a.optional_sources:
                raise
            run.missing_sources.append(dataset)
            run.messages.append(f"{dataset} absent for {years} ({exc}); {eenheid} is NA")
            youth[eenheid] = _boolean(np.zeros(n, bool), np.ones(n, bool))
            continue
        # without its (assumed) maatregel or dates a dataset says nothing: every youth would
        # look like one without a maatregel, so the flag is unknown, not false
        gaps = run.reader.lacks(dataset, "maatregel", "begin", "eind")
        if gaps:
            run.missing_sources.append(dataset)
            run.messages.append(
                f"{dataset}: " + "; ".join(f"variable {g['variabele']} not in "
                                           f"{', '.join(g['bestanden'])}" for g in gaps)
                + f"; {eenheid} is NA (set the RA name in a user catalog)")
            youth[eenheid] = _boolean(np.zeros(n, bool), np.ones(n, bool))
            continue
        run.rec.extend(rec)
        spells = _link_spells(run, eenheid, spells, fates)
        msel = spells[(spells["in_periode"] & (spells["koppeling"] == IN_POPULATION)).to_numpy()]
        out = np.zeros(n, dtype=bool)
        out[index.get_indexer(msel["rin"])] = True
        youth[eenheid] = _boolean(out)
        maatregelen[eenheid] = spells
    return youth, trajecten, maatregelen


# ----------------------------------------------------------------------------- public API
def build_population(reader, period: str | Period, classification_year: int | None = None,
                     settings: Settings | None = None,
                     jeugd_years: list[int] | None = None) -> Population:
    """Return the Population of a period: frame, reconciliation, trajecten and notes.

    `period` is `2023`, `2023H1` or `2023H2`. `classification_year` (default: the period's year
    if VSLGWBTAB has it, else the newest it has) fixes the gemeente/wijk codes. `jeugd_years`
    are the year files trajecten and maatregelen are built from (default: the period's years,
    which hold every traject overlapping the period). Raises ReconciliationError if the
    reconciliation does not close.

    Example
    -------
    >>> pop = build_population(Reader("G:/"), "2023H1")
    >>> pop.frame.groupby("gemeentecode", observed=True)["jeugdhulp"].mean()
    """
    settings = settings or DEFAULT
    period = Period.parse(period)
    run = _Run(reader, period, settings)
    log_start = len(reader.log)
    C, note = resolve_classification_year(reader, period, classification_year)
    if note:
        run.messages.append(note)

    youth, fates = _persons(run, C)
    youth = _background(run, youth)
    years = list(jeugd_years) if jeugd_years is not None else period.years
    youth, trajecten, maatregelen = _jeugd(run, youth, fates, years)
    frame = _finish(run, youth, C)

    files = [{"dataset": r.dataset, "year": r.year, "version": r.version, "path": r.path,
              "rows": r.rows, "cache": r.cache} for r in reader.log[log_start:]]
    # values the contract does not allow, read as missing (on_bad_value="missing"): counted
    # where their records enter, so the reconciliation shows them
    invalid = []
    chains = {row["eenheid"] for row in run.rec.rows}
    for r in reader.log[log_start:]:
        for column, stats in r.columns.items():
            if stats.get("invalid"):
                invalid.append({"dataset": r.dataset, "bestand": Path(r.path).name,
                                "variabele": column, "records": int(stats["invalid"])})
                eenheid = EENHEID.get(r.dataset)
                chain, step = ((eenheid, "records gelezen") if eenheid in chains
                               else ("personen", "achtergrond koppelen"))
                run.rec.flag(chain, step, f"ongeldige waarde gelezen als ontbrekend: "
                             f"{r.dataset} {column} ({Path(r.path).name})", stats["invalid"])
    notes = {"period": period.label, "peildatum": str(period.peildatum.date()),
             "einde": str(period.einde.date()), "classification_year": C,
             "income_year": period.income_year, "education_year": period.education_year,
             "school_year": period.school_year, "jeugd_years": years, "files": files,
             "missing_sources": run.missing_sources, "messages": run.messages,
             "overlap_rule": run.overlap_rule, "invalid_values": invalid,
             "missing_variables": [dict(g, bestanden=list(g["bestanden"]))
                                   for g in reader.gaps.values()]}
    pop = Population(period, C, frame, run.rec.frame(), trajecten, maatregelen, notes)
    pop.check()
    return pop


def _finish(run: _Run, youth: pd.DataFrame, C: int) -> pd.DataFrame:
    """Return the final frame: derived person columns, codes padded, columns in order."""
    a = run.a
    unknown = a.unknown_label
    age = youth["leeftijd"].to_numpy()
    group_labels = [f"{lo}-{hi}" for lo, hi in a.age_groups]
    group = np.full(len(youth), unknown, dtype=object)
    for (lo, hi), label in zip(a.age_groups, group_labels):
        group[(age >= lo) & (age <= hi)] = label
    youth["leeftijdsgroep"] = _categorical(group, group_labels, unknown)
    youth["geslacht"] = _code_categorical(youth["geslacht"], unknown)
    generations = dict(a.migration_generations)
    youth["migratieachtergrond"] = _categorical(
        youth["generatie"].astype(object).map(generations).to_numpy(),
        list(generations.values()), unknown)
    youth["generatie"] = _code_categorical(youth["generatie"], unknown)
    youth["herkomst"] = _code_categorical(youth["herkomst"], unknown)
    youth["gemeentecode"] = pad_codes(youth["gemeente"], 4).cat.remove_unused_categories().array
    youth["wijkcode"] = _code_categorical(youth["wijk"], unknown, width=6)
    youth["periode"] = pd.Categorical([run.period.label] * len(youth))
    first = ["rin", "periode", "gemeentecode", "wijkcode", "geboortedatum", "leeftijd",
             "leeftijdsgroep", "geslacht", "generatie", "migratieachtergrond", "herkomst",
             "huishouden_id", "typhh", "plhh", "eenouder", "huishoudgrootte", "rin_ma", "rin_pa",
             "ouders_bekend", "opleiding_ouders", "inkomen_percentiel", "inkomen_kwintiel",
             "laag_inkomen", "bijstand", "schooltype", "speciaal_onderwijs"]
    drop = {"_pos", "_soort", "soortobjectnummer", "rinobjectnummer", "gemeente", "wijk"}
    rest = [c for c in youth.columns if c not in first and c not in drop]
    return youth[first + rest].reset_index(drop=True)


# ----------------------------------------------------------------------------- CLI
def cli_population(args) -> int:
    """Run `jeugdkit population`: build a period's population, write FILE.parquet and
    FILE.reconciliation.csv (internal intermediates inside the RA: never export them)."""
    from jeugdkit.read import reader_from_args
    settings = Settings.load(getattr(args, "settings", None))
    reader = reader_from_args(args, settings)
    pop = build_population(reader, args.period, args.classification_year, settings)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pop.frame.to_parquet(out, index=False)
    rec_path = out.with_name(out.name.removesuffix(".parquet") + ".reconciliation.csv")
    pop.reconciliation.to_csv(rec_path, index=False)
    print(f"population {pop.period.label}: {len(pop.frame):,} youths, peildatum "
          f"{pop.notes['peildatum']}, classification year {pop.classification_year}")
    for message in pop.notes["messages"]:
        print(f"note: {message}")
    print(f"wrote {out} and {rec_path} (internal: never export)")
    return 0

