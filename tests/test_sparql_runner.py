"""The query runner and the reader behind ``store_of`` on a real disk store; the lexical guards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_helpers import BASE, PRIVATE, PROJECTS, PUBLIC, SECRET, build_store

from graph.pool import Job, QueryRunner, Reader, Slots
from graph.snapshots import SNAPSHOTS_KEPT
from graph.store import OxigraphStore, QueryTimeout, StoreError

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    path = tmp_path_factory.mktemp("runner") / "store"
    build_store(path)
    store = OxigraphStore(BASE, path)
    runner = QueryRunner(store, workers=2)
    try:
        yield Reader(store, runner, timeout=5)
    finally:
        runner.close()
        store.close()


def test_reader_reads_public_data_with_bindings(reader: Reader) -> None:
    rows = reader.select(
        "SELECT ?label WHERE { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
        {"p": ox.NamedNode(f"{BASE}id/projet/essai-2")},
    )
    assert [r["label"].value for r in rows] == ["Projet d'essai 2"]
    assert reader.ask("ASK { ?s a <http://schema.org/Project> }")
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS
    # The snapshot has no private graph at all; public=False reads the store itself.
    assert reader.select(f"SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}") == []
    private = reader.select(f"SELECT ?o WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}", public=False)
    assert [r["o"].value for r in private] == [SECRET]
    assert PUBLIC in reader.graphs() and reader.version == reader.store.version


def test_reader_deadline_and_errors(reader: Reader) -> None:
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="its 0.5 s deadline"):
        reader.select(HEAVY, timeout=0.5)
    assert time.monotonic() - t0 < 1.5
    with pytest.raises(StoreError, match="1:"):
        reader.select("SELECT * WHERE { ?s ?p }")
    assert reader.runner.kills >= 1 and reader.ask("ASK {}")


def test_writes_are_published_to_new_snapshots(reader: Reader) -> None:
    graph = BASE + "graph/essai-publication"
    reader.store.update(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{BASE}id/projet/neuf> a <http://schema.org/Project> }} }}"
    )
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS + 1
    reader.store.update(f"DROP GRAPH <{graph}>")
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS
    # Only the last snapshots served are kept.
    snapshots = [p for p in Path(reader.runner.snapshots.dir).iterdir() if p.is_dir()]
    assert len(snapshots) <= SNAPSHOTS_KEPT


def test_a_snapshot_is_the_public_store_as_it_is(reader: Reader) -> None:
    """Private graphs live in their own engine beside the public one: a snapshot is a checkpoint of the
    public engine, with nothing removed from it, and no private quad in it."""
    store = reader.store
    assert isinstance(store, OxigraphStore) and store.path is not None
    project = f"<{BASE}id/projet/cliche>"
    store.update(f"INSERT DATA {{ GRAPH <{PRIVATE}> {{ {project} <{BASE}def/note> 'privée' }} }}")
    store.update(f"INSERT DATA {{ GRAPH <{PUBLIC}> {{ {project} a <http://schema.org/Project> }} }}")
    snapshot = ox.Store.read_only(reader.runner.snapshots.current()[1])
    assert len(snapshot) == len(store.oxigraph) and ox.NamedNode(PRIVATE) not in set(snapshot.named_graphs())
    assert not any(isinstance(o, ox.Literal) and o.value in (SECRET, "privée") for _, _, o, _ in snapshot)
    assert store.path.with_name(store.path.name + ".private").is_dir()
    assert reader.ask(f"ASK {{ {project} a <http://schema.org/Project> }}")
    store.update(f"DELETE DATA {{ GRAPH <{PUBLIC}> {{ {project} a <http://schema.org/Project> }} }}")
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS


def test_slots_go_to_the_longest_waiter() -> None:
    slots = Slots(1)
    assert slots.acquire(0) and not slots.acquire(0)
    order: list[int] = []

    def wait(i: int) -> None:
        assert slots.acquire(10)
        order.append(i)
        slots.release()

    threads = [threading.Thread(target=wait, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
        time.sleep(0.05)  # they queue in this order
    slots.release()
    assert not slots.acquire(0)  # handed to the first waiter, never free: a newcomer cannot take it
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]
    assert slots.acquire(0)
    started = time.monotonic()
    assert not slots.acquire(0.2) and 0.15 < time.monotonic() - started < 2
    slots.release()  # the timed-out waiter left the queue: the slot is free again
    assert slots.acquire(0)


def test_memory_store_runs_in_threads() -> None:
    store = OxigraphStore(BASE)
    store.replace_graph(
        PUBLIC, [ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.Literal(1))]
    )
    store.replace_graph(
        PRIVATE, [ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://c"), ox.Literal(2))]
    )
    runner = QueryRunner(store)
    answer = runner.run(Job("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "text/csv", None), 5)
    assert b"".join(answer.chunks).decode().splitlines() == ["s,p,o", "http://a,http://b,1"]
