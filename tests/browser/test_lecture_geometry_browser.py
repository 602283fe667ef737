"""The whole default deck, stepped with PageDown in presentation mode at the projector's 1280×720
and at 1920×1080: every slide renders without exception, the counter "N / K" and the URL follow,
and the figures fill the screen.

Geometry rules checked on every slide (measured in the browser, the main area scrolled to the top):

- the slide's main figure, the largest figure (a Plotly or Vega-Lite chart, or an image) that starts within the
  first screen, covers at least a third of the viewport;
- nothing needs horizontal scrolling;
- side-by-side maps of two images (heat maps, feature maps, semantic maps) have the same size and
  each is at least 40 % of the content width;
- no text of a Plotly figure (title, tick label, legend, colour-bar label) reaches outside its
  figure: the boxes of its SVG ``text`` elements, not only DOM overflow.

The measured size of the largest figure per slide is printed and written to
``artifacts/lecture_geometry.md`` (the issue's closing note quotes it).
"""

from __future__ import annotations

import re

import pytest

from data.deck import load_default_deck
from tests.browser.conftest import SCREENSHOTS, page_at, settle, wait_for_run
from tests.conftest import PROJECT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DECK = load_default_deck()
BAR = ".st-key-lecture_bar"
TABLE = PROJECT / "artifacts" / "lecture_geometry.md"
SIZES = {"1280x720": (1280, 720), "1920x1080": (1920, 1080)}
MEASURED: dict[str, dict[int, dict]] = {}
# Slides excused from the geometry rules (printed, not failed on; an exception or horizontal
# scrolling still fails). Empty since issue 12's last part; a listed slide that passes fails the
# test, so the list can only shrink.
KNOWN_SHORT: dict[str, set[int]] = {"1280x720": set(), "1920x1080": set()}
HARD = ("an exception", "horizontal scrolling")  # never excused

# One measurement of the slide on screen (the main area scrolled to its top).
MEASURE = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (main) main.scrollTop = 0;
  const vw = window.innerWidth, vh = window.innerHeight;
  // Drawn and not inside a collapsed expander (whose content keeps its size while hidden). Asked
  // of the drawn element itself: a chart's wrapper may be display: contents, which has no box.
  const shown = (el) => el.checkVisibility() && !el.closest('details:not([open])');
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top + (main ? main.scrollTop : 0), w: r.width, h: r.height}; };
  const content = document.querySelector('[data-testid="stMainBlockContainer"]');
  const cs = content ? getComputedStyle(content) : null;
  const contentWidth = content ? content.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) : vw;
  const figures = [];
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const svg = chart.querySelector('.main-svg');
    if (!svg || !shown(svg)) continue;
    const b = box(svg);
    const key = (chart.closest('[class*="st-key-"]') || {className: ''}).className;
    // Every text of the chart's SVG layers, against the chart's own box.
    const cut = [];
    for (const t of chart.querySelectorAll('.main-svg text')) {
      const s = (t.textContent || '').trim();
      if (!s) continue;
      const st = getComputedStyle(t);
      if (st.display === 'none' || st.visibility === 'hidden' || st.opacity === '0') continue;
      const r = t.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const c = svg.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1 || r.top < c.top - 1 || r.bottom > c.bottom + 1) {
        cut.push(s.slice(0, 40));
      }
    }
    figures.push({kind: 'plotly', key, cut, ...b});
  }
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const drawn = chart.querySelector('canvas, svg.marks');
    const key = (chart.closest('[class*="st-key-"]') || {className: ''}).className;
    if (drawn && shown(drawn)) figures.push({kind: 'vega', key, cut: [], ...box(drawn)});
  }
  for (const img of document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')) {
    const b = box(img);
    if (b.w > 0 && b.h > 0 && shown(img)) figures.push({kind: 'image', key: '', cut: [], ...b});
  }
  const seen = new Set();
  const unique = figures.filter(f => {
    const k = [f.x, f.y, f.w, f.h].join();
    if (seen.has(k)) return false;
    seen.add(k);
    return true; });
  const hscroll = Math.max(document.documentElement.scrollWidth - document.documentElement.clientWidth,
                           main ? main.scrollWidth - main.clientWidth : 0);
  return {vw, vh, contentWidth, figures: unique, hscroll,
          exceptions: document.querySelectorAll('[data-testid="stException"]').length};
}"""


def heat_maps(figures: list[dict]) -> list[dict]:
    """The maps of two images side by side (compare=N): heat maps, feature maps, semantic maps, the
    Plotly charts keyed hm_cmp_a/b, fm_cmp_a/b, sm_cmp_a/b (ui.present.pair_row)."""
    return [f for f in figures if re.search(r"st-key-(hm|fm|sm)_cmp_[ab]\b", f["key"])]


def check_slide(number: int, m: dict) -> list[str]:
    """The rules above for one slide's measurement; the problems found (empty when all hold)."""
    problems = []
    vw, vh = m["vw"], m["vh"]
    if m["exceptions"]:
        problems.append("an exception is shown")
    if m["hscroll"] > 1:
        problems.append(f"horizontal scrolling ({m['hscroll']:.0f} px)")
    if not m["figures"]:
        return problems + ["no figure"]
    main = main_figure(m)
    if main is None:
        problems.append("no figure starts within the first screen")
    else:
        share = main["w"] * main["h"] / (vw * vh)
        if share < 1 / 3:
            problems.append(f"largest figure of the first screen {main['w']:.0f}×{main['h']:.0f} px = "
                            f"{share:.0%} of the viewport")
    for f in m["figures"]:
        if f["cut"]:
            problems.append(f"text cut off in {f['key'] or f['kind']}: {f['cut'][:3]}")
    heats = heat_maps(m["figures"])
    rows: dict[int, list[dict]] = {}
    for f in heats:
        rows.setdefault(round(f["y"] / 20), []).append(f)
    for row in rows.values():
        if len(row) < 2:
            continue
        widths, heights = [f["w"] for f in row], [f["h"] for f in row]
        sizes = sorted({(round(f["w"]), round(f["h"])) for f in row})
        if max(widths) - min(widths) > 2 or max(heights) - min(heights) > 2:
            problems.append(f"side-by-side heat maps differ in size: {sizes}")
        for f in row:
            if f["w"] < 0.4 * m["contentWidth"]:
                problems.append(f"heat map {f['w']:.0f} px < 40 % of the content width {m['contentWidth']:.0f} px")
    return problems


def settled_measure(page, tries: int = 10) -> dict:
    """:data:`MEASURE` once the figures have stopped changing size: a figure sized by the browser
    (ui.present.fill_screen, the comparison pairs) is drawn first at its own height, then redrawn
    at the height its CSS gives it, a moment later on a busy machine."""
    m = page.evaluate(MEASURE)
    for _ in range(tries):
        page.wait_for_timeout(500)
        again = page.evaluate(MEASURE)
        if [(f["w"], f["h"]) for f in again["figures"]] == [(f["w"], f["h"]) for f in m["figures"]]:
            return again
        m = again
    return m


def main_figure(m: dict) -> dict | None:
    """The slide's main figure: the largest of those that start within the first screen."""
    first = [f for f in m["figures"] if f["y"] < m["vh"]]
    return max(first, key=lambda f: f["w"] * f["h"]) if first else None


def write_table() -> str:
    lines = ["| slide | title | " + " | ".join(f"main figure at {s} (w×h, top, % of viewport)" for s in SIZES) + " |",
             "|---|---|" + "---|" * len(SIZES)]
    for number, slide in enumerate(DECK.slides, start=1):
        cells = []
        for size in SIZES:
            m = MEASURED.get(size, {}).get(number)
            f = None if m is None else main_figure(m)
            if f is None:
                cells.append("–" if m is None else "no figure on the first screen")
            else:
                share = f["w"] * f["h"] / (m["vw"] * m["vh"])
                cells.append(f"{f['w']:.0f}×{f['h']:.0f} px at y={f['y']:.0f}, {share:.0%}")
        lines.append(f"| {number} | {slide.title} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    return text


@pytest.mark.parametrize("size", list(SIZES))
def test_pagedown_through_the_whole_deck_with_figures_that_fill_the_screen(server, browser, size):
    width, height = SIZES[size]
    with page_at(browser, width, height) as page:
        page.goto(f"{server}/Lecture?slide=1&present=1")
        wait_for_run(page)
        page.wait_for_timeout(1000)  # the key listener's frame loads after the run
        problems: dict[int, list[str]] = {}
        MEASURED[size] = {}
        for number in range(1, len(DECK) + 1):
            if number > 1:
                page.keyboard.press("PageDown")
                page.wait_for_function(
                    f"() => new URLSearchParams(location.search).get('slide') === '{number}'")
                settle(page)
            page.locator(BAR).get_by_text(f"{number} / {len(DECK)}", exact=True).wait_for()
            page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                .every(c => !c.getClientRects().length || c.querySelector('.main-svg'))""")
            page.wait_for_timeout(400)  # Plotly's text layout after the first draw
            assert "present=1" in page.url
            slide = DECK.slide(number)
            assert (f"/{slide.page}?" in page.url) or (slide.is_home and "/?" in page.url), page.url
            m = settled_measure(page)
            MEASURED[size][number] = m
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"lecture_{size}_slide_{number:02d}.png"))
            found = check_slide(number, m)
            if found:
                problems[number] = found
    print(f"\nMain figure per slide at {size}:\n" + write_table())
    known = KNOWN_SHORT[size]
    for n in sorted(known & set(problems)):
        print(f"known shortfall, slide {n} ({DECK.slide(n).title}): {'; '.join(problems[n])}")
    hard = {n: p for n, p in problems.items() if n not in known or any(q.startswith(HARD) for q in p)}
    assert not hard, "\n".join(f"slide {n} ({DECK.slide(n).title}): {'; '.join(p)}" for n, p in hard.items())
    fixed = sorted(known - set(problems))
    assert not fixed, f"slides {fixed} now meet every rule at {size}: remove them from KNOWN_SHORT"
