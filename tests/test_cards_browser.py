"""Every card kind in a real browser (Debian's chromium through Playwright) against a real uvicorn: its facts
by visible text, axe-core's verdict (no serious or critical violation, French and English), and
screenshots at 1280 and 390 px in tests/screenshots/cards/ (ignored by git)."""

from __future__ import annotations

import json
from pathlib import Path

from cards_helpers import PAGES, cards_store
from pages_helpers import serve, wait_for_index

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).parent / "screenshots" / "cards"
RESULTS = SHOTS / "axe.json"
# Besides the cards: the pages a person reaches them from, with the facets and the search form.
OTHERS = {"accueil": "/", "liste-projets": "/projets", "recherche": "/recherche?q=saison"}
OTHERS["rapprochement"] = "/rapprochement"  # its curl example, a long line
OTHERS["a-propos"] = "/a-propos"  # what a newcomer reads first
# A code block whose text is wider than its box is cut where no scrollbar shows (overlay scrollbars).
CODE_FITS = "[...document.querySelectorAll('main pre')].every(e => e.scrollWidth <= e.clientWidth)"
VISIBLE = {  # one fact per page, as a reader sees it (French)
    "projet": "87\u202f500,50\u00a0€",
    "lieu": "Horaires de la semaine",
    "ressource": "CC BY 4.0",
    "ressource-contribuee": "Historique de la contribution",
    "territoire-departement": "Intercommunalités (EPCI)",
    "territoire-commune": "Chiffres clés",
    "organisation": "Travaille le plus avec",
    "evenement": "Rencontre des espaces saisonniers 2023",
    "accueil": "En chiffres",
    "liste-projets": "Tremplin Saison",
    "recherche": "Tremplin Saison",
    "rapprochement": "rapprochement.csv",
    "a-propos": "Données personnelles",
}
BAD = {"serious", "critical"}


def axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})).violations"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in found
    ]


def test_every_kind_reads_well_and_passes_axe(browser, base_iri, territory_triples, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    store = cards_store(base_iri, territory_triples)
    report: dict[str, dict[str, list[dict]]] = {}
    with serve(store, tmp_path) as url:
        wait_for_index(url)
        # The pages forbid inline scripts (CSP); axe is injected by the test, so the test's page lets it in.
        page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        for name, path in {**PAGES, **OTHERS}.items():
            for lang in ("fr", "en"):
                sep = "&" if "?" in path else "?"
                page.set_viewport_size({"width": 1280, "height": 900})
                page.goto(f"{url}{path}{sep}lang={lang}")
                assert page.locator("html").get_attribute("lang") == lang
                if lang == "fr":
                    assert page.get_by_text(VISIBLE[name], exact=False).first.is_visible(), name
                report.setdefault(name, {})[lang] = axe(page)
                assert page.evaluate(CODE_FITS), f"{name} ({lang}): a code block is cut at 1280 px"
                page.screenshot(path=str(SHOTS / f"{name}-{lang}-1280.png"), full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                assert page.evaluate(CODE_FITS), f"{name} ({lang}): a code block is cut at 390 px"
                page.screenshot(path=str(SHOTS / f"{name}-{lang}-390.png"), full_page=True)
        # The skip link is the first stop of the keyboard and takes it to the content.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url + PAGES["lieu"])
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#contenu"
        page.keyboard.press("Enter")
        assert page.url.endswith("#contenu")
        # Printed, a project is its card: no navigation, no data tables.
        page.emulate_media(media="print")
        page.goto(url + PAGES["projet"] + "?lang=fr")
        assert page.get_by_text("87\u202f500,50\u00a0€").is_visible()
        assert not page.locator("header.site").is_visible()
        assert not page.locator("section.all-data").is_visible()
        page.screenshot(path=str(SHOTS / "projet-fr-print.png"), full_page=True)
        page.emulate_media(media="screen")
        # Facets work from the keyboard: Space ticks a value, Enter on the button applies it.
        page.goto(url + "/projets")
        box = page.locator("form.facets input[type=checkbox]").first
        value = box.get_attribute("value")
        box.focus()
        page.keyboard.press("Space")
        page.locator("form.facets button[type=submit]").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/projets?*{value}*")
        assert page.locator("form.facets input[type=checkbox]:checked").count() == 1
        page.close()
    RESULTS.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    bad = {
        f"{name} ({lang})": [v for v in found if v["impact"] in BAD]
        for name, by_lang in report.items()
        for lang, found in by_lang.items()
    }
    assert not {k: v for k, v in bad.items() if v}, json.dumps(bad, ensure_ascii=False, indent=1)
