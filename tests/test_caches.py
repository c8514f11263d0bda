"""Caches kept per store object: a new store never gets an old one's answers, even at the same address
(CPython reuses the memory, hence the id(), of an object it freed)."""

from __future__ import annotations

import gc

import pyoxigraph as ox

from graph import catalog
from graph.settings import DEFAULT_BASE_IRI
from graph.store import GraphMeta, OxigraphStore


def _store(n: int) -> OxigraphStore:
    store = OxigraphStore(DEFAULT_BASE_IRI)
    graph = store.minter.graph(f"essai-{n}")
    triple = ox.Triple(
        ox.NamedNode(f"http://example.org/{n}"), ox.NamedNode("http://example.org/p"), ox.Literal(n)
    )
    store.replace_graph(graph, [triple], GraphMeta(f"essai {n}", f"essai-{n}.ttl"))
    return store


def test_a_new_store_at_a_reused_address_gets_its_own_catalogue() -> None:
    seen: dict[int, str] = {}
    reused = False
    for n in range(50):
        store = _store(n)
        triples, _ = catalog.describe(store)
        graphs = {t.object.value for t in triples if t.object.value.endswith(f"/graph/essai-{n}")}
        assert graphs, f"store {n} described without its own graph"
        assert not any(t.object.value.endswith(f"/graph/essai-{n - 1}") for t in triples) or n == 0
        reused = reused or id(store) in seen
        seen[id(store)] = str(n)
        del store, triples
        gc.collect()
    assert reused, "no address was reused: the check above proved nothing"
