"""Caches kept per store object: a new store never gets an old one's answers, even at the same address
(CPython reuses the memory, hence the id(), of an object it freed)."""

from __future__ import annotations

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


def test_a_new_store_at_a_reused_address_gets_its_own_catalogue(monkeypatch) -> None:
    """Every store at one address, as CPython may give a new object the memory of a freed one: a cache
    keyed by id() would answer the second store with the first one's catalogue."""
    monkeypatch.setattr(catalog, "id", lambda _obj: 4096, raising=False)
    first, second = _store(0), _store(1)
    assert first.version == second.version  # only the object tells them apart
    catalog.describe(first)
    objects = {t.object.value for t in catalog.describe(second)[0]}
    assert second.minter.graph("essai-1") in objects and second.minter.graph("essai-0") not in objects
