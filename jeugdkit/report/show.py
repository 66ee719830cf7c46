"""Display helpers for the notebooks: released tables and figures as the report shows them.

Everything here formats what output control has released; nothing computes from microdata.
Numbers are written the Dutch way (``14,1``; ``1.285``), a suppressed value as ``x`` (CBS:
geheim), and the rows of a gemeente, its comparison group and NL get readable names. The HTML
is plain and deterministic (no random ids), so a regenerated report is identical.

    show.table(released["indicators"], columns=show.INDICATOR_COLUMNS, names=names)
    show.figure(study.export_dir("0363") / "funnel.png", "Funnelplot")
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from jeugdkit.scope import GROUP, NATIONAL
from jeugdkit.settings import DEFAULT

SUPPRESSED = "x"
"""How a suppressed value is shown: CBS's sign for geheim."""
NOT_APPLICABLE = "."
"""CBS's sign for a value that is unknown or does not apply (a mean mark on a yes/no row)."""
NIL = "-"
"""CBS's sign for nihil: exactly zero."""
SIGNS = {SUPPRESSED: "geheim (onderdrukt: te weinig eenheden, of nodig om een ander "
                     "onderdrukt cijfer te beschermen)",
         NOT_APPLICABLE: "niet van toepassing of onbekend",
         NIL: "nihil (precies nul)"}
"""The signs a table uses, as CBS writes them, with their meaning for the legend."""

INDICATOR_COLUMNS = {
    "gemeentecode": "Gebied",
    "jongeren_0_17": "Jongeren 0-17",
    "pct_jeugdhulp": "% met jeugdhulp",
    "pct_met_verblijf": "% met verblijf (van jeugdhulp)",
    "pct_jeugdbescherming": "% met jeugdbescherming",
    "pct_jb_met_verblijf": "% jb met verblijf",
    "jongeren_12_22": "Jongeren 12-22",
    "pct_jeugdreclassering": "% met jeugdreclassering",
}

INDICATOR_NAMES = {
    "pct_jeugdhulp": "jongeren 0-17 met jeugdhulp",
    "pct_met_verblijf": "jeugdhulpgebruikers met verblijf",
    "pct_jeugdbescherming": "jongeren 0-17 met jeugdbescherming",
    "pct_jb_met_verblijf": "jongeren met jeugdbescherming die ook jeugdhulp met verblijf hebben",
    "pct_jeugdreclassering": "jongeren 12-22 met jeugdreclassering",
}


HEADINGS = {
    "gemeentecode": "Gebied", "wijkcode": "Wijk", "leeftijdsgroep": "Leeftijd",
    "geslacht": "Geslacht", "hulpvorm": "Hulpvorm", "hulpvorm_groep": "Hulpvorm",
    "verwijzer": "Verwijzer", "aantal": "Aantal", "indicator": "Indicator",
    "waarde": "Waarde", "rang": "Rang", "aantal_gemeenten": "Gemeenten",
    "percentielrang": "Percentielrang", "mediaan": "Mediaan", "niveau": "Niveau",
    "waargenomen": "Waargenomen", "verwacht": "Verwacht", "ratio": "Ratio",
    "ondergrens": "Ondergrens", "bovengrens": "Bovengrens", "signaal": "Signaal",
    "definitie": "Definitie", "noemer": "Noemer", "teller": "Teller", "pct": "%",
    "opmerking": "Opmerking", "wijkteam": "Wijkteam",
    "overig_zonder_verblijf": "Overig zonder verblijf", "met_verblijf": "Met verblijf",
    "totaal": "Totaal", "man": "Man", "vrouw": "Vrouw",
    "parameter": "Variabele", "coef": "Coëfficiënt", "std_err": "Standaardfout",
    "statistic": "Toetsgrootheid", "p_value": "p-waarde", "ci_lower": "95%-interval: onder",
    "ci_upper": "95%-interval: boven", "lag_jaren": "Vertraging (jaren)",
    "gemeente_jaren": "Gemeente-jaren", "gemeenten": "Gemeenten", "gewogen": "Gewogen",
    "effect": "Effect", "gewogen_variantie": "Gewogen variantie",
    "tau2": "Variantie tussen gemeenten (tau²)",
    "verklaard_door_samenstelling": "Deel verklaard door samenstelling",
    "verklaard_gewogen_variantie": "Deel verklaard (gewogen variantie)",
    "jaar": "Jaar", "versie": "Versie", "records": "Records", "bestand": "Bestand",
    "ontbrekend": "Ontbrekende variabelen", "dataset": "Bestand (CBS)",
    "afgesloten": "Afgesloten", "onbekend": "Onbekend", "bekend": "Bekend",
    "uitval": "Uitval", "pct_uitval": "% uitval", "pct_onbekend": "% onbekend",
    "venster_maanden": "Venster (maanden)", "maatregel": "Maatregel",
    "jeugdhulp": "Met jeugdhulp", "met_maatregel": "Met maatregel",
    "gelijktijdig": "Tegelijk", "pct_met_maatregel": "% met maatregel",
    "pct_gelijktijdig": "% tegelijk", "item": "Item", "ingevuld": "Ingevuld",
    "pct_ingevuld": "% ingevuld", "gemiddeld_cijfer": "Gemiddeld cijfer", "ja": "Ja",
    "nee": "Nee", "pct_ja": "% ja", "gevolgd_tot": "Gevolgd tot", "beginstand": "Beginstand",
    "instroom": "Instroom",
    "uitstroom": "Uitstroom",
    "eindstand": "Eindstand",
}
"""Column headings the report shows by default (other names: underscores as spaces)."""

TOTAL = DEFAULT.output_control.total_label
"""The margin's code in released tables (settings: output_control.total_label)."""

HULPVORM_GROEPEN = {"wijkteam": "zonder verblijf: via het wijkteam",
                    "overig_zonder_verblijf": "zonder verblijf: overig",
                    "met_verblijf": "met verblijf", "groep_onbekend": "onbekend",
                    TOTAL: "totaal"}
"""The hulpvorm groups of the stroom table (the coarser rows), for the reader."""

STEDELIJKHEID = {"1": "zeer sterk stedelijk", "2": "sterk stedelijk", "3": "matig stedelijk",
                 "4": "weinig stedelijk", "5": "niet stedelijk"}

DEVELOPMENT_COLUMNS = {
    "jaar": "Jaar", "gemeentecode": "Gebied", "pct_jeugdhulp": "% 0-17 met jeugdhulp",
    "pct_met_verblijf": "% met verblijf (van jeugdhulp)",
    "pct_jeugdbescherming": "% 0-17 met jeugdbescherming",
    "pct_jb_met_verblijf": "% jb met verblijf", "pct_jeugdreclassering": "% 12-22 met jr",
}
"""The Ontwikkeling table: the five indicators per year and area."""

PLAIN = {"jaar", "versie", "stap_nr", "lag_jaren", "periode"}
"""Columns of whole numbers written without a thousands separator (a year is 2024, not
2.024)."""

PARAMETERS = {"wijkteam_aandeel_lag": "aandeel jeugdhulp via het wijkteam, jaar ervoor",
              "const": "constante"}
"""Model parameters by name, for the reader."""


class HTML:
    """An HTML fragment that Jupyter displays (and papermill stores) as ``text/html``."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return "<tabel>"


def number(value, decimals: int | None = None) -> str:
    """Return a value written the Dutch way; ``x`` for a missing (suppressed) value."""
    if _missing(value):
        return SUPPRESSED
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, int) or (decimals == 0 and isinstance(value, float)):
        text = f"{round(value):,}"
    elif isinstance(value, float):
        text = f"{value:,.{1 if decimals is None else decimals}f}"
    else:
        try:
            as_int = int(value)
        except (TypeError, ValueError):
            return str(value)
        return number(as_int) if as_int == value else number(float(value), decimals)
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def area_names(study, gemeente: str, scope=None) -> dict[str, str]:
    """Return display names of the ``gemeentecode`` values of a report's files."""
    ref = study.reference().set_index("gemeentecode")["gemeentenaam"]
    names = {c: f"{n} ({c})" for c, n in ref.items()}
    names[NATIONAL] = "Nederland"
    label = "vergelijkingsgroep"
    if scope is not None and scope.group:
        label = f"vergelijkingsgroep ({len(scope.group)} gemeenten)"
    names[GROUP] = label
    return names


def sign_legend(used) -> str:
    """Return the legend line of the CBS signs in ``used`` (HTML), empty when none."""
    parts = [f"{sign} = {SIGNS[sign]}" for sign in SIGNS if sign in used]
    return (f'<p class="note tekens">{html.escape("; ".join(parts))}.</p>' if parts else "")


def table(frame: pd.DataFrame, *, columns: dict | None = None, names: dict | None = None,
          labels: dict | None = None, decimals: dict | None = None, caption: str = "",
          max_rows: int = 200, not_applicable: dict | None = None) -> HTML:
    """Return a released table as plain HTML, Dutch number format, with CBS's signs.

    A missing value is ``x`` (geheim: suppressed), unless ``not_applicable`` says the value
    does not exist for that row (``.``); an exact zero is ``-`` (nihil). A legend under the
    table explains the signs it uses.

    ``columns``: {column: heading}, also the selection and order (default: all columns).
    ``names``: display names of ``gemeentecode`` values. ``labels``: {column: {code: label}}.
    ``decimals``: {column: decimals} (default 1 for fractions, whole numbers as they are).
    ``not_applicable``: {column: rows} where the column does not apply: a boolean mask over
    the rows or a function of the frame returning one (e.g. the mean mark on the rows of a
    yes/no item).
    """
    frame = frame.copy().reset_index(drop=True)
    na_rows = {}
    for col, rows in (not_applicable or {}).items():
        mask = rows(frame) if callable(rows) else rows
        na_rows[str(col)] = np.asarray(mask, dtype=bool)
    frame.columns = [str(c) for c in frame.columns]
    columns = columns or {c: HEADINGS.get(c, c.replace("_", " ")) for c in frame.columns}
    columns = {c: h for c, h in columns.items() if c in frame.columns}
    frame = frame[list(columns)]
    if names and "gemeentecode" in frame:
        frame["gemeentecode"] = frame["gemeentecode"].astype(str).map(lambda c: names.get(c, c))
    for col, mapping in (labels or {}).items():
        if col in frame:
            frame[col] = frame[col].astype(str).map(lambda c, m=mapping: m.get(c, c))
    decimals = decimals or {}
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in columns.values())
    body = []
    used = set()
    for i, row in enumerate(frame.head(max_rows).itertuples(index=False)):
        cells = []
        for col, value in zip(columns, row):
            missing = _missing(value)
            if missing and col in na_rows and na_rows[col][i]:
                text = NOT_APPLICABLE
            elif col == "p_value" and isinstance(value, float) and 0 <= value < 0.001:
                text = "<0,001"
            elif col in PLAIN:
                text = number(value, 0).replace(".", "")  # whole numbers, no separator
            elif not missing and not isinstance(value, (str, bool)) and value == 0:
                text = NIL
            else:
                text = number(value, decimals.get(col))
            if text in SIGNS:
                used.add(text)
            cls = ' class="num"' if not isinstance(value, str) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="note">Eerste {max_rows} van {len(frame)} rijen; het volledige bestand '
            f"staat in de export.</p>" if len(frame) > max_rows else "")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(f'<table class="tabel">{cap}<thead><tr>{head}</tr></thead><tbody>'
                + "".join(body) + "</tbody></table>" + sign_legend(used) + more)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def wide(frame: pd.DataFrame, index: list[str], columns: str, values: str = "aantal"
         ) -> pd.DataFrame:
    """Return a released tidy table spread wide (one column per code of ``columns``), keeping
    the order of the rows and suppressed cells as missing."""
    return frame.pivot_table(index=index, columns=columns, values=values, aggfunc="first",
                             dropna=False, sort=False).reset_index()


def figure(path, alt: str, caption: str = "") -> HTML:
    """Return a released figure (a PNG in the export) embedded in the page, with a caption."""
    path = Path(path)
    if not path.exists():
        return HTML(f'<p class="note">Figuur {html.escape(path.name)} is niet gemaakt: de '
                    "cijfers waarop zij rust zijn onderdrukt of ontbreken.</p>")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return HTML(f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
                f"{cap}</figure>")


def bullets(items) -> HTML:
    """Return a list of sentences as an HTML list."""
    return HTML("<ul>" + "".join(f"<li>{html.escape(str(i))}</li>" for i in items) + "</ul>")


def notes(items, empty: str = "Geen opmerkingen.") -> HTML:
    """Return notes (e.g. from the population or the release) as a list, or a sentence."""
    items = [str(i) for i in items if str(i).strip()]
    return bullets(items) if items else HTML(f"<p>{html.escape(empty)}</p>")


def inventory_table(inventory: dict) -> HTML:
    """Return the chosen files of an inventory (see ``jeugdkit.inventory``) as a table."""
    rows = []
    for name, entry in inventory["datasets"].items():
        for f in entry["files"] or [{"year": None, "version": None, "path": "niet gevonden"}]:
            rows.append({"dataset": name, "jaar": f["year"], "versie": f["version"],
                         "records": f.get("rows"), "bestand": f["path"],
                         "ontbrekend": ", ".join(f.get("missing_variables", [])) or "-"})
    return table(pd.DataFrame(rows), decimals={"jaar": 0, "versie": 0})


def inventory_notes(inventory: dict) -> HTML:
    """Return the unplaced files and the per-dataset issues of an inventory as a list."""
    return notes([f"{u['path']}: {u['reason']}" for u in inventory["unplaced"]]
                 + [f"{n}: {i}" for n, e in inventory["datasets"].items() for i in e["issues"]],
                 empty="Alle bestanden zijn geplaatst; geen opmerkingen.")


def group_label(label: str) -> str:
    """Return a comparison group's label for the reader: ``stedelijkheid=2`` becomes
    ``gemeenten die sterk stedelijk zijn (stedelijkheid 2)``."""
    if not label:
        return "een eigen keuze van gemeenten"
    parts = []
    for part in str(label).split(","):
        key, _, value = part.partition("=")
        if key == "stedelijkheid":
            parts.append(f"gemeenten die {STEDELIJKHEID.get(value, value)} zijn "
                         f"(stedelijkheid {value})")
        elif key == "grootte" and value.endswith("+"):
            parts.append(f"gemeenten met {number(int(value[:-1]), 0)} of meer inwoners")
        elif key == "grootte" and "-" in value:
            lo, hi = value.split("-", 1)
            parts.append(f"gemeenten met {number(int(lo), 0)} tot "
                         f"{number(int(hi) + 1, 0)} inwoners")
        elif key == "jeugdregio":
            parts.append(f"gemeenten van jeugdregio {value}")
        else:
            parts.append(part)
    return "; ".join(parts)


def stroom_sentence(detail: pd.DataFrame, coarse: pd.DataFrame, gemeente: str,
                    names: dict) -> str:
    """Return one sentence on what the reader can conclude from a gemeente's stand en stroom
    when its hulpvormen are mostly suppressed (else on the totals)."""
    cols = ["beginstand", "instroom", "uitstroom", "eindstand"]
    name = names.get(gemeente, gemeente)
    own = detail[detail["gemeentecode"].astype(str) == gemeente]
    total = coarse[(coarse["gemeentecode"].astype(str) == gemeente)
                   & (coarse["hulpvorm"].astype(str) == TOTAL)]
    hidden, cells = int(own[cols].isna().sum().sum()), int(own[cols].size)
    head = (f"Per hulpvorm is {hidden} van de {cells} cijfers van {name} geheim (te weinig "
            "trajecten); per soort hulp en in totaal is meer te lezen. "
            if cells and 2 * hidden > cells else "")
    if total.empty:
        return head.strip()
    t = total.iloc[0]
    known = [f"een {c} van {number(int(t[c]))}" for c in cols if pd.notna(t[c])]
    secret = [c for c in cols if pd.isna(t[c])]
    if not known:
        return head + "Ook het totaal over alle hulpvormen is voor deze gemeente geheim."
    text = ", ".join(known[:-1]) + (" en " if len(known) > 1 else "") + known[-1]
    tail = f" (geheim in het totaal: {', '.join(secret)})" if secret else ""
    return head + f"Alle hulpvormen samen had {name} {text} trajecten{tail}."


def decomposition_table(frame: pd.DataFrame, names: dict) -> HTML:
    """Return the decomposition for the reader: methods named, values in procentpunten."""
    f = frame.copy()
    for c in ["waarde", "ondergrens", "bovengrens", "se_bootstrap"]:
        if c in f:
            f[c] = pd.to_numeric(f[c], errors="coerce") * 100
    methods = {"kitagawa": "Kitagawa (per cel)",
               "oaxaca_blinder": "Oaxaca-Blinder (regressie, alle kenmerken)"}
    columns = {"gemeentecode": "Gebied", "methode": "Methode", "component": "Deel",
               "waarde": "Procentpunt", "aandeel_van_verschil": "Aandeel van het verschil",
               "ondergrens": "95%-interval: onder", "bovengrens": "95%-interval: boven",
               "se_bootstrap": "Standaardfout (bootstrap)"}
    return table(f, columns=columns, names=names, labels={"methode": methods},
                 decimals={"waarde": 2, "ondergrens": 2, "bovengrens": 2,
                           "se_bootstrap": 2, "aandeel_van_verschil": 2})


def dutch_dates(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """Return ``frame`` with ISO dates in ``columns`` written as 31-12-2024."""
    f = frame.copy()
    for c in columns:
        if c in f:
            d = pd.to_datetime(f[c], errors="coerce")
            f[c] = d.dt.strftime("%d-%m-%Y").where(d.notna(), None)
    return f

