"""The query runner and the reader behind ``store_of`` on a real disk store; the lexical guards."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_helpers import BASE, PRIVATE, PROJECTS, PUBLIC, SECRET, build_store

from api.sparql import Problem, as_sparql11, check_remote, check_update_scope, rewrite_update, scans, tokens
from graph import runner as runner_module
from graph.namespaces import Minter
from graph.runner import RESULTS_JSON, SNAPSHOTS_KEPT, Job, OpenSnapshot, QueryRunner, Reader, Slots
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
    with pytest.raises(QueryTimeout):
        reader.select(HEAVY, timeout=0.5)
    assert time.monotonic() - t0 < 1.5
    with pytest.raises(StoreError, match="1:"):
        reader.select("SELECT * WHERE { ?s ?p }")
    assert reader.runner.kills >= 1 and reader.ask("ASK {}")


@pytest.mark.parametrize(
    ("text", "scan"),
    [
        ("SELECT ?p ?o WHERE { <http://x/a> ?p ?o }", True),
        ("PREFIX s: <http://s/> BASE <http://b/> SELECT * { s:a ?p ?o . } LIMIT 10", True),
        ("ASK { ?s a <http://s/P> }", True),
        ("SELECT ?s WHERE { ?s ?p 'a literal' }", False),  # a filter on the value: reads may yield no row
        ("SELECT ?s WHERE { ?s ?p 42 }", False),
        ("SELECT ?x WHERE { ?x ?x ?o }", False),  # a repeated variable filters what is read
        ("SELECT ?s WHERE { _:b ?p ?s }", False),
        ("SELECT ?s WHERE { ?s ?p ?o } OFFSET 100", False),  # rows read and skipped, none written
        ("SELECT DISTINCT ?p WHERE { ?s ?p ?o }", False),
        ("SELECT ?s WHERE { ?s ?p ?o FILTER(?o > 1) }", False),
        ("SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r }", False),
        ("SELECT ?s WHERE { ?s <http://p>* ?o }", False),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", False),
        ("SELECT ?s FROM <http://g> WHERE { ?s ?p ?o }", False),
        ("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s", False),
        ("CONSTRUCT WHERE { ?s ?p ?o }", False),
        ("SELECT ?p ?o WHERE { <http://x/a> ?p ?o }\n# request 12", True),
        ("SELECT?p?o{<http://x/a>?p?o}", True),
        ("ask{?s a :C}", True),
        ("SELECT ?s WHERE { ?s ?p ?o } # } OPTIONAL { ?o ?q ?r }", True),  # a comment says nothing
        ("SELECT ?s WHERE { ?s ?p ?o \\u007D OPTIONAL { ?o ?q ?r } }", False),  # an escaped brace is one
        ("SELECT ?s WHERE { ?s ?p ?o } LIMIT 10 OFFSET 2", False),
        ("SELECT ?s WHERE { ?s ab:c ?o . ?o ?q ?r }", False),
        ("SELECT ?s WHERE { ?s ?p '}' }", False),
    ],
)
def test_only_one_pattern_queries_count_as_scans(text: str, scan: bool) -> None:
    assert scans(text) is scan


def test_one_pattern_queries_are_answered_without_a_worker_and_stopped_on_time(
    reader: Reader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup is answered in the calling thread; a scan that outgrows the budget is stopped by the writer
    and answered whole by a worker; past its deadline it is a timeout, as any query."""
    runner = reader.runner
    reader.ask("ASK {}")  # publishes the current version; the snapshot is then opened in a thread
    lookup = Job(f"SELECT ?p ?o WHERE {{ <{BASE}id/projet/essai-2> ?p ?o }}", RESULTS_JSON, None, scans=True)
    for _ in range(100):
        before = runner.inlined
        body = b"".join(asyncio.run(runner.run_async(lookup, 5)).chunks)
        if runner.inlined > before:
            break
        time.sleep(0.05)
    assert runner.inlined == before + 1, "the lookup never ran without a worker"
    assert "Projet d'essai 2" in body.decode()
    everything = Job("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "text/csv", None, scans=True)
    total = int(reader.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value)
    monkeypatch.setattr(runner_module, "INLINE_MAX", 4096)
    inlined = runner.inlined
    body = b"".join(asyncio.run(runner.run_async(everything, 5)).chunks)
    assert runner.inlined == inlined and len(list(csv.reader(io.StringIO(body.decode())))) == total + 1
    with pytest.raises(QueryTimeout):
        asyncio.run(runner.run_async(everything, 1e-6))
    assert runner.inlined == inlined


def test_writes_are_published_to_new_snapshots(reader: Reader) -> None:
    graph = BASE + "graph/essai-publication"
    reader.store.update(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{BASE}id/projet/neuf> a <http://schema.org/Project> }} }}"
    )
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS + 1
    reader.store.drop_graph(graph)
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS
    # The last snapshots served, plus at most the checkpoints waiting for compaction and being compacted.
    snapshots = [p for p in Path(reader.runner.snapshot_dir).iterdir() if p.is_dir()]  # not the board file
    assert len(snapshots) <= SNAPSHOTS_KEPT + 2


def test_snapshots_are_compacted_then_served(reader: Reader) -> None:
    graph = BASE + "graph/essai-compaction"
    for i in range(2):  # the second write supersedes the first one's compaction
        project = f"<{BASE}id/projet/compact-{i}>"
        reader.store.update(
            f"INSERT DATA {{ GRAPH <{graph}> {{ {project} a <http://schema.org/Project> }} }}"
        )
        assert reader.ask("ASK {}")  # publishes
    version = reader.store.version
    deadline = time.monotonic() + 60
    while reader.runner.compacted != version:
        assert time.monotonic() < deadline, "the snapshot was not compacted within 60 s"
        time.sleep(0.05)
    assert reader.runner.snapshot_path.endswith("-compact")
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS + 2
    assert reader.select(f"SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}") == []
    reader.store.drop_graph(graph)
    assert len(reader.construct("CONSTRUCT WHERE { ?s a <http://schema.org/Project> }")) == PROJECTS


def test_small_snapshots_answer_lookups_from_memory_never_from_an_older_version(tmp_path: Path) -> None:
    path = tmp_path / "store"
    build_store(path)
    store = OxigraphStore(BASE, path)
    runner = QueryRunner(store, workers=1, memory_quads=100_000)
    lookup = Job(f"SELECT ?p ?o WHERE {{ <{BASE}id/projet/essai-2> ?p ?o }}", RESULTS_JSON, None, scans=True)
    everything = Job("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", "text/csv", None, scans=True)

    def copied() -> None:
        deadline = time.monotonic() + 30
        while runner.in_memory != store.version:
            assert time.monotonic() < deadline, "the snapshot was never copied into memory"
            time.sleep(0.02)

    def answer(job: Job) -> str:
        inlined = runner.inlined
        body = b"".join(asyncio.run(runner.run_async(job, 5)).chunks).decode()
        return body if runner.inlined > inlined else f"(not inlined) {body}"

    try:
        copied()
        body = answer(lookup)
        assert "Projet d'essai 2" in body and not body.startswith("(not inlined)")
        assert SECRET not in answer(everything)  # a copy of the public snapshot: no private graph in it
        store.update(
            f"INSERT DATA {{ GRAPH <{BASE}graph/essai-memoire> {{ <{BASE}id/projet/essai-2> "
            f'<http://www.w3.org/2000/01/rdf-schema#comment> "écrit après la copie" }} }}'
        )
        assert "écrit après la copie" in answer(lookup)  # at once: the older copy is not used
        copied()
        assert "écrit après la copie" in answer(lookup)
    finally:
        runner.close()
        store.close()
    # Past the limit, nothing is copied.
    snapshot = OpenSnapshot(memory_quads=1)
    opened = snapshot.now(0, str(path))
    snapshot.copy_to_memory(0, str(path), opened)
    assert snapshot.in_memory is None and snapshot.soon(0, str(path)) is opened


def test_slots_go_to_the_longest_waiter() -> None:
    slots = Slots(1)
    assert slots.acquire(0) and not slots.acquire_now()
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
    assert not slots.acquire_now()  # handed to the first waiter, never free: a newcomer cannot take it
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]
    assert slots.acquire(0)
    started = time.monotonic()
    assert not slots.acquire(0.2) and 0.15 < time.monotonic() - started < 2
    slots.release()  # the timed-out waiter left the queue: the slot is free again
    assert slots.acquire_now()


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


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", True),
        ("SELECT * { sErViCe SILENT <http://x/> { } }", True),
        ("SELECT * { \\u0053ERVICE <http://x/> { } }", True),
        ("PREFIX a: <http://ok/> SELECT * { SERVICE a:sparql { } }", False),
        ("SELECT * { SERVICE <http://ok/sparql> { } }", False),
        ("SELECT ?service { ?service ex:SERVICE 'SERVICE' } # SERVICE <http://x/>", False),
        ("LOAD <http://x/data.ttl>", True),
    ],
)
def test_remote_guard(text: str, refused: bool) -> None:
    if refused:
        with pytest.raises(Problem):
            check_remote(tokens(text), ("http://ok/sparql",))
    else:
        check_remote(tokens(text), ("http://ok/sparql",))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SELECT (GROUP_CONCAT(?o) AS ?g) {}", "SELECT (STR(GROUP_CONCAT(?o)) AS ?g) {}"),
        (
            'SELECT (group_concat(DISTINCT ?o; SEPARATOR=")") AS ?g) {} HAVING(GROUP_CONCAT(?o))',
            'SELECT (STR(group_concat(DISTINCT ?o; SEPARATOR=")")) AS ?g) {} HAVING(STR(GROUP_CONCAT(?o)))',
        ),
        (
            "SELECT (GROUP_CONCAT(STR(<http://a/(b>)) AS ?g) {}",
            "SELECT (STR(GROUP_CONCAT(STR(<http://a/(b>))) AS ?g) {}",
        ),
        (
            'SELECT ("GROUP_CONCAT(" AS ?x) # GROUP_CONCAT(\n{}',
            'SELECT ("GROUP_CONCAT(" AS ?x) # GROUP_CONCAT(\n{}',
        ),
        (
            "SELECT (GROUP_CONCAT(?o AS ?g {",
            "SELECT (GROUP_CONCAT(?o AS ?g {",
        ),  # unclosed: left to the parser
    ],
)
def test_group_concat_rewritten_to_a_simple_literal(text: str, expected: str) -> None:
    assert as_sparql11(text) == expected


def test_update_rewrite_and_scope() -> None:
    minter = Minter(BASE)
    text = rewrite_update("CLEAR SILENT ALL ; DROP NAMED", [PUBLIC], [], [])
    assert text == f"CLEAR SILENT DEFAULT ;\nCLEAR SILENT GRAPH <{PUBLIC}> ; DROP SILENT GRAPH <{PUBLIC}>"
    text = rewrite_update("INSERT { ?s a ?o } WHERE { ?s a ?o }", [], [PUBLIC], [PUBLIC])
    assert f"USING <{PUBLIC}> USING NAMED <{PUBLIC}> WHERE" in text
    check_update_scope(tokens(text), minter.is_public_graph)
    with pytest.raises(Problem):
        rewrite_update("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", [], [PUBLIC], [])
    for bad in (
        f"PREFIX g: <{BASE}graph/> INSERT DATA {{ GRAPH g:prive\\/x {{ <http://a> <http://b> 1 }} }}",
        "INSERT { GRAPH <http://g> { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
        "DROP ALL",
    ):
        with pytest.raises(Problem):
            check_update_scope(tokens(bad), minter.is_public_graph)


def test_sparql_is_served_under_a_root_path(tmp_path: Path) -> None:
    """/sparql goes around FastAPI's routing (api.app.App): behind a proxy that keeps its prefix in
    the path (root_path), it must still be found, and the rest of the site still routed."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from graph.settings import Settings

    build_store(tmp_path / "store")
    store = OxigraphStore(BASE, tmp_path / "store")
    settings = Settings(
        store=str(tmp_path / "store"),
        secret_key="s" * 32,
        uploads_dir=str(tmp_path / "up"),
        accounts_db=str(tmp_path / "c.sqlite"),
    )
    try:
        with TestClient(create_app(settings, store), root_path="/communs") as client:
            query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?p a <http://schema.org/Project> }"}
            for path in ("/communs/sparql", "/sparql"):
                r = client.get(path, params=query, headers={"Accept": "text/csv"})
                assert r.status_code == 200 and r.text.splitlines() == ["n", str(PROJECTS)], (path, r.text)
            assert client.get("/communs/", headers={"Accept": "text/html"}).status_code == 200
    finally:
        store.close()
