"""Kernboodschappen: the report's key messages, written from the released files only.

Every number in a message comes from a file in the gemeente's export folder (after output
control); a suppressed number makes its sentence say so instead of guessing. Messages state
what the figures show and, where it matters, what they do not.

    messages = key_messages(study.export_dir("0363"), "0363", names)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from jeugdkit.report.show import number
from jeugdkit.scope import GROUP, NATIONAL


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / f"{name}.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, dtype={"gemeentecode": str})


def _value(frame: pd.DataFrame | None, column: str, **where):
    if frame is None or column not in frame:
        return None
    mask = pd.Series(True, index=frame.index)
    for col, val in where.items():
        mask &= frame[col].astype(str) == str(val)
    values = frame.loc[mask, column]
    if values.empty or pd.isna(values.iloc[0]):
        return None
    return values.iloc[0]


def _pct(value) -> str:
    return "onderdrukt" if value is None else f"{number(float(value), 1)}%"


def _development(dev: pd.DataFrame | None, gemeente: str, name: str) -> str | None:
    """Return the one-line message on the development of jeugdhulp use: the first and the
    last year with a released rate for the gemeente, and NL over the same years."""
    if dev is None or "pct_jeugdhulp" not in dev:
        return None
    own = dev[(dev["gemeentecode"].astype(str) == gemeente)
              & dev["pct_jeugdhulp"].notna()].sort_values("jaar")
    if len(own) < 2:
        return None
    first, last = own.iloc[0], own.iloc[-1]
    y0, y1 = int(first["jaar"]), int(last["jaar"])
    nl0 = _value(dev, "pct_jeugdhulp", gemeentecode=NATIONAL, jaar=y0)
    nl1 = _value(dev, "pct_jeugdhulp", gemeentecode=NATIONAL, jaar=y1)
    return (f"Ontwikkeling: het aandeel jongeren van 0-17 jaar met jeugdhulp in {name} ging "
            f"van {_pct(first['pct_jeugdhulp'])} in {y0} naar {_pct(last['pct_jeugdhulp'])} in "
            f"{y1} (Nederland: van {_pct(nl0)} naar {_pct(nl1)}); het hoofdstuk Ontwikkeling "
            "geeft alle jaren en de breuken in de definities.")


def key_messages(export_dir, gemeente: str, names: dict, period: str = "") -> list[str]:
    """Return the key messages of a gemeente's report (Dutch sentences)."""
    folder = Path(export_dir)
    name = names.get(gemeente, gemeente)
    out: list[str] = []
    ind = _read(folder, "indicators")
    pos = _read(folder, "positie")
    when = f" in {period}" if period else ""
    own = _value(ind, "pct_jeugdhulp", gemeentecode=gemeente)
    grp = _value(ind, "pct_jeugdhulp", gemeentecode=GROUP)
    nl = _value(ind, "pct_jeugdhulp", gemeentecode=NATIONAL)
    out.append(f"Jeugdhulp: {_pct(own)} van de jongeren van 0-17 jaar in {name} had "
               f"jeugdhulp{when}, tegen {_pct(grp)} in de vergelijkingsgroep en {_pct(nl)} in "
               "Nederland.")
    trend = _development(_read(folder, "ontwikkeling"), gemeente, name)
    if trend:
        out.append(trend)
    rang = _value(pos, "rang", indicator="pct_jeugdhulp")
    if rang is not None:
        n = _value(pos, "aantal_gemeenten", indicator="pct_jeugdhulp")
        p25 = _value(pos, "p25", indicator="pct_jeugdhulp")
        p75 = _value(pos, "p75", indicator="pct_jeugdhulp")
        out.append(f"Positie: plaats {int(rang)} van {int(n)} gemeenten met een gepubliceerd "
                   f"percentage (1 = hoogste); de middelste helft van de gemeenten ligt tussen "
                   f"{_pct(p25)} en {_pct(p75)}.")
    mv = _value(ind, "pct_met_verblijf", gemeentecode=gemeente)
    mv_nl = _value(ind, "pct_met_verblijf", gemeentecode=NATIONAL)
    out.append(f"Verblijf: van de jongeren met jeugdhulp had {_pct(mv)} hulp met verblijf "
               f"(Nederland {_pct(mv_nl)}).")

    oe = _read(folder, "oe")
    if oe is not None:
        where = dict(gemeentecode=gemeente, niveau="volledig")
        ratio = _value(oe, "ratio", **where)
        if ratio is None:
            out.append("Verwacht gebruik: de verhouding waargenomen/verwacht is voor deze "
                       "gemeente niet gepubliceerd (onderdrukt).")
        else:
            lo, hi = _value(oe, "ondergrens", **where), _value(oe, "bovengrens", **where)
            signaal = _value(oe, "signaal", **where)
            verdict = {"hoger": "hoger dan verwacht, ook buiten de ruime (99,8%) grenzen van "
                                "de funnelplot",
                       "lager": "lager dan verwacht, ook buiten de ruime (99,8%) grenzen van "
                                "de funnelplot"}.get(str(signaal),
                                                     "binnen de grenzen van de funnelplot: "
                                                     "het verschil kan toeval zijn")
            out.append(f"Verwacht gebruik: gegeven de samenstelling van de jeugd (leeftijd, "
                       f"geslacht, huishouden, inkomen, bijstand, onderwijs) is het gebruik "
                       f"{number(float(ratio), 2)} keer het verwachte (95%-interval "
                       f"{number(float(lo), 2)} tot {number(float(hi), 2)}): {verdict}.")
    dec = _read(folder, "decompositie")
    if dec is not None:
        where = dict(gemeentecode=gemeente, methode="kitagawa")
        diff = _value(dec, "waarde", component="verschil", **where)
        comp = _value(dec, "waarde", component="samenstelling", **where)
        prak = _value(dec, "waarde", component="praktijk", **where)
        if None not in (diff, comp, prak):
            # the decomposition compares with the other gemeenten, not with the whole group
            # of the first message (which holds the gemeente itself): say so
            versus = _value(dec, "vergelijking", **where)
            other = ("de rest van Nederland (alle gemeenten behalve " + name + ")"
                     if str(versus) == "rest van Nederland" else
                     f"de andere gemeenten van de vergelijkingsgroep samen (zonder {name})")
            lo = _value(dec, "ondergrens", component="verschil", **where)
            hi = _value(dec, "bovengrens", component="verschil", **where)
            interval = ("" if None in (lo, hi) else
                        f" (95%-interval {number(100 * float(lo), 1)} tot "
                        f"{number(100 * float(hi), 1)}"
                        + ("; het verschil kan toeval zijn)" if float(lo) <= 0 <= float(hi)
                           else ")"))
            out.append(f"Verschil met {other}: {number(100 * float(diff), 1)} "
                       f"procentpunt{interval}, waarvan {number(100 * float(comp), 1)} door een "
                       f"andere samenstelling van de jeugd en {number(100 * float(prak), 1)} "
                       "door verschillen in gebruik bij dezelfde samenstelling (praktijk), "
                       "volgens de standaardisatie per cel (Kitagawa); hoofdstuk 3 zet de "
                       "regressiemethode ernaast.")
    uit = _read(folder, "uitval")
    own_u = _value(uit, "pct_uitval", gemeentecode=gemeente, definitie="strikt")
    nl_u = _value(uit, "pct_uitval", gemeentecode=NATIONAL, definitie="strikt")
    hb = _read(folder, "herhaald_beroep")
    own_h = _value(hb, "pct", gemeentecode=gemeente, definitie="statline")
    nl_h = _value(hb, "pct", gemeentecode=NATIONAL, definitie="statline")
    out.append(f"Trajecten: {_pct(own_u)} van de afgesloten trajecten eindigde voortijdig "
               f"(uitval, strikt; Nederland {_pct(nl_u)}); bij {_pct(own_h)} van de gestarte "
               f"trajecten had de jongere in de vijf jaar ervoor al jeugdhulp (herhaald beroep; "
               f"Nederland {_pct(nl_h)}).")
    out.append("Lees deze cijfers als signalen, niet als oordeel: een verschil zegt niet of "
               "het beleid beter of slechter is. Het vraagt om het gesprek (trap 3) over wat "
               "er achter zit.")
    return out
