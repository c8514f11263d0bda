"""The DCAT 3 catalogue and VoID description of the public dataset, computed from the store and cached per
store version (the counts are the dump's: quads per public graph), the files' sizes once the downloads of
that version are built."""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from graph import data_inclusion
from graph.describe import Text
from graph.dumps import CSV_QUERIES, DATA_INCLUSION_DIR, DATA_INCLUSION_TITLE, graph_file, public_counts
from graph.namespaces import DCAT, DCTERMS, PREFIXES, PROV, RDF, RDFS, VOID, XSD, sparql_prefixes
from graph.store import DEFAULT_GRAPH, Store
from loaders import data_inclusion_vocabularies as vocab

DCATAP = "http://data.europa.eu/r5r/"
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
# A file's media type (IANA) and format (EU file-type authority), by its extension.
FILE_TYPES = {
    "ttl": ("text/turtle", "RDF_TURTLE"),
    "csv": ("text/csv", "CSV"),
    "json": ("application/json", "JSON"),
}
FIXED = Path(__file__).with_name("catalogue.ttl")  # catalogue, publisher, contact, service, whole dataset
# What each public graph's dataset takes from the whole dataset's description in FIXED.
SHARED = {DCTERMS + "publisher", DCAT + "contactPoint", DCAT + "theme", DCAT + "keyword", DCTERMS + "spatial"}
NO_LICENCE = "Licence non précisée par la source : réutilisation à confirmer auprès d'elle."
DEFAULT = {
    "label": "Graphe par défaut",
    "description": "Triplets écrits sans nommer de graphe (mise à jour SPARQL ou /store?default d'un "
    "détenteur de jeton) : les requêtes publiques les lisent avec les graphes nommés.",
}
META = {
    "label": "Provenance des graphes",
    "description": "Pour chaque graphe public : son titre, sa source, sa licence, sa date de mise à jour et "
    "son nombre de triplets.",
}
_P = sparql_prefixes()
_lock = threading.Lock()
# Per store object (weakly) and version: an id() could be reused by a new store.
_cache: weakref.WeakKeyDictionary[Store, tuple[int, list[ox.Triple], dict]] = weakref.WeakKeyDictionary()


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def meta_entry(predicate: str, value: ox.Literal | ox.NamedNode) -> tuple[str, str]:
    """One statement of the metadata graph on a graph, by the name the catalogue and the resource pages
    give it (its local name: label, source…). The sources' titles and descriptions are French (dct:title
    @fr below): a Text that a page marks so."""
    key = predicate.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if key in ("label", "description"):  # literals, as the loaders write them
        return key, Text(value.value, value.language or "fr")
    return key, value.value


def statistics(store: Store) -> dict:
    """Per public graph: meta (label, licence, source, issued, modified, description) and triple count;
    classes and properties of the public dataset."""
    counts = public_counts(store)
    graphs = list(counts)
    meta: dict[str, dict[str, str]] = {g: {} for g in graphs}
    for g, described in {DEFAULT_GRAPH: DEFAULT, store.meta_graph: META}.items():
        if g in meta:  # graphs no source describes: described here
            meta[g] = dict(described)
    rows = store.select(
        _P
        + f"""SELECT ?g ?p ?o WHERE {{ GRAPH <{store.meta_graph}> {{ ?g ?p ?o }}
        VALUES ?p {{ rdfs:label dcterms:license dcterms:source dcterms:issued dcterms:modified
          dcterms:description }} }}"""
    )
    for r in rows:
        if r["g"].value in meta:
            key, value = meta_entry(r["p"].value, r["o"])
            meta[r["g"].value][key] = value
    dates = [m["modified"] for m in meta.values() if m.get("modified")]
    if store.meta_graph in meta and dates:  # it changes with every graph it describes
        meta[store.meta_graph]["modified"] = max(dates)
    classes = store.select("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c")
    props = store.select("SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?p")
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
        "classes": _ranked((r["c"].value, int(r["n"].value)) for r in classes),
        "properties": _ranked((r["p"].value, int(r["n"].value)) for r in props),
        "periods": {r["g"].value: (r["debut"].value, r["fin"].value) for r in periods if "debut" in r},
    }


def _ranked(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """The most frequent first, ties by IRI: a partition's IRI (``#classe-3``) is its rank, and each store
    breaks ties in its own order, so the same data would name its partitions otherwise on another."""
    return sorted(counts, key=lambda c: (-c[1], c[0]))


DATE_TYPES = (
    (re.compile(r"^\d{4}$"), "gYear"),
    (re.compile(r"^\d{4}-\d{2}$"), "gYearMonth"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "date"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T"), "dateTime"),
)


def _date(text: str) -> ox.Literal:
    """A period's bound typed as what it is ("2015-04" is an xsd:gYearMonth), never a plain string."""
    for pattern, name in DATE_TYPES:
        if pattern.match(text):
            return ox.Literal(text, datatype=_n(XSD + name))
    return ox.Literal(text)


def _labelled(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Blank nodes named by their order of appearance: pyoxigraph's fresh ones are random, and the RDF
    answers' ETag (a version, not a digest) promises the same bytes for the same version after a restart."""
    names: dict[ox.BlankNode, ox.BlankNode] = {}

    def name(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if isinstance(term, ox.BlankNode):
            return names.setdefault(term, ox.BlankNode(f"b{len(names)}"))
        return term

    return [ox.Triple(name(t.subject), t.predicate, name(t.object)) for t in triples]


def describe(store: Store, manifest: dict | None = None) -> tuple[list[ox.Triple], dict]:
    """(triples, statistics) of the catalogue, DCAT-AP 3 conformant (tests/test_catalogue_dumps.py checks
    it against the official shapes). ``manifest``, the downloads' (graph/dumps.py), gives each file its
    dcat:byteSize when it is of the store's version: one described before them is described again once
    they are (``stats["sizes"]`` says whether it has them)."""
    version = store.version
    sizes = (
        {f["name"]: f["bytes"] for f in manifest["files"]}
        if manifest and manifest["version"] == version
        else {}
    )
    with _lock:
        cached = _cache.get(store)
        if cached is not None and cached[0] == version and (cached[2]["sizes"] or not sizes):
            return cached[1], cached[2]
    stats = {**statistics(store), "sizes": sizes, "version": version}
    base = store.minter.base
    t = list(ox.parse(path=str(FIXED), format=ox.RdfFormat.TURTLE, base_iri=base))
    catalog, dataset, service = _n(base + "catalogue"), _n(base + "jeu-de-donnees"), _n(base + "sparql")
    shared = [(x.predicate, x.object) for x in t if x.subject == dataset and x.predicate.value in SHARED]

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        t.append(ox.Triple(s, _n(p), o))

    def fr(text: str) -> ox.Literal:
        return ox.Literal(text, language="fr")

    def blank(node: ox.NamedNode | ox.BlankNode, prop: str, cls: str) -> ox.BlankNode:
        """A new node of ``cls``, the value of ``prop``: a statement, a period, a distribution."""
        value = ox.BlankNode()
        add(node, prop, value)
        add(value, RDF + "type", _n(cls))
        return value

    # A licence typed again adds a triple already there: they are dropped at the end.
    def licence(node: ox.NamedNode | ox.BlankNode, iri: str | None, terms: str) -> None:
        """The licence (every one the sources use asks for attribution), else the ``terms`` as rights."""
        if iri:
            add(node, DCTERMS + "license", _n(iri))
            add(_n(iri), RDF + "type", _n(DCTERMS + "LicenseDocument"))
            add(_n(iri), DCTERMS + "type", _n("http://purl.org/adms/licencetype/Attribution"))
        else:
            add(blank(node, DCTERMS + "rights", DCTERMS + "RightsStatement"), RDFS + "label", fr(terms))

    def distribution(node: ox.NamedNode, name: str, title: str) -> ox.BlankNode:
        """A file of /telechargements (its size is added at the end, when the downloads are built)."""
        url = _n(base + "telechargements/" + name)
        media, file_type = FILE_TYPES[name.rsplit(".", 1)[-1]]
        media, file_type = _n(IANA + media), _n(f"{EU}file-type/{file_type}")
        d = blank(node, DCAT + "distribution", DCAT + "Distribution")
        add(d, DCAT + "accessURL", url)
        add(d, DCAT + "downloadURL", url)
        add(d, DCTERMS + "title", fr(title))
        add(d, DCTERMS + "description", fr("Fichier complet, mis à jour à chaque modification des données."))
        add(d, DCAT + "mediaType", media)
        add(media, RDF + "type", _n(DCTERMS + "MediaType"))
        add(d, DCTERMS + "format", file_type)
        add(file_type, RDF + "type", _n(DCTERMS + "MediaTypeOrExtent"))
        add(d, DCATAP + "availability", _n(EU + "planned-availability/STABLE"))
        return d

    modified = max((m["modified"] for m in stats["meta"].values() if m.get("modified")), default=None)
    if modified:
        add(catalog, DCTERMS + "modified", ox.Literal(modified, datatype=_n(XSD + "dateTime")))
        add(catalog, DCTERMS + "issued", ox.Literal(modified[:10], datatype=_n(XSD + "date")))
        add(dataset, DCTERMS + "modified", ox.Literal(modified, datatype=_n(XSD + "dateTime")))
    # What a citation names (each answer's Dataset-Version header says it too), with its date above.
    add(dataset, DCAT + "version", ox.Literal(str(version)))
    add(dataset, VOID + "triples", ox.Literal(stats["triples"]))
    add(dataset, VOID + "uriSpace", ox.Literal(base + "id/"))
    for key, word, (partition, kind, count) in (
        ("classes", "classe", ("classPartition", "class", "entities")),
        ("properties", "propriete", ("propertyPartition", "property", "triples")),
    ):
        for i, (item, n) in enumerate(stats[key]):
            part = _n(f"{base}jeu-de-donnees#{word}-{i}")
            add(dataset, VOID + partition, part)
            add(part, VOID + kind, _n(item))
            add(part, VOID + count, ox.Literal(n))
    vocabularies = {ns for prop, _ in stats["properties"] for ns in PREFIXES.values() if prop.startswith(ns)}
    for ns in sorted(vocabularies):
        add(dataset, VOID + "vocabulary", _n(ns))
    # The whole dataset's tables (one CSV per main class) and data·inclusion export, beside its N-Quads
    # file (FIXED): under the same several licences.
    schema, package = _n(vocab.REPOSITORY), vocab.package_version()
    add(schema, RDF + "type", _n(DCTERMS + "Standard"))
    add(schema, DCTERMS + "title", fr(f"Schéma data·inclusion {package}"))
    exports = [(name, title) for name, title, _ in CSV_QUERIES] + [
        (f"{DATA_INCLUSION_DIR}/{name}", DATA_INCLUSION_TITLE.format(package=package, name=name))
        for name in data_inclusion.FILES
    ]
    for name, title in exports:
        d = distribution(dataset, name, title)
        add(d, DCTERMS + "rights", _n(base + "catalogue#licences"))
        if name.startswith(DATA_INCLUSION_DIR):
            add(d, DCTERMS + "conformsTo", schema)
    # One DCAT dataset (and VoID subset) per public graph, with its Turtle file and its licence.
    for g in stats["graphs"]:
        node = _n(g or base + "jeu-de-donnees#graphe-par-defaut")
        meta = stats["meta"].get(g, {})
        add(catalog, DCAT + "dataset", node)
        add(dataset, VOID + "subset", node)
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            add(node, RDF + "type", _n(cls))
        title = meta.get("label", g)
        add(node, DCTERMS + "title", fr(title))
        add(node, DCTERMS + "description", fr(meta.get("description") or f"{title} : graphe {g}."))
        t.extend(ox.Triple(node, p, o) for p, o in shared)
        add(node, VOID + "triples", ox.Literal(stats["counts"][g]))
        add(node, VOID + "sparqlEndpoint", service)
        if meta.get("modified"):
            add(node, DCTERMS + "modified", ox.Literal(meta["modified"], datatype=_n(XSD + "dateTime")))
        if meta.get("issued"):  # the source's own date: the load's, dct:modified, says nothing of the data's
            add(node, DCTERMS + "issued", _date(meta["issued"]))
        if meta.get("source"):
            # A page or file, not a DCAT dataset described here: provenance, not dct:source.
            src = meta["source"]
            statement = blank(node, DCTERMS + "provenance", DCTERMS + "ProvenanceStatement")
            add(statement, RDFS + "label", fr(f"Chargé depuis {src}."))
            if "://" in src:
                add(node, PROV + "wasDerivedFrom", _n(src))
        # The association publishes without a licence: its terms are then stated as rights.
        terms = meta.get("description") or NO_LICENCE
        licence(node, meta.get("license"), terms)
        if g in stats["periods"]:
            start, end = stats["periods"][g]
            period = blank(node, DCTERMS + "temporal", DCTERMS + "PeriodOfTime")
            add(period, DCAT + "startDate", _date(start))
            add(period, DCAT + "endDate", _date(end))
        name = graph_file(store, g)
        add(node, VOID + "dataDump", _n(base + "telechargements/" + name))
        licence(distribution(node, name, f"{title} (Turtle)"), meta.get("license"), terms)
        add(node, RDFS + "seeAlso", service)
    urls = {base + "telechargements/" + name: size for name, size in sizes.items()}
    byte_size, count = _n(DCAT + "byteSize"), _n(XSD + "nonNegativeInteger")
    t += [  # the N-Quads file's (FIXED) too
        ox.Triple(x.subject, byte_size, ox.Literal(str(urls[x.object.value]), datatype=count))
        for x in t
        if x.predicate.value == DCAT + "downloadURL" and x.object.value in urls
    ]
    # A file whose graphs share one licence is under it, as the downloads' manifest says (once built).
    shared = (
        {base + "telechargements/" + f["name"]: f.get("license") for f in manifest["files"]} if sizes else {}
    )
    for x in [x for x in t if x.predicate.value == DCAT + "downloadURL" and shared.get(x.object.value)]:
        licence(x.subject, shared[x.object.value], "")
    t = _labelled(list(dict.fromkeys(t)))
    with _lock:
        _cache[store] = (version, t, stats)
    return t, stats
