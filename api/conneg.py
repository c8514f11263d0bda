"""Content negotiation for SPARQL results and RDF, and compacted JSON-LD with the platform's prefixes.

Accept headers are parsed by python-mimeparse (q-values, wildcards); on a tie the first format listed
here wins, so the lists start with the format a client that says ``*/*`` should get.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable

import mimeparse
import pyoxigraph as ox

from graph.namespaces import PREFIXES

# name → media type; the first of each list is the default.
RESULTS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPHS = {
    "turtle": "text/turtle",
    "jsonld": "application/ld+json",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "nquads": "application/n-quads",
}
# Other names clients send for the same formats.
ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "text/plain": "application/n-triples",
    "application/x-turtle": "text/turtle",
}
# ``format=`` values (also the download links' names).
FORMAT_NAMES = {
    "json": ("json", None),
    "srj": ("json", None),
    "xml": ("xml", "rdfxml"),
    "srx": ("xml", None),
    "csv": ("csv", None),
    "tsv": ("tsv", None),
    "turtle": (None, "turtle"),
    "ttl": (None, "turtle"),
    "n3": (None, "turtle"),  # SPARQLWrapper's N3 mode; Turtle is N3's RDF subset
    "jsonld": (None, "jsonld"),
    "json-ld": (None, "jsonld"),
    "ntriples": (None, "ntriples"),
    "nt": (None, "ntriples"),
    "rdfxml": (None, "rdfxml"),
    "rdf": (None, "rdfxml"),
    "nquads": (None, "nquads"),
    "nq": (None, "nquads"),
}


class UnknownFormat(ValueError):
    """A ``format=`` value we do not know."""


def best(offered: dict[str, str], accept: str | None) -> str | None:
    """The media type of ``offered`` the Accept header prefers, or None if it accepts none of them."""
    if not accept or not accept.strip():
        accept = "*/*"
    return _best(tuple(offered.values()), accept)


@functools.lru_cache(maxsize=512)
def _best(types: tuple[str, ...], accept: str) -> str | None:
    # Clients send a handful of distinct Accept headers; parsing one costs more than a cheap query.
    extra = [a for a, t in ALIASES.items() if t in types]
    try:
        # mimeparse prefers the last of equally good candidates: list the default last.
        match = mimeparse.best_match(list(reversed([*types, *extra])), accept)
    except (ValueError, IndexError):
        return None
    if not match:
        return None
    return ALIASES.get(match, match)


def negotiate(accept: str | None, formats: list[str]) -> tuple[str | None, str | None]:
    """(media type for SELECT/ASK results, media type for RDF results); either may be None.

    ``formats`` are the ``format=`` values (SPARQLWrapper sends several, some as comma-separated media
    types): the first one known wins over Accept. An Accept that lists SPARQL result types and no RDF
    type gets Turtle for CONSTRUCT/DESCRIBE, as Fuseki and Virtuoso do (rdflib's SPARQLStore needs it).
    """
    for value in formats:
        for item in value.split(","):
            key = item.strip().lower()
            if key in FORMAT_NAMES:
                results, graph = FORMAT_NAMES[key]
                return (RESULTS[results] if results else None, GRAPHS[graph] if graph else None)
            media = ALIASES.get(key, key)
            if media in RESULTS.values() or media in GRAPHS.values():
                return (
                    media if media in RESULTS.values() else None,
                    media if media in GRAPHS.values() else None,
                )
    if formats:
        raise UnknownFormat(", ".join(formats))
    results, graph = best(RESULTS, accept), best(GRAPHS, accept)
    if graph is None and results is not None:
        graph = GRAPHS["turtle"]
    return results, graph


def curie(iri: str, prefixes: dict[str, str] = PREFIXES) -> str:
    for p, ns in prefixes.items():
        if iri.startswith(ns) and len(iri) > len(ns) and "/" not in iri[len(ns) :]:
            return f"{p}:{iri[len(ns) :]}"
    return iri


def jsonld(triples: Iterable[ox.Triple], prefixes: dict[str, str] = PREFIXES) -> bytes:
    """Compacted JSON-LD: the platform's prefixes as inline ``@context``, one node per subject."""

    def ref(t: ox.NamedNode | ox.BlankNode) -> str:
        return f"_:{t.value}" if isinstance(t, ox.BlankNode) else curie(t.value, prefixes)

    nodes: dict[str, dict] = {}
    for t in triples:
        node = nodes.setdefault(ref(t.subject), {"@id": ref(t.subject)})
        p, o = t.predicate.value, t.object
        if p == PREFIXES["rdf"] + "type" and not isinstance(o, ox.Literal):
            node.setdefault("@type", []).append(ref(o))
            continue
        if isinstance(o, ox.Literal):
            value: dict = {"@value": o.value}
            if o.language:
                value["@language"] = o.language
            elif o.datatype.value != PREFIXES["xsd"] + "string":
                value["@type"] = curie(o.datatype.value, prefixes)
        elif isinstance(o, ox.Triple):
            raise ValueError("JSON-LD 1.1 cannot hold RDF 1.2 triple terms: ask for Turtle or N-Triples")
        else:
            value = {"@id": ref(o)}
        node.setdefault(curie(p, prefixes), []).append(value)
    doc = {"@context": dict(prefixes), "@graph": list(nodes.values())}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()
