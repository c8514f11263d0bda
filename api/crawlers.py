"""``/robots.txt`` and the sitemap of the resource pages (every item of the browsing index and every
territory): at most 50,000 URLs per file, so ``/sitemap.xml`` is an index of ``/sitemap-N.xml`` pages."""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api import conneg
from api.pages import base_of, catalog_of
from api.resources import URI_SAFE
from graph import formats

router = APIRouter()
PER_FILE = 50_000
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def loc(url: str) -> str:
    """A sitemap's URL: escaped (RFC 3986, as the protocol asks: no "ç" left), then as XML text."""
    return f"<loc>{escape(quote(url, safe=URI_SAFE))}</loc>"


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    """What browsers ask for where a page names no icon (a JSON or Turtle answer shown in a tab)."""
    return RedirectResponse("/static/favicon.svg", 301)


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


def _pages(request: Request, number: int) -> tuple[int, list[str]]:
    """(how many resource pages, the URLs of sitemap file ``number``) in a stable order."""
    cat = catalog_of(request)
    return cat.iris(base_of(request) + "id/", (number - 1) * PER_FILE, PER_FILE if number >= 1 else 0)


@router.get("/sitemap.xml", include_in_schema=False)
async def sitemap_index(request: Request) -> Response:
    conneg.choose(request, (formats.XML,))
    total, _ = await run_in_threadpool(_pages, request, 0)
    base = base_of(request)
    files = "".join(
        f"<sitemap>{loc(f'{base}sitemap-{n + 1}.xml')}</sitemap>"
        for n in range((total + PER_FILE - 1) // PER_FILE)
    )
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>{files}</sitemapindex>\n'
    return Response(body, media_type=formats.XML.media_type, headers={"Vary": "Accept"})


@router.get("/sitemap-{number}.xml", include_in_schema=False)
async def sitemap(request: Request, number: int) -> Response:
    conneg.choose(request, (formats.XML,))
    _, chunk = await run_in_threadpool(_pages, request, number)
    if not chunk:
        return PlainTextResponse(f"no sitemap file {number}\n", 404)
    entries = "".join(f"<url>{loc(u)}</url>\n" for u in chunk)
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>\n{entries}</urlset>\n'
    return Response(body, media_type=formats.XML.media_type, headers={"Vary": "Accept"})
