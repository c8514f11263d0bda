"""The embedded store: atomic graph replacement, privacy of non-public graphs, versions."""

from __future__ import annotations

import io
import os

import pyoxigraph as ox
import pytest
from remote_servers import SparqlServer, available

from graph import apart
from graph.remote import RemoteStore
from graph.store import DEFAULT_GRAPH, GraphMeta, OxigraphStore, StoreError

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def label_triple(store, key: str, text: str) -> ox.Triple:
    return ox.Triple(
        ox.NamedNode(store.minter.thing("projet", key)),
        ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        ox.Literal(text, language="fr"),
    )


@pytest.fixture(params=["memory", "disk"])
def store(request, base_iri, tmp_path):
    s = OxigraphStore(base_iri, None if request.param == "memory" else tmp_path / "store")
    yield s
    s.close()


def labels(store, graph: str) -> set[str]:
    rows = store.select("SELECT ?l WHERE { GRAPH ?g { ?s ?p ?l } }", {"g": ox.NamedNode(graph)})
    return {r["l"].value for r in rows}


def test_reload_replaces_the_graph(store):
    g = store.minter.graph("catalogue")
    store.replace_graph(g, [label_triple(store, "a", "A")], GraphMeta("Catalogue", "a.txt"))
    store.replace_graph(g, [label_triple(store, "b", "B")], GraphMeta("Catalogue", "b.txt"))
    assert labels(store, g) == {"B"}
    sources = store.select(
        "SELECT ?src WHERE { GRAPH ?m { ?g <http://purl.org/dc/terms/source> ?src } }",
        {"g": ox.NamedNode(g), "m": ox.NamedNode(store.meta_graph)},
    )
    assert [r["src"].value for r in sources] == ["b.txt"]


def test_failed_reload_leaves_previous_graph_intact(store):
    g = store.minter.graph("catalogue")
    store.replace_graph(g, [label_triple(store, "a", "A")])
    before = store.version

    def broken_source():
        yield label_triple(store, "b", "B")
        raise ValueError("the source broke half-way")

    with pytest.raises(ValueError):
        store.replace_graph(g, broken_source())
    assert labels(store, g) == {"A"}
    assert store.version == before


def test_private_graphs_are_invisible_to_public_reads(store):
    public, private = store.minter.graph("catalogue"), store.minter.private_graph("catalogue")
    store.replace_graph(public, [label_triple(store, "a", "visible")])
    store.replace_graph(private, [label_triple(store, "a", "secret@example.org")])
    everything = "SELECT ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    seen = {r["o"].value for r in store.select(everything)}
    assert "visible" in seen and "secret@example.org" not in seen
    assert "secret@example.org" in {r["o"].value for r in store.select(everything, public=False)}
    assert private not in store.public_graphs()


def test_only_a_change_to_public_graphs_moves_the_version_and_wakes_the_listeners(store):
    heard: list[int] = []
    store.listeners.append(lambda graphs: heard.append(store.version))
    public, private = store.minter.graph("catalogue"), store.minter.private_graph("contributions")
    store.replace_graph(private, [label_triple(store, "a", "A")])
    store.update(
        f'INSERT DATA {{ GRAPH <{private}> {{ <http://example.org/p> <http://example.org/m> "m" }} }}'
    )
    assert (store.version, heard, store.written) == (0, [], set())
    store.replace_graph(public, [label_triple(store, "a", "A")])
    store.update(f"INSERT DATA {{ GRAPH <{public}> {{ <http://example.org/p> <http://example.org/m> 1 }} }}")
    store.update("INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }")  # names no graph: public
    assert (store.version, heard, store.written) == (3, [1, 2, 3], {public})


def test_version_grows_and_survives_reopening(base_iri, tmp_path):
    s = OxigraphStore(base_iri, tmp_path / "store")
    s.replace_graph(s.minter.graph("x"), [label_triple(s, "a", "A")])
    s.update("INSERT DATA { <http://example.org/a> <http://example.org/b> 1 }")
    assert s.version == 2
    s.close()
    reopened = OxigraphStore(base_iri, tmp_path / "store")
    assert reopened.version == 2
    reopened.close()


def test_a_version_file_left_empty_by_a_killed_process_does_not_stop_the_store(base_iri, tmp_path):
    s = OxigraphStore(base_iri, tmp_path / "store")
    s.replace_graph(s.minter.graph("a"), [])
    counted = s.version
    s.close()
    (tmp_path / "store.version").write_text("")  # SIGKILL between truncation and write, before the fix
    s = OxigraphStore(base_iri, tmp_path / "store")
    assert s.version > counted  # above every counted version: no old ETag matches the current state
    s.replace_graph(s.minter.graph("b"), [])
    assert int((tmp_path / "store.version").read_text()) == s.version
    assert not (tmp_path / "store.version.part").exists()
    s.close()


def test_dump_keeps_graph_names_in_quad_formats(store):
    g = store.minter.graph("catalogue")
    store.replace_graph(g, [label_triple(store, "a", "A")])
    out = io.BytesIO()
    store.dump(out, ox.RdfFormat.N_QUADS, [g])
    quads = list(ox.parse(out.getvalue(), ox.RdfFormat.N_QUADS))
    assert len(quads) == 1 and quads[0].graph_name == ox.NamedNode(g)


def test_bindings_are_values_not_code(store):
    g = store.minter.graph("catalogue")
    store.replace_graph(g, [label_triple(store, "a", "A")])
    attack = ox.Literal('A"@fr } ; DROP ALL ; SELECT * { "')
    rows = store.select("SELECT ?s WHERE { ?s ?p ?l }", {"l": attack})
    assert rows == [] and store.count(g) == 1
    with pytest.raises(ValueError, match="blank node"):  # VALUES holds none: one rule for every store
        store.select("SELECT ?p WHERE { ?s ?p ?o }", {"s": ox.BlankNode()})


def test_a_binding_used_only_in_a_filter_or_aggregate_query_is_bound(store):
    g = store.minter.graph("catalogue")
    store.replace_graph(g, [label_triple(store, "a", "Savoie { WHERE }"), label_triple(store, "b", "Isère")])
    name = ox.Literal("Savoie { WHERE }", language="fr")
    query = 'SELECT ?s WHERE { ?s ?p ?l FILTER(?l = ?name && ?l != "}") } ORDER BY ?s LIMIT 5'
    assert [r["s"].value for r in store.select(query, {"name": name})] == [store.minter.thing("projet", "a")]
    grouped = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?l FILTER(CONTAINS(STR(?l), ?part)) } GROUP BY ?p"
    assert [r["n"].value for r in store.select(grouped, {"part": ox.Literal("Is")})] == ["1"]
    built = store.construct("CONSTRUCT { ?s ?p ?l } WHERE { ?s ?p ?l FILTER(?l = ?name) }", {"name": name})
    assert len(built) == 1


def test_private_graphs_metadata_is_never_public(base_iri, tmp_path):
    """A private graph's label, file name and size go to a private metadata graph."""
    path = tmp_path / "store"
    store = OxigraphStore(base_iri, path)
    private = store.minter.private_graph("contacts")
    store.replace_graph(private, [label_triple(store, "p", "P")], GraphMeta("contacts nominatifs", "c.csv"))
    public_count = store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value
    assert not store.ask(f"ASK {{ GRAPH <{store.meta_graph}> {{ <{private}> ?p ?o }} }}", public=False)
    assert store.ask(f"ASK {{ GRAPH <{store.private_meta_graph}> {{ <{private}> ?p ?o }} }}", public=False)
    assert public_count == "0" and "contacts nominatifs" not in str(store.select("SELECT * { ?s ?p ?o }"))
    store.close()


def test_private_graphs_live_in_their_own_engine(base_iri, tmp_path):
    """The public engine never holds a private quad: writes are routed by the graphs they name, one
    naming both is refused whole."""
    path = tmp_path / "store"
    store = OxigraphStore(base_iri, path)
    public, private = store.minter.graph("catalogue"), store.minter.private_graph("contacts")
    store.update(
        f'INSERT DATA {{ GRAPH <{private}> {{ <http://example.org/p> <http://example.org/m> "m" }} }}'
    )
    store.replace_graph(public, [label_triple(store, "a", "A")])
    assert store.public_graphs() == [public] and private in store.graphs()
    assert not any(q.graph_name == ox.NamedNode(private) for q in store.oxigraph)
    xy = "<http://example.org/x> <http://example.org/y>"
    both = f"INSERT DATA {{ GRAPH <{public}> {{ {xy} 1 }} GRAPH <{private}> {{ {xy} 2 }} }}"
    version = store.version
    with pytest.raises(StoreError, match="both"):
        store.update(both)
    assert store.version == version and store.count(public) == 1 and store.count(private) == 1
    store.close()


def _pid_and_graphs(store: OxigraphStore) -> tuple[int, list[str], int]:
    return os.getpid(), store.graphs(), store.version


def _fails(store: OxigraphStore) -> None:
    raise StoreError("a reason")


def test_a_whole_read_runs_apart_on_a_copy_of_the_public_data(base_iri, tmp_path):
    """graph.apart: a read of every quad (the name index, the downloads) held the serving process's GIL;
    it runs in a child process on a checkpoint of the public engine, which is deleted after."""
    store = OxigraphStore(base_iri, tmp_path / "store")
    public, private = store.minter.graph("catalogue"), store.minter.private_graph("contacts")
    store.replace_graph(public, [label_triple(store, "a", "A")])
    store.update(
        f'INSERT DATA {{ GRAPH <{private}> {{ <http://example.org/p> <http://example.org/m> "m" }} }}'
    )
    with store.public_copy() as opener:
        pid, graphs, _ = apart.call(_pid_and_graphs, opener)
        with pytest.raises(StoreError, match="a reason"):  # the child's error, raised here
            apart.call(_fails, opener)
    assert pid != os.getpid() and graphs == [public]  # the public graphs alone
    assert not any((tmp_path / "store.copies").iterdir())
    with OxigraphStore(base_iri).public_copy() as opener:
        assert opener is None  # in memory: read in the caller's thread
    store.close()


def test_a_bulk_import_mixing_public_and_private_graphs_fills_each_engine(base_iri, tmp_path):
    store = OxigraphStore(base_iri, tmp_path / "store")
    public, private = store.minter.graph("fichier"), store.minter.private_graph("fichier")
    source = tmp_path / "mixed.nq"
    source.write_text(
        f'<http://example.org/a> <http://example.org/p> "public" <{public}> .\n'
        f'<http://example.org/a> <http://example.org/m> "secret" <{private}> .\n'
        f'<http://example.org/a> <http://example.org/m> "secret" <{private}> .\n'
    )
    total = store.bulk_import(source, ox.RdfFormat.N_QUADS, [public, private], public, None)
    assert total == 2 and store.count(public) == 1 and store.count(private) == 1
    assert not store.ask('ASK { ?s ?p "secret" }') and store.ask('ASK { ?s ?p "secret" }', public=False)
    assert ox.NamedNode(private) not in set(store.oxigraph.named_graphs())
    store.close()


def test_an_update_cannot_write_a_private_graph_named_at_run_time(store):
    """``GRAPH ?g`` in an update's template names no graph its text shows: the public engine refuses
    whole an update that leaves a non-public graph in it, else the public dataset would hold it."""
    public = store.minter.graph("catalogue")
    store.replace_graph(public, [label_triple(store, "a", "A")])
    store.replace_graph(store.minter.private_graph("contacts"), [label_triple(store, "b", "B")])
    before, graphs = store.version, store.public_graphs()
    named = f'BIND(IRI(CONCAT("{store.minter.graph("")}", "prive/contacts")) AS ?g)'
    update = (
        f'INSERT DATA {{ GRAPH <{public}> {{ <urn:x> <{RDFS_LABEL}> "new" }} }} ;\n'
        f'INSERT {{ GRAPH ?g {{ <urn:x> <{RDFS_LABEL}> "secret" }} }} WHERE {{ {named} }}'
    )
    with pytest.raises(StoreError, match="non-public graph"):
        store.update(update)
    assert store.public_graphs() == graphs == [public]
    assert store.version == before and labels(store, public) == {"A"}
    everything = "SELECT ?o WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    assert "secret" not in {r["o"].value for r in store.select(everything)}
    assert "secret" not in {r["o"].value for r in store.select(everything, public=False)}


@pytest.fixture(params=["embedded", "remote"])
def either(request, base_iri, tmp_path):
    """An embedded store, or a remote one on a real Oxigraph server."""
    if request.param == "embedded":
        yield OxigraphStore(base_iri)
        return
    if why := available("oxigraph"):
        pytest.skip(why)
    server = SparqlServer("oxigraph", tmp_path)
    server.start()
    try:
        remote = RemoteStore(base_iri, server.location)
        yield remote
        remote.close()
    finally:
        server.stop()


def test_the_default_graph_is_the_unnamed_one_on_every_store(either):
    """``quads(DEFAULT_GRAPH)`` is the unnamed default graph, as the dumps read it (a remote store gave
    every graph), and ``count`` agrees with it."""
    public, private = either.minter.graph("catalogue"), either.minter.private_graph("contacts")
    either.replace_graph(public, [label_triple(either, "a", "A")])
    either.replace_graph(private, [label_triple(either, "b", "B")])
    assert list(either.quads(DEFAULT_GRAPH)) == [] and either.count(DEFAULT_GRAPH) == 0
    assert [q.graph_name.value for q in either.quads(public)] == [public]
    assert {q.graph_name.value for q in either.quads()} >= {public, private}
