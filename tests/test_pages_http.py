"""Dereferencing, content negotiation, lists, search and territory roll-ups over real HTTP, with the RDF
parsed by rdflib."""

from __future__ import annotations

import csv
import functools
import html
import io
import re
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import wait_until
from pages_helpers import INDEX_BUILT_WITHIN, pages_store, serve, wait_for_downloads, wait_for_index

from api import lists, public_http
from api.i18n import date_text, translator
from api.pages import number
from graph import outlines, search
from graph.catalog import statistics
from graph.namespaces import CS
from graph.store import GraphMeta
from loaders.gazetteer import REFERENCE_DIR, load_gazetteer

BASE = "https://data.adrets-asso.fr/"
PROJECT = rdflib.URIRef(BASE + "id/projet/tremplin-saison")


@pytest.fixture(scope="module")
def site(tmp_path_factory, territory_triples):
    store = pages_store(BASE, territory_triples)
    with serve(store, tmp_path_factory.mktemp("pages")) as address:
        wait_for_index(address)  # so that any test may run alone with httpx's default timeout
        yield address, store


@pytest.fixture(scope="module")
def url(site):
    return site[0]


@pytest.mark.parametrize(
    ("how", "media", "rdflib_format"),
    [
        ({"headers": {"Accept": "text/turtle"}}, "text/turtle", "turtle"),
        ({"headers": {"Accept": "application/ld+json"}}, "application/ld+json", "json-ld"),
        ({"headers": {"Accept": "application/n-triples"}}, "application/n-triples", "nt"),
        ({"headers": {"Accept": "application/rdf+xml;q=0.9, text/html;q=0.2"}}, "application/rdf+xml", "xml"),
        ({"params": {"format": "ttl"}}, "text/turtle", "turtle"),
        ({"suffix": ".jsonld"}, "application/ld+json", "json-ld"),
        ({"suffix": ".json"}, "application/ld+json", "json-ld"),  # json means JSON-LD here, as on /def
        ({"suffix": ".ttl"}, "text/turtle", "turtle"),
        ({"suffix": ".nt"}, "application/n-triples", "nt"),
        ({"suffix": ".rdf"}, "application/rdf+xml", "xml"),
    ],
)
def test_conneg_gives_the_description_in_every_format(url, how, media, rdflib_format):
    how = dict(how)  # the parameters are shared with tests/test_remote.py, which runs this test again
    suffix = how.pop("suffix", "")
    r = httpx.get(f"{url}/id/projet/tremplin-saison{suffix}", **how)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(media)
    assert "Accept" in r.headers["vary"]
    g = rdflib.Graph().parse(data=r.content, format=rdflib_format)
    assert (PROJECT, rdflib.RDF.type, rdflib.URIRef("http://schema.org/Project")) in g
    # Blank nodes closed: the address and its street come along.
    street = list(g.objects(None, rdflib.URIRef("http://schema.org/streetAddress")))
    assert [str(s) for s in street] == ["12 rue du Lac"]
    # Labels of what it links to.
    org = rdflib.URIRef(BASE + "id/organisation/adrets")
    assert str(g.value(org, rdflib.RDFS.label)) == "ADRETS"
    commune = rdflib.URIRef(BASE + "id/commune/73054")
    assert str(g.value(commune, rdflib.RDFS.label)) == "Bourg-Saint-Maurice"
    # Private data never appears.
    assert b"secret.person" not in r.content


def test_a_description_labels_what_it_links_to_and_no_term_of_another_vocabulary(url):
    """Labels of the linked resources come along; none of a predicate or class of schema.org, DCTERMS,
    RDFS, igeo… (« dcterms:isPartOf rdfs:label "fait partie de" »): the platform does not own them."""
    for path, linked in (("commune/73054", "departement/73"), ("projet/tremplin-saison", "commune/73054")):
        r = httpx.get(f"{url}/id/{path}", headers={"Accept": "text/turtle"})
        g = rdflib.Graph().parse(data=r.content, format="turtle")
        assert g.value(rdflib.URIRef(f"{BASE}id/{linked}"), rdflib.RDFS.label), path
        labelled = {str(s) for s in g.subjects(rdflib.RDFS.label)}
        assert all(s.startswith((BASE, CS)) for s in labelled), (path, sorted(labelled))


def test_browsers_get_html_and_unknown_iris_404_in_the_asked_format(url):
    r = httpx.get(f"{url}/id/projet/tremplin-saison", headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "secret.person" not in r.text
    r = httpx.get(f"{url}/id/projet/inconnu", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=r.content, format="turtle")) == 0
    r = httpx.get(f"{url}/id/projet/inconnu.jsonld")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/ld+json")
    r = httpx.get(f"{url}/id/projet/inconnu")
    assert r.status_code == 404 and "Ressource inconnue" in r.text
    assert httpx.get(f"{url}/id/projet/tremplin-saison", headers={"Accept": "image/png"}).status_code == 406


def test_a_former_commune_code_moves_to_its_current_commune(url):
    """Merged communes (Meythet, Hauteville-Gondon) and Paris' arrondissements: a 301, the format and the
    query kept; what no commune ever was stays a 404."""
    for old, current in (("74182", "74010"), ("73134", "73054"), ("75101", "75056")):
        r = httpx.get(f"{url}/id/commune/{old}")
        assert r.status_code == 301 and r.headers["location"] == f"/id/commune/{current}", old
    r = httpx.get(f"{url}/id/commune/74182.ttl?lang=en")
    assert r.status_code == 301 and r.headers["location"] == "/id/commune/74010.ttl?lang=en"
    r = httpx.get(f"{url}/id/commune/74182", headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert r.status_code == 200 and "Annecy" in r.text
    for path in ("/id/commune/99999", "/id/epci/74182", "/id/commune/74010x"):
        assert httpx.get(url + path).status_code == 404, path


def test_an_unknown_format_name_as_extension_is_a_400_listing_the_names(site):
    url, store = site
    for path in ("/id/commune/73054.xyz", "/id/projet/inconnu.xyz"):
        r = httpx.get(url + path)
        assert r.status_code == 400, path
        assert "'xyz'" in r.text and "html, turtle, jsonld, ntriples, rdfxml" in r.text
    assert httpx.get(f"{url}/id/commune/73054.json").json()["@graph"]  # a known name still works
    # A key may hold a dot: what it names is served, in the format its own extension then names.
    dotted = ox.NamedNode(BASE + "id/ressource/guide-v2.1")
    label = ox.Literal("Guide 2.1", language="fr")
    triples = [ox.Triple(dotted, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), label)]
    store.replace_graph(BASE + "graph/guide", triples, GraphMeta("guide", "test"))
    try:
        assert "Guide 2.1" in httpx.get(f"{url}/id/ressource/guide-v2.1").text
        assert "Guide 2.1" in httpx.get(f"{url}/id/ressource/guide-v2.1.ttl").text
    finally:
        graph = ox.NamedNode(BASE + "graph/guide")
        store.update(
            f"DROP GRAPH {graph} ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ {graph} ?p ?o }} }}"
        )


def test_a_resource_has_a_csv_twin_and_a_format_picks_the_extension_s_flavour(url):
    """/id/commune/05061.csv was a 400 (only the lists had a CSV twin), and /ressources.csv?format=excel
    gave the comma CSV, its format ignored: a resource's CSV has one row per statement, and ?format= picks
    among the formats its extension names (a 400 listing them for another)."""
    r = httpx.get(f"{url}/id/commune/05061.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {
        "subject": f"{BASE}id/commune/05061",
        "property": "http://www.w3.org/2000/01/rdf-schema#label",
        "value": "Gap",
    } in rows
    excel = httpx.get(f"{url}/id/commune/05061.csv", params={"format": "excel"}).text
    assert excel.startswith("\ufeffsubject;property;value\r\n")
    listed = httpx.get(f"{url}/ressources.csv", params={"format": "excel"}).text
    assert listed.startswith("\ufeffIdentifiant (IRI);Nom;")
    wrong = httpx.get(f"{url}/lieux.csv", params={"format": "json"})
    assert wrong.status_code == 400 and "'json' is not one of csv, excel" in wrong.text
    assert httpx.get(f"{url}/id/commune/05061.ttl", params={"format": "excel"}).status_code == 400


def test_an_unknown_path_404s_as_a_page_for_browsers_and_as_json_for_the_rest(url):
    path = "/pas-de-page-ici/<b>x</b>"
    r = httpx.get(url + path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Ressource inconnue" in r.text and "<b>x</b>" not in r.text  # the path is escaped
    for accept in ("application/json", "*/*"):
        r = httpx.get(url + path, headers={"Accept": accept})
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
        assert r.json() == {"detail": "Not Found"}


def test_a_refused_page_request_is_a_page_for_browsers_and_json_for_the_rest(url):
    path = "/projets?page=<b>x</b>"  # refused before the list reads the index
    r = httpx.get(url + path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "un nombre entier positif est attendu" in r.text
    assert "&lt;b&gt;x&lt;/b&gt;" in r.text and "<b>x</b>" not in r.text  # what was sent is escaped
    r = httpx.get(url + path, headers={"Accept": "application/json"})
    assert r.status_code == 400 and "un nombre entier positif est attendu" in r.json()["detail"]


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    "path", ["/", "/projets", "/lieux", "/recherche?q=saison", "/api", "/rapprochement", "/a-propos"]
)
def test_every_page_negotiates_its_format(url, path):
    for accept in (BROWSER, "*/*", "text/html"):
        r = httpx.get(url + path, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), accept
        assert "Accept" in r.headers["vary"]
    r = httpx.get(url + path, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/html" in r.text and "Accept" in r.headers["vary"]
    twins = path.startswith(("/projets", "/lieux", "/recherche"))
    r = httpx.get(url + path, headers={"Accept": "application/json"})
    assert r.status_code == (200 if twins else 406)
    if twins:  # the list's own URL answers with its JSON twin, and says it varies
        twin = httpx.get(url + path.replace("?", ".json?") if "?" in path else url + path + ".json")
        assert r.headers["content-type"] == "application/json" and "Accept" in r.headers["vary"]
        assert r.json() == twin.json() and r.json()["total"] > 0
        csv_answer = httpx.get(url + path, headers={"Accept": "text/csv"})
        assert csv_answer.headers["content-type"].startswith("text/csv")
        assert csv_answer.text.startswith("iri,label")
        by_name = httpx.get(url + path + ("&" if "?" in path else "?") + "format=csv")
        assert by_name.text == csv_answer.text


def test_the_about_page_names_the_catalogue_s_sources_and_licences_and_every_link_answers(site, tmp_path):
    """/a-propos was a 404 and nothing told a newcomer where the data comes from, under which licence, how
    to query it (/api/docs is no page: /api and /openapi.json are) or what stays private. Every page's
    footer links it; its sources are the metadata graph's, its publisher and contact the catalogue's."""
    url, store = site
    home = httpx.get(url + "/")
    assert 'href="/a-propos"' in home.text.split("<footer")[1]
    r = httpx.get(url + "/a-propos")
    assert r.status_code == 200
    page, text = r.text, html.unescape(r.text)
    meta = statistics(store)["meta"]
    sourced = [m for g, m in meta.items() if g not in ("", store.meta_graph)]
    assert sourced and any(m.get("license") for m in sourced)
    for m in sourced:
        assert m["label"] in text and m["source"] in text, m
        if m.get("license"):
            assert f'<a href="{m["license"]}">' in page, m
    assert "private.ttl" not in page and "secret" not in page  # the private graph is no source to name
    assert "ADRETS" in page and "mailto:contact@adrets-asso.fr" in page  # graph/catalogue.ttl's
    assert f"Comm'un Services (ADRETS), version {store.version} du " in text
    assert f", {BASE}, consulté le" in text
    for heading in (
        "Sources et licences",
        "Citer et réutiliser",
        "Interroger les données",
        "Données personnelles",
    ):
        assert f">{heading}</h2>" in page
    links = set(re.findall(r'href="(/[^"#]*)"', page))
    assert {"/sparql", "/api", "/openapi.json", "/catalogue", "/ressources/proposer"} <= links
    for link in links - {"/static/style.css", "/static/pages.css", "/static/favicon.svg"}:
        assert httpx.get(url + html.unescape(link), timeout=60).status_code == 200, link
    english = httpx.get(url + "/a-propos?lang=en").text
    assert ">Personal data</h2>" in english and '<p lang="fr">Plusieurs licences' in english
    assert "Un compte n'est pas nécessaire." in text
    with serve(store, tmp_path, allow_anonymous="false") as closed:
        assert "Il faut un compte pour proposer." in httpx.get(closed + "/a-propos", timeout=60).text


def test_a_list_opens_in_a_french_spreadsheet(url):
    """A French Excel reads a CSV with its list separator (;) and as Windows-1252 unless a byte order mark
    says UTF-8: the comma CSV gave one column and « BrianÃ§on ». The list page links an Excel variant of
    the whole list: the same rows, downloaded, named apart from the comma CSV (both were lieux.csv)."""
    page = httpx.get(f"{url}/lieux", params={"departement": "73"}).text
    link = re.search(r'<a href="([^"]*format=excel)">CSV \(Excel\)<', page)  # then its hidden name
    assert link, "the list page links its Excel variant"
    r = httpx.get(url + html.unescape(link[1]))
    assert (
        r.headers["content-type"].startswith("text/csv")
        and 'filename="lieux-excel.csv"' in r.headers["content-disposition"]  # not the comma CSV's name
    )
    assert r.content.startswith("\ufeff".encode())
    excel = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    plain = list(csv.reader(io.StringIO(httpx.get(f"{url}/lieux.csv", params={"departement": "73"}).text)))
    assert excel[1:] == plain[1:] and len(plain) > 1
    # People read the spreadsheet's header, in the page's words; programs the comma CSV's names.
    assert excel[0][:3] == ["Identifiant (IRI)", "Nom", "Réseau"] and "Département" in excel[0]
    assert plain[0][:3] == ["iri", "label", "reseau"] and "departement" in plain[0]
    assert httpx.get(f"{url}/lieux", headers={"Accept": "text/csv"}).text.startswith("iri,label")  # still CSV
    found = httpx.get(f"{url}/recherche", params={"q": "saison"}).text
    assert "format=excel" in found
    header = httpx.get(f"{url}/recherche", params={"q": "saison", "format": "excel"}).text.splitlines()[0]
    assert header.lstrip("\ufeff") == "Identifiant (IRI);Nom;Catégorie;Département;Extrait"


def test_the_downloads_page_has_its_twins_as_every_page_before_and_after_the_first_build(site):
    """/telechargements gave HTML to a JSON client until its files were first built, and had no .json or
    .csv twin: its twins follow the lists' rules (suffix, ?format=, Accept) whether or not files are built."""
    url, store = site
    first = httpx.get(url + "/telechargements", headers={"Accept": "application/json"})  # starts the build
    assert first.headers["content-type"] == "application/json" and "Accept" in first.headers["vary"]
    assert first.json() | {"error": None} == {
        "version": None,
        "files": [],
        "preparing_version": store.version,
        "preparing": store.version,
        "store_version_known": True,
        "error": None,
    }
    assert int(first.headers["retry-after"]) >= 1  # come back then
    manifest = wait_for_downloads(url)
    assert (manifest["version"], manifest["preparing_version"]) == (store.version, None) and manifest["files"]
    for how in ({"params": {"format": "json"}}, {"headers": {"Accept": "application/json"}}):
        assert httpx.get(url + "/telechargements", **how).json() == manifest, how
    table = httpx.get(url + "/telechargements.csv")
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert [r["name"] for r in rows] == [f["name"] for f in manifest["files"]]
    assert httpx.get(url + "/telechargements", headers={"Accept": "text/csv"}).text == table.text
    assert httpx.get(url + "/telechargements", params={"format": "csv"}).text == table.text
    page = httpx.get(url + "/telechargements.json", headers={"Accept": "text/html"})
    assert page.headers["content-type"] == "application/json"  # the suffix wins over Accept
    assert httpx.get(url + "/telechargements", params={"format": "zzz"}).status_code == 400
    assert httpx.get(url + "/telechargements", headers={"Accept": "image/png"}).status_code == 406


def test_an_extension_wins_over_accept_on_pages_too(url):
    r = httpx.get(url + "/id/projet/tremplin-saison.html", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    r = httpx.get(url + "/projets.json", headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert httpx.get(url + "/projets", params={"format": "xyz"}).status_code == 400
    # The catalogue, which answered Accept: application/json, had no .json: its twins are suffixes too.
    r = httpx.get(url + "/catalogue.json", headers={"Accept": "text/html"}, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    assert httpx.get(url + "/catalogue.ttl").headers["content-type"].startswith("text/turtle")
    assert httpx.get(url + "/catalogue.xyz").status_code == 400
    # VoID and the SPARQL service description had none: the same twins, their JSON as JSON-LD.
    for path, says in (("/.well-known/void", "void:Dataset"), ("/sparql", "sd:Service")):
        r = httpx.get(f"{url}{path}.json", headers={"Accept": "text/html"}, timeout=60)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json"), path
        assert says in r.text, (path, r.text[:300])
        assert httpx.get(f"{url}{path}.ttl").headers["content-type"].startswith("text/turtle"), path
        assert httpx.get(f"{url}{path}.html").headers["content-type"].startswith("text/html"), path
        assert httpx.get(f"{url}{path}.xyz").status_code == 400, path
        assert httpx.head(f"{url}{path}.json").status_code == 200, path
    query = httpx.get(url + "/sparql.json", params={"query": "ASK {}"})
    assert query.status_code == 400 and "/sparql" in query.text  # not the description in its place


def test_resource_page_renders_labels_texts_links_and_escapes(url):
    html = httpx.get(f"{url}/id/projet/tremplin-saison").text
    assert "<h1>Tremplin Saison</h1>" in html
    assert '<a href="/id/organisation/adrets">ADRETS</a>' in html  # local link, label not IRI
    assert "<li>un forum des métiers</li>" in html  # "- " lines become a list
    assert "&lt;b&gt;mobiles&lt;/b&gt;" in html and "<b>mobiles</b>" not in html
    assert '<script type="application/ld+json">' in html and '"@type": "Project"' in html
    assert 'href="/id/projet/tremplin-saison.ttl"' in html and "/sparql?query=DESCRIBE" in html
    # Incoming link: the event is about the project.
    assert "Rencontre des espaces saisonniers 2023" in html
    english = httpx.get(
        f"{url}/id/projet/tremplin-saison", headers={"Accept-Language": "en-GB,en;q=0.9"}
    ).text
    assert '<html lang="en">' in english and "Seasonal workers" in english
    french = httpx.get(f"{url}/id/projet/tremplin-saison").text
    assert "Saisonniers" in french and "Seasonal workers" not in french


def test_a_concept_page_names_its_kind_by_its_scheme_and_a_class_by_its_name(url):
    """The header's kind line is never a CURIE: a concept is named by its scheme, a class the data
    gives no label by its name in api/i18n.py."""
    kind = re.compile(r'<p class="kind">([^<]*)</p>')
    for path, fr, en in [
        ("/id/theme/numerique", "Thèmes des services au public", "Themes of public services"),
        ("/id/public/saisonniers", "Publics cibles", "Target publics"),
        ("/id/schema/themes", "Schéma de concepts", "Concept scheme"),
    ]:
        assert kind.findall(httpx.get(url + path).text) == [fr]
        assert kind.findall(httpx.get(url + path, params={"lang": "en"}).text) == [en]


def test_an_agent_page_names_its_kind_in_words(site):
    """A contributor's account (/id/compte/…, a prov:Agent) showed « prov:Agent » as its kind."""
    url, store = site
    agent = ox.NamedNode(BASE + "id/compte/essai")
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    triples = [ox.Triple(agent, ox.NamedNode(rdf + "type"), ox.NamedNode("http://www.w3.org/ns/prov#Agent"))]
    store.replace_graph(BASE + "graph/compte", triples, GraphMeta("compte", "test"))
    try:
        kind = re.compile(r'<p class="kind">([^<]*)</p>')
        assert kind.findall(httpx.get(url + "/id/compte/essai").text) == ["Contributeur ou contributrice"]
        assert kind.findall(httpx.get(url + "/id/compte/essai", params={"lang": "en"}).text) == [
            "Contributor"
        ]
    finally:
        graph = ox.NamedNode(BASE + "graph/compte")
        store.update(
            f"DROP GRAPH {graph} ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ {graph} ?p ?o }} }}"
        )


def test_a_source_of_another_scheme_than_the_web_is_no_link(site):
    """A graph's source was a link whenever it held « :// »: ``javascript://%0Aalert(1)`` ran on a click.
    Only a web address (pages.WEB_ADDRESS) is a link; the label then links to the graph's own page."""
    url, store = site
    thing = ox.NamedNode(BASE + "id/ressource/piege")
    triples = [
        ox.Triple(
            thing,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.Literal("Piège", language="fr"),
        )
    ]
    graph = BASE + "graph/piege"
    store.replace_graph(graph, triples, GraphMeta("Piège", "javascript://%0Aalert(1)"))
    try:
        page = httpx.get(url + "/id/ressource/piege").text
        source = page[page.index('<p class="source">') :].split("</p>")[0]
        assert "javascript" not in source and 'href="/graph/piege"' in source, source
    finally:
        store.update(
            f"DROP GRAPH <{graph}> ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ <{graph}> ?p ?o }} }}"
        )


def test_dates_read_as_people_write_them_in_the_page_language():
    assert [date_text(d, "fr") for d in ("2023-10-12", "2021-01-01", "2023-01", "2023")] == [
        "12 octobre 2023",
        "1er janvier 2021",
        "janvier 2023",
        "2023",
    ]
    assert [date_text(d, "en") for d in ("2023-10-12", "2023-01", "2023-13", "x")] == [
        "12 October 2023",
        "January 2023",
        "2023-13",
        "x",
    ]


def test_territory_pages_roll_up_with_indirect_marks(url):
    # A territory page waits for the first index build (up to FIRST_BUILD_WAIT): more than httpx's 5 s
    # default on a busy machine.
    savoie = httpx.get(f"{url}/id/departement/73", timeout=60).text
    assert "Projets sur ce territoire (1)" in savoie
    assert '<a href="/id/projet/tremplin-saison">Tremplin Saison</a> <span class="tag"' in savoie
    assert "Lieux de services sur ce territoire (1)" in savoie
    assert '<a href="/id/region/84">' in savoie  # up
    assert '<a href="/id/commune/73054">Bourg-Saint-Maurice</a>' in savoie  # down
    assert "haswbstatement%3AP2586%3D73" in savoie
    commune = httpx.get(f"{url}/id/commune/73054").text
    assert "Tremplin Saison</a></li>" in commune  # direct: no "indirect" tag
    region = httpx.get(f"{url}/id/region/84").text
    assert "Tremplin Saison" in region and "Guide d&#39;accueil des saisonniers" in region


def test_a_territory_with_places_links_their_contact_sheet(url):
    """No page led to /api/annuaire-lieux: a territory with places links its contact sheet for a
    spreadsheet (and in CSV), by the code the query reads; one without places does not."""
    for path, code in [("/id/departement/73", "73"), ("/id/region/84", "region%2F84")]:
        page = httpx.get(url + path, timeout=60).text
        sheet = f"/api/annuaire-lieux?territoire={code}&amp;format=excel"
        assert f'<a href="{sheet}">Annuaire des lieux (tableur)</a>' in page, path
        r = httpx.get(url + html.unescape(sheet), timeout=60)
        assert r.status_code == 200 and "France Services de Chambéry" in r.text, path
        assert f"/api/annuaire-lieux?territoire={code}&amp;format=csv" in page
    assert "annuaire-lieux" not in httpx.get(f"{url}/id/commune/73054", timeout=60).text  # no place there
    listed = httpx.get(f"{url}/lieux", params={"departement": "73"}, timeout=60).text  # the same places
    assert '<a href="/api/annuaire-lieux?territoire=73&amp;format=excel">' in listed
    assert "annuaire-lieux" not in httpx.get(f"{url}/lieux", params={"departement": ["73", "05"]}).text


def test_every_page_links_to_a_correction_filled_with_its_address_and_territory(url):
    """A commune's secretary finds on a territory's, a place's or any page a link to the proposal form with
    the page's address as the link and the territory (a place's commune) as the form writes it."""
    base = BASE + "id/"
    for path, territory in [
        ("/id/commune/05170", "Tallard [commune 05170]"),
        ("/id/epci/247300254", "CC de Haute-Tarentaise [epci 247300254]"),
        ("/id/lieu/france-services-chambery", "Chambéry [commune 73065]"),
        ("/id/projet/tremplin-saison", None),
    ]:
        page = httpx.get(url + path, timeout=60).text
        link = re.search(r'<p class="correction"><a href="([^"]+)">Signaler une erreur', page)
        assert link, path
        query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
        assert query.pop("url") == [base + path.removeprefix("/id/")], path
        assert query == ({"territoires": [territory]} if territory else {}), path


def test_an_unknown_list_parameter_is_a_400_naming_it_and_the_known_ones_in_a_twin(url):
    """?territoire=… and ?region=… on /projets were ignored: the whole list came back as if filtered. A
    twin says so; a page moves to its address without them (test below)."""
    for path, params, wrong in [
        ("/projets.json", {"territoire": "grand-brianconnais"}, "territoire"),
        ("/projets", {"departement": "73", "thme": "numerique", "format": "csv"}, "thme"),
        ("/recherche.csv", {"q": "bourg", "tri": "nom"}, "tri"),  # a list's sort, not the search's
    ]:
        r = httpx.get(url + path, params=params)
        assert r.status_code == 400 and f"« {wrong} »" in r.text, (path, params)
        assert "departement" in r.text and "page" in r.text
    twin = httpx.get(url + "/lieux.json", params={"<b>x": "1"}, headers={"Accept": "text/html"})
    assert twin.status_code == 400 and "« <b>x »" in twin.json()["detail"]
    english = httpx.get(url + "/projets.json", params={"territoire": "x", "lang": "en"}).json()["detail"]
    assert english.startswith("Unknown parameter “territoire”") and "region, departement, theme" in english
    # What a list page's own links and forms send is known: sort, pages, a facet shown whole, language.
    known = {"tri": "annee", "page": "1", "valeurs": "theme", "lang": "en", "facets": "1", "limit": "5"}
    assert httpx.get(url + "/projets.json", params=known).status_code == 200


def test_a_page_s_link_from_a_newsletter_opens_at_its_address_without_what_was_added(url):
    """/lieux?xtor=RSS-1, ?ref=newsletter, ?_ga=1 were a 400 « Paramètre inconnu » (only utm_*, gclid,
    fbclid… were let through): a page's unknown parameters now move it to its address without them, whose
    twins' links then work. The 302 is a plain redirect: its body was the whole refused.html page."""
    browser = {"Accept": "text/html"}
    for path in ("/lieux", "/recherche"):
        for added in ({"xtor": "RSS-1"}, {"ref": "newsletter"}, {"_ga": "1"}, {"s": "1", "utm_source": "x"}):
            params = {"departement": "05", **added} if path == "/lieux" else {"q": "gap", **added}
            r = httpx.get(url + path, params=params, headers=browser)
            clean = "departement=05" if path == "/lieux" else "q=gap"
            assert r.status_code == 302 and r.headers["location"] == f"{path}?{clean}", (path, added)
            assert len(r.content) < 100 and b"<html" not in r.content, (path, added)  # no error page
    page = httpx.get(url + "/lieux", params={"xtor": "RSS-1"}, headers=browser, follow_redirects=True)
    assert page.status_code == 200 and str(page.url).endswith("/lieux") and 'href="/lieux.json?' in page.text


def test_a_twin_s_error_takes_the_twin_s_format_whatever_accept_says(url):
    """/lieux.json?page=0 asked by a browser (text/html first) got an HTML error page: the extension
    decides the error's format too, as it decides the answer's; the page itself keeps its HTML error."""
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    for path in ("/lieux.json?page=0", "/lieux.csv?page=0", "/lieux?page=0&format=json"):
        r = httpx.get(url + path, headers=browser, timeout=60)
        assert r.status_code == 400 and r.headers["content-type"] == "application/json", path
        assert "page='0'" in r.json()["detail"], path
    page = httpx.get(url + "/lieux", params={"page": "0"}, headers=browser, timeout=60)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")


def test_an_unknown_sort_is_a_400_naming_it_and_the_accepted_values(url):
    """?tri=nimporte gave the list in its default order, as if sorted: the page and its twins refuse it."""
    for path in ("/projets", "/projets.json", "/projets.csv"):
        r = httpx.get(url + path, params={"tri": "nimporte"}, headers={"Accept": "text/html"})
        assert r.status_code == 400 and "« tri »" in r.text and "« nimporte »" in r.text, (path, r.text)
        assert "nom, annee" in r.text
    english = httpx.get(url + "/projets.json", params={"tri": "x", "lang": "en"}).json()["detail"]
    assert english == "Parameter “tri”: no value “x”; it accepts: nom, annee."
    # A list whose items have no year offers no sort by year.
    places = httpx.get(url + "/lieux.json", params={"tri": "annee"})
    assert places.status_code == 400 and places.json()["detail"].endswith("il accepte : nom.")
    assert httpx.get(url + "/projets.csv", params={"tri": "annee"}).status_code == 200


def test_a_region_s_roll_ups_are_its_lists_region_facet(url):
    """A région's page counted projects no list filter could rebuild (05+04+06 ≠ PACA's): the lists of its
    roll-ups have a région facet."""
    page = httpx.get(f"{url}/id/region/84", timeout=60).text
    for kind in search.ROLLUP_KINDS:
        shown = re.search(rf'<h2 id="h-{kind}">[^<]*\((\d+)\)</h2>', page)
        total = httpx.get(f"{url}/{kind}.json", params={"region": "84"}).json()["total"]
        assert total == (int(shown[1]) if shown else 0), kind
    projects = httpx.get(f"{url}/projets.json", params={"region": "84", "facets": "1"}).json()
    assert projects["total"] >= 1 and {v["key"] for v in projects["facets"]["region"]} >= {"84"}
    html = httpx.get(f"{url}/projets").text
    assert 'name="region" value="84"> Auvergne-Rhône-Alpes' in html


def test_an_epci_across_two_departements_names_them_and_tells_its_homonym_communes_apart(url):
    """CC Cœur de Chartreuse (Isère and Savoie) listed « Saint-Pierre-d'Entremont » twice with nothing to
    tell them apart, and named its départements only in the data table."""
    page = httpx.get(f"{url}/id/epci/200040111", timeout=60).text
    communes = page[page.index('id="h-communes"') :]
    for code, dep in (("38446", "38"), ("73274", "73")):
        assert f'<a href="/id/commune/{code}">Saint-Pierre-d&#39;Entremont ({dep})</a>' in communes
    assert communes.count("Saint-Pierre-d&#39;Entremont") == 2 and "Saint-Laurent-du-Pont</a>" in communes
    straddles = re.search(r"<dt>À cheval sur</dt><dd>(.*?)</dd>", page, re.S)
    assert straddles and re.findall(r'href="/id/departement/(\w+)"', straddles[1]) == ["38", "73"]
    english = httpx.get(f"{url}/id/epci/200040111", params={"lang": "en"}).text
    assert "<dt>Straddles</dt>" in english
    alone = httpx.get(f"{url}/id/epci/247300817").text  # CC Haute-Tarentaise, in Savoie only
    assert "À cheval sur" not in alone


def test_lists_facets_and_twins(url):
    html = httpx.get(f"{url}/projets", params={"departement": "73"}).text
    assert "Tremplin Saison" in html and "télécentres" not in html
    assert 'name="theme" value="saisonnalite"' in html
    # A facet's counts ignore its own choice: the count beside 05 is what ticking it adds (values of one
    # facet are alternatives), not the items in both 73 and 05.
    hautes_alpes = httpx.get(f"{url}/projets.json", params={"departement": "05"}).json()["total"]
    assert hautes_alpes and f'value="05"> Hautes-Alpes (05) <span class="count">({hautes_alpes})' in html
    data = httpx.get(f"{url}/projets.json", params={"departement": ["73", "05"], "theme": "numerique"}).json()
    assert data["total"] == 1 and data["items"][0]["label"] == "Réseau des télécentres alpins"
    rows = list(csv.DictReader(io.StringIO(httpx.get(f"{url}/lieux.csv", params={"samedi": "oui"}).text)))
    assert [r["label"] for r in rows] == ["France Services de Chambéry"] and rows[0]["departement"]
    assert httpx.get(f"{url}/lieux.json", params={"departement": "05"}).json()["total"] == 0
    # A choice that leaves nothing stays shown, checked and named, so that it can be unchecked.
    none = httpx.get(f"{url}/projets", params={"theme": "numerique", "departement": "2A"}).text
    assert re.search(r'value="numerique" checked> Numérique <span class="count">\(0\)', none)
    levels = httpx.get(f"{url}/territoires").text
    assert "> Commune <span" in levels and "geo#Commune <span" not in levels  # level names, not IRIs
    themes = httpx.get(f"{url}/themes.json").json()
    assert {i["label"] for i in themes["items"]} >= {"Saisonnalité", "Numérique"}


def test_a_lists_twins_carry_an_etag_as_resource_pages_do(url):
    """/id/… pages had an ETag and answered 304, a list's .json and .csv (and the search's) neither: a
    reuser polling /projets.json read it whole each time. The tag is per version, format, language and
    query."""
    tags = set()
    for path, params in (
        ("/projets.json", {"departement": "73"}),
        ("/projets.json", {"departement": "73", "lang": "en"}),
        ("/projets.json", {"departement": "05"}),
        ("/projets.csv", {"departement": "73"}),
        ("/recherche.json", {"q": "saison"}),
    ):
        first = httpx.get(url + path, params=params, timeout=60)
        etag = first.headers.get("etag")
        assert first.status_code == 200 and etag, (path, params)
        again = httpx.get(url + path, params=params, headers={"If-None-Match": etag}, timeout=60)
        assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
        tags.add(etag)
    assert len(tags) == 5
    other = httpx.get(url + "/projets.json", params={"departement": "73"}, headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.json()["total"]


def test_an_etag_changes_with_the_code_that_shapes_the_answer(url, tmp_path):
    """Every ETag was the store's version (and format, language, query): a release changing a template, a
    named query or a serializer, over the same data, answered 304 to the copy of before. Each now carries a
    digest of the code, templates, queries and ontology (public_http.RELEASE)."""
    paths = ("/id/departement/73", "/projets.json", "/api/communes-departement?departement=05")
    paths += ("/catalogue.ttl",)  # the page for people sends none: it is never a 304
    for path in paths:
        etag = httpx.get(url + path, timeout=60).headers["etag"]
        assert etag.startswith(f'"{public_http.RELEASE}-'), (path, etag)
    (tmp_path / "queries").mkdir()
    query = tmp_path / "queries" / "q.rq"
    query.write_text("SELECT * WHERE { ?s ?p ?o }")
    before = public_http.code_digest([tmp_path])
    query.write_text("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert public_http.code_digest([tmp_path]) != before


def test_class_facets_name_their_values_on_the_page_and_in_the_twins(url):
    """The type and level facets' values are classes, which the data gives no label: named from
    api/i18n.py on the page and, as every other facet's values, in the JSON and CSV twins."""
    actors = httpx.get(f"{url}/acteurs").text
    assert "> Organisation <span" in actors and "org#Organization <span" not in actors
    items = httpx.get(f"{url}/acteurs.json").json()["items"]
    assert {i["label"]: i["type"] for i in items}["ADRETS"] == ["Organisation"]
    savoie = {"departement": "73"}
    levels = {
        i["label"]: i["niveau"] for i in httpx.get(f"{url}/territoires.json", params=savoie).json()["items"]
    }
    assert levels["Bourg-Saint-Maurice"] == ["Commune"]
    assert {"Commune", "Intercommunalité (EPCI)"} <= {n for v in levels.values() for n in v}
    english = httpx.get(f"{url}/territoires.json", params={**savoie, "lang": "en"}).json()["items"]
    assert {i["label"]: i["niveau"] for i in english}["Bourg-Saint-Maurice"] == ["Municipality"]
    rows = csv.DictReader(io.StringIO(httpx.get(f"{url}/acteurs.csv").text))
    assert {r["label"]: r["type"] for r in rows}["ADRETS"] == "Organisation"


def test_the_level_facet_takes_the_levels_short_names_and_their_classes(url):
    """/territoires' levels were keyed by their class IRIs (?niveau=commune a 400): the keys in URLs are the
    levels' short names; a class's IRI, as the URLs had it, still reads as its level."""
    savoie = {"departement": "73"}
    facets = httpx.get(f"{url}/territoires.json", params={**savoie, "facets": "1"}).json()["facets"]["niveau"]
    assert {v["key"] for v in facets} >= {"commune", "epci"} and not any("://" in v["key"] for v in facets)
    communes = httpx.get(f"{url}/territoires.json", params={**savoie, "niveau": "commune"}).json()
    assert communes["total"] > 200 and {n for i in communes["items"] for n in i["niveau"]} == {"Commune"}
    by_class = {**savoie, "niveau": "http://rdf.insee.fr/def/geo#Commune"}
    assert httpx.get(f"{url}/territoires.json", params=by_class).json()["total"] == communes["total"]
    page = httpx.get(f"{url}/territoires", params={**savoie, "niveau": "epci"}).text
    assert 'name="niveau" value="epci" checked> Intercommunalité (EPCI)' in page


def test_search_is_accent_and_case_insensitive(url):
    hits = httpx.get(f"{url}/recherche.json", params={"q": "saisonnier"}).json()
    labels = [i["label"] for i in hits["items"]]
    assert "Tremplin Saison" in labels and "Guide d'accueil des saisonniers" in labels
    hits = httpx.get(f"{url}/recherche.json", params={"q": "TELECENTRE"}).json()
    assert [i["label"] for i in hits["items"]] == ["Réseau des télécentres alpins"]
    only = httpx.get(f"{url}/recherche.json", params={"q": "saisonnier", "kind": "ressources"}).json()
    assert [i["label"] for i in only["items"]] == ["Guide d'accueil des saisonniers"]
    html = httpx.get(f"{url}/recherche", params={"q": "saisonnier <script>"}).text
    assert "<script>" not in html.split("<main", 1)[1]


def test_a_search_snippet_is_in_the_language_of_the_page(url):
    """A theme's definition is stated in French and in English: found by either, shown in the page's."""
    for q, fr, en in [
        ("profession", "soins, <mark>professionnels</mark>", "health <mark>professionals</mark>"),
        ("mobilite", "Se déplacer pour accéder", "Getting around to reach"),  # found by its label
    ]:
        french = httpx.get(f"{url}/recherche", params={"q": q}).text.split("<main", 1)[1]
        english = httpx.get(f"{url}/recherche", params={"q": q, "lang": "en"}).text.split("<main", 1)[1]
        assert fr in french and en not in french
        assert en in english and fr not in english


def test_lists_and_search_name_items_as_their_pages_do(url):
    """A theme's English name is its skos:prefLabel (its rdfs:label is French only): the English list
    shows it, sorts by it, and search finds the theme by it, as the theme's page names it."""
    themes = httpx.get(f"{url}/themes.json", params={"lang": "en"}).json()["items"]
    assert "Mobility" in [i["label"] for i in themes] and "Mobilité" not in [i["label"] for i in themes]
    labels = [i["label"].lower() for i in themes]
    assert labels == sorted(labels)
    found = httpx.get(f"{url}/recherche.json", params={"q": "mobility", "lang": "en"}).json()["items"]
    assert [i["label"] for i in found if i["iri"].endswith("/id/theme/mobilite")] == ["Mobility"]


def test_a_search_result_names_its_kind_in_the_singular_as_its_page_does(url):
    """Results tagged « Commune » beside « Lieux de services » and « Projets »: each result names its kind
    as its own page's header does."""
    seen = set()
    for q in ("saisonniers", "mobilité", "Briançon", "ADRETS"):
        for item in httpx.get(f"{url}/recherche.json", params={"q": q}).json()["items"]:
            if item["kind"] in seen or item["kind"] in ("themes", "publics"):  # a concept: its scheme's name
                continue
            seen.add(item["kind"])
            page = httpx.get(item["iri"].replace(BASE, url + "/")).text
            kind = html.escape(item["kind_label"])
            assert f'<p class="kind">{kind}</p>' in page, item
    assert seen == {"projets", "acteurs", "ressources", "evenements", "territoires"}


def test_a_search_past_its_ranked_matches_pages_through_all_of_them(url):
    """Only the first RANKED matches are ranked; the pages after them follow in index order. Walked to the
    end, the pages hold every match once, as many as the total says."""
    first = httpx.get(f"{url}/recherche.json", params={"q": "saint"}, timeout=60).json()
    assert first["total"] > search.RANKED and first["complete"]
    iris, following = [], "/recherche.json?q=saint"
    while following:  # a page past the last is a 404: its ``next`` says where the pages end
        hits = httpx.get(url + following).json()
        iris += [i["iri"] for i in hits["items"]]
        following = hits["next"]
    assert len(iris) == len(set(iris)) == first["total"]
    html = httpx.get(f"{url}/recherche", params={"q": "saint"}).text
    assert f"portent sur les {search.RANKED:,} premiers résultats".replace(",", "\u202f") in html  # says so


def test_a_search_counts_every_match_in_all_and_per_kind_on_the_page_and_its_twins(url):
    """Past its RANKED ranked matches, a search's kinds were counted among those only (on the bundled data,
    « services »: 2,000, lieux 1,936, where ticking them gave 2,847), and its total up to 10,000 (« de »:
    « plus de 10000 » on the page, a total of 10,000 in the JSON twin, whose pages stopped there). Every
    match is counted now: the kinds add up to the total, ticking one gives its count, and the pages of every
    format reach all."""

    get = functools.partial(httpx.get, timeout=60)  # a page of 5,000 items takes seconds on a loaded machine

    def kinds(html: str) -> dict[str, int]:
        found = re.findall(
            r'name="kind" value="(\w+)"(?: checked)?> [^<]* <span class="count">\(([\d\u202f]+)\)', html
        )
        return {kind: int(n.replace("\u202f", "")) for kind, n in found}

    html = get(f"{url}/recherche", params={"q": "saint"}).text
    total = get(f"{url}/recherche.json", params={"q": "saint"}).json()["total"]
    assert total > search.RANKED and sum(kinds(html).values()) == total
    assert f'<h2 id="h-results" tabindex="-1">{total:,} résultats</h2>'.replace(",", "\u202f") in html
    for kind, n in kinds(html).items():
        assert get(f"{url}/recherche.json", params={"q": "saint", "kind": kind}).json()["total"] == n
    assert "par département et par thème portent sur les 2\u202f000 premiers résultats" in html

    first = get(f"{url}/recherche.json", params={"q": "de", "limit": 5000}).json()
    assert first["total"] > 10_000 and first["complete"]
    html = get(f"{url}/recherche", params={"q": "de"}).text
    assert f"{first['total']:,} résultats</h2>".replace(",", "\u202f") in html
    pages = -(-first["total"] // 50)
    assert f"Page 1 sur {pages:,}</span>".replace(",", "\u202f") in html
    assert '<ol class="results">' in get(f"{url}/recherche", params={"q": "de", "page": pages}).text
    iris, page, following = [], 0, "/recherche.json?q=de&limit=5000"
    while following:
        hits = get(url + following).json()
        iris += [i["iri"] for i in hits["items"]]
        page, following = hits["page"], hits["next"]
    assert len(iris) == len(set(iris)) == first["total"]
    last = get(f"{url}/recherche.csv", params={"q": "de", "limit": 5000, "page": page})
    rows = list(csv.DictReader(io.StringIO(last.text)))
    assert len(rows) == first["total"] - 5000 * (page - 1) and "link" not in last.headers


def test_a_search_twin_pages_as_the_lists_do_and_gives_its_snippets_as_text(url):
    """The twins gave 50 items and no way to the next; their snippet was HTML (<mark>, &#39;) and the CSV had
    no kind. Now pages of ``limit`` with ``next`` and ``Link: rel=next``, a snippet's text with its
    highlights' offsets, and the kind and snippet in the CSV."""
    r = httpx.get(f"{url}/recherche.json", params={"q": "saint", "limit": 20})
    first = r.json()
    assert first["limit"] == 20 and len(first["items"]) == 20 and first["total"] > 40
    assert first["next"] == "/recherche.json?q=saint&limit=20&page=2"
    assert r.headers["link"] == f'<{first["next"]}>; rel="next"'
    second = httpx.get(url + first["next"]).json()
    assert len(second["items"]) == 20 and second["next"].endswith("page=3")
    assert not {i["iri"] for i in first["items"]} & {i["iri"] for i in second["items"]}
    hits = httpx.get(f"{url}/recherche.json", params={"q": "saisonniers"}).json()
    tremplin = next(i for i in hits["items"] if i["label"] == "Tremplin Saison")
    assert "l'emploi" in tremplin["snippet"] and "<mark>" not in tremplin["snippet"]
    assert [tremplin["snippet"][a:b] for a, b in tremplin["highlights"]] == ["saisonniers"]
    assert (
        hits["next"] is None
        and "link" not in httpx.get(f"{url}/recherche.json", params={"q": "saisonniers"}).headers
    )
    rows = list(
        csv.DictReader(io.StringIO(httpx.get(f"{url}/recherche.csv", params={"q": "saisonniers"}).text))
    )
    assert {r["label"]: r["kind"] for r in rows}["Tremplin Saison"] == "projets"
    assert "l'emploi" in next(r["snippet"] for r in rows if r["label"] == "Tremplin Saison")
    html = httpx.get(f"{url}/recherche", params={"q": "saisonniers"}).text
    assert "l&#39;emploi" in html and "<mark>saisonniers</mark>" in html


def test_search_results_with_the_same_label_say_their_departement(url):
    """« Tarentaise », the commune of the Loire and the valley of Savoie, were two « Tarentaise » in the JSON
    twin and the page, nothing telling them apart: each result now says its départements, as a list's row."""
    hits = httpx.get(f"{url}/recherche.json", params={"q": "Abancourt", "kind": "territoires"}).json()
    said = sorted(i["departement"] for i in hits["items"] if i["label"] == "Abancourt")
    assert said == [["Nord (59)"], ["Oise (60)"]]
    rows = csv.DictReader(io.StringIO(httpx.get(f"{url}/recherche.csv", params={"q": "Abancourt"}).text))
    assert "Oise (60)" in {r["departement"] for r in rows if r["label"] == "Abancourt"}
    assert (
        'Abancourt</a><span class="muted"> — Oise (60)</span>'
        in httpx.get(f"{url}/recherche", params={"q": "Abancourt"}).text
    )


def test_a_search_finding_nothing_suggests_a_spelling_as_names_write_it(url):
    """The suggestion was the index's folded word ("briancon"): now the name as written, the other words as
    the search wrote them."""
    hits = httpx.get(f"{url}/recherche.json", params={"q": "Brinaçon"}).json()
    assert hits["total"] == 0 and hits["suggestion"] == "Briançon"
    html = httpx.get(f"{url}/recherche", params={"q": "Brinaçon", "lang": "en"}).text
    assert 'Did you mean: <a href="/recherche?q=Brian%C3%A7on">Briançon</a>' in html
    assert httpx.get(f"{url}/recherche.json", params={"q": "Briançon"}).json()["suggestion"] is None
    assert (
        httpx.get(f"{url}/recherche.json", params={"q": "tremplin Saisno"}).json()["suggestion"]
        == "tremplin Saison"
    )
    # « Bourg Maurice » finds nothing (Bourg is a commune, Bourg-Saint-Maurice another): not suggested
    assert (
        httpx.get(f"{url}/recherche.json", params={"q": "Bourg Mauirce"}).json()["suggestion"]
        != "Bourg Maurice"
    )


def test_a_search_naming_a_territory_finds_what_is_there(url):
    """« France services Hautes-Alpes » found nothing (no text names its département): the page offered its
    other words within the département it ends with. An item's territories are in its context now: the
    search finds it, and has nothing to suggest; naming a territory it is not in finds nothing."""
    hits = httpx.get(f"{url}/recherche.json", params={"q": "Tremplin Saison Savoie"}).json()
    assert [r["label"] for r in hits["items"]] == ["Tremplin Saison"]
    assert hits["suggestion"] is None and hits["suggestion_url"] is None
    there = httpx.get(f"{url}/recherche.json", params={"q": "tremplin Bourg-Saint-Maurice"}).json()
    assert [r["label"] for r in there["items"]] == ["Tremplin Saison"]
    html = httpx.get(f"{url}/recherche", params={"q": "Tremplin Saison Savoie"}).text
    assert "Tremplin Saison</a>" in html and "q=Tremplin+Saison&amp;departement=73" not in html
    # Naming a territory it is not in finds nothing, and suggests the search without that name.
    nowhere = httpx.get(f"{url}/recherche.json", params={"q": "Tremplin Saison Ardèche"}).json()
    assert nowhere["total"] == 0 and nowhere["suggestion"] == "Tremplin Saison"
    assert nowhere["suggestion_url"] == "/recherche?q=Tremplin+Saison"


def test_a_search_needs_neither_its_small_words_nor_a_word_no_item_has(url):
    """« … près de Bourg-Saint-Maurice » found nothing (no text holds « près »); « espace Tremplin Saison »
    found nothing and suggested nothing (« espace » is in no text of the project)."""
    near = httpx.get(f"{url}/recherche.json", params={"q": "Tremplin près de Bourg-Saint-Maurice"}).json()
    assert [r["label"] for r in near["items"]] == ["Tremplin Saison"]
    hits = httpx.get(f"{url}/recherche.json", params={"q": "espace Tremplin Saison"}).json()
    assert hits["total"] == 0 and hits["suggestion"] == "Tremplin Saison"
    html = httpx.get(f"{url}/recherche", params={"q": "espace Tremplin Saison"}).text
    assert '<a href="/recherche?q=Tremplin+Saison">Tremplin Saison</a>' in html


def test_a_search_finding_nothing_suggests_what_finds_something_with_its_kinds_and_facets(url):
    """A search finding nothing among some kinds or in a département suggested a spelling or fewer words
    found anywhere, and its link dropped the kinds and facets: « espace Tremplin Saison » among resources
    offered « Tremplin Saison », which finds no resource; among projects, a link to every kind. The
    suggestion now finds something with the same kinds and facets, and its link keeps them."""

    def hits(**params: str | list[str]) -> dict:
        return httpx.get(f"{url}/recherche.json", params=params).json()

    among = hits(q="espace Tremplin Saison", kind="projets")
    assert among["total"] == 0 and among["suggestion"] == "Tremplin Saison"
    assert among["suggestion_url"] == "/recherche?q=Tremplin+Saison&kind=projets"
    in_73 = hits(q="espace Tremplin Saison", kind=["projets", "evenements"], departement="73")
    assert (
        in_73["suggestion_url"] == "/recherche?q=Tremplin+Saison&kind=projets&kind=evenements&departement=73"
    )
    assert hits(q="espace Tremplin Saison", kind="ressources")["suggestion"] is None  # none among resources
    assert hits(q="espace Tremplin Saison", departement="05")["suggestion"] is None  # nor in Hautes-Alpes
    spelt = hits(q="Tremplin Saisno", kind="projets")
    assert spelt["suggestion_url"] == "/recherche?q=Tremplin+Saison&kind=projets"
    assert hits(q="Tremplin Saisno", kind="ressources")["suggestion"] is None
    page = httpx.get(f"{url}/recherche", params={"q": "espace Tremplin Saison", "kind": "projets"}).text
    assert '<a href="/recherche?q=Tremplin+Saison&amp;kind=projets">Tremplin Saison</a>' in page


def test_a_search_finding_few_offers_the_same_without_a_word_that_finds_many_more(url):
    """« espace saisonniers » found one event (« Rencontre des espaces saisonniers 2023 ») and offered
    nothing, where « saisonniers » finds more: the page offers that search with its count, and the .json twin
    gives it (``wider_search``, ``wider_search_total``, ``wider_search_url``; ``suggestion`` stays what a
    search finding nothing may have meant), with the same kinds (the link keeps them)."""
    hits = httpx.get(f"{url}/recherche.json", params={"q": "espace saisonniers"}).json()
    wider = httpx.get(f"{url}/recherche.json", params={"q": "saisonniers"}).json()["total"]
    assert hits["total"] == 1 and hits["suggestion"] is None and hits["suggestion_url"] is None and wider >= 5
    assert hits["wider_search"] == "saisonniers" and hits["wider_search_total"] == wider
    assert hits["wider_search_url"] == "/recherche?q=saisonniers"
    french = httpx.get(f"{url}/recherche", params={"q": "espace saisonniers"}).text
    assert f'Voir aussi\u00a0: <a href="/recherche?q=saisonniers">saisonniers</a> ({wider})' in french
    english = httpx.get(f"{url}/recherche", params={"q": "espace saisonniers", "lang": "en"}).text
    assert f'See also: <a href="/recherche?q=saisonniers">saisonniers</a> ({wider})' in english
    # Among events alone, « saisonniers » finds no more; among four kinds, five: the link keeps them.
    events = httpx.get(
        f"{url}/recherche.json", params={"q": "espace saisonniers", "kind": "evenements"}
    ).json()
    assert events["total"] == 1 and events["wider_search"] is None and events["wider_search_url"] is None
    kinds = ["evenements", "themes", "publics", "ressources"]
    four = httpx.get(f"{url}/recherche.json", params={"q": "espace saisonniers", "kind": kinds}).json()
    assert four["wider_search_total"] == 5
    assert four["wider_search_url"] == "/recherche?q=saisonniers" + "".join(f"&kind={k}" for k in kinds)
    assert httpx.get(f"{url}/recherche.json", params={"q": "saisonniers"}).json()["wider_search"] is None


def test_a_search_finding_nothing_shows_no_empty_facets_and_english_pages_no_french_colon(url):
    """/recherche?q=xqzw showed an empty « Catégorie » fieldset with its buttons; an English page said
    "Download this page : CSV"."""
    for lang in ("fr", "en"):
        html = httpx.get(f"{url}/recherche", params={"q": "xqzw", "lang": lang}).text
        assert "<fieldset" not in html and 'class="facets"' not in html
    found = httpx.get(f"{url}/recherche", params={"q": "saison", "lang": "en"}).text
    assert "<fieldset" in found and re.search(r"Download this page \([^)]*\): <a", found)
    french = httpx.get(f"{url}/recherche", params={"q": "saison", "lang": "fr"}).text
    assert re.search("Télécharger cette page \\([^)]*\\)\u00a0: <a", french)
    for path, said in [
        ("/projets", "The whole list ("),
        ("/def", "Namespace: <code"),
        ("/api", "Columns: "),
    ]:
        assert said in httpx.get(url + path, params={"lang": "en"}).text, path


def test_counted_words_agree_with_their_count():
    """French: 0 and 1 take the singular; English: 1 alone. No count given: the plural."""
    fr, en = translator("fr"), translator("en")
    assert [fr("count_projets", n=n) for n in (0, 1, 2, 1000)] == ["projet", "projet", "projets", "projets"]
    assert [en("count_projets", n=n) for n in (0, 1, 2)] == ["projects", "project", "projects"]
    assert fr("projects_in_common", n=1) == "1 projet en commun" and fr("results") == "résultats"


def test_pages_write_one_thing_in_the_singular(url):
    """One project in the Hautes-Alpes, one on the theme Numérique, one in Bourg-Saint-Maurice."""
    assert "Hautes-Alpes (05)\u00a0: 1 projet</title>" in httpx.get(f"{url}/").text
    assert "Hautes-Alpes (05): 1 project</title>" in httpx.get(f"{url}/", params={"lang": "en"}).text
    themes = httpx.get(f"{url}/themes").text
    assert '>Numérique</a> <span class="count">— 1 projet</span>' in themes
    commune = httpx.get(f"{url}/id/commune/73054", timeout=60).text
    assert "<strong>1</strong> projet</li>" in commune
    english = httpx.get(f"{url}/id/commune/73054", params={"lang": "en"}).text
    assert "<strong>1</strong> project</li>" in english
    one = httpx.get(f"{url}/projets", params={"theme": "numerique"}).text
    assert '<h2 id="h-results" tabindex="-1" class="count">1 résultat</h2>' in one


def test_home_map_links_every_departement(url):
    """The map draws the 96 metropolitan départements; the others (overseas) were nowhere on the page: they
    are linked under it, with their counts."""
    html = httpx.get(f"{url}/").text
    assert html.split("<svg")[1].split("</svg>")[0].count('<a href="/id/departement/') == 96
    assert '<a href="/id/departement/974">La Réunion (974)</a>\u00a0: 0 projet' in html
    assert html.count('<a href="/id/departement/') == 96 + 13
    assert 'id="dep-73" class="b' in html and 'id="dep-73" class="b0"' not in html
    assert "CC BY 4.0" in html
    assert "<title>Paris (75)" in html and "Ville de Paris" not in html  # the name every other page gives
    places = httpx.get(f"{url}/", params={"carte": "lieux"}).text
    assert 'id="dep-73" class="b' in places and 'id="dep-05" class="b0"' in places


def test_the_home_map_reads_no_territorial_reference(url):
    """The map named its 96 départements by reading the whole reference (data/decoupage-administratif/)
    into the serving process: ~1.7 s on each process's first home page, and its memory for good. Every
    file the process opens while it draws the map from nothing (no outline or reference cached) is seen."""
    outlines.outlines.cache_clear()
    load_gazetteer.cache_clear()
    opened: list[str] = []
    watching = [True]  # an audit hook stays for the session: it records during this one request
    sys.addaudithook(lambda event, args: watching and event == "open" and opened.append(str(args[0])))
    try:
        assert httpx.get(f"{url}/").status_code == 200
    finally:
        watching.clear()
    assert any(p.endswith("france.departments.svg") for p in opened)  # the map was drawn anew
    assert not [p for p in opened if p.startswith(str(REFERENCE_DIR))]


def test_catalogue_is_read_with_flat_patterns(site):
    """Over the public dataset (a list of graphs) each join costs a lookup per graph and row: on the
    500k-triple store the old ``?t a ?c OPTIONAL {…}`` reads took 16 to 90 s, the flat ones 5 to 18."""
    store = site[1]
    seen: list[str] = []
    select = store.select

    def recording(query, *args, **kwargs):
        if threading.current_thread() is reader:  # not the server's threads (the downloads' build)
            seen.append(query)
        return select(query, *args, **kwargs)

    reader = threading.current_thread()

    store.select = recording
    try:
        search.Catalog(store)
    finally:
        del store.select
    assert seen and not [q for q in seen if "OPTIONAL" in q]


def test_a_new_resource_reaches_lists_search_and_territories(site):
    """How fast is bench/pages.py's business (the index's cold build per store version); here only that
    it gets there, with a bound against a hang."""
    url, store = site
    ttl = f"""@prefix schema: <http://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <{BASE}id/ressource/fiche-neuve> a schema:CreativeWork ; rdfs:label "Fiche toute neuve"@fr ;
      dcterms:spatial <{BASE}id/commune/73054> ."""
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    started = time.monotonic()
    store.replace_graph(BASE + "graph/fiche-neuve", triples, GraphMeta("fiche", "test"))
    try:
        while time.monotonic() - started < INDEX_BUILT_WITHIN:
            found = [
                "fiche-neuve" in httpx.get(f"{url}{path}", timeout=30).text
                for path in ("/ressources.json", "/id/region/84", "/recherche.json?q=toute+neuve")
            ]
            if all(found):
                break
            time.sleep(0.2)
        assert all(found), (f"not in the index {INDEX_BUILT_WITHIN:g} s after the write", found)
    finally:
        neuve = ox.NamedNode(BASE + "graph/fiche-neuve")
        store.update(
            f"DROP GRAPH {neuve} ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ {neuve} ?p ?o }} }}"
        )


def test_during_the_first_index_build_index_pages_say_503_and_the_rest_answers(
    territory_triples, tmp_path, monkeypatch
):
    """The start-up does not wait for the index (~12 min at 20M quads). Here pages wait 0 s for it: the
    whole country's territories take seconds to index, so the first requests come during the build.
    A store of its own: the module's store's apps share its index (conftest.index_of), built already."""
    monkeypatch.setattr(search, "FIRST_BUILD_WAIT", 0.0)
    store = pages_store(BASE, territory_triples)
    with serve(store, tmp_path) as url:
        page = httpx.get(url + "/projets", headers={"Accept": "text/html"}, timeout=30)
        listing = httpx.get(url + "/projets.json", timeout=30)
        sparql = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
        resource = httpx.get(
            str(PROJECT).replace(BASE, url + "/"), headers={"Accept": "text/html"}, timeout=30
        )
        savoie = httpx.get(url + "/id/departement/73", headers={"Accept": "text/html"}, timeout=30)
        home = httpx.get(url + "/", timeout=30)
        assert page.status_code == 503 and page.headers["retry-after"]
        assert "index des listes et de la recherche est en construction" in page.text
        assert listing.status_code == 503 and "still being built" in listing.json()["message"]
        assert sparql.status_code == 200 and sparql.json()["boolean"] is True
        assert resource.status_code == 200 and "Tremplin" in resource.text
        assert savoie.status_code == 200 and "une fois l&#39;index construit" in savoie.text
        assert home.status_code == 200 and "une fois l&#39;index construit" in home.text
        assert 'id="triples"' not in home.text
        wait_for_index(url)
        r = httpx.get(url + "/projets.json", timeout=30)
        assert r.status_code == 200 and any("tremplin-saison" in str(i) for i in r.json()["items"])
        savoie = httpx.get(url + "/id/departement/73", headers={"Accept": "text/html"}, timeout=30)
        assert "une fois l&#39;index construit" not in savoie.text
        assert "tremplin-saison" in savoie.text  # its roll-up, now that the index is there
        home = httpx.get(url + "/", timeout=30).text
        public = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value
        shown = re.search(r'<strong id="triples">([^<]*)</strong>', home)
        assert shown and int(re.sub(r"\D", "", shown[1])) == int(public) > 300_000


def test_a_lists_twins_give_its_page_and_the_whole_list_says_where_it_is_cut(url):
    """The page's CSV and JSON links give its rows; "the whole list" gives up to list_rows rows (10,000),
    and a Link rel=next header leads to the rest (the territories: the whole country's communes). Each
    link's words say what its file holds: « Télécharger cette page » gave 50 rows of 215 on /recherche, and
    « Toute la liste » 10,000 of 36,377 on /territoires, the cap said after the links in words a reader
    took for a note on the Excel file; now « Télécharger cette page (50 lignes sur 215) », « Toute la liste
    (4 357 lignes) », « Les 10 000 premières lignes de la liste, sur 36 377 »."""
    html = httpx.get(f"{url}/territoires", params={"tri": "nom", "page": 2}).text
    shown = re.findall(r'<li><a href="(/id/[^"]+)">', html.split('class="results"', 1)[1])
    twin = re.search(r'href="(/territoires\.json\?[^"]*)">JSON<', html)[1].replace("&amp;", "&")
    assert "page=2" in twin and "limit=50" in twin
    assert [i["href"] for i in httpx.get(url + twin).json()["items"]] == shown and len(shown) == 50
    first = httpx.get(f"{url}/territoires.csv", params={"tri": "nom"}, timeout=60)
    total = httpx.get(f"{url}/territoires.json", params={"limit": 1}).json()["total"]
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert total > len(rows) == 10_000
    assert f"Télécharger cette page (50 lignes sur {number(total, 'fr')})\u00a0: <a" in html
    assert f"Les 10\u202f000 premières lignes de la liste, sur {number(total, 'fr')}\u00a0: <a" in html
    assert "Toute la liste" not in html
    following = re.fullmatch(r'<(/territoires\.csv\?[^>]*page=2[^>]*)>; rel="next"', first.headers["link"])[1]
    rest = list(csv.DictReader(io.StringIO(httpx.get(url + following, timeout=60).text)))
    assert rest and not {r["iri"] for r in rest} & {r["iri"] for r in rows}
    whole = httpx.get(f"{url}/lieux.csv")  # fits: the whole list, no Link
    assert "link" not in whole.headers
    listed = len(list(csv.DictReader(io.StringIO(whole.text))))
    assert listed == httpx.get(f"{url}/lieux.json").json()["total"]
    places = httpx.get(f"{url}/lieux", params={"lang": "en"}).text
    rows_said = f"{number(listed, 'en')} {translator('en')('rows', n=listed)}"
    assert f"The whole list ({rows_said}): <a" in places and "The first" not in places
    found = httpx.get(f"{url}/recherche.json", params={"q": "saint", "limit": 1}).json()["total"]
    assert found > 50
    said = f"Télécharger cette page (50 lignes sur {number(found, 'fr')})\u00a0: <a"
    assert said in httpx.get(f"{url}/recherche", params={"q": "saint"}).text


def test_a_page_past_the_last_is_a_404_that_says_how_many_there_are(url):
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    total = httpx.get(f"{url}/territoires.json", params={"limit": 1}).json()["total"]
    last = (total + 49) // 50
    assert httpx.get(f"{url}/territoires", params={"page": last}).status_code == 200
    r = httpx.get(f"{url}/territoires", params={"page": last + 1}, headers=browser)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert f"Il n&#39;y a pas de page {last + 1} : cette liste en a {last}." in r.text
    r = httpx.get(f"{url}/recherche", params={"q": "saint", "page": 999, "lang": "en"}, headers=browser)
    assert r.status_code == 404 and "There is no page 999: this list has" in r.text
    assert httpx.get(f"{url}/recherche", params={"q": "saint", "page": 999}).json()["detail"]
    empty = httpx.get(f"{url}/projets", params={"departement": "2A"}, headers=browser)  # no results: 200
    assert empty.status_code == 200 and "Aucun résultat" in empty.text
    assert httpx.get(f"{url}/projets", params={"departement": "2A", "page": 2}).status_code == 404
    # The twins alike (they answered no rows, and the search's too while its page was a 404), for their
    # own ``limit``: the last page is in ``next``.
    twin = httpx.get(f"{url}/territoires.json", params={"page": 10_000})
    assert twin.status_code == 404 and "cette liste en a" in twin.json()["detail"]
    tens = (total + 9) // 10
    assert httpx.get(f"{url}/territoires.csv", params={"page": tens + 1, "limit": 10}).status_code == 404
    assert httpx.get(f"{url}/territoires.csv", params={"page": tens, "limit": 10}).status_code == 200
    assert httpx.get(f"{url}/recherche.json", params={"q": "saint", "page": 999}).status_code == 404
    empty = httpx.get(f"{url}/projets.json", params={"departement": "2A"})
    assert empty.status_code == 200 and empty.json()["items"] == []


def test_search_facets_count_what_ticking_a_value_gives(url):
    """As in the lists, a search's facet counts apply the other facets' choices only: with one département
    ticked, the count beside another is what ticking that one gives (it was 0 or that of both)."""

    def counts(params: dict) -> dict[str, int]:
        html = httpx.get(f"{url}/recherche", params=params).text
        found = re.findall(
            r'name="departement" value="(\w+)"(?: checked)?> [^<]* <span class="count">\((\d+)\)', html
        )
        return {key: int(n) for key, n in found}

    def total(params: dict) -> int:
        return httpx.get(f"{url}/recherche.json", params=params).json()["total"]

    q = {"q": "bourg"}
    alone = counts(q)
    assert len(alone) >= 2, alone
    ticked, other = sorted(alone, key=alone.get)[:2]
    both = counts({**q, "departement": ticked})
    assert both[ticked] == alone[ticked] == total({**q, "departement": ticked})
    assert both[other] == alone[other] == total({**q, "departement": other})


def test_a_facet_value_no_item_has_is_refused(url):
    """A mistyped filter (the level's class name for its key) showed a list ticked with nothing in it; a
    value no list item has, nor a territory of that level, is a 400 that names it."""
    for path, params in [
        ("/territoires", {"niveau": "Commune"}),
        ("/projets.json", {"theme": "mobilty"}),
        ("/recherche", {"q": "bourg", "departement": "999"}),
        ("/recherche.json", {"q": "bourg", "kind": "projet"}),
    ]:
        r = httpx.get(url + path, params=params)
        assert r.status_code == 400 and list(params.values())[-1] in r.text, (path, r.status_code)
    page = httpx.get(f"{url}/projets", params={"theme": "<b>x"}, headers={"Accept": "text/html"}).text
    assert page.count("<b>") == 0 and "&lt;b&gt;x" in page
    # A real value that leaves nothing is an answer: no project in Corse-du-Sud.
    assert httpx.get(f"{url}/projets.json", params={"departement": "2A"}).json()["total"] == 0
    assert httpx.get(f"{url}/recherche.json", params={"q": "bourg", "departement": "2A"}).status_code == 200


@pytest.mark.parametrize(("lang", "sep"), [("fr", "\u202f"), ("en", ",")])
def test_every_count_shown_is_written_with_thousands_separated(url, lang, sep):
    """Counts of a list's title, facets and the catalogue read like the downloads' sizes: 36 377, 36,377."""
    big = re.compile(r"\d{4,}")
    territories = httpx.get(f"{url}/territoires", params={"lang": lang}, timeout=60).text
    title = re.search(r'<h1>.*?<span class="count">\((.*?)\)</span></h1>', territories)[1]
    facets = re.findall(r'<span class="count">\((.*?)\)</span></label>', territories)
    assert sep in title and facets and not [c for c in [title, *facets] if big.search(c)]
    catalogue = httpx.get(f"{url}/catalogue", params={"lang": lang}, timeout=60).text
    cells = re.findall(r"<strong>(.*?)</strong>|<td>([\d\s\u202f,]+)</td>", catalogue)
    assert cells and not [c for c in cells if big.search("".join(c))]


def test_a_licence_is_named_in_the_facet_and_the_twins_as_on_its_card(url):
    resources = httpx.get(f"{url}/ressources").text
    facet = re.search(r'name="licence" value="[^"]*"> (.*?) <span', resources)[1]
    assert facet == "CC BY 4.0"
    items = httpx.get(f"{url}/ressources.json").json()["items"]
    rows = list(csv.DictReader(io.StringIO(httpx.get(f"{url}/ressources.csv").text)))
    assert "CC BY 4.0" in [v for i in items for v in i.get("licence", [])]
    assert "CC BY 4.0" in [r["licence"] for r in rows]
    assert "creativecommons.org" not in str(items) + str(rows)


def test_every_facet_value_is_reachable_on_the_page_and_in_the_json_twin(url):
    """Past its most frequent values, a facet's others are folded by name, not cut: /territoires listed
    the 40 largest départements only, none of the Alpine ones (04, 05, 73, 74) among them."""
    html = httpx.get(f"{url}/territoires", timeout=60).text
    facets = httpx.get(f"{url}/territoires.json", params={"limit": 1, "facets": 1}).json()["facets"]
    keys = [v["key"] for v in facets["departement"]]
    assert len(keys) > 100 and {"04", "05", "73", "74"} <= set(keys)
    assert re.findall(r'name="departement" value="([^"]+)"', html) == keys  # all, by name (test below)
    # A chosen value is shown among the first, checked, wherever its count puts it.
    chosen = httpx.get(f"{url}/territoires", params={"departement": "05"}).text
    assert re.search(r'value="05" checked> Hautes-Alpes \(05\)', chosen.split("<summary>")[0])


def test_chosen_values_come_first_in_their_facet(url):
    """Hautes-Alpes, chosen, stayed in its count order (41st, at the bottom of a scrolling box): out of
    sight on a phone."""
    page = httpx.get(f"{url}/territoires", params={"departement": ["05", "74"]}).text
    values = re.findall(r'name="departement" value="([^"]+)"( checked)?', page)
    assert sorted(values[:2]) == [("05", " checked"), ("74", " checked")], values[:3]
    assert not [key for key, checked in values[2:] if checked]


def test_every_departement_and_region_is_shown_by_name(url):
    """/lieux showed the 40 départements with the most places and folded the 62 others, the Hautes-Alpes
    among them: a département or a région is looked for by name, every one is shown in that order."""
    page = httpx.get(f"{url}/territoires").text
    for name in ("departement", "region"):
        fieldset = re.search(rf'<fieldset>(?:(?!</fieldset>).)*name="{name}".*?</fieldset>', page, re.S)[0]
        assert "<details>" not in fieldset
        labels = re.findall(r'value="[^"]+"> ([^<]+) <span class="count">', fieldset)
        assert labels == sorted(labels, key=search.folded) and len(labels) >= (
            100 if name == "departement" else 13
        )
    facets = httpx.get(f"{url}/territoires.json", params={"limit": 1, "facets": 1}).json()["facets"]
    assert [v["label"] for v in facets["departement"][:2]] == ["Ain (01)", "Aisne (02)"]


def test_a_facet_of_many_values_leaves_them_out_and_the_json_gives_facets_when_asked(site):
    """1,194 EPCI folded on /lieux made it 183 KB, and every page of /lieux.json carried them (120 KB for
    5 rows). Past lists.FOLDED values, a page shows the first 40 and says how to reach the others: a
    département first (whose EPCI are few), or ?valeurs=epci; the JSON gives facets only with facets=1."""
    url, store = site
    cat = search.catalog(store)
    communes = {}  # one commune in each of FOLDED + 10 EPCI
    for t in cat.territories.values():
        epci = [p for p in t.parents if cat.territories[p].level == "epci"]
        if t.level == "commune" and epci and len(communes) < lists.FOLDED + 10:
            communes.setdefault(epci[0], t.iri)
    ttl = "".join(
        f"<{BASE}id/lieu/epci-{i}> a <https://w3id.org/communs-services/def#ServicePlace> ;"
        f" <http://purl.org/dc/terms/spatial> <{commune}> .\n"
        for i, commune in enumerate(communes.values())
    )
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    graph = BASE + "graph/epci"
    store.replace_graph(graph, triples, GraphMeta("epci", "test"))
    try:
        wait_until(
            lambda: httpx.get(f"{url}/lieux.json", params={"limit": 1}).json()["total"] > len(communes),
            INDEX_BUILT_WITHIN,
            "the index following the write of one place in each EPCI",
        )
        # The JSON gives the facets when asked only, then every value.
        assert "facets" not in httpx.get(f"{url}/lieux.json", params={"limit": 5}).json()
        epci = httpx.get(f"{url}/lieux.json", params={"limit": 5, "facets": 1}).json()["facets"]["epci"]
        assert len(epci) >= len(communes)
        html = httpx.get(f"{url}/lieux").text
        assert len(re.findall(r'name="epci"', html)) == lists.FACET_VALUES
        left = len(epci) - lists.FACET_VALUES
        assert f"{left} autres valeurs\u00a0: choisissez d&#39;abord un département" in html
        whole = httpx.get(f"{url}/lieux", params={"valeurs": "epci"}).text
        assert set(re.findall(r'name="epci" value="([^"]+)"', whole)) == {v["key"] for v in epci}
        assert len(html) < len(whole) - 100 * left  # each value left out weighs on the page no more
        # A département chosen first: all of its EPCI on the page.
        dep = next(
            p for p in cat.closure(next(iter(communes.values()))) if cat.territories[p].level == "departement"
        )
        scoped = httpx.get(f"{url}/lieux", params={"departement": search.key_of(dep, BASE)}).text
        there = httpx.get(f"{url}/lieux.json", params={"departement": search.key_of(dep, BASE), "facets": 1})
        keys = [v["key"] for v in there.json()["facets"]["epci"]]
        assert keys and re.findall(r'name="epci" value="([^"]+)"', scoped) == keys
        wrong = httpx.get(f"{url}/lieux.json", params={"facets": "oui"})
        assert wrong.status_code == 400 and "facets" in wrong.json()["detail"]
    finally:
        store.update(
            f"DROP GRAPH <{graph}> ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ <{graph}> ?p ?o }} }}"
        )


def test_a_place_page_counts_the_other_places_and_links_to_their_list(site):
    """« Autres lieux de la commune » stopped at 30 names (Paris has 225 places), saying neither how many
    there were nor where the others are: the card counts them and, when it cuts, links to the list of the
    commune's or the EPCI's places, which finds as many."""
    url, store = site
    places = [("gap", "05061")] * 34 + [("tallard", "05170")] * 33  # both in the CA Gap-Tallard-Durance
    ttl = "".join(
        f"<{BASE}id/lieu/{name}-{i}> a <https://w3id.org/communs-services/def#ServicePlace> ;"
        f' <http://www.w3.org/2000/01/rdf-schema#label> "Lieu {name} {i:02}"@fr ;'
        f" <http://purl.org/dc/terms/spatial> <{BASE}id/commune/{code}> .\n"
        for i, (name, code) in enumerate(places)
    )
    graph = BASE + "graph/voisins"
    store.replace_graph(
        graph, [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)], GraphMeta("v", "t")
    )
    try:
        wait_until(
            lambda: (
                httpx.get(f"{url}/lieux.json", params={"epci": "200067825", "limit": 1}).json()["total"] >= 67
            ),
            INDEX_BUILT_WITHIN,
            "the index following the write of 67 places in the CA Gap-Tallard-Durance",
        )
        page = httpx.get(f"{url}/id/lieu/gap-0").text
        listed = {
            key: httpx.get(f"{url}/lieux.json?{key}&limit=1").json()["total"]
            for key in ("commune=05061", "epci=200067825")
        }
        assert listed["commune=05061"] == 34  # the list of the commune has its places only
        others = {"commune=05061": listed["commune=05061"] - 1}  # this one not counted
        others["epci=200067825"] = listed["epci=200067825"] - listed["commune=05061"]  # nor its commune's
        for heading, key in (
            ("de la commune", "commune=05061"),
            ("de l&#39;intercommunalité", "epci=200067825"),
        ):
            section = page.split(f"<h3>Autres lieux {heading} (")[1].split("</p>")[0]
            assert section.startswith(f"{others[key]})</h3>") and section.count("<li>") == 30, section[:300]
            assert f'<a href="/lieux?{key}">voir les {listed[key]} lieux</a>' in section, section[-300:]
        assert "voir les" not in httpx.get(f"{url}/id/lieu/france-services-chambery").text
    finally:
        store.update(
            f"DROP GRAPH <{graph}> ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ <{graph}> ?p ?o }} }}"
        )


def test_items_of_a_page_with_one_name_and_place_are_told_apart(site):
    """Three « Anticafé — Paris (75) » in a row: each gets its street address and commune (a place with a
    name of its own, nothing more)."""
    url, store = site
    place = (
        "<{base}id/lieu/{key}> a cs:ServicePlace ; rdfs:label {name!r}@fr ;"
        ' dcterms:spatial <{base}id/commune/{c}> ; schema:address [ schema:streetAddress "{street}" ] .\n'
    )
    ttl = "@prefix schema: <http://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
    ttl += "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    ttl += "@prefix cs: <https://w3id.org/communs-services/def#> .\n"
    for key, name, c, street in [
        ("cafe-1", "Anticafé", "75056", "10 rue de Richelieu"),
        ("cafe-2", "Anticafé", "75056", "79 rue Quincampoix"),
        ("cafe-3", "Anticafé Bordeaux", "33063", "1 quai Richelieu"),
    ]:
        ttl += place.format(base=BASE, key=key, name=name, c=c, street=street).replace("'", '"')
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    store.replace_graph(BASE + "graph/homonymes", triples, GraphMeta("homonymes", "test"))
    try:
        wait_until(
            lambda: "cafe-3" in httpx.get(f"{url}/lieux", timeout=60).text,
            INDEX_BUILT_WITHIN,
            "the index following the write of three places named alike",
        )
        html = httpx.get(f"{url}/lieux", timeout=60).text
        shown = re.findall(
            r'<a href="/id/lieu/cafe-\d">([^<]*)</a>\s*(?:<span class="muted"> — ([^<]*)</span>)?', html
        )
        assert sorted(shown) == [
            ("Anticafé", "10 rue de Richelieu, Paris"),
            ("Anticafé", "79 rue Quincampoix, Paris"),
            ("Anticafé Bordeaux", "Gironde (33)"),  # its département: nothing more
        ]
    finally:
        graph = ox.NamedNode(BASE + "graph/homonymes")
        store.update(
            f"DROP GRAPH {graph} ;\nDELETE WHERE {{ GRAPH <{store.meta_graph}> {{ {graph} ?p ?o }} }}"
        )


def test_a_search_result_names_a_territory_s_level_as_its_page_does(tmp_path):
    """Both « Tarentaise », the Loire commune and the Savoie valley, were tagged « Territoires » in the
    search's results, where their pages say « Commune » and « Territoire d'usage »: results name a
    territory's level as its page does."""
    from graph.store import OxigraphStore

    ttl = f"""@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix igeo: <http://rdf.insee.fr/def/geo#> .
    <{BASE}id/commune/42306> a igeo:Commune ; rdfs:label "Tarentaise"@fr ; igeo:codeINSEE "42306" .
    <{BASE}id/territoire/tarentaise> a <https://w3id.org/communs-services/def#InformalArea> ;
      rdfs:label "Tarentaise"@fr ."""
    store = OxigraphStore(BASE)
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    store.replace_graph(BASE + "graph/territoires", triples, GraphMeta("territoires", "territoires.ttl"))
    with serve(store, tmp_path) as url:
        wait_for_index(url)
        found = httpx.get(f"{url}/recherche.json", params={"q": "Tarentaise"}).json()["items"]
        kinds = {i["iri"].rsplit("/", 2)[1]: (i["kind"], i["kind_label"]) for i in found}
        assert kinds == {
            "commune": ("territoires", "Commune"),
            "territoire": ("territoires", "Territoire d'usage"),
        }
        tags = re.findall(r'<span class="tag">(.*?)</span>', httpx.get(f"{url}/recherche?q=Tarentaise").text)
        assert sorted(tags) == ["Commune", "Territoire d&#39;usage"]
        for item in found:  # as the page names it
            page = httpx.get(item["iri"].replace(BASE, url + "/")).text
            kind = item["kind_label"].replace("'", "&#39;")
            assert f'<p class="kind">{kind}</p>' in page


def test_a_failed_build_is_said_on_the_downloads_page_in_its_language_without_the_server_s_details(
    site, tmp_path
):
    """The page printed the builder's exception after « La dernière génération a échoué : », in English
    and with the server's paths, and the manifest (JSON) still gives them. The page says it in French; the
    manifest says the build failed, the server's log why. A second app on the module's store (and index),
    with a downloads folder of its own."""
    _, store = site
    folder = tmp_path / "dumps"
    with serve(store, tmp_path, dumps_dir=str(folder)) as url:
        folder.rmdir()
        folder.write_text("un fichier où le dossier des téléchargements était attendu")
        httpx.get(url + "/telechargements.json")  # starts the build, which cannot write its files

        def failed() -> str | None:
            return httpx.get(url + "/telechargements.json").json()["error"]

        wait_until(failed, 60, "the build's failure in the manifest")
        error = failed()
        assert "/" not in error and "Errno" not in error, error
        page = httpx.get(url + "/telechargements")
        assert "La dernière génération des fichiers a échoué" in page.text, page.text
        assert str(folder) not in page.text and "Errno" not in page.text, page.text


def title(page: str) -> str:
    return html.unescape(page.split("<title>")[1].split("</title>")[0])


def test_a_list_s_and_a_search_s_title_names_their_filters_and_page(url):
    """/lieux?departement=05, /territoires?page=2 and a search's page 2 kept the plain title (WCAG 2.4.2):
    a screen reader's list of tabs told them apart by nothing."""
    chosen = httpx.get(f"{url}/projets", params={"departement": "73", "theme": "numerique"}).text
    assert title(chosen) == "Projets — Savoie (73), Numérique — Comm'un Services"
    assert title(httpx.get(f"{url}/territoires", params={"page": 2}).text) == (
        "Territoires — page 2 — Comm'un Services"
    )
    assert title(httpx.get(f"{url}/territoires").text) == "Territoires — Comm'un Services"
    found = httpx.get(f"{url}/recherche", params={"q": "saint", "departement": "73", "page": 2}).text
    assert title(found) == "Recherche\u00a0: saint — Savoie (73) — page 2 — Comm'un Services"


def test_the_pager_is_named_marks_the_current_page_and_sort_and_a_page_past_the_last_links_it(url):
    """The pager was a nav named « Page », its page and the sort were marked by look only, and a page past
    the last was an error page with no way back to the list."""
    first = httpx.get(f"{url}/territoires", params={"departement": "73"}).text
    assert '<nav class="pager" aria-label="Pages des résultats">' in first
    assert '<span aria-current="page">Page 1 sur ' in first
    assert '<strong aria-current="true">nom</strong>' in httpx.get(f"{url}/projets").text
    by_year = httpx.get(f"{url}/projets", params={"tri": "annee"}).text
    assert '<strong aria-current="true">année (récentes d&#39;abord)</strong>' in by_year
    total = httpx.get(f"{url}/territoires.json", params={"departement": "73", "limit": 1}).json()["total"]
    last = (total + 49) // 50
    browser = {"Accept": "text/html"}
    past = httpx.get(f"{url}/territoires", params={"departement": "73", "page": last + 5}, headers=browser)
    assert past.status_code == 404
    assert f'<a href="/territoires?departement=73&amp;page={last}">Aller à la dernière page</a>' in past.text
    assert httpx.get(f"{url}/territoires?departement=73&page={last}").status_code == 200
    assert past.headers["link"] == f'</territoires?departement=73&page={last}>; rel="last"'
    one = httpx.get(f"{url}/projets", params={"departement": "2A", "page": 2, "lang": "en"}, headers=browser)
    assert '<a href="/projets?departement=2A&amp;lang=en">Go to the last page</a>' in one.text


def test_the_home_map_s_legend_says_its_shades_in_words_from_the_map_s_counts_and_can_be_skipped_to(url):
    """The legend was aria-hidden and read « 0 / ≥ 1 / 11 » (three of five shades); 96 links had no way
    past them. Each shade now says the counts it stands for, and every département's count is in its range."""
    for layer, unit in (({}, "projet"), ({"carte": "lieux"}, "lieu")):
        page = httpx.get(f"{url}/", params=layer).text
        assert '<a href="#map-legend">Passer la carte</a>' in page
        legend = page.split('<ul class="legend" id="map-legend" tabindex="-1"')[1].split("</ul>")[0]
        assert "aria-hidden" not in legend and '<span class="b0"></span>aucun</li>' in legend
        ranges = {0: (0, 0)}
        for shade, lo, hi in re.findall(r'<span class="b(\d)"></span>(\d+)(?: à (\d+))?</li>', legend):
            ranges[int(shade)] = (int(lo), int(hi or lo))
        assert len(ranges) >= 2  # some département has a count
        shapes = rf'\((\w+)\)\u00a0: (\d+) {unit}[^<]*</title><path id="dep-\1" class="b(\d)"'
        drawn = re.findall(shapes, page)
        assert len(drawn) == 96
        for code, n, shade in drawn:
            lo, hi = ranges[int(shade)]
            assert lo <= int(n) <= hi, (code, n, shade, ranges)
        top = max(int(n) for _, n, _ in drawn)
        assert max(hi for _, hi in ranges.values()) == top


def test_the_home_page_links_the_description_of_the_data(url):
    # A researcher landing on the home page found no link to the VoID/DCAT description, in the page or its
    # headers: the header and the page's <head> now name it, and it is Turtle a client parses.
    home = httpx.get(f"{url}/")
    assert home.links["describedby"]["url"] == "/.well-known/void"
    assert '<link rel="describedby" href="/.well-known/void" type="text/turtle">' in home.text
    described = httpx.get(url + home.links["describedby"]["url"])
    assert len(rdflib.Graph().parse(data=described.text, format="turtle")) > 100


FORMAT_ONLY = re.compile(r"(?:CSV|JSON|TTL|JSONLD|NT|RDF)(?: \(Excel\))?")


def test_a_download_link_s_name_says_what_it_downloads(url):
    """A screen reader's list of links read « CSV, JSON, CSV, JSON, CSV (Excel), CSV »: each link to a file
    says, hidden to the eye, what it holds, and no two names lead to different files."""
    expected = {
        "/lieux": "CSV (Lieux de services, toute la liste)",
        "/recherche?q=saint": "JSON (Recherche\u00a0: saint, cette page)",
        "/id/departement/73": "CSV (Annuaire des lieux (tableur))",
        "/id/projet/tremplin-saison": "TTL (Tremplin Saison)",
    }
    for path, name in expected.items():
        page = httpx.get(url + path, headers={"Accept-Language": "fr"}, timeout=60).text
        links: dict[str, set[str]] = {}
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', page, re.S):
            links.setdefault(html.unescape(re.sub(r"<[^>]+>", "", text)).strip(), set()).add(href)
        assert name in links, (path, sorted(links))
        assert not [n for n in links if FORMAT_ONLY.fullmatch(n)], (path, sorted(links))
        twins = {n: hrefs for n, hrefs in links.items() if FORMAT_ONLY.fullmatch(n.split(" (")[0])}
        assert all(len(hrefs) == 1 for hrefs in twins.values()), (path, twins)


def test_the_not_found_page_and_a_vocabulary_s_page_speak_plain_french(url):
    """A tester read « Aucune donnée publique ne décrit cet IRI » and a vocabulary's « concept de tête »: the
    words are « adresse » and « valeur principale »."""
    fr = {"Accept": "text/html", "Accept-Language": "fr"}
    missing = httpx.get(f"{url}/id/projet/nulle-part", headers=fr)
    assert missing.status_code == 404
    main = missing.text.split("<main", 1)[1]
    assert "Aucune donnée publique ne décrit cette adresse." in main and "IRI" not in main
    scheme = httpx.get(f"{url}/id/schema/publics", headers=fr, timeout=60)
    assert scheme.status_code == 200
    assert "valeur principale" in scheme.text and "de tête" not in scheme.text
