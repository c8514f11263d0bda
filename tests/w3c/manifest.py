"""Reads the W3C SPARQL 1.1 test manifests (Turtle, mf:/qt:/ht: vocabularies) into plain records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")

# hts: terms used by the manifests → the status codes they allow ("2xx" classes by their first digit).
STATUS = {"OK": "200", "Created": "201", "NoContent": "204", "NotFound": "404"}


@dataclass
class Response:
    statuses: set[str]  # exact codes ("201") or classes ("2")
    boolean: bool | None = None
    format: str | None = None  # "boolean" | "tabular" | "RDF"
    location_var: str | None = None
    content_type: str | None = None
    body: str | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str | None
    encoding: str
    response: Response


@dataclass
class W3CTest:
    iri: str
    id: str  # "<directory>/<local name>": stable across checkouts, used in known_failures.txt
    kind: str  # local name of the test type, e.g. QueryEvaluationTest
    name: str
    query: Path | None = None
    data: list[str] = field(default_factory=list)  # file IRIs merged into the default graph
    graph_data: list[tuple[str, str]] = field(default_factory=list)  # (file IRI, graph name)
    result: Path | None = None
    requests: list[Request] = field(default_factory=list)
    requires: set[str] = field(default_factory=set)


def file_path(iri: str) -> Path:
    return Path(unquote(urlparse(iri).path))


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _items(g: Graph, node) -> list:
    return list(Collection(g, node)) if node is not None else []


def _graph_data(g: Graph, node) -> tuple[str, str]:
    if isinstance(node, BNode):  # [ ut:graph <file> ; rdfs:label "name" ]
        file = g.value(node, UT.graph) or g.value(node, QT.graph)
        label = g.value(node, RDFS.label)
        return str(file), str(label) if label is not None else str(file)
    return str(node), str(node)


def _response(g: Graph, node) -> Response:
    statuses = set()
    for s in g.objects(node, MF.expectedStatus):
        name = _local(str(s))
        statuses.add(STATUS.get(name) or name.removeprefix("StatusCode").rstrip("x"))
    boolean = g.value(node, MF.expectedBoolean)
    fmt = g.value(node, MF.expectedFormat)
    location = g.value(node, MF.expectedLocation)
    content_type = None
    for h in _items(g, g.value(node, HT.headers)):
        if str(g.value(h, HT.fieldName)).lower() == "content-type":
            content_type = str(g.value(h, HT.fieldValue))
    body = g.value(node, HT.body)
    return Response(
        statuses=statuses,
        boolean=boolean.toPython() if isinstance(boolean, Literal) else None,
        format=str(fmt) if fmt is not None else None,
        location_var=str(location) if location is not None else None,
        content_type=content_type,
        body=str(g.value(body, CNT.chars)) if body is not None else None,
    )


def _requests(g: Graph, action) -> list[Request]:
    out = []
    for r in _items(g, g.value(action, HT.requests)):
        headers = [
            (str(g.value(h, HT.fieldName)), str(g.value(h, HT.fieldValue)))
            for h in _items(g, g.value(r, HT.headers))
        ]
        body = g.value(r, HT.body)
        out.append(
            Request(
                method=str(g.value(r, HT.methodName)),
                path=str(g.value(r, HT.absolutePath)),
                headers=headers,
                body=str(g.value(body, CNT.chars)) if body is not None else None,
                encoding=str(g.value(body, CNT.characterEncoding) or "UTF-8")
                if body is not None
                else "UTF-8",
                response=_response(g, g.value(r, HT.resp)),
            )
        )
    return out


def read_manifest(path: Path) -> list[W3CTest]:
    """Every test of a manifest and of the manifests it includes, in manifest order."""
    g = Graph()
    g.parse(path, format="turtle", publicID=path.resolve().as_uri())
    tests: list[W3CTest] = []
    for m in g.subjects(RDF.type, MF.Manifest):
        for inc in _items(g, g.value(m, MF.include)):
            tests += read_manifest(file_path(str(inc)))
        for entry in _items(g, g.value(m, MF.entries)):
            tests.append(_test(g, entry, path.parent.name))
    return tests


def _test(g: Graph, entry: URIRef, directory: str) -> W3CTest:
    kinds = [_local(str(t)) for t in g.objects(entry, RDF.type)]
    t = W3CTest(
        iri=str(entry),
        id=f"{directory}/{_local(str(entry))}",
        kind=kinds[0] if kinds else "",
        name=str(g.value(entry, MF.name) or ""),
        requires={_local(str(r)) for r in g.objects(entry, MF.requires)},
    )
    result = g.value(entry, MF.result)
    if result is not None:
        t.result = file_path(str(result))
    for gd in g.objects(entry, UT.graphData):  # protocol tests declare their data on the test itself
        t.graph_data.append(_graph_data(g, gd))
    action = g.value(entry, MF.action)
    if isinstance(action, URIRef):  # syntax tests: the action is the query file
        t.query = file_path(str(action))
    elif action is not None:
        query = g.value(action, QT.query)
        if query is not None:
            t.query = file_path(str(query))
        t.data = sorted(str(d) for d in g.objects(action, QT.data))
        t.graph_data += sorted(_graph_data(g, gd) for gd in g.objects(action, QT.graphData))
        t.requests = _requests(g, action)
    return t
