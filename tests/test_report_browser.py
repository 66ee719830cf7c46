"""A generated report, opened in a real (headless) Chromium with the network off.

The report must stand on its own: it loads from a file:// URL, every figure renders, no
request leaves the machine, no script fails, and the table of contents points at headings
that exist. ``check_page`` does the checking and returns the problems it found; the
negative controls below feed it broken pages to show it can fail.

Needs the ``playwright`` package (the ``dev`` extra) and a system Chromium (Debian's
``chromium``; ``.ci/run`` installs it). Never ``playwright install``: that downloads a
browser build, which this machine cannot fetch. Without either the tests skip, unless
JEUGDKIT_REQUIRE_BROWSER is set (as in CI), when they fail.

The ``report_html`` fixture (a path to a generated rapport.html) comes from conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRE_ENV = "JEUGDKIT_REQUIRE_BROWSER"

# --disable-background-networking and friends: without them Chromium reaches out on its own
# (component updates, sync, variations) and, on a closed network, logs refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PAGE_TIMEOUT_MS = 15_000
WINDOW = {"width": 1280, "height": 900}
"""A laptop's browser window: the report must fit it without scrolling sideways (a wide table
scrolls inside its own box)."""
IMAGE_TIMEOUT_MS = 5_000


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def _unavailable(reason: str):
    """Skip, or fail when the environment says the browser check is required."""
    if _required():
        pytest.fail(f"{reason} ({REQUIRE_ENV} is set, so the browser check may not skip)",
                    pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    """The first Chromium-like executable found, or None."""
    candidates = [
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextlib.contextmanager
def launch_browser() -> Iterator[object]:
    """A headless system Chromium driven by Playwright; skips (or fails) when unavailable."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not importable: {exc}; pip install -e '.[dev]'")
    executable = find_chromium()
    if executable is None:
        _unavailable("no Chromium executable (/usr/bin/chromium, chromium, chromium-browser, "
                     "google-chrome); apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser():
    with launch_browser() as launched:
        yield launched


def _short(url: str, limit: int = 100) -> str:
    return url if len(url) <= limit else url[:limit] + "..."


# Wait (bounded) for every <img> to finish, lazy ones included, then describe each.
_IMAGES_JS = """
async (timeoutMs) => {
  const images = Array.from(document.images);
  for (const img of images) { if (img.loading === "lazy") img.loading = "eager"; }
  const settled = img => img.complete ? Promise.resolve() : new Promise(resolve => {
    img.addEventListener("load", resolve, {once: true});
    img.addEventListener("error", resolve, {once: true});
  });
  await Promise.race([
    Promise.all(images.map(settled)),
    new Promise(resolve => setTimeout(resolve, timeoutMs)),
  ]);
  return images.map(img => ({
    src: img.getAttribute("src") || "",
    complete: img.complete,
    naturalWidth: img.naturalWidth,
  }));
}
"""

_PAGE_JS = """
() => ({
  title: document.title,
  text: document.body ? document.body.innerText.trim().length : 0,
  h1: document.querySelectorAll("h1").length,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
})
"""

# Every in-page link, and whether its target exists (HTML: "#" and "#top" mean the top).
_ANCHORS_JS = """
() => Array.from(document.querySelectorAll('a[href^="#"]')).map(a => {
  const raw = a.getAttribute("href").slice(1);
  let id = raw;
  try { id = decodeURIComponent(raw); } catch (e) {}
  const found = raw === "" || id.toLowerCase() === "top"
    || document.getElementById(id) !== null
    || document.getElementsByName(id).length > 0;
  return {href: a.getAttribute("href"), text: a.textContent.trim(), found};
})
"""


def check_page(path: Path, browser=None) -> list[str]:
    """Open ``path`` offline in a fresh browser context; return the problems found.

    ``browser`` is a launched Playwright browser; without one a browser is launched
    (and closed) for this call alone.
    """
    if browser is None:
        with launch_browser() as launched:
            return check_page(path, launched)

    problems: list[str] = []
    blocked: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []
    page_errors: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context = browser.new_context(offline=True, viewport=WINDOW)
    try:
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        page.route("**/*", only_local)
        page.on("requestfailed",
                lambda request: failed.append(f"{_short(request.url)} ({request.failure})"))
        page.on("console", lambda message: console_errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error: page_errors.append(str(error)))

        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        info = page.evaluate(_PAGE_JS)
        images = page.evaluate(_IMAGES_JS, IMAGE_TIMEOUT_MS)
        anchors = page.evaluate(_ANCHORS_JS)
    finally:
        context.close()

    if not info["title"].strip():
        problems.append("page has no <title> text")
    if not info["text"]:
        problems.append("page body has no visible text")
    if not info["h1"]:
        problems.append("page has no <h1>")
    if not images:
        problems.append("page has no <img> (expected figures)")
    if info["scrollWidth"] > info["innerWidth"]:
        problems.append(f"page is {info['scrollWidth']} px wide in a {info['innerWidth']} px "
                        "window: the reader has to scroll sideways")
    for image in images:
        if not (image["complete"] and image["naturalWidth"] > 0):
            problems.append(f"image did not load: {_short(image['src'])} "
                            f"(complete={image['complete']}, "
                            f"naturalWidth={image['naturalWidth']})")
    problems += [f"blocked non-local request: {_short(url)}" for url in blocked]
    problems += [f"request failed: {item}" for item in failed]
    problems += [f"console error: {text}" for text in console_errors]
    problems += [f"page error: {text}" for text in page_errors]
    problems += [f"link {a['href']!r} ({a['text']!r}) points at no element on the page"
                 for a in anchors if not a["found"]]
    return problems


def test_report_in_browser(report_html: Path, browser):
    problems = check_page(report_html, browser)
    assert problems == [], f"{report_html} in Chromium:\n" + "\n".join(problems)


# --- negative controls: the check passes a good page and catches broken ones -----------------

# A 2x2 red PNG.
PNG_B64 = ("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAA"
           "BJRU5ErkJggg==")


def _page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Control</title></head>"
        f"<body><h1 id='top-heading'>Control</h1><nav><a href='#sec'>Section</a></nav>"
        f"<h2 id='sec'>Section</h2><p>Text.</p>{body}</body></html>",
        encoding="utf-8")
    return path


def test_control_self_contained_page_passes(tmp_path, browser):
    path = _page(tmp_path, f"<img alt='figure' src='data:image/png;base64,{PNG_B64}'>")
    assert check_page(path, browser) == []


def test_control_external_image_is_caught(tmp_path, browser):
    path = _page(tmp_path, "<img alt='figure' src='https://example.org/x.png'>")
    problems = check_page(path, browser)
    assert any(p.startswith("blocked non-local request: https://example.org/x.png")
               for p in problems), problems
    assert any(p.startswith("image did not load: https://example.org/x.png")
               for p in problems), problems


def test_control_script_error_is_caught(tmp_path, browser):
    path = _page(tmp_path, f"<img alt='figure' src='data:image/png;base64,{PNG_B64}'>"
                           "<script>throw new Error('boom')</script>")
    problems = check_page(path, browser)
    assert any(p.startswith("page error:") and "boom" in p for p in problems), problems


def test_control_broken_toc_link_and_missing_figure_are_caught(tmp_path, browser):
    path = _page(tmp_path, "<a href='#nergens'>kapot</a>")
    problems = check_page(path, browser)
    assert "link '#nergens' ('kapot') points at no element on the page" in problems, problems
    assert "page has no <img> (expected figures)" in problems, problems


def test_control_a_page_wider_than_the_window_is_caught(tmp_path, browser):
    wide = _page(tmp_path, f'<p><img src="data:image/png;base64,{PNG_B64}" alt="x"></p>'
                           f'<p>{"a" * 400}</p>')
    problems = check_page(wide, browser)
    assert any("wide in a 1280 px window" in p for p in problems), problems


# --- print: the same report on A4 paper ------------------------------------------------------
#
# Gemeenten put the report in council documents. ``check_print`` prints a page to PDF (the
# PDF must have several A4 pages, none blank) and lays it out for print at the width of an A4
# page's content box, where it checks the layout in the DOM: nothing wider than the paper,
# tables and figures kept whole where they fit on a page, headings kept with what follows,
# the table of contents shown and followed by a page break.

A4_PX = {"width": 794, "height": 1123}
"""An A4 sheet (210 x 297 mm) in CSS px, as Chromium lays out a printed page."""

PDF_A4_PT = (595.92, 842.88)
"""The MediaBox of one of Chromium's A4 PDF pages (A4 rounded to whole CSS px)."""

FORCED_BREAKS = {"page", "always", "left", "right", "recto", "verso"}

_PDF_STREAM = re.compile(rb"(\d+) 0 obj((?:(?!endobj).)*?)stream\r?\n(.*?)\r?\nendstream", re.S)
_PDF_PAGE = re.compile(rb"/Type\s*/Page\b(?!s)")


def pdf_pages(data: bytes) -> list[dict]:
    """The pages of one of Chromium's (Skia's) PDFs: their size in pt and how many text and
    image operators (Tj, TJ, Do) each draws; 0 means a blank page."""
    streams = {}
    for match in _PDF_STREAM.finditer(data):
        body = match.group(3)
        if b"/FlateDecode" in match.group(2):
            with contextlib.suppress(zlib.error):
                body = zlib.decompress(body)
        streams[int(match.group(1))] = body
    pages = []
    for match in _PDF_PAGE.finditer(data):
        page = data[match.start():data.find(b"endobj", match.end())]
        box = re.search(rb"/MediaBox\s*\[([^\]]*)\]", page)
        x0, y0, x1, y1 = (float(v) for v in box.group(1).split()) if box else (0, 0, 0, 0)
        refs = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", page)
        content = b"".join(streams.get(int(n), b"")
                           for n in re.findall(rb"(\d+) 0 R", refs.group(1) if refs else b""))
        pages.append({"width": x1 - x0, "height": y1 - y0,
                      "marks": len(re.findall(rb"\b(?:Tj|TJ|Do)\b", content))})
    return pages


# The last @page rule (also one inside @media): its size and its margins in px.
_PAGE_RULE_JS = """
() => {
  const rules = [];
  const walk = list => {
    for (const rule of list) {
      if (rule instanceof CSSPageRule) rules.push(rule);
      else if (rule.cssRules) walk(rule.cssRules);
    }
  };
  for (const sheet of document.styleSheets) walk(sheet.cssRules);
  if (!rules.length) return null;
  const style = rules[rules.length - 1].style;
  const px = value => {
    const probe = document.createElement("div");
    probe.style.cssText = "position:absolute;height:0";
    probe.style.width = value || "0";
    document.body.appendChild(probe);
    const width = probe.getBoundingClientRect().width;
    probe.remove();
    return width;
  };
  return {size: style.getPropertyValue("size"),
          top: px(style.marginTop), right: px(style.marginRight),
          bottom: px(style.marginBottom), left: px(style.marginLeft)};
}
"""

# The print layout, seen in a window as wide as the page's content box.
_PRINT_LAYOUT_JS = """
() => {
  const style = el => getComputedStyle(el);
  const text = (el, n = 50) => (el ? el.textContent : "").replace(/\\s+/g, " ").trim().slice(0, n);
  const box = el => {
    const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, width: r.width, height: r.height};
  };
  const label = t => text(t.caption)
    || (t.rows.length ? Array.from(t.rows[0].cells).map(c => text(c)).join(" | ") : "");
  const nav = document.querySelector("nav");
  const header = document.querySelector("header");
  return {
    width: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    tables: Array.from(document.querySelectorAll("table")).map(t => ({
      label: label(t), ...box(t), scrollWidth: t.scrollWidth, clientWidth: t.clientWidth,
      breakInside: style(t).breakInside,
      thead: t.tHead ? style(t.tHead).display : null,
      rowBreak: t.rows.length ? style(t.rows[t.rows.length - 1]).breakInside : "avoid",
    })),
    figures: Array.from(document.querySelectorAll("figure, img")).map(f => ({
      tag: f.tagName.toLowerCase(), ...box(f),
      label: text(f.querySelector("figcaption")) || (f.getAttribute("alt") || ""),
      breakInside: style(f).breakInside,
    })),
    nav: nav && {...box(nav), display: style(nav).display, visibility: style(nav).visibility,
                 position: style(nav).position, breakAfter: style(nav).breakAfter},
    headings: Array.from(document.querySelectorAll("main h2, main h3"))
      .filter(h => style(h).breakAfter !== "avoid").map(h => text(h)),
    headerColours: header ? style(header).printColorAdjust : "exact",
    underlined: Array.from(document.querySelectorAll("a[href]"))
      .filter(a => style(a).textDecorationLine.includes("underline")).length,
  };
}
"""


def check_print(path: Path, browser=None, pdf_path: Path | None = None) -> list[str]:
    """Print ``path`` to A4 and lay it out for print; return the problems found.

    ``pdf_path``: also keep the PDF there (to look at it).
    """
    if browser is None:
        with launch_browser() as launched:
            return check_print(path, launched, pdf_path)

    problems: list[str] = []
    context = browser.new_context(offline=True, viewport=A4_PX)
    try:
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith(("file:", "data:")) else route.abort())
        page.goto(Path(path).resolve().as_uri(), wait_until="load")
        page.evaluate(_IMAGES_JS, IMAGE_TIMEOUT_MS)
        pdf = page.pdf(format="A4", print_background=True)
        page.emulate_media(media="print")
        rule = page.evaluate(_PAGE_RULE_JS)
        if rule is None:
            problems.append("no @page rule: paper size and margins are left to the browser")
            rule = {"size": "", "top": 0, "right": 0, "bottom": 0, "left": 0}
        elif "a4" not in rule["size"].lower():
            problems.append(f"@page size is {rule['size']!r}, not A4")
        content = {"width": round(A4_PX["width"] - rule["left"] - rule["right"]),
                   "height": round(A4_PX["height"] - rule["top"] - rule["bottom"])}
        page.set_viewport_size(content)
        layout = page.evaluate(_PRINT_LAYOUT_JS)
    finally:
        context.close()
    if pdf_path is not None:
        Path(pdf_path).write_bytes(pdf)

    pages = pdf_pages(pdf)
    if len(pages) < 2:
        problems.append(f"the PDF has {len(pages)} page(s); expected the table of contents "
                        "on a page of its own and the chapters after it")
    for number, sheet in enumerate(pages, 1):
        if (abs(sheet["width"] - PDF_A4_PT[0]) > 2 or abs(sheet["height"] - PDF_A4_PT[1]) > 2):
            problems.append(f"PDF page {number} is {sheet['width']:.0f} x "
                            f"{sheet['height']:.0f} pt, not A4")
        if not sheet["marks"]:
            problems.append(f"PDF page {number} is blank")

    width, height = layout["width"], content["height"]
    if layout["scrollWidth"] > width + 1:
        problems.append(f"the printed page is {layout['scrollWidth']} px wide, the content box "
                        f"of an A4 page {width} px: the right edge is cut off")
    for table in layout["tables"]:
        name = f"table {table['label']!r}"
        if table["right"] > width + 1 or table["left"] < -1:
            problems.append(f"{name} is {table['width']:.0f} px wide, wider than the "
                            f"{width} px content box of an A4 page")
        if table["scrollWidth"] > table["clientWidth"] + 1:
            problems.append(f"{name} shows {table['clientWidth']} of its "
                            f"{table['scrollWidth']} px in print: the rest is cut off")
        if table["height"] <= height and table["breakInside"] not in ("avoid", "avoid-page"):
            problems.append(f"{name} fits on one page but may be split across two "
                            f"(break-inside: {table['breakInside']})")
        if table["thead"] not in (None, "table-header-group"):
            problems.append(f"{name}: its header does not repeat on the next page "
                            f"(thead display: {table['thead']})")
        if table["rowBreak"] not in ("avoid", "avoid-page"):
            problems.append(f"{name}: a row may be split across pages")
    for figure in layout["figures"]:
        name = f"{figure['tag']} {figure['label']!r}"
        if figure["right"] > width + 1 or figure["left"] < -1:
            problems.append(f"{name} is {figure['width']:.0f} px wide, wider than the "
                            f"{width} px content box of an A4 page")
        if figure["height"] > height:
            problems.append(f"{name} is {figure['height']:.0f} px high, higher than the "
                            f"{height} px content box of an A4 page")
        if figure["tag"] == "figure" and figure["breakInside"] not in ("avoid", "avoid-page"):
            problems.append(f"{name} may be split across pages, or lose its caption")
    nav = layout["nav"]
    if nav is None:
        problems.append("the page has no table of contents (<nav>)")
    elif nav["display"] == "none" or nav["visibility"] != "visible" or not nav["height"]:
        problems.append("the table of contents (nav) is hidden in print")
    else:
        if nav["breakAfter"] not in FORCED_BREAKS:
            problems.append("no page break after the table of contents "
                            f"(break-after: {nav['breakAfter']})")
        if nav["position"] in ("sticky", "fixed"):
            problems.append(f"the table of contents is {nav['position']} in print")
        if nav["width"] < 0.9 * width:
            problems.append(f"the table of contents is {nav['width']:.0f} px wide of the "
                            f"{width} px of a page")
    if layout["headings"]:
        problems.append(f"{len(layout['headings'])} heading(s) may be left alone at the bottom "
                        f"of a page (no break-after: avoid), e.g. {layout['headings'][0]!r}")
    if layout["headerColours"] != "exact":
        problems.append("the header banner prints without its colours "
                        f"(print-color-adjust: {layout['headerColours']})")
    if layout["underlined"]:
        problems.append(f"{layout['underlined']} link(s) print underlined")
    return problems


def test_report_prints_to_a4(report_html: Path, browser, tmp_path):
    pdf_path = tmp_path / "rapport.pdf"
    problems = check_print(report_html, browser, pdf_path)
    assert problems == [], f"{report_html} printed to A4:\n" + "\n".join(problems)
    pages = pdf_pages(pdf_path.read_bytes())
    assert 3 <= len(pages) <= 80, f"{len(pages)} pages for one report"


# --- negative controls for check_print --------------------------------------------------------

def _print_page(tmp_path: Path, body: str, css: str | None = None) -> Path:
    """A small page in the report's layout (header, table of contents, a chapter with a table
    and a figure) styled with ``css`` (default: the report's own CSS)."""
    from jeugdkit.report.html import CSS
    path = tmp_path / "print.html"
    path.write_text(
        "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Control</title>"
        f"<style>{CSS if css is None else css}</style></head><body>"
        "<header><h1>Control</h1><p>Gemeente</p></header><div class='wrap'>"
        "<nav><strong>Inhoud</strong><ol><li><a href='#h'>Hoofdstuk</a></li></ol></nav><main>"
        "<h2 id='h'>Hoofdstuk</h2><p>Tekst.</p>"
        "<table class='tabel'><thead><tr><th>Gebied</th><th>Aantal</th></tr></thead><tbody>"
        "<tr><td>Boswolde</td><td class='num'>12</td></tr></tbody></table>"
        f"<figure><img alt='figuur' src='data:image/png;base64,{PNG_B64}' width='300'>"
        f"<figcaption>Een figuur.</figcaption></figure>{body}</main></div></body></html>",
        encoding="utf-8")
    return path


def test_control_printable_page_passes(tmp_path, browser):
    assert check_print(_print_page(tmp_path, ""), browser) == []


def test_control_print_catches_wide_figure_and_table(tmp_path, browser):
    path = _print_page(tmp_path,
                       f"<figure><img alt='breed' src='data:image/png;base64,{PNG_B64}' "
                       "style='width:1400px;max-width:none'><figcaption>Te breed.</figcaption>"
                       "</figure><table class='tabel'><thead><tr><th>Pad</th></tr></thead>"
                       f"<tbody><tr><td>{'x' * 300}</td></tr></tbody></table>")
    problems = check_print(path, browser)
    assert any(p.startswith("img 'breed' is 1400 px wide") for p in problems), problems
    assert any(p.startswith("table 'Pad' is") and "wider than the" in p
               for p in problems), problems
    assert any("the right edge is cut off" in p for p in problems), problems


def test_control_print_catches_the_screen_only_css(tmp_path, browser):
    # The print rule before issue #16: the contents hidden, tables scrolling in their box.
    from jeugdkit.report.html import CSS
    old = CSS[:CSS.index("@page")] + "@media print{nav{display:none}.wrap{display:block}}"
    path = _print_page(tmp_path, "<table class='tabel'><thead><tr><th>Pad</th></tr></thead>"
                                 f"<tbody><tr><td>{'x' * 300}</td></tr></tbody></table>", old)
    problems = check_print(path, browser)
    assert "the table of contents (nav) is hidden in print" in problems, problems
    assert "no @page rule: paper size and margins are left to the browser" in problems, problems
    assert any(p.startswith("table 'Pad' shows") and "cut off" in p for p in problems), problems
    assert any("may be split across two" in p for p in problems), problems
    assert any("heading(s) may be left alone" in p for p in problems), problems


def test_control_print_catches_a_toc_without_page_break_and_a_blank_page(tmp_path, browser):
    from jeugdkit.report.html import CSS
    css = CSS + "@media print{nav{break-after:auto;page-break-after:auto}}"
    path = _print_page(tmp_path, "<div style='break-before:page;break-after:page;height:1px'>"
                                 "</div><p>Na een lege pagina.</p>", css)
    problems = check_print(path, browser)
    assert "no page break after the table of contents (break-after: auto)" in problems, problems
    assert any(p.startswith("PDF page") and p.endswith("is blank") for p in problems), problems
