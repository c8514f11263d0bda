"""The whole platform on real SPARQL servers: Oxigraph server and Virtuoso, each started on 127.0.0.1.

Each server gets the Alpine territorial reference, the ontology, the bundled sources (catalogue, report,
both national lists of places) and the page fixtures, loaded through ``graph.remote.RemoteStore``. Then
the platform's own tests run on it unchanged — pages and dereferencing, named queries, contributions —
imported from their modules, plus what only a remote store can get wrong: privacy on a server that
merges ``FROM`` into the protocol's dataset, real SPARQL clients through ``communs serve --store
sparql+http://…``, and a server going away and coming back.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib

# The platform's own tests, collected here again with this module's fixtures (a remote store).
import test_contributions as tc
from conftest import load_reference, wait_until
from contrib_helpers import csrf_of, form_data
from fastapi.testclient import TestClient
from pages_helpers import FIXTURES, serve
from rdflib.compare import isomorphic
from remote_servers import SparqlServer, available, virtuoso_ini
from sparql_helpers import free_port, stop_process
from SPARQLWrapper import JSON, SPARQLWrapper
from test_named_queries import (  # noqa: F401
    alpine,
    load_bundle,
    test_every_operation_answers_its_example,
    test_formats_and_paging,
    test_france_services_open_saturday_morning,
    test_injection_attempts_are_values_or_400,
    test_projects_of_a_departement_include_its_communes_and_epci,
    test_the_directory_gives_a_day_s_intervals_in_the_order_of_the_day_and_a_closed_day_alike,
    test_the_directory_of_a_commune_s_places_says_how_to_reach_them,
)
from test_pages_http import (  # noqa: F401
    test_browsers_get_html_and_unknown_iris_404_in_the_asked_format,
    test_conneg_gives_the_description_in_every_format,
    test_lists_facets_and_twins,
    test_resource_page_renders_labels_texts_links_and_escapes,
    test_search_is_accent_and_case_insensitive,
    test_territory_pages_roll_up_with_indirect_marks,
)

from graph import remote
from graph.contributions import Contributions
from graph.namespaces import Minter
from graph.remote import RemoteStore, ResultsCut
from graph.store import GraphMeta, StoreUnavailable
from loaders import rdf as rdf_loader
from loaders import territories

ROOT = Path(__file__).resolve().parent.parent
SECRET = "secret.person@example.org"  # in tests/fixtures/pages/private.ttl
PRIVATE = "https://data.adrets-asso.fr/graph/prive/essai"
DISTANT = "https://data.adrets-asso.fr/id/projet/distant"
BUNDLE_BASE = "https://donnees.example.org/"


def fill_pages(store: RemoteStore, territory_triples: list) -> None:
    """As tests/pages_helpers.py builds its store: the reference (cut to the Alps) and the page fixtures."""
    load_reference(store, alpine(territory_triples, store.minter.base))
    for name, graph in (("catalogue.ttl", store.minter.graph("essai")), ("private.ttl", None)):
        target = graph or store.minter.private_graph("essai")
        for load in rdf_loader.build(FIXTURES / name, store.minter, graph=target).graphs:
            store.replace_graph(load.graph, load.triples, load.meta if graph else GraphMeta("privé", name))


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request, tmp_path_factory):
    why = available(request.param)
    if why:
        pytest.skip(why)
    srv = SparqlServer(request.param, tmp_path_factory.mktemp(request.param))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def store(server, base_iri, territory_triples):
    remote = RemoteStore(base_iri, server.location)
    fill_pages(remote, territory_triples)
    yield remote
    remote.close()


@pytest.fixture(scope="module")
def url(store, tmp_path_factory):
    with serve(store, tmp_path_factory.mktemp("pages")) as address:
        yield address


@pytest.fixture(scope="module")
def bundle_territories() -> list:
    """The country's territories under ``BUNDLE_BASE``, built once for both servers."""
    return territories.build(territories.REFERENCE_DIR, Minter(BUNDLE_BASE)).graphs[0].triples


@pytest.fixture(scope="module")
def api_store(server, bundle_territories):
    """The bundled sources under a second base IRI on the same server: a dataset of its own (a remote
    store reads only the graphs under its base), so the page fixtures and the real catalogue never mix."""
    remote = RemoteStore(BUNDLE_BASE, server.location)
    load_bundle(remote, bundle_territories)
    yield remote
    remote.close()


@pytest.fixture(scope="module")
def api_url(api_store, tmp_path_factory):
    with serve(api_store, tmp_path_factory.mktemp("api")) as address:
        yield address


@pytest.fixture(scope="module")
def spec(api_url) -> dict:
    return httpx.get(api_url + "/openapi.json").json()


@pytest.fixture
def app(store, tmp_path):
    return tc.make_app(store, tmp_path, submit_rate=1000)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


# --- what only a remote store can get wrong ------------------------------------------------------------
def test_the_dataset_is_spelled_out_and_private_graphs_stay_private(store, server):
    assert store.dialect.name == server.kind
    public = store.public_graphs()
    assert public and all(store.minter.is_public_graph(g) for g in public)
    assert any("/prive/" in g for g in store.graphs())
    dump = "".join(str(q) for g in public for q in store.quads(g))
    assert SECRET not in dump
    assert store.ask(f'ASK {{ ?s ?p "{SECRET}" }}', public=False)
    assert not store.ask(f'ASK {{ ?s ?p "{SECRET}" }}')
    # Nor a private graph's name, label or size in the public metadata graph.
    private_meta = (
        f"ASK {{ GRAPH <{store.meta_graph}> {{ ?g ?p ?o FILTER(CONTAINS(STR(?g), '/graph/prive/')) }} }}"
    )
    assert not store.ask(private_meta, public=False)
    assert store.ask(f"ASK {{ GRAPH <{store.private_meta_graph}> {{ ?g ?p ?o }} }}", public=False)
    # The version lives in the server: a second client sees the first one's writes.
    other = RemoteStore(store.minter.base, server.location)
    before = other.version
    store.replace_graph(store.minter.graph("essai-version"), [])
    wait_until(lambda: other.version > before, 10, "the other client's version to move")
    # A change to private graphs only (a proposal) moves nothing derived from the public ones.
    heard: list[int] = []

    def listener(graphs: list[str]) -> None:
        heard.append(1)

    store.listeners.append(listener)
    before = other.version
    private = store.minter.private_graph("essai-version")
    store.update(
        f'INSERT DATA {{ GRAPH <{private}> {{ <http://example.org/p> <http://example.org/m> "m" }} }}'
    )
    time.sleep(1.1)
    assert (other.version, heard) == (before, []) and store.ask(
        'ASK { <http://example.org/p> <http://example.org/m> "m" }', public=False
    )
    store.listeners.remove(listener)
    other.close()


def test_a_large_graph_replaces_the_old_one_at_once_on_virtuoso(store, server):
    """Virtuoso's graph store PUT is no transaction: one of the whole territories left half of them
    written and the server wedged. There a graph is staged in a private graph, a graph store POST per
    ``write_chunk`` triples, then moved in place with its metadata. The chunk is lowered to
    40 here: readers see the old graph until the move, then the new one; triples sharing a blank node
    stay one node; what an interrupted load left staged is not published, and the next load drops it."""
    if server.kind != "virtuoso":
        pytest.skip("Oxigraph server replaces a graph in one PUT, one transaction")
    assert store.dialect.write_chunk == 20_000
    base, graph = store.minter.base, store.minter.graph("essai-remplacement")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    comment = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
    old = [
        ox.Triple(ox.NamedNode(f"{base}id/projet/r-{i}"), label, ox.Literal(f"ancien {i}")) for i in range(20)
    ]
    new = [
        ox.Triple(ox.NamedNode(f"{base}id/projet/r-{i}"), label, ox.Literal(f"nouveau {i}"))
        for i in range(250)
    ]
    big = ox.BlankNode()
    new += [ox.Triple(big, label, ox.Literal(f"nœud {i}")) for i in range(50)]
    for i in range(5):
        node = ox.BlankNode()
        new += [
            ox.Triple(node, label, ox.Literal(f"anonyme {i}")),
            ox.Triple(node, comment, ox.Literal(f"c {i}")),
        ]
    staging = store.staging_graph(graph)
    reader = RemoteStore(base, server.location)
    seen: list[int] = []
    query_path = httpx.URL(store.query_url).path

    def observe(response: httpx.Response) -> None:
        request = response.request  # each write: the updates and the graph store POSTs
        if request.method == "POST" and request.url.path != query_path and response.is_success:
            seen.append(reader.count(graph))

    store.dialect.write_chunk = 40
    try:
        store.replace_graph(graph, old, GraphMeta("essai", "test"))
        store.update(
            f'INSERT DATA {{ GRAPH <{staging}> {{ <{base}id/projet/reste> <{label.value}> "reste" }} }}'
        )
        store.client.event_hooks["response"] = [observe]
        assert store.replace_graph(graph, new, GraphMeta("essai", "test")) == 310
        store.client.event_hooks["response"] = []
        assert len(seen) >= 9 and set(seen[:-1]) == {20} and seen[-1] == 310
        read = [q.triple for q in store.quads(graph)]
        assert sorted(t.object.value for t in read) == sorted(t.object.value for t in new)
        sizes = sorted(sum(t.subject == s for t in read) for s in {t.subject for t in read})
        assert sizes == [1] * 250 + [2] * 5 + [50]
        assert graph in store.public_graphs() and staging not in store.graphs()
        assert not store.ask('ASK { ?s ?p "reste" }', public=False)
        meta = f"ASK {{ GRAPH <{store.meta_graph}> {{ <{graph}> <http://rdfs.org/ns/void#triples> 310 }} }}"
        assert store.ask(meta)
    finally:
        store.client.event_hooks["response"] = []
        store.dialect.write_chunk = 20_000
        reader.close()


def test_two_loads_of_one_graph_at_once_never_publish_half_of_either_on_virtuoso(store, server):
    """Two processes loading one graph at once (here a second store, loading in the middle of the first's
    load): each stages in its own graph, so neither drops nor moves the other's half-filled one, and the
    last move wins, whole."""
    if server.kind != "virtuoso":
        pytest.skip("Oxigraph server replaces a graph in one PUT, one transaction")
    base, graph = store.minter.base, store.minter.graph("essai-concurrence")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")

    def version(name: str, n: int) -> list[ox.Triple]:
        return [
            ox.Triple(ox.NamedNode(f"{base}id/projet/c-{i}"), label, ox.Literal(f"{name} {i}"))
            for i in range(n)
        ]

    first, second = version("premier", 200), version("second", 120)
    other = RemoteStore(base, server.location)
    gsp_path = httpx.URL(store.dialect.gsp_url).path
    posts: list[int] = []

    def meanwhile(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path == gsp_path:
            posts.append(1)
            if len(posts) == 1:  # the first store's first chunk is staged: the second loads all of its own
                assert other.replace_graph(graph, second, GraphMeta("essai", "second")) == 120

    store.dialect.write_chunk = other.dialect.write_chunk = 40
    try:
        store.client.event_hooks["response"] = [meanwhile]
        assert store.replace_graph(graph, first, GraphMeta("essai", "premier")) == 200
        store.client.event_hooks["response"] = []
        assert len(posts) == 5
        read = sorted(q.triple.object.value for q in store.quads(graph))
        assert read == sorted(t.object.value for t in first)
        meta = f"ASK {{ GRAPH <{store.meta_graph}> {{ <{graph}> <http://rdfs.org/ns/void#triples> 200 }} }}"
        assert store.ask(meta)
    finally:
        store.client.event_hooks["response"] = []
        store.dialect.write_chunk = 20_000
        other.close()


KILLED_LOAD = """
import sys
import pyoxigraph as ox
from graph.remote import RemoteStore
base, location, graph = sys.argv[1:]
store = RemoteStore(base, location)
store.dialect.write_chunk = 100
label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
triples = [
    ox.Triple(ox.NamedNode(f"{base}id/projet/t-{i}"), label, ox.Literal(f"tué {i}")) for i in range(10**5)
]
store.replace_graph(graph, triples)
"""


KILLED_TRIPLES = 'ASK { ?s ?p ?o FILTER(STRSTARTS(STR(?o), "tué ")) }'


def test_a_killed_load_s_staging_graph_is_dropped_by_a_later_load_on_virtuoso(store, server, monkeypatch):
    """A load whose process is killed leaves its staging graph behind: private (never in a public
    answer), then dropped by a later load once it has written nothing for ``STAGING_STALE`` seconds,
    while the staging graph of a live load, written to a moment ago, is left to it."""
    if server.kind != "virtuoso":
        pytest.skip("Oxigraph server replaces a graph in one PUT, one transaction")
    base, killed = store.minter.base, store.minter.graph("essai-interrompu")
    args = [sys.executable, "-c", KILLED_LOAD, base, server.location, killed]
    proc = subprocess.Popen(args, cwd=ROOT, stderr=subprocess.PIPE)

    def staged() -> list[str]:
        return [g for g in store.graphs() if "/graph/prive/chargement/" in g]

    try:
        deadline = time.monotonic() + 60
        while not staged():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the load staged nothing"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    left = staged()
    assert left and store.count(left[0]) > 0
    assert store.ask(KILLED_TRIPLES, public=False)
    assert not store.ask(KILLED_TRIPLES) and killed not in store.public_graphs()

    monkeypatch.setattr(remote, "STAGING_STALE", 2.0, raising=False)
    time.sleep(2.5)
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    live, other_graph = store.minter.graph("essai-vivant"), store.minter.graph("essai-autre")
    triples = [
        ox.Triple(ox.NamedNode(f"{base}id/projet/v-{i}"), label, ox.Literal(f"vivant {i}"))
        for i in range(200)
    ]
    other = RemoteStore(base, server.location)
    gsp_path = httpx.URL(store.dialect.gsp_url).path
    during: list[list[str]] = []

    def meanwhile(response: httpx.Response) -> None:
        if response.request.method == "POST" and response.request.url.path == gsp_path and not during:
            during.append(staged())  # the live load's staging graph, half-filled: another load starts
            other.replace_graph(other_graph, triples[:3])
            during.append(staged())

    store.dialect.write_chunk = 40
    try:
        store.client.event_hooks["response"] = [meanwhile]
        assert store.replace_graph(live, triples, GraphMeta("essai", "vivant")) == 200
        store.client.event_hooks["response"] = []
        assert len(during[0]) == 1 and during[0][0] not in left and during[1] == during[0]
        assert sorted(q.triple.object.value for q in store.quads(live)) == sorted(
            t.object.value for t in triples
        )
        assert staged() == [] and not store.ask(KILLED_TRIPLES, public=False)
        assert killed not in store.graphs()
    finally:
        store.client.event_hooks["response"] = []
        store.dialect.write_chunk = 20_000
        other.close()


@contextmanager
def communs_serve(location: str, tmp: Path, ready: str = "/") -> Iterator[str]:
    """A real `communs serve --store sparql+http://…` process (the CLI path), with an update token, once
    ``ready`` answers 200; stopped on the way out, whatever happened (a start that timed out too)."""
    port = free_port()
    env = {
        **os.environ,
        "COMMUNS_UPDATE_TOKEN": "jeton-distant",
        "COMMUNS_SECRET_KEY": "r" * 32,
        "COMMUNS_ACCOUNTS_DB": str(tmp / "comptes.sqlite"),
        "COMMUNS_INDEX_DB": str(tmp / "index.sqlite"),
        "COMMUNS_DUMPS_DIR": str(tmp / "dumps"),  # not the checkout's var/dumps-<hash>
        "COMMUNS_UPLOADS_DIR": str(tmp / "uploads"),
    }
    cmd = [sys.executable, "-m", "api.cli", "serve", "--store", location, "--port", str(port)]
    with (tmp / "serve.log").open("w") as log:
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(address + ready, timeout=60).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "communs serve did not start"
            time.sleep(0.3)
        yield address
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def served(server, store, tmp_path_factory):
    with communs_serve(server.location, tmp_path_factory.mktemp("served")) as address:
        yield address


def test_a_named_query_reads_no_deeper_than_virtuoso_sorts(server, api_url):
    """Virtuoso sorts at most 10,000 rows (its MaxSortedTopRows): a named query's download, the whole answer
    up to 10,000 rows and one more to tell whether more follow, was refused (SR353) whatever its rows; it
    reads 9,999 there, and a page past them is a 400 that says why, not a server error."""
    url = api_url + "/api/communes-departement"
    assert httpx.get(url, params={"departement": "05", "format": "csv"}, timeout=60).status_code == 200
    deep = httpx.get(url, params={"departement": "05", "offset": "9999"}, timeout=60)
    if server.kind == "virtuoso":
        assert deep.status_code == 400 and "sorts at most 10000 rows" in deep.json()["detail"], deep.text
    else:
        assert deep.status_code == 404 and "past the last result" in deep.json()["detail"], deep.text


def test_a_restarted_server_reads_its_index_from_disk(server, store, tmp_path):
    # The index of a remote store is kept in a file (COMMUNS_INDEX_DB, else var/index-<hash>.sqlite): a
    # restart opens it at the server's version instead of reading every list again.
    # A write made to the server while no platform process ran is caught up by the next start.
    logs, totals = [], []
    for run in range(2):
        with communs_serve(server.location, tmp_path, ready="/projets.json") as address:
            assert httpx.get(address + "/recherche.json", params={"q": "saisonniers"}).json()["total"] > 0
            deadline = time.monotonic() + 30
            while run and httpx.get(address + "/projets.json").json()["total"] != totals[0] + 1:
                assert time.monotonic() < deadline, "a write made while the platform was stopped went unseen"
                time.sleep(0.5)
            totals.append(httpx.get(address + "/projets.json").json()["total"])
        logs.append((tmp_path / "serve.log").read_text())
        # Closed on the way out: its WAL folded into it, the file alone on disk.
        assert not (tmp_path / "index.sqlite-wal").exists()
        behind(store, "INSERT" if run == 0 else "DELETE")
    assert "index built whole" in logs[0]
    assert "index built whole" not in logs[1], logs[1][-2000:]


def test_real_clients_through_communs_serve(served):
    sw = SPARQLWrapper(served + "/sparql")
    sw.setReturnFormat(JSON)
    sw.setQuery(
        "SELECT (COUNT(*) AS ?n) WHERE { ?c a <http://rdf.insee.fr/def/geo#Commune> ; "
        "<http://purl.org/dc/terms/isPartOf> <https://data.adrets-asso.fr/id/departement/73> }"
    )
    communes = int(sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"])
    assert communes > 250  # Savoie's current communes (and its delegated ones)
    sw.setQuery("ASK { <https://data.adrets-asso.fr/id/commune/73054> ?p ?o }")
    assert sw.queryAndConvert()["boolean"] is True  # Virtuoso's one-row ASK comes back as a boolean
    g = rdflib.Graph(store="SPARQLStore", identifier=None)
    g.open(served + "/sparql")
    rows = list(g.query("SELECT ?l WHERE { <https://data.adrets-asso.fr/id/commune/73054> rdfs:label ?l }"))
    assert [str(r[0]) for r in rows] == ["Bourg-Saint-Maurice"]
    r = httpx.get(
        served + "/sparql",
        params={"query": "CONSTRUCT WHERE { <https://data.adrets-asso.fr/id/commune/73054> ?p ?o }"},
        headers={"Accept": "application/ld+json"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    parsed = rdflib.Graph().parse(data=r.content, format="json-ld")
    assert len(parsed) > 5
    csv = httpx.get(
        served + "/sparql",
        params={"query": "SELECT ?s WHERE { ?s a <http://schema.org/Project> }"},
        headers={"Accept": "text/csv"},
    )
    assert csv.status_code == 200 and csv.text.startswith("s\r\n")


def test_a_syntax_error_is_placed_and_explained_as_on_the_embedded_store(served):
    """The server's own words came back (« the SPARQL server rejected the request: … » on Virtuoso, its
    parser's dump on Oxigraph): a reader whose client adds no prefixes was not told which to add."""
    r = httpx.get(served + "/sparql", params={"query": "SELECT ?p WHERE { ?p a schema:Project }"})
    assert r.status_code == 400 and r.text == (
        "invalid SPARQL: prefix schema: (at 1:24) is not declared: add PREFIX schema: <http://schema.org/>\n"
    )
    r = httpx.get(served + "/sparql", params={"query": "SELEC ?s WHERE { ?s ?p ?o }"})
    assert r.status_code == 400 and "unknown keyword 'SELEC' at 1:1" in r.text


@pytest.mark.parametrize(
    "query",
    [
        f'SELECT * WHERE {{ GRAPH ?g {{ ?s ?p "{SECRET}" }} }}',
        f'SELECT * FROM NAMED <{PRIVATE}> WHERE {{ GRAPH ?g {{ ?s ?p "{SECRET}" }} }}',
        f'SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p "{SECRET}" }} }}',
        f'SELECT * FROM <{PRIVATE}> WHERE {{ ?s ?p "{SECRET}" }}',
        f'BASE <{PRIVATE[:-5]}> SELECT * FROM <essai> WHERE {{ ?s ?p "{SECRET}" }}',
        f'PREFIX p: <{PRIVATE[:-5]}> SELECT * FROM p:essai WHERE {{ ?s ?p "{SECRET}" }}',
        f'SELECT * WHERE {{ ?s ?p "{SECRET}" }}',
        f"define input:default-graph-uri <{PRIVATE}> SELECT * WHERE {{ ?s ?p ?o }}",
        'SELECT * WHERE { ?s ?p ?o FILTER(bif:contains(?o, "secret")) }',
    ],
)
def test_no_query_reaches_the_private_graph(served, query):
    for extra in ({}, {"named-graph-uri": "https://data.adrets-asso.fr/graph/prive/essai"}):
        r = httpx.get(served + "/sparql", params={"query": query, **extra}, headers={"Accept": "text/csv"})
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:  # (a 400 quotes the query, which holds the secret)
            assert SECRET not in r.text
            assert r.text.strip().count("\n") == 0, (extra, r.text)  # a header, no row


def test_updates_and_graph_store_go_through_with_the_token(served, store):
    graph = "https://data.adrets-asso.fr/graph/essai-distant"
    auth = {"Authorization": "Bearer jeton-distant"}
    body = f'<{DISTANT}> <http://www.w3.org/2000/01/rdf-schema#label> "Distant"@fr .'
    assert (
        httpx.put(
            f"{served}/store",
            params={"graph": graph},
            content=body,
            headers={"Content-Type": "application/n-triples"},
        ).status_code
        == 401
    )
    r = httpx.put(
        f"{served}/store",
        params={"graph": graph},
        content=body,
        headers={**auth, "Content-Type": "application/n-triples"},
    )
    assert r.status_code == 201, r.text
    r = httpx.post(
        f"{served}/sparql",
        data={
            "update": f'INSERT DATA {{ GRAPH <{graph}> {{ <{DISTANT}> <http://schema.org/name> "Nom" }} }}'
        },
        headers=auth,
    )
    assert r.status_code == 204, r.text
    got = httpx.get(f"{served}/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert got.status_code == 200 and '"Distant"@fr' in got.text and '"Nom"' in got.text
    assert (
        httpx.get(f"{served}/store", params={"graph": store.minter.private_graph("essai")}).status_code == 404
    )
    page = httpx.get(f"{served}/id/projet/distant", headers={"Accept": "text/turtle"})
    assert page.status_code == 200 and "Distant" in page.text  # pages see the write at once
    assert httpx.delete(f"{served}/store", params={"graph": graph}, headers=auth).status_code == 204


def test_a_contribution_accepted_shows_in_sparql_and_dumps(client, app, store):
    page = client.get("/ressources/proposer")
    r = client.post(
        "/ressources/proposer", data=form_data(csrf_token=csrf_of(page.text)), follow_redirects=False
    )
    assert r.status_code == 303, r.text
    token = r.headers["location"].split("/suivi/")[1].split("?")[0]
    rid = Contributions(store, b"").by_token(token)
    app.state.accounts.add("modo", "un-mot-de-passe-long", "moderateur", "Modo")
    login = client.get("/connexion")
    client.post(
        "/connexion",
        data={
            "csrf_token": csrf_of(login.text),
            "identifiant": "modo",
            "mot_de_passe": "un-mot-de-passe-long",
        },
    )
    mod = client.get(f"/moderation/{rid}")
    client.post(f"/moderation/{rid}", data={"csrf_token": csrf_of(mod.text), "action": "accepter"})
    iri = store.minter.thing("ressource", rid)
    r = client.get(
        "/sparql",
        params={"query": f"SELECT ?t WHERE {{ <{iri}> <http://schema.org/name> ?t }}"},
        headers={"Accept": "text/csv"},
    )
    assert "Guide des saisonniers" in r.text
    assert client.get(f"/id/ressource/{rid}").status_code == 200
    deadline = time.monotonic() + 15  # lists and roll-ups are rebuilt in the background: within seconds
    while rid not in client.get("/id/departement/73").text:
        assert time.monotonic() < deadline, "the accepted resource never reached its département's page"
        time.sleep(0.5)


def test_a_server_that_goes_away_gives_503_then_recovers(server, store, url):
    assert httpx.get(url + "/projets", timeout=30).status_code == 200
    deadline = time.monotonic() + 120  # the downloads, built in the background: still served while it is down
    while not (files := httpx.get(url + "/telechargements.json", timeout=30).json()["files"]):
        assert time.monotonic() < deadline, "the downloads were never built"
        time.sleep(0.5)
    server.stop()
    try:
        time.sleep(1.1)  # past the second during which a version read from the server is trusted
        r = httpx.get(f"{url}/telechargements/{files[0]['name']}", timeout=30)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"  # was a 503
        # The web API answers its clients' */* in JSON, and a named query says 503 (was a 400: the request
        # was not wrong), as the pages do.
        r = httpx.get(url + "/api/lieux-territoire", params={"territoire": "73"}, timeout=30)
        assert r.status_code == 503 and r.headers["retry-after"] and r.json()["error"] == "unavailable"
        asked = {"queries": json.dumps({"q0": {"query": "Chambéry", "type": "commune"}})}
        r = httpx.get(url + "/reconcile", params=asked, timeout=30)
        assert r.status_code in (200, 503) and r.json()  # its names may still be in memory: JSON either way
        time.sleep(1.1)  # past the second during which a version read from the server is trusted
        started = time.monotonic()
        r = httpx.get(url + "/id/projet/tremplin-saison", headers={"Accept": "text/html"}, timeout=30)
        assert r.status_code == 503 and "indisponible" in r.text and r.headers["retry-after"]
        r = httpx.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}, timeout=30)
        assert r.status_code == 503 and "SPARQL server" in r.text
        r = httpx.get(url + "/id/projet/tremplin-saison", headers={"Accept": "application/json"}, timeout=30)
        assert r.json()["error"] == "unavailable"
        assert time.monotonic() - started < 10  # answered, never hung
        with pytest.raises(StoreUnavailable):
            store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    finally:
        server.start()
    time.sleep(1.1)  # past the short "down" window
    assert httpx.get(url + "/projets", timeout=30).status_code == 200
    assert store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert ox.NamedNode(store.minter.graph("essai")).value in store.public_graphs()


def behind(store: RemoteStore, operation: str) -> None:
    """A project written to (``INSERT``) or deleted from (``DELETE``) the server by a SPARQL client of its
    own, not through the platform."""
    triples = (
        f"<{store.minter.base}id/projet/pangolin-qa> a <http://schema.org/Project> ; "
        '<http://www.w3.org/2000/01/rdf-schema#label> "Projet Pangolin QA"@fr ; '
        f"<http://purl.org/dc/terms/spatial> <{store.minter.base}id/commune/73054>"
    )
    update = f"{operation} DATA {{ GRAPH <{store.minter.graph('essai')}> {{ {triples} }} }}"
    r = httpx.post(store.dialect.update_url, data={"update": update}, auth=store.dialect.auth)
    assert r.status_code < 300, r.text


def test_a_write_made_behind_the_platform_s_back_is_noticed(server, store, url):
    # A SPARQL client writing to the server itself, not through the platform, tells it nothing: its look at
    # the public graphs' sizes notices it within seconds, and the version moves as for any write.
    graph, meta = store.minter.graph("essai"), store.meta_graph
    stated = f"SELECT ?n WHERE {{ GRAPH <{meta}> {{ <{graph}> <http://rdfs.org/ns/void#triples> ?n }} }}"

    def caught_up(total: int, found: int, etag: str) -> None:
        deadline = time.monotonic() + 30
        while (
            httpx.get(url + "/projets.json", timeout=30).json()["total"] != total
            or httpx.get(url + "/recherche.json", params={"q": "pangolin"}, timeout=30).json()["total"]
            != found
        ):
            assert time.monotonic() < deadline, "a write made behind the platform's back went unnoticed"
            time.sleep(0.5)
        page = httpx.get(url + "/id/commune/73054", headers={"Accept": "text/turtle", "If-None-Match": etag})
        assert page.status_code == 200  # the version moved: an ETag of before no longer holds
        assert int(store.select(stated)[0]["n"].value) == store.count(graph)  # the catalogue's figure

    projects = httpx.get(url + "/projets.json", timeout=30).json()["total"]
    etag = httpx.get(url + "/id/commune/73054", headers={"Accept": "text/turtle"}).headers["etag"]
    behind(store, "INSERT")
    caught_up(projects + 1, 1, etag)
    etag = httpx.get(url + "/id/commune/73054", headers={"Accept": "text/turtle"}).headers["etag"]
    behind(store, "DELETE")
    caught_up(projects, 0, etag)


# Last, since they add resources that the page tests above would count: pytest runs a module's tests in
# the order their names appear in it.
test_proposal_with_file_waits_unseen_then_is_accepted_on_its_territory = (
    tc.test_proposal_with_file_waits_unseen_then_is_accepted_on_its_territory
)
test_edit_accept_history_revert_delete_restore = tc.test_edit_accept_history_revert_delete_restore
test_rejection_reason_reaches_the_contributor_page = tc.test_rejection_reason_reaches_the_contributor_page
test_contributor_email_is_in_no_public_answer = tc.test_contributor_email_is_in_no_public_answer
test_script_in_a_title_is_shown_as_text = tc.test_script_in_a_title_is_shown_as_text


def test_a_server_that_cuts_long_answers_is_read_in_pages(tmp_path, base_iri):
    """Virtuoso cuts answers (at 1,048,576 rows whatever its ResultSetMaxRows: the 20M-quad start-up
    stopped there); here it cuts at 12, so the 305 labels are read in 28 pages of 11, checked against
    the server's counts."""
    why = available("virtuoso")
    if why:
        pytest.skip(why)
    srv = SparqlServer("virtuoso", tmp_path)
    (tmp_path / "db").mkdir()
    (tmp_path / "virtuoso.ini").write_text(virtuoso_ini(tmp_path / "db", free_port(), srv.port, max_rows=12))
    srv.start()
    store = RemoteStore(base_iri, srv.location)
    try:
        label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
        named = [(ox.NamedNode(f"{base_iri}id/projet/parts-{i}"), f"Projet {i}") for i in range(300)]
        blank = [(ox.BlankNode(), f"Anonyme {i}") for i in range(5)]
        triples = [ox.Triple(s, label, ox.Literal(v)) for s, v in named + blank]
        graph = f"{base_iri}graph/essai-parts"
        store.replace_graph(graph, triples, GraphMeta("essai", "test"))
        query = f"SELECT ?x ?v WHERE {{ GRAPH <{graph}> {{ ?x <{label.value}> ?v }} }}"
        with pytest.raises(ResultsCut):
            store.select(query)
        rows = store.scan(query, ("x", "v"))
        assert sorted(v.value for _, v in rows) == sorted(v for _, v in named + blank)
        assert sum(isinstance(x, ox.BlankNode) for x, _ in rows) == 5
        assert len(set(rows)) == 305
        # The cut is remembered: a list shorter than it is then read whole after its count.
        short = f'SELECT ?x WHERE {{ GRAPH <{graph}> {{ ?x <{label.value}> "Projet 7" }} }}'
        assert store.scan(short, ("x",)) == [(named[7][0],)]
    finally:
        store.close()
        srv.stop()


def test_a_graph_read_in_parts_has_each_triple_once_grouped_by_subject(server):
    """Virtuoso answers no graph read of 2.5M triples ("The result vector is too large", measured by
    hand), so its dialect reads graphs above a million triples in parts. The part is lowered to 40 here
    (on Oxigraph server too): 610 triples, blank nodes among them, come back as the server's own CONSTRUCT
    gives them, each once, as many as it counts, each subject's together (Virtuoso's own order is by
    predicate: its Turtle downloads came out flat), in dumps too. Under a base of its own: a dataset
    apart on the module's server (a remote store reads only the graphs under its base)."""
    base_iri = "https://parties.example.org/"
    store = RemoteStore(base_iri, server.location)
    try:
        assert store.dialect.graph_page == (1_000_000 if server.kind == "virtuoso" else None)
        store.dialect.graph_page = 40
        label, comment = (
            ox.NamedNode(f"http://www.w3.org/2000/01/rdf-schema#{p}") for p in ("label", "comment")
        )
        subjects = [ox.NamedNode(f"{base_iri}id/projet/p-{i}") for i in range(300)]
        subjects += [ox.BlankNode() for _ in range(5)]
        triples = [
            ox.Triple(s, p, ox.Literal(f"{p.value[-5:]} {i}"))
            for p in (label, comment)
            for i, s in enumerate(subjects)
        ]
        graph = f"{base_iri}graph/essai-pages"
        store.replace_graph(graph, triples, GraphMeta("essai", "test"))
        read = [q.triple for q in store.quads(graph)]
        assert len(read) == len(set(read)) == store.count(graph) == 610
        direct = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        as_rdflib = [
            rdflib.Graph().parse(data=ox.serialize(t, format=ox.RdfFormat.N_TRIPLES), format="nt")
            for t in (read, direct)
        ]
        assert isomorphic(*as_rdflib)
        runs = [t.subject for i, t in enumerate(read) if i == 0 or t.subject != read[i - 1].subject]
        assert len(runs) == len(set(runs)) == 305
        out = io.BytesIO()
        store.dump(out, ox.RdfFormat.N_QUADS, [graph])
        assert len(list(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))) == 610
    finally:
        store.close()
