"""What reusers' tools look at first, through a real server: HEAD on every GET route, one CORS policy,
the ontology in three formats, schema.org JSON-LD in pages, robots and sitemap, ETags, HTML 404s, the
service description; and every IRI the bundled sources yield is a web address."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import load_bundled_places
from pages_helpers import pages_store, serve, wait_for_downloads, wait_for_index

from api.app import create_app
from api.cli import BUNDLED
from graph.namespaces import former_slugify, slugify
from graph.settings import DATA_DIR, Settings
from graph.store import OxigraphStore
from loaders import catalogue, places, report
from loaders import rdf as rdf_loader

FIXTURE = Path(__file__).parent / "fixtures" / "reusers.ttl"
CS = "https://w3id.org/communs-services/def#"
PLACE = "id/lieu/espace-saisonniers-moutiers"
PROJECT = "id/projet/mobilite-saisonniers"


@pytest.fixture(scope="module")
def store(base_iri, territory_triples) -> OxigraphStore:
    store = pages_store(base_iri, territory_triples)
    for load in rdf_loader.build(FIXTURE, store.minter, graph=store.minter.graph("reutilisateurs")).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    return store


@pytest.fixture(scope="module")
def site(store, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:  # undone even if a wait below fails
        mp.setenv("COMMUNS_DUMPS_DIR", str(tmp_path_factory.mktemp("dumps")))
        with serve(store, tmp_path_factory.mktemp("site")) as url:
            wait_for_index(url)  # the sitemap's resource pages
            wait_for_downloads(url)  # so that /telechargements/{name} answers the same twice
            yield url


SAMPLES = {  # a path parameter → a value that reaches the route's real work
    "kind": "commune",
    "key": "73054",
    "name": "projets.csv",
    "number": "1",
    "ext": "ttl",
    "token": "inconnu",
    "rid": "inconnu",
    "path": "x",
}


def get_paths(base_iri: str) -> list[str]:
    """One concrete path per GET route of the application, from its own route table."""
    app = create_app(Settings(store=":memory:", base_iri=base_iri, secret_key="p" * 32))
    paths = []
    routes = [
        r for top in app.routes for r in getattr(getattr(top, "original_router", None), "routes", [top])
    ]
    for route in routes:
        if "GET" in (getattr(route, "methods", None) or ()):
            path = route.path
            if path == "/api/{name}":
                path = "/api/epci-commune"
            paths.append(re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLES[m.group(1)], path))
    paths.append("/static/style.css")
    return paths


def test_head_answers_like_get_on_every_get_route(site, base_iri):
    paths = get_paths(base_iri)
    assert {"/", "/id/commune/73054", "/catalogue", "/.well-known/void", "/openapi.json", "/def"} <= set(
        paths
    )
    assert len(paths) > 25
    # A HEAD taking gzip said Content-Length of the plain body, no Content-Encoding, no Vary: Accept-Encoding.
    browser = {"Accept": "text/html,*/*;q=0.8", "Accept-Encoding": "gzip"}
    paths.append("/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } LIMIT 500"))
    for path in paths:
        get = httpx.get(site + path, headers=browser, timeout=60)
        head = httpx.head(site + path, headers=browser, timeout=60)
        assert head.status_code == get.status_code != 405, path
        assert head.content == b"", path
        for name in ("content-type", "content-encoding", "vary", "etag"):
            assert head.headers.get(name) == get.headers.get(name), (path, name)
        if "csrf" not in get.text:
            assert head.headers.get("content-length") == get.headers.get("content-length"), path
    assert httpx.head(site + "/sparql").status_code == 200


PUBLIC = [
    "/id/commune/73054",
    "/projets.json",
    "/recherche.json?q=chambery",
    "/catalogue",
    "/api/epci-commune",
]
PUBLIC += ["/telechargements", "/openapi.json", "/def", "/.well-known/void", "/sitemap.xml"]
PRIVATE = ["/moderation", "/connexion", "/ressources/proposer", "/suivi/inconnu"]


def test_one_cors_policy_on_public_reads_none_on_authenticated_routes(site):
    origin = {"Origin": "https://app.example"}
    for path in PUBLIC:
        r = httpx.get(site + path, headers=origin)
        assert r.headers.get("access-control-allow-origin") == "*", path
        assert "ETag" in r.headers.get("access-control-expose-headers", ""), path
    for path in PRIVATE:
        assert "access-control-allow-origin" not in httpx.get(site + path, headers=origin).headers, path
    ask = {**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"}
    pre = httpx.options(site + "/id/commune/73054", headers=ask)
    assert pre.status_code == 204 and "GET" in pre.headers["access-control-allow-methods"]
    assert httpx.options(site + "/moderation", headers=ask).status_code == 405
    # A map app's own header was refused, and /lieux.json advertised POST, a 405 there.
    custom = {**ask, "Access-Control-Request-Headers": "x-app"}
    for path in ("/lieux.json", "/sparql"):
        pre = httpx.options(site + path, headers=custom)
        assert pre.status_code == 204 and pre.headers["access-control-allow-headers"].startswith("*"), path
    methods = httpx.options(site + "/lieux.json", headers=ask).headers["access-control-allow-methods"]
    assert methods == "GET, HEAD, OPTIONS"
    posting = {**ask, "Access-Control-Request-Method": "POST"}
    assert httpx.options(site + "/sparql", headers=posting).headers["access-control-allow-origin"] == "*"
    # a GET of /api/contributions would be the named query /api/{name}; a POST is the contribution API's
    refused = httpx.options(site + "/api/contributions", headers=posting)
    assert "access-control-allow-origin" not in refused.headers, refused.headers


def test_cors_honours_the_configured_origins(store, tmp_path):
    with serve(store, tmp_path, cors_origins="https://app.example") as url:
        for path in ("/api/epci-commune", "/id/organisation/adrets", "/catalogue"):
            ok = httpx.get(url + path, headers={"Origin": "https://app.example"})
            assert ok.headers["access-control-allow-origin"] == "https://app.example", path
            assert "origin" in ok.headers["vary"].lower(), path
            other = httpx.get(url + path, headers={"Origin": "https://elsewhere.example"})
            assert "access-control-allow-origin" not in other.headers, path


def test_ontology_dereferences_in_three_formats(site):
    html = httpx.get(site + "/def", headers={"Accept": "text/html"})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'id="ServicePlace"' in html.text and 'id="network"' in html.text
    ttl = httpx.get(site + "/def", headers={"Accept": "text/turtle"})
    assert ttl.headers["content-type"].startswith("text/turtle")
    turtle = rdflib.Graph().parse(data=ttl.text, format="turtle")
    jsonld = httpx.get(site + "/def", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    from_json = rdflib.Graph().parse(data=jsonld.text, format="json-ld")
    place = (rdflib.URIRef(CS + "ServicePlace"), rdflib.RDF.type, rdflib.OWL.Class)
    assert place in turtle and place in from_json and len(turtle) == len(from_json) > 100
    assert httpx.get(site + "/def.jsonld").text == jsonld.text
    # One licence for the ontology: the file's and the one its graph is loaded with.
    licences = set(turtle.objects(rdflib.URIRef(CS), rdflib.DCTERMS.license))
    assert licences == {rdflib.URIRef(rdf_loader.ONTOLOGY_LICENSE)}


def _jsonld_blocks(html: str) -> list[dict]:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    return [json.loads(b) for b in blocks]


def _as_rdf(block: dict) -> rdflib.Graph:
    """rdflib's JSON-LD parser, the schema.org context given locally (no network in tests)."""
    local = {**block, "@context": {"@vocab": "https://schema.org/"}}
    return rdflib.Graph().parse(data=json.dumps(local), format="json-ld")


def test_embedded_jsonld_carries_what_the_rdf_says(site, base_iri):
    (place,) = _jsonld_blocks(httpx.get(site + "/" + PLACE).text)
    assert len(_as_rdf(place)) > 15
    assert place["@id"] == base_iri + PLACE and place["@type"] == "GovernmentOffice"
    assert (
        place["address"]["streetAddress"] == "1 place de la Gare"
        and place["address"]["postalCode"] == "73600"
    )
    assert place["geo"] == {"@type": "GeoCoordinates", "latitude": 45.4847, "longitude": 6.5319}
    assert place["telephone"] == "04 79 24 00 00"
    hours = place["openingHoursSpecification"]
    assert hours["dayOfWeek"] == "https://schema.org/Monday" and hours["opens"] == "09:00:00"
    assert place["areaServed"] == [
        {"@type": "AdministrativeArea", "@id": base_iri + "id/commune/73181", "name": "Moûtiers"}
    ]
    (project,) = _jsonld_blocks(httpx.get(site + "/" + PROJECT).text)
    assert len(_as_rdf(project)) > 8
    assert project["@type"] == "Project"
    assert (project["startDate"], project["endDate"]) == ("2020-01-01", "2022-12-31")
    assert project["url"] == "https://www.example.org/mobilite"
    assert project["funder"] == [
        {
            "@type": "Organization",
            "@id": base_iri + "id/organisation/departement-savoie",
            "name": "Département de la Savoie",
        }
    ]
    for path in ("/id/commune/73054", "/id/evenement/rencontre-2023", "/id/organisation/adrets"):
        for block in _jsonld_blocks(httpx.get(site + path).text):
            assert _as_rdf(block), path


def test_resource_pages_etag_and_browser_404(site):
    page = httpx.get(site + "/id/commune/73054")
    etag = page.headers["etag"]
    again = httpx.get(site + "/id/commune/73054", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    turtle = httpx.get(site + "/id/commune/73054.ttl")
    assert turtle.headers["etag"] != etag
    lost = httpx.get(site + "/nulle-part", headers={"Accept": "text/html,*/*;q=0.8"})
    assert lost.status_code == 404 and lost.headers["content-type"].startswith("text/html")
    assert "/nulle-part" in lost.text
    assert httpx.get(site + "/nulle-part", headers={"Accept": "application/json"}).json()


def test_pages_name_their_icon_and_favicon_ico_leads_to_it(site):
    """Else every page logs a 404 for /favicon.ico in the browser's console."""
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in httpx.get(site + "/").text
    for path in ("/favicon.ico", "/static/favicon.svg"):
        icon = httpx.get(site + path, follow_redirects=True)
        assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
        assert icon.text.startswith("<svg")


def test_robots_and_sitemap_under_the_configured_base(site, base_iri):
    robots = httpx.get(site + "/robots.txt", headers={"Host": "data.example.org"}).text
    assert f"Sitemap: {base_iri}sitemap.xml" in robots and "Disallow: /moderation" in robots
    index = httpx.get(site + "/sitemap.xml").text
    assert f"<loc>{base_iri}sitemap-1.xml</loc>" in index
    urls = httpx.get(site + "/sitemap-1.xml").text
    for thing in ("id/commune/73054", PROJECT, "id/lieu/france-services-chambery"):
        assert f"<loc>{base_iri}{thing}</loc>" in urls, thing
    assert httpx.get(site + "/sitemap-99.xml").status_code == 404


def test_non_ascii_iris_escaped_in_the_sitemap_and_former_ones_moved(base_iri, territory_triples, tmp_path):
    """The sitemaps protocol asks for escaped URLs (RFC 3986); a territory IRI minted before slugs were
    ASCII (…/territoire/grand-briançonnais) moves for good to its ASCII slug."""
    store = pages_store(base_iri, territory_triples)
    summer, area = f"{base_iri}id/ressource/été", f"{base_iri}id/territoire/grand-brianconnais"
    ecrins = f"{base_iri}id/territoire/ecrins"
    store.update(
        f"""PREFIX schema: <http://schema.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        INSERT DATA {{ GRAPH <{store.minter.graph("essai")}> {{
          <{summer}> a schema:DigitalDocument ; rdfs:label "Guide de l'été"@fr .
          <{area}> a <{CS}InformalArea> ; rdfs:label "Grand Briançonnais"@fr .
          <{ecrins}> a <{CS}InformalArea> ; rdfs:label "Écrins"@fr }} }}"""
    )
    with serve(store, tmp_path) as url:
        wait_for_index(url)
        urls = httpx.get(url + "/sitemap-1.xml", timeout=60).text
        assert f"<loc>{base_iri}id/ressource/%C3%A9t%C3%A9</loc>" in urls and urls.isascii()
        assert httpx.get(url + "/id/ressource/%C3%A9t%C3%A9").status_code == 200
        moved = httpx.get(url + "/id/territoire/grand-brian%C3%A7onnais.ttl", params={"lang": "en"})
        assert moved.status_code == 301
        assert moved.headers["location"] == "/id/territoire/grand-brianconnais.ttl?lang=en"
        assert httpx.get(url + "/id/territoire/%C3%A9t%C3%A9").status_code == 404  # nothing there either
        # UTF-8 read as Windows-1252 on its way (« Ã© » for « é »): back to the IRI it was, or to its slug.
        # Read as Latin-1, « É » (C3 89) becomes « Ã » and the control character U+0089: moved all the same.
        for path, key, there, codec in (
            ("/id/ressource/", "été", "/id/ressource/%C3%A9t%C3%A9", "cp1252"),
            ("/id/territoire/", "grand-briançonnais", "/id/territoire/grand-brianconnais", "cp1252"),
            ("/id/territoire/", "Écrins", "/id/territoire/ecrins", "latin-1"),
        ):
            mangled = quote(key.encode().decode(codec))  # été: %C3%83%C2%A9t%C3%83%C2%A9
            r = httpx.get(url + path + mangled, follow_redirects=True)
            moves = [h.status_code for h in r.history]
            assert r.status_code == 200 and set(moves) == {301} and r.url.raw_path.decode() == there, (
                key,
                moves,
            )
        for key in ("a%20b", "a%3Cb%3E", "a%22b", "a%7Bb%7D"):  # no IRI: nothing there (was a 500)
            for suffix in ("", ".ttl"):
                assert httpx.get(f"{url}/id/ressource/{key}{suffix}").status_code == 404, key
        never_away = httpx.get(url + "//example.org/" + quote("É".encode().decode("latin-1")))
        assert never_away.status_code == 301 and never_away.headers["location"] == "/example.org/%C3%89"


def test_ligatures_spelled_in_slugs_and_former_iris_moved(base_iri, territory_triples, tmp_path):
    """NFKD leaves « œ » and « æ » whole, and slugs dropped them (…-cc-cur-de-garonne): spelled out now,
    as names are folded; the bundled places and groups minted so move for good to their new IRIs, in
    every format, as the other moved IRIs do. A former IRI still linked from elsewhere moves all the same."""
    assert slugify("Cœur de Garonne") == "coeur-de-garonne" and slugify("ŒUVRE d'Æsope") == "oeuvre-d-aesope"
    assert former_slugify("Cœur de Garonne") == "cur-de-garonne"
    store = load_bundled_places(pages_store(base_iri, territory_triples))
    new, old = (f"/id/lieu/france-services-de-cazeres-cc-{w}-de-garonne" for w in ("coeur", "cur"))
    group = "/id/organisation/france-services-{}-du-perche-groupement"
    store.update(  # a contribution stored before, linking to the former IRI: that link is not rewritten
        f"""INSERT DATA {{ GRAPH <{store.minter.graph("essai")}> {{
          <{base_iri}id/evenement/permanence> <http://schema.org/location> <{base_iri}{old[1:]}> }} }}"""
    )
    with serve(store, tmp_path) as url:
        page = httpx.get(url + new, timeout=60)
        assert page.status_code == 200 and "Cœur de Garonne" in page.text
        for suffix, accept in (("", "text/html"), ("", "text/turtle"), (".json", "*/*"), (".ttl", "*/*")):
            moved = httpx.get(url + old + suffix, params={"lang": "en"}, headers={"Accept": accept})
            assert moved.status_code == 301, (suffix, accept, moved.status_code)
            assert moved.headers["location"] == f"{new}{suffix}?lang=en"
        r = httpx.get(
            url + group.format("cur"), headers={"Accept": "application/ld+json"}, follow_redirects=True
        )
        assert r.status_code == 200 and r.url.path == group.format("coeur") and "Perche" in r.text
        tiers_lieu = httpx.get(url + "/id/lieu/mains-d-uvres", follow_redirects=True)  # the other list's
        assert tiers_lieu.status_code == 200 and tiers_lieu.url.path == "/id/lieu/mains-d-oeuvres"
        assert httpx.get(url + "/id/lieu/france-services-de-cazeres-cc-de-garonne").status_code == 404


def test_sparql_client_modes_and_service_description(site):
    query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"
    # A functional check, not a timing one: a loaded CI machine may take longer than httpx's 5 s default.
    n3 = httpx.get(site + "/sparql", params={"query": query, "format": "n3"}, timeout=60)
    assert n3.status_code == 200 and n3.headers["content-type"].startswith("text/turtle")
    sd = httpx.get(
        site + "/sparql", headers={"Accept": "text/turtle", "Host": "data.example.org"}, timeout=60
    ).text
    assert "example.org" not in sd and "SPARQL11Query" in sd
    assert "SPARQL11Update" not in sd and "BasicFederatedQuery" not in sd


def test_bad_decimal_parameter_says_what_is_expected(site):
    r = httpx.get(site + "/api/financements-montant-minimum", params={"minimum": "beaucoup"})
    assert r.status_code == 400 and "class" not in r.text and "decimal" in r.text


def test_every_iri_of_the_bundled_sources_is_a_web_address(store):
    """Objects only (subjects are minted under the base); the whole national lists of places included."""
    results = [catalogue.build(DATA_DIR / "seeds/adrets-catalogue-projets.txt", store.minter)]
    results.append(report.build(DATA_DIR / "seeds/adrets-web-atelier-1-compte-rendu.txt", store.minter))
    results.append(rdf_loader.ontology(store.minter))
    for _, rel, mapping in BUNDLED:
        if mapping:  # the national lists of places
            results.append(places.build(DATA_DIR / rel, DATA_DIR / mapping, store.minter, store))
    bad = set()
    count = 0
    for result in results:
        for load in result.graphs:
            for t in load.triples:
                if isinstance(t.object, ox.NamedNode):
                    count += 1
                    parts = urlsplit(t.object.value)
                    web = parts.scheme in ("http", "https") and "." in (parts.hostname or "")
                    if not web or parts.username is not None:  # « http://nomade.lyon@laposte.fr »
                        bad.add(t.object.value)
    assert count > 50_000 and not bad, sorted(bad)[:20]
    minted = {
        n.value
        for r in results
        for load in r.graphs
        for t in load.triples
        for n in (t.subject, t.object)
        if isinstance(n, ox.NamedNode) and n.value.startswith(store.minter.base)
    }
    assert store.minter.thing("territoire", "grand-brianconnais") in minted  # not "grand-briançonnais"
    assert all(iri.isascii() for iri in minted), sorted(i for i in minted if not i.isascii())[:20]
    assert "https://www.facebook.com/konkarlab" in {
        t.object.value for r in results for load in r.graphs for t in load.triples
    }
