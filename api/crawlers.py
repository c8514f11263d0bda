"""``/robots.txt`` and the sitemap of the resource pages: search engines are reusers too.

The sitemap lists every item of the browsing index (projects, actors, places, resources, events) and every
territory, under the configured base; at most 50,000 URLs per file (the protocol's limit), so
``/sitemap.xml`` is an index of ``/sitemap-N.xml`` pages."""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from api.pages import base_of, store_of
from graph import search

router = APIRouter()
PER_FILE = 50_000
XML = "application/xml"
_last: tuple[search.Catalog, list[str]] | None = None  # the newest index and its URLs
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


@router.get("/robots.txt", include_in_schema=False)
def robots(request: Request) -> PlainTextResponse:
    base = base_of(request)
    lines = [
        "User-agent: *",
        # Forms, personal spaces and the query endpoint (each query is computed): nothing to index there.
        *(f"Disallow: {p}" for p in ("/sparql", "/store", "/moderation", "/connexion", "/suivi/", "/api/")),
        "Disallow: /ressources/proposer",
        f"Sitemap: {base}sitemap.xml",
    ]
    return PlainTextResponse("\n".join(lines) + "\n")


def _pages(request: Request) -> list[str]:
    """Every resource page's URL, in a stable order (cached with the index, per store version)."""
    global _last
    cat = search.catalog(store_of(request))
    if _last is None or _last[0] is not cat:
        prefix = base_of(request) + "id/"
        found = {it.iri for it in cat.items} | set(cat.territories)
        _last = (cat, sorted(iri for iri in found if iri.startswith(prefix)))
    return _last[1]


@router.get("/sitemap.xml", include_in_schema=False)
async def sitemap_index(request: Request) -> Response:
    urls = await run_in_threadpool(_pages, request)
    base = base_of(request)
    files = "".join(
        f"<sitemap><loc>{escape(base)}sitemap-{n + 1}.xml</loc></sitemap>"
        for n in range((len(urls) + PER_FILE - 1) // PER_FILE)
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>{files}</sitemapindex>\n'
    return Response(body, media_type=XML)


@router.get("/sitemap-{number}.xml", include_in_schema=False)
async def sitemap(request: Request, number: int) -> Response:
    urls = await run_in_threadpool(_pages, request)
    chunk = urls[(number - 1) * PER_FILE : number * PER_FILE] if number >= 1 else []
    if not chunk:
        return PlainTextResponse(f"no sitemap file {number}\n", 404)
    entries = "".join(f"<url><loc>{escape(u)}</loc></url>\n" for u in chunk)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>\n{entries}</urlset>\n'
    return Response(body, media_type=XML)
