"""``/def``: the ontology's namespace ``https://w3id.org/communs-services/def#`` dereferenced here (the w3id
rules in the README redirect to it), as HTML documentation of its classes and properties, Turtle or
JSON-LD by ``Accept`` or extension. It is read from ``ontology/ontology.ttl``, the file the store loads."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import mimeparse
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import conneg
from api.pages import render
from graph.namespaces import CS, OWL, RDF, RDFS
from graph.settings import ONTOLOGY_DIR

router = APIRouter()

FILE = ONTOLOGY_DIR / "ontology.ttl"
MEDIA = {"ttl": "text/turtle", "jsonld": "application/ld+json", "html": "text/html"}
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
            term.links.setdefault(conneg.curie(p), []).append(
                o.value if isinstance(o, ox.Literal) else conneg.curie(o.value)
            )
    header = found.pop(CS, Term(""))
    ordered = sorted(found.values(), key=lambda x: x.name.lower())
    classes = [x for x in ordered if CLASS_TYPES & set(x.kinds)]
    properties = [x for x in ordered if PROPERTY_TYPES & set(x.kinds)]
    return header, classes, properties


def _choose(request: Request, ext: str | None) -> str | None:
    if ext:
        return ext if ext in MEDIA else None
    accept = request.headers.get("accept", "").strip() or "text/html"
    offered = [MEDIA["jsonld"], "application/json", MEDIA["ttl"], "application/xhtml+xml", MEDIA["html"]]
    try:
        match = mimeparse.best_match(offered, accept)  # on a tie the last, HTML, wins
    except ValueError:
        return "html"
    return {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/json": "jsonld"}.get(
        match, "html" if match else None
    )


@router.get("/def", include_in_schema=False)
@router.get("/def.{ext}", include_in_schema=False)
def ontology(request: Request, ext: str | None = None) -> Response:
    fmt = _choose(request, ext)
    if fmt is None:
        return Response(
            "Formats: text/html, text/turtle, application/ld+json\n", 406, media_type="text/plain"
        )
    headers = {"Vary": "Accept", "Link": '<https://w3id.org/communs-services/def>; rel="canonical"'}
    if fmt == "ttl":
        return Response(FILE.read_bytes(), media_type="text/turtle; charset=utf-8", headers=headers)
    if fmt == "jsonld":
        return Response(conneg.jsonld(triples()), media_type=MEDIA["jsonld"], headers=headers)
    header, classes, properties = terms()
    context = {"header": header, "classes": classes, "properties": properties, "namespace": CS}
    response = render(request, "ontology.html", context)
    response.headers["Link"] = headers["Link"]
    return response
