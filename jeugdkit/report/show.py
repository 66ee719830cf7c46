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

import pandas as pd

from jeugdkit.scope import GROUP, NATIONAL

SUPPRESSED = "x"
"""How a suppressed (or not computable) value is shown: CBS's sign for geheim."""

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
}
"""Column headings the report shows by default (other names: underscores as spaces)."""

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
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
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


def table(frame: pd.DataFrame, *, columns: dict | None = None, names: dict | None = None,
          labels: dict | None = None, decimals: dict | None = None, caption: str = "",
          max_rows: int = 200) -> HTML:
    """Return a released table as plain HTML, Dutch number format, ``x`` where suppressed.

    ``columns``: {column: heading}, also the selection and order (default: all columns).
    ``names``: display names of ``gemeentecode`` values. ``labels``: {column: {code: label}}.
    ``decimals``: {column: decimals} (default 1 for fractions, whole numbers as they are).
    """
    frame = frame.copy()
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
    for row in frame.head(max_rows).itertuples(index=False):
        cells = []
        for col, value in zip(columns, row):
            if col == "p_value" and isinstance(value, float) and 0 <= value < 0.001:
                text = "<0,001"
            elif col in PLAIN:
                text = number(value, 0).replace(".", "")  # whole numbers, no separator
            else:
                text = number(value, decimals.get(col))
            cls = ' class="num"' if not isinstance(value, str) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="note">Eerste {max_rows} van {len(frame)} rijen; het volledige bestand '
            f"staat in de export.</p>" if len(frame) > max_rows else "")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return HTML(f'<table class="tabel">{cap}<thead><tr>{head}</tr></thead><tbody>'
                + "".join(body) + "</tbody></table>" + more)


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
