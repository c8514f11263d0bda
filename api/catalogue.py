"""``/catalogue`` and ``/.well-known/void``: the DCAT 3 + VoID description, as HTML or RDF by conneg."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.pages import render
from graph import formats
from graph.catalog import describe

router = APIRouter()


async def _answer(request: Request, offered: tuple[formats.Format, ...]) -> Response:
    fmt = conneg.choose(request, offered)
    store = request.app.state.store
    triples, stats = await run_in_threadpool(describe, store)  # identifiers from the configured base
    headers = {"Vary": "Accept", "ETag": f'"void-{store.version}-{fmt.name}"'}
    if fmt is formats.HTML:
        response = render(request, "catalogue.html", {"stats": stats})
        response.headers.update(headers)
        return response
    return Response(formats.serialize(triples, fmt), media_type=fmt.media_type, headers=headers)


@router.get("/catalogue", include_in_schema=False)
async def catalogue(request: Request) -> Response:
    return await _answer(request, (formats.HTML, *formats.DESCRIPTION))


@router.get("/.well-known/void", include_in_schema=False)
async def well_known_void(request: Request) -> Response:
    return await _answer(request, (*formats.DESCRIPTION, formats.HTML))
