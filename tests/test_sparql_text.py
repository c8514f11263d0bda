"""The one SPARQL text module (graph/sparql_text.py): the lexer reads what the engine reads, SERVICE and
LOAD never reach a socket unless allow-listed, updates never reach a private graph whatever its spelling.

Every SSRF check runs the real engine against a real listener on 127.0.0.1 and counts its connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sparql_helpers import BASE, PRIVATE, PUBLIC, build_store

from api.sparql import WIKIDATA, WIKIDATA_EXAMPLE
from graph import sparql_text
from graph.formats import SPARQL_JSON
from graph.namespaces import Minter
from graph.pool import Job, QueryRunner
from graph.sparql_text import Refused, canonical, check_remote, check_update_scope, rewrite_update, tokens
from graph.store import OxigraphStore, StoreError

W3C = Path(__file__).resolve().parent.parent.parent / "shared" / "w3c-sparql11"
ENDPOINT = BASE + "sparql"


class Listener:
    """A TCP listener on 127.0.0.1 that accepts, counts and hangs up."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def engine_calls(listener: Listener, text: str) -> int:
    """Connections the engine makes running ``text`` (as the endpoint would: canonical, endpoint base)."""
    before = listener.connections
    store = ox.Store()  # a pattern joined with the SERVICE has solutions to send
    for o in (ox.NamedNode("http://c"), ox.Literal(True), ox.Literal(1)):
        store.add(ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), o))
    with contextlib.suppress(SyntaxError, OSError, ValueError, RuntimeError):
        store.query(canonical(text), base_iri=ENDPOINT)
    time.sleep(0.01)
    return listener.connections - before


def refused(text: str, allowlist: tuple[str, ...] = ()) -> bool:
    try:
        check_remote(canonical(text), allowlist, ENDPOINT)
    except Refused:
        return True
    return False


def test_the_carriage_return_comment_of_the_report_is_refused(listener: Listener) -> None:
    text = f"SELECT * WHERE {{ # x\rSERVICE <{listener.url}anything> {{ ?x ?p ?o }}\n}}"
    assert engine_calls(listener, text) >= 1  # the engine does federate it
    assert refused(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { ?s ?p true.SERVICE <{url}> { ?a ?b ?c } }",  # a bare word never holds a dot
        "PREFIX : <{url}> SELECT * WHERE { ?s ?p ?o FILTER(?o<2).SERVICE:x#>\n{ ?a ?b ?c } }",  # < vs IRI
        "SELECT * WHERE { \\u0053ERVICE <{url}> { ?a ?b ?c } }",
        "BASE <{url}> SELECT * WHERE { SERVICE <x> { ?a ?b ?c } }",
        "SELECT * WHERE { ?s ?p 1SERVICE <{url}> { ?a ?b ?c } }",
        "SELECT * WHERE { sErViCe SILENT <{url}> { } }",
    ],
)
def test_spellings_the_engine_federates_are_refused(listener: Listener, text: str) -> None:
    text = text.replace("{url}", listener.url)
    assert engine_calls(listener, text) >= 1  # the engine does federate it
    assert refused(text)


@pytest.mark.parametrize(
    ("text", "is_refused"),
    [
        ("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", True),
        ("PREFIX a: <http://ok/> SELECT * { SERVICE a:sparql { } }", False),
        ("SELECT * { SERVICE <http://ok/sparql> { } }", False),
        ("SELECT ?service { ?service <http://x/SERVICE> 'SERVICE' } # SERVICE <http://x/>", False),
        ('SELECT * { ?s ?p "Maison de service au public" }', False),
        ("LOAD <http://x/data.ttl>", True),
        ("SELECT * { SERVICE ?endpoint { } }", True),
    ],
)
def test_remote_guard(text: str, is_refused: bool) -> None:
    assert refused(text, ("http://ok/sparql",)) is is_refused


_PIECES = [
    " ",
    "\t",
    "\r",
    "\n",
    "\r\n",
    "# c\r",
    "# c\n",
    "#\r\n",
    "\\u000D",
    "\\u000A",
    "\\u0020",
    '"s"',
    "'s'",
    '"""a\rb"""',
    "'''a\nb'''",
    "<http://x/#>",
    "?v",
    "true.",
    "1.",
    ".",
    ";",
    "{}",
    "FILTER(?o<2)",
    "#>",
    "<",
    ">",
    "\\",
]
_KEYWORD = st.sampled_from(
    ["SERVICE", "service", "\\u0053ERVICE", "SERV\\u0049CE", "\\U00000053ERVICE", "SeRvIcE SILENT"]
)
_GAP = st.lists(st.sampled_from(_PIECES), max_size=5).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=_GAP, keyword=_KEYWORD, gap=_GAP, after=_GAP, target=st.sampled_from(["<{url}x>", ":x", "<x>"]))
def test_every_query_the_engine_would_federate_is_refused(
    listener: Listener, before: str, keyword: str, gap: str, after: str, target: str
) -> None:
    target = target.replace("{url}", listener.url)
    text = (
        f"BASE <{listener.url}> PREFIX : <{listener.url}> SELECT * WHERE {{ ?s ?p ?o {before}"
        f"{keyword}{gap or ' '}{target} {{ ?a ?b ?c }} {after} }}"
    )
    if not refused(text):
        assert engine_calls(listener, text) == 0, repr(text)


def _w3c_texts() -> list[Path]:
    folders = ["syntax-query", "syntax-fed", "syntax-update-1", "syntax-update-2", "service"]
    return sorted(p for f in folders for p in (W3C / f).glob("*.r[qu]") if "bad" not in p.name)


def test_the_w3c_syntax_suites_tokenise_to_the_keywords_the_grammar_reads() -> None:
    """Every positive syntax test the grammar's parser (rdflib) reads has as many SERVICE/LOAD keywords
    to our lexer; a query with any of them is refused without an allow-list."""
    if not W3C.is_dir():
        pytest.skip(f"W3C test suite not found at {W3C}")  # as in tests/test_w3c.py
    texts = _w3c_texts()
    assert len(texts) > 100
    compared = federating = 0
    for path in texts:
        text = canonical(path.read_text(encoding="utf-8"))
        update = path.suffix == ".ru"
        by_grammar = sparql_text._services_by_grammar(text, update)
        if by_grammar is None:
            continue
        compared += 1
        words = sum(tokens(text).count(("name", w)) for w in ("SERVICE", "LOAD", "service", "load"))
        assert words == by_grammar, path.name
        if by_grammar:
            federating += 1
            with pytest.raises(Refused):
                check_remote(text, (), "http://example.org/sparql", update=update)
    assert compared > 90 and federating >= 5


def test_workers_open_no_socket_unless_an_allow_list_is_set(tmp_path: Path, listener: Listener) -> None:
    """Defence in depth: a SERVICE run by a worker (the text check bypassed here on purpose) fails inside
    the worker and the listener sees no connection; with an allow-list, workers may connect."""
    build_store(tmp_path / "store")
    store = OxigraphStore(BASE, tmp_path / "store")
    job = Job(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?a ?b ?c }} }}", SPARQL_JSON.media_type, None)
    try:
        for network, expected in ((False, 0), (True, 1)):
            runner = QueryRunner(store, workers=1, network=network)
            before = listener.connections
            try:
                with pytest.raises(StoreError):
                    b"".join(runner.run(job, 10).chunks)
            finally:
                runner.close()
            time.sleep(0.05)
            assert min(listener.connections - before, 1) == expected, f"network={network}"
    finally:
        store.close()


def test_update_scope_resolves_every_iri_before_checking() -> None:
    minter = Minter(BASE)
    text = rewrite_update("CLEAR SILENT ALL ; DROP NAMED", [PUBLIC], [], [], "urn:x:empty")
    assert text == f"CLEAR SILENT DEFAULT ;\nCLEAR SILENT GRAPH <{PUBLIC}> ; DROP SILENT GRAPH <{PUBLIC}>"
    text = rewrite_update("INSERT { ?s a ?o } WHERE { ?s a ?o }", [], [PUBLIC], [PUBLIC], "urn:x:empty")
    assert f"USING <{PUBLIC}> USING NAMED <{PUBLIC}> WHERE" in text
    check_update_scope(tokens(text), minter.is_public_graph, ENDPOINT)
    with pytest.raises(Refused):
        rewrite_update("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", [], [PUBLIC], [], "urn:x:e")
    private = PRIVATE.removeprefix(BASE + "graph/")  # prive/essai-sparql
    for bad in (
        f"PREFIX g: <{BASE}graph/> INSERT DATA {{ GRAPH g:prive\\/x {{ <http://a> <http://b> 1 }} }}",
        "INSERT { GRAPH <http://g> { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
        "DROP ALL",
        f"BASE <{BASE}graph/> COPY <{private}> TO <{PUBLIC}>",
        f"BASE <{BASE}graph/> INSERT DATA {{ GRAPH <{private}> {{ <http://a> <http://b> 1 }} }}",
        f"BASE <{BASE}graph/> PREFIX p: <prive/> INSERT DATA {{ GRAPH p:x {{ <http://a> <http://b> 1 }} }}",
        f"BASE <{BASE}graph/> INSERT {{ GRAPH <{PUBLIC}> {{ ?s ?p ?o }} }} USING <{private}> "
        "WHERE { ?s ?p ?o }",
        f"ADD <graph/{private}> TO <{PUBLIC}>",  # relative to the endpoint itself
        f"BASE <{BASE}x/> BASE <../graph/> MOVE <{private}> TO <{PUBLIC}>",
    ):
        with pytest.raises(Refused):
            check_update_scope(tokens(bad), minter.is_public_graph, ENDPOINT)


@pytest.mark.parametrize(
    ("update", "writes"),
    [
        ("INSERT DATA { <a> <b> <c> }", True),
        ("INSERT DATA { GRAPH <g> { <a> <b> <c> } }", False),
        ("INSERT DATA { GRAPH <g> { <a> <b> <c> } <a> <b> <c> }", True),
        ('INSERT DATA { GRAPH <g> { <a> <b> "{" } . GRAPH <h> { <a> <b> [ <c> <d> ] } }', False),
        ("DROP SILENT DEFAULT ;\nINSERT DATA {  }", False),  # an empty PUT /store?default
        ("DROP SILENT DEFAULT ;\nINSERT DATA { <a> <b> <c> }", True),
        ("WITH <g> INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", False),
        ("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } ; INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", True),
        ("DELETE { ?s ?p ?o } INSERT { GRAPH <g> { ?s ?p ?o } } WHERE { ?s ?p ?o }", False),
        ("DELETE { ?s ?p ?o } INSERT { ?s ?p ?o } WHERE { GRAPH <g> { ?s ?p ?o } }", True),
        ("DELETE DATA { <a> <b> <c> } ; DELETE WHERE { ?s ?p ?o } ; CLEAR DEFAULT", False),
        ("PREFIX x: <http://x/> INSERT DATA { x:a x:b x:c }", True),
        ("COPY <g> TO DEFAULT", True),
        ("ADD SILENT GRAPH <g> TO DEFAULT", True),
        ("COPY DEFAULT TO <h> ; CREATE GRAPH <k> ; DROP GRAPH <k>", False),
        ("LOAD <http://127.0.0.1:9/x.ttl>", True),
        ("LOAD SILENT <http://127.0.0.1:9/x.ttl> INTO GRAPH <g>", False),
    ],
)
def test_an_update_writing_the_default_graph_is_told(update, writes):
    """A remote store refuses these (graph/remote.py): none of its public reads names the server's default
    graph. What the engine writes there, run on a store with triples in both, is never missed."""
    assert sparql_text.writes_default_graph(tokens(update)) is writes
    if "LOAD" not in update:
        store = ox.Store()
        store.update("BASE <http://x/> INSERT DATA { <d> <d> <d> GRAPH <g> { <x> <y> <z> } }")
        store.update(f"BASE <http://x/>\n{update}")
        added = set(store.quads_for_pattern(None, None, None, ox.DefaultGraph())) - {
            ox.Quad(*(ox.NamedNode("http://x/d"),) * 3)
        }
        assert writes or not added


def test_the_wikidata_example_passes_the_checks_only_where_wikidata_is_allowed() -> None:
    # A researcher found no way to Wikidata: the example joins by INSEE code through SERVICE.
    text = canonical(WIKIDATA_EXAMPLE)
    check_remote(text, (WIKIDATA,), ENDPOINT)  # the grammar reads it, and its one SERVICE is allowed
    with pytest.raises(Refused, match=r"SERVICE <https://query\.wikidata\.org/sparql> refused.*\(none\)"):
        check_remote(text, (), ENDPOINT)


def test_a_refused_service_names_the_setting_that_allows_it() -> None:
    """The refusal said « only allow-listed endpoints »: whoever runs the server did not learn where."""
    said = (
        r"SERVICE <http://x/> refused: only the endpoints of the setting COMMUNS_SERVICE_ALLOWLIST are called"
    )
    with pytest.raises(Refused, match=said + r" \(<http://ok/sparql>\)"):
        check_remote("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", ("http://ok/sparql",), None)
