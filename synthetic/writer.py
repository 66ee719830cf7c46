"""Write the RA tree: SPSS .sav files with labels, in the contract's layout and with its quirks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from jeugdkit.catalog import load_catalog
from synthetic import labels as LB
from synthetic.dates import OPEN_DAY, day, to_str, year_start
from synthetic.population import EXIT_NEVER, HERKOMST

# SPSS header: creation date (9 bytes) and time (8 bytes) at byte 92; fixed for reproducibility.
HEADER_STAMP_OFFSET = 92
HEADER_STAMP = b"01 Jan 2500:00:00"
# Datasets that sit in a year folder (contract section 1).
YEAR_FOLDER = {"GBAPERSOONTAB", "HOOGSTEOPLTAB"}


def rin(pid) -> np.ndarray:
    """Return the 9-character RINPERSOON of person numbers (a fixed bijection, zeros kept)."""
    x = (np.asarray(pid, dtype=np.int64) * 387_420_489 + 12_345_678) % 10 ** 9
    return _zfill(x, 9)


def huishoudnr(hid) -> np.ndarray:
    x = (np.asarray(hid, dtype=np.int64) * 7_919_191 + 4_242) % 10 ** 12
    return _zfill(x, 12)


def rinobject(addr) -> np.ndarray:
    x = (np.asarray(addr, dtype=np.int64) * 2_654_435_761 + 99_991) % 10 ** 16
    return _zfill(x, 16)


def _zfill(x: np.ndarray, width: int) -> np.ndarray:
    if len(x) == 0:
        return np.array([], dtype=object)
    return np.char.zfill(x.astype(f"U{width}"), width).astype(object)


def write_sav(df: pd.DataFrame, path: Path, column_labels: dict, value_labels: dict,
              file_label: str = "") -> None:
    """Write one .sav file with labels and a fixed header timestamp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # object columns write about twice as fast as pandas' arrow-backed strings
    df = pd.DataFrame({c: (df[c].to_numpy(dtype=object) if not pd.api.types.is_numeric_dtype(
        df[c]) else df[c].to_numpy()) for c in df.columns}, dtype=None)
    df = df.astype({c: object for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])})
    pyreadstat.write_sav(df, str(tmp), file_label=file_label,
                         column_labels={c: column_labels.get(c, c) for c in df.columns},
                         variable_value_labels={c: v for c, v in value_labels.items()
                                                if c in df.columns})
    with open(tmp, "r+b") as fh:
        fh.seek(HEADER_STAMP_OFFSET)
        fh.write(HEADER_STAMP)
    os.replace(tmp, path)


class TreeWriter:
    """Writes every dataset of the contract under a data root, using catalog names."""

    def __init__(self, root: Path, world, progress=None):
        self.root = Path(root)
        self.w = world
        self.cat = load_catalog(None)
        self.files: list[dict] = []
        self.progress = progress

    # ---------------------------------------------------------------- helpers
    def path(self, dataset: str, year: int, version: int = 1, pattern: int = 0,
             ext: str | None = None) -> Path:
        ds = self.cat[dataset]
        name = ds.files[pattern].replace("{Y}", str(year)).replace("{n}", str(version))
        if ext is not None:
            name = name[: name.rfind(".")] + ext
        folder = self.root / ds.relative_folder
        if dataset in YEAR_FOLDER:
            folder = folder / str(year)
        return folder / name

    def v(self, dataset: str, key: str) -> str:
        return self.cat[dataset].variables[key].name

    def k(self, dataset: str, key: str = "rin") -> tuple[str, str]:
        return self.cat[dataset].keys[key]

    def _write(self, dataset, year, df, col_labels, val_labels, version=1, pattern=0, ext=None,
               note=""):
        p = self.path(dataset, year, version, pattern, ext)
        write_sav(df, p, col_labels, val_labels, file_label=f"{dataset} {year} (synthetic)")
        self.files.append({"dataset": dataset, "year": year, "version": version,
                           "path": str(p.relative_to(self.root)), "rows": len(df), "note": note})

    def write_all(self):
        steps = [self.gbapersoon, self.adres, self.huishoudens, self.kindouder, self.vslgwb,
                 self.secm, self.inha, self.hoogsteopl, self.wpo, self.jgdhulp,
                 self.jgdbescherm, self.jgdreclassering]
        it = self.progress(steps, desc="writing", unit="dataset") if self.progress else steps
        for step in it:
            step()
        return self.files

    # ---------------------------------------------------------------- Bevolking
    def gbapersoon(self):
        w = self.w
        per = w.pop.persons
        n = w.pop.n_persons
        pid = np.arange(n)
        by, bm, bd = (np.asarray(x) for x in _ymd(per["birth"]))
        rng = np.random.default_rng(w.opts.seed + 7)
        old = np.flatnonzero(by < 1955)
        # missing codes on purpose, only for people who never enter the youth frame
        unk_sex = old[rng.random(len(old)) < 0.002]
        unk_day = old[(rng.random(len(old)) < 0.01) & (per["gen"][old] == 1)]
        unk_land = old[(rng.random(len(old)) < 0.01) & (per["gen"][old] == 1)]
        sex = per["sex"].astype("U1").astype(object)
        sex[unk_sex] = "-"
        dd = np.char.zfill(bd.astype("U2"), 2).astype(object)
        dd[unk_day] = "--"
        land = HERKOMST[per["land"]].copy()
        land[unk_land] = "----"
        D = "GBAPERSOONTAB"
        S, R = self.k(D)
        df = pd.DataFrame({
            S: "R", R: rin(pid), self.v(D, "geslacht"): sex,
            self.v(D, "geboortejaar"): by.astype("U4").astype(object),
            self.v(D, "geboortemaand"): np.char.zfill(bm.astype("U2"), 2).astype(object),
            self.v(D, "geboortedag"): dd, self.v(D, "geboorteland"): land,
            self.v(D, "herkomst"): HERKOMST[per["herk"]],
            self.v(D, "generatie"): per["gen"].astype("U1").astype(object)})
        labels = {S: "Soort RIN persoon", R: "RIN persoon", self.v(D, "geslacht"): "Geslacht",
                  self.v(D, "geboortejaar"): "Geboortejaar", self.v(D, "geboortemaand"):
                  "Geboortemaand", self.v(D, "geboortedag"): "Geboortedag",
                  self.v(D, "geboorteland"): "Geboorteland",
                  self.v(D, "herkomst"): "Herkomstgroepering",
                  self.v(D, "generatie"): "Generatie"}
        vl = {self.v(D, "geslacht"): LB.GESLACHT, self.v(D, "geboorteland"): LB.HERKOMST,
              self.v(D, "herkomst"): LB.HERKOMST, self.v(D, "generatie"): LB.GENERATIE}
        L = w.opts.last
        self._write(D, L, df, labels, vl)
        # an older cumulative file under the variant name: the reader must take the newest year
        older = per["entry"] <= day(L) - 1
        self._write(D, L - 1, df[older].reset_index(drop=True), labels, vl, pattern=1,
                    note="older cumulative file, variant name")

    def adres(self):
        w = self.w
        sp = w.pop.addr_spells
        D = "GBAADRESOBJECTBUS"
        S, R = self.k(D)
        o = np.lexsort((sp["begin"], sp["pid"]))
        addr = sp["addr"][o]
        df = pd.DataFrame({
            S: "R", R: rin(sp["pid"][o]), self.v(D, "begin"): to_str(sp["begin"][o]),
            self.v(D, "eind"): to_str(sp["end"][o]),
            self.v(D, "soortobjectnummer"): np.where(w.geo.addr_nvb[addr], "NVB", "VBO")
            .astype(object), self.v(D, "rinobjectnummer"): rinobject(addr)})
        labels = {S: "Soort RIN persoon", R: "RIN persoon",
                  self.v(D, "begin"): "Datum aanvang adreshouding",
                  self.v(D, "eind"): "Datum einde adreshouding",
                  self.v(D, "soortobjectnummer"): "Soort object",
                  self.v(D, "rinobjectnummer"): "RIN object"}
        self._write(D, w.opts.last, df, labels,
                    {self.v(D, "soortobjectnummer"): LB.SOORTOBJECT})

    def huishoudens(self):
        w = self.w
        sp = w.pop.hh_spells
        D = "GBAHUISHOUDENSBUS"
        S, R = self.k(D)
        o = np.lexsort((sp["begin"], sp["pid"]))
        plhh = np.char.rjust(sp["plhh"][o].astype("U2"), 2).astype(object)
        df = pd.DataFrame({
            S: "R", R: rin(sp["pid"][o]), self.v(D, "begin"): to_str(sp["begin"][o]),
            self.v(D, "eind"): to_str(sp["end"][o]),
            self.v(D, "huishoudnr"): huishoudnr(sp["hid"][o]),
            self.v(D, "typhh"): sp["typ"][o].astype("U1").astype(object),
            self.v(D, "plhh"): plhh,
            self.v(D, "aantalpershh"): sp["size"][o].astype(float),
            self.v(D, "aantalkindhh"): sp["nkid"][o].astype(float)})
        labels = {S: "Soort RIN persoon", R: "RIN persoon",
                  self.v(D, "begin"): "Datum aanvang huishouden",
                  self.v(D, "eind"): "Datum einde huishouden",
                  self.v(D, "huishoudnr"): "Huishoudnummer",
                  self.v(D, "typhh"): "Type huishouden",
                  self.v(D, "plhh"): "Plaats in het huishouden",
                  self.v(D, "aantalpershh"): "Aantal personen in het huishouden",
                  self.v(D, "aantalkindhh"): "Aantal kinderen in het huishouden"}
        self._write(D, w.opts.last, df, labels,
                    {self.v(D, "typhh"): LB.TYPHH, self.v(D, "plhh"): LB.PLHH})

    def kindouder(self):
        w = self.w
        per = w.pop.persons
        D = "KINDOUDERTAB"
        S, R = self.k(D)
        Sm, Rm = self.k(D, "rin_ma")
        Sp, Rp = self.k(D, "rin_pa")
        mo, fa = per["mother"], per["father"]
        pid = np.flatnonzero((mo >= 0) | (fa >= 0))
        mo, fa = mo[pid], fa[pid]
        df = pd.DataFrame({
            S: "R", R: rin(pid), Sm: np.where(mo >= 0, "R", "-").astype(object),
            Rm: np.where(mo >= 0, rin(np.maximum(mo, 0)), "---------").astype(object),
            Sp: np.where(fa >= 0, "R", "-").astype(object),
            Rp: np.where(fa >= 0, rin(np.maximum(fa, 0)), "---------").astype(object)})
        labels = {S: "Soort RIN kind", R: "RIN kind", Sm: "Soort RIN moeder", Rm: "RIN moeder",
                  Sp: "Soort RIN vader", Rp: "RIN vader"}
        self._write(D, w.opts.last, df, labels, {})

    # ---------------------------------------------------------------- BouwenWonen
    def vslgwb(self):
        w = self.w
        geo = w.geo
        D = "VSLGWBTAB"
        n = len(geo.addr_gem)
        base = {self.v(D, "soortobjectnummer"): np.where(geo.addr_nvb, "NVB", "VBO").astype(object),
                self.v(D, "rinobjectnummer"): rinobject(np.arange(n))}
        spec = self.cat[D].variables
        cols, labels = dict(base), {self.v(D, "soortobjectnummer"): "Soort object",
                                    self.v(D, "rinobjectnummer"): "RIN object"}
        per_year = {}
        for y in range(w.opts.first, w.opts.last + 1):
            gem, wc, bc = geo.vslgwb_columns(y)
            per_year[y] = [(spec["gemeente"].ra_name(y), gem, f"Gemeentecode {y}"),
                           (spec["wijk"].ra_name(y), wc, f"Wijkcode {y}"),
                           (spec["buurt"].ra_name(y), bc, f"Buurtcode {y}")]
        for last in (w.opts.last - 1, w.opts.last):
            c, lab = dict(cols), dict(labels)
            for y in range(w.opts.first, last + 1):
                for name, arr, text in per_year[y]:
                    c[name] = arr
                    lab[name] = text
            self._write(D, last, pd.DataFrame(c), lab, {},
                        note="" if last == w.opts.last else "older cumulative file")

    # ---------------------------------------------------------------- Inkomen
    def secm(self):
        w = self.w
        sp = w.bg.secm
        D = "SECMBUS"
        S, R = self.k(D)
        o = np.lexsort((sp["begin"], sp["pid"]))
        df = pd.DataFrame({S: "R", R: rin(sp["pid"][o]), self.v(D, "begin"):
                           to_str(sp["begin"][o]), self.v(D, "eind"): to_str(sp["end"][o]),
                           self.v(D, "secm"): sp["code"][o].astype("U2").astype(object)})
        labels = {S: "Soort RIN persoon", R: "RIN persoon", self.v(D, "begin"): "Aanvang SECM",
                  self.v(D, "eind"): "Einde SECM",
                  self.v(D, "secm"): "Sociaaleconomische categorie"}
        self._write(D, w.opts.last, df, labels, {self.v(D, "secm"): LB.SECM})

    def inha(self):
        w = self.w
        D, K = "INHATAB", "KOPPELPERSOONHUISHOUDEN"
        Sh, Rh = self.k(D, "rin_hkw")
        S, R = self.k(K)
        quirk_year = w.opts.first - 1
        for y in range(w.opts.first - 1, w.opts.last + 1):
            t = w.bg.inha[y]
            o = np.argsort(t["hkw"], kind="stable")
            df = pd.DataFrame({Sh: "R", Rh: rin(t["hkw"][o]),
                               self.v(D, "percentiel"): t["percentile"][o].astype(float),
                               self.v(D, "pct_lage_inkomensgrens"): t["harmlag"][o].astype(float),
                               self.v(D, "samenstelling"):
                                   t["samhh"][o].astype("U1").astype(object),
                               self.v(D, "aantal_personen"): t["size"][o].astype(float)})
            labels = {Sh: "Soort RIN hoofdkostwinner", Rh: "RIN hoofdkostwinner",
                      self.v(D, "percentiel"): "Percentiel gestandaardiseerd huishoudinkomen",
                      self.v(D, "pct_lage_inkomensgrens"):
                          "Inkomen als percentage van de lage-inkomensgrens",
                      self.v(D, "samenstelling"): "Samenstelling huishouden",
                      self.v(D, "aantal_personen"): "Aantal personen in het huishouden"}
            vl = {self.v(D, "samenstelling"): LB.INHSAMHH}
            self._write_versions(D, y, df, labels, vl, superseded=y == quirk_year,
                                 seed_offset=11, drop=0.04, what="households")
            k = w.bg.koppel[y]
            o = np.lexsort((k["pid"], k["hkw"]))
            dk = pd.DataFrame({S: "R", R: rin(k["pid"][o]), Sh: "R", Rh: rin(k["hkw"][o])})
            self._write(K, y, dk, {S: "Soort RIN persoon", R: "RIN persoon",
                                   Sh: "Soort RIN hoofdkostwinner",
                                   Rh: "RIN hoofdkostwinner"}, {})

    # ---------------------------------------------------------------- Onderwijs
    def hoogsteopl(self):
        w = self.w
        D = "HOOGSTEOPLTAB"
        S, R = self.k(D)
        name = self.v(D, "opleidingsniveau")
        switch = w.opts.first + 3
        for y in range(w.opts.first - 1, w.opts.last + 1):
            t = w.bg.hoogsteopl[y]
            col = name.upper() if y >= switch else name
            df = pd.DataFrame({S: "R", R: rin(t["pid"]), col: t["code"],
                               self.v(D, "gewicht"): t["weight"]})
            self._write(D, y, df, {S: "Soort RIN persoon", R: "RIN persoon",
                                   col: "Hoogst behaald onderwijsniveau (SOI 2021, 4 cijfers)",
                                   self.v(D, "gewicht"): "Ophooggewicht"}, {},
                        note="variable name upper case" if col != name else "")

    def wpo(self):
        w = self.w
        D = "INSCHRWPOTAB"
        S, R = self.k(D)
        for y in range(w.opts.first - 1, w.opts.last + 1):
            t = w.bg.school[y]
            df = pd.DataFrame({S: "R", R: rin(t["pid"]), self.v(D, "typepo"): t["type"],
                               self.v(D, "leerjaar"):
                                   np.char.rjust(t["leerjaar"].astype("U2"), 2).astype(object)})
            ext = ".SAV" if y == w.opts.first else None
            self._write(D, y, df, {S: "Soort RIN persoon", R: "RIN persoon",
                                   self.v(D, "typepo"): "Type primair onderwijs",
                                   self.v(D, "leerjaar"): "Leerjaar"},
                        {self.v(D, "typepo"): LB.WPOTYPE, self.v(D, "leerjaar"): LB.LEERJAAR},
                        ext=ext, note="upper-case extension" if ext else "")

    # ---------------------------------------------------------------- Jeugd
    def _write_versions(self, dataset, year, df, labels, value_labels, superseded: bool,
                        seed_offset: int, drop: float, what: str):
        """Write a dataset-year; with `superseded`, first a wrong V1 that misses a share of the
        rows, then the right V2 (the contract's V1/V2 quirk)."""
        if not superseded:
            self._write(dataset, year, df, labels, value_labels)
            return
        rng = np.random.default_rng(self.w.opts.seed + seed_offset)
        keep = rng.random(len(df)) >= drop
        self._write(dataset, year, df[keep].reset_index(drop=True), labels, value_labels,
                    version=1, note=f"superseded version: {drop:.0%} of {what} missing")
        self._write(dataset, year, df, labels, value_labels, version=2)

    def _keys(self, pid):
        other = self.w.jeugd.other_persons
        pid = np.asarray(pid)
        o = np.maximum(-1 - pid, 0)
        s = np.where(pid >= 0, "R", other["rinpersoons"][o]).astype(object)
        r = np.where(pid >= 0, rin(np.maximum(pid, 0)), other["rin"][o]).astype(object)
        return s, r

    def _per_year(self, df):
        """Yield (year, rows active in that year) for records that span years."""
        L = self.w.opts.last
        b = df["begin"].to_numpy()
        e = np.where(df["end"].to_numpy() < 0, OPEN_DAY, df["end"].to_numpy())
        for y in range(self.w.opts.first, L + 1):
            y0, y1 = int(year_start([y])[0]), int(year_start([y + 1])[0]) - 1
            m = (b <= y1) & (e >= y0)
            yield y, df[m].sort_values(["pid", "begin", "hulpvorm" if "hulpvorm" in df
                                        else "maatregel"]).reset_index(drop=True)

    def jgdhulp(self):
        w = self.w
        D = "JGDHULPBUS"
        S, R = self.k(D)
        v = {k: self.v(D, k) for k in self.cat[D].variables}
        quirk_year = w.opts.last - 1
        for y, t in self._per_year(w.jeugd.trajecten):
            s, r = self._keys(t["pid"])
            end = t["end"].to_numpy()
            cols = {S: s, R: r, v["hulpvorm"]: t["hulpvorm"].to_numpy(),
                    v["begin"]: to_str(t["begin"].to_numpy()),
                    v["eind"]: to_str(np.maximum(end, 0), missing=end < 0),
                    v["verwijzer"]: t["verwijzer"].to_numpy(),
                    v["reden_einde"]: t["reden"].to_numpy()}
            if y <= 2018:
                cols[v["perspectief"]] = t["perspectief"].to_numpy()
            else:
                cols[v["crisis"]] = t["crisis"].to_numpy()
            cols[v["aanbieder"]] = t["aanbieder"].to_numpy()
            cols[v["gemeente"]] = t["gemeente"].to_numpy()
            cols[v["cijfer"]] = t["cijfer"].to_numpy()
            cols[v["zelfstandig"]] = t["zelfstandig"].to_numpy()
            df = pd.DataFrame(cols)
            labels = {S: "Soort RIN persoon", R: "RIN persoon", v["hulpvorm"]: "Hulpvorm",
                      v["begin"]: "Begindatum traject", v["eind"]: "Einddatum traject",
                      v["verwijzer"]: "Verwijzer", v["reden_einde"]: "Reden beëindiging",
                      v["perspectief"]: "Perspectief", v["crisis"]: "Crisis",
                      v["aanbieder"]: "Jeugdhulpaanbieder (pseudoniem)",
                      v["gemeente"]: "Gemeente (woonplaatsbeginsel)",
                      v["cijfer"]: "Cijfer nut van de hulp",
                      v["zelfstandig"]: "Kan zelfstandig verder zonder hulp"}
            vl = {v["hulpvorm"]: LB.HULPVORM, v["verwijzer"]: LB.VERWIJZER,
                  v["reden_einde"]: LB.REDEN, v["perspectief"]: LB.PERSPECTIEF,
                  v["crisis"]: LB.CRISIS, v["zelfstandig"]: LB.ZELFSTANDIG}
            self._write_versions(D, y, df, labels, vl, superseded=y == quirk_year,
                                 seed_offset=13, drop=0.03, what="trajecten")

    def jgdbescherm(self):
        self._maatregelen("JGDBESCHERMBUS", self.w.jeugd.bescherming,
                          {"maatregel": LB.JGDBMAATREGEL, "reden_einde": LB.JGDBREDEN})

    def jgdreclassering(self):
        self._maatregelen("JGDRECLASSERINGBUS", self.w.jeugd.reclassering,
                          {"maatregel": LB.JGDRMAATREGEL, "reden_einde": LB.JGDRREDEN,
                           "erkende_interventie": LB.ERKEND})

    # logical variable -> (column of the simulated records, variable label)
    _MAATREGEL_COLUMNS = {"maatregel": ("maatregel", "Maatregel"),
                          "reden_einde": ("reden", "Reden einde"),
                          "erkende_interventie": ("erkend", "Erkende interventie"),
                          "gemeente": ("gemeente", "Gemeente")}

    def _maatregelen(self, dataset: str, records: pd.DataFrame, value_labels: dict):
        """Write a maatregel dataset (jeugdbescherming, jeugdreclassering), one file per year."""
        S, R = self.k(dataset)
        v = {k: self.v(dataset, k) for k in self.cat[dataset].variables}
        extra = [k for k in self._MAATREGEL_COLUMNS if k in v]
        labels = {S: "Soort RIN persoon", R: "RIN persoon", v["begin"]: "Begindatum",
                  v["eind"]: "Einddatum",
                  **{v[k]: self._MAATREGEL_COLUMNS[k][1] for k in extra}}
        for y, t in self._per_year(records):
            s, r = self._keys(t["pid"])
            end = t["end"].to_numpy()
            df = pd.DataFrame({S: s, R: r, v["begin"]: to_str(t["begin"].to_numpy()),
                               v["eind"]: to_str(np.maximum(end, 0), missing=end < 0),
                               **{v[k]: t[self._MAATREGEL_COLUMNS[k][0]].to_numpy()
                                  for k in extra}})
            self._write(dataset, y, df, labels, {v[k]: lab for k, lab in value_labels.items()})


def _ymd(days):
    from synthetic.dates import ymd
    return ymd(days)


__all__ = ["TreeWriter", "write_sav", "rin", "EXIT_NEVER"]
