"""SHACL validation of the stored data against ontology/shapes.ttl, reported in plain French."""

from __future__ import annotations

import functools
import io
import sys
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate

from graph.settings import ONTOLOGY_DIR
from graph.store import Store


@functools.cache
def _shapes(directory: Path, base_iri: str) -> rdflib.Graph:
    """Parsed once per folder (a test points ONTOLOGY_DIR elsewhere) and base: every proposal is checked.
    ``sh:class`` is checked against the data, so the data carries the types of the concepts it links to."""
    return rdflib.Graph().parse(directory / "shapes.ttl", format="turtle", publicID=base_iri)


def validate_graph(
    data: rdflib.Graph, base_iri: str, focus_nodes: list[str] | None = None
) -> tuple[bool, rdflib.Graph, str]:
    """``focus_nodes`` limits the check to those nodes: their neighbours may be present only partially."""
    conforms, results, text = validate(
        data,
        shacl_graph=_shapes(ONTOLOGY_DIR, base_iri),
        inference="none",
        inplace=True,  # the data graph is built for this check: no need to copy it
        allow_warnings=True,
        advanced=True,
        focus_nodes=[rdflib.URIRef(n) for n in focus_nodes] if focus_nodes else None,
    )
    return bool(conforms), results, text


def validate_store(store: Store, graph: str | None = None) -> tuple[bool, str]:
    """Validate one graph, or every graph of what is published or about people (private ones included):
    the shapes describe published data, so a proposal not (or no longer) published, kept in its pending
    or history graphs, is not judged by them (a report publishes nothing and carries no licence)."""
    buf = io.BytesIO()
    unpublished = (store.minter.graph("en-attente/"), store.minter.graph("historique/"))
    graphs = (
        [graph]
        if graph
        else [g for g in store.graphs() if g != store.meta_graph and not g.startswith(unpublished)]
    )
    print(f"validation de {len(graphs)} graphe(s)…", file=sys.stderr)  # a full one takes minutes
    store.dump(buf, ox.RdfFormat.N_TRIPLES, graphs)
    data = rdflib.Graph()
    data.parse(data=buf.getvalue(), format="nt")
    focus = None
    if graph:  # sh:class looks in the data: add the types of what it links to, judging its own nodes only
        focus = [str(s) for s in set(data.subjects()) if isinstance(s, rdflib.URIRef)]
        linked = "CONSTRUCT { ?o a ?t } WHERE { GRAPH ?g { ?s ?p ?o } ?o a ?t }"
        public = store.minter.is_public_graph(graph)
        typed = store.construct(linked, {"g": ox.NamedNode(graph)}, public=public)
        data.parse(data="".join(f"{t} .\n" for t in typed), format="nt")
    conforms, _, text = validate_graph(data, store.minter.base, focus)
    summary = f"{len(data)} triplets validés dans {len(graphs)} graphe(s) : "
    return conforms, summary + ("conforme." if conforms else "non conforme.\n" + text)
