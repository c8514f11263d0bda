"""The reuser's path: VoID/DCAT description, downloads with ETag and ranges, the N-Quads dump loaded into
rdflib giving the live endpoint's answers, and no private graph anywhere."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import html
import io
import itertools
import json
import re
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from pages_helpers import pages_store, serve, wait_for_downloads, wait_for_index
from test_named_queries import loaded_store

from graph import catalog, dumps, formats
from graph import named_queries as nq
from graph.contributions import LICENSES, Content, Contributions, Contributor
from graph.dumps import Dumps
from graph.namespaces import CS, SCHEMA
from graph.store import GraphMeta, OxigraphStore

PRIVATE_MARK = "secret-ne-pas-publier@example.org"
DEFAULT_MARK = "écrit dans le graphe par défaut"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
VOID_NS = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def site(base_iri, territory_triples, tmp_path_factory, monkeypatch_module):
    store = loaded_store(base_iri, territory_triples)
    private = store.minter.private_graph("essai-dumps")
    store.update(
        f"INSERT DATA {{ GRAPH <{private}> {{ <{base_iri}id/personne/x> <http://schema.org/email> "
        f'"{PRIVATE_MARK}" }} }}'
    )
    # A token holder's update without GRAPH: public queries read it, so counts and dumps must hold it too.
    store.update(f'INSERT DATA {{ <{base_iri}id/note/x> <{RDFS_COMMENT}> "{DEFAULT_MARK}" }}')
    monkeypatch_module.setenv("COMMUNS_DUMPS_DIR", str(tmp_path_factory.mktemp("dumps")))
    with serve(store, tmp_path_factory.mktemp("site")) as url:
        yield url, store


@pytest.fixture(scope="module")
def pages(base_iri, territory_triples) -> OxigraphStore:
    """The pages' store, for the tests that serve it with downloads of their own (none built yet, or a
    write of theirs to rebuild): one store object, so one index of the country (conftest.index_of); each
    test writes things of its own."""
    return pages_store(base_iri, territory_triples)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_void_and_dcat(site):
    url, store = site
    # Identifiers come from the configured base, whoever the client says it asked.
    ttl = httpx.get(url + "/.well-known/void", headers={"Host": "data.example.org"})
    assert "example.org" not in ttl.text
    assert ttl.status_code == 200 and ttl.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    dataset = rdflib.URIRef(store.minter.base + "jeu-de-donnees")
    base = store.minter.base
    assert (dataset, VOID.sparqlEndpoint, rdflib.URIRef(base + "sparql")) in g
    assert (dataset, VOID.dataDump, rdflib.URIRef(base + "telechargements/communs-services.nq.gz")) in g
    assert len(list(g.objects(dataset, VOID.classPartition))) > 10
    assert len(list(g.objects(dataset, VOID.propertyPartition))) > 20
    assert rdflib.URIRef("http://rdf.insee.fr/def/geo#") in set(g.objects(dataset, VOID.vocabulary))
    datasets = set(g.subjects(rdflib.RDF.type, DCAT.Dataset))
    assert rdflib.URIRef(store.minter.graph("territoires")) in datasets
    assert not any("/graph/prive/" in str(d) for d in datasets)
    lic = g.value(rdflib.URIRef(store.minter.graph("territoires")), rdflib.DCTERMS.license)
    assert lic is not None
    # Every dataset states its terms: a licence, or the source's rights when it publishes without one.
    catalogue = rdflib.URIRef(store.minter.graph("catalogue"))
    statement = g.value(catalogue, rdflib.DCTERMS.rights)
    assert "sans licence explicite" in str(g.value(statement, rdflib.RDFS.label))
    for d in datasets - {dataset}:
        assert g.value(d, rdflib.DCTERMS.license) or g.value(d, rdflib.DCTERMS.rights), d
    jsonld = httpx.get(url + "/catalogue", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json") and json.loads(jsonld.content)
    xml = httpx.get(url + "/catalogue?format=rdf")
    assert rdflib.Graph().parse(data=xml.text, format="xml")
    page = httpx.get(url + "/catalogue")
    assert page.headers["content-type"].startswith("text/html") and "Licence" in page.text
    assert PRIVATE_MARK not in page.text + ttl.text


def test_graph_and_dataset_iris_dereference(site):
    """Each public graph's IRI gives its dataset of the catalogue (licence or rights, triples, modified) in
    every RDF format of /id/…, a browser the catalogue; the dataset's IRI goes to the catalogue; a private
    graph's IRI stays unknown."""
    url, store = site
    VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
    turtle = {"Accept": "text/turtle"}
    counts = {
        r["g"].value: int(r["n"].value)
        for r in store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    }
    graphs = store.public_graphs()
    assert len(graphs) >= 5 and store.minter.graph("meta") in graphs
    for g in graphs:
        path = g.removeprefix(store.minter.base.removesuffix("/"))
        r = httpx.get(url + path, headers=turtle)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle"), g
        data = rdflib.Graph().parse(data=r.text, format="turtle")
        node = rdflib.URIRef(g)
        assert int(data.value(node, VOID.triples)) == counts[g], g
        assert data.value(node, rdflib.DCTERMS.license) or data.value(node, rdflib.DCTERMS.rights), g
        assert "://" not in str(data.value(node, rdflib.DCTERMS.title)), g
        page = httpx.get(url + path, headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/catalogue", g
    territories = store.minter.graph("territoires").removeprefix(store.minter.base.removesuffix("/"))
    assert json.loads(httpx.get(url + territories + ".jsonld").content)
    assert rdflib.Graph().parse(data=httpx.get(url + territories, params={"format": "nt"}).text, format="nt")
    assert httpx.get(url + territories, headers={"Accept": "application/rdf+xml"}).status_code == 200
    assert "modified" in httpx.get(url + territories + ".ttl").text
    dataset = httpx.get(url + "/jeu-de-donnees", headers=turtle, follow_redirects=True)
    assert dataset.history[0].status_code == 303 and dataset.url.path == "/catalogue"
    described = rdflib.Graph().parse(data=dataset.text, format="turtle")
    assert (rdflib.URIRef(store.minter.base + "jeu-de-donnees"), VOID.triples, None) in described
    private = store.minter.private_graph("essai-dumps")
    assert private in store.graphs()
    for headers in (turtle, {"Accept": "text/html"}):
        for path in (
            private.removeprefix(store.minter.base.removesuffix("/")),
            "/graph/prive/essai-dumps.ttl",
        ):
            r = httpx.get(url + path, headers=headers)
            assert r.status_code == 404 and PRIVATE_MARK not in r.text, path
            assert not r.headers["content-type"].startswith("text/turtle")


def test_the_catalogue_void_and_graph_iris_answer_304_to_their_etag(site):
    """/catalogue, /.well-known/void and /graph/… sent an ETag and answered 200 with the whole body to it,
    where resource pages, the lists' twins and the downloads answer 304: now 304 too, with the ETag; /def
    and the downloads' manifest sent none."""
    url, store = site
    territories = store.minter.graph("territoires").removeprefix(store.minter.base.removesuffix("/"))
    rdf = ("text/turtle", "application/ld+json")
    for path, (asked, other_format) in [
        (p, rdf) for p in ("/catalogue", "/.well-known/void", territories, "/def")
    ] + [("/telechargements", ("application/json", "text/csv"))]:
        first = httpx.get(url + path, headers={"Accept": asked})
        etag = first.headers["etag"]
        assert first.status_code == 200 and first.text, path
        again = httpx.get(url + path, headers={"Accept": asked, "If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag and not again.content, path
        other = httpx.get(url + path, headers={"Accept": other_format, "If-None-Match": etag})
        assert other.status_code == 200 and other.headers["etag"] != etag, path
    # The page for people sent the RDF's kind of ETag and answered 200 to it, always (its language and who
    # is signed in are not in it): it sends none.
    page = httpx.get(url + "/catalogue", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "etag" not in page.headers


SHAPES = Path(__file__).parent / "dcat-ap"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


def _shacl(data: rdflib.Graph) -> tuple[bool, set, str]:
    """(conforms, paths of the results that are not violations, report) against the official shapes."""
    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "range.ttl", "shapes_recommended.ttl"):
        shapes.parse(SHAPES / name, format="turtle")
    conforms, report, text = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    results = list(report.subjects(rdflib.RDF.type, SH.ValidationResult))
    violations = [r for r in results if report.value(r, SH.resultSeverity) == SH.Violation]
    return not violations and conforms, {report.value(r, SH.resultPath) for r in results}, text


def test_catalogue_conforms_to_dcat_ap_3(site):
    """The official DCAT-AP 3.0.1 shapes (tests/dcat-ap/README.md): no violation; of the recommended
    properties only a period (graphs without dated things) and a licence (sources that publish without
    one: their terms are stated as rights) may be missing. Checked with the downloads built: every file
    with its size, the data·inclusion export with the schema it conforms to."""
    url, store = site
    wait_for_downloads(url)
    data = rdflib.Graph().parse(data=httpx.get(url + "/catalogue?format=ttl").text, format="turtle")
    assert (
        len(set(data.subject_objects(DCAT.byteSize))) > 20 and (None, rdflib.DCTERMS.conformsTo, None) in data
    )
    conforms, paths, text = _shacl(data)
    assert conforms, text
    assert not paths - {rdflib.DCTERMS.temporal, rdflib.DCTERMS.license}, text
    # The check can fail: a literal licence is a violation, so is a size that is not a number.
    for wrong in (
        (rdflib.URIRef(store.minter.base + "catalogue"), rdflib.DCTERMS.license, rdflib.Literal("CC BY")),
        (next(data.subjects(DCAT.byteSize)), DCAT.byteSize, rdflib.Literal("5 Mio")),
    ):
        data.add(wrong)
        assert not _shacl(data)[0]
        data.remove(wrong)


def _downloads(g: rdflib.Graph, base: str) -> dict[str, rdflib.term.Node]:
    """The distributions of the catalogue by file name under /telechargements/."""
    return {
        str(g.value(d, DCAT.downloadURL)).removeprefix(base + "telechargements/"): d
        for d in g.subjects(rdflib.RDF.type, DCAT.Distribution)
    }


def test_the_catalogue_lists_every_download_with_its_size_once_they_are_built(
    base_iri, pages, tmp_path, monkeypatch
):
    """The tables and the data·inclusion export were offered on /telechargements but not in the catalogue;
    sizes are stated once the downloads of the store's version are built, and a catalogue described
    before them is described again (its ETag too), not kept without sizes for the whole version."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("COMMUNS_DUMPS_DIR", raising=False)  # a folder of its own: nothing built yet
    with serve(pages, tmp_path / "app") as url:
        before = httpx.get(url + "/catalogue?format=ttl")
        g = rdflib.Graph().parse(data=before.text, format="turtle")
        dataset = rdflib.URIRef(base_iri + "jeu-de-donnees")
        whole = {str(g.value(d, DCAT.downloadURL)) for d in g.objects(dataset, DCAT.distribution)}
        names = {u.removeprefix(base_iri + "telechargements/") for u in whole}
        assert {"communs-services.nq.gz", "projets.csv", "lieux.csv"} <= names
        assert {
            f"data-inclusion/{n}.{x}" for n in ("structures", "services") for x in ("json", "csv")
        } <= names
        exchange = _downloads(g, base_iri)["data-inclusion/services.json"]
        schema = g.value(exchange, rdflib.DCTERMS.conformsTo)
        assert (schema, rdflib.RDF.type, rdflib.DCTERMS.Standard) in g and "data·inclusion" in str(
            g.value(schema, rdflib.DCTERMS.title)
        )
        assert g.value(_downloads(g, base_iri)["projets.csv"], DCAT.mediaType).endswith("/text/csv")
        graphs = set(g.objects(dataset, rdflib.URIRef(VOID_NS + "subset")))
        latest = max(m.toPython() for d in graphs for m in g.objects(d, rdflib.DCTERMS.modified))
        assert g.value(dataset, rdflib.DCTERMS.modified).toPython() == latest
        assert not list(g.subject_objects(DCAT.byteSize))  # no size before the files are
        manifest = wait_for_downloads(url)
        after = httpx.get(url + "/catalogue?format=ttl")
        assert after.headers["etag"] != before.headers["etag"]
        g = rdflib.Graph().parse(data=after.text, format="turtle")
        sizes = {name: int(g.value(d, DCAT.byteSize)) for name, d in _downloads(g, base_iri).items()}
        assert sizes == {f["name"]: f["bytes"] for f in manifest["files"]}


def test_contributed_resources_keep_their_licences_and_the_graph_states_none(base_iri):
    """graph/contributions said CC BY-SA 4.0 for the graph beside a CC BY 4.0 resource and its own
    description « Chaque ressource porte sa propre licence »: the graph states no licence, its rights say
    each resource has its own, an earlier graph licence goes at start-up (converge), and the catalogue
    still conforms."""
    by = "https://creativecommons.org/licenses/by/4.0/"
    store = OxigraphStore(base_iri)
    model = Contributions(store, b"secret")
    rid, _ = model.propose(
        Content("Guide", "Un guide pour les saisonniers.", "guide", license=by),
        Contributor("Ana", "ana@example.net"),
    )
    model.accept(rid, "modo", "Modé")
    public = model.public_graph()
    store.update(  # as earlier versions wrote it
        f"INSERT DATA {{ GRAPH <{store.meta_graph}> {{ <{public}> <{rdflib.DCTERMS.license}> "
        "<https://creativecommons.org/licenses/by-sa/4.0/> } }"
    )
    model.converge()
    data = rdflib.Graph().parse(
        data=formats.serialize(catalog.describe(store)[0], formats.TURTLE), format="turtle"
    )
    node = rdflib.URIRef(public)
    assert (node, rdflib.RDF.type, DCAT.Dataset) in data
    assert data.value(node, rdflib.DCTERMS.license) is None
    rights = str(data.value(data.value(node, rdflib.DCTERMS.rights), rdflib.RDFS.label))
    assert "Chaque ressource porte sa propre licence" in rights and "CC BY 4.0" in rights
    distribution = data.value(node, DCAT.distribution)
    assert data.value(distribution, rdflib.DCTERMS.license) is None and data.value(
        distribution, rdflib.DCTERMS.rights
    )
    licences = store.select(f"SELECT ?l WHERE {{ GRAPH <{public}> {{ ?r <{rdflib.DCTERMS.license}> ?l }} }}")
    assert [r["l"].value for r in licences] == [by]
    conforms, _, text = _shacl(data)
    assert conforms, text


def test_the_resources_table_has_what_a_resource_page_shows(base_iri, tmp_path):
    """/telechargements/ressources.csv had only iri, nom, droits, licence: it gives a resource's class, kind,
    themes, publics and territories (their labels, several joined by « | »), link and dates, one row per
    resource, from the public graphs only (a proposal not yet accepted is not there)."""
    store = OxigraphStore(base_iri)
    m = store.minter
    theme, public, commune = (
        m.thing("theme", "mobilite"),
        m.thing("public", "jeunes"),
        m.thing("commune", "05023"),
    )
    store.update(
        f"""INSERT DATA {{ GRAPH <{m.graph("vocabulaire")}> {{
        <{theme}> <{rdflib.SKOS.prefLabel}> "Mobilité"@fr . <{commune}> <{rdflib.RDFS.label}> "Briançon"@fr .
        <{m.thing("type-ressource", "guide")}> <{rdflib.SKOS.prefLabel}> "Guide"@fr }} }}"""
    )
    model = Contributions(store, b"secret")
    other = m.thing("theme", "logement")  # no label: shown by its IRI
    content = Content(
        "Guide de la mobilité",
        "Se déplacer en montagne.",
        "guide",
        url="https://example.org/guide-mobilite",
        themes=[theme, other],
        publics=[public],
        territories=[commune],
    )
    rid, _ = model.propose(content, Contributor("Ana", "ana@example.net"))
    model.accept(rid, "modo", "Modé")
    model.propose(Content("Pas encore publié", "En attente.", "guide"), Contributor("Bo", "bo@example.net"))
    bare = m.thing("ressource", "site")
    store.update(
        f"INSERT DATA {{ GRAPH <{m.graph('rapport')}> {{ <{bare}> a <http://schema.org/WebSite> ; "
        f'<{rdflib.RDFS.label}> "Un site"@fr }} }}'
    )
    folder = tmp_path / "dumps"
    manifest = Dumps(store, folder).build()
    text = (folder / f"v{manifest['version']}" / "ressources.csv").read_text(encoding="utf-8")
    rows = {r["iri"]: r for r in csv.DictReader(io.StringIO(text))}
    assert list(rows) == sorted([model.iri(rid), bare]), rows  # one row each, the pending one absent
    row = rows[model.iri(rid)]
    assert (row["nom"], row["classe"], row["type"]) == (
        "Guide de la mobilité",
        SCHEMA + "CreativeWork",
        "Guide",
    )
    assert set(row["themes"].split(" | ")) == {"Mobilité", other}
    assert (row["publics"], row["territoires"]) == (public, "Briançon")
    assert row["lien"] == "https://example.org/guide-mobilite" and row["licence"]
    assert all(row[d][:4].isdigit() for d in ("creation", "modification", "publication")), row
    assert rows[bare]["classe"] == SCHEMA + "WebSite" and rows[bare]["nom"] == "Un site"
    assert not any(rows[bare][c] for c in ("type", "themes", "lien", "creation")), rows[bare]
    assert "ana@example.net" not in text and "Pas encore publié" not in text


def test_the_places_and_events_tables_name_their_linked_things_as_projets_csv_does(base_iri, tmp_path):
    """lieux.csv gave a place's commune and networks as IRIs, evenements.csv an event's place, where
    projets.csv gives its linked things' labels: a spreadsheet user wants the names. A place's commune
    also has its INSEE code, the key to join on territoires-communes.csv."""
    store = OxigraphStore(base_iri)
    m = store.minter
    place, event = m.thing("lieu", "fs-briancon"), m.thing("evenement", "forum")
    commune, network = m.thing("commune", "05023"), m.thing("reseau", "france-services")
    store.update(
        f"""INSERT DATA {{ GRAPH <{m.graph("lieux")}> {{
        <{commune}> <{rdflib.RDFS.label}> "Briançon"@fr ; <http://rdf.insee.fr/def/geo#codeINSEE> "05023" .
        <{network}> <{rdflib.SKOS.prefLabel}> "France services"@fr .
        <{place}> a <{CS}ServicePlace> ; <{rdflib.RDFS.label}> "France services Briançon"@fr ;
          <{rdflib.DCTERMS.spatial}> <{commune}> ; <{CS}network> <{network}> ;
          <{SCHEMA}geo> [ <{SCHEMA}latitude> 44.89862 ; <{SCHEMA}longitude> 6.638795 ] .
        <{event}> a <{SCHEMA}Event> ; <{rdflib.RDFS.label}> "Forum"@fr ; <{SCHEMA}startDate> "2026-05-02" ;
          <{SCHEMA}location> <{place}> }} }}"""
    )
    folder = tmp_path / "dumps"
    manifest = Dumps(store, folder).build()
    tables = {
        name: list(csv.DictReader(io.StringIO((folder / f"v{manifest['version']}" / name).read_text())))
        for name in ("lieux.csv", "evenements.csv")
    }
    assert tables["lieux.csv"] == [
        {
            "iri": place,
            "nom": "France services Briançon",
            "commune": "Briançon",
            "code_commune": "05023",
            "reseaux": "France services",
            "latitude": "44.89862",
            "longitude": "6.638795",
        }
    ]
    assert tables["evenements.csv"] == [
        {"iri": event, "nom": "Forum", "date": "2026-05-02", "lieu": "France services Briançon"}
    ]


def test_the_catalogue_page_says_each_contributed_resource_has_its_own_licence(
    base_iri, tmp_path, monkeypatch
):
    """The contributions graph, which states no licence, read « non précisée » on /catalogue beside its
    description « Chaque ressource porte sa propre licence… »: the page names the allowed ones instead."""
    monkeypatch.setenv("COMMUNS_DUMPS_DIR", str(tmp_path / "dumps"))  # not the module's site's
    store = OxigraphStore(base_iri)
    model = Contributions(store, b"secret")
    rid, _ = model.propose(Content("Guide", "Un guide.", "guide"), Contributor("Ana", "ana@example.net"))
    model.accept(rid, "modo", "Modé")
    with serve(store, tmp_path) as url:
        for lang, says, not_stated in (
            ("fr", "propre à chaque ressource", "non précisée"),
            ("en", "each resource's own", "not stated"),
        ):
            page = httpx.get(f"{url}/catalogue?lang={lang}").text
            graph = model.public_graph()
            title = r"<tr><td><span[^>]*>[^<]*</span><br>"
            row = re.search(rf"{title}<small><code>{graph}</code>.*?</tr>", page, re.S)
            assert row, page
            cell = row[0].split("<td>")[3]
            assert says in html.unescape(cell) and not_stated not in cell, cell
            for iri, name in LICENSES.items():
                assert f'<a href="{iri}">{name}</a>' in cell, (name, cell)


def _licence_cells(page: str, cell: int) -> dict[str, str]:
    """A page's table rows by their first cell, each row's ``cell``-th cell, spaces collapsed."""
    rows = (row.split("<td>") for row in re.findall(r"<tr><td>(.*?)</tr>", page, re.S))
    return {
        cells[0].split("</a>")[0] + "</a>": " ".join(cells[cell].split()).removesuffix("</td>")
        for cells in rows
    }


def test_the_downloads_page_names_each_graphs_licence_as_the_catalogue_does(base_iri, tmp_path, monkeypatch):
    """/telechargements said « voir le catalogue » for a graph with no licence, where /catalogue says « non
    précisée » (and, for the contributions graph, each resource's own licence): both pages name each
    graph's licence from one template, a licence stated, none, the contributions' and the default graph's."""
    monkeypatch.setenv("COMMUNS_DUMPS_DIR", str(tmp_path / "dumps"))  # not the module's site's
    store = OxigraphStore(base_iri)
    model = Contributions(store, b"secret")
    rid, _ = model.propose(Content("Guide", "Un guide.", "guide"), Contributor("Ana", "ana@example.net"))
    model.accept(rid, "modo", "Modé")
    thing = ox.Triple(ox.NamedNode(base_iri + "id/note/x"), ox.NamedNode(RDFS_COMMENT), ox.Literal("x"))
    by = "https://creativecommons.org/licenses/by/4.0/"
    store.replace_graph(store.minter.graph("sous-licence"), [thing], GraphMeta("Sous licence", "a.csv", by))
    store.replace_graph(store.minter.graph("sans-licence"), [thing], GraphMeta("Sans licence", "b.csv"))
    store.update(f'INSERT DATA {{ <{base_iri}id/note/x> <{RDFS_COMMENT}> "{DEFAULT_MARK}" }}')
    with serve(store, tmp_path) as url:
        files = {f["name"]: f["graph"] for f in wait_for_downloads(url)["files"] if f["graph"] is not None}
        assert set(files.values()) == set(store.public_graphs()) | {""}
        for lang in ("fr", "en"):
            listed = _licence_cells(httpx.get(f"{url}/catalogue?lang={lang}").text, 2)
            catalogue = {re.search(r"<code>(.*?)</code>", k)[1]: v for k, v in listed.items()}
            downloads = _licence_cells(httpx.get(f"{url}/telechargements?lang={lang}").text, 3)
            said = {
                g: downloads[f'<a href="/telechargements/{name}">{name}</a>'] for name, g in files.items()
            }
            assert said == catalogue, lang
            assert catalogue[store.minter.graph("sous-licence")] == f'<a href="{by}">CC BY 4.0</a>'
            none, own = {"fr": ("non précisée", "propre à"), "en": ("not stated", "each resource's")}[lang]
            assert catalogue[""] == catalogue[store.minter.graph("sans-licence")] == none
            assert html.unescape(catalogue[model.public_graph()]).startswith(own)


def test_a_table_names_the_licences_of_the_graphs_its_rows_come_from(site):
    """The CSV tables said « selon le graphe » (their twin: graph and license null): a reuser could not tell
    under which licence their rows are. Each names the graphs typing its items, and the page their licences,
    each once, in the words it gives the graphs' own files."""
    url, store = site
    files = wait_for_downloads(url)["files"]
    by_graph = {f["graph"]: f["name"] for f in files if f["graph"] is not None}
    tables = [f for f in files if f["name"].endswith(".csv") and "/" not in f["name"]]
    assert {f["name"] for f in tables} >= {"projets.csv", "territoires-communes.csv"}
    cells = _licence_cells(httpx.get(f"{url}/telechargements").text, 3)
    cell = {
        name: cells[f'<a href="/telechargements/{name}">{name}</a>'] for f in files for name in [f["name"]]
    }
    for table in tables:
        if table["name"] in ("ressources.csv", "evenements.csv", "lieux.csv") and not table["bytes"] > 10:
            continue  # nothing of that kind in this store
        assert table["sources"] and set(table["sources"]) <= set(store.public_graphs()), table
        own = list(dict.fromkeys(cell[by_graph[g]] for g in table["sources"]))
        assert cell[table["name"]] == ", ".join(own) and "selon" not in cell[table["name"]], table
    communes = next(f for f in tables if f["name"] == "territoires-communes.csv")
    assert communes["sources"] == [store.minter.graph("territoires")]
    # Its licence too, when its graphs share one: it was null in the JSON, dct:rights alone in DCAT.
    stated = {f["graph"]: f["license"] for f in files if f["graph"] is not None}
    catalogue = rdflib.Graph().parse(data=httpx.get(f"{url}/catalogue?format=turtle").text, format="turtle")
    distributions = _downloads(catalogue, store.minter.base)
    derived = [f for f in files if f["graph"] is None and f["name"].endswith((".csv", ".json", ".nq.gz"))]
    assert len(derived) > len(tables) and all(f["sources"] for f in derived), derived
    for f in derived:
        licences = {stated.get(g) for g in f["sources"]}
        one = licences.pop() if len(licences) == 1 else None
        assert f["license"] == one, f
        assert catalogue.value(distributions[f["name"]], rdflib.DCTERMS.license) == (
            one and rdflib.URIRef(one)
        )
    assert communes["license"] == stated[store.minter.graph("territoires")] is not None
    twin = httpx.get(f"{url}/telechargements.csv").text
    assert (
        "territoires-communes.csv,Territoires : communes,text/csv," in twin
        and store.minter.graph("territoires") in twin
    )


def test_sparql_count_equals_void_triples(site):
    """Nothing about private graphs is public: not even the metadata graph's lines about them."""
    url, store = site
    void = rdflib.Graph().parse(data=httpx.get(url + "/.well-known/void").text, format="turtle")
    total = void.value(
        rdflib.URIRef(store.minter.base + "jeu-de-donnees"), rdflib.URIRef("http://rdfs.org/ns/void#triples")
    )
    answer = httpx.get(
        url + "/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    assert int(answer["results"]["bindings"][0]["n"]["value"]) == int(total)
    meta = httpx.get(
        url + "/sparql",
        params={"query": f"SELECT ?s WHERE {{ GRAPH <{store.meta_graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "text/csv"},
    ).text
    assert "/graph/prive/" not in meta and "/graph/" in meta


def test_the_territories_tables_give_each_level_above_in_its_own_column(base_iri, tmp_path):
    """territoires-communes.csv gave « 200067825 | 05 » in one cell (dansCodes): a researcher joins on the
    EPCI's code or the département's, each in its own column now, the région's too."""
    store = OxigraphStore(base_iri)
    m, igeo = store.minter, "http://rdf.insee.fr/def/geo#"
    region, departement = m.thing("region", "93"), m.thing("departement", "05")
    epci, commune = m.thing("epci", "200067825"), m.thing("commune", "05023")
    part = rdflib.DCTERMS.isPartOf
    store.update(
        f"""INSERT DATA {{ GRAPH <{m.graph("territoires")}> {{
        <{region}> a <{igeo}Region> ; <{igeo}codeINSEE> "93" ; <{igeo}nom> "PACA" .
        <{departement}> a <{igeo}Departement> ; <{igeo}codeINSEE> "05" ; <{igeo}nom> "Hautes-Alpes" ;
          <{part}> <{region}> .
        <{epci}> a <{igeo}Intercommunalite> ; <{igeo}codeINSEE> "200067825" ; <{igeo}nom> "CC" ;
          <{part}> <{departement}> .
        <{commune}> a <{igeo}Commune> ; <{igeo}codeINSEE> "05023" ; <{igeo}nom> "Briançon" ;
          <{CS}population> 11000 ; <{part}> <{departement}>, <{epci}> }} }}"""
    )
    folder = tmp_path / "dumps"
    manifest = Dumps(store, folder).build()

    def table(name: str) -> list[dict]:
        return list(csv.DictReader(io.StringIO((folder / f"v{manifest['version']}" / name).read_text())))

    row = {"iri": commune, "code": "05023", "nom": "Briançon", "population": "11000"}
    assert table("territoires-communes.csv") == [
        row | {"code_epci": "200067825", "code_departement": "05", "code_region": "93"}
    ]
    (of_epci,) = table("territoires-epci.csv")
    assert (of_epci["code_departement"], of_epci["code_region"]) == ("05", "93")
    assert table("territoires-departements.csv")[0]["code_region"] == "93"


def test_downloads_page_files_etag_and_ranges(site):
    url, store = site
    manifest = wait_for_downloads(url)
    assert manifest["version"] == store.version
    names = {f["name"] for f in manifest["files"]}
    assert {"communs-services.nq.gz", "projets.csv", "territoires-communes.csv", "lieux.csv"} <= names
    assert "graphe-territoires.ttl" in names and not any("prive" in n for n in names)
    page = httpx.get(url + "/telechargements")
    assert "projets.csv" in page.text and 'lang="fr"' in page.text
    r = httpx.get(url + "/telechargements/projets.csv")
    assert r.status_code == 200 and r.text.startswith("iri,label,axe,")
    etag = r.headers["etag"]
    assert httpx.get(url + "/telechargements/projets.csv", headers={"If-None-Match": etag}).status_code == 304
    # A client keeping only Last-Modified (wget -N, curl -z) was sent the whole file again.
    since = {"If-Modified-Since": r.headers["last-modified"]}
    assert httpx.get(url + "/telechargements/projets.csv", headers=since).status_code == 304
    earlier = {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    assert httpx.get(url + "/telechargements/projets.csv", headers=earlier).status_code == 200
    for ignored in ({**since, "If-None-Match": '"autre"'}, {"If-Modified-Since": "hier"}):  # RFC 9110
        assert httpx.get(url + "/telechargements/projets.csv", headers=ignored).status_code == 200
    part = httpx.get(url + "/telechargements/projets.csv", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == r.content[:10]
    assert httpx.get(url + "/telechargements/../../etc/passwd").status_code == 404
    assert httpx.get(url + "/telechargements/inconnu.csv").status_code == 404
    # A 404 like every other: a page for a browser, JSON that says which file for the rest.
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    lost = httpx.get(url + "/telechargements/inconnu.csv", headers=browser)
    assert lost.status_code == 404 and lost.headers["content-type"].startswith("text/html")
    assert "Pas de fichier « inconnu.csv »" in lost.text  # the route's message, in a page
    lost = httpx.get(url + "/telechargements/inconnu.csv", headers={"Accept": "application/json"})
    assert "inconnu.csv" in lost.json()["detail"]


def test_a_downloads_csv_is_offered_for_excel_as_a_lists_is(site):
    """``?format=excel`` was ignored (the comma CSV without BOM, which a French Excel shows in one column)."""
    url, _ = site
    wait_for_downloads(url)
    assert 'href="/telechargements/projets.csv?format=excel"' in httpx.get(url + "/telechargements").text
    for name in ("projets.csv", "data-inclusion/structures.csv"):
        plain = httpx.get(f"{url}/telechargements/{name}")
        excel = httpx.get(f"{url}/telechargements/{name}?format=excel", headers={"Range": "bytes=0-9"})
        assert excel.status_code == 200 and excel.content.startswith("\ufeff".encode()), name
        rows = list(csv.reader(io.StringIO(excel.content.decode("utf-8-sig")), delimiter=";"))
        expected = list(csv.reader(io.StringIO(plain.text)))
        assert [[re.sub(r'^="(0\d+)"$', r"\1", c) for c in row] for row in rows] == expected, name
        assert "accept-ranges" not in excel.headers and excel.headers["etag"] != plain.headers["etag"]
        assert excel.headers["content-disposition"].endswith('-excel.csv"')
        again = httpx.get(
            f"{url}/telechargements/{name}?format=excel", headers={"If-None-Match": excel.headers["etag"]}
        )
        assert again.status_code == 304
    for wrong in ("projets.csv?format=xlsx", "graphe-territoires.ttl?format=excel"):
        refused = httpx.get(f"{url}/telechargements/{wrong}")
        assert refused.status_code == 400 and "is not one of" in refused.text, wrong
    assert "csv, excel" in httpx.get(f"{url}/telechargements/projets.csv?format=xlsx").text


def test_answers_are_gzipped_for_a_client_that_takes_it_but_not_the_downloads_files(site):
    """/lieux.csv, VoID, /sparql's full SELECT (55 MB as CSV) went uncompressed: gzipped now when asked, the
    same bytes once decoded, a stream still a stream, the ETag still a 304. A download's file is served as
    it is (whole or in ranges under one ETag: a download resumed with If-Range got plain bytes after gzipped
    ones), and a .gz file is never compressed twice."""
    url = site[0]
    wait_for_downloads(url)
    listed = url + "/lieux.csv"
    plain = httpx.get(listed, headers={"Accept-Encoding": "identity"})
    zipped = httpx.get(listed, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers and plain.content.startswith(b"iri,")
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
    assert "Accept-Encoding" in zipped.headers["vary"]
    again = {"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    assert httpx.get(listed, headers=again).status_code == 304
    file = url + "/telechargements/lieux.csv"
    whole = httpx.get(file, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in whole.headers and whole.content.startswith(b"iri,nom,")
    part = httpx.get(
        file, headers={"Accept-Encoding": "gzip", "Range": "bytes=10-19", "If-Range": whole.headers["etag"]}
    )
    assert part.status_code == 206 and part.content == whole.content[10:20]
    nq_gz = url + "/telechargements/communs-services.nq.gz"
    dump = httpx.get(nq_gz, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in dump.headers and gzip.decompress(dump.content).startswith(b"<")
    void = httpx.get(url + "/.well-known/void", headers={"Accept-Encoding": "gzip", "Accept": "text/turtle"})
    assert void.headers["content-encoding"] == "gzip"
    everything = {"query": "SELECT * WHERE { ?s ?p ?o }"}
    with httpx.stream(
        "GET", url + "/sparql", params=everything, headers={"Accept": "text/csv", "Accept-Encoding": "gzip"}
    ) as streamed:
        assert streamed.headers["content-encoding"] == "gzip" and "content-length" not in streamed.headers
        body = streamed.read()
    whole = httpx.get(
        url + "/sparql", params=everything, headers={"Accept": "text/csv", "Accept-Encoding": "identity"}
    )
    assert len(body) > 1_000_000 and body == whole.content


def test_downloads_page_speaks_the_page_language_sizes_and_licences_for_people(site):
    """Titles in the page's language (the manifest's stay French, for machines), sizes in binary units
    with the language's decimal mark, licences by name linked to their text."""
    url, _ = site
    wait_for_downloads(url)
    french, english = (
        httpx.get(url + "/telechargements", params={"lang": lang}).text for lang in ("fr", "en")
    )
    assert "Jeu de données public complet" in french and "Graphe &lt;" in french
    assert "Complete public dataset" in english and "Graph &lt;" in english
    assert "Jeu de données" not in english and "Graphe" not in english
    assert re.search(r"<td>\d+,\d\u00a0(Kio|Mio)</td>", french) and "Kio" not in english
    assert re.search(r"<td>\d+\.\d\u00a0(KiB|MiB)</td>", english)
    licence = '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>'
    assert licence in english and ">https://creativecommons" not in english
    assert licence in httpx.get(url + "/catalogue").text


def test_an_in_memory_stores_downloads_go_with_the_server(base_iri, tmp_path, monkeypatch):
    """With no store folder to keep them beside, the files are built in a temporary folder: removed when
    the server stops (each test server and each restart over a remote store left one in /tmp). Whatever
    the store holds: an empty one, whose files are built at once."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("COMMUNS_DUMPS_DIR", raising=False)  # this module's site sets one
    with serve(OxigraphStore(base_iri), tmp_path / "app") as url:
        wait_for_downloads(url)
        assert [p.name for p in tmp_path.glob("communs-dumps-*/current.json")] == ["current.json"]
    assert not list(tmp_path.glob("communs-dumps-*"))


def test_a_downloads_etag_and_last_modified_change_only_with_its_bytes(
    base_iri, pages, tmp_path, monkeypatch
):
    """``"8-lieux.csv"`` became ``"9-lieux.csv"`` after an unrelated write, the same bytes: sync tools
    fetched the file again. Its ETag is its bytes' hash, its Last-Modified when they last changed."""
    monkeypatch.setenv("COMMUNS_DUMPS_DIR", str(tmp_path / "dumps"))
    store = pages
    with serve(store, tmp_path / "app") as url:
        first = wait_for_downloads(url)["version"]
        names = ("territoires-communes.csv", "communs-services.nq.gz")
        before = {n: httpx.get(f"{url}/telechargements/{n}") for n in names}
        time.sleep(1.1)  # a file written again would show a later second
        store.update(f'INSERT DATA {{ <{base_iri}id/note/y> <{RDFS_COMMENT}> "sans rapport" }}')
        deadline = time.monotonic() + 300
        while httpx.get(url + "/telechargements.json", timeout=60).json()["version"] == first:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        after = {n: httpx.get(f"{url}/telechargements/{n}") for n in names}
    same, changed = before[names[0]].headers, after[names[0]].headers
    assert changed["dataset-version"] != same["dataset-version"]
    assert (changed["etag"], changed["last-modified"]) == (same["etag"], same["last-modified"])
    assert after[names[1]].headers["etag"] != before[names[1]].headers["etag"]  # the dump holds the triple


FORMULA = '=HYPERLINK("http://evil.example/","Cliquez")'


def test_spreadsheet_csvs_do_not_run_formulas(base_iri, pages, tmp_path, monkeypatch):
    """A title a spreadsheet would run (OWASP "CSV injection") comes out behind a ' in the CSVs made for
    spreadsheets (list and search twins, downloads per class), a signed number as it is; SPARQL CSV
    results stay raw, as their format says."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("COMMUNS_DUMPS_DIR", raising=False)  # not this module's site's downloads
    store = pages
    doc, quoted = f"{base_iri}id/ressource/formule", FORMULA.replace('"', '\\"')
    store.update(
        f"""INSERT DATA {{ GRAPH <{store.minter.graph("essai")}> {{ <{doc}>
        a <http://schema.org/DigitalDocument> ; <http://www.w3.org/2000/01/rdf-schema#label> "{quoted}"@fr ;
        <http://purl.org/dc/terms/rights> "-5" }} }}"""
    )
    with serve(store, tmp_path / "app") as url:
        wait_for_index(url)  # the list and search twins
        wait_for_downloads(url)
        for path, params in (
            ("/ressources.csv", {}),
            ("/recherche.csv", {"q": "HYPERLINK"}),
            ("/telechargements/ressources.csv", {}),
        ):
            text = httpx.get(url + path, params=params, timeout=60).text
            row = next(r for r in csv.DictReader(io.StringIO(text)) if r["iri"] == doc)
            assert row.get("label", row.get("nom")) == "'" + FORMULA, path
        assert row["droits"] == "-5"
        query = f"SELECT ?l WHERE {{ <{doc}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
        raw = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": "text/csv"}).text
        assert list(csv.reader(io.StringIO(raw))) == [["l"], [FORMULA]]


def _cells(text: str) -> dict[str, dict[str, set[str]]]:
    """CSV rows by IRI, each multi-valued cell as a set (the order inside a cell is not a promise)."""
    return {
        row["iri"]: {k: set(v.split(" | ")) - {""} for k, v in row.items()}
        for row in csv.DictReader(io.StringIO(text))
    }


def test_projects_download_and_list_twin_agree(site):
    """A reuser who takes /telechargements/projets.csv and one who takes /projets.csv get the same table."""
    url, _ = site
    wait_for_downloads(url)
    download = httpx.get(url + "/telechargements/projets.csv").text
    twin = httpx.get(url + "/projets.csv", params={"limit": 10000}).text
    assert download.splitlines()[0] == twin.splitlines()[0]
    ours, theirs = _cells(download), _cells(twin)
    assert len(ours) >= 30 and ours == theirs
    assert any(row["annee"] for row in ours.values()) and any(row["departement"] for row in ours.values())


def test_each_download_holds_the_items_of_its_list(site):
    """/telechargements/ressources.csv held schema:CreativeWork alone while the list holds its subclasses
    (a report, a guide…): the download and the list must count the same items."""
    url, _ = site
    wait_for_downloads(url)
    for download, kind in (("ressources", "ressources"), ("evenements", "evenements"), ("lieux", "lieux")):
        rows = _cells(httpx.get(f"{url}/telechargements/{download}.csv").text)
        listed = httpx.get(f"{url}/{kind}.json", params={"limit": 10000}).json()["items"]
        assert len(rows) == len(listed) and set(rows) == {i["iri"] for i in listed}, kind
    assert len(rows) > 0 and any(r["nom"] for r in rows.values())


QUERIES = {
    "epci-commune": {"commune": "73054"},
    "financements-par-financeur": {},
    "territoires-usage": {},
}


def test_reuser_dump_gives_the_live_answers_and_void_count(site):
    url, store = site
    manifest = wait_for_downloads(url)
    raw = httpx.get(url + "/telechargements/communs-services.nq.gz").content
    text = gzip.decompress(raw).decode()
    assert PRIVATE_MARK not in text
    assert "/graph/prive/" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    void = rdflib.Graph().parse(data=httpx.get(url + "/.well-known/void").text, format="turtle")
    total = void.value(
        rdflib.URIRef(store.minter.base + "jeu-de-donnees"), rdflib.URIRef("http://rdfs.org/ns/void#triples")
    )
    assert int(total) == len(lines) == manifest["triples"]
    assert sum(1 for line in lines if DEFAULT_MARK in line and line.endswith('" .')) == 1  # no graph name
    default = next(f for f in manifest["files"] if f["name"] == "graphe-defaut.ttl")
    assert (
        default["triples"] == 1 and DEFAULT_MARK in httpx.get(url + "/telechargements/graphe-defaut.ttl").text
    )
    subsets = void.objects(
        rdflib.URIRef(store.minter.base + "jeu-de-donnees"), rdflib.URIRef(VOID_NS + "subset")
    )
    assert sum(int(void.value(s, rdflib.URIRef(VOID_NS + "triples"))) for s in subsets) == int(total)
    ds = rdflib.Dataset(default_union=True)
    ds.parse(io.StringIO(text), format="nquads")
    queries = nq.load_all()
    for name, params in QUERIES.items():
        q = queries[name]
        live = httpx.get(url + f"/api/{name}", params={**params, "format": "csv", "limit": 10000}).text
        bindings = {k: _rdflib(v) for k, v in nq.bindings(q, params, store.minter).items()}
        rows = ds.query(q.sparql, initBindings=bindings)
        names = [str(v) for v in rows.vars]
        got = sorted(tuple(_norm("" if r[n] is None else str(r[n])) for n in names) for r in rows)
        live_rows = list(csv.reader(io.StringIO(live)))
        assert live_rows[0] == names
        # Compared as sets: with several graphs as default graph, pyoxigraph repeats a triple stored in
        # two graphs (multiset), rdflib merges them (reported to the endpoint's owner).
        assert set(got) == {tuple(_norm(c) for c in r) for r in live_rows[1:]}, name
        assert got, name


def _rdflib(term: ox.NamedNode | ox.Literal) -> rdflib.term.Identifier:
    """rdflib's initBindings (VALUES written into the text makes rdflib's planner crawl)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=term.datatype.value)


def _norm(cell: str) -> str:
    """Numbers compare by value: engines differ on '75000' vs '75000.0' for a decimal sum."""
    try:
        return repr(float(cell))
    except ValueError:
        return cell


def test_a_corrupt_manifest_does_not_stop_the_next_build(base_iri, tmp_path):
    """Dumps.manifest() reads a corrupt current.json as none: a build replaces it instead of failing."""
    store = OxigraphStore(base_iri)
    store.replace_graph(store.minter.graph("essai"), [], GraphMeta("Essai", "essai.ttl"))
    (tmp_path / "current.json").write_text('{"version": 1, "fil', encoding="utf-8")
    assert dumps.build(store, tmp_path, 2)["version"] == 2
    assert json.loads((tmp_path / "current.json").read_text(encoding="utf-8"))["version"] == 2


def test_the_catalogue_is_the_same_bytes_for_the_same_version_after_a_restart(base_iri):
    # Its ETag is the store's version, a strong one: its blank nodes (statements, periods, distributions)
    # were fresh, randomly labelled, at each description, so a restart gave other bytes under the same tag.
    store = OxigraphStore(base_iri)
    store.replace_graph(store.minter.graph("essai"), [], GraphMeta("Essai", "essai.ttl"))
    bodies = set()
    for _ in range(2):
        catalog._cache.pop(store, None)  # what a restart loses
        triples, _ = catalog.describe(store)
        bodies.add(tuple(formats.serialize(triples, fmt) for fmt in formats.DESCRIPTION))
    assert len(bodies) == 1


def test_class_and_property_partitions_are_named_by_count_then_iri(base_iri):
    # A partition's IRI is its rank: ties were left to the store's order, so the same data named
    # « #classe-34 » owl:Ontology on Oxigraph server and schema:Report on the embedded store.
    store = OxigraphStore(base_iri)
    ex = "http://example.org/"
    triples = [
        ox.Triple(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(f"{ex}p{c}"), ox.NamedNode(f"{ex}C{c}"))
        for i, c in enumerate("qmzadkxbwe")
    ] + [
        ox.Triple(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(rdflib.RDF.type), ox.NamedNode(f"{ex}C{c}"))
        for i, c in enumerate("qmzadkxbwe")
    ]
    store.replace_graph(store.minter.graph("essai"), triples)
    data = rdflib.Graph().parse(
        data=formats.serialize(catalog.describe(store)[0], formats.TURTLE), format="turtle"
    )
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    for word, about, size in (
        ("classe", void["class"], void.entities),
        ("propriete", void.property, void.triples),
    ):
        ranked = []
        for i in itertools.count():
            part = rdflib.URIRef(f"{base_iri}jeu-de-donnees#{word}-{i}")
            if data.value(part, about) is None:
                break
            ranked.append((-int(data.value(part, size)), str(data.value(part, about))))
        assert len(ranked) >= 10 and ranked == sorted(ranked), word  # ten of one each: by IRI


def test_every_table_has_its_columns_whatever_the_data(site, base_iri, tmp_path):
    """ressources.csv was headed « iri,nom,classe,droits » until a contribution filled its other columns: a
    reuser's pipeline broke when the header changed. An empty store's tables have a full store's headers."""
    url, _ = site
    files = [f["name"] for f in wait_for_downloads(url)["files"] if f["name"].endswith(".csv")]
    empty = Dumps(OxigraphStore(base_iri), tmp_path).build()
    folder = tmp_path / f"v{empty['version']}"
    headers = {}
    for name in files:
        full = next(csv.reader(io.StringIO(httpx.get(f"{url}/telechargements/{name}").text)))
        headers[name] = next(csv.reader(io.StringIO((folder / name).read_text(encoding="utf-8"))))
        assert headers[name] == full, name
    columns = "iri nom classe type themes publics territoires lien licence droits creation modification"
    assert headers["ressources.csv"] == [*columns.split(), "publication"]  # README's


def test_a_harvester_finds_each_files_title_and_licence_and_each_datasets_date(site):
    """A national harvester found no title on the Turtle and N-Quads files, no date on the metadata graph's
    dataset, and the territorial reference under MIT, its code's licence: its data's is Licence Ouverte 2.0.
    The whole dataset mixes licences: its files state them as rights, each graph's file its own licence."""
    url, store = site
    g = rdflib.Graph().parse(data=httpx.get(url + "/catalogue.ttl").text, format="turtle")
    DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    for d in g.subjects(rdflib.RDF.type, DCAT.Distribution):
        assert g.value(d, rdflib.DCTERMS.title), g.value(d, DCAT.downloadURL)
        assert g.value(d, rdflib.DCTERMS.license) or g.value(d, rdflib.DCTERMS.rights), d
    default = rdflib.URIRef(store.minter.base + "jeu-de-donnees#graphe-par-defaut")  # no date written
    for d in set(g.subjects(rdflib.RDF.type, DCAT.Dataset)) - {default}:
        assert g.value(d, rdflib.DCTERMS.modified), d
    territories = rdflib.URIRef(store.minter.graph("territoires"))
    licence = rdflib.URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
    files = [f for f in g.objects(territories, DCAT.distribution)]
    assert [g.value(f, rdflib.DCTERMS.license) for f in files] == [licence]
    assert g.value(territories, rdflib.DCTERMS.license) == licence


def test_a_graphs_dataset_gives_its_sources_date_beside_its_load_time(base_iri):
    # A researcher read /graph/france-services: dct:modified, the load's time, and no date of the data,
    # whose source's (dct:issued, 1 August 2024) was only in the metadata graph.
    store = OxigraphStore(base_iri)
    graph = store.minter.graph("essai")
    thing = ox.Triple(ox.NamedNode(base_iri + "id/x"), ox.NamedNode(RDFS_COMMENT), ox.Literal("x"))
    store.replace_graph(graph, [thing], GraphMeta("Essai", "essai.ttl", issued=dt.date(2024, 8, 1)))
    data = rdflib.Graph().parse(
        data=formats.serialize(catalog.describe(store)[0], formats.TURTLE), format="turtle"
    )
    issued = data.value(rdflib.URIRef(graph), rdflib.DCTERMS.issued)
    assert issued is not None and issued.toPython() == dt.date(2024, 8, 1)


def test_the_sparql_service_claims_no_licence_of_the_data_it_serves(base_iri):
    # It said CC BY 4.0, while it serves graphs under Licence Ouverte and texts under none.
    data = rdflib.Graph().parse(
        data=formats.serialize(catalog.describe(OxigraphStore(base_iri))[0], formats.TURTLE), format="turtle"
    )
    service = rdflib.URIRef(base_iri + "sparql")
    assert (service, rdflib.RDF.type, DCAT.DataService) in data
    assert data.value(service, rdflib.DCTERMS.license) is None


def test_every_public_read_says_the_version_it_was_read_at_as_the_description_does(site):
    # Only /telechargements said Dataset-Version: a researcher citing a query, a resource or the
    # description had no version to name, and the description stated none.
    url, store = site
    version = str(store.version)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    for path, params in (
        ("/sparql", {"query": query}),
        ("/api/communes-departement", {"departement": "73"}),
        ("/id/commune/73054", {"format": "ttl"}),
        ("/id/commune/73054", {}),
        ("/.well-known/void", {}),
        ("/graph/territoires.ttl", {}),
        ("/projets.json", {}),
    ):
        r = httpx.get(url + path, params=params, timeout=60)
        assert r.status_code == 200 and r.headers.get("dataset-version") == version, path
        again = httpx.get(url + path, params=params, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.headers.get("dataset-version") == version, path
    void = rdflib.Graph().parse(data=httpx.get(url + "/.well-known/void").text, format="turtle")
    dataset = rdflib.URIRef(store.minter.base + "jeu-de-donnees")
    assert str(void.value(dataset, DCAT.version)) == version
    modified = void.value(dataset, rdflib.DCTERMS.modified).toPython()  # in UTC, as the page dates it
    about = html.unescape(httpx.get(url + "/a-propos", headers={"Accept-Language": "fr"}).text)
    assert f"Comm'un Services (ADRETS), version {version} du {modified.day} " in about


def test_the_pages_read_from_the_index_say_the_version_they_were_read_at(site):
    # A researcher citing /lieux or the home page had no Dataset-Version, which their .json twins sent.
    url, store = site
    wait_for_index(url)
    for path in ("/", "/lieux", "/projets", "/recherche?q=Chambéry", "/a-propos", "/sitemap.xml"):
        r = httpx.get(url + path, timeout=60)
        assert r.status_code == 200 and r.headers.get("dataset-version") == str(store.version), path


def test_the_dataset_names_the_shacl_shapes_it_conforms_to_and_they_dereference(site):
    # The ontology graph held 19 sh:NodeShape that nothing pointed to: /shapes was a 404, /def.ttl has none.
    url, store = site
    void = rdflib.Graph().parse(data=httpx.get(url + "/.well-known/void").text, format="turtle")
    dataset = rdflib.URIRef(store.minter.base + "jeu-de-donnees")
    standards = set(void.objects(dataset, rdflib.DCTERMS.conformsTo))
    assert len(standards) == 1
    shapes = httpx.get(url + "/" + str(standards.pop()).removeprefix(store.minter.base))
    assert shapes.status_code == 200 and shapes.headers["content-type"].startswith("text/turtle")
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert len(set(rdflib.Graph().parse(data=shapes.text, format="turtle").subjects(None, SH.NodeShape))) > 10
