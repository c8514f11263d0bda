"""Fixtures shared by the whole suite: real stores with the real territorial reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.settings import DEFAULT_BASE_IRI
from graph.store import OxigraphStore
from loaders import rdf as rdf_loader
from loaders import territories

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@pytest.fixture(scope="session")
def base_iri() -> str:
    return DEFAULT_BASE_IRI


@pytest.fixture(scope="session")
def territory_triples(base_iri: str) -> list:
    """Built once per session: the whole country, ~340k triples."""
    store = OxigraphStore(base_iri)
    return territories.build(territories.REFERENCE_DIR, store.minter).graphs[0].triples


def load_reference(store: OxigraphStore, territory_triples: list) -> OxigraphStore:
    """What every deployment has before any source: territories, ontology, shapes and vocabularies."""
    store.replace_graph(store.minter.graph(territories.GRAPH_NAME), territory_triples, territories.META)
    for load in rdf_loader.ontology(store.minter).graphs:
        store.replace_graph(load.graph, load.triples, load.meta)
    return store


@pytest.fixture
def territory_store(base_iri: str, territory_triples: list) -> OxigraphStore:
    """A fresh in-memory store holding the territories graph."""
    store = OxigraphStore(base_iri)
    store.replace_graph(store.minter.graph(territories.GRAPH_NAME), territory_triples, territories.META)
    return store
