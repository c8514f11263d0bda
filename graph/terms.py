"""Building triples in loaders: CURIEs for predicates, plain Python values for literals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyoxigraph as ox

from graph.namespaces import PREFIXES, XSD


def expand(curie: str) -> str:
    """'schema:name' → 'http://schema.org/name'; a full IRI is returned unchanged."""
    prefix, sep, local = curie.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return curie


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(expand(value))


def lit(value: object, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    """A literal from a Python value: str (optionally tagged), int, Decimal, float, bool, date."""
    if datatype is not None:
        return ox.Literal(str(value), datatype=iri(datatype))
    if isinstance(value, str):
        return ox.Literal(value, language=lang) if lang else ox.Literal(value)
    if isinstance(value, bool | int | float):
        return ox.Literal(value)
    if isinstance(value, Decimal):
        return ox.Literal(format(value, "f"), datatype=ox.NamedNode(XSD + "decimal"))
    if isinstance(value, dt.datetime):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
    if isinstance(value, dt.date):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    raise TypeError(f"no literal mapping for {type(value).__name__}")


Object = ox.NamedNode | ox.BlankNode | ox.Literal | str | int | float | bool | Decimal | dt.date


class Triples(list):
    """A list of triples with shorthands; ``add`` skips ``None`` objects so optional fields stay short."""

    def add(self, s: ox.NamedNode | ox.BlankNode, p: str, o: Object | None, lang: str | None = None) -> None:
        if o is None or o == "":
            return
        obj = o if isinstance(o, ox.NamedNode | ox.BlankNode | ox.Literal) else lit(o, lang)
        self.append(ox.Triple(s, iri(p), obj))

    def a(self, s: ox.NamedNode | ox.BlankNode, *classes: str) -> None:
        for c in classes:
            self.append(ox.Triple(s, iri("rdf:type"), iri(c)))

    def label(self, s: ox.NamedNode | ox.BlankNode, text: str, lang: str = "fr") -> None:
        self.add(s, "rdfs:label", text, lang)
