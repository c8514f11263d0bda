"""``/catalogue`` and ``/.well-known/void``: the DCAT 3 + VoID description, as HTML or RDF by conneg."""

from __future__ import annotations

import io

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response
from mimeparse import best_match
from starlette.concurrency import run_in_threadpool

from api.pages import render
from graph.catalog import describe
from graph.namespaces import PREFIXES

router = APIRouter()

RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
}
BY_NAME = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
    "nt": "application/n-triples",
}


async def _answer(request: Request, default: str) -> Response:
    given = request.query_params.get("format")
    if given:
        media = "text/html" if given == "html" else BY_NAME.get(given)
        if media is None:
            return Response(f"format: one of html, {', '.join(BY_NAME)}", status_code=400)
    else:
        accept = request.headers.get("accept", "").strip() or default
        try:
            # mimeparse prefers the last of equally good matches: the default goes last.
            media = best_match([*[m for m in [*RDF_FORMATS, "text/html"] if m != default], default], accept)
        except ValueError:
            media = default
        media = media or default
    store = request.app.state.store
    triples, stats = await run_in_threadpool(describe, store)  # identifiers from the configured base
    headers = {"Vary": "Accept", "ETag": f'"void-{store.version}"'}
    if media == "text/html":
        response = render(request, "catalogue.html", {"stats": stats})
        response.headers.update(headers)
        return response
    out = io.BytesIO()
    fmt = RDF_FORMATS[media]
    if fmt in (ox.RdfFormat.TURTLE,):
        ox.serialize(triples, out, fmt, prefixes=PREFIXES)
    else:
        ox.serialize(triples, out, fmt)
    return Response(out.getvalue(), media_type=media, headers=headers)


@router.get("/catalogue", include_in_schema=False)
async def catalogue(request: Request) -> Response:
    return await _answer(request, "text/html")


@router.get("/.well-known/void", include_in_schema=False)
async def well_known_void(request: Request) -> Response:
    return await _answer(request, "text/turtle")
