"""Named queries over HTTP: every operation of /openapi.json with its example, injection attempts, formats,
paging, errors, and schemathesis against the generated spec — on a real uvicorn and a real loaded store.

The store is loaded as ``communs load`` does (ontology, territories, catalogue, report) with the territories
cut to the Alpine départements, so that the whole file stays well under a minute.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jsonschema
import pyoxigraph as ox
import pytest
import schemathesis
from conftest import load_reference
from hypothesis import HealthCheck, given, settings
from pages_helpers import serve, wait_for_index
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance
from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

from api.cli import BUNDLED, IMPORTERS
from api.contribution_forms import API_FIELDS, PROPOSAL
from api.named_queries import BODIES
from graph import matching, search
from graph import named_queries as nq
from graph.matching import read_index
from graph.namespaces import CS, IGEO, ORG, RDF, RDFS, SCHEMA, Minter
from graph.settings import DATA_DIR, QUERIES_DIR
from graph.sparql_text import bind
from graph.store import GraphMeta, OxigraphStore, Store

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
ALPINE = ("04", "05", "06", "26", "38", "73", "74", "84")
_BUILT: dict[str, OxigraphStore] = {}


def alpine(territory_triples: list, base: str) -> list:
    """Regions and départements of France, communes and EPCI of the Alpine départements."""
    keep_epci = {
        t.subject.value
        for t in territory_triples
        if t.predicate.value.endswith("isPartOf")
        and "/id/epci/" in t.subject.value
        and t.object.value.rsplit("/", 1)[-1] in ALPINE
    }

    def kept(s: str) -> bool:
        if "/id/region/" in s or "/id/departement/" in s or not s.startswith(base):
            return True
        if "/id/epci/" in s:
            return s in keep_epci
        return s.rsplit("/", 1)[-1][:2] in ALPINE

    return [t for t in territory_triples if kept(t.subject.value)]


def load_bundle(store: Store, territory_triples: list) -> None:
    """What `communs load` writes, with the territories cut to the Alpine départements."""
    load_reference(store, alpine(territory_triples, store.minter.base))
    for kind, rel, mapping in BUNDLED:
        if kind == "territories":
            continue
        args = argparse.Namespace(
            mapping=str(DATA_DIR / mapping) if mapping else None, graph=None, format=None
        )
        for load in IMPORTERS[kind](DATA_DIR / rel, args, store).graphs:
            store.replace_graph(load.graph, load.triples, load.meta)


def loaded_store(base_iri: str, territory_triples: list) -> OxigraphStore:
    """Built once per session and shared with tests/test_catalogue_dumps.py."""
    if base_iri not in _BUILT:
        store = OxigraphStore(base_iri)
        load_bundle(store, territory_triples)
        _BUILT[base_iri] = store
    return _BUILT[base_iri]


@pytest.fixture(scope="session")
def api_store(base_iri, territory_triples) -> Store:
    """The store behind ``api_url``: a test that writes to it puts back what it found."""
    return loaded_store(base_iri, territory_triples)


@pytest.fixture(scope="session")
def api_url(api_store, tmp_path_factory):
    with serve(api_store, tmp_path_factory.mktemp("api")) as url:
        yield url


@pytest.fixture(scope="session")
def spec(api_url) -> dict:
    return httpx.get(api_url + "/openapi.json").json()


def named(spec: dict) -> dict:
    """The document's operations of the named queries (it also declares the contribution API)."""
    paths = {f"/api/{name}" for name in nq.load_all()}
    assert paths <= set(spec["paths"])
    return {path: item for path, item in spec["paths"].items() if path in paths}


def test_at_least_fifteen_queries_each_documented_with_its_sparql(spec):
    ops = [op for path in named(spec).values() for op in path.values()]
    assert len(named(spec)) >= 15
    assert spec["openapi"].startswith("3.")
    for op in ops:
        assert op["summary"] and "```sparql" in op["description"] and "SELECT" in op["x-sparql"]


def test_every_operation_answers_its_example(api_url, spec):
    for path, item in named(spec).items():
        params = {p["name"]: p["example"] for p in item["get"]["parameters"] if "example" in p}
        r = httpx.get(api_url + path, params=params, timeout=30)
        assert r.status_code == 200, (path, r.text)
        assert isinstance(r.json(), list)
        r = httpx.post(api_url + path, data=params, timeout=30)
        assert r.status_code == 200, (path, r.text)
        assert httpx.post(api_url + path, json=params, timeout=30).json() == r.json(), path


def test_the_contribution_api_is_declared_with_its_body_answers_and_auth(api_url, spec):
    """A reuser sees the whole API: proposing a resource and moderating it, with the body the route reads
    (the same schema object: it decides which fields a 400 names), every answer, and who may call."""
    propose = spec["paths"]["/api/contributions"]["post"]
    assert propose["requestBody"]["content"]["application/json"]["schema"] == PROPOSAL
    assert set(PROPOSAL["properties"]) == set(API_FIELDS) >= {"titre", "territoires", "nom_public", "fichier"}
    assert {"201", "400", "401", "415", "422", "429"} <= set(propose["responses"])
    assert propose["security"] == [{}, {"jeton": []}, {"session": []}]  # anonymous, a token, a session
    assert spec["components"]["securitySchemes"]["jeton"]["scheme"] == "bearer"
    moderate = spec["paths"]["/api/contributions/{rid}/{action}"]["post"]
    action = next(p for p in moderate["parameters"] if p["name"] == "action")
    assert action["schema"]["enum"] == ["accepter", "rejeter", "traiter", "supprimer", "restaurer"]
    record = spec["paths"]["/api/contributions/{rid}"]["get"]
    for op in (moderate, record):
        assert op["security"] == [{"jeton": []}, {"session": []}] and {"401", "403", "404"} <= set(
            op["responses"]
        )
    r = httpx.post(api_url + "/api/contributions", json={"titre": "Guide", "autre": 1})
    assert r.status_code == 400 and "autre" in r.json()["detail"]  # a field the schema has not
    r = httpx.post(api_url + "/api/contributions/x/accepter")
    assert r.status_code == 401 and r.json()["detail"]  # the declared problem


def test_a_json_body_is_read_as_the_form_is(api_url, spec):
    assert set(spec["paths"]["/api/projets-territoire"]["post"]["requestBody"]["content"]) == set(BODIES)
    r = httpx.post(api_url + "/api/projets-territoire", json={"territoire": "04", "limit": 2})
    assert r.status_code == 200 and len(r.json()) == 2
    # Checked against the published schema (schemathesis found a null accepted): wrong types, other keys.
    # 2.0: the document's integers have no decimal point (schemathesis's negative run sent 24.0 at random).
    nots = ({"territoire": None}, {"territoire": "04", "limit": "2"}, {"territoire": "04", "limit": 2.0})
    for bad in (*nots, {"territoire": "04", "autre": 1}):
        r = httpx.post(api_url + "/api/projets-territoire", json=bad)
        assert r.status_code == 400 and r.json()["detail"].startswith("the JSON body: "), bad
    for body, message in ((b"{", "not valid JSON"), (b"[1]", "must be an object")):
        r = httpx.post(
            api_url + "/api/projets-territoire", content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400 and message in r.json()["detail"]


def test_projects_of_a_departement_include_its_communes_and_epci(api_url):
    rows = httpx.get(api_url + "/api/projets-territoire", params={"territoire": "04"}).json()
    names = {r["nom"] for r in rows}
    assert "Solidarités des 4 Rives" in names  # its territories are communes of the 04
    places = {r["lieu"] for r in rows}
    assert any("/id/commune/04" in p for p in places)
    # a commune counts in its own département only, not in those its EPCI crosses
    assert all("/id/commune/" not in p or "/id/commune/04" in p for p in places)


def test_the_directory_of_a_commune_s_places_says_how_to_reach_them(api_url, api_store):
    """A contact sheet, as an agent asks for one: address, phone, e-mail, website and each day's opening
    hours in the order of the day, one row per place, in CSV too. Its network by its label and its IRI:
    the label alone gave a reuser nothing to join on."""
    url = api_url + "/api/annuaire-lieux"
    rows = {r["nom"]: r for r in httpx.get(url, params={"territoire": "05023"}, timeout=60).json()}
    assert set(rows) == {
        "France services Briançonnais",
        "Quai9",
        "COMMUNAUTE DE COMMUNES DU BRIANCONNAIS - Altipolis",
    }
    fs = rows["France services Briançonnais"]
    network = api_store.select(f"SELECT ?r WHERE {{ <{fs['lieu']}> <{CS}network> ?r }}")
    assert fs["reseau"] == "France Services" and [fs["reseauIri"]] == [r["r"].value for r in network]
    assert (fs["adresse"], fs["codePostal"], fs["communeNom"]) == (
        "23 Avenue de la République",
        "05100",
        "Briançon",
    )
    assert (fs["telephone"], fs["courriel"], fs["rendezVous"]) == (
        "04 92 45 45 85",
        "franceservices@ccbrianconnais.fr",
        True,
    )
    week = [fs.get(day) for day in DAYS]
    assert week == [
        "09:00-12:45, 14:00-16:30",
        "14:00-16:30",
        "09:00-12:45, 14:00-16:30",
        "09:00-12:45",
        "09:00-12:45, 14:00-16:15",
        None,  # closed: no value
        None,
    ]
    # its coordinates as stored, for a map, in every query about places
    assert (fs["latitude"], fs["longitude"]) == (44.89862, 6.638795)
    for name in ("lieux-territoire", "france-services-samedi"):
        query = nq.load_all()[name]
        assert query.variables[-2:] == ["latitude", "longitude"]
    (placed,) = [
        r
        for r in httpx.get(
            api_url + "/api/lieux-territoire", params={"territoire": "05023"}, timeout=60
        ).json()
        if r["nom"] == "France services Briançonnais"
    ]
    assert (placed["latitude"], placed["longitude"]) == (44.89862, 6.638795)
    quai9 = rows["Quai9"]
    assert quai9["site"] == "http://www.atelierquai9.com/fr/atelier" and "lundi" not in quai9
    sheet = list(
        csv.DictReader(
            io.StringIO(httpx.get(url, params={"territoire": "05", "format": "csv"}, timeout=60).text)
        )
    )
    assert len(sheet) == len({r["lieu"] for r in sheet}) > 20  # one row per place of the Hautes-Alpes
    excel = httpx.get(
        url, params={"territoire": "05", "format": "excel"}, timeout=60
    )  # for a French spreadsheet
    assert excel.content.startswith("\ufeff".encode())
    assert excel.headers["content-disposition"] == 'attachment; filename="annuaire-lieux-excel.csv"'
    opened = [  # as Excel shows them: a code's ="05100" is the text 05100, a boolean oui or non
        {k: re.sub(r'^="(0\d+)"$', r"\1", v) for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(excel.content.decode("utf-8-sig")), delimiter=";")
    ]
    said = {"true": "oui", "false": "non", "": ""}

    def commas(row: dict) -> dict:  # a French spreadsheet's decimal comma
        return {k: row[k].replace(".", ",") for k in ("latitude", "longitude")}

    headed = [
        {nq.COLUMNS[k]: v for k, v in (r | {"rendezVous": said[r["rendezVous"]]} | commas(r)).items()}
        for r in sheet
    ]
    assert opened == headed
    assert '"=""05100"""' in excel.text and "oui" in {r["Rendez-vous"] for r in opened}


def test_a_spreadsheet_s_header_is_in_french_the_other_formats_keep_the_variables(api_url):
    """The file for Excel was headed « codePostal », « telephone »: an agent who opens it reads each
    column's French label (« Code postal »); JSON, CSV and TSV keep the variables, which programs read.
    Every variable of every bundled query has its label, and the columns of a query have different ones."""
    for q in nq.load_all().values():
        labels = [nq.COLUMNS[v] for v in q.variables]
        assert len(set(labels)) == len(labels), q.name
    url, params = api_url + "/api/annuaire-lieux", {"territoire": "05023"}

    def header(fmt: str) -> str:
        text = httpx.get(url, params=params | {"format": fmt}, timeout=60).text
        return text.lstrip("\ufeff").splitlines()[0]

    assert header("excel").split(";")[:7] == [
        "Lieu",
        "Nom",
        "Réseau",
        "Réseau (IRI)",
        "Adresse",
        "Code postal",
        "Commune",
    ]
    assert "Téléphone;Courriel;Site web;Lundi" in header("excel")
    variables = nq.load_all()["annuaire-lieux"].variables
    assert header("csv").split(",") == variables
    assert header("tsv").split("\t") == ["?" + v for v in variables]
    sparql = httpx.get(url, params=params | {"format": "sparql-json"}, timeout=60).json()
    assert sparql["head"]["vars"] == variables
    assert "codePostal" in httpx.get(url, params=params, timeout=60).json()[0]


def test_the_directory_gives_a_day_s_intervals_in_the_order_of_the_day_and_a_closed_day_alike(
    api_url, api_store
):
    """Five intervals on one day, given in no order: « 08:00-09:00, 09:30-10:00, … » in the order of the day
    (the first, the middle ones and the last put in order by MIN, GROUP_CONCAT and MAX came out as
    GROUP_CONCAT had them). A closed day is no value on every store: Virtuoso answered ""."""
    b, graph = api_store.minter.base, api_store.minter.graph("essai-horaires")
    day = ["08:00-09:00", "09:30-10:00", "10:30-11:00", "14:00-15:00", "16:00-17:00"]
    # The intervals' nodes #Tuesday0… as named, not in time order, in another order each day.
    orders = {"Tuesday": (3, 0, 4, 1, 2), "Wednesday": (1, 4, 2, 0, 3), "Thursday": (4, 2, 3, 1, 0)}
    nodes = {
        f"<{b}id/lieu/horaires#{d}{n}>": (d, day[i])
        for d, order in orders.items()
        for n, i in enumerate(order)
    }
    hours = "".join(
        f'{node} schema:dayOfWeek schema:{d} ; schema:opens "{interval[:5]}:00"^^xsd:time ; '
        f'schema:closes "{interval[6:]}:00"^^xsd:time .\n'
        for node, (d, interval) in nodes.items()
    )
    ttl = f"""@prefix schema: <http://schema.org/> . @prefix cs: <https://w3id.org/communs-services/def#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <{b}id/lieu/horaires> a schema:Place, cs:ServicePlace ; rdfs:label "Permanence itinérante"@fr ;
      dcterms:spatial <{b}id/commune/05001> ;
      schema:openingHoursSpecification <{b}id/lieu/horaires#semaine>, {", ".join(nodes)} .
    <{b}id/lieu/horaires#semaine> schema:dayOfWeek schema:Monday, schema:Friday ;
      schema:opens "09:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time .
    {hours}"""
    api_store.replace_graph(graph, [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)])
    try:
        url = api_url + "/api/annuaire-lieux"
        (row,) = httpx.get(url, params={"territoire": "05001"}, timeout=60).json()
        assert row["nom"] == "Permanence itinérante"
        assert [row.get(d) for d in DAYS] == ["09:00-12:00", *[", ".join(day)] * 3, "09:00-12:00", None, None]
        assert not {"samedi", "dimanche"} & set(row)  # closed: no key, on every store
        (cells,) = csv.DictReader(
            io.StringIO(httpx.get(url, params={"territoire": "05001", "format": "csv"}, timeout=60).text)
        )
        assert (cells["mardi"], cells["samedi"], cells["telephone"]) == (", ".join(day), "", "")
    finally:
        api_store.replace_graph(graph, [])


def test_a_territory_given_by_its_name_is_answered_with_its_code(api_url):
    """« territoire=Briançon » answered « 'Briançon' is not a valid territory »: the refusal says to type
    the code, with an example, and the code of the territory the name alone names."""
    url = api_url + "/api/annuaire-lieux"
    r = httpx.get(url, params={"territoire": "Briançon"}, timeout=60)
    assert r.status_code == 400 and "its code is 05023 (Briançon" in r.json()["detail"]
    assert "type its code, not its name" in r.json()["detail"] and "73054" in r.json()["detail"]
    r = httpx.get(url, params={"territoire": "Grand Briançonnais"}, timeout=60)
    assert "territoire/grand-brianconnais (" in r.json()["detail"]
    r = httpx.get(url, params={"territoire": "Nulle Part Ici"}, timeout=60)
    assert r.status_code == 400 and "type its code, not its name" in r.json()["detail"]


def test_a_postal_code_given_for_a_commune_s_code_names_the_communes_it_serves(api_url):
    """« territoire=05000 » answered « no commune has or had the code 05000 »: an agent knows her postal
    code, not the INSEE code. The 404 says it is a postal code and gives its communes' INSEE codes."""
    r = httpx.get(api_url + "/api/annuaire-lieux", params={"territoire": "05000"}, timeout=60)
    detail = r.json()["detail"]
    assert r.status_code == 404 and "05000 is a postal code, that of Gap (05061), " in detail, detail
    assert "Pelleautier (05100)" in detail and detail.endswith("give the commune's INSEE code")
    r = httpx.get(api_url + "/api/territoire-parents", params={"territoire": "99999"}, timeout=60)
    assert r.status_code == 404 and "postal code" not in r.json()["detail"]


def test_a_decimal_takes_a_french_decimal_comma():
    """minimum=1000,5 was refused, « '1000,5' is not a valid decimal », in English only: a French decimal
    comma reads as the point, and a value that is no number is told in French too."""
    (minimum,) = [p for p in nq.load_all()["financements-montant-minimum"].params if p.name == "minimum"]
    minter = Minter("https://example.org/")
    assert nq.term(minimum, "1000,5", minter) == nq.term(minimum, "1000.5", minter)
    assert nq.term(minimum, "1000,5", minter).value == "1000.5"
    with pytest.raises(nq.ParameterError, match="un nombre décimal est attendu, par ex. 1500 ou 12,5"):
        nq.term(minimum, "1.000,5", minter)


def test_formats_and_paging(api_url):
    url = api_url + "/api/communes-departement"
    page = httpx.get(url, params={"departement": "05", "limit": 10})
    assert page.status_code == 200 and len(page.json()) == 10
    # relative, as the lists' links: followed on the host that answered, not the configured base IRI's
    assert page.links["next"]["url"].startswith("/api/communes-departement?")
    nxt = httpx.get(urljoin(str(page.url), page.links["next"]["url"]))
    assert nxt.json()[0] != page.json()[0] and 'rel="prev"' in nxt.headers["link"]
    sj = httpx.get(
        url, params={"departement": "05", "limit": 3}, headers={"Accept": "application/sparql-results+json"}
    )
    assert sj.headers["content-type"].startswith("application/sparql-results+json")
    assert sj.json()["head"]["vars"][:3] == ["commune", "code", "nom"]
    assert sj.json()["results"]["bindings"][0]["population"]["datatype"].endswith("#integer")
    rows = list(csv.reader(io.StringIO(httpx.get(url, params={"departement": "05", "format": "csv"}).text)))
    assert rows[0][:3] == ["commune", "code", "nom"] and len(rows) > 101  # a file: the whole answer
    tsv = httpx.get(
        url, params={"departement": "05", "limit": 2}, headers={"Accept": "text/tab-separated-values"}
    )
    assert tsv.text.splitlines()[1].startswith("<")
    assert isinstance(page.json()[0]["population"], int)
    # An empty limit or offset (the docs page's empty fields) is the default, and /openapi.json says so: it
    # declared an integer only (schemathesis, negative mode: « limit= » accepted against the schema).
    empty = httpx.get(url, params={"departement": "05", "limit": "", "offset": ""})
    assert empty.status_code == 200 and empty.json() == httpx.get(url, params={"departement": "05"}).json()
    parameters = httpx.get(api_url + "/openapi.json").json()["components"]["parameters"]
    for name in ("limit", "offset"):
        jsonschema.validate("", parameters[name]["schema"])
    # No total: a client pages until a page without rel=next, the last one even when it is full, as said.
    every = httpx.get(url, params={"departement": "05", "limit": 1000}).json()
    last = httpx.get(url, params={"departement": "05", "limit": 10, "offset": len(every) - 10})
    assert len(last.json()) == 10 and set(last.links) == {"prev", "first"}
    past = httpx.get(url, params={"departement": "05", "limit": 10, "offset": len(every)})
    assert past.status_code == 404 and "past the last result" in past.json()["detail"]  # as the lists
    link = httpx.get(api_url + "/openapi.json").json()["paths"]["/api/communes-departement"]["get"]
    assert (
        'la dernière page n\'a pas de rel="next"'
        in link["responses"]["200"]["headers"]["Link"]["description"]
    )


def test_a_page_links_the_last_so_a_client_knows_the_total_without_walking_the_pages(api_url):
    """A researcher saw 100 rows and a rel=next, and no way to tell how many there were but to page to the
    end: the last page is linked (rel=last), whose offset and rows give the total."""
    url = api_url + "/api/communes-departement"
    every = httpx.get(url, params={"departement": "05", "limit": 1000}, timeout=60).json()
    first = httpx.get(url, params={"departement": "05", "limit": 30}, timeout=60)
    last = httpx.get(api_url + first.links["last"]["url"], timeout=60)
    offset = int(parse_qs(urlsplit(first.links["last"]["url"]).query)["offset"][0])
    assert last.status_code == 200 and "next" not in last.links and offset + len(last.json()) == len(every)
    assert offset == (len(every) - 1) // 30 * 30


def test_a_download_gives_the_whole_answer_up_to_the_cap(api_url, base_iri, territory_triples, tmp_path):
    """A contact sheet in CSV or for Excel was cut at the JSON page's 100 rows, said only by a Link header
    a spreadsheet user never sees: a file holds the whole answer, up to the lists' twins' cap (list_rows),
    and past it says so as they do (Link rel=next). JSON keeps its pages."""
    url = api_url + "/api/communes-departement"
    every = httpx.get(url, params={"departement": "05", "limit": 1000}, timeout=60).json()
    assert len(every) > 100
    page = httpx.get(url, params={"departement": "05"}, timeout=60)
    assert len(page.json()) == 100 and 'rel="next"' in page.headers["link"]
    for fmt in ("csv", "excel", "tsv"):
        r = httpx.get(url, params={"departement": "05", "format": fmt}, timeout=60)
        lines = r.content.decode("utf-8-sig").splitlines()
        assert len(lines) == len(every) + 1 and "link" not in r.headers, fmt
    form = httpx.get(url, params={"departement": "05", "format": "excel", "limit": ""}, timeout=60)  # /api's
    assert len(form.content.splitlines()) == len(every) + 1
    with serve(loaded_store(base_iri, territory_triples), tmp_path, list_rows="120") as capped:
        params = {"departement": "05", "format": "csv"}
        r = httpx.get(capped + "/api/communes-departement", params=params, timeout=60)
        assert len(r.text.splitlines()) == 121
        assert r.links["next"]["url"].endswith("limit=120&offset=120")


def test_a_named_query_answers_304_to_its_etag(api_url):
    """/api/{name} sent no ETag, where /sparql and the lists' twins answer 304: a GET's ETag is the store's
    version, the format and the query, and If-None-Match with it is a 304 without a body."""
    url = api_url + "/api/communes-departement"
    first = httpx.get(url, params={"departement": "05", "limit": 3})
    etag = first.headers["etag"]
    assert first.status_code == 200 and first.json()
    again = httpx.get(url, params={"departement": "05", "limit": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    for params, accept in [
        ({"departement": "05", "limit": 4}, "*/*"),
        ({"departement": "05", "limit": 3}, "text/csv"),
    ]:
        other = httpx.get(url, params=params, headers={"Accept": accept, "If-None-Match": etag})
        assert other.status_code == 200 and other.headers["etag"] != etag, (params, accept)
    posted = httpx.post(url, data={"departement": "05", "limit": 3}, headers={"If-None-Match": etag})
    assert posted.status_code == 200 and "etag" not in posted.headers


def test_links_are_relative_and_servers_name_the_configured_base_never_the_host(api_url, base_iri):
    """Behind a proxy, or to a client that forged it, the Host header is not the site's address: the pages'
    links name no host (the client follows them where it asked), the spec's server the configured base."""
    params = {"departement": "05", "limit": 10, "offset": 10}
    page = httpx.get(api_url + "/api/communes-departement", params=params, headers={"Host": "evil.example"})
    assert set(page.links) == {"next", "last", "prev", "first"} and "evil" not in page.headers["link"]
    assert all(link["url"].startswith("/api/communes-departement?") for link in page.links.values())
    spec = httpx.get(api_url + "/openapi.json", headers={"Host": "evil.example"}).json()
    assert spec["servers"] == [{"url": base_iri.rstrip("/")}]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/territoire-par-nom", {"nom": 'Saint-Martin"@fr } ?territoire ?p ?o . FILTER(true) #'}),
        ("/api/recherche-libelle", {"texte": 'x") || true || ("'}),
        ("/api/organisation-projets", {"organisation": "http://x> ?p ?o } UNION { ?s ?p"}),
        ("/api/epci-commune", {"commune": "73054 } UNION { ?s ?p ?o"}),
        ("/api/projets-actifs-annee", {"annee": "2016) || (1=1"}),
    ],
)
def test_injection_attempts_are_values_or_400(api_url, path, params):
    r = httpx.get(api_url + path, params=params)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json() == []
    else:
        assert r.json()["detail"]


def test_errors_have_messages(api_url):
    r = httpx.get(api_url + "/api/pas-de-requete")
    assert r.status_code == 404 and "pas-de-requete" in r.json()["detail"]
    r = httpx.get(api_url + "/api/epci-commune")
    assert r.status_code == 400 and "commune" in r.json()["detail"]
    r = httpx.get(api_url + "/api/epci-commune", params={"commune": "73054", "limit": "-1"})
    assert r.status_code == 400 and "limit" in r.json()["detail"]
    r = httpx.get(api_url + "/api/epci-commune", params={"commune": "73054", "inconnu": "1"})
    assert r.status_code == 400 and "inconnu" in r.json()["detail"]
    r = httpx.get(api_url + "/api/epci-commune", params={"commune": "73054", "format": "xml"})
    assert r.status_code == 400


def test_docs_page_is_french_with_forms_and_sparql(api_url):
    page = httpx.get(api_url + "/api")
    assert page.status_code == 200 and 'lang="fr"' in page.text
    assert 'action="/api/epci-commune"' in page.text and "igeo:Intercommunalite" in page.text
    assert "cdn" not in page.text.lower()


def test_docs_page_in_english_gives_each_query_its_english_texts(api_url):
    """The .rq headers were French only, and /api?lang=en showed French titles and descriptions: each query
    and each described parameter has its ``summary_en`` / ``description_en``, shown on English pages."""
    for q in nq.load_all().values():
        assert q.summary_en and (q.description_en or not q.description), q.name
        assert all(p.description_en for p in q.params if p.description), (q.name, q.params)
    pages = (httpx.get(api_url + "/api", params={"lang": lang}).text for lang in ("en", "fr"))
    english, french = map(html.unescape, pages)
    q = nq.load_all()["projets-par-theme"]
    for text in (q.summary, q.description, q.params[0].description):
        assert text in french and text not in english, text
    for text in (q.summary_en, q.description_en, q.params[0].description_en):
        assert text in english and text not in french, text
    assert "Number of projects by theme" in english and 'lang="en"' in english


def test_the_sparql_page_titles_its_examples_in_the_page_s_language(api_url):
    """/sparql?lang=en showed the examples' French titles, the named queries' and its own."""
    pages = (httpx.get(api_url + "/sparql", params={"lang": lang}).text for lang in ("en", "fr"))
    english, french = map(html.unescape, pages)
    titles = list(nq.load_all().values())
    assert all(f">{q.summary_en}</option>" in english and q.summary not in english for q in titles)
    assert all(f">{q.summary}</option>" in french and q.summary_en not in french for q in titles)
    assert ">Projects and their territories</option>" in english and "Projets et leurs" not in english
    assert ">Projets et leurs territoires</option>" in french


def test_every_example_of_the_sparql_page_runs_as_given_and_gives_one_row_per_thing(api_url):
    """The page added its prefixes to its own six examples when one was chosen: copied from it into
    SPARQLWrapper, which adds none, each failed with « expected one of Prefix not found ». And the default
    graph is the union of the graphs: « Organisations » listed ADRETS, stated in the catalogue and in a
    report, 4 times, « Projets par thème » each theme twice (its French and English labels), the
    coparticipation network and the usage territories some rows twice. A row that is another but for its
    language-tagged texts says the same thing again."""
    page = httpx.get(api_url + "/sparql").text
    examples = json.loads(re.search(r'id="sparql-examples">(.*?)</script>', page, re.DOTALL)[1])
    assert len(examples) == 6 + len(nq.load_all())
    sw = SPARQLWrapper(api_url + "/sparql")
    for text in examples:
        sw.setQuery(text)
        sw.setReturnFormat(TURTLE if sw.queryType in ("CONSTRUCT", "DESCRIBE") else JSON)
        answer = sw.query().convert()
        assert answer, text
        rows = answer["results"]["bindings"] if isinstance(answer, dict) else []
        said = [json.dumps({k: v for k, v in r.items() if "xml:lang" not in v}, sort_keys=True) for r in rows]
        assert len(set(said)) == len(said), (text, [s for s in said if said.count(s) > 1][:4])


def test_bad_query_file_is_named_at_start_up(tmp_path: Path):
    (tmp_path / "casse.rq").write_text(
        "#+ summary: x\n#+ params:\n#+   - name: absent\nSELECT ?a WHERE { ?a ?b ?c }\n"
    )
    with pytest.raises(nq.QueryFileError, match=r"casse\.rq.*absent"):
        nq.load_all(tmp_path)
    (tmp_path / "casse.rq").write_text("#+ summary: x\nSELECT ?a WHERE { ?a ?b }\n")
    with pytest.raises(nq.QueryFileError, match=r"casse\.rq:2: invalid SPARQL"):
        nq.load_all(tmp_path)


def test_territory_codes_resolve_by_level():
    m = Minter("https://ex.org/")
    assert nq.territory_iri("73", m).value == "https://ex.org/id/departement/73"
    assert nq.territory_iri("region/84", m).value == "https://ex.org/id/region/84"
    assert nq.territory_iri("247300254", m).value == "https://ex.org/id/epci/247300254"
    assert nq.territory_iri("2A004", m).value == "https://ex.org/id/commune/2A004"
    with pytest.raises(ValueError):
        nq.territory_iri("73 } ?s ?p ?o {", m)


def test_a_repeated_parameter_is_a_400_that_names_it(api_url):
    """?departement=05&departement=73 used 73 in silence: each parameter takes one value."""
    pairs = [("departement", "05"), ("departement", "73")]
    r = httpx.get(f"{api_url}/api/communes-departement", params=pairs)
    assert (
        r.status_code == 400 and r.json()["detail"] == "departement: given several times; it takes one value"
    )
    r = httpx.post(f"{api_url}/api/communes-departement", data={"departement": ["05", "73"]})
    assert r.status_code == 400 and r.json()["detail"].startswith("departement: given several times")


def test_a_territory_parameter_is_one_code_of_a_territory(api_url):
    """'5' was refused where /reconcile reads 05; a former code and a path in a code gave an empty 200. Now
    the unpadded code is read, a former commune's code is its commune's today (Meythet, 74182, is part of
    Annecy, 74010), a code no territory has or had a 404 saying so, and a code of another shape a 400
    saying what is expected."""

    def get(name: str, params: object) -> httpx.Response:
        return httpx.get(f"{api_url}/api/{name}", params=params, timeout=60)

    five = get("communes-departement", {"departement": "5"})
    assert (
        five.status_code == 200 and five.json() == get("communes-departement", {"departement": "05"}).json()
    )
    assert five.json() and get("communes-departement", {"departement": "2A"}).status_code == 200
    annecy = get("lieux-territoire", {"territoire": "74010"}).json()
    assert annecy and get("lieux-territoire", {"territoire": "74182"}).json() == annecy
    assert (
        get("territoire-parents", {"territoire": "5023"}).json()
        == get("territoire-parents", {"territoire": "05023"}).json()
        != []
    )
    r = get("territoire-parents", {"territoire": "99999"})
    assert r.status_code == 404 and "no commune has or had the code 99999" in r.json()["detail"]
    r = get("territoire-parents", {"territoire": "region/05023"})
    assert r.status_code == 400 and "territoire" in r.json()["detail"] and "region/84" in r.json()["detail"]


def test_a_current_code_is_answered_without_a_read_of_the_name_index(base_iri, territory_triples, tmp_path):
    """The first /api/annuaire-lieux?territoire=05 after the server started waited seconds: the code was
    checked against an index of names the named queries read whole for themselves (the app reads its own
    at start), and any query waited for it. A territory, project or organisation the store states today
    is answered by the store, even one written a moment ago that no index has read yet; a former code
    (Meythet's, 74182, names Annecy) by the app's index, read no second time."""
    store, m = loaded_store(base_iri, territory_triples), Minter(base_iri)
    matching.index_of(store)  # the app's, read at its start
    reads = matching.stats["full_reads"]
    graph = m.graph("essai-ecrit-a-l-instant")
    organisation = f'<{m.thing("organisation", "nouvelle")}> a <{ORG}Organization> ; <{RDFS}label> "N" .'
    try:
        with serve(store, tmp_path) as url:

            def get(name: str, params: dict) -> list:
                r = httpx.get(f"{url}/api/{name}", params=params, timeout=60)
                assert r.status_code == 200, (name, params, r.text)
                return r.json()

            for territory in ("05061", "247300254"):
                assert get("territoire-parents", {"territoire": territory})
            assert get("projets-territoire", {"territoire": "region/84"})
            assert get("annuaire-lieux", {"territoire": "05"})
            assert get("communes-projet", {"projet": "solidarites-des-4-rives"})
            annecy = get("lieux-territoire", {"territoire": "74010"})
            assert annecy and get("lieux-territoire", {"territoire": "74182"}) == annecy
            told, store.listeners[:] = store.listeners[:], []  # as another process's write on a remote store
            try:
                store.replace_graph(graph, ox.parse(organisation.encode(), ox.RdfFormat.TURTLE))
            finally:
                store.listeners[:] = told
            assert get("organisation-projets", {"organisation": "nouvelle"}) == []
            assert matching.stats["full_reads"] == reads
    finally:
        store.replace_graph(graph, [])


def test_a_parameter_takes_the_site_s_iri_or_its_short_form(api_url, spec, base_iri):
    """A territory was a code only (its IRI a 400), a project an IRI only (its slug a 400): each takes
    both, in the query string, a form or a JSON body, and /openapi.json and /api say so."""

    def same(name: str, short: dict, iri: dict) -> list:
        answers = [httpx.get(f"{api_url}/api/{name}", params=p, timeout=60) for p in (short, iri)]
        answers.append(httpx.post(f"{api_url}/api/{name}", json=iri, timeout=60))
        assert [r.status_code for r in answers] == [200] * 3, [r.text for r in answers]
        assert answers[0].json() == answers[1].json() == answers[2].json() != [], name
        return answers[0].json()

    m = Minter(base_iri)
    same("projets-territoire", {"territoire": "05"}, {"territoire": m.thing("departement", "05")})
    same("projets-territoire", {"territoire": "region/93"}, {"territoire": m.thing("region", "93")})
    same("territoire-parents", {"territoire": "5023"}, {"territoire": m.thing("commune", "05023")})
    # An informal area too (its IRI was a 400 « not a valid territory »); one no document names is a 404.
    area = "territoire/grand-brianconnais"
    same("projets-territoire", {"territoire": area}, {"territoire": m.base + "id/" + area})
    r = httpx.get(f"{api_url}/api/lieux-territoire", params={"territoire": "territoire/nulle-part"})
    assert r.status_code == 404 and "no informal area is named nulle-part" in r.json()["detail"], r.text
    # An organisation or a project the site has not is a 404 that says so too (it was a 200 []), by its key
    # or its IRI, and so is another kind's IRI.
    for name, param, value in (
        ("organisation-projets", "organisation", "nope"),
        ("organisation-projets", "organisation", m.thing("organisation", "nope")),
        ("organisation-projets", "organisation", m.thing("projet", "solidarites-des-4-rives")),
        ("communes-projet", "projet", "pas-un-projet"),
    ):
        r = httpx.get(f"{api_url}/api/{name}", params={param: value})
        iri = value if "://" in value else m.thing(param, value)
        assert r.status_code == 404 and f"no {param} has the IRI {iri}" in r.json()["detail"], r.text
    slug = "solidarites-des-4-rives"
    same("communes-projet", {"projet": slug}, {"projet": m.thing("projet", slug)})
    same(
        "organisation-projets",
        {"organisation": "adrets"},
        {"organisation": m.thing("organisation", "adrets")},
    )
    for name, params, said in [
        ("projets-territoire", {"territoire": "https://example.org/id/departement/05"}, "or the IRI: "),
        ("projets-territoire", {"territoire": f"{base_iri}id/theme/sante"}, "region/84"),
        ("communes-projet", {"projet": "pas un projet"}, "not an absolute IRI nor a projet key"),
    ]:
        r = httpx.get(f"{api_url}/api/{name}", params=params)
        assert r.status_code == 400 and said in r.json()["detail"], r.text
    project = spec["paths"]["/api/communes-projet"]["get"]["parameters"][0]
    assert slug in project["description"] and re.match(project["schema"]["anyOf"][1]["pattern"], slug)
    assert project["schema"]["anyOf"][0] == {"type": "string", "format": "uri"}
    territory = spec["paths"]["/api/projets-territoire"]["get"]["parameters"][0]["schema"]["pattern"]
    assert re.match(territory, f"{base_iri}id/departement/05") and re.match(territory, "05")
    assert not re.match(territory, "https://example.org/id/departement/05")
    for lang, words in (("fr", "par son code"), ("en", "by its code")):
        assert words in httpx.get(f"{api_url}/api", params={"lang": lang}).text


def test_an_informal_area_without_composition_says_so(api_url):
    """Queyras covered no commune: /api/annuaire-lieux?territoire=territoire/queyras was [] and its page
    « 0 lieu de services ». It lists France services Queyras now. massif alpin and espace alpin have no
    stable composition and cover nothing: their places are not known, not none. The queries answering
    with what lies in a territory's units say so (422), the page says « Composition non renseignée »
    where it counted 0 places; the projects located in the area itself are still listed."""
    wait_for_index(api_url)  # the pages' figures
    queyras = httpx.get(
        f"{api_url}/api/annuaire-lieux", params={"territoire": "territoire/queyras"}, timeout=60
    )
    assert queyras.status_code == 200, queyras.text
    assert [(r["nom"], r["communeNom"]) for r in queyras.json()] == [("France services Queyras", "Aiguilles")]
    for name in ("lieux-territoire", "annuaire-lieux"):
        for area in ("massif-alpin", "espace-alpin"):
            r = httpx.get(f"{api_url}/api/{name}", params={"territoire": f"territoire/{area}"}, timeout=60)
            assert r.status_code == 422, (name, area, r.text)
            assert f"informal area {area} states no composition" in r.json()["detail"], r.text
        assert (
            "422" in httpx.get(api_url + "/openapi.json").json()["paths"][f"/api/{name}"]["get"]["responses"]
        )
    r = httpx.get(
        f"{api_url}/api/projets-territoire", params={"territoire": "territoire/massif-alpin"}, timeout=60
    )
    assert r.status_code == 200 and r.json() != []
    page = httpx.get(f"{api_url}/id/territoire/massif-alpin", headers={"Accept": "text/html"}, timeout=60)
    assert page.status_code == 200, page.text
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "Composition non renseignée" in text and not re.search(r"\b0 lieux? de services", text)
    page = httpx.get(f"{api_url}/id/territoire/queyras", headers={"Accept": "text/html"}, timeout=60)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert "1 lieu de services" in text and "Composition non renseignée" not in text and "habitants" in text


def test_a_former_unit_names_its_commune_today(territory_store):
    """As the reconciliation reads them: a Paris arrondissement's code names Paris, a merged commune's
    its commune today."""
    names, m = read_index(territory_store), territory_store.minter
    assert nq.territory_iri("75101", m, names=names).value == m.thing("commune", "75056")
    assert nq.territory_iri("74182", m, names=names).value == m.thing("commune", "74010")
    assert nq.territory_iri("73054", m, names=names).value == m.thing("commune", "73054")
    with pytest.raises(nq.Unknown):
        nq.territory_iri("region/99", m, names=names)


def test_france_services_open_saturday_morning(api_url, api_store):
    """Written against the places' shape (schema:openingHoursSpecification). Its hours read « 09:00:00 »
    where the contact sheet (annuaire-lieux) writes « 09:00-12:00 »: HH:MM now, on every store."""
    b, graph = api_store.minter.base, api_store.minter.graph("essai-samedi")
    ttl = f"""@prefix schema: <http://schema.org/> . @prefix cs: <https://w3id.org/communs-services/def#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    <{b}id/reseau/essai-france-services> skos:prefLabel "France Services"@fr .
    <{b}id/lieu/essai-fs-bsm> a schema:Place, cs:ServicePlace ; rdfs:label "France Services BSM"@fr ;
      cs:network <{b}id/reseau/essai-france-services> ; dcterms:spatial <{b}id/commune/73054> ;
      schema:openingHoursSpecification [ schema:dayOfWeek schema:Saturday ;
        schema:opens "09:00:00"^^xsd:time ; schema:closes "12:00:00"^^xsd:time ] .
    <{b}id/lieu/essai-fs-apres-midi> a schema:Place ; rdfs:label "France Services l'après-midi"@fr ;
      cs:network <{b}id/reseau/essai-france-services> ; dcterms:spatial <{b}id/commune/73054> ;
      schema:openingHoursSpecification [ schema:dayOfWeek schema:Saturday ;
        schema:opens "14:00:00"^^xsd:time ; schema:closes "17:00:00"^^xsd:time ] ."""
    api_store.replace_graph(graph, [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)])
    try:
        url = api_url + "/api/france-services-samedi"
        rows = httpx.get(url, params={"departement": "73"}, timeout=60).json()
        ours = [(r["nom"], r["ouvre"], r["ferme"]) for r in rows if "/id/lieu/essai-fs-" in r["lieu"]]
        assert ours == [("France Services BSM", "09:00", "12:00")]
        assert len(rows) > 1  # the bundled list's too
    finally:
        api_store.replace_graph(graph, [])


def test_territories_without_project_counts_sub_territories(base_iri):
    """A project on a commune covers it and its EPCI; the other communes are listed, the EPCI is not."""
    import pyoxigraph as ox

    b = base_iri
    ttl = f"""@prefix schema: <http://schema.org/> . @prefix dcterms: <http://purl.org/dc/terms/> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix igeo: <{IGEO}> .
    <{b}id/epci/200000001> a igeo:Intercommunalite ; igeo:codeINSEE "200000001" ; rdfs:label "CC"@fr ;
      dcterms:isPartOf <{b}id/departement/73> .
    <{b}id/commune/73001> a igeo:Commune ; igeo:codeINSEE "73001" ; rdfs:label "Avec projet"@fr ;
      dcterms:isPartOf <{b}id/departement/73>, <{b}id/epci/200000001> .
    <{b}id/commune/73002> a igeo:Commune ; igeo:codeINSEE "73002" ; rdfs:label "Sans projet"@fr ;
      dcterms:isPartOf <{b}id/departement/73>, <{b}id/epci/200000001> .
    <{b}id/projet/p> a schema:Project ; rdfs:label "P"@fr ; dcterms:spatial <{b}id/commune/73001> ."""
    store = OxigraphStore(base_iri)
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    store.replace_graph(store.minter.graph("t"), triples, GraphMeta("t", "test"))
    q = nq.load_all()["territoires-sans-projet"]
    rows = store.select(q.sparql, nq.bindings(q, {"departement": "73"}, store.minter))
    assert [r["code"].value for r in rows] == ["73002"]


def test_places_per_territory_and_epci_without_a_place(base_iri):
    """A researcher's first tables: places per EPCI (zero included, one network or all) and per département,
    and the EPCIs with none, with their population and number of communes."""
    b = base_iri
    ttl = f"""@prefix dcterms: <http://purl.org/dc/terms/> . @prefix igeo: <{IGEO}> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix cs: <https://w3id.org/communs-services/def#> .
    <{b}id/departement/73> a igeo:Departement ; igeo:codeINSEE "73" ; rdfs:label "Savoie"@fr ;
      cs:population 9 .
    <{b}id/epci/200000001> a igeo:Intercommunalite ; igeo:codeINSEE "200000001" ; rdfs:label "A"@fr ;
      cs:population 5 ; dcterms:isPartOf <{b}id/departement/73> .
    <{b}id/epci/200000002> a igeo:Intercommunalite ; igeo:codeINSEE "200000002" ; rdfs:label "B"@fr ;
      cs:population 4 ; dcterms:isPartOf <{b}id/departement/73> .
    <{b}id/commune/73001> a igeo:Commune ; dcterms:isPartOf <{b}id/departement/73>, <{b}id/epci/200000001> .
    <{b}id/commune/73002> a igeo:Commune ; dcterms:isPartOf <{b}id/departement/73>, <{b}id/epci/200000001> .
    <{b}id/commune/73003> a igeo:Commune ; dcterms:isPartOf <{b}id/departement/73>, <{b}id/epci/200000002> .
    <{b}id/lieu/fs> a cs:ServicePlace ; cs:network <{b}id/reseau/france-services> ;
      dcterms:spatial <{b}id/commune/73001> .
    <{b}id/lieu/tl> a cs:ServicePlace ; cs:network <{b}id/reseau/tiers-lieux> ;
      dcterms:spatial <{b}id/commune/73002> ."""
    store = OxigraphStore(base_iri)
    triples = [q.triple for q in ox.parse(ttl.encode(), ox.RdfFormat.TURTLE)]
    store.replace_graph(store.minter.graph("t"), triples, GraphMeta("t", "test"))
    queries = nq.load_all()

    def table(name: str, values: dict[str, str]) -> list[tuple]:
        q = queries[name]
        rows = store.select(q.sparql, nq.bindings(q, values, store.minter))
        return [tuple(r[v].value for v in q.variables[1:]) for r in rows]

    assert table("lieux-par-territoire", {}) == [("73", "Savoie", "9", "2")]
    assert table("lieux-par-territoire", {"niveau": "epci"}) == [
        ("200000001", "A", "5", "2"),
        ("200000002", "B", "4", "0"),
    ]
    by_network = table("lieux-par-territoire", {"niveau": "epci", "reseau": "france-services"})
    assert by_network == [("200000001", "A", "5", "1"), ("200000002", "B", "4", "0")]
    assert table("epci-sans-lieu", {}) == [("200000002", "B", "4", "1")]


def test_territories_without_project_are_those_no_project_reaches(api_url):
    """Checked against a walk of isPartOf done here in Python, on the largest départements of the
    bundle and on Savoie, where projects are. The query subtracts the covered territories once (MINUS):
    NOT EXISTS walked isPartOf* per territory, 9 to 26 s for Isère's 500 communes on a busy machine."""

    def rows(text: str) -> list[dict[str, str]]:
        r = httpx.post(api_url + "/sparql", data={"query": text}, headers={"Accept": "text/csv"}, timeout=60)
        assert r.status_code == 200, r.text
        return list(csv.DictReader(io.StringIO(r.text)))

    up: dict[str, set[str]] = {}
    for edge in rows("SELECT ?a ?b WHERE { ?a <http://purl.org/dc/terms/isPartOf> ?b }"):
        up.setdefault(edge["a"], set()).add(edge["b"])
    covered: set[str] = set()
    places = "SELECT DISTINCT ?l { ?p a <http://schema.org/Project> ; <http://purl.org/dc/terms/spatial> ?l }"
    todo = [r["l"] for r in rows(places)]
    while todo:
        t = todo.pop()
        if t not in covered:
            covered.add(t)
            todo += up.get(t, ())
    reached: list[int] = []
    for dep in ("38", "73", "74"):
        (found,) = rows(
            "PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
            f'SELECT ?d WHERE {{ ?d a igeo:Departement ; igeo:codeINSEE "{dep}" }}'
        )
        members = rows(
            "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT DISTINCT ?t WHERE { VALUES ?c { igeo:Commune "
            f"igeo:Intercommunalite }} ?t <http://purl.org/dc/terms/isPartOf>|"
            f"<http://schema.org/geoOverlaps> <{found['d']}> ; a ?c }}"
        )
        params = {"departement": dep, "limit": 5000}  # one page: Isère has some 600 territories
        r = httpx.get(api_url + "/api/territoires-sans-projet", params=params, timeout=60)
        assert r.status_code == 200, r.text
        answered = [row["territoire"] for row in r.json()]
        expected = {m["t"] for m in members} - covered
        assert expected, dep
        assert sorted(answered) == sorted(expected), dep
        reached.append(len(members) - len(expected))
    assert reached[1] > 0, reached  # Savoie has projects: the subtraction was exercised


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error_nor_schema_violation(api_url, mode):
    """Valid requests get valid answers; invalid ones (empty required values, missing bodies, wrong types)
    are refused with a 4xx, as the OpenAPI document says they must be. A proposal's body says its shape:
    whether its kind, territories or file exist is the proposal's check (422 per field, also declared), so a
    well-formed one is not bound to be accepted; every other check applies to it."""
    schema = schemathesis.openapi.from_url(api_url + "/openapi.json")
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(mode))
        def check(case):
            proposal = case.operation.path == "/api/contributions"
            case.call_and_validate(base_url=api_url, excluded_checks=[positive_data_acceptance] * proposal)

        try:
            check()
        except Exception as e:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {e}")
    assert not failures, "\n".join(failures)


def test_the_resources_are_the_same_everywhere(api_url):
    """One definition of a resource (graph/search.py CREATIVE_WORKS: a schema:CreativeWork or a subclass):
    the list and its count on the home page, the named query and the sitemap showed 3, 2 and 1 of them
    (a WebSite was no resource for the list, a DigitalDocument none for the query)."""
    listed = {i["iri"] for i in httpx.get(api_url + "/ressources.json", timeout=60).json()["items"]}
    named = [r["ressource"] for r in httpx.get(api_url + "/api/ressources-theme-public").json()]
    assert len(listed) == 4 and sorted(named) == sorted(listed)
    assert f"<strong>{len(listed)}</strong> ressources" in httpx.get(api_url + "/", timeout=60).text
    sitemap = httpx.get(api_url + "/sitemap-1.xml").text
    assert {iri for iri in listed if f"<loc>{iri}</loc>" in sitemap} == listed
    text = (QUERIES_DIR / "ressources-theme-public.rq").read_text()
    kinds = re.search(r"VALUES \?kind \{(.*?)\}", text, re.S)[1].split()
    assert {SCHEMA + k.removeprefix("schema:") for k in kinds} == set(search.LISTS["ressources"].classes)


def test_two_grants_of_one_funder_to_one_project_are_one_row(base_iri):
    store, m = OxigraphStore(base_iri), Minter(base_iri)
    project, funder = m.thing("projet", "p"), m.thing("organisation", "f")
    ttl = f"""@prefix schema: <http://schema.org/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    <{project}> rdfs:label "Projet"@fr .
    <{project}#g1> schema:funder <{funder}> ; schema:fundedItem <{project}> .
    <{project}#g2> schema:funder <{funder}> ; schema:fundedItem <{project}> ."""
    store.replace_graph(m.graph("essai"), ox.parse(ttl.encode(), ox.RdfFormat.TURTLE))
    funded = nq.load_all()["organisation-projets"]
    rows = store.select(funded.sparql, nq.bindings(funded, {"organisation": funder}, m))
    assert [(r["projet"].value, r["role"].value) for r in rows] == [(project, "financeur")]


def test_an_organisation_written_a_moment_ago_is_not_a_404(base_iri, tmp_path):
    """The name index follows writes in the background; a named query given a name it does not know yet
    is answered by the store rather than a 404. The write here is one no listener is told of, as another
    process's on a remote store: the index reads it whole a second later at the earliest."""
    store, m = OxigraphStore(base_iri), Minter(base_iri)

    def organisations(*keys: str) -> list[ox.Triple]:
        ttl = "".join(
            f"<{m.thing('organisation', k)}> a <http://www.w3.org/ns/org#Organization> ; "
            f'<http://www.w3.org/2000/01/rdf-schema#label> "{k}"@fr .\n'
            for k in keys
        )
        return list(ox.parse(ttl.encode(), ox.RdfFormat.TURTLE))

    store.replace_graph(m.graph("essai"), organisations("ancienne"))
    with serve(store, tmp_path) as url:

        def status(key: str) -> int:
            return httpx.get(f"{url}/api/organisation-projets", params={"organisation": key}).status_code

        assert status("ancienne") == 200
        told, store.listeners[:] = store.listeners[:], []
        try:
            store.replace_graph(m.graph("essai"), organisations("ancienne", "nouvelle"))
        finally:
            store.listeners[:] = told
        assert status("nouvelle") == 200
        assert status("jamais") == 404  # the index has followed: no wait for a name nobody wrote


def test_the_directory_reads_the_coordinates_of_the_territorys_places_only() -> None:
    """The coordinates are the row's place's, none of the other places' (they are read per place, nested:
    their speed is a benchmark's business, not a test's)."""
    base, n = "https://ex.org/id/", 200
    spatial, geo = "http://purl.org/dc/terms/spatial", SCHEMA + "geo"
    quads = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, ox.NamedNode(base + "graphe")))

    for i in range(n):
        place, point = f"{base}lieu/{i}", f"{base}point/{i}"
        add(place, RDF + "type", ox.NamedNode("https://w3id.org/communs-services/def#ServicePlace"))
        add(place, RDFS + "label", ox.Literal(f"Lieu {i}"))
        add(place, spatial, ox.NamedNode(f"{base}commune/{min(i, 1)}"))  # one place in commune/0
        add(place, geo, ox.NamedNode(point))
        add(point, SCHEMA + "latitude", ox.Literal(str(44 + i / n)))
        add(point, SCHEMA + "longitude", ox.Literal(str(6 + i / n)))
    store = ox.Store()
    store.extend(quads)
    query = nq.load_all()["annuaire-lieux"].sparql
    bound = bind(query, {"territoire": ox.NamedNode(base + "commune/0")})
    rows = list(store.query(bound, use_default_graph_as_union=True))
    assert [(r["latitude"].value, r["longitude"].value) for r in rows] == [("44.0", "6.0")]
