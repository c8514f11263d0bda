"""``/def``: the ontology's namespace ``https://w3id.org/communs-services/def#`` dereferenced here (the w3id
rules in the README redirect to it), as HTML documentation of its classes and properties, or as RDF
(api/conneg.py). It is read from ``ontology/ontology.ttl``, the file the store loads; ``/shapes``, the SHACL
shapes, from ``ontology/shapes.ttl``."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import conneg
from api.pages import render
from api.public_http import tagged
from graph import formats
from graph.describe import pick
from graph.namespaces import CS, OWL, RDF, RDFS
from graph.settings import ONTOLOGY_DIR

router = APIRouter()

FILE = ONTOLOGY_DIR / "ontology.ttl"
OFFERED = (formats.HTML, *formats.DESCRIPTION)
CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
LINKS = {RDFS + "subClassOf", RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range"}
PROPERTY_TYPES = {
    RDF + "Property",
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
}


@dataclass
class Term:
    """One ``cs:`` term as the documentation shows it."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)  # rdfs:domain, rdfs:range… → CURIEs


@functools.cache
def triples() -> tuple[ox.Triple, ...]:
    with FILE.open("rb") as f:
        return tuple(ox.parse(f, ox.RdfFormat.TURTLE, base_iri=CS))


@functools.cache
def terms() -> tuple[Term, list[Term], list[Term]]:
    """(the ontology itself, its classes, its properties), each with labels, comments and links."""
    found: dict[str, Term] = {}
    for t in triples():
        s, p, o = t.subject.value, t.predicate.value, t.object
        if not s.startswith(CS):
            continue
        term = found.setdefault(s, Term(s.removeprefix(CS)))
        if p == RDF + "type":
            term.kinds.append(o.value)
        elif p == RDFS + "label" and isinstance(o, ox.Literal):
            term.labels[o.language or ""] = o.value
        elif p == RDFS + "comment" and isinstance(o, ox.Literal):
            term.comments[o.language or ""] = o.value
        elif p in LINKS or s == CS:
            term.links.setdefault(formats.curie(p), []).append(
                o.value if isinstance(o, ox.Literal) else formats.curie(o.value)
            )
    header = found.pop(CS, Term(""))
    ordered = sorted(found.values(), key=lambda x: x.name.lower())
    classes = [x for x in ordered if CLASS_TYPES & set(x.kinds)]
    properties = [x for x in ordered if PROPERTY_TYPES & set(x.kinds)]
    return header, classes, properties


@router.get("/def", include_in_schema=False)
@router.get("/def.{ext}", include_in_schema=False)
def ontology(request: Request, ext: str | None = None) -> Response:
    fmt = conneg.choose(request, OFFERED, ext)
    headers = {"Vary": "Accept", "Link": '<https://w3id.org/communs-services/def>; rel="canonical"'}
    if fmt is formats.TURTLE:  # the file itself, with its comments
        return tagged(request, FILE.read_bytes(), "text/turtle; charset=utf-8", headers)
    if fmt is not formats.HTML:
        return tagged(request, formats.serialize(triples(), fmt), fmt.media_type, headers)
    header, classes, properties = terms()
    sections = (("onto_classes", classes), ("onto_properties", properties))
    context = {"header": header, "sections": sections, "namespace": CS}
    response = render(request, "ontology.html", context)
    response.headers["Link"] = headers["Link"]
    return response


@router.get("/shapes", include_in_schema=False)
@router.get("/shapes.ttl", include_in_schema=False)
def shapes(request: Request) -> Response:
    """The SHACL shapes the data is checked against, the dataset's ``dct:conformsTo``: the file itself."""
    return tagged(request, (ONTOLOGY_DIR / "shapes.ttl").read_bytes(), "text/turtle; charset=utf-8", {})


@functools.cache
def _display() -> tuple[dict[str, dict[str, str]], dict[str, float]]:
    """Every property's labels and ``cs:displayOrder``, from every file of ontology/ the store loads (the
    services' terms are in services.ttl): a cs: term's rdfs:label, a reused term's ``cs:displayLabel``."""
    labels: dict[str, dict[str, str]] = {}
    order: dict[str, float] = {}
    found = []
    for path in sorted(ONTOLOGY_DIR.glob("*.ttl")):
        with path.open("rb") as f:
            found += ox.parse(f, ox.RdfFormat.TURTLE, base_iri=CS)
    for t in found:
        if t.predicate.value in (RDFS + "label", CS + "displayLabel"):
            labels.setdefault(t.subject.value, {})[t.object.language or ""] = t.object.value
        elif t.predicate.value == CS + "displayOrder":
            order[t.subject.value] = float(t.object.value)
    return labels, order


def property_label(predicate: str, lang: str) -> str:
    return pick(_display()[0].get(predicate), lang, formats.curie(predicate))


def property_rank(predicate: str) -> tuple[float, str]:
    return (_display()[1].get(predicate, 1000.0), predicate)
