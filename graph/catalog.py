"""The DCAT 3 catalogue and VoID description of the public dataset, computed from the store and cached per
store version (the counts are the dump's: quads per public graph)."""

from __future__ import annotations

import threading

import pyoxigraph as ox

from graph.dumps import NQUADS, graph_file, public_counts
from graph.namespaces import DCAT, DCTERMS, FOAF, PREFIXES, RDF, RDFS, XSD, sparql_prefixes
from graph.store import Store

VOID = PREFIXES["void"]
_P = sparql_prefixes()
_lock = threading.Lock()
_cache: dict[tuple[int, int, str], tuple[list[ox.Triple], dict]] = {}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def statistics(store: Store) -> dict:
    """Per public graph: meta (label, licence, source, modified, description) and triple count; classes
    and properties of the public dataset."""
    graphs = sorted(store.public_graphs())
    meta: dict[str, dict[str, str]] = {g: {} for g in graphs}
    rows = store.select(
        _P
        + f"""SELECT ?g ?p ?o WHERE {{ GRAPH <{store.meta_graph}> {{ ?g ?p ?o }}
        VALUES ?p {{ rdfs:label dcterms:license dcterms:source dcterms:modified dcterms:description }} }}"""
    )
    for r in rows:
        if r["g"].value in meta:
            meta[r["g"].value][r["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]] = r["o"].value
    counts = public_counts(store)
    classes = store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)"
    )
    props = store.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p ORDER BY DESC(?n)"
    )
    periods = store.select(
        _P
        + """SELECT ?g (MIN(STR(?d)) AS ?debut) (MAX(STR(?d)) AS ?fin) WHERE {
          GRAPH ?g { ?s schema:startDate|schema:endDate ?d } } GROUP BY ?g"""
    )
    return {
        "graphs": graphs,
        "meta": meta,
        "counts": counts,
        "triples": sum(counts.values()),
        "classes": [(r["c"].value, int(r["n"].value)) for r in classes],
        "properties": [(r["p"].value, int(r["n"].value)) for r in props],
        "periods": {r["g"].value: (r["debut"].value, r["fin"].value) for r in periods if "debut" in r},
    }


def describe(store: Store, site: str) -> tuple[list[ox.Triple], dict]:
    """(triples, statistics) for the catalogue at ``site`` (the server's public root URL)."""
    site = site.rstrip("/") + "/"
    key = (id(store), store.version, site)
    with _lock:
        if key in _cache:
            return _cache[key]
    stats = statistics(store)
    base = store.minter.base
    t: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        t.append(ox.Triple(s, _n(p), o))

    catalog = _n(base + "catalogue")
    dataset = _n(base + "jeu-de-donnees")
    publisher = _n(base + "id/organisation/adrets")
    service = _n(site + "sparql")
    add(catalog, RDF + "type", _n(DCAT + "Catalog"))
    add(catalog, DCTERMS + "title", ox.Literal("Comm'un Services — catalogue des données", language="fr"))
    add(catalog, DCTERMS + "publisher", publisher)
    add(catalog, DCAT + "service", service)
    add(publisher, RDF + "type", _n(FOAF + "Organization"))
    add(publisher, FOAF + "name", ox.Literal("ADRETS"))
    add(service, RDF + "type", _n(DCAT + "DataService"))
    add(service, DCAT + "endpointURL", service)
    add(service, DCAT + "servesDataset", dataset)
    add(service, DCTERMS + "title", ox.Literal("Point d'accès SPARQL", language="fr"))
    # The whole public dataset: VoID statistics and the full dump.
    add(catalog, DCAT + "dataset", dataset)
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        add(dataset, RDF + "type", _n(cls))
    add(dataset, DCTERMS + "title", ox.Literal("Comm'un Services — jeu de données public", language="fr"))
    add(dataset, DCTERMS + "publisher", publisher)
    add(dataset, VOID + "sparqlEndpoint", service)
    add(dataset, VOID + "triples", ox.Literal(stats["triples"]))
    add(dataset, VOID + "uriSpace", ox.Literal(base + "id/"))
    dump = _n(site + "telechargements/" + NQUADS)
    add(dataset, VOID + "dataDump", dump)
    dist = ox.BlankNode()
    add(dataset, DCAT + "distribution", dist)
    add(dist, RDF + "type", _n(DCAT + "Distribution"))
    add(dist, DCAT + "downloadURL", dump)
    add(dist, DCAT + "mediaType", _n("https://www.iana.org/assignments/media-types/application/n-quads"))
    add(dist, DCAT + "compressFormat", _n("https://www.iana.org/assignments/media-types/application/gzip"))
    for example in ("id/commune/73054", "id/organisation/adrets", "id/departement/73"):
        add(dataset, VOID + "exampleResource", _n(base + example))
    vocabularies = set()
    for i, (cls, n) in enumerate(stats["classes"]):
        part = _n(f"{base}jeu-de-donnees#classe-{i}")
        add(dataset, VOID + "classPartition", part)
        add(part, VOID + "class", _n(cls))
        add(part, VOID + "entities", ox.Literal(n))
    for i, (prop, n) in enumerate(stats["properties"]):
        part = _n(f"{base}jeu-de-donnees#propriete-{i}")
        add(dataset, VOID + "propertyPartition", part)
        add(part, VOID + "property", _n(prop))
        add(part, VOID + "triples", ox.Literal(n))
        for ns in PREFIXES.values():
            if prop.startswith(ns):
                vocabularies.add(ns)
    for ns in sorted(vocabularies):
        add(dataset, VOID + "vocabulary", _n(ns))
    # One DCAT dataset (and VoID subset) per public graph, with its Turtle file and its licence.
    for g in stats["graphs"]:
        node = _n(g)
        meta = stats["meta"].get(g, {})
        add(catalog, DCAT + "dataset", node)
        add(dataset, VOID + "subset", node)
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            add(node, RDF + "type", _n(cls))
        add(node, DCTERMS + "title", ox.Literal(meta.get("label", g), language="fr"))
        if meta.get("description"):
            add(node, DCTERMS + "description", ox.Literal(meta["description"], language="fr"))
        add(node, DCTERMS + "publisher", publisher)
        add(node, VOID + "triples", ox.Literal(stats["counts"][g]))
        add(node, VOID + "sparqlEndpoint", service)
        if meta.get("modified"):
            add(node, DCTERMS + "modified", ox.Literal(meta["modified"], datatype=_n(XSD + "dateTime")))
        if meta.get("source"):
            src = meta["source"]
            add(node, DCTERMS + "source", _n(src) if "://" in src else ox.Literal(src))
        licence = meta.get("license")
        # No licence IRI (the association publishes without one): the terms are stated as rights.
        rights = ox.Literal(meta.get("description") or "Licence non précisée par la source.", language="fr")
        add(node, *((DCTERMS + "license", _n(licence)) if licence else (DCTERMS + "rights", rights)))
        spatial = "http://publications.europa.eu/resource/authority/country/FRA"
        add(node, DCTERMS + "spatial", _n(spatial))
        if g in stats["periods"]:
            start, end = stats["periods"][g]
            period = ox.BlankNode()
            add(node, DCTERMS + "temporal", period)
            add(period, RDF + "type", _n(DCTERMS + "PeriodOfTime"))
            add(period, DCAT + "startDate", ox.Literal(start))
            add(period, DCAT + "endDate", ox.Literal(end))
        file_url = _n(site + "telechargements/" + graph_file(store, g))
        add(node, VOID + "dataDump", file_url)
        d = ox.BlankNode()
        add(node, DCAT + "distribution", d)
        add(d, RDF + "type", _n(DCAT + "Distribution"))
        add(d, DCAT + "downloadURL", file_url)
        add(d, DCAT + "mediaType", _n("https://www.iana.org/assignments/media-types/text/turtle"))
        add(d, *((DCTERMS + "license", _n(licence)) if licence else (DCTERMS + "rights", rights)))
        add(node, RDFS + "seeAlso", _n(site + "sparql"))
    with _lock:
        _cache.clear()
        _cache[key] = (t, stats)
    return t, stats
