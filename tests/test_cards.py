"""Resource cards: each kind's template gets every key it uses, shows its facts, and its map is right."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
from dataclasses import fields
from html import unescape

import httpx
import jinja2
import pytest
from cards_helpers import CONTRIBUTOR_EMAIL, PAGES, cards_store
from jinja2 import meta, nodes
from markupsafe import escape
from pages_helpers import serve, wait_for_index

from api import cards, maps
from api.deps import templates
from api.i18n import STRINGS, translator
from api.resources import ResourcePage
from graph import outlines, search
from graph.describe import Text, describe
from graph.settings import DATA_DIR
from graph.store import OxigraphStore
from loaders.gazetteer import load_gazetteer

KIND_TEMPLATES = ["projet.html", "lieu.html", "ressource.html", "territoire.html", "organisation.html"]
KIND_TEMPLATES += ["evenement.html", "resource.html", "_card.html"]
RENDER_GLOBALS = {
    "lang",
    "t",
    "local",
    "paragraphs",
    "with_query",
    "other_lang",
    "num",
    "counted",
    "money",
    "request",
    "inline",
    "lang_attr",
}


def text_of(html: str) -> str:
    """What a reader sees, roughly: tags out, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    # ASCII spaces only: the no-break spaces of French numbers are part of what is read.
    return re.sub(r"[ \t\r\n]+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def test_templates_use_only_the_page_context():
    env = templates.env
    allowed = {f.name for f in fields(ResourcePage)} | RENDER_GLOBALS
    for name in KIND_TEMPLATES:
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source)
        macros = {n if isinstance(n, str) else n[1] for i in tree.find_all(nodes.FromImport) for n in i.names}
        used = meta.find_undeclared_variables(tree) - macros
        assert used <= allowed, f"{name} uses {sorted(used - allowed)}, not in ResourcePage"


def test_every_string_of_the_cards_is_translated():
    for name in KIND_TEMPLATES:
        source = templates.env.loader.get_source(templates.env, name)[0]
        keys = set(re.findall(r"\bt\('([a-z_0-9]+)'[,)]", source))
        keys |= {
            "kind_" + k for k in ("projet", "lieu", "ressource", "organisation", "evenement", "territoire")
        }
        keys |= {"kind_" + k for k in ("commune", "epci", "departement", "region")}
        keys |= {"role_" + r for r in cards.ROLE_ORDER}
        keys |= {"class_" + c for c in search.CREATIVE_WORKS}
        assert keys <= set(STRINGS), f"{name}: {sorted(keys - set(STRINGS))} missing from api/i18n.py"


@pytest.fixture(scope="module")
def store(base_iri, territory_triples) -> OxigraphStore:
    """The cards' store for the tests that build cards without a server (none serves it): loaded once,
    each test writing things of its own."""
    return cards_store(base_iri, territory_triples)


@pytest.fixture(scope="module")
def site(base_iri, territory_triples, tmp_path_factory):
    """The real app on 127.0.0.1, its templates rendering under StrictUndefined: a key a template uses
    and its context lacks is a 500, not an empty string."""
    store = cards_store(base_iri, territory_triples)
    before = templates.env.undefined
    templates.env.undefined = jinja2.StrictUndefined
    try:
        with serve(store, tmp_path_factory.mktemp("cards")) as url:
            wait_for_index(url)
            yield url, store
    finally:
        templates.env.undefined = before


FACTS = {
    "projet": (
        [
            "Tremplin Saison",
            "Animation de réseau",
            "Accompagner les saisonniers",
            "2019",
            "2022",
            "indiquée par la source",
            "Financeurs",
            "État",
            "75\u202f000\u00a0€",
            "12\u202f500,50\u00a0€",
            "30\u202f000\u00a0€",  # the share of the State's 75 000 €, not added to the total
            "montant non précisé",
            "87\u202f500,50\u00a0€",
            "Partenaires",
            "Mission locale Tarentaise",
            "Ressources liées",
            "Guide d'accueil des saisonniers",
            "Événements liés",
            "Rencontre des espaces saisonniers 2023",
            "Catalogue des projets",
            "lignes 120-134",
            "Toutes les données",
        ],
        ["Funders", "€75,000", "€87,500.50", "stated by the source", "Related events", "All the data"],
    ),
    "lieu": (
        [
            "105 place de la Gare",
            "73700 Bourg-Saint-Maurice",
            "Espaces saisonniers",
            "Lieu fixe",
            "04 79 00 00 00",
            "accueil@example.org",
            "Horaires de la semaine",
            "Mardi",
            "09:00–12:00, 14:00–17:30",
            "Dimanche fermé",
            "Autres lieux de la commune",
            "France Services de Bourg-Saint-Maurice",
        ],
        ["Opening hours this week", "Tuesday", "Sunday closed", "Seasonal-worker desks", "Fixed place"],
    ),
    "ressource": (
        [
            "Guide d'accueil des saisonniers",
            "Un guide pour accueillir",
            "Réalisé par",
            "ADRETS",
            "CC BY 4.0",
            "https://example.org/guide.pdf",
            "Saisonnalité",
            "Saisonniers",
        ],
        ["Made by", "Licence", "Seasonality", "Seasonal workers"],
    ),
    "ressource-contribuee": (
        [
            "Fiche covoiturage",
            "Historique de la contribution",
            "Acceptation",
            "par Équipe de modération",
            "Camille Martin",
            "Voir l'historique complet",
            "https://example.org/covoiturage",
        ],
        ["Contribution history", "See the full history", "Acceptance —"],
    ),
    "territoire-departement": (
        [
            "Savoie (73)",
            "Chiffres clés",
            "habitants",
            "lieux de services",
            "lieux pour 10 000 habitants",
            "Auvergne-Rhône-Alpes",
            "Intercommunalités (EPCI)",
            "CA du Grand Chambéry",
            "Communes",
            "Projets sur ce territoire",
            "Tremplin Saison",
        ],
        ["Key figures", "places per 10,000 inhabitants", "Intercommunalities (EPCI)", "Municipalities"],
    ),
    "territoire-commune": (
        ["Bourg-Saint-Maurice", "2 lieux de services", "Savoie", "Auvergne-Rhône-Alpes"],
        ["2 service places"],
    ),
    "organisation": (
        [
            "Mission locale Tarentaise",
            "Ses projets",
            "Tremplin Saison",
            "partenaire",
            "Réseau des télécentres alpins",
            "Ses sites",
            "Espace saisonniers de Bourg",
            "Travaille le plus avec",
            "ADRETS",
            "2 projets en commun",
        ],
        ["Its projects", "Its sites", "Works most with", "2 projects in common"],
    ),
    "evenement": (
        [
            "Rencontre des espaces saisonniers 2023",
            "Date 12 octobre 2023",
            "début 12 octobre 2023",  # the property table too
            "À propos de",
            "Tremplin Saison",
            "ligne 12",
        ],
        ["About", "Date 12 October 2023", "start 12 October 2023", "line 12"],
    ),
}


def test_a_communes_population_says_its_year_in_the_data_and_on_its_page(site):
    # The year of the populations was only in the ontology's comment: 2023's figures read as any year's.
    url, store = site
    rows = store.select(
        "PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcat: <http://www.w3.org/ns/dcat#> "
        "SELECT ?d WHERE { ?g void:propertyPartition ?p . "
        "?p void:property <https://w3id.org/communs-services/def#population> ; "
        "<http://purl.org/dc/terms/temporal> [ dcat:startDate ?d ] }"
    )
    assert [r["d"].value for r in rows] == ["2023-01-01"]
    page = text_of(httpx.get(url + PAGES["territoire-commune"], timeout=30).text)
    assert re.search(r"\d habitants \(2023\)", page), page[:2000]


def test_a_project_fundings_add_up_and_show_shares_and_coverage(site):
    """The association's share of a grant (cs:shareOf) is a line within that grant, not a second grant
    beside it, so the total is the sum of the grants listed; the association's budget (cs:budget) is shown
    with the part a funder covers (cs:coverageRate) in that funder's line."""
    url, _ = site
    for lang, rows, budget in (
        (
            "fr",
            [
                "État 75\u202f000\u00a0€",
                "dont part ADRETS 30\u202f000\u00a0€",
                "Département de la Savoie 12\u202f500,50\u00a0€",
                "Région Auvergne-Rhône-Alpes 75\u00a0% du budget ADRETS",
                "Région Auvergne-Rhône-Alpes montant non précisé",
                "Total 87\u202f500,50\u00a0€",
            ],
            "Budget ADRETS 40\u202f000\u00a0€",
        ),
        ("en", ["État €75,000", "of which ADRETS's share €30,000"], "ADRETS's budget €40,000"),
    ):
        html = httpx.get(f"{url}{PAGES['projet']}?lang={lang}", timeout=30).text
        table = re.search(r'<table class="fundings">.*?</table>', html, re.S).group(0)
        seen = [text_of(row) for row in re.findall(r"<tr\b.*?</tr>", table, re.S)[1:]]
        assert seen[: len(rows)] == rows, seen
        assert budget in text_of(html)


def test_texts_in_another_language_than_the_page_are_marked(site):
    """WCAG 3.1.2: on an English page the French title, summary, names and descriptions carry lang="fr"
    (from their literals' tags), the English ones do not; a French page marks none of its French texts."""
    url, _ = site
    english = httpx.get(f"{url}{PAGES['projet']}?lang=en").text
    assert '<h1 lang="fr">Tremplin Saison</h1>' in english
    assert re.search(r'<p class="summary" lang="fr">Accompagner les saisonniers', english)
    assert '<a href="/id/organisation/mission-locale" lang="fr">Mission locale Tarentaise</a>' in english
    assert re.search(r'<div class="text" lang="fr"><p>Accompagner', english)
    assert re.search(r'<a href="/id/axe/animation-de-reseau">Network facilitation</a>', english)
    article = re.search(r"<article.*</article>", httpx.get(f"{url}{PAGES['projet']}?lang=fr").text, re.S)[0]
    assert "Tremplin Saison" in article and ' lang="' not in article
    event = httpx.get(f"{url}{PAGES['evenement']}?lang=en").text
    assert '<h1 lang="fr">Rencontre des espaces saisonniers 2023</h1>' in event


def test_a_place_card_links_its_website_and_only_a_web_one(site):
    """The desk's site, an IRI as the places' loader writes it, is a link on the card, escaped; a value of
    another scheme is no link at all."""
    url, _ = site
    html = httpx.get(url + PAGES["lieu"]).text
    card = html[html.index('<div class="card-grid">') : html.index('"h-props"')]
    site_link = "http://www.example.org/saisonniers?a=1&amp;b=2"
    assert f'Site web\u00a0: <a href="{site_link}" rel="nofollow">{site_link}</a>' in card
    other = httpx.get(url + "/id/lieu/france-services-bourg").text
    assert "javascript:" not in other[other.index('<div class="card-grid">') : other.index('"h-props"')]
    jsonld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', other, re.S)[1])
    assert "url" not in jsonld  # what a harvester follows: not « javascript: » either


def test_a_place_address_names_its_town_once(site):
    """The address's town is the commune's link; the line under it adds the EPCI, not the town again."""
    url, _ = site
    html = httpx.get(url + PAGES["lieu"]).text
    address = re.search(r"<dt>Adresse</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert '73700 <a href="/id/commune/73054">Bourg-Saint-Maurice</a></address>' in address
    assert address.count("Bourg-Saint-Maurice") == 1 and '<a href="/id/epci/' in address


CURIE = re.compile(r"\b(?:schema|geo|cs|dcterms|skos|prov|rdfs?|org|foaf|igeo|xsd|dcat|owl):\w")
WORDS = {  # what the raw values of the fixtures read as, in the property table
    "fr": ["Lundi", "09:00", "Adresse postale", "pays", "non", "prévu", "6 décembre 2026 à 09:54"],
    "en": ["Monday", "09:00", "Postal address", "country", "no", "scheduled", "6 December 2026, 09:54"],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_all_data_shows_words_not_curies_or_raw_values(site, lang):
    """« Toutes les données » is for people: properties, classes and enumeration members by name, times,
    booleans and date-times formatted; the IRI stays in the title of each property's name."""
    url, _ = site
    seen = ""
    for path in PAGES.values():
        html = httpx.get(f"{url}{path}?lang={lang}", timeout=30).text
        section = text_of(re.search(r'<section aria-labelledby="h-props".*?</section>', html, re.S).group(0))
        assert not CURIE.search(section), (path, CURIE.findall(section), section)
        assert not re.search(r"\d\d:\d\d:\d\d|\b(?:true|false)\b|\(te?xte?\)", section), (path, section)
        seen += section
    for words in WORDS[lang]:
        assert words in seen, words


def test_all_data_lists_days_monday_to_sunday(site):
    """The store keeps no order: a place's days and its opening hours read as a week, in the table and the
    JSON-LD alike."""
    url, _ = site
    html = httpx.get(url + PAGES["lieu"] + "?lang=en").text
    section = text_of(re.search(r'<section aria-labelledby="h-props".*?</section>', html, re.S).group(0))
    days = re.findall(r"day ((?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day ?)+)", section)
    assert days == ["Monday Tuesday Wednesday Thursday Friday ", "Tuesday Thursday "], section
    jsonld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert re.findall(r"schema.org/(\w+day)", jsonld)[:5] == [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
    ]


def test_the_catalogue_names_classes_by_curie_and_dates_for_people(site):
    url, _ = site
    html = httpx.get(url + "/catalogue?lang=fr").text
    assert (
        '<a href="http://schema.org/Place" title="http://schema.org/Place"><code>schema:Place</code></a>'
        in html
    )
    listed = html[html.index("<h2>Classes") :]
    assert "<code>http" not in listed  # classes and properties; a graph's IRI is what a query names
    assert not re.search(r"<td>\d{4}-\d\d-\d\dT", html)
    assert re.search(r"<td>1?\d(?:er)? \w+ 20\d\d à \d\d:\d\d</td>", html)
    english = httpx.get(url + "/catalogue?lang=en").text
    assert re.search(r"<td>\d\d? [A-Z]\w+ 20\d\d, \d\d:\d\d</td>", english)


def test_the_english_catalogue_translates_its_words_and_marks_the_sources_french(site):
    """The graphs the platform describes itself are in the page's language; a source's title and
    description, French only (dct:title @fr), are marked lang="fr" on an English page, and only there."""
    url, store = site
    english = httpx.get(url + "/catalogue?lang=en").text
    assert "Provenance of the graphs" in english and "For each public graph" in english
    assert "Provenance des graphes" not in english and "Pour chaque graphe" not in english
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    sources = store.select(f"SELECT ?l WHERE {{ GRAPH <{store.meta_graph}> {{ ?g {label} ?l }} }}")
    titles = {r["l"].value for r in sources} - {"Provenance des graphes"}
    assert titles
    for title in titles:
        assert f'<span lang="fr">{escape(title)}</span>' in english, title
    french = httpx.get(url + "/catalogue?lang=fr").text
    table = french[french.index("<table>") : french.index("</table>")]
    assert "Provenance des graphes" in table and ' lang="' not in table


def test_a_place_page_is_not_revalidated_by_the_store_version_alone(site):
    """Open or closed depends on the minute the page shows: a place page's ETag holds that minute, so a
    browser does not keep an old status while the store stays the same; other pages keep theirs."""
    url, _ = site
    place = httpx.get(url + PAGES["lieu"])
    commune = httpx.get(url + PAGES["territoire-commune"])
    clock = re.search(r"il est (\d\d):(\d\d)", text_of(place.text))
    assert clock and "".join(clock.groups()) + '"' in place.headers["etag"]
    assert place.headers["etag"] != commune.headers["etag"]  # not the version, format and language alone
    stale = place.headers["etag"][:-5] + ("0000" if clock[1] != "00" else "2359") + '"'  # another minute
    assert httpx.get(url + PAGES["lieu"], headers={"If-None-Match": stale}).status_code == 200
    again = httpx.get(url + PAGES["territoire-commune"], headers={"If-None-Match": commune.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("kind", list(PAGES))
def test_each_card_shows_its_facts_in_both_languages(site, kind):
    url, _ = site
    french, english = FACTS[kind]
    for lang, facts in (("fr", french), ("en", english)):
        r = httpx.get(f"{url}{PAGES[kind]}?lang={lang}", timeout=30)
        assert r.status_code == 200, r.text[-2000:]
        # The day row of "today" carries a tag (tested with a fixed clock below); out, so the page reads
        # the same on every day of the week.
        seen = text_of(re.sub(r"(<th scope=\"row\">\w+) <span class=\"tag\">[^<]*</span>", r"\1", r.text))
        for fact in facts:
            assert fact in seen, f"{kind} ({lang}) lacks {fact!r}"
        assert '<meta property="og:title" content="' in r.text
        assert CONTRIBUTOR_EMAIL not in r.text
        if kind == "ressource-contribuee":
            assert 'href="/fichiers/fiche-covoiturage/fiche.pdf"' in r.text
        assert 'style="' not in r.text and "<script>" not in r.text  # the CSP allows neither


@pytest.mark.parametrize("path", ["/id/departement/73", "/id/region/84"])
def test_an_area_page_links_each_epci_once(site, path):
    """The card lists every EPCI with a commune in the area: those straddling its boundary were listed again
    among the links to it (``schema:geoOverlaps``), e.g. the CC Cœur de Chartreuse on the Savoie's page."""
    url, _ = site
    html = httpx.get(url + path).text
    epcis = re.findall(r'href="(/id/epci/\d+)"', html)
    assert epcis and len(epcis) == len(set(epcis)), sorted(e for e in epcis if epcis.count(e) > 1)


def test_a_place_list_s_twins_give_each_place_s_coordinates(site):
    """A map drew /lieux.json's places with one request per place for their coordinates: each row has them
    (WGS84 numbers, null for a place without) as the store has them, the CSV's row too, and the Excel
    variant's with a decimal comma (a French Excel took « 6.77 » for a date)."""
    url, store = site
    items = httpx.get(f"{url}/lieux.json").json()["items"]
    rows = store.select(
        "SELECT ?s ?lat ?lon WHERE { ?s <http://schema.org/geo> ?g . "
        "?g <http://schema.org/latitude> ?lat ; <http://schema.org/longitude> ?lon }"
    )
    stored = {r["s"].value: (float(r["lat"].value), float(r["lon"].value)) for r in rows}
    given = {r["iri"]: (r["latitude"], r["longitude"]) for r in items}
    assert given == {iri: stored.get(iri, (None, None)) for iri in given}
    assert len([at for at in given.values() if at != (None, None)]) >= 2
    texts = {iri: tuple("" if c is None else str(c) for c in at) for iri, at in given.items()}
    plain = csv.DictReader(httpx.get(f"{url}/lieux.csv").text.splitlines())
    assert {r["iri"]: (r["latitude"], r["longitude"]) for r in plain} == texts
    excel = httpx.get(f"{url}/lieux.csv", params={"format": "excel"}).content.decode("utf-8-sig")
    header, *cells = csv.reader(excel.splitlines(), delimiter=";")
    assert header[-2:] == ["Latitude", "Longitude"]
    assert {r[0]: (r[-2], r[-1]) for r in cells} == {
        iri: tuple(c.replace(".", ",") for c in at) for iri, at in texts.items()
    }


@pytest.mark.parametrize(
    ("commune", "within"),
    [("73285", "CC de Haute-Tarentaise"), ("73011", "Savoie")],  # Séez; Albertville, whose EPCI has none
)
def test_a_commune_without_places_names_the_nearest_and_maps_them(site, commune, within):
    """Saint-Véran showed « 0 lieu de services » and an empty map, its EPCI's France services one click
    away: a commune without places names those of its EPCI, else of its département, with their commune,
    and its map shows them."""
    url, _ = site
    html = httpx.get(f"{url}/id/commune/{commune}").text
    text = text_of(html)
    assert f"Aucun lieu de services dans la commune\u202f; il y en a dans {within}" in text
    assert "Espace saisonniers de Bourg (Bourg-Saint-Maurice)" in text
    assert "France Services de Bourg-Saint-Maurice (Bourg-Saint-Maurice)" in text
    assert 'href="/id/lieu/france-services-bourg"' in html
    assert html.count('<circle class="pt"') == 2
    assert "Les lieux de services du territoire qui l'englobe." in text


def test_a_region_and_a_departement_list_every_epci_with_a_commune_in_them(site):
    """Not only the EPCIs stated part of the région (those straddling two of its départements): every EPCI
    with a member commune in it, those of its départements and those overlapping a neighbour."""
    _, store = site  # its index built by the site's app
    gz = load_gazetteer()
    cat = search.catalog(store)
    m = store.minter
    for level, code, departements in (
        ("region", "84", {d.code for d in gz.departements.values() if d.region == "84"}),
        ("departement", "73", {"73"}),
    ):
        expected = {
            m.thing("epci", e.siren)
            for e in gz.epcis.values()
            if any(gz.communes[("commune-actuelle", c)].departement in departements for c in e.members)
        }
        card = cards.territory_card(store, cat, cat.territories[m.thing(level, code)], "fr", 1)
        assert {m.base + e.href.lstrip("/") for e in card.epcis} == expected
        assert len(expected) > (150 if level == "region" else 10)


def test_open_now_follows_paris_time(base_iri, store):
    desc = describe(store, base_iri + "id/lieu/espace-saisonniers-bourg")
    tuesday = dt.datetime(2026, 12, 1, 15, 0, tzinfo=cards.PARIS)
    card = cards.place_card(store, desc, "fr", None, now=tuesday)
    assert card.open_now and [d.name for d in card.week if d.today] == ["Mardi"]
    assert not cards.place_card(store, desc, "fr", None, now=tuesday.replace(hour=17, minute=30)).open_now
    sunday = dt.datetime(2026, 12, 6, 10, 0, tzinfo=cards.PARIS)
    assert not cards.place_card(store, desc, "en", None, now=sunday).open_now
    assert card.map is not None and 'class="pt-main"' in card.map


def test_open_now_follows_the_places_own_time_zone(base_iri, store):
    """Overseas hours are local: Saint-Joseph (La Réunion) was « Fermé, il est 05:11, heure de Paris » at
    08:11 there, and a Martinique desk's « aujourd'hui » was Paris's next day in the evening."""
    places = {"saint-joseph": "97412", "lamentin": "97213"}
    store.update(
        "PREFIX schema: <http://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/> INSERT DATA { GRAPH "
        f"<{base_iri}graph/essai> {{ "
        + " ".join(
            f"""<{base_iri}id/lieu/{key}> a schema:Place ; dcterms:spatial <{base_iri}id/commune/{code}> ;
            schema:openingHoursSpecification [ schema:dayOfWeek schema:Monday ;
              schema:opens "07:30:00" ; schema:closes "16:00:00" ] ."""
            for key, code in places.items()
        )
        + " } }"
    )

    def card(key: str, now: dt.datetime, lang: str = "fr") -> cards.PlaceCard:
        return cards.place_card(store, describe(store, f"{base_iri}id/lieu/{key}"), lang, None, now=now)

    monday = dt.datetime(2026, 12, 7, 5, 11, tzinfo=cards.PARIS)  # 08:11 in La Réunion
    reunion = card("saint-joseph", monday)
    assert reunion.open_now and reunion.now_text == "08:11" and reunion.now_zone == "local_time"
    evening = card("lamentin", dt.datetime(2026, 12, 8, 1, 0, tzinfo=cards.PARIS))  # Monday 20:00 there
    assert [d.name for d in evening.week if d.today] == ["Lundi"] and not evening.open_now
    assert evening.now_text == "20:00"
    assert card("espace-saisonniers-bourg", monday).now_zone == "paris_time"
    assert translator("fr")(reunion.now_zone, time=reunion.now_text) == "il est 08:11, heure locale"


def test_a_place_address_names_its_town_once_however_the_list_spells_it(base_iri, store):
    """A list's locality in capitals, without accents or hyphens, « St » for « Saint », names its commune:
    the address shows the commune's name, linked, once. Quai9's page read « 05100 BRIANCON Briançon »."""
    places = {"quai9": ("05023", "BRIANCON"), "fabrique": ("69290", "St Priest"), "gap": ("05061", "Gap 2")}
    store.update(
        "PREFIX schema: <http://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/> INSERT DATA { GRAPH "
        f"<{base_iri}graph/essai> {{ "
        + " ".join(
            f"""<{base_iri}id/lieu/{key}> a schema:Place ; dcterms:spatial <{base_iri}id/commune/{code}> ;
            schema:address [ schema:postalCode "05100" ; schema:addressLocality "{locality}" ] ."""
            for key, (code, locality) in places.items()
        )
        + " } }"
    )
    now = dt.datetime(2026, 12, 1, 15, 0, tzinfo=cards.PARIS)
    found = {
        key: cards.place_card(store, describe(store, f"{base_iri}id/lieu/{key}"), "fr", None, now=now)
        for key in places
    }
    assert {key: (c.town, c.locality) for key, c in found.items()} == {
        "quai9": (True, "Briançon"),
        "fabrique": (True, "Saint-Priest"),
        "gap": (False, "Gap 2"),  # another name than the commune's: both shown
    }


def test_a_project_map_shows_the_departements_of_its_territories(site, base_iri):
    """Named territories, and an informal area (not in the reference) through what it is part of."""
    _, store = site  # its index built by the site's app
    card = cards.project_card(
        store, describe(store, base_iri + "id/projet/telecentres-alpins"), "fr", search.catalog(store)
    )
    highlighted = re.findall(r'<path class="dep-hl" d="[^"]*"><title>([^<]+)</title>', card.map)
    assert sorted(highlighted) == ["Alpes-de-Haute-Provence", "Hautes-Alpes"]


def test_a_project_summary_skips_a_heading_over_a_list(base_iri, store):
    """Coeur de Jura's description starts on a phase's heading: its objectives make the summary."""
    iri = base_iri + "id/projet/cadre-strategique"
    store.update(
        f"""PREFIX schema: <http://schema.org/> PREFIX cs: <https://w3id.org/communs-services/def#>
        INSERT DATA {{ GRAPH <{base_iri}graph/essai> {{ <{iri}> a schema:Project ;
          schema:description "Phase 1 - Diagnostic\\n- Focus groupes\\n- Analyse des documents"@fr ;
          cs:objectives "Fruit de la fusion, la communauté veut de meilleurs services."@fr }} }}"""
    )
    card = cards.project_card(store, describe(store, iri), "fr", None)
    assert card.summary == "Fruit de la fusion, la communauté veut de meilleurs services."


def test_an_organisation_map_shows_its_sites(base_iri, store):
    card = cards.organisation_card(store, describe(store, base_iri + "id/organisation/mission-locale"), "fr")
    assert re.findall(r'<circle class="pt"[^>]*><title>([^<]+)</title>', card.map) == [
        "Espace saisonniers de Bourg"
    ]
    lonely = cards.organisation_card(store, describe(store, base_iri + "id/organisation/etat"), "fr")
    assert lonely.map is None and lonely.sites == []


def test_projection_puts_places_in_their_departement():
    """The outlines' geo calibration: France Services points land inside their own département."""
    shapes = outlines.outlines()
    with gzip.open(DATA_DIR / "france-services" / "liste-fs-20240801.csv.gz", "rt", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    inside = total = 0
    for row in rows:
        try:
            lon, lat = float(row["longitude"]), float(row["latitude"])
        except ValueError:
            continue
        if row["insee_dep"] in shapes:
            total += 1
            inside += outlines.departement_at(lon, lat) == row["insee_dep"]
    assert total > 2500 and inside / total >= 0.95, (inside, total)


def test_outlines_are_named_as_the_territorial_reference_names_them():
    """The maps take the départements' names from the bundled outlines (the serving process loads no
    reference for them): the file's 96 names are the reference's (« Paris », not the package's « Ville de
    Paris »)."""
    svg = outlines.OUTLINES.read_text(encoding="utf-8")
    named = {code: name for code, name, _ in outlines.PATH.findall(svg)}
    reference = load_gazetteer().departements
    assert len(named) == 96 and named == {code: reference[code].name for code in named}


def test_map_is_framed_on_its_departements_and_escapes_labels():
    svg = maps.render("Savoie <73>", ["73"], [maps.MapPoint(6.77, 45.62, "<b>x</b>")])
    assert "Savoie &lt;73&gt;" in svg and "&lt;b&gt;x" in svg and "<b>" not in svg
    x0, y0, w, h = (float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    box = outlines.outlines()["73"].box
    assert x0 <= box[0] and x0 + w >= box[2] and w < 100  # a département, not the country
    assert maps.render("rien", [], []) is None


def test_every_list_facet_level_and_kind_has_its_words():
    """Lists take their words from the one table of api/i18n.py: a new facet or level without words fails."""
    keys = {"facet_kind", *search.LISTS}
    keys |= {"facet_" + f.name for kind in search.LISTS.values() for f in kind.facets}
    keys |= {"kind_" + level for level in search.TERRITORY_CLASSES.values()}
    assert keys <= set(STRINGS), sorted(keys - set(STRINGS))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Une phrase assez longue. Une autre, plus longue que la limite.", 40, "Une phrase assez longue."),
        ("Premier paragraphe. Suite.\n\nSecond paragraphe.", 200, "Premier paragraphe. Suite."),
        ("Un titre\n- une liste", 200, ""),  # a heading: the card takes another text
        ("Un texte sans point qui ne finit jamais avant la limite", 30, "Un texte sans point qui ne …"),
        ("Court. Puis une phrase qui passe la limite", 30, "Court. Puis une phrase qui …"),
        (
            "Le contexte, etc. Elle répond à un triple besoin :\n- • un,\n- • deux",
            200,
            "Le contexte, etc. Elle répond à un triple besoin : un\u202f; deux.",
        ),
        ("Un seul besoin :\n- un", 200, "Un seul besoin : un."),
        (
            "Elle a réalisé :\n\n- un rapport sur\ndeux lignes.\n- une base.\nAutre chose",
            200,
            "Elle a réalisé : un rapport sur deux lignes\u202f; une base.",
        ),
        (
            "Trois actions :\n- une première action\n- une deuxième action\n- une troisième",
            60,
            "Trois actions : une première action\u202f; une deuxième action\u202f; …",
        ),
        ("Le contexte. Une annonce :\n\nUn autre paragraphe.", 200, "Le contexte."),
    ],
)
def test_a_summary_ends_at_a_sentence_or_a_word(text: str, limit: int, expected: str) -> None:
    """A long first paragraph is cut at the last sentence end past half the limit, else at a word."""
    assert cards.summary(Text(text), limit) == expected  # a text without a language is French
    english = cards.summary(Text(text.replace(" :", ":"), "en"), limit)
    assert english == expected.replace("\u202f;", ";").replace(" :", ":")


@pytest.mark.parametrize("kind", [*search.LISTS, "recherche"])
def test_every_list_page_renders_under_strict_undefined(site, kind):
    """list.html read ``r.detail`` that only rows told apart had (and a theme's row has no ``departement``):
    every list page was a 500 under StrictUndefined. Rows are typed now: every key on every row."""
    url, _ = site
    path = f"/{kind}" + ("?q=saisonniers" if kind == "recherche" else "")
    for lang in ("fr", "en"):
        r = httpx.get(f"{url}{path}{'&' if '?' in path else '?'}lang={lang}", timeout=30)
        assert r.status_code == 200, (kind, lang, r.text[-2000:])
        assert 'class="results"' in r.text, (kind, lang)  # rows were rendered, not "no results"


def test_a_departement_lists_its_communes_in_the_lists_order_each_once_across_sub_pages(site):
    """The Hautes-Alpes read « Briançon, Bréziers », « Crots, Crévoux » and put « Éourres » after
    « Vitrolles » (code-point order): communes and EPCI sort as /territoires.json does (graph.search.folded),
    and the sub-pages of 100 communes cut that order, each commune on one of them."""
    _, store = site  # its index built by the site's app
    cat = search.catalog(store)
    area = cat.territories[store.minter.thing("departement", "05")]
    first = cards.territory_card(store, cat, area, "fr", 1)
    cards_ = [cards.territory_card(store, cat, area, "fr", n) for n in range(1, first.communes_pages + 1)]
    communes = [link.label for card in cards_ for link in card.communes]
    hrefs = [link.href for card in cards_ for link in card.communes]
    assert len(hrefs) == len(set(hrefs)) == first.communes_count > 100
    assert communes == sorted(communes, key=search.folded)
    for before, after in (("Bréziers", "Briançon"), ("Crévoux", "Crots"), ("Éourres", "Vitrolles")):
        assert communes.index(before) < communes.index(after), (before, after)
    epcis = [link.label for link in first.epcis]
    assert epcis == sorted(epcis, key=search.folded)


def test_an_unknown_iri_costs_no_provenance_query(base_iri, store, monkeypatch):
    """describe() asked which graphs state a resource on every call, a 404 and the extension probe of
    /id/… (which only reads .exists) too: with no triple, no graph states it and nothing is asked."""
    asked: list[str] = []
    select = store.select
    monkeypatch.setattr(store, "select", lambda query, *a, **k: asked.append(query) or select(query, *a, **k))
    assert not describe(store, base_iri + "id/lieu/nulle-part").exists
    assert asked and not any("GRAPH ?g" in q for q in asked)
    known = describe(store, base_iri + "id/lieu/espace-saisonniers-bourg")
    assert known.sources and any("GRAPH ?g" in q for q in asked)
