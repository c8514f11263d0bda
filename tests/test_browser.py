"""Browsing in a real browser (Debian's chromium driven by Playwright) against a real uvicorn server:
home → map → Savoie → a project → its organisation → search, with screenshots in tests/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pages_helpers import pages_store, serve, wait_for_index

SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def url(base_iri, territory_triples, tmp_path_factory) -> Iterator[str]:
    """One server for the module: its tests only read, each in its own page."""
    with serve(pages_store(base_iri, territory_triples), tmp_path_factory.mktemp("browser")) as url:
        wait_for_index(url)  # the lists, their facets and counts, and the home page's map
        yield url


def test_home_map_savoie_project_organisation_search(browser, url):
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(url + "/")
    page.screenshot(path=str(SHOTS / "browse-1-home.png"), full_page=True)
    page.locator('a[href="/id/departement/73"]').click()
    page.wait_for_url("**/id/departement/73")
    assert page.locator("h1").inner_text() == "Savoie (73)"
    page.screenshot(path=str(SHOTS / "browse-2-savoie.png"), full_page=True)
    page.get_by_role("link", name="Tremplin Saison").click()
    page.wait_for_url("**/id/projet/tremplin-saison")
    assert page.locator("h1").inner_text() == "Tremplin Saison"
    assert page.locator("div.text li", has_text="un forum des métiers").count() == 1
    page.screenshot(path=str(SHOTS / "browse-3-project.png"), full_page=True)
    page.get_by_role("link", name="ADRETS", exact=True).first.click()  # the card names it, then the table
    page.wait_for_url("**/id/organisation/adrets")
    assert page.locator("h1").inner_text() == "ADRETS"
    assert page.get_by_role("link", name="Tremplin Saison").count() == 2  # its projects, and cited by
    page.screenshot(path=str(SHOTS / "browse-4-organisation.png"), full_page=True)
    page.locator('header.site a[href="/recherche"]').click()
    page.locator("#q").fill("telecentre")
    page.keyboard.press("Enter")
    page.wait_for_url("**/recherche?q=telecentre")
    assert page.locator("ol.results li").count() == 1
    assert "télécentres" in page.locator("ol.results").inner_text()
    page.screenshot(path=str(SHOTS / "browse-5-search.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 800})  # a phone
    page.goto(url + "/id/projet/tremplin-saison?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(SHOTS / "browse-6-phone-en.png"), full_page=True)
    page.close()


# The pages a tester found wider than a phone; the JS names the widest elements when one is.
NARROW = [
    "/catalogue",
    "/rapprochement",
    "/telechargements",
    "/id/theme/mobilite",
    "/sparql",
    "/def",
    "/ressources",
    "/territoires",
    "/id/projet/tremplin-saison",
    "/ressources/proposer",
    "/a-propos",
]
WIDEST = """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
    .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def test_pages_fit_a_375_px_phone_without_scrolling_sideways(browser, url):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    wide = {}
    for path in NARROW:
        page.goto(url + path)
        if page.evaluate("document.documentElement.scrollWidth") > 375:
            wide[path] = (page.evaluate("document.documentElement.scrollWidth"), page.evaluate(WIDEST))
    page.close()
    assert wide == {}


# Counts a facet, a list's title or a row shows that span more than one line (« (2 400 ⏎ ) », « (1 11 ⏎ 8) »).
BROKEN_COUNTS = """() => [...document.querySelectorAll('.count')].filter(e => {
    const range = document.createRange(); range.selectNodeContents(e);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1
}).map(e => e.textContent)"""


def test_a_count_never_breaks_across_lines(browser, url):
    """main's overflow-wrap: anywhere (for IRIs) let a count shrink beside a long facet value."""
    broken = {}
    for width in (1280, 375):
        page = browser.new_page(viewport={"width": width, "height": 800})
        for path in ("/territoires", "/lieux", "/projets", "/themes"):
            page.goto(url + path, timeout=120_000)
            assert page.locator("form.facets .count").count() or path == "/themes"
            if found := page.evaluate(BROKEN_COUNTS):
                broken[(width, path)] = found
        page.close()
    assert broken == {}


def test_a_phone_sees_the_results_first_and_the_chosen_values_first_in_their_facet(browser, url):
    """On a 390 px phone, a list's results started after every facet (~1,400 px down on /lieux?departement=05,
    954 px here), and Hautes-Alpes, chosen, was the 41st value of its scrolling box. The facets fold there,
    behind a summary a keyboard opens, chosen values first; a wide screen shows them beside the results."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(url + "/territoires?departement=05")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "facets-phone.png"), full_page=True)
    results = page.locator("#h-results").bounding_box()
    assert results["y"] < 800, results  # on the first screen
    assert page.get_by_role("heading", name="Filter", exact=True).is_visible()
    chosen = page.locator('input[name="departement"][value="05"]')
    assert not chosen.is_visible()
    page.locator("summary.facet-toggle").focus()
    page.keyboard.press("Enter")
    assert chosen.is_checked() and chosen.is_visible()
    box, within = chosen.bounding_box(), chosen.locator("xpath=ancestor::ul[1]").bounding_box()
    assert within["y"] <= box["y"] < within["y"] + 40, (box, within)  # the first, not scrolled to
    page.screenshot(path=str(SHOTS / "facets-phone-open.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(url + "/territoires?departement=05")
    assert chosen.is_visible() and not page.locator("summary.facet-toggle").is_visible()
    page.close()


def test_the_sparql_examples_never_overwrite_a_query_and_engine_errors_are_marked_english(browser, url):
    """Down Arrow on the examples replaced what was typed: an example loads on its button only. The
    engine's messages and the formats' names are English on the French page: said so (lang="en")."""
    page = browser.new_page(locale="fr-FR")
    page.goto(url + "/sparql")
    typed = "SELECT ?s WHERE { ?s ?p ?o  # mine, unfinished"
    page.locator("#query").fill(typed)
    page.locator("#examples").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#query").input_value() == typed
    assert page.locator('#format option:not([lang="en"])').count() == 0
    page.get_by_role("button", name="Exécuter").click()
    message = page.locator('#status span[lang="en"]')
    message.wait_for()
    assert page.locator("#status").inner_text().startswith("Erreur 400")
    page.get_by_role("button", name="Charger l'exemple").click()
    assert page.locator("#query").input_value() != typed
    page.close()


ACTIVE = "document.activeElement.id || document.activeElement.textContent.trim()"


def test_a_keyboard_applies_the_facets_or_skips_them_to_the_results_in_a_few_tabs(browser, url):
    """A blind tester needed 215 Tabs through /lieux's facets to reach its first result, and at 320 px 213
    from the first value to « Appliquer »: both come first in the form, the results heading takes focus."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/territoires")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # « Skip to content »
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "Apply"
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "Skip to the results"
    page.keyboard.press("Enter")
    assert page.evaluate(ACTIVE) == "h-results"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('ul.results') !== null")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(url + "/recherche?q=saint")
    page.locator("summary.facet-toggle").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "Apply"
    page.close()


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two CSS ``rgb(…)`` colours."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_a_departement_of_the_home_map_shows_its_name_and_count_when_focused(browser, url):
    """A keyboard on the map's Savoie got its name and count in an SVG title only, a mouse's tooltip: under
    the map the focused (or hovered) département writes them, without a script; its link keeps its name."""
    page = browser.new_page(viewport={"width": 320, "height": 800}, java_script_enabled=False)
    page.goto(url + "/?lang=fr")
    savoie = page.locator('a[href="/id/departement/73"]')
    caption = savoie.locator("text")
    assert not caption.is_visible()
    savoie.focus()
    assert caption.is_visible() and caption.text_content().startswith("Savoie (73)1 projet")
    assert page.locator(".map a text:visible").count() == 1
    box, svg = caption.bounding_box(), page.locator(".map svg").bounding_box()
    assert box["x"] >= svg["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"] + 1, (box, svg)
    page.screenshot(path=str(SHOTS / "map-focus-320.png"), full_page=True)
    assert page.get_by_role("link", name="Savoie (73)\u00a0: 1 projet", exact=True).count() == 1
    # Every shape's border stands out from the page (the lightest shade did by 1.2:1): WCAG 1.4.11's 3:1.
    stroke = page.evaluate("getComputedStyle(document.querySelector('#dep-05')).stroke")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert contrast(stroke, background) >= 3, (stroke, background)
    page.close()


def test_the_home_map_s_focus_stands_out_3_to_1_from_every_shade(browser, url):
    """The focused département's yellow border was 1.8:1 on the light shades (WCAG 1.4.11 asks 3:1): its
    two colours, ring and fill, differ 3:1, and one of them differs 3:1 from each shade and the page."""
    page = browser.new_page(viewport={"width": 320, "height": 800}, java_script_enabled=False)
    page.goto(url + "/?lang=fr")
    page.locator('a[href="/id/departement/73"]').focus()
    ring, fill = page.evaluate(
        "[getComputedStyle(document.querySelector('#dep-73')).stroke,"
        " getComputedStyle(document.querySelector('#dep-73')).fill]"
    )
    # Every shade pages.css gives the map, each read from a shape of its class drawn for the test.
    shades = page.evaluate(
        """[0, 1, 2, 3, 4].map(i => {
            const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
            path.setAttribute('class', 'b' + i);
            document.querySelector('.map svg').append(path);
            return getComputedStyle(path).fill;
        })"""
    )
    shades.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
    assert len(set(shades)) == 6, shades
    assert contrast(ring, fill) >= 3, (ring, fill)
    for shade in shades:
        assert max(contrast(ring, shade), contrast(fill, shade)) >= 3, (ring, fill, shade)
    page.close()
