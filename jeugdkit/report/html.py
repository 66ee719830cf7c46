"""Executed notebooks to one self-contained HTML report: no code, a table of contents, offline.

The RA has no internet, so the report fetches nothing: styles are inline, figures are embedded
as data URIs, and there is no script at all. :func:`check_offline` refuses a page that would
fetch anything. The page is deterministic: the same notebooks give the same bytes, apart from
the one run timestamp in the header.

    html = render_report([nb_05, nb_02, nb_03, nb_04], title="Jeugdhulp in Boswolde",
                         subtitle="Periode 2023", run_timestamp=run.run_timestamp,
                         appendix=appendix_html(provenance, log))
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import mistune
import nbformat

from jeugdkit.errors import JeugdkitError

SKIPPED_TAGS = {"parameters", "injected-parameters", "verberg"}
"""Cells with one of these tags are left out of the report (``verberg``: hide by hand)."""

CSS = """
body{font-family:"Segoe UI",Arial,Helvetica,sans-serif;color:#1c1c1c;margin:0;line-height:1.5}
header{background:#00526e;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .2em 0;font-size:1.7em}
header p{margin:.1em 0}
.banner{background:#fbe3c8;color:#5a3200;padding:.5em 2em;font-weight:600}
.wrap{display:flex;align-items:flex-start}
nav{position:sticky;top:0;min-width:15em;max-width:18em;padding:1em 1.2em;font-size:.9em;
    max-height:100vh;overflow:auto;border-right:1px solid #ddd}
nav ol{padding-left:1.1em;margin:.2em 0}
nav a{color:#00526e;text-decoration:none}
main{padding:1em 2.5em 3em 2.5em;max-width:62em;flex:1 1 auto;min-width:0}
main table{display:block;overflow-x:auto;max-width:100%}
h2{color:#00526e;border-bottom:2px solid #00526e;padding-bottom:.2em;margin-top:2em}
h3{color:#00526e;margin-top:1.5em}
table.tabel,table.md{border-collapse:collapse;margin:.6em 0 1.2em 0;font-size:.88em}
table.tabel th,table.tabel td,main table th,main table td{border:1px solid #ccc;padding:.25em .55em}
table.tabel th{background:#e8f1f4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3em 0}
figure{margin:1em 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.88em;color:#555}
pre.uitvoer{background:#f5f5f5;padding:.5em .8em;font-size:.85em;white-space:pre-wrap}
p.note{font-size:.88em;color:#555}
code{background:#f2f2f2;padding:0 .2em}
footer{font-size:.8em;color:#666;padding:1em 2.5em;border-top:1px solid #ddd}
@page{size:A4;margin:15mm 14mm 16mm 14mm}
@media print{
/* A4 for council documents: contents on the first page, tables and figures whole, nothing
   cut at the right edge, headings kept with what follows. */
body{font-size:10pt;line-height:1.4}
header,.banner,table.tabel th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
header{padding:.9em 1.4em}
.banner{padding:.4em 1.4em}
.wrap{display:block}
nav{position:static;display:block;min-width:0;max-width:none;max-height:none;overflow:visible;
    border:0;padding:1em 0 0 0;font-size:1em;break-after:page;page-break-after:always}
nav>strong{display:block;font-size:1.4em;color:#00526e;margin-bottom:.4em}
nav ol{padding-left:1.4em}
main{padding:0;max-width:none}
main table,table.tabel,table.md{display:table;overflow:visible;max-width:100%;font-size:.8em;
    break-inside:avoid;page-break-inside:avoid}
/* 56 one-line rows are taller than a page: such a table may break (its header repeats) */
table:has(>tbody>tr:nth-child(56)){break-inside:auto;page-break-inside:auto}
/* nine columns or more: smaller type, so that the words of the headers still fit */
table:has(th:nth-child(9)){font-size:.7em}
table.tabel:has(th:nth-child(9)) :is(th,td){padding:.2em .25em}
/* a path or checksum (td.lang), or the headers of a very wide table, break anywhere */
table:has(th:nth-child(13)) th,td.lang{overflow-wrap:anywhere}
thead{display:table-header-group}
tr,img,pre.uitvoer{break-inside:avoid;page-break-inside:avoid}
th,td{overflow-wrap:break-word}
td.num{white-space:nowrap}
table.tabel th,table.tabel td,main table th,main table td{padding:.2em .35em}
figure{break-inside:avoid;page-break-inside:avoid;max-width:100%}
figure img{box-sizing:border-box;max-width:100%;max-height:230mm}
figcaption,caption{break-before:avoid;page-break-before:avoid}
/* a heading, and the paragraph introducing a table or figure, stay with what follows */
h2,h3,h4,p:has(+table),p:has(+figure){break-after:avoid;page-break-after:avoid}
p:has(+table>tbody>tr:nth-child(56)){break-after:auto;page-break-after:auto}
h2,h3,h4{break-inside:avoid}
h2{margin-top:1.4em}
p,li{orphans:3;widows:3}
a,nav a{color:inherit;text-decoration:none}
footer{padding:1em 0}
}
"""

_markdown = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])

_EXTERNAL = re.compile(r"""(?ix)
    (?:\b(?:src|href|srcset|poster|data|action|formaction)\s*=\s*["']?\s*(?:https?:|ftp:|//))
  | (?:url\(\s*["']?\s*(?:https?:|//))
  | (?:@import)
  | (?:<\s*(?:script|iframe|object|embed|link|base)\b)
""")


class ReportError(JeugdkitError):
    """A report cannot be made (a failed notebook, or a page that would fetch something)."""


def check_offline(text: str, where: str = "report") -> None:
    """Raise ReportError if the page would fetch anything or run a script."""
    m = _EXTERNAL.search(text)
    if m:
        start = max(0, m.start() - 60)
        raise ReportError(f"{where}: the page would fetch or run something "
                          f"({text[start:m.end() + 60]!r}); the RA has no internet and the "
                          "report must open offline")


def _slug(text: str, seen: dict) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "sectie"
    n = seen.get(base, 0)
    seen[base] = n + 1
    return base if n == 0 else f"{base}-{n + 1}"


def _strip_tags(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _output_html(output: dict, where: str) -> str:
    kind = output.get("output_type")
    if kind == "error":
        raise ReportError(f"{where}: the notebook stopped with {output.get('ename')}: "
                          f"{output.get('evalue')}")
    if kind == "stream":
        if output.get("name") != "stdout":
            return ""  # warnings and progress: for the researcher, not the report
        return f'<pre class="uitvoer">{html.escape(output.get("text", "").rstrip())}</pre>'
    data = output.get("data", {})
    if "text/html" in data:
        text = data["text/html"]
        return "".join(text) if isinstance(text, list) else text
    if "image/png" in data:
        png = data["image/png"].replace("\n", "")
        return f'<figure><img src="data:image/png;base64,{png}" alt="figuur"></figure>'
    if "text/markdown" in data:
        return _markdown(data["text/markdown"])
    return ""  # text/plain reprs (e.g. of an object) say nothing to a reader


def notebook_body(path, level_shift: int = 1) -> str:
    """Return the report HTML of one executed notebook: markdown and outputs, no code."""
    path = Path(path)
    book = nbformat.read(path, as_version=4)
    parts = []
    for i, cell in enumerate(book.cells):
        if SKIPPED_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        where = f"{path.name}, cell {i + 1}"
        if cell.cell_type == "markdown":
            parts.append(_markdown(cell.source))
        elif cell.cell_type == "code":
            parts.extend(_output_html(o, where) for o in cell.get("outputs", []))
    body = "\n".join(p for p in parts if p)

    def shift(m):
        level = min(6, int(m.group(2)) + level_shift)
        return f"<{m.group(1)}h{level}"
    return re.sub(r"<(/?)h([1-6])", shift, body)


def _with_toc(body: str) -> tuple[str, str]:
    seen: dict = {}
    entries = []

    def anchor(m):
        level, attrs, inner = m.group(1), m.group(2), m.group(3)
        ident = _slug(_strip_tags(inner), seen)
        entries.append((int(level), ident, _strip_tags(inner)))
        return f'<h{level}{attrs} id="{ident}">{inner}</h{level}>'
    body = re.sub(r"<h([23])([^>]*)>(.*?)</h\1>", anchor, body, flags=re.S)
    toc, open_sub = ["<ol>"], False
    for level, ident, text in entries:
        link = f'<a href="#{ident}">{html.escape(text)}</a>'
        if level == 2:
            if open_sub:
                toc.append("</ol></li>")
                open_sub = False
            elif len(toc) > 1:
                toc.append("</li>")
            toc.append(f"<li>{link}")
        else:
            if not open_sub:
                toc.append("<ol>")
                open_sub = True
            toc.append(f"<li>{link}</li>")
    toc.append("</ol></li></ol>" if open_sub else ("</li></ol>" if len(toc) > 1 else "</ol>"))
    return body, "".join(toc)


MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")


def dutch_time(timestamp: str) -> str:
    """Return an ISO timestamp as a reader writes it: ``1 december 2026 om 06:05`` in Dutch
    time (Europe/Amsterdam; ``(UTC)`` after it where the time zone database is missing, as
    on Windows without the tzdata package); anything else unchanged."""
    from datetime import UTC, datetime
    try:
        moment = datetime.fromisoformat(str(timestamp))
    except ValueError:
        return str(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    zone = ""
    try:
        from zoneinfo import ZoneInfo
        moment = moment.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:  # noqa: BLE001 - no time zone data: say it is UTC
        moment, zone = moment.astimezone(UTC), " (UTC)"
    return (f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} om "
            f"{moment.hour:02d}:{moment.minute:02d}{zone}")


def _shown_parameter(value) -> str:
    """A parameter as the appendix shows it: a path by its last part (the full path is in
    the export log), so a report handed on shows no folders of the machine it was made on."""
    text = str(value or "")
    if not text:
        return "(leeg: standaard)"
    if "/" in text or "\\" in text:
        name = re.split(r"[\\/]", text.rstrip("/\\"))[-1]
        return f"…/{name}" if name else text
    return text


_LONG_WORD_CELL = re.compile(r"<td>(?=[^<]*?[^\s<]{30})")
"""A plain table cell with a word of 30 characters or more (a path, a checksum): it gets class
``lang``, so that in print it may break anywhere rather than push its table off the page."""


def render_report(notebooks, *, title: str, subtitle: str = "", run_timestamp: str = "",
                  appendix: str = "", banner: str = "", footer: str = "") -> str:
    """Return one self-contained HTML page of executed notebooks, in the order given.

    Each notebook's ``#`` heading becomes a chapter in the table of contents. ``appendix``:
    extra HTML after the chapters (e.g. :func:`appendix_html`). ``banner``: a warning line
    under the header (e.g. for internal pages). The run timestamp is the page's only
    volatile content.
    """
    body = "\n".join(notebook_body(p) + "\n" for p in notebooks) + appendix
    body, toc = _with_toc(body)
    body = _LONG_WORD_CELL.sub('<td class="lang">', body)
    when = (f'<p class="tijd">Gemaakt: {html.escape(dutch_time(run_timestamp))}</p>'
            if run_timestamp else "")
    page = f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p>{when}</header>
{f'<div class="banner">{html.escape(banner)}</div>' if banner else ''}
<div class="wrap">
<nav aria-label="Inhoud"><strong>Inhoud</strong>{toc}</nav>
<main>
{body}
</main>
</div>
<footer>{html.escape(footer)}</footer>
</body>
</html>
"""
    check_offline(page, title)
    return page


def _rows(items, columns: dict) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(item.get(c, '')))}</td>"
                                    for c in columns) + "</tr>" for item in items)
    return f'<table class="tabel"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


KINDS = {"table": "tabel", "figure": "figuur", "regression": "model"}
"""The kind of an output in the appendix, in Dutch."""
STATUSES = {"pass": "vrijgegeven", "review": "ter beoordeling", "fail": "geblokkeerd"}
"""An output's status in the appendix, in Dutch (the export log keeps the English terms the
output checkers know from ACRO)."""


def appendix_html(provenance: dict, log: dict | None = None) -> str:
    """Return the 'Verantwoording' chapter: parameters, input files, packages, catalog and
    what output control released."""
    p = provenance or {}
    parts = ["<h2>Verantwoording</h2>",
             "<p>Waarop dit rapport rust, zodat het te controleren en opnieuw te maken is. "
             "Dezelfde gegevens staan in het exportlogboek voor de outputcontroleurs van "
             "CBS.</p>",
             "<h3>Parameters</h3>",
             _rows([{"naam": k, "waarde": _shown_parameter(v)}
                    for k, v in p.get("parameters", {}).items()],
                   {"naam": "Parameter", "waarde": "Waarde"}),
             "<p class=\"note\">Mappen staan hier met hun laatste deel; het volledige pad "
             "staat in het exportlogboek.</p>",
             f"<p>Periode {html.escape(str(p.get('periode', '')))}, peildatum "
             f"{html.escape(str(p.get('peildatum', '')))}; instellingen: "
             f"{html.escape(str(p.get('instellingen', '')))}.</p>",
             "<h3>Invoerbestanden</h3>",
             _rows(p.get("invoerbestanden", []),
                   {"dataset": "Dataset", "year": "Jaar", "version": "Versie",
                    "path": "Bestand", "bytes": "Bytes", "sha256": "SHA-256"}),
             "<h3>Software</h3>",
             _rows([{"pakket": k, "versie": v} for k, v in p.get("pakketten", {}).items()]
                   + [{"pakket": "python", "versie": p.get("python", "")}],
                   {"pakket": "Pakket", "versie": "Versie"}),
             "<h3>Catalogus</h3>",
             _rows(p.get("catalogus", []), {"bestand": "Bestand", "sha256": "SHA-256"})]
    if log:
        rows = []
        for uid, r in log.get("results", {}).items():
            s = (r.get("files") or [{}])[0].get("sdc", {}).get("summary", {})
            rows.append({"uitvoer": uid, "soort": KINDS.get(r.get("type", ""), r.get("type", "")),
                         "status": STATUSES.get(r.get("status", ""), r.get("status", "")),
                         "primair": s.get("threshold", 0) or 0,
                         "secundair": s.get("secondary", 0) or 0})
        parts += ["<h3>Outputcontrole</h3>",
                  "<p>Elke tabel en figuur in dit rapport is door outputcontrole gegaan: "
                  "cellen onder de drempel zijn onderdrukt (primair) en zoveel andere als "
                  "nodig om ze niet terug te kunnen rekenen (secundair); een LP-controle "
                  "bevestigt dat geen onderdrukte cel nauwer dan de drempel is af te leiden. "
                  "Het exportlogboek staat in de map export/log.</p>",
                  _rows(rows, {"uitvoer": "Uitvoer", "soort": "Soort", "status": "Status",
                               "primair": "Primair onderdrukt",
                               "secundair": "Secundair onderdrukt"})]
    return "\n".join(parts)
