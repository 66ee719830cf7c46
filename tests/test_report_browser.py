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
import shutil
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
