"""/sparql and /store through a real ``communs serve`` on a tmp disk store, with real clients."""

from __future__ import annotations

import csv
import html
import http.client
import io
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from sparql_helpers import (
    BASE,
    BULK,
    PERSON,
    PRIVATE,
    PROJECTS,
    PUBLIC,
    QUERY_TIMEOUT,
    SECRET,
    TOKEN,
    Server,
    cpu_ticks,
    descendants,
    request,
    serve,
)
from SPARQLWrapper import CSV, JSON, JSONLD, N3, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from graph.pool import HEAVY_NICE
from graph.store import OxigraphStore

COUNT_PROJECTS = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a <http://schema.org/Project> }"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
DESCRIBE_ONE = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ BIND(<{BASE}id/projet/essai-1> AS ?s) ?s ?p ?o }}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("sparql")) as srv:
        yield srv


def query(srv: Server, text: str, accept: str = "application/sparql-results+json", **params: str):
    body = urlencode({"query": text, **params}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
    return request("POST", srv.sparql, body, headers)


def update(srv: Server, text: str, token: str | None = TOKEN):
    headers = {"Content-Type": "application/sparql-update"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return request("POST", srv.sparql, text.encode(), headers)


def count(srv: Server, text: str = COUNT_PROJECTS) -> int:
    status, _, body = query(srv, text)
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


# --- real clients ---
def test_sparqlwrapper_select_ask_construct_jsonld(server: Server) -> None:
    sw = SPARQLWrapper(server.sparql)
    sw.setQuery(COUNT_PROJECTS)
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["results"]["bindings"][0]["n"]["value"] == str(PROJECTS)
    sw.setMethod("POST")
    sw.setQuery(f"ASK {{ <{BASE}id/projet/essai-3> ?p ?o }}")
    assert sw.query().convert()["boolean"] is True
    sw.setQuery(DESCRIBE_ONE)
    sw.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    assert (rdflib.URIRef(f"{BASE}id/projet/essai-1"), rdflib.RDFS.label, None) in graph
    sw.setReturnFormat(N3)  # sends format=n3: answered as Turtle, N3's RDF subset
    graph = rdflib.Graph().parse(data=sw.query().convert(), format="n3")
    assert (rdflib.URIRef(f"{BASE}id/projet/essai-1"), rdflib.RDFS.label, None) in graph
    sw.setReturnFormat(JSONLD)
    graph = sw.query().convert()
    labels = {str(o) for o in graph.objects(rdflib.URIRef(f"{BASE}id/projet/essai-1"), rdflib.RDFS.label)}
    assert labels == {"Projet d'essai 1"}
    sw.setQuery("SELECT ?s WHERE { ?s a <http://schema.org/Project> } ORDER BY ?s LIMIT 3")
    sw.setReturnFormat(CSV)
    assert sw.query().convert().decode().splitlines()[0] == "s"


def test_rdflib_sparqlstore(server: Server) -> None:
    graph = rdflib.Graph(store=SPARQLStore(server.sparql, returnFormat="json"))
    rows = list(graph.query(COUNT_PROJECTS))
    assert int(rows[0][0]) == PROJECTS
    assert graph.query(f"ASK {{ <{PERSON}> ?p ?o }}").askAnswer is True
    constructed = graph.query(DESCRIBE_ONE).graph
    assert len(constructed) == 2


# --- content negotiation ---
@pytest.mark.parametrize(
    ("accept", "params", "select_type", "construct_type"),
    [
        ("*/*", {}, "application/sparql-results+json", "text/turtle"),
        ("", {}, "application/sparql-results+json", "text/turtle"),
        ("application/sparql-results+xml", {}, "application/sparql-results+xml", "text/turtle"),
        ("text/csv;q=0.5, text/tab-separated-values", {}, "text/tab-separated-values", "text/turtle"),
        ("text/csv, application/sparql-results+json;q=0.1", {}, "text/csv", "text/turtle"),
        ("application/json", {}, "application/sparql-results+json", "application/ld+json"),
        ("*/*", {"format": "json"}, "application/sparql-results+json", "application/ld+json"),
        ("application/xml", {}, "application/sparql-results+xml", "application/rdf+xml"),
        ("application/sparql-results+json", {}, "application/sparql-results+json", "text/turtle"),
        ("*/*", {"format": "csv"}, "text/csv", None),
        ("application/n-triples, application/ld+json;q=0.9", {}, None, "application/n-triples"),
        ("application/rdf+xml", {}, None, "application/rdf+xml"),
        ("application/n-quads", {}, None, "application/n-quads"),
        ("text/*", {}, "text/csv", "text/turtle"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", {}, "application/sparql-results+json", "text/turtle"),
        ("application/sparql-results+json", {"format": "tsv"}, "text/tab-separated-values", None),
        ("*/*", {"format": "text/csv"}, "text/csv", None),
        ("text/csv", {"format": "jsonld"}, None, "application/ld+json"),
        ("*/*", {"format": "xml"}, "application/sparql-results+xml", "application/rdf+xml"),
        ("image/png", {}, None, None),
    ],
)
def test_conneg_matrix(server: Server, accept, params, select_type, construct_type) -> None:
    """Accept and format= decide alike for every query form: a results type alone (rdflib's SPARQLStore
    asks a CONSTRUCT so) gets Turtle for a graph, by header or by name; what nothing satisfies is a 406."""
    for text, expected in ((COUNT_PROJECTS, select_type), (DESCRIBE_ONE, construct_type)):
        status, headers, body = query(server, text, accept, **params)
        if expected is None:
            assert status == 406, (accept, params, text, body)
            continue
        assert status == 200, (accept, params, body)
        assert headers["content-type"].split(";")[0] == expected, (accept, params)
        if expected == "application/ld+json":
            doc = json.loads(body)
            assert doc["@context"]["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
            assert "rdfs:label" in doc["@graph"][0]
            parsed = rdflib.Graph().parse(data=body, format="json-ld")
            assert len(parsed) == 2


def test_a_format_named_that_the_result_cannot_take_is_a_406_naming_those_it_can(server: Server) -> None:
    """format=csv on a CONSTRUCT gave Turtle, format=ttl on a SELECT a 406 naming no format, format=trig and
    format=html a 400, though README names them: a format= is the client's choice, refused (406) by a kind
    of result it cannot name, with the formats that kind takes; TriG is a graph's, HTML the query page.
    The 406 names what was asked: it said "none was asked or accepted" to a format=csv."""
    for text, accept, params, asked, takes in (
        (DESCRIBE_ONE, "*/*", {"format": "csv"}, "format=csv", "format=turtle, jsonld"),
        (COUNT_PROJECTS, "*/*", {"format": "ttl"}, "format=ttl", "format=sparql-json"),
        (COUNT_PROJECTS, "text/turtle", {}, "Accept: text/turtle", "Accept: application/sparql-results+json"),
    ):
        status, _, body = query(server, text, accept, **params)
        said = body.decode()
        assert status == 406 and f"cannot be given as {asked}:" in said and takes in said, (asked, said)
    status, headers, body = query(server, DESCRIBE_ONE, "*/*", format="trig")
    assert status == 200 and headers["content-type"].startswith("application/trig"), body
    assert status == query(server, DESCRIBE_ONE, "*/*", format="ttl")[0] and b"essai-1" in body
    assert query(server, COUNT_PROJECTS, "*/*", format="trig")[0] == 406
    url = f"{server.sparql}?{urlencode({'query': COUNT_PROJECTS, 'format': 'html'})}"
    status, headers, body = request("GET", url, headers={"Accept": "application/sparql-results+json"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert html.escape(COUNT_PROJECTS, quote=False) in body.decode()


def test_a_form_posted_with_format_html_gets_the_page_with_its_query(server: Server) -> None:
    """POST format=html was a 400 while GET gave the page: a form posts a query too long for a URL. Only a
    named format=html does: a POST whose Accept puts HTML first still gets data (the page's own fetch)."""
    status, headers, body = query(server, COUNT_PROJECTS, "application/sparql-results+json", format="html")
    assert status == 200 and headers["content-type"].startswith("text/html"), body
    page = body.decode()
    assert html.escape(COUNT_PROJECTS, quote=False) + "</textarea>" in page and "data-run" in page


def test_unknown_format_and_get_without_query(server: Server) -> None:
    status, _, body = query(server, COUNT_PROJECTS, format="png")
    assert status == 400 and b"format" in body
    status, headers, body = request("GET", server.sparql, headers={"Accept": "text/html"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    page = body.decode()
    assert "PREFIX schema: &lt;http://schema.org/&gt;" in page and "/static/sparql.js" in page
    for accept, fmt in (
        ("text/turtle", "turtle"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
    ):
        status, headers, body = request("GET", server.sparql, headers={"Accept": accept})
        assert status == 200 and headers["content-type"].startswith(accept)
        sd = rdflib.Graph().parse(data=body, format=fmt, publicID=server.sparql)
        endpoint = rdflib.URIRef("http://www.w3.org/ns/sparql-service-description#endpoint")
        # The configured base names the endpoint, whatever Host the client used.
        assert (None, endpoint, rdflib.URIRef(BASE + "sparql")) in sd
    # Named, as on every route that negotiates, and an Accept without HTML nor RDF is a 406.
    status, headers, _ = request("GET", server.sparql + "?format=ttl", headers={"Accept": "text/html"})
    assert status == 200 and headers["content-type"].startswith("text/turtle")
    assert request("GET", server.sparql, headers={"Accept": "image/png"})[0] == 406


def test_get_and_sparql_query_body_and_default_graph_uri(server: Server) -> None:
    status, _, body = request("GET", server.sparql + "?query=" + quote(COUNT_PROJECTS))
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(PROJECTS)
    headers = {"Content-Type": "application/sparql-query", "Accept": "text/csv"}
    status, _, body = request(
        "POST", server.sparql + "?default-graph-uri=" + quote(BULK), COUNT_PROJECTS.encode(), headers
    )
    assert status == 200 and body.decode().splitlines() == ["n", "0"]
    status, _, body = query(
        server,
        "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        "text/csv",
        **{"named-graph-uri": BULK},
    )
    assert body.decode().splitlines() == ["g", BULK]


# --- privacy ---
@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", {}),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
        (f"SELECT * FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}", {}),
        (f"SELECT * FROM NAMED <{PRIVATE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
        (f"SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}", {}),
        ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": PRIVATE}),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": PRIVATE}),
        (f"DESCRIBE <{PERSON}>", {}),
        (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ <{PERSON}> ?p ?o BIND(<{PERSON}> AS ?s) }} }}", {}),
    ],
)
def test_private_graph_never_shows(server: Server, text: str, params: dict) -> None:
    status, _, body = query(server, text, "text/csv, application/n-triples", **params)
    assert status in (200, 403), body
    assert SECRET.encode() not in body and b"prive" not in body


# --- deadlines ---
def _priority(pid: int) -> int:
    """A process's nice value; 0 once it is gone."""
    try:
        return os.getpriority(os.PRIO_PROCESS, pid)
    except OSError:
        return 0


def _cpu_below(srv: Server) -> dict[int, int]:
    """CPU ticks of each live process below the server (its forkserver, query workers)."""
    return {p: t for p in descendants(srv.process.pid) if (t := cpu_ticks(p)) >= 0}


def test_heavy_query_killed_at_deadline_while_cheap_queries_answer(server: Server) -> None:
    """Judged by what happens, not by how fast a loaded machine runs it: the heavy query (minutes of work)
    is answered 504 at its deadline, the worker that burnt the most CPU meanwhile is killed, cheap queries
    answered while it ran, and the pool answers after. Time bounds are multiples of the deadline."""
    timeout = 1.5
    bound = time.monotonic() + 20 * timeout
    # Workers still starting (a loaded machine takes seconds) would pass for the heavy query's.
    previous, quiet = {}, _cpu_below(server)
    while quiet != previous:
        assert time.monotonic() < bound, ("the server's processes never settled", quiet)
        time.sleep(0.3)
        previous, quiet = quiet, _cpu_below(server)
    outcome: dict = {}

    def heavy() -> None:
        t0 = time.monotonic()
        outcome["status"], _, outcome["body"] = query(server, HEAVY, timeout=str(timeout))
        outcome["elapsed"] = time.monotonic() - t0

    thread = threading.Thread(target=heavy)
    thread.start()
    last = quiet
    while last == quiet and thread.is_alive():  # the heavy query reached a worker
        time.sleep(0.05)
        last = {**last, **_cpu_below(server)}
    for _ in range(5):
        assert count(server) == PROJECTS
    assert thread.is_alive(), ("the cheap queries waited for the heavy one's deadline", outcome)
    while thread.is_alive() and time.monotonic() < bound:  # each worker's CPU time, last read before the end
        last = {**last, **_cpu_below(server)}
        time.sleep(0.05)
    thread.join(timeout)
    assert outcome["status"] == 504 and f"its {timeout:g} s deadline".encode() in outcome["body"], outcome
    assert timeout <= outcome["elapsed"] < 2 * timeout, outcome  # 1.6 s at a load average of 11
    burnt = max(last, key=lambda p: last[p] - quiet.get(p, last[p]))
    while cpu_ticks(burnt) != -1:
        assert time.monotonic() < bound, ("the heavy query's worker outlived its deadline", burnt, last)
        time.sleep(0.05)
    assert count(server) == PROJECTS  # the pool still answers after the kill


def test_a_storm_of_heavy_queries_leaves_pages_and_other_clients_answering(tmp_path: Path) -> None:
    """Twenty anonymous copies of one heavy query from one client: two run, lowered in CPU priority (their
    nice value), the rest are told to come back (429, Retry-After); meanwhile pages and a cheap query from
    another client answer, each well within the running ones' 10 s deadline: nothing waits behind them.
    How fast they answer then is the benchmarks' to measure (bench/), not a test's on a loaded machine."""
    deadline = 10.0
    with serve(tmp_path, timeout=deadline, env_extra={"COMMUNS_CLIENT_QUERIES": "2"}) as srv:
        page = srv.url + f"/id/projet/essai-{PROJECTS - 1}"
        other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
        assert httpx.get(page, timeout=30).status_code == 200  # warm: templates and the first index
        assert other.get(srv.sparql, params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
        statuses: list[tuple[int, str | None]] = []

        def heavy() -> None:
            status, headers, _ = query(srv, HEAVY, timeout="15")
            statuses.append((status, headers.get("retry-after")))

        storm = [threading.Thread(target=heavy) for _ in range(20)]
        started = time.monotonic()
        for t in storm:
            t.start()
        lowered: list[int] = []
        while len(lowered) < 2 and time.monotonic() < started + deadline:
            time.sleep(0.1)
            lowered = [p for p in descendants(srv.process.pid) if _priority(p) >= HEAVY_NICE]
        assert len(lowered) == 2, "the two running heavy queries kept their CPU priority"
        waits = []
        for i in range(20):
            t0 = time.monotonic()
            assert httpx.get(page, timeout=30).status_code == 200
            ask = f"ASK {{ <{BASE}id/projet/essai-{i}> ?p ?o }}"
            assert other.get(srv.sparql, params={"query": ask}).status_code == 200
            waits.append(time.monotonic() - t0)
        for t in storm:
            t.join(30)
        other.close()
    assert sorted(s for s, _ in statuses) == [429] * 18 + [504] * 2, statuses
    assert all(r is not None for s, r in statuses if s == 429)
    assert max(waits) < deadline / 2, ("a page or a cheap query waited behind the heavy ones", waits)


def test_timeout_parameter_only_lowers_the_deadline(server: Server) -> None:
    t0 = time.monotonic()
    status, _, body = query(server, HEAVY, timeout="600")
    assert status == 504 and f"its {QUERY_TIMEOUT:g} s deadline".encode() in body, body  # not 600 s
    assert time.monotonic() - t0 < 2 * QUERY_TIMEOUT
    assert query(server, COUNT_PROJECTS, timeout="abc")[0] == 400
    assert query(server, COUNT_PROJECTS, timeout="-1")[0] == 400


def test_large_csv_streams_completely(server: Server) -> None:
    rows = 60_000
    text = f"SELECT ?a ?b WHERE {{ GRAPH <{BULK}> {{ ?a ?p ?x }} ?b ?q ?y }} LIMIT {rows}"
    status, headers, body = query(server, text, "text/csv")
    assert status == 200
    assert len(body) > 1024 * 1024 and "content-length" not in headers  # streamed, not buffered
    lines = list(csv.reader(io.StringIO(body.decode())))
    assert len(lines) == rows + 1


def test_a_stream_past_its_deadline_is_cut_without_its_last_chunk(server: Server) -> None:
    """Its 200 is sent: the deadline can only cut the chunked body, with no terminating chunk, so that no
    client takes what it got for the whole answer (curl exits 18, http.client raises IncompleteRead)."""
    text = f"SELECT * WHERE {{ GRAPH <{BULK}> {{ ?a ?p ?x }} ?b ?q ?y . ?c ?r ?z }}"
    connection = http.client.HTTPConnection(server.sparql.split("/")[2], timeout=30)
    connection.request("GET", "/sparql?" + urlencode({"query": text}), headers={"Accept": "text/csv"})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("transfer-encoding") == "chunked"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert len(cut.value.partial) > 1024 * 1024
    connection.close()


# --- refusals ---
@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE<http://127.0.0.1:9/x>{?s ?p ?o} } }",
        "PREFIX e: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",  # an escape spells it
    ],
)
def test_service_refused(server: Server, text: str) -> None:
    status, _, body = query(server, text)
    assert status == 400 and b"SERVICE" in body, body


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/> {" } LIMIT 1',
        "SELECT * WHERE { ?s <http://ex.org/SERVICE> ?o } # SERVICE <http://x/>\n",
        "PREFIX ex: <http://ex.org/> SELECT * WHERE { ?s ex:service ?o }",
    ],
)
def test_service_lookalikes_accepted(server: Server, text: str) -> None:
    assert query(server, text)[0] == 200


def test_malformed_query_gets_parser_message(server: Server) -> None:
    status, headers, body = query(server, "SELECT * WHERE { ?s ?p }", accept="*/*")
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert b"1:" in body and b"expected" in body, body


@pytest.mark.parametrize(
    ("accept", "content_type", "params", "status", "said"),
    [
        ("application/sparql-results+json", "application/sparql-query", "", 400, "invalid SPARQL: unknown"),
        ("application/json", "application/sparql-query", "?timeout=abc", 400, "timeout='abc' is not a"),
        ("application/ld+json", "text/plain", "", 415, "unsupported Content-Type text/plain: use"),
    ],
)
def test_errors_are_json_to_a_client_that_takes_json(
    server: Server, accept: str, content_type: str, params: str, status: int, said: str
) -> None:
    """A map app's ``await r.json()`` threw on the text an error was; a client taking text still gets it."""
    body = b"SELEC * WHERE {"
    got, headers, answer = request(
        "POST", server.sparql + params, body, {"Content-Type": content_type, "Accept": accept}
    )
    assert (got, headers["content-type"]) == (status, "application/json"), answer
    assert json.loads(answer)["detail"].startswith(said) and "Accept" in headers["vary"]
    for text_client in ("text/csv", "*/*", "text/plain, application/json;q=0.5"):
        headers = {"Content-Type": content_type, "Accept": text_client}
        got, headers, answer = request("POST", server.sparql + params, body, headers)
        assert (got, answer.decode()[: len(said)]) == (status, said), answer
        assert headers["content-type"].startswith("text/plain")


def test_an_undeclared_prefix_is_named_with_the_line_to_add(server: Server) -> None:
    """A query copied from /sparql (whose page added the prefixes) into SPARQLWrapper, which adds none, got
    the engine's « expected one of Prefix not found, ['%'], ['-' | … »."""
    rdfs = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    text = rdfs + "SELECT ?p WHERE {\n  ?p a schema:Project ; ex:x rdfs:y }"
    status, _, body = query(server, text, accept="text/plain")
    assert status == 400 and body.decode() == (
        "invalid SPARQL: prefix schema: (at 3:8) is not declared: add PREFIX schema: <http://schema.org/>; "
        "prefix ex: (at 3:25) is not declared: add PREFIX ex: <its namespace IRI>\n"
    )
    sw = SPARQLWrapper(server.sparql)
    sw.setQuery(text)
    with pytest.raises(QueryBadFormed, match="add PREFIX schema: <http://schema.org/>"):
        sw.query()
    sw.setReturnFormat(JSON)  # its message now a JSON problem's detail
    with pytest.raises(QueryBadFormed, match='"detail":"invalid SPARQL: prefix schema:'):
        sw.query()
    status, _, body = query(server, "PREFIX schema: <http://schema.org/>\n" + text.replace("ex:x", "a"))
    assert status == 200, body


FORMS = "a query opens with SELECT, CONSTRUCT, ASK or DESCRIBE (after BASE and PREFIX)"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("SELEC ?s WHERE {?s ?p ?o}", f"unknown keyword 'SELEC' at 1:1: {FORMS}"),
        ("PREFIX ex: <http://ex.org/>\n  Selct * { ?s ex:p ?o }", f"unknown keyword 'Selct' at 2:3: {FORMS}"),
        ("# a comment\n{ ?s ?p ?o }", f"unexpected '{{' at 2:1: {FORMS}"),
        ("INSERT DATA { <a:b> <a:c> 1 }", "INSERT at 1:1 opens an update: send it as update=, not query="),
    ],
)
def test_a_query_that_opens_with_no_query_form_is_told_which_word_and_where(
    server: Server, text: str, said: str
) -> None:
    """The engine guesses past the word ("SELEC ?s": "error at 1:10: expected CONSTRUCT")."""
    status, _, body = query(server, text, accept="text/plain")
    assert status == 400 and body.decode().strip() == f"invalid SPARQL: {said}", body


def test_group_concat_is_a_simple_literal_as_in_sparql11(server: Server) -> None:
    # pyoxigraph alone answers "a b"@fr (the SPARQL 1.2 draft's rule); SPARQL 1.1 says a simple literal.
    text = 'SELECT (GROUP_CONCAT(?o; SEPARATOR=" ") AS ?g) WHERE { VALUES ?o { "a"@fr "b"@fr } }'
    status, _, body = query(server, text)
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"] == [{"g": {"type": "literal", "value": "a b"}}]
    # A syntax error after a GROUP_CONCAT is placed in the text as sent, not in the rewritten one.
    bad = "SELECT (GROUP_CONCAT(?o) AS ?g) WHERE { ?s ?p }"
    status, _, body = query(server, bad)
    assert status == 400 and b"1:48" in body and b"1:53" not in body, body


def test_select_star_columns_follow_the_query(server: Server) -> None:
    """pyoxigraph sorts the variables of SELECT * by name; the columns follow the order they first appear in
    the query, in every results format (in-scope variables only: not one seen in a FILTER alone)."""
    text = (
        "SELECT DISTINCT * { ?thing ?link ?value BIND(STR(?value) AS ?asText) FILTER(!BOUND(?zz)) } LIMIT 2"
    )
    expected = ["thing", "link", "value", "asText"]
    status, _, body = query(server, text)
    assert status == 200 and json.loads(body)["head"]["vars"] == expected, body
    for accept, sep in (("text/csv", ","), ("text/tab-separated-values", "\t")):
        status, _, body = query(server, text, accept)
        header = body.decode().splitlines()[0].split(sep)
        assert status == 200 and [h.lstrip("?") for h in header] == expected, body
    status, _, body = query(server, text, "application/sparql-results+xml")
    assert re.findall(rb'<variable name="(\w+)"', body) == [v.encode() for v in expected], body


def test_size_limits(server: Server) -> None:
    # Announced size over the limit: refused before the body is read.
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    conn.putrequest("POST", "/sparql")
    conn.putheader("Content-Type", "application/sparql-query")
    conn.putheader("Content-Length", str(2 * 1024 * 1024))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    # Chunked, no announced size: refused once the limit is crossed.
    conn = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
    body = (b"x" * 65536 for _ in range(20))
    conn.request("POST", "/sparql", body, {"Content-Type": "application/sparql-query"}, encode_chunked=True)
    assert conn.getresponse().status == 413
    conn.close()
    status, _, _ = request(
        "POST", server.sparql, b"query=ASK{}", {"Content-Type": "text/plain", "Accept": "*/*"}
    )
    assert status == 415


# --- caching and CORS ---
def test_etag_304_and_cors(server: Server) -> None:
    status, headers, _ = query(server, COUNT_PROJECTS)
    etag = headers["etag"]
    assert headers["access-control-allow-origin"] == "*" and "must-revalidate" in headers["cache-control"]
    status, headers, body = request(
        "GET",
        server.sparql + "?query=" + quote(COUNT_PROJECTS),
        headers={"Accept": "application/sparql-results+json", "If-None-Match": etag},
    )
    assert status == 304 and body == b""
    status, headers, _ = request("OPTIONS", server.sparql, headers={"Origin": "https://example.org"})
    assert status == 204 and "POST" in headers["access-control-allow-methods"]


# --- updates ---
def test_updates_need_the_token_and_public_graphs(server: Server) -> None:
    graph = BASE + "graph/essai-maj"
    insert = f"INSERT DATA {{ GRAPH <{graph}> {{ <{BASE}id/projet/maj> a <http://schema.org/Project> }} }}"
    etag = query(server, COUNT_PROJECTS)[1]["etag"]
    assert update(server, insert, token=None)[0] == 401
    assert update(server, insert, token="wrong")[0] == 403
    assert count(server) == PROJECTS
    status, _, body = update(
        server, f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}"
    )
    assert status == 403, body
    status, _, body = update(
        server, f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    )
    assert status == 403, body
    assert update(server, "LOAD <http://127.0.0.1:9/data.ttl>")[0] == 400
    assert update(server, "INSERT DATA { <http://a> <http://b> ")[0] == 400
    assert update(server, insert)[0] == 204
    assert count(server) == PROJECTS + 1
    assert query(server, COUNT_PROJECTS)[1]["etag"] != etag  # the version moved
    assert update(server, f"DROP GRAPH <{graph}>")[0] == 204
    assert count(server) == PROJECTS
    assert count(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}") == 0


def test_graph_store_protocol(server: Server) -> None:
    store = server.url + "/store"
    target = store + "?graph=" + quote("http://example.org/gsp")
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle"}
    ttl = b'<http://example.org/s> <http://example.org/p> "v" .'
    assert request("PUT", target, ttl, {"Content-Type": "text/turtle"})[0] == 401
    assert request("GET", target)[0] == 404
    assert request("PUT", target, ttl, auth)[0] == 201
    assert request("PUT", target, ttl, auth)[0] == 204
    assert request("POST", target, b'<http://example.org/s> <http://example.org/p> "w" .', auth)[0] == 204
    status, headers, body = request("GET", target, headers={"Accept": "application/n-triples"})
    assert status == 200 and headers["content-type"].startswith("application/n-triples")
    assert len(body.decode().strip().splitlines()) == 2
    assert request("HEAD", target)[0] == 200
    assert request("PUT", target, b"not turtle <", auth)[0] == 400
    assert request("PUT", target, ttl, {**auth, "Content-Type": "application/x-unknown"})[0] == 415
    private = store + "?graph=" + quote(PRIVATE)
    assert request("GET", private)[0] == 404
    assert request("PUT", private, ttl, auth)[0] == 403
    assert request("DELETE", private, None, auth)[0] == 403
    assert request("DELETE", target, None, auth)[0] == 204
    assert request("GET", target)[0] == 404
    assert request("DELETE", target, None, auth)[0] == 404
    # A new graph's IRI is under the configured base, whatever Host the client sent.
    status, headers, _ = request("POST", store, ttl, {**auth, "Host": "evil.example"})
    assert status == 201 and headers["location"].startswith(BASE + "store/")
    direct = server.url + "/" + headers["location"].removeprefix(BASE)
    assert request("GET", direct, headers={"Accept": "text/turtle", "Host": "evil.example"})[0] == 200
    assert count(server, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{headers['location']}> {{ ?s ?p ?o }} }}") == 1
    assert request("DELETE", direct, None, auth)[0] == 204
    assert (
        count(server, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{PUBLIC}> {{ ?s ?p ?o }} }}")
        == 2 * PROJECTS + 2
    )


def test_graph_store_upload_form_and_protocol_mistakes(server: Server) -> None:
    """An HTML upload form may carry several files, a file's type read from its name when the browser
    sends none; what the protocols forbid is a 400 that says why."""
    target = server.url + "/store?graph=" + quote("http://example.org/formulaire")
    files = [
        ("a", ("a.ttl", b'<http://example.org/a> <http://example.org/p> "1" .', "text/turtle")),
        ("b", ("b.nt", b'<http://example.org/b> <http://example.org/p> "2" .\n', "application/octet-stream")),
    ]
    r = httpx.put(target, files=files, data={"note": "ignorée"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    assert len(httpx.get(target, headers={"Accept": "application/n-triples"}).text.strip().splitlines()) == 2
    assert httpx.delete(target, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 204
    both = httpx.get(server.url + "/store", params={"default": "", "graph": "http://example.org/x"})
    assert both.status_code == 400 and "either ?default or ?graph" in both.text
    r = httpx.post(server.sparql, data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert r.status_code == 400 and "either a query or an update" in r.text
    headers = {"Content-Type": "application/sparql-query"}
    r = httpx.post(server.sparql, params={"query": "ASK {}"}, content=b"ASK {}", headers=headers)
    assert r.status_code == 400 and "at once" in r.text


W3C_FORMATS = "http://www.w3.org/ns/formats/"  # the W3C's names, https://www.w3.org/ns/formats/
KNOWN_FORMATS = {"JSON-LD", "N-Triples", "N-Quads", "RDF_XML", "Turtle", "TriG", "N3"} | {
    f"SPARQL_Results_{n}" for n in ("XML", "JSON", "CSV", "TSV")
}


def test_protocol_details_and_service_description(server: Server) -> None:
    """Exactly one query (SPARQL 1.1 Protocol, 2.1.1); the description declares updates where a token
    is configured and names every format by its W3C IRI."""
    twice = f"{server.sparql}?query={quote(COUNT_PROJECTS)}&query={quote(COUNT_PROJECTS)}"
    status, _, body = request("GET", twice)
    assert status == 400 and b"'query' given 2 times" in body
    # A client taking only answers has forgotten the query: told so, not which descriptions there are.
    status, _, body = request("GET", server.sparql, headers={"Accept": "application/sparql-results+json"})
    assert status == 400 and b"query parameter is missing" in body and b"?query=SELECT" in body
    status, _, body = request("GET", server.sparql, headers={"Accept": "application/n-triples"})
    sd = rdflib.Graph().parse(data=body, format="nt")
    sdns = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert set(sd.objects(None, sdns.supportedLanguage)) == {sdns.SPARQL11Query, sdns.SPARQL11Update}
    named = {str(o) for o in sd.objects(None, sdns.resultFormat)}
    assert {n.removeprefix(W3C_FORMATS) for n in named} <= KNOWN_FORMATS and len(named) == 10, named
    # The graphs a query may name, the public ones only: a researcher found none listed.
    graphs = {str(o) for o in sd.objects(None, sdns.name)}
    assert {PUBLIC, BULK} <= graphs and PRIVATE not in graphs and all("/prive/" not in g for g in graphs)
    dataset = sd.value(None, sdns.defaultDataset)
    assert {str(sd.value(g, sdns.name)) for g in sd.objects(dataset, sdns.namedGraph)} == graphs


def test_no_token_configured_means_no_updates(tmp_path: Path) -> None:
    with serve(tmp_path, token=None) as srv:
        sd = request("GET", srv.sparql, headers={"Accept": "text/turtle"})[2]
        assert b"SPARQL11Query" in sd and b"SPARQL11Update" not in sd
        status, _, body = update(
            srv, f"INSERT DATA {{ GRAPH <{PUBLIC}> {{ <http://a> <http://b> 1 }} }}", token=""
        )
        assert status == 403 and b"disabled" in body
        status, _, _ = update(srv, "INSERT DATA { <http://a> <http://b> 1 }", token="anything")
        assert status == 403
        assert count(srv) == PROJECTS


CHROMIUM = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def test_a_browser_following_a_query_link_gets_the_page_with_the_query(server: Server) -> None:
    """HTML at q=1 beats SPARQL XML's application/xml at 0.9; a name, a POST or */* still get data."""
    text = "SELECT ?s WHERE { ?s ?p '<b>' } LIMIT 1"
    link = server.sparql + "?query=" + quote(text)
    status, headers, body = request("GET", link, headers={"Accept": CHROMIUM})
    assert status == 200 and headers["content-type"].startswith("text/html"), headers
    page = body.decode()
    assert "?s ?p &#39;&lt;b&gt;&#39; } LIMIT 1</textarea>" in page and "data-run" in page
    assert request("GET", link + "&format=xml", headers={"Accept": CHROMIUM})[1]["content-type"].startswith(
        "application/sparql-results+xml"
    )
    assert query(server, text, CHROMIUM)[1]["content-type"].startswith("application/sparql-results+xml")
    assert request("GET", link, headers={"Accept": "*/*"})[1]["content-type"].startswith(
        "application/sparql-results+json"
    )
    assert "data-run" not in request("GET", server.sparql, headers={"Accept": CHROMIUM})[2].decode()


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="chromium is not installed")
def test_query_page_in_a_browser(server: Server) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page(locale="fr-FR")  # the page's language, which its script now speaks too
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.sparql, wait_until="networkidle")
        page.click("button[type=submit]")
        page.wait_for_selector("#results table", timeout=10_000)
        assert "20 résultat" in page.inner_text("#status")
        link = page.locator("#results tbody tr a").first
        assert link.get_attribute("href").startswith("/id/projet/essai-")
        assert link.inner_text().startswith("Projet d'essai")  # the label, not the IRI
        assert "csv" in page.inner_text("#downloads")
        page.select_option("#examples", "1")
        page.click("#load-example")  # an example loads when asked, never on a mere change of the list
        assert "igeo:Commune" in page.input_value("#query")
        linked = "SELECT ?s WHERE { ?s a <http://schema.org/Project> } LIMIT 3"
        page.goto(server.sparql + "?query=" + quote(linked), wait_until="networkidle")
        assert page.input_value("#query") == linked
        page.wait_for_selector("#results table", timeout=10_000)
        assert "3 résultat" in page.inner_text("#status")
        browser.close()
    assert errors == []


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="chromium is not installed")
def test_query_page_speaks_the_page_language(server: Server) -> None:
    """The script's words come from api/i18n.py through the page, a count's by the language's rule: an
    English page said « Télécharger : », « 3 résultat(s) en 17 ms », « Erreur 400 : »."""
    from playwright.sync_api import sync_playwright

    three = quote("SELECT ?s WHERE { ?s a <http://schema.org/Project> } LIMIT 3")
    one = quote("SELECT ?s WHERE { ?s a <http://schema.org/Project> } LIMIT 1")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        seen = {}
        for lang, text in (("en", three), ("en", one), ("fr", three), ("fr", one), ("en", quote("SELEC"))):
            page.goto(f"{server.sparql}?lang={lang}&query={text}", wait_until="networkidle")
            page.wait_for_function("/\\d/.test(document.getElementById('status').textContent)")
            seen[lang, text] = page.inner_text("#status"), page.inner_text("#downloads")
        browser.close()
    assert re.fullmatch(r"3 results in \d+ ms", seen["en", three][0])
    assert seen["en", three][1].startswith("Download:")
    assert re.fullmatch(r"1 result in \d+ ms", seen["en", one][0])
    assert re.fullmatch(r"3 résultats en \d+ ms", seen["fr", three][0])
    assert re.fullmatch(r"1 résultat en \d+ ms", seen["fr", one][0])
    assert seen["fr", three][1].startswith("Télécharger\u00a0:")
    assert seen["en", quote("SELEC")][0].startswith("Error 400: ")


def test_clear_all_spares_private_graphs(server: Server) -> None:
    """Last in the module: it empties the public graphs, then stops the server to look at the store."""
    status, _, body = update(server, "CLEAR ALL")
    assert status == 204, body
    assert count(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 0
    server.process.terminate()
    server.process.wait(10)
    store = OxigraphStore(BASE, server.store, read_only=True)
    assert store.count(PRIVATE) == 1 and store.count(PUBLIC) == 0


def test_a_store_s_failures_are_answered_by_who_is_at_fault():
    """A time out met by an update or a /store read is the server's (504), not the client's bad input."""
    from api.sparql import _store_problem
    from graph.store import QueryTimeout, StoreError, StoreUnavailable

    assert _store_problem(QueryTimeout("past 30 s")).status == 504
    assert _store_problem(StoreUnavailable("down")).status == 503
    assert _store_problem(StoreError("invalid SPARQL: …")).status == 400
