"""The DCAT 3 catalogue and VoID description of the public dataset, computed from the store and cached per
store version (the counts are the dump's: quads per public graph)."""

from __future__ import annotations

import re
import threading
import weakref

import pyoxigraph as ox

from graph.dumps import NQUADS, graph_file, public_counts
from graph.namespaces import DCAT, DCTERMS, FOAF, GEO, PREFIXES, PROV, RDF, RDFS, SKOS, XSD, sparql_prefixes
from graph.store import Store

VOID = PREFIXES["void"]
VCARD = "http://www.w3.org/2006/vcard/ns#"
DCATAP = "http://data.europa.eu/r5r/"
CATALOGUE_LICENCE = "https://creativecommons.org/licenses/by/4.0/"
FRANCE_BBOX = "POLYGON((-5.2 41.3, 9.6 41.3, 9.6 51.1, -5.2 51.1, -5.2 41.3))"
CATALOGUE_TEXT = (
    "Les données ouvertes de Comm'un Services sur l'accès aux services au public en territoires de "
    "montagne et ruraux : projets, territoires, acteurs, lieux de services, ressources et événements, "
    "en RDF, avec un point d'accès SPARQL et des téléchargements."
)
DATASET_TEXT = (
    "L'ensemble des graphes publics : référentiel territorial, lieux de services (France Services, "
    "tiers-lieux), catalogue de projets et comptes rendus de l'ADRETS, ontologie et vocabulaires."
)
NO_LICENCE = "Licence non précisée par la source : réutilisation à confirmer auprès d'elle."
_P = sparql_prefixes()
_lock = threading.Lock()
# Per store object (weakly) and version: an id() could be reused by a new store.
_cache: weakref.WeakKeyDictionary[Store, tuple[int, list[ox.Triple], dict]] = weakref.WeakKeyDictionary()


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


EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
FRANCE = EU + "country/FRA"
THEMES = {
    EU + "data-theme/GOVE": "Government and public sector",
    EU + "data-theme/REGI": "Regions and cities",
    EU + "data-theme/SOCI": "Population and society",
}
KEYWORDS = (
    "services au public",
    "territoires de montagne",
    "France Services",
    "tiers-lieux",
    "données liées",
)
CONTACT = "mailto:contact@adrets-asso.fr"
HOMEPAGE = "https://www.adrets-asso.fr/"
# Every licence the sources use asks for attribution (CC BY, Licence Ouverte, MIT).
ATTRIBUTION = "http://purl.org/adms/licencetype/Attribution"
ADMS_PUBLISHER = "http://purl.org/adms/publishertype/"
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


def describe(store: Store) -> tuple[list[ox.Triple], dict]:
    """(triples, statistics) of the catalogue, DCAT-AP 3 conformant (``tests/test_dcat_ap.py``). Every
    identifier is under the configured base: none depends on the Host a client sent."""
    version = store.version
    with _lock:
        cached = _cache.get(store)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
    stats = statistics(store)
    base = store.minter.base
    t: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        t.append(ox.Triple(s, _n(p), o))

    def fr(text: str) -> ox.Literal:
        return ox.Literal(text, language="fr")

    # A node typed (or labelled) again adds a triple already there: they are dropped at the end.
    def a(node: ox.NamedNode, cls: str) -> ox.NamedNode:
        """``node`` typed ``cls``: the shapes check the class of licences, media types, places."""
        add(node, RDF + "type", _n(cls))
        return node

    def concept(iri: str, label: str) -> ox.NamedNode:
        """A term of a shared vocabulary (EU authority tables, ADMS), with its label (the shapes ask)."""
        node = a(_n(iri), SKOS + "Concept")
        add(node, SKOS + "prefLabel", ox.Literal(label, language="en"))
        return node

    def blank(node: ox.NamedNode | ox.BlankNode, prop: str, cls: str) -> ox.BlankNode:
        """A new node of ``cls``, the value of ``prop``: a statement, a period, a distribution."""
        value = ox.BlankNode()
        add(node, prop, value)
        add(value, RDF + "type", _n(cls))
        return value

    def licence(node: ox.NamedNode | ox.BlankNode, iri: str | None, terms: str = NO_LICENCE) -> None:
        """The licence, else the ``terms`` stated as rights."""
        if iri:
            add(node, DCTERMS + "license", a(_n(iri), DCTERMS + "LicenseDocument"))
            add(_n(iri), DCTERMS + "type", concept(ATTRIBUTION, "Attribution"))
        else:
            add(blank(node, DCTERMS + "rights", DCTERMS + "RightsStatement"), RDFS + "label", fr(terms))

    def common(node: ox.NamedNode) -> None:
        """What DCAT-AP recommends on every dataset and service: publisher, contact, themes, keywords."""
        add(node, DCTERMS + "publisher", publisher)
        add(node, DCAT + "contactPoint", contact)
        for theme, label in THEMES.items():
            add(node, DCAT + "theme", concept(theme, label))
        for word in KEYWORDS:
            add(node, DCAT + "keyword", fr(word))

    def distribution(node: ox.NamedNode, url: ox.NamedNode, media: str, licence_iri: str | None) -> None:
        d = blank(node, DCAT + "distribution", DCAT + "Distribution")
        add(d, DCAT + "accessURL", url)
        add(d, DCAT + "downloadURL", url)
        add(d, DCTERMS + "description", fr("Fichier complet, mis à jour à chaque modification des données."))
        add(d, DCAT + "mediaType", a(_n(IANA + media), DCTERMS + "MediaType"))
        file_type = "RDF_N_QUADS" if media.endswith("n-quads") else "RDF_TURTLE"
        add(d, DCTERMS + "format", a(_n(EU + "file-type/" + file_type), DCTERMS + "MediaTypeOrExtent"))
        add(d, DCATAP + "availability", concept(EU + "planned-availability/STABLE", "stable"))
        if media.endswith("n-quads"):
            add(d, DCAT + "compressFormat", a(_n(IANA + "application/gzip"), DCTERMS + "MediaType"))
        licence(d, licence_iri)

    catalog = _n(base + "catalogue")
    dataset = _n(base + "jeu-de-donnees")
    publisher = _n(base + "id/organisation/adrets")
    contact = _n(base + "catalogue#contact")
    service = _n(base + "sparql")
    france = a(_n(FRANCE), DCTERMS + "Location")
    add(france, DCAT + "centroid", ox.Literal("POINT(2.35 46.6)", datatype=_n(GEO + "wktLiteral")))
    add(france, DCAT + "bbox", ox.Literal(FRANCE_BBOX, datatype=_n(GEO + "wktLiteral")))
    a(catalog, DCAT + "Catalog")
    add(catalog, DCTERMS + "title", fr("Comm'un Services — catalogue des données"))
    add(catalog, DCTERMS + "description", fr(CATALOGUE_TEXT))
    add(catalog, DCTERMS + "publisher", publisher)
    add(catalog, DCAT + "service", service)
    add(catalog, FOAF + "homepage", a(_n(base), FOAF + "Document"))
    add(catalog, DCTERMS + "language", a(_n(EU + "language/FRA"), DCTERMS + "LinguisticSystem"))
    add(catalog, DCTERMS + "spatial", france)
    licence(catalog, CATALOGUE_LICENCE)
    taxonomy = a(_n(EU + "data-theme"), SKOS + "ConceptScheme")
    add(catalog, DCAT + "themeTaxonomy", taxonomy)
    add(taxonomy, DCTERMS + "title", ox.Literal("Data theme", language="en"))
    modified = max((m["modified"] for m in stats["meta"].values() if m.get("modified")), default=None)
    if modified:
        add(catalog, DCTERMS + "modified", ox.Literal(modified, datatype=_n(XSD + "dateTime")))
        add(catalog, DCTERMS + "issued", ox.Literal(modified[:10], datatype=_n(XSD + "date")))
    for cls in (FOAF + "Organization", FOAF + "Agent"):
        a(publisher, cls)
    add(publisher, FOAF + "name", ox.Literal("ADRETS"))
    non_profit = concept(ADMS_PUBLISHER + "NonProfitOrganisation", "Non-Profit Organisation")
    add(publisher, DCTERMS + "type", non_profit)
    for cls in (VCARD + "Organization", VCARD + "Kind"):
        a(contact, cls)
    add(contact, VCARD + "fn", ox.Literal("ADRETS"))
    add(contact, VCARD + "hasEmail", _n(CONTACT))
    add(contact, VCARD + "hasURL", _n(HOMEPAGE))
    a(service, DCAT + "DataService")
    add(service, DCAT + "endpointURL", service)
    # The SPARQL 1.1 service description, which GET /sparql answers in Turtle.
    add(service, DCAT + "endpointDescription", service)
    protocol = a(_n("https://www.w3.org/TR/sparql11-protocol/"), DCTERMS + "Standard")
    add(service, DCTERMS + "conformsTo", protocol)
    add(service, DCAT + "servesDataset", dataset)
    add(service, DCTERMS + "title", fr("Point d'accès SPARQL"))
    add(
        service,
        DCTERMS + "description",
        fr("Requêtes SPARQL 1.1 sur le jeu de données public (lecture seule)."),
    )
    common(service)
    licence(service, CATALOGUE_LICENCE)
    # The whole public dataset: VoID statistics and the full dump.
    add(catalog, DCAT + "dataset", dataset)
    for cls in (DCAT + "Dataset", VOID + "Dataset"):
        a(dataset, cls)
    add(dataset, DCTERMS + "title", fr("Comm'un Services — jeu de données public"))
    add(dataset, DCTERMS + "description", fr(DATASET_TEXT))
    common(dataset)
    add(dataset, DCTERMS + "spatial", france)
    add(dataset, VOID + "sparqlEndpoint", service)
    add(dataset, VOID + "triples", ox.Literal(stats["triples"]))
    add(dataset, VOID + "uriSpace", ox.Literal(base + "id/"))
    dump = _n(base + "telechargements/" + NQUADS)
    add(dataset, VOID + "dataDump", dump)
    distribution(dataset, dump, "application/n-quads", None)
    for example in ("id/commune/73054", "id/organisation/adrets", "id/departement/73"):
        add(dataset, VOID + "exampleResource", _n(base + example))
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
    # One DCAT dataset (and VoID subset) per public graph, with its Turtle file and its licence.
    for g in stats["graphs"]:
        node = _n(g)
        meta = stats["meta"].get(g, {})
        add(catalog, DCAT + "dataset", node)
        add(dataset, VOID + "subset", node)
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            a(node, cls)
        title = meta.get("label", g)
        add(node, DCTERMS + "title", fr(title))
        add(node, DCTERMS + "description", fr(meta.get("description") or f"{title} : graphe {g}."))
        common(node)
        add(node, VOID + "triples", ox.Literal(stats["counts"][g]))
        add(node, VOID + "sparqlEndpoint", service)
        if meta.get("modified"):
            add(node, DCTERMS + "modified", ox.Literal(meta["modified"], datatype=_n(XSD + "dateTime")))
        if meta.get("source"):
            # A page or file, not a DCAT dataset described here: provenance, not dct:source.
            src = meta["source"]
            statement = blank(node, DCTERMS + "provenance", DCTERMS + "ProvenanceStatement")
            add(statement, RDFS + "label", fr(f"Chargé depuis {src}."))
            if "://" in src:
                add(node, PROV + "wasDerivedFrom", _n(src))
        # The association publishes without a licence: its terms are then stated as rights.
        licence(node, meta.get("license"), meta.get("description") or NO_LICENCE)
        add(node, DCTERMS + "spatial", france)
        if g in stats["periods"]:
            start, end = stats["periods"][g]
            period = blank(node, DCTERMS + "temporal", DCTERMS + "PeriodOfTime")
            add(period, DCAT + "startDate", _date(start))
            add(period, DCAT + "endDate", _date(end))
        file_url = _n(base + "telechargements/" + graph_file(store, g))
        add(node, VOID + "dataDump", file_url)
        distribution(node, file_url, "text/turtle", meta.get("license"))
        add(node, RDFS + "seeAlso", service)
    t = list(dict.fromkeys(t))
    with _lock:
        _cache[store] = (version, t, stats)
    return t, stats
