"""``/catalogue`` and ``/.well-known/void``: the DCAT 3 + VoID description, as HTML or RDF by conneg; the
IRIs it describes under the base dereference: the whole dataset's (303 to the catalogue) and each public
graph's. ``/a-propos`` tells a newcomer the same: its sources and terms are the catalogue's."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.contributions import contributions_of
from api.pages import render
from api.public_http import etag_matches, read_at, version_etag
from graph import formats
from graph.catalog import describe
from graph.contributions import LICENSES
from graph.describe import Text
from graph.namespaces import DCTERMS, FOAF, RDFS
from graph.store import DEFAULT_GRAPH

router = APIRouter()
VCARD = "http://www.w3.org/2006/vcard/ns#"


async def _describe(request: Request) -> tuple[list[ox.Triple], dict]:
    """The catalogue (identifiers from the configured base), with the files' sizes once the downloads of
    the store's version are built (never started here: /telechargements or a write builds them)."""
    manifest = request.app.state.dumps.manifest()
    triples, stats = await run_in_threadpool(describe, request.app.state.store, manifest)
    read_at(request, stats["version"])
    return triples, stats


def licence_context(request: Request) -> dict[str, object]:
    """What templates/_licence.html reads, for every page that names a graph's licence (this one and
    /telechargements): the accepted contributions' graph states none, each resource has its own, one of
    LICENSES."""
    return {"contributions": contributions_of(request).public_graph(), "licenses": LICENSES}


def _etag(request: Request, stats: dict, fmt: formats.Format) -> str:
    """Per store version, and whether the sizes are in: the same version described again with them."""
    return version_etag(request, stats["version"], "void", "tailles" if stats["sizes"] else "", fmt.name)


async def _answer(request: Request, offered: tuple[formats.Format, ...], ext: str | None) -> Response:
    fmt = conneg.choose(request, offered, ext)
    triples, stats = await _describe(request)
    headers = {"Vary": "Accept", "ETag": _etag(request, stats, fmt)}
    # RDF only, as a list's twins: the page's tag says neither its language nor who is signed in.
    if fmt is not formats.HTML and etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)
    if fmt is formats.HTML:
        # Graphs no source describes: the platform's own words (graph/catalog.py), in the page's language.
        own = {DEFAULT_GRAPH: "graph_default", request.app.state.store.meta_graph: "graph_meta"}
        context = {"stats": stats, "own": own, **licence_context(request)}
        # No ETag: one it never answers 304 to would only make clients send it for nothing.
        return render(request, "catalogue.html", context)
    return Response(formats.serialize(triples, fmt), media_type=fmt.media_type, headers=headers)


@router.get("/catalogue", include_in_schema=False)
@router.get("/catalogue.{ext}", include_in_schema=False)  # .ttl, .json… as every page with twins
async def catalogue(request: Request, ext: str | None = None) -> Response:
    return await _answer(request, (formats.HTML, *formats.DESCRIPTION), ext)


@router.get("/.well-known/void", include_in_schema=False)
@router.get("/.well-known/void.{ext}", include_in_schema=False)
async def well_known_void(request: Request, ext: str | None = None) -> Response:
    return await _answer(request, (*formats.DESCRIPTION, formats.HTML), ext)


@router.get("/jeu-de-donnees", include_in_schema=False)
async def dataset(request: Request) -> Response:
    """The whole dataset's IRI: the catalogue describes it, in the format asked there."""
    return RedirectResponse("/catalogue" + (f"?{request.url.query}" if request.url.query else ""), 303)


def for_browsers(headers: dict[str, str] | None = None) -> RedirectResponse:
    """A browser asking for a graph (its IRI, or ``/store?graph=``) is shown the catalogue, which lists it."""
    return RedirectResponse("/catalogue", 303, headers={**(headers or {}), "Vary": "Accept"})


@router.get("/graph/{name:path}", include_in_schema=False)
async def graph(request: Request, name: str) -> Response:
    """A public graph's IRI: its dataset in the catalogue (title, source, licence, modified, triples, file)
    in the RDF formats of ``/id/…`` (``.ttl``… or conneg); a browser goes to the catalogue (303). Any other
    IRI under ``graph/``, a private graph's too, is unknown: 404, never a word about it."""
    store = request.app.state.store
    triples, stats = await _describe(request)
    stem, _, ext = name.rpartition(".")
    if f"{store.minter.base}graph/{name}" in stats["graphs"] or not formats.find(formats.DESCRIPTION, ext):
        stem, ext = name, ""
    iri = f"{store.minter.base}graph/{stem}"
    if iri not in stats["graphs"]:
        raise HTTPException(404)
    fmt = conneg.choose(request, (formats.HTML, *formats.DESCRIPTION), ext or None)
    if fmt is formats.HTML:
        return for_browsers()

    headers = {"Vary": "Accept", "ETag": _etag(request, stats, fmt)}
    if etag_matches(request, headers["ETag"]):
        return Response(status_code=304, headers=headers)

    def about(node: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        found = [t for t in triples if t.subject == node]
        return found + [x for t in found if isinstance(t.object, ox.BlankNode) for x in about(t.object)]

    body = formats.serialize(about(ox.NamedNode(iri)), fmt)
    return Response(body, media_type=fmt.media_type, headers=headers)


@dataclass
class About:
    """What a newcomer reads first. Sources, licences, terms, publisher and contact are the catalogue's
    (graph/catalogue.ttl and the metadata graph), so that the page cannot drift from what the data says."""

    sources: list[tuple[str, dict]]  # (graph, its metadata: label, source, license…) per sourced graph
    rights: Text  # the whole dataset's terms
    publisher: str
    contact: str  # a mailto: IRI
    base: str  # the address to cite
    version: int  # the data's, every answer's Dataset-Version: what a citation names, with its date
    modified: str
    anonymous: bool  # a proposal needs no account
    contributions: str  # the two keys of _licence.html
    licenses: dict[str, str]


@router.get("/a-propos", include_in_schema=False, response_class=HTMLResponse)
async def a_propos(request: Request) -> HTMLResponse:
    triples, stats = await _describe(request)
    base = request.app.state.store.minter.base

    def value(subject: str, predicate: str, default: ox.Literal | None = None) -> ox.NamedNode | ox.Literal:
        objects = (t.object for t in triples if t.subject.value == subject and t.predicate.value == predicate)
        return next(objects) if default is None else next(objects, default)

    own = {DEFAULT_GRAPH, request.app.state.store.meta_graph}
    context = About(
        sources=[(g, stats["meta"][g]) for g in stats["graphs"] if g not in own],
        rights=Text(value(base + "catalogue#licences", RDFS + "label").value, "fr"),
        publisher=value(value(base + "catalogue", DCTERMS + "publisher").value, FOAF + "name").value,
        contact=value(base + "catalogue#contact", VCARD + "hasEmail").value,
        base=base,
        version=stats["version"],
        modified=value(base + "jeu-de-donnees", DCTERMS + "modified", ox.Literal("")).value,
        anonymous=request.app.state.settings.allow_anonymous,
        **licence_context(request),
    )
    return render(request, "a_propos.html", context)
